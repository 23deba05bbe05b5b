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
            ("port", "give the whole address: live.addr = \"127.0.0.1:9464\""),
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
