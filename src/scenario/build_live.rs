//! `[live]`: the OpenMetrics endpoint a run serves while it lasts
//! (`tpcds-bench run --metrics-addr` sets `live.addr`).

use std::net::SocketAddr;
use std::time::Duration;

use super::build::opt_duration;
use super::error::ScenarioError;
use super::read::Tbl;
use super::types::Live;

type Result<T> = std::result::Result<T, ScenarioError>;

pub(crate) fn live(t: &Tbl) -> Result<Live> {
    t.allow(
        &["addr", "linger"],
        &[
            (
                "port",
                "give the whole address: live.addr = \"127.0.0.1:9464\"",
            ),
            ("metrics_addr", "the key is live.addr (\"127.0.0.1:9464\")"),
        ],
    );
    let cx = t.cx;
    let addr = match t.get("addr") {
        Some(f) => cx.keep(
            f.string("an address to serve /metrics on, e.g. \"127.0.0.1:9464\"")
                .and_then(|s| {
                    s.trim().parse::<SocketAddr>().map(Some).map_err(|_| {
                        f.invalid(
                            "must be an IP address and a port, e.g. \"127.0.0.1:9464\" \
                             (loopback; \"0.0.0.0:9464\" serves every interface)",
                        )
                    })
                }),
        ),
        None => Some(None),
    };
    // Long enough for a few scrapes at Prometheus' default 15 s, short
    // enough that a typo does not keep a finished run waiting for an hour.
    let linger = cx.keep(opt_duration(
        t,
        "linger",
        Duration::ZERO,
        Duration::ZERO,
        Duration::from_secs(600),
        "how long the endpoint stays up after the report is written, from 0s to 10m (e.g. \"30s\")",
    ));
    let (Some(addr), Some(linger)) = (addr, linger) else {
        return Err(cx.take_last());
    };
    Ok(Live { addr, linger })
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::time::Duration;

    use crate::scenario::parse_minimal as parse;

    #[test]
    fn no_endpoint_unless_asked_and_an_address_is_an_ip_and_a_port() {
        let s = parse("").unwrap();
        assert_eq!((s.live.addr, s.live.linger), (None, Duration::ZERO));
        let s = parse("[live]\naddr = \"127.0.0.1:9464\"\nlinger = \"5s\"").unwrap();
        assert_eq!(
            s.live.addr,
            Some("127.0.0.1:9464".parse::<SocketAddr>().unwrap())
        );
        assert_eq!(s.live.linger, Duration::from_secs(5));
        for bad in ["localhost:9464", "9464", "127.0.0.1"] {
            let err = parse(&format!("[live]\naddr = \"{bad}\"")).unwrap_err();
            assert!(err.contains("live.addr"), "{err}");
            assert!(err.contains("e.g. \"127.0.0.1:9464\""), "{err}");
        }
        let err = parse("[live]\nlinger = \"1h\"").unwrap_err();
        assert!(
            err.contains("live.linger") && err.contains("0s to 10m"),
            "{err}"
        );
        let err = parse("[live]\nport = 9464").unwrap_err();
        assert!(err.contains("port") && err.contains("live.addr"), "{err}");
    }
}
