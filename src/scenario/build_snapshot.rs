//! `[snapshot]`: onboard tables that already hold data. Before the load, the
//! run stops the CDC jobs, preloads `rows` rows of the scenario's mix into
//! MySQL, and starts the CDC jobs afresh (startup mode `initial`), so the
//! load runs while Flink CDC snapshots what the tables hold (see
//! [`crate::snapshot`]).

use super::error::ScenarioError;
use super::read::Tbl;
use super::types::Snapshot;

type Result<T> = std::result::Result<T, ScenarioError>;

/// The largest preload: a run reserves 10 M tickets, and a ticket carries 8
/// to 16 sale lines, so 50 M rows fit the preload's own ticket slot.
const MAX_ROWS: i64 = 50_000_000;

/// `None` when the scenario has no `[snapshot]` table.
pub(crate) fn snapshot(top: &Tbl) -> Result<Option<Snapshot>> {
    let Some(field) = top.get("snapshot") else {
        return Ok(None);
    };
    let t = field.table("a table ([snapshot])")?;
    t.allow(
        &["rows", "batch_rows", "connections"],
        &[
            ("chunk_size", "chunk size and source parallelism are the stack's: CDC_SNAPSHOT_CHUNK_SIZE and JOB_PARALLELISM (scripts/stack/flink-sql.env), then scripts/stack.sh restart-jobs"),
            ("parallelism", "the source parallelism is the stack's JOB_PARALLELISM (scripts/stack/flink-sql.env)"),
        ],
    );
    let rows = match t.get("rows") {
        Some(f) => f.int_in(
            1,
            MAX_ROWS,
            "the rows to preload before the CDC jobs start, from 1 to 50000000 (e.g. 1_000_000)",
        )? as u64,
        None => {
            return Err(field
                .invalid("needs rows: how many rows to preload, e.g. [snapshot] rows = 1_000_000"))
        }
    };
    let batch_rows = match t.get("batch_rows") {
        Some(f) => f.int_in(
            1,
            10_000,
            "rows per INSERT of the preload, from 1 to 10000 (e.g. 1000)",
        )? as usize,
        None => 1000,
    };
    let connections = match t.get("connections") {
        Some(f) => f.int_in(
            1,
            32,
            "MySQL connections of the preload, from 1 to 32 (e.g. 4)",
        )? as usize,
        None => 4,
    };
    Ok(Some(Snapshot {
        rows,
        batch_rows,
        connections,
    }))
}

#[cfg(test)]
mod tests {
    use crate::scenario::parse_minimal as parse;

    #[test]
    fn no_snapshot_unless_asked_and_rows_are_required_and_bounded() {
        assert_eq!(parse("").unwrap().snapshot, None);
        let s = parse("[snapshot]\nrows = 1_000_000")
            .unwrap()
            .snapshot
            .unwrap();
        assert_eq!((s.rows, s.batch_rows, s.connections), (1_000_000, 1000, 4));
        let s = parse("[snapshot]\nrows = 10\nbatch_rows = 5\nconnections = 2")
            .unwrap()
            .snapshot
            .unwrap();
        assert_eq!((s.rows, s.batch_rows, s.connections), (10, 5, 2));
        let err = parse("[snapshot]\nbatch_rows = 5").unwrap_err();
        assert!(
            err.contains("snapshot") && err.contains("rows = 1_000_000"),
            "{err}"
        );
        for bad in [
            "rows = 0",
            "rows = -5",
            "rows = 60_000_000",
            "rows = \"1M\"",
        ] {
            let err = parse(&format!("[snapshot]\n{bad}")).unwrap_err();
            assert!(err.contains("snapshot.rows"), "{bad}: {err}");
            assert!(err.contains("x.toml"), "{bad}: {err}");
        }
        let err = parse("[snapshot]\nrows = 5\nchunk_size = 100").unwrap_err();
        assert!(err.contains("CDC_SNAPSHOT_CHUNK_SIZE"), "{err}");
        let err = parse("[snapshot]\nrows = 5\nconnections = 0").unwrap_err();
        assert!(err.contains("snapshot.connections"), "{err}");
    }
}
