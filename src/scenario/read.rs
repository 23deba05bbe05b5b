//! Typed reading of the spanned tree: every getter turns a wrong type or an
//! out-of-range value into a [`ScenarioError`] that names the place, the dotted
//! key, the value as written and what would be valid.
//!
//! Validation goes on past a bad value ([`Cx::keep`]), so one run reports
//! every problem of a file, not one per edit-and-retry.

use std::cell::RefCell;
use std::time::Duration;

use super::error::{Location, ScenarioError};
use super::tree::{Node, Origin, Table, Val};
use crate::redact::redact_text;

type Result<T> = std::result::Result<T, ScenarioError>;

/// What every error needs to turn an [`Origin`] into a [`Location`], and the
/// errors found so far.
pub(crate) struct Cx<'a> {
    /// File name (or origin label) for messages.
    pub origin: &'a str,
    /// The scenario text the spans point into.
    pub source: &'a str,
    /// Errors recorded by [`Cx::keep`] while validation went on.
    pub errors: RefCell<Vec<ScenarioError>>,
    /// Dotted keys an unknown key was taken for a typo of ("did you mean"):
    /// that one being missing is the same mistake, not another.
    pub suggested: RefCell<Vec<String>>,
}

impl<'s> Cx<'s> {
    pub fn new(origin: &'s str, source: &'s str) -> Self {
        Cx {
            origin,
            source,
            errors: RefCell::new(Vec::new()),
            suggested: RefCell::new(Vec::new()),
        }
    }

    /// `r`'s value, or `None` with its error recorded, so the caller can go
    /// on validating the keys that do not depend on this one. Fallbacks for
    /// a failed value should be the most permissive one, so checks that
    /// depend on it stay quiet instead of adding follow-on errors.
    pub fn keep<T>(&self, r: Result<T>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.errors.borrow_mut().push(e);
                None
            }
        }
    }

    /// Every error recorded, the "missing" ones of a key a typo was taken
    /// for left out (the unknown-key error says it).
    pub fn into_errors(self) -> Vec<ScenarioError> {
        let suggested = self.suggested.into_inner();
        let mut errors = self.errors.into_inner();
        errors.retain(
            |e| !matches!(e, ScenarioError::MissingKey { key, .. } if suggested.contains(key)),
        );
        errors
    }

    /// The last error [`Cx::keep`] recorded, taken back: what a table
    /// returns when one of its values failed and it cannot be built.
    pub fn take_last(&self) -> ScenarioError {
        self.errors
            .borrow_mut()
            .pop()
            .expect("a value is None only when keep recorded its error")
    }

    pub fn locate(&self, o: &Origin) -> Location {
        match o {
            Origin::File(span) => {
                let at = span.start.min(self.source.len());
                let before = &self.source[..at];
                let line = before.matches('\n').count() + 1;
                let line_start = before.rfind('\n').map_or(0, |i| i + 1);
                let column = before[line_start..].chars().count() + 1;
                Location::File {
                    origin: self.origin.to_string(),
                    line,
                    column,
                }
            }
            Origin::Flag(f) => Location::Flag(redact_text(f).into_owned()),
            Origin::Env(v) => Location::Env(v.clone()),
        }
    }

    /// The root table of a document.
    pub fn root<'a>(&'a self, node: &'a Node) -> Tbl<'a> {
        let Val::Table(table) = &node.val else {
            unreachable!("a TOML document is a table")
        };
        Tbl {
            cx: self,
            path: String::new(),
            table,
            node,
        }
    }
}

/// One value at a dotted path.
#[derive(Clone)]
pub(crate) struct Field<'a> {
    pub cx: &'a Cx<'a>,
    pub path: String,
    pub node: &'a Node,
}

/// Longest value text quoted back in an error.
const MAX_VALUE_TEXT: usize = 80;

impl<'a> Field<'a> {
    /// An error about this value; `message` says what would be valid.
    pub fn invalid(&self, message: impl Into<String>) -> ScenarioError {
        let mut value = redact_text(self.node.text.trim()).into_owned();
        if value.chars().count() > MAX_VALUE_TEXT {
            value = value.chars().take(MAX_VALUE_TEXT).collect::<String>() + "…";
        }
        ScenarioError::InvalidValue {
            location: self.cx.locate(&self.node.origin),
            key: self.path.clone(),
            value,
            message: message.into(),
        }
    }

    fn wrong_type(&self, hint: &str) -> ScenarioError {
        self.invalid(format!("must be {hint}, not {}", self.node.val.kind_name()))
    }

    /// True when the value came from a flag or the environment, where the user
    /// could not quote strings comfortably.
    fn unquoted_source(&self) -> bool {
        matches!(self.node.origin, Origin::Flag(_) | Origin::Env(_))
    }

    pub fn table(&self, hint: &str) -> Result<Tbl<'a>> {
        match &self.node.val {
            Val::Table(table) => Ok(Tbl {
                cx: self.cx,
                path: self.path.clone(),
                table,
                node: self.node,
            }),
            _ => Err(self.wrong_type(hint)),
        }
    }

    pub fn string(&self, hint: &str) -> Result<&'a str> {
        match &self.node.val {
            Val::Str(s) => Ok(s),
            Val::Int(_) | Val::Float(_) | Val::Bool(_) if self.unquoted_source() => {
                Ok(self.node.text.trim())
            }
            _ => Err(self.wrong_type(hint)),
        }
    }

    /// A string from a fixed set; suggests the closest on a near miss.
    pub fn choice(&self, options: &[&str], hint: &str) -> Result<&'a str> {
        let s = self.string(hint)?;
        if options.contains(&s) {
            return Ok(s);
        }
        let mut msg = format!("must be {hint}");
        if let Some(best) = closest(s, options.iter().copied()) {
            msg = format!("{msg}; did you mean \"{best}\"?");
        }
        Err(self.invalid(msg))
    }

    pub fn number(&self, hint: &str) -> Result<f64> {
        let x = match &self.node.val {
            Val::Int(i) => *i as f64,
            Val::Float(f) => *f,
            _ => return Err(self.wrong_type(hint)),
        };
        if !x.is_finite() {
            return Err(self.invalid(format!("must be {hint}")));
        }
        Ok(x)
    }

    /// A number with `lo < x` (`open`) or `lo <= x`, and `x <= hi`.
    pub fn number_in(&self, lo: f64, open: bool, hi: f64, hint: &str) -> Result<f64> {
        let x = self.number(hint)?;
        let low_ok = if open { x > lo } else { x >= lo };
        if low_ok && x <= hi {
            Ok(x)
        } else {
            Err(self.invalid(format!("must be {hint}")))
        }
    }

    pub fn probability(&self) -> Result<f64> {
        self.number_in(0.0, false, 1.0, "a probability from 0 to 1 (e.g. 0.05)")
    }

    pub fn int_in(&self, lo: i64, hi: i64, hint: &str) -> Result<i64> {
        let x = match &self.node.val {
            Val::Int(i) => *i,
            // `4.0` is an integer a user meant; `4.5` is not.
            Val::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => *f as i64,
            Val::Float(_) => return Err(self.invalid(format!("must be {hint}"))),
            _ => return Err(self.wrong_type(hint)),
        };
        if (lo..=hi).contains(&x) {
            Ok(x)
        } else {
            Err(self.invalid(format!("must be {hint}")))
        }
    }

    pub fn boolean(&self, hint: &str) -> Result<bool> {
        match &self.node.val {
            Val::Bool(b) => Ok(*b),
            Val::Str(s) if self.unquoted_source() && (s == "true" || s == "false") => {
                Ok(s == "true")
            }
            _ => Err(self.wrong_type(hint)),
        }
    }

    /// A humantime duration string ("90s", "5m", "1h 30m", "250ms").
    pub fn duration(&self, hint: &str) -> Result<Duration> {
        let full = format!("{hint}, written like \"90s\", \"5m\" or \"250ms\"");
        let s = match &self.node.val {
            Val::Str(s) => s.as_str(),
            Val::Int(_) | Val::Float(_) => {
                return Err(self.invalid(format!(
                    "must be {full}: a bare number has no unit, quote it with one"
                )))
            }
            _ => return Err(self.wrong_type(&full)),
        };
        humantime::parse_duration(s.trim())
            .map_err(|e| self.invalid(format!("must be {full} ({e})")))
    }

    /// A duration with `lo <= d <= hi`.
    pub fn duration_in(&self, lo: Duration, hi: Duration, hint: &str) -> Result<Duration> {
        let d = self.duration(hint)?;
        if d < lo || d > hi {
            return Err(self.invalid(format!("must be {hint}")));
        }
        Ok(d)
    }

    pub fn array(&self, hint: &str) -> Result<Vec<Field<'a>>> {
        match &self.node.val {
            Val::Array(items) => Ok(items
                .iter()
                .enumerate()
                .map(|(i, node)| Field {
                    cx: self.cx,
                    path: format!("{}[{i}]", self.path),
                    node,
                })
                .collect()),
            _ => Err(self.wrong_type(hint)),
        }
    }
}

/// A table at a dotted path.
#[derive(Clone)]
pub(crate) struct Tbl<'a> {
    pub cx: &'a Cx<'a>,
    pub path: String,
    pub table: &'a Table,
    pub node: &'a Node,
}

impl<'a> Tbl<'a> {
    fn child_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// Records an error for every key not in `allowed` (see [`Cx::keep`]);
    /// the table's other keys are still read. `moved` maps keys that live
    /// elsewhere to a hint ("set targets.kafka.format instead").
    pub fn allow(&self, allowed: &[&str], moved: &[(&str, &str)]) {
        for e in &self.table.entries {
            if allowed.contains(&e.key.as_str()) {
                continue;
            }
            let where_ = if self.path.is_empty() {
                "at the top level".to_string()
            } else {
                format!("in [{}]", self.path)
            };
            let hint = if let Some((_, m)) = moved.iter().find(|(k, _)| *k == e.key) {
                format!(": {m}")
            } else {
                let best = closest(&e.key, allowed.iter().copied());
                if let Some(b) = best {
                    // Its "missing" error, if any, would say the same again.
                    self.cx.suggested.borrow_mut().push(self.child_path(b));
                }
                let dym = best
                    .map(|b| format!(" (did you mean `{b}`?)"))
                    .unwrap_or_default();
                format!("{dym}; valid keys {where_}: {}", allowed.join(", "))
            };
            self.cx.errors.borrow_mut().push(ScenarioError::UnknownKey {
                location: self.cx.locate(&e.key_origin),
                key: self.child_path(&e.key),
                hint,
            });
        }
    }

    pub fn get(&self, key: &str) -> Option<Field<'a>> {
        self.table.get(key).map(|e| Field {
            cx: self.cx,
            path: self.child_path(key),
            node: &e.node,
        })
    }

    /// The key, or a [`ScenarioError::MissingKey`] whose message is `what`.
    pub fn req(&self, key: &str, what: &str) -> Result<Field<'a>> {
        self.get(key).ok_or_else(|| ScenarioError::MissingKey {
            location: self.cx.locate(&self.node.origin),
            key: self.child_path(key),
            message: what.to_string(),
        })
    }
}

/// The closest candidate by edit distance, if close enough to be a typo.
pub(crate) fn closest<'c>(s: &str, candidates: impl Iterator<Item = &'c str>) -> Option<&'c str> {
    let limit = (s.chars().count() / 3).max(1) + 1;
    candidates
        .map(|c| (edit_distance(&s.to_lowercase(), &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_catch_typos_not_strangers() {
        let keys = ["workers", "batch_rows", "rate", "arrivals", "max_lag"];
        assert_eq!(closest("wrkers", keys.iter().copied()), Some("workers"));
        assert_eq!(
            closest("batchrows", keys.iter().copied()),
            Some("batch_rows")
        );
        assert_eq!(closest("rat", keys.iter().copied()), Some("rate"));
        assert_eq!(closest("colour", keys.iter().copied()), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn locate_counts_lines_and_chars() {
        let cx = Cx::new("x.toml", "a = 1\nbé = 2\n");
        let loc = cx.locate(&Origin::File(10..11));
        assert_eq!(
            loc,
            Location::File {
                origin: "x.toml".into(),
                line: 2,
                column: 4
            }
        );
    }
}
