//! The one place secrets are masked: URL passwords (`mysql://root:***@h/db`)
//! and values of keys that look like a password, secret, token or credential
//! (`password = "***"`, `'password' = '***'`, `"token": "***"`), in any text
//! the harness prints or writes: errors on stderr, targets, the copied and
//! resolved scenario, the environment of a report, a control script's output.
//!
//! A leaf module (it depends on nothing in the crate), so every module may use
//! it; one set of rules, so a secret hidden in one output is hidden in all.
//! The rules err on the side of masking: a masked value that was no secret
//! costs a little clarity, a leaked password costs much more.

use std::borrow::Cow;

/// What a secret is replaced with.
pub const MASK: &str = "***";

/// Whether a setting or field called `key` holds a secret: its name contains
/// password, passwd, pwd, secret, token, credential, api key, private key,
/// access key or jaas (Kafka's JAAS config carries a password), in any case,
/// with or without `-`, `_` or `.` between the words.
pub fn is_secret_key(key: &str) -> bool {
    const WORDS: [&str; 10] = [
        "password",
        "passwd",
        "pwd",
        "secret",
        "token",
        "credential",
        "apikey",
        "privatekey",
        "accesskey",
        "jaas",
    ];
    let squashed: String = key
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | '.'))
        .flat_map(char::to_lowercase)
        .collect();
    WORDS.iter().any(|w| squashed.contains(w))
}

/// `value` as it may be shown under the name `key`: [`MASK`] when the key looks
/// secret (see [`is_secret_key`]), else the value with [`redact_text`] applied.
pub fn redact_value<'a>(key: &str, value: &'a str) -> Cow<'a, str> {
    if is_secret_key(key) && !value.is_empty() {
        Cow::Borrowed(MASK)
    } else {
        redact_text(value)
    }
}

/// A target URL as it may be shown: the password replaced by [`MASK`]. Not a
/// separate rule: the same as [`redact_text`], so a URL reads the same in a
/// target name and inside an error message.
pub fn redact_url(raw: &str) -> String {
    redact_text(raw).into_owned()
}

/// `text` with every URL password and every secret-looking `key=value` (or
/// quoted `"key": "value"`) value replaced by [`MASK`]. Borrowed when nothing
/// needed masking.
pub fn redact_text(text: &str) -> Cow<'_, str> {
    let urls = mask_url_passwords(text);
    let source = urls.as_deref().unwrap_or(text);
    match (mask_assignments(source), urls) {
        (Some(both), _) => Cow::Owned(both),
        (None, Some(urls)) => Cow::Owned(urls),
        (None, None) => Cow::Borrowed(text),
    }
}

/// [`redact_text`] applied to every string of a JSON value, and the value of
/// every secret-looking key (see [`is_secret_key`]) replaced by [`MASK`].
pub fn redact_json(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) => Value::String(redact_text(s).into_owned()),
        Value::Array(a) => Value::Array(a.iter().map(redact_json).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(_) | Value::Number(_) if is_secret_key(k) => {
                            Value::String(MASK.into())
                        }
                        other => redact_json(other),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Characters that end a URL's authority inside free text. `/`, `?` and `#`
/// do not: a password may hold them unencoded (then the URL is invalid, and
/// exactly then it is quoted back in an error message).
fn ends_authority(c: char) -> bool {
    matches!(
        c,
        '"' | '\'' | '`' | ';' | ')' | ']' | '}' | '>' | '<' | '|'
    ) || c.is_whitespace()
}

/// Masks the password of every `scheme://user:password@host`; `None` when
/// there was none.
fn mask_url_passwords(text: &str) -> Option<String> {
    if !text.contains("://") {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let mut end = tail.find(ends_authority).unwrap_or(tail.len());
        // A second URL glued on (`a://…,b://…`) is looked at on its own.
        if let Some(next) = tail[..end].find("://") {
            end = next;
        }
        let authority = &tail[..end];
        // The last `@`: an unencoded `@` in a password is masked too.
        let userinfo = authority.rfind('@').map(|at| &authority[..at]);
        match userinfo.and_then(|u| u.find(':').map(|c| (u, c))) {
            Some((u, colon)) if colon + 1 < u.len() && &u[colon + 1..] != MASK => {
                out.push_str(&u[..=colon]);
                out.push_str(MASK);
                out.push_str(&authority[u.len()..]);
                changed = true;
            }
            _ => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    changed.then_some(out)
}

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

fn ends_value(c: char) -> bool {
    matches!(c, '&' | ';' | ',' | ')' | ']' | '}' | '"' | '\'') || c.is_whitespace()
}

/// Masks the value of every assignment to a secret-looking key: `key=value`,
/// `key = "value"`, `'key' = 'value'` (Flink SQL), `"key": "value"` (JSON),
/// `key: "value"` (Debug). A bare `key: value` is left alone: it is prose
/// more often than a secret ("using password: YES" in a MySQL error).
fn mask_assignments(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let sep = bytes[i];
        if sep != b'=' && sep != b':' {
            i += 1;
            continue;
        }
        let mut key_end = i;
        while key_end > 0 && bytes[key_end - 1] == b' ' {
            key_end -= 1;
        }
        let key_quoted = key_end > 0 && matches!(bytes[key_end - 1], b'"' | b'\'');
        if key_quoted {
            key_end -= 1;
        }
        let mut key_start = key_end;
        while key_start > 0 && is_key_byte(bytes[key_start - 1]) {
            key_start -= 1;
        }
        if key_start == key_end || !is_secret_key(&text[key_start..key_end]) {
            i += 1;
            continue;
        }
        let mut v = i + 1;
        while v < bytes.len() && bytes[v] == b' ' {
            v += 1;
        }
        let quote = bytes.get(v).copied().filter(|b| matches!(b, b'"' | b'\''));
        if sep == b':' && !key_quoted && quote.is_none() {
            i += 1;
            continue;
        }
        let (start, end) = match quote {
            Some(q) => {
                let s = v + 1;
                let e = text[s..].find(q as char).map_or(text.len(), |p| s + p);
                (s, e)
            }
            None => (v, text[v..].find(ends_value).map_or(text.len(), |p| v + p)),
        };
        let value = &text[start..end];
        if !value.is_empty() && value != MASK {
            out.push_str(&text[copied..start]);
            out.push_str(MASK);
            copied = end;
        }
        i = end.max(i + 1);
    }
    if copied == 0 {
        return None;
    }
    out.push_str(&text[copied..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_passwords_are_masked_users_and_hosts_kept() {
        let cases = [
            (
                r#"mysql = "mysql://root:root123@127.0.0.1:3306/business_db""#,
                r#"mysql = "mysql://root:***@127.0.0.1:3306/business_db""#,
            ),
            (
                "postgres://gpadmin@127.0.0.1:5432/tpcds",
                "postgres://gpadmin@127.0.0.1:5432/tpcds",
            ),
            (
                "a postgres://u:p%40ss@h/db and mysql://x:y@z",
                "a postgres://u:***@h/db and mysql://x:***@z",
            ),
            ("mysql://root:***@host", "mysql://root:***@host"),
            ("http://127.0.0.1:8081/jobs", "http://127.0.0.1:8081/jobs"),
            ("127.0.0.1:9092", "127.0.0.1:9092"),
            ("no url at all", "no url at all"),
            // Unencoded `@`, `/` and `#` in a password: the URL does not
            // parse, which is when an error quotes it back.
            ("mysql://root:p@ss@h/db", "mysql://root:***@h/db"),
            ("mysql://root:pa/ss#x@h/db", "mysql://root:***@h/db"),
            (
                "postgres://u@h/db,mysql://x:y@z",
                "postgres://u@h/db,mysql://x:***@z",
            ),
            (
                "x = \"mysql://root:pw@h:1/db\", y = postgres://u@h/db",
                "x = \"mysql://root:***@h:1/db\", y = postgres://u@h/db",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(redact_text(input), want, "{input}");
        }
        assert_eq!(
            redact_url("mysql://root:root123@127.0.0.1:3306/business_db"),
            "mysql://root:***@127.0.0.1:3306/business_db"
        );
    }

    #[test]
    fn secret_assignments_are_masked_in_every_notation() {
        let cases = [
            ("MYSQL_PASSWORD=root123 next", "MYSQL_PASSWORD=*** next"),
            ("password = \"root123\"", "password = \"***\""),
            (
                "'username' = 'root', 'password' = 'root123',",
                "'username' = 'root', 'password' = '***',",
            ),
            (
                r#"{"api_token": "abc", "n": 1}"#,
                r#"{"api_token": "***", "n": 1}"#,
            ),
            ("Opts { pass_word: \"x y\" }", "Opts { pass_word: \"***\" }"),
            (
                "jdbc:mysql://h/db?user=a&password=b&ssl=1",
                "jdbc:mysql://h/db?user=a&password=***&ssl=1",
            ),
            (
                r#"sasl.jaas.config=x required username="u" password="p";"#,
                r#"sasl.jaas.config=*** required username="u" password="***";"#,
            ),
            // Prose, not an assignment; and already masked values stay.
            (
                "Access denied for user 'root'@'localhost' (using password: YES)",
                "Access denied for user 'root'@'localhost' (using password: YES)",
            ),
            ("password=***", "password=***"),
            ("checkpoint.interval=5s", "checkpoint.interval=5s"),
        ];
        for (input, want) in cases {
            assert_eq!(redact_text(input), want, "{input}");
        }
    }

    #[test]
    fn secret_keys_are_recognised() {
        for k in [
            "password",
            "ssl.key.password",
            "MYSQL_PWD",
            "client-secret",
            "auth.token",
            "aws.credentials.provider",
            "api-key",
            "Private_Key",
            "sasl.jaas.config",
        ] {
            assert!(is_secret_key(k), "{k}");
        }
        for k in [
            "checkpoint.interval",
            "username",
            "path1.sink.buffer-flush.interval",
            "kafka.properties.linger.ms",
            "tickets",
        ] {
            assert!(!is_secret_key(k), "{k}");
        }
        assert_eq!(redact_value("s3.secret-key", "abc"), MASK);
        assert_eq!(redact_value("url", "mysql://a:b@h"), "mysql://a:***@h");
    }

    #[test]
    fn walks_json() {
        let v = serde_json::json!({"targets": {"mysql": "mysql://root:root123@h/db"},
            "n": 3, "l": ["x://a:b@c"], "password": "pw", "token": 1234});
        let r = redact_json(&v);
        assert_eq!(r["targets"]["mysql"], "mysql://root:***@h/db");
        assert_eq!(r["l"][0], "x://a:***@c");
        assert_eq!(r["n"], 3);
        assert_eq!(r["password"], MASK);
        assert_eq!(r["token"], MASK);
    }
}
