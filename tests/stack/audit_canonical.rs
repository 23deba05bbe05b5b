//! The audit's canonical text, rendered by the real databases (MariaDB and
//! the PostgreSQL warehouse of the native stack): a formatting difference
//! (a DECIMAL's declared scale, a timestamp's trailing zeros or its column
//! type and the session's time zone) gives the same text; a real difference
//! (a cent, NULL against zero, an integer off by one, a timestamp an hour off
//! or cut to milliseconds) does not. Needs `scripts/stack.sh up`; an
//! unreachable database fails the test.

use crate::support::observe as observe_support;

use crate::support::observe::{mysql_url, warehouse_client};
use mysql_async::prelude::Queryable;
use tpcds_bench::audit::sql::{canonical_of_literals, session_utc, Dialect, Kind};

/// One value as MySQL renders it (a literal of a MySQL type).
async fn my(conn: &mut mysql_async::Conn, expr: &str, kind: Kind) -> String {
    let sql = canonical_of_literals(Dialect::MySql, &[(expr, kind)]);
    conn.query_first::<String, _>(sql)
        .await
        .unwrap_or_else(|e| panic!("MySQL: {expr}: {e}"))
        .expect("one row")
}

/// One value as the warehouse renders it.
async fn pg(client: &tokio_postgres::Client, expr: &str, kind: Kind) -> String {
    let sql = canonical_of_literals(Dialect::Postgres, &[(expr, kind)]);
    client
        .query_one(sql.as_str(), &[])
        .await
        .unwrap_or_else(|e| panic!("warehouse: {expr}: {e}"))
        .get(0)
}

#[tokio::test]
async fn formatting_differences_are_not_differences_and_real_ones_are() {
    let _turn = crate::support::turn();
    let mut conn = mysql_async::Conn::from_url(mysql_url())
        .await
        .unwrap_or_else(|e| panic!("MySQL unreachable: {e}; {}", observe_support::HINT));
    let client = warehouse_client().await;
    // Sessions that start in other zones: the audit's own setting must win.
    conn.query_drop("SET time_zone = '+05:30'").await.unwrap();
    client
        .batch_execute("SET TIME ZONE 'America/New_York'")
        .await
        .unwrap();
    conn.query_drop(session_utc(Dialect::MySql)).await.unwrap();
    client
        .batch_execute(session_utc(Dialect::Postgres))
        .await
        .unwrap();

    use Kind::*;
    // (MySQL literal, warehouse literal, kind, expected text): the same value.
    let same = [
        (
            "CAST(12.3 AS DECIMAL(7,2))",
            "12.30::numeric(7,2)",
            Money,
            "12.300000",
        ),
        (
            "CAST(12.3 AS DECIMAL(7,2))",
            "12.3::numeric",
            Money,
            "12.300000",
        ),
        (
            "CAST(12.3 AS DECIMAL(7,2))",
            "12.3000::numeric(12,4)",
            Money,
            "12.300000",
        ),
        (
            "CAST(-0.05 AS DECIMAL(7,2))",
            "(-0.05)::numeric(7,2)",
            Money,
            "-0.050000",
        ),
        (
            "CAST(0 AS DECIMAL(7,2))",
            "0::numeric(7,2)",
            Money,
            "0.000000",
        ),
        (
            "CAST(NULL AS DECIMAL(7,2))",
            "NULL::numeric(7,2)",
            Money,
            "NULL",
        ),
        ("CAST(NULL AS SIGNED)", "NULL::int", Int, "NULL"),
        ("CAST(-5 AS SIGNED)", "(-5)::int", Int, "-5"),
        // Beyond a double's 53 bits: no float on the way.
        (
            "CAST(9007199254740993 AS SIGNED)",
            "9007199254740993::bigint",
            Int,
            "9007199254740993",
        ),
        (
            "CAST('2026-12-05 10:00:00.12' AS DATETIME(6))",
            "'2026-12-05 10:00:00.120000'::timestamp(6)",
            Timestamp,
            "2026-12-05 10:00:00.120000",
        ),
        (
            "CAST('2026-12-05 10:00:00' AS DATETIME(6))",
            "'2026-12-05 10:00:00'::timestamp",
            Timestamp,
            "2026-12-05 10:00:00.000000",
        ),
        // A timestamptz column is printed in UTC whatever the session began with.
        (
            "CAST('2026-12-05 10:00:00.123456' AS DATETIME(6))",
            "'2026-12-05 11:00:00.123456+01'::timestamptz",
            Timestamp,
            "2026-12-05 10:00:00.123456",
        ),
        (
            "CAST(NULL AS DATETIME(6))",
            "NULL::timestamp",
            Timestamp,
            "NULL",
        ),
    ];
    for (m, p, kind, want) in same {
        assert_eq!(my(&mut conn, m, kind).await, want, "MySQL {m}");
        assert_eq!(pg(&client, p, kind).await, want, "warehouse {p}");
    }

    // (MySQL literal, warehouse literal, kind): different values.
    let differ = [
        ("CAST(12.30 AS DECIMAL(7,2))", "12.31::numeric(7,2)", Money),
        ("CAST(0 AS DECIMAL(7,2))", "NULL::numeric(7,2)", Money),
        ("CAST(NULL AS SIGNED)", "0::int", Int),
        (
            "CAST(9007199254740993 AS SIGNED)",
            "9007199254740992::bigint",
            Int,
        ),
        (
            "CAST('2026-12-05 10:00:00.123456' AS DATETIME(6))",
            "'2026-12-05 11:00:00.123456'::timestamp(6)",
            Timestamp,
        ),
        // Precision lost on the way is a difference, not a format.
        (
            "CAST('2026-12-05 10:00:00.123456' AS DATETIME(6))",
            "'2026-12-05 10:00:00.123456'::timestamp(3)",
            Timestamp,
        ),
        // A timestamptz that was written with the session's zone taken as UTC.
        (
            "CAST('2026-12-05 10:00:00' AS DATETIME(6))",
            "'2026-12-05 10:00:00+01'::timestamptz",
            Timestamp,
        ),
    ];
    for (m, p, kind) in differ {
        let (a, b) = (my(&mut conn, m, kind).await, pg(&client, p, kind).await);
        assert_ne!(a, b, "MySQL {m} and warehouse {p} must differ");
    }

    // A whole row: the separator keeps NULLs in place (CONCAT_WS would skip a bare NULL).
    let row = [("CAST(NULL AS SIGNED)", Int), ("CAST(1 AS SIGNED)", Int)];
    let text: String = conn
        .query_first(canonical_of_literals(Dialect::MySql, &row))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(text, "NULL|1");
    let _ = conn.disconnect().await;
}
