//! The integration tests that need nothing running: the CLI's answers to bad
//! input, `gate` and `sweep` on stored runs, the decoders on captured
//! messages, the shipped scenarios, the stack guards and scripts against a
//! throw-away directory. `cargo test --test offline`.

#[path = "../support/mod.rs"]
mod support;

mod cli_bad_input;
mod cli_gate;
mod cli_sweep;
mod observe_fixtures;
mod scenario_fixtures;
mod stack_guard;
mod stack_scripts;
