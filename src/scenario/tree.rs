//! An owned TOML tree in which every key and value remembers where it came from
//! (a byte span of the file, a `--set` flag, an environment variable).
//!
//! `toml_edit` keeps spans only while a document is immutable; overrides must
//! edit the tree, so the parsed document is copied into this small tree first
//! and both the file and the overrides are validated through it.

use std::ops::Range;

use toml_edit::{ImDocument, Item, Value};

/// Where a node came from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Origin {
    /// Byte range in the scenario text.
    File(Range<usize>),
    /// A command-line override: the whole flag as shown to the user.
    Flag(String),
    /// An environment variable, by name.
    Env(String),
}

/// A value with its origin and its text as written (for error messages).
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub val: Val,
    pub origin: Origin,
    pub text: String,
}

/// TOML value kinds.
#[derive(Debug, Clone)]
pub(crate) enum Val {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Datetime,
    Array(Vec<Node>),
    Table(Table),
}

impl Val {
    /// "a string", "an integer", … for type errors.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Val::Str(_) => "a string",
            Val::Int(_) => "an integer",
            Val::Float(_) => "a float",
            Val::Bool(_) => "a boolean",
            Val::Datetime => "a date-time",
            Val::Array(_) => "an array",
            Val::Table(_) => "a table",
        }
    }
}

/// Table entries in document order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Table {
    pub entries: Vec<Entry>,
}

/// One `key = value` of a table.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub key: String,
    pub key_origin: Origin,
    pub node: Node,
}

impl Table {
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.key == key)
    }

    fn get_mut(&mut self, key: &str) -> Option<&mut Entry> {
        self.entries.iter_mut().find(|e| e.key == key)
    }
}

/// Copies a parsed document into a [`Node`] tree.
pub(crate) fn from_document(doc: &ImDocument<&str>) -> Node {
    let b = Builder {
        raw: doc.raw(),
        flag: None,
    };
    b.table(doc.as_table(), Origin::File(0..0))
}

/// Parses the value half of a `--set key=value` flag. Text that is not a TOML
/// value becomes a string, so `--set duration=90s` works without quotes.
pub(crate) fn from_flag_value(value: &str, flag: &str) -> Node {
    let b = Builder {
        raw: "",
        flag: Some(flag.to_string()),
    };
    match value.trim().parse::<Value>() {
        Ok(v) => {
            let mut n = b.value(&v, &Origin::Flag(flag.to_string()));
            n.text = value.to_string();
            n
        }
        Err(_) => string_node(value, Origin::Flag(flag.to_string())),
    }
}

/// A string node (environment overrides, unparseable flag values).
pub(crate) fn string_node(value: &str, origin: Origin) -> Node {
    Node {
        val: Val::Str(value.to_string()),
        text: format!("{value:?}"),
        origin,
    }
}

/// Sets `path` in `root` to `node`, creating missing tables. `Err` says which
/// prefix of the path is not a table.
pub(crate) fn set_path(root: &mut Node, path: &[&str], node: Node) -> Result<(), String> {
    let (last, parents) = path.split_last().expect("path is not empty");
    let mut cur = root;
    for (i, seg) in parents.iter().enumerate() {
        let origin = node.origin.clone();
        let Val::Table(t) = &mut cur.val else {
            unreachable!("checked below before descending")
        };
        if t.get(seg).is_none() {
            t.entries.push(Entry {
                key: seg.to_string(),
                key_origin: origin.clone(),
                node: Node {
                    val: Val::Table(Table::default()),
                    origin,
                    text: "{}".into(),
                },
            });
        }
        let entry = t.get_mut(seg).expect("just ensured");
        if !matches!(entry.node.val, Val::Table(_)) {
            return Err(format!(
                "{} is {}, not a table, so it has no key `{}`",
                path[..=i].join("."),
                entry.node.val.kind_name(),
                path[i + 1]
            ));
        }
        cur = &mut entry.node;
    }
    let Val::Table(t) = &mut cur.val else {
        unreachable!("root and every parent are tables")
    };
    let key_origin = node.origin.clone();
    match t.get_mut(last) {
        Some(e) => {
            e.key_origin = key_origin;
            e.node = node;
        }
        None => t.entries.push(Entry {
            key: last.to_string(),
            key_origin,
            node,
        }),
    }
    Ok(())
}

struct Builder<'a> {
    raw: &'a str,
    /// `Some` when building from a flag: every node then gets that origin.
    flag: Option<String>,
}

impl Builder<'_> {
    fn origin(&self, span: Option<Range<usize>>, fallback: &Origin) -> Origin {
        match (&self.flag, span) {
            (Some(f), _) => Origin::Flag(f.clone()),
            (None, Some(s)) => Origin::File(s),
            (None, None) => fallback.clone(),
        }
    }

    fn text(&self, origin: &Origin, display: impl FnOnce() -> String) -> String {
        match origin {
            Origin::File(s) if s.end > s.start && s.end <= self.raw.len() => {
                self.raw[s.clone()].to_string()
            }
            _ => display(),
        }
    }

    fn table(&self, t: &toml_edit::Table, fallback: Origin) -> Node {
        let origin = self.origin(t.span(), &fallback);
        let mut entries = Vec::new();
        for (k, item) in t.iter() {
            let key_origin = self.origin(t.key(k).and_then(|k| k.span()), &origin);
            if let Some(node) = self.item(item, &key_origin) {
                entries.push(Entry {
                    key: k.to_string(),
                    key_origin,
                    node,
                });
            }
        }
        let text = self.text(&origin, || "{…}".into());
        Node {
            val: Val::Table(Table { entries }),
            origin,
            text,
        }
    }

    fn item(&self, item: &Item, fallback: &Origin) -> Option<Node> {
        Some(match item {
            Item::None => return None,
            Item::Value(v) => self.value(v, fallback),
            Item::Table(t) => self.table(t, fallback.clone()),
            Item::ArrayOfTables(a) => {
                let origin = self.origin(a.span(), fallback);
                let items = a.iter().map(|t| self.table(t, origin.clone())).collect();
                Node {
                    val: Val::Array(items),
                    text: "[[…]]".into(),
                    origin,
                }
            }
        })
    }

    fn value(&self, v: &Value, fallback: &Origin) -> Node {
        let origin = self.origin(v.span(), fallback);
        let text = self.text(&origin, || v.to_string().trim().to_string());
        let val = match v {
            Value::String(s) => Val::Str(s.value().clone()),
            Value::Integer(i) => Val::Int(*i.value()),
            Value::Float(f) => Val::Float(*f.value()),
            Value::Boolean(b) => Val::Bool(*b.value()),
            Value::Datetime(_) => Val::Datetime,
            Value::Array(a) => Val::Array(a.iter().map(|x| self.value(x, &origin)).collect()),
            Value::InlineTable(t) => {
                let mut entries = Vec::new();
                for (k, x) in t.iter() {
                    let key_origin = self.origin(t.key(k).and_then(|k| k.span()), &origin);
                    entries.push(Entry {
                        key: k.to_string(),
                        node: self.value(x, &key_origin),
                        key_origin,
                    });
                }
                Val::Table(Table { entries })
            }
        };
        Node { val, origin, text }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &'static str) -> Node {
        from_document(&ImDocument::parse(s).unwrap())
    }

    fn table(n: &Node) -> &Table {
        match &n.val {
            Val::Table(t) => t,
            other => panic!("not a table: {other:?}"),
        }
    }

    #[test]
    fn spans_point_at_keys_and_values() {
        let src = "a = 1\n[load]\nrate = { kind = \"constant\", per_second = -5 }\n";
        let root = parse(src);
        let load = &table(&root).get("load").unwrap().node;
        let rate = table(load).get("rate").unwrap();
        let ps = table(&rate.node).get("per_second").unwrap();
        let Origin::File(span) = &ps.node.origin else {
            panic!()
        };
        assert_eq!(&src[span.clone()], "-5");
        assert_eq!(ps.node.text, "-5");
        let Origin::File(kspan) = &rate.key_origin else {
            panic!()
        };
        assert_eq!(&src[kspan.clone()], "rate");
    }

    #[test]
    fn flag_values_parse_as_toml_or_fall_back_to_strings() {
        let n = from_flag_value("2000", "--set x=2000");
        assert!(matches!(n.val, Val::Int(2000)));
        let n = from_flag_value("90s", "--set d=90s");
        assert!(matches!(&n.val, Val::Str(s) if s == "90s"));
        let n = from_flag_value("{ kind = \"constant\", per_second = 5 }", "--set r=…");
        assert!(matches!(&n.val, Val::Table(t) if t.entries.len() == 2));
    }

    #[test]
    fn set_path_creates_and_replaces() {
        let mut root = parse("[load]\nworkers = 2\n");
        set_path(&mut root, &["load", "workers"], from_flag_value("8", "f")).unwrap();
        set_path(&mut root, &["mix", "item", "n"], from_flag_value("5", "g")).unwrap();
        let load = &table(&root).get("load").unwrap().node;
        assert!(matches!(
            table(load).get("workers").unwrap().node.val,
            Val::Int(8)
        ));
        let err = set_path(
            &mut root,
            &["load", "workers", "x"],
            from_flag_value("1", "h"),
        );
        assert!(err.unwrap_err().contains("load.workers is an integer"));
    }
}
