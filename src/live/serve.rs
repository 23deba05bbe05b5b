//! The HTTP side: `GET /metrics` on one socket, a connection at a time
//! (a scraper or two, once a few seconds), no HTTP framework: the request
//! line is all that is read.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use super::{encode, Live};

/// The content type Prometheus asks for first and parses as OpenMetrics.
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// A client that has not sent its request line by then is dropped.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest request head read (a scrape's is a few hundred bytes).
const MAX_HEAD: usize = 8 * 1024;

/// Errors of the endpoint.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// The address could not be bound (in use, not local, no permission).
    #[error(
        "cannot serve metrics on {addr}: {source}; pick a free port with --metrics-addr \
         (or live.addr), e.g. 127.0.0.1:9465"
    )]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

impl LiveError {
    /// Exit-code class: the run cannot start as asked (3, like a target that
    /// cannot be reached).
    pub fn exit_code(&self) -> i32 {
        3
    }
}

/// Binds `addr` before the run connects anywhere, so a taken port fails fast.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, LiveError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| LiveError::Bind { addr, source })
}

/// Serves `live` on `listener` until `stop` turns true.
pub async fn serve(listener: TcpListener, live: Live, mut stop: watch::Receiver<bool>) {
    loop {
        // A stop (or its sender gone) ends the loop; only `true` is ever sent.
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = stop.changed() => return,
        };
        if let Ok((stream, _)) = accepted {
            // One at a time is enough for a scraper; a slow client is cut
            // off by the read timeout.
            let _ = answer(stream, &live).await;
        }
    }
}

async fn answer(mut stream: TcpStream, live: &Live) -> std::io::Result<()> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    let read = async {
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_HEAD {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        Ok::<_, std::io::Error>(())
    };
    if tokio::time::timeout(READ_TIMEOUT, read).await.is_err() {
        return Ok(());
    }
    let line = String::from_utf8_lossy(head.split(|&b| b == b'\r').next().unwrap_or(&[]));
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = path.split('?').next().unwrap_or("");
    let (status, ctype, body) = match (method, path) {
        ("GET", "/metrics") => match encode(live) {
            Ok(text) => ("200 OK", CONTENT_TYPE, text),
            Err(_) => (
                "500 Internal Server Error",
                "text/plain",
                "encoding failed\n".into(),
            ),
        },
        ("GET", _) => (
            "404 Not Found",
            "text/plain",
            "metrics are at /metrics\n".into(),
        ),
        _ => (
            "405 Method Not Allowed",
            "text/plain",
            "GET /metrics\n".into(),
        ),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::Phase;

    async fn get(addr: SocketAddr, path: &str) -> String {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }

    #[tokio::test]
    async fn serves_openmetrics_at_metrics_and_stops_when_told() {
        let listener = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let live = Live::new("t");
        live.set_phase(Phase::Drain);
        let (stop_tx, stop) = watch::channel(false);
        let task = tokio::spawn(serve(listener, live, stop));
        let r = get(addr, "/metrics").await;
        assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
        assert!(r.contains(CONTENT_TYPE), "{r}");
        assert!(
            r.contains(r#"tpcds_run_phase{run="t",phase="drain"} 1"#),
            "{r}"
        );
        assert!(r.trim_end().ends_with("# EOF"), "{r}");
        assert!(get(addr, "/").await.starts_with("HTTP/1.1 404"));
        stop_tx.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(2), task)
            .await
            .expect("the endpoint stops when told")
            .unwrap();
    }

    #[tokio::test]
    async fn a_taken_port_is_a_clear_error() {
        let first = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let addr = first.local_addr().unwrap();
        let err = bind(addr).await.unwrap_err();
        assert!(err.to_string().contains(&addr.to_string()), "{err}");
        assert!(err.to_string().contains("--metrics-addr"), "{err}");
        assert_eq!(err.exit_code(), 3);
    }
}
