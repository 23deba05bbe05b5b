//! The run's OpenMetrics endpoint (`[live] addr`): bound before the run
//! connects anywhere, served while it lasts, kept up `live.linger` after the
//! report so a scraper reads the final figures.

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::exit::{Classified, Exit};
use crate::live::Live;
use crate::scenario::Scenario;

/// A served endpoint.
pub(crate) struct Endpoint {
    /// What it serves (the collector publishes into it).
    pub live: Live,
    linger: Duration,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// Binds and serves when the scenario asks for an endpoint; a taken or
/// foreign address is exit 3 before anything else happens.
pub(crate) async fn start(scenario: &Scenario) -> anyhow::Result<Option<Endpoint>> {
    let Some(addr) = scenario.live.addr else {
        return Ok(None);
    };
    let listener = crate::live::bind(addr)
        .await
        .map_err(|e| Classified::new(Exit::from_code(e.exit_code()), e))?;
    let live = Live::new(&scenario.name);
    let (stop, stop_rx) = watch::channel(false);
    let task = tokio::spawn(crate::live::serve(listener, live.clone(), stop_rx));
    eprintln!("metrics: OpenMetrics at http://{addr}/metrics while the run lasts");
    Ok(Some(Endpoint {
        live,
        linger: scenario.live.linger,
        stop,
        task,
    }))
}

impl Endpoint {
    /// Keeps serving the final figures for the linger time, then stops.
    pub(crate) async fn finish(self) {
        if !self.linger.is_zero() {
            eprintln!(
                "metrics: serving the final figures for {} more (live.linger)",
                humantime::format_duration(self.linger)
            );
            tokio::time::sleep(self.linger).await;
        }
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(1), self.task).await;
    }
}
