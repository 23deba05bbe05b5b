//! Last line of defence for secrets: any `scheme://user:password@host` in text a
//! report writes (the copied scenario, the resolved scenario, environment values,
//! caveats, SLO lines) has its password replaced by `***`, whatever the caller
//! already did.

use std::borrow::Cow;

/// Characters that end the authority part of a URL inside free text.
fn ends_authority(c: char) -> bool {
    matches!(
        c,
        '/' | '?' | '#' | '"' | '\'' | '`' | ',' | ';' | ')' | ']' | '}' | '>'
    ) || c.is_whitespace()
}

/// Replaces the password of every URL in `text` with `***`.
pub fn redact_text(text: &str) -> Cow<'_, str> {
    if !text.contains("://") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail.find(ends_authority).unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                match userinfo.find(':') {
                    Some(colon)
                        if colon + 1 < userinfo.len() && &userinfo[colon + 1..] != "***" =>
                    {
                        out.push_str(&userinfo[..colon]);
                        out.push_str(":***");
                        out.push_str(&authority[at..]);
                    }
                    _ => out.push_str(authority),
                }
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// [`redact_text`] applied to every string of a JSON value.
pub fn redact_json(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) => Value::String(redact_text(s).into_owned()),
        Value::Array(a) => Value::Array(a.iter().map(redact_json).collect()),
        Value::Object(o) => {
            Value::Object(o.iter().map(|(k, v)| (k.clone(), redact_json(v))).collect())
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hides_passwords_only() {
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
            ("no url at all", "no url at all"),
        ];
        for (input, want) in cases {
            assert_eq!(redact_text(input), want, "{input}");
        }
    }

    #[test]
    fn walks_json() {
        let v = serde_json::json!({"targets": {"mysql": "mysql://root:root123@h/db"}, "n": 3, "l": ["x://a:b@c"]});
        let r = redact_json(&v);
        assert_eq!(r["targets"]["mysql"], "mysql://root:***@h/db");
        assert_eq!(r["l"][0], "x://a:***@c");
        assert_eq!(r["n"], 3);
    }
}
