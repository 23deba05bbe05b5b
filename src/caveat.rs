//! Caveats: what a reader of a run's figures must know to trust them (rows
//! that were late, an observer that retried, a fault that was not undone...).
//!
//! Each fact is kept by the module that knows it, as a type of its own whose
//! fields are the counts and whose `Display` is the sentence the report
//! prints: the load's lateness ([`crate::load`]), an observer's stats
//! ([`crate::observe`]), the ledger's counts ([`crate::track`]), a fault's
//! recovery ([`crate::faults`]), the derived probes ([`crate::derived`]).
//! A [`Caveat`] carries any of them to the report, which prints them in the
//! order the run gathered them; a caveat read back from a stored run's
//! `summary.json` carries its sentence alone. A leaf module, so every module
//! may produce caveats without importing the report.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A fact a caveat can carry: anything with a sentence (`Display`) and a
/// debug form, owned, and shareable across threads.
pub trait Fact: fmt::Display + fmt::Debug + Send + Sync + Any {}

impl<T: fmt::Display + fmt::Debug + Send + Sync + Any> Fact for T {}

/// One caveat: a module's fact, shown as its sentence. Serialised (in
/// `summary.json`) as that sentence, and read back as it.
#[derive(Clone)]
pub struct Caveat(Arc<dyn Fact>);

impl Caveat {
    /// A caveat carrying `fact`.
    pub fn new(fact: impl Fact) -> Self {
        Caveat(Arc::new(fact))
    }

    /// The fact, when it is a `T` (a caveat read back from a stored run holds
    /// a `String`).
    pub fn fact<T: Fact>(&self) -> Option<&T> {
        let any: &dyn Any = &*self.0;
        any.downcast_ref::<T>()
    }
}

impl fmt::Display for Caveat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for Caveat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Two caveats are equal when they read the same: a caveat read back from a
/// stored run equals the one that was written.
impl PartialEq for Caveat {
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}

impl Serialize for Caveat {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Caveat {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Caveat::new)
    }
}

impl From<String> for Caveat {
    fn from(text: String) -> Self {
        Caveat::new(text)
    }
}

impl From<&str> for Caveat {
    fn from(text: &str) -> Self {
        Caveat::new(text.to_string())
    }
}

/// A caveat of a shard, in a merged run: its sentence after the shard's name.
#[derive(Debug, Clone)]
pub struct OfShard {
    /// `shard 1/2`.
    pub shard: String,
    /// What the shard's own run said.
    pub caveat: Caveat,
}

impl fmt::Display for OfShard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.shard, self.caveat)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Late {
        rows: u64,
    }

    impl fmt::Display for Late {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{} rows were late", self.rows)
        }
    }

    #[test]
    fn a_caveat_is_written_as_its_sentence_and_read_back_equal() {
        let c = Caveat::new(Late { rows: 3 });
        assert_eq!(c.to_string(), "3 rows were late");
        assert_eq!(c.fact::<Late>().map(|l| l.rows), Some(3));
        let json = serde_json::to_string(&vec![c.clone()]).unwrap();
        assert_eq!(json, r#"["3 rows were late"]"#);
        let back: Vec<Caveat> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, vec![c]);
        assert!(
            back[0].fact::<Late>().is_none(),
            "read back: the sentence alone"
        );
        assert_eq!(back[0].fact::<String>().unwrap(), "3 rows were late");
    }

    #[test]
    fn a_shard_caveat_leads_with_the_shard() {
        let c = Caveat::new(OfShard {
            shard: "shard 1/2".into(),
            caveat: Caveat::new(Late { rows: 1 }),
        });
        assert_eq!(c.to_string(), "shard 1/2: 1 rows were late");
    }
}
