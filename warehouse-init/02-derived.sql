-- Derived data over the path schemas: per-store daily sales and returns, the
-- answers users build on the CDC rows. tpcds-bench measures how long after a
-- sale commits in MySQL its contribution shows here ("freshness"), with
-- probe sales of a reserved store key (999) that the workload never writes.
-- Run with psql after 01-path-tables.sql; safe to re-run.
--
--   derived.store_daily_pathN     plain view: as fresh as pathN itself
--   derived.store_daily_pathN_mv  PostgreSQL: MATERIALIZED VIEW, refreshed
--                                 every MATVIEW_REFRESH_INTERVAL by the
--                                 stack's refresher (scripts/stack/refresher.sh);
--                                 Cloudberry: a view over two INCREMENTAL
--                                 MATERIALIZED VIEWs (sales, returns), kept
--                                 current by the server on every write
--
-- Columns: store_sk, date_sk (sale date for sales, return date for returns),
-- sales (lines), net_paid, net_profit, returns (lines), return_amt.

SELECT (version() ~* '(cloudberry|greenplum)') AS is_mpp \gset
CREATE SCHEMA IF NOT EXISTS derived;

\set path path1
\ir derived.inc.psql
\set path path2
\ir derived.inc.psql
