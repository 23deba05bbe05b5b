//! Ctrl-C and SIGTERM as one stream: the first stops the load, a second skips
//! the drain. Either way a (partial) report is written before the process exits.

use tokio::signal::unix::{signal, Signal, SignalKind};

/// Both termination signals.
pub struct Signals {
    int: Signal,
    term: Signal,
}

impl Signals {
    /// Installs the handlers (from now on the signals no longer kill the process).
    pub fn new() -> std::io::Result<Self> {
        Ok(Signals {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
        })
    }

    /// Resolves at the next SIGINT or SIGTERM.
    pub async fn next(&mut self) {
        tokio::select! {
            _ = self.int.recv() => {}
            _ = self.term.recv() => {}
        }
    }
}
