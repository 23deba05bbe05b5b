//! Command-line entry point (thin: parse, dispatch, map errors to exit codes).
fn main() {}
