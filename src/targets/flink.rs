//! Flink's REST API: one HTTP client for the process and a GET with
//! credentials as basic auth, for preflight, the metrics sampler and sweeps.

use std::time::Duration;

/// Most bytes read from the REST answer (the overview of a few jobs is a few KB).
const MAX_RESPONSE: usize = 4 << 20;

/// The one HTTP client of the process. Building one loads and parses the
/// system's root certificates (OpenSSL): ~0.1 CPU-s each time. A client per
/// GET, with the metrics sampler asking Flink's REST API several times a
/// second, kept one of the two cores busy (a sweep's harness used 1.0 cores
/// at 250 rows/s and was its own bottleneck). Built once, reused. No idle
/// connections are kept: a pooled connection belongs to the tokio runtime
/// that opened it, and tests (and `sweep` steps) run several runtimes.
fn http_client() -> Result<&'static reqwest::Client, String> {
    static CLIENT: std::sync::OnceLock<Result<reqwest::Client, String>> =
        std::sync::OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::Client::builder()
                .pool_max_idle_per_host(0)
                .build()
                .map_err(|e| format!("cannot build an HTTP client: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// A GET of `path` under `base_url` with a maintained HTTP client: http and
/// https, credentials in the URL sent as basic auth, IPv6 hosts; returns
/// (status, body), the body cut at [`MAX_RESPONSE`]. Errors are masked.
pub async fn get(base_url: &str, path: &str, timeout: Duration) -> Result<(u16, Vec<u8>), String> {
    let mut url = url::Url::parse(base_url).map_err(|e| format!("not a URL: {e}"))?;
    // The query apart from the path: `set_path` would encode its `?` as `%3F`,
    // and Flink then answers the bare path (a list of metric names, 200), so
    // `?get=busyTimeMsPerSecond` read as "no such metric" (every chain 0 % busy
    // in sweeps, `numRestarts` never known).
    let (path, query) = match path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path, None),
    };
    let full_path = format!("{}{path}", url.path().trim_end_matches('/'));
    url.set_path(&full_path);
    url.set_query(query);
    // Credentials go in a header, never in the URL an error message could quote.
    let user = percent_decode(url.username());
    let password = url.password().map(percent_decode);
    let _ = url.set_username("");
    let _ = url.set_password(None);
    let mut request = http_client()?
        .get(url)
        .timeout(timeout)
        .header(reqwest::header::ACCEPT, "application/json");
    if !user.is_empty() || password.is_some() {
        request = request.basic_auth(user, password);
    }
    let io = async {
        let mut response = request.send().await?;
        let status = response.status().as_u16();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_RESPONSE {
                body.truncate(MAX_RESPONSE);
                break;
            }
        }
        Ok::<_, reqwest::Error>((status, body))
    };
    io.await.map_err(|e| {
        let what = if e.is_timeout() {
            format!("no answer within {timeout:?}")
        } else {
            error_chain(&e)
        };
        crate::redact::redact_text(&what).into_owned()
    })
}

/// An error with its causes (reqwest's own message is only the top one).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Serves one HTTP answer on `addr`; returns the port and the request
    /// text it received.
    async fn one_answer(
        addr: &str,
        answer: &'static [u8],
    ) -> Option<(u16, tokio::task::JoinHandle<String>)> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind(addr).await.ok()?;
        let port = listener.local_addr().ok()?.port();
        let task = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.expect("a client");
            let mut buf = vec![0u8; 4096];
            let n = s.read(&mut buf).await.expect("a request");
            s.write_all(answer).await.expect("the answer");
            String::from_utf8_lossy(&buf[..n]).to_string()
        });
        Some((port, task))
    }

    const OK: &[u8] =
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n4\r\n{\"jo\r\n7\r\nbs\":[]}\r\n0\r\n\r\n";

    #[tokio::test]
    async fn credentials_in_the_url_go_as_basic_auth_and_never_in_an_error() {
        let (port, req) = one_answer("127.0.0.1:0", OK).await.expect("a port");
        let url = format!("http://flink:s%40cret@127.0.0.1:{port}/base/");
        let (status, body) = get(&url, "/jobs/overview", Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!((status, body), (200, b"{\"jobs\":[]}".to_vec()));
        let req = req.await.unwrap();
        assert!(req.starts_with("GET /base/jobs/overview HTTP/1.1"), "{req}");
        // flink:s@cret
        assert!(
            req.to_ascii_lowercase()
                .contains("authorization: basic zmxpbms6c0bjcmv0"),
            "{req}"
        );
        let err = get(
            "http://flink:s3cret@127.0.0.1:1/",
            "/jobs/overview",
            Duration::from_secs(2),
        )
        .await
        .unwrap_err();
        assert!(!err.contains("s3cret"), "{err}");
    }

    #[tokio::test]
    async fn https_is_spoken_and_ipv6_hosts_are_reached() {
        // An https URL is attempted (a TLS handshake against a plain listener
        // fails), not refused for its scheme.
        let (port, _req) = one_answer("127.0.0.1:0", OK).await.expect("a port");
        let err = get(
            &format!("https://127.0.0.1:{port}"),
            "/x",
            Duration::from_secs(5),
        )
        .await
        .unwrap_err();
        assert!(!err.contains("only http"), "{err}");
        // IPv6 loopback, where the machine has it.
        if let Some((port, req)) = one_answer("[::1]:0", OK).await {
            let (status, _) = get(
                &format!("http://[::1]:{port}"),
                "/jobs",
                Duration::from_secs(5),
            )
            .await
            .unwrap();
            assert_eq!(status, 200);
            let req = req.await.unwrap().to_ascii_lowercase();
            assert!(req.contains(&format!("host: [::1]:{port}")), "{req}");
        }
    }
}
