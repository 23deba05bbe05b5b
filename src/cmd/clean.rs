//! `tpcds-bench clean RUN_DIR`: every run leaves its rows behind (MySQL, both
//! warehouse paths, the Kafka topics). This counts them by the run's ticket
//! range, and with `--yes` deletes them from MySQL and the warehouse. The
//! MySQL deletes also flow through the pipeline as changes; the warehouse is
//! cleaned directly as well, so a stopped pipeline does not keep them there.
//! Kafka cannot delete single messages: they stay until the topics' retention.

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use anyhow::Context as _;
use mysql_async::prelude::Queryable;

use crate::cli::CleanArgs;
use crate::exit::{Classified, Exit};
use crate::model::Table;
use crate::observe::warehouse::WarehouseConn;

/// Rows deleted per MySQL statement: small transactions keep the binlog
/// events, and the CDC jobs' batches, small.
const CHUNK: u64 = 5_000;
const TIMEOUT: Duration = Duration::from_secs(10);

/// Counts (and with `--yes` deletes) the run's rows.
pub async fn clean(args: CleanArgs) -> anyhow::Result<Exit> {
    let (_, tickets) = super::run_tickets(&args.run_dir)?;
    let scenario = match &args.scenario {
        Some(path) => super::load_scenario(path, &[])?,
        None => super::load_scenario_text(super::check::DEFAULT_SCENARIO, "(defaults)")?,
    };
    let unreachable = |e: crate::observe::ObserveError| Classified::new(Exit::Unreachable, e);
    let mysql_url = scenario.targets.mysql.expose();
    let mut my = crate::observe::preflight::mysql::connect(mysql_url, TIMEOUT)
        .await
        .map_err(unreachable)?;
    let wh = WarehouseConn::connect(scenario.targets.warehouse.expose(), TIMEOUT)
        .await
        .map_err(unreachable)?;
    println!(
        "run {}: tickets {}..{}",
        args.run_dir.display(),
        tickets.start,
        tickets.end
    );
    let verb = if args.yes { "deleted" } else { "would delete" };
    // The warehouse first: MySQL's deletes then reach it through the pipeline
    // as no-ops, so the counts printed are the rows each place held.
    let mut warehouse = Vec::new();
    for schema in ["path1", "path2"] {
        let counts: BTreeMap<Table, u64> = if args.yes {
            wh.delete_rows(schema, &tickets).await
        } else {
            wh.count_rows(schema, &tickets).await
        }
        .map_err(unreachable)?;
        warehouse.extend(
            counts
                .into_iter()
                .map(|(t, n)| (format!("{schema}.{t}"), n)),
        );
    }
    for table in Table::ALL {
        let n = if args.yes {
            delete_mysql(&mut my, table, &tickets).await?
        } else {
            count_mysql(&mut my, table, &tickets).await?
        };
        println!("mysql      {:<20} {verb} {n} rows", table.name());
    }
    for (name, n) in warehouse {
        println!("warehouse  {name:<20} {verb} {n} rows");
    }
    println!(
        "kafka      the changelog topics keep the run's messages until their retention{}",
        if args.yes {
            " (the deletes above add one change per row)"
        } else {
            ""
        }
    );
    if !args.yes {
        println!("nothing deleted: add --yes to delete");
    }
    let _ = my.disconnect().await;
    Ok(Exit::Ok)
}

fn where_tickets(table: Table) -> String {
    format!(
        "{p}ticket_number >= ? AND {p}ticket_number < ?",
        p = table.prefix()
    )
}

async fn count_mysql(
    my: &mut mysql_async::Conn,
    table: Table,
    t: &Range<u64>,
) -> anyhow::Result<u64> {
    let sql = format!(
        "SELECT COUNT(*) FROM {table} WHERE {}",
        where_tickets(table)
    );
    let n: Option<u64> = my
        .exec_first(sql, (t.start, t.end))
        .await
        .with_context(|| format!("counting the run's rows in MySQL {table}"))?;
    Ok(n.unwrap_or(0))
}

async fn delete_mysql(
    my: &mut mysql_async::Conn,
    table: Table,
    t: &Range<u64>,
) -> anyhow::Result<u64> {
    let sql = format!(
        "DELETE FROM {table} WHERE {} LIMIT {CHUNK}",
        where_tickets(table)
    );
    let mut total = 0;
    loop {
        my.exec_drop(&sql, (t.start, t.end))
            .await
            .with_context(|| format!("deleting the run's rows from MySQL {table}"))?;
        let n = my.affected_rows();
        total += n;
        if n < CHUNK {
            return Ok(total);
        }
    }
}
