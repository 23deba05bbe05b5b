//! Command-line entry point: parse, dispatch one command, map errors to the
//! documented exit codes.

use clap::Parser;
use tpcds_bench::cli::{Cli, Command};
use tpcds_bench::exit::{classify, error_text, Exit};

/// jemalloc instead of the system's malloc (the default feature `jemalloc`).
#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read before `main`: freed pages go back to the system
/// within about a second (`dirty_decay_ms`, default 10 s) and at once after
/// that (`muzzy_decay_ms`), so the harness's RSS follows its live heap and a
/// sample of it does not depend on where it falls in a 10-second decay (the
/// hour's soak scattered by ±4 MiB with the defaults). A thin pointer to a
/// C string, as jemalloc declares it (`const char *`); `_RJEM_MALLOC_CONF` in
/// the environment is read after it and wins.
#[cfg(feature = "jemalloc")]
#[allow(non_upper_case_globals)]
#[export_name = "_rjem_malloc_conf"]
pub static malloc_conf: &u8 = &b"dirty_decay_ms:1000,muzzy_decay_ms:0\0"[0];

fn main() {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(Exit::Fault.code());
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Run(args) => tpcds_bench::cmd::run::run(args).await,
            Command::Sweep(args) => tpcds_bench::cmd::sweep::sweep(args).await,
            Command::Check(args) => tpcds_bench::cmd::check::check(args).await,
            Command::Report(args) => tpcds_bench::cmd::report::report(args),
            Command::Compare(args) => tpcds_bench::cmd::compare::compare(args),
            Command::Gate(args) => tpcds_bench::cmd::gate::gate(args),
            Command::Clean(args) => tpcds_bench::cmd::clean::clean(args).await,
            Command::Merge(args) => tpcds_bench::cmd::merge::merge(args),
            Command::Audit(args) => tpcds_bench::cmd::audit::audit(args).await,
        }
    });
    let exit = match result {
        Ok(exit) => exit,
        Err(err) => {
            eprintln!("error: {}", error_text(&err));
            classify(&err)
        }
    };
    // Observer threads may still be parked in librdkafka; do not wait for them.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    std::process::exit(exit.code());
}
