//! The typed reader of a Debezium envelope and its row images: the
//! audited columns only, each put in its column's slot as it is read,
//! strings borrowed from the message unless they have escapes; everything
//! else skipped without being built.

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::Layout;

/// A scalar JSON value, borrowed where the text has no escapes.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Scalar<'a> {
    Null,
    I64(i64),
    U64(u64),
    F64(f64),
    Str(Cow<'a, str>),
    /// A boolean, array or object: renders as nothing MySQL prints.
    Other,
}

/// A row image: one slot per audited column (`None`: absent).
#[derive(Debug, Default)]
pub(super) struct Row<'a>(Vec<Option<Scalar<'a>>>);

impl<'a> Row<'a> {
    pub(super) fn get(&self, slot: usize) -> Option<&Scalar<'a>> {
        self.0.get(slot).and_then(Option::as_ref)
    }
}

#[derive(Debug, Default)]
pub(super) struct Env<'a> {
    pub(super) op: Option<Cow<'a, str>>,
    pub(super) before: Option<Row<'a>>,
    pub(super) after: Option<Row<'a>>,
    /// A `source` or `payload` member: left to the general decoder.
    pub(super) named: bool,
}

pub(super) struct EnvSeed(pub(super) &'static Layout);

impl<'de> DeserializeSeed<'de> for EnvSeed {
    type Value = Env<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Env<'de>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for EnvSeed {
    type Value = Env<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Debezium envelope")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Env<'de>, A::Error> {
        let mut env = Env::default();
        while let Some(Text(k)) = m.next_key::<Text<'de>>()? {
            // The last of a repeated member wins, as in a `serde_json::Map`.
            match k.as_ref() {
                "op" => env.op = m.next_value::<Option<Text<'de>>>()?.map(|t| t.0),
                "before" => env.before = m.next_value_seed(RowSeed(self.0))?,
                "after" => env.after = m.next_value_seed(RowSeed(self.0))?,
                "source" | "payload" => {
                    m.next_value::<IgnoredAny>()?;
                    env.named = true;
                }
                _ => {
                    m.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(env)
    }
}

/// An image (`null` reads as `None`).
struct RowSeed(&'static Layout);

impl<'de> DeserializeSeed<'de> for RowSeed {
    type Value = Option<Row<'de>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for RowSeed {
    type Value = Option<Row<'de>>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a row image")
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
        let mut row = Row(vec![None; self.0.stamp + 1]);
        let mut hint = 0;
        while let Some(Text(k)) = m.next_key::<Text<'de>>()? {
            match self.0.slot(&k, hint) {
                Some(s) => {
                    row.0[s] = Some(m.next_value::<Scalar<'de>>()?);
                    hint = s + 1;
                }
                None => {
                    m.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Some(row))
    }
}

/// A string, borrowed from the message unless it has escapes (serde's own
/// `Cow<str>` always copies).
struct Text<'a>(Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Text<'de>, E> {
        Ok(Text(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Text<'de>, E> {
        Ok(Text(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Text<'de>, E> {
        Ok(Text(Cow::Owned(v)))
    }
}

impl<'de> serde::Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Null)
    }
    fn visit_none<E>(self) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Null)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Other)
    }
    fn visit_i64<E>(self, v: i64) -> Result<Scalar<'de>, E> {
        Ok(Scalar::I64(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Scalar<'de>, E> {
        Ok(Scalar::U64(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Scalar<'de>, E> {
        Ok(Scalar::F64(v))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Str(Cow::Owned(v)))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut s: A) -> Result<Scalar<'de>, A::Error> {
        while s.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Scalar<'de>, A::Error> {
        while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }
}
