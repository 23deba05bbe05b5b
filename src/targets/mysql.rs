//! MySQL/MariaDB: the driver's options for a URL, for every connection the
//! harness opens (workers, probes, observers, preflight, metrics, tickets).

use mysql_async::Opts;

/// The driver's options for `url`, over TCP unless the URL says
/// `prefer_socket=true`. mysql_async otherwise moves a connection to 127.0.0.1
/// onto the server's Unix socket. Measured here (4 single-row writers and the
/// binlog observer, 4 alternating runs each): TCP 4827 rows/s on average,
/// the socket 4757, with about 8 % less harness CPU on TCP; and sysbench, the
/// comparison of `scripts/bench/capacity.sh`, connects over TCP too.
pub fn opts(url: &str) -> Result<Opts, mysql_async::UrlError> {
    let opts = Opts::from_url(url)?;
    if url
        .split_once('?')
        .is_some_and(|(_, q)| q.contains("prefer_socket="))
    {
        return Ok(opts);
    }
    Ok(mysql_async::OptsBuilder::from_opts(opts)
        .prefer_socket(false)
        .into())
}

#[cfg(test)]
mod tests {
    use super::opts;

    #[test]
    fn connections_use_tcp_unless_the_url_asks_for_the_socket() {
        let base = "mysql://root:pw@127.0.0.1:3306/business_db";
        assert!(!opts(base).unwrap().prefer_socket());
        let asked = opts(&format!("{base}?prefer_socket=true")).unwrap();
        assert!(asked.prefer_socket());
        assert!(opts("postgres://x").is_err());
    }
}
