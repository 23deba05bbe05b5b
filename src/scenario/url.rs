//! Target addresses: URLs that never show their password (Display, Debug and
//! Serialize all print `user:***@host`), and the syntax checks for them.

use std::fmt;

use serde::{Serialize, Serializer};
use url::Url;

/// A connection URL whose password is hidden everywhere except [`TargetUrl::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct TargetUrl(Url);

impl TargetUrl {
    /// Parses a URL without validating its scheme (for defaults and tests).
    pub fn parse(s: &str) -> Result<Self, url::ParseError> {
        Url::parse(s).map(TargetUrl)
    }

    /// The full URL, password included: only for opening connections.
    pub fn expose(&self) -> &str {
        self.0.as_str()
    }

    /// The parsed URL (password included): host, port, user, path.
    pub fn url(&self) -> &Url {
        &self.0
    }

    /// The database named in the path (`/business_db` → `business_db`), if any.
    pub fn database(&self) -> Option<&str> {
        self.0.path().strip_prefix('/').filter(|d| !d.is_empty())
    }

    /// The URL with the password replaced by `***` (the crate's one rule,
    /// [`crate::redact::redact_url`]).
    pub fn redacted(&self) -> String {
        crate::redact::redact_url(self.0.as_str())
    }
}

impl fmt::Display for TargetUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for TargetUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TargetUrl({})", self.redacted())
    }
}

impl Serialize for TargetUrl {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.redacted())
    }
}

/// Checks a parsed URL against the schemes a target accepts; `Err` says why.
pub(crate) fn check_url(
    text: &str,
    schemes: &[&str],
    needs_database: bool,
) -> Result<TargetUrl, String> {
    let url = Url::parse(text.trim()).map_err(|e| format!("not a URL ({e})"))?;
    if !schemes.contains(&url.scheme()) {
        return Err(format!(
            "the scheme `{}:` is not accepted here",
            url.scheme()
        ));
    }
    if !matches!(url.host_str(), Some(h) if !h.is_empty()) {
        return Err("the URL has no host".into());
    }
    if needs_database && url.path().trim_matches('/').is_empty() {
        return Err("the URL names no database (add `/name` after the host)".into());
    }
    Ok(TargetUrl(url))
}

/// Checks a Kafka bootstrap list `host:port[,host:port…]`; returns it normalised
/// (trimmed, comma-joined).
pub(crate) fn check_brokers(list: &[&str]) -> Result<String, String> {
    let mut out = Vec::new();
    for b in list.iter().flat_map(|s| s.split(',')).map(str::trim) {
        if b.is_empty() {
            continue;
        }
        if b.contains("://") {
            return Err(format!("`{b}` has a scheme; give host:port only"));
        }
        let (host, port) = b
            .rsplit_once(':')
            .ok_or_else(|| format!("`{b}` has no port"))?;
        if host.is_empty() {
            return Err(format!("`{b}` has no host"));
        }
        match port.parse::<u16>() {
            Ok(p) if p > 0 => {}
            _ => return Err(format!("`{b}` has an invalid port `{port}`")),
        }
        out.push(b);
    }
    if out.is_empty() {
        return Err("the broker list is empty".into());
    }
    Ok(out.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_never_printed() {
        let u = check_url(
            "mysql://root:root123@127.0.0.1:3306/business_db",
            &["mysql"],
            true,
        )
        .unwrap();
        assert_eq!(u.to_string(), "mysql://root:***@127.0.0.1:3306/business_db");
        assert!(!format!("{u:?}").contains("root123"));
        assert!(!serde_json::to_string(&u).unwrap().contains("root123"));
        assert!(u.expose().contains("root123"));
    }

    #[test]
    fn schemes_hosts_and_databases_are_checked() {
        assert!(check_url("http://x:1/db", &["mysql"], true)
            .unwrap_err()
            .contains("`http:`"));
        assert!(check_url("mysql://root@h:3306", &["mysql"], true)
            .unwrap_err()
            .contains("no database"));
        assert!(check_url("not a url", &["mysql"], true).is_err());
        assert!(check_url("http://127.0.0.1:8081", &["http", "https"], false).is_ok());
    }

    #[test]
    fn brokers_are_host_port_lists() {
        assert_eq!(check_brokers(&["a:1, b:2"]).unwrap(), "a:1,b:2");
        assert!(check_brokers(&["a"]).unwrap_err().contains("no port"));
        assert!(check_brokers(&["a:x"]).is_err());
        assert!(check_brokers(&["kafka://a:1"]).is_err());
        assert!(check_brokers(&[""]).is_err());
    }
}
