//! The tracker's tests beyond the ledger's own (`ledger/tests.rs`): the
//! clock probes and visibility.

pub(super) mod probe;
mod visible;
