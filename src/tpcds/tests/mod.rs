//! Generator-level tests. A small model of the table state the writes produce
//! (what committed, what was returned, updated or deleted) checks every rule of
//! `TPCDS.md` and of the harness on every write the generator emits, while a
//! seeded "database" commits or rolls back whole batches.

mod props;
mod rules;
mod sim;
