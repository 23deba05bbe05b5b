-- Warehouse side of the pipeline: schemas path1 (MySQL -> Kafka -> Flink ->
-- here) and path2 (MySQL -> Flink CDC -> here), each with store_sales and
-- store_returns. Run with psql (it uses \gset/\if) against the database the
-- JDBC sinks write to; safe to re-run:
--   psql -v ON_ERROR_STOP=1 -d tpcds -f warehouse-init/01-path-tables.sql
--
-- One file serves PostgreSQL and Apache Cloudberry/Greenplum: it asks
-- version() which one it talks to and adds DISTRIBUTED BY (the primary key)
-- only on the MPP flavour, where a primary key must contain the distribution
-- key and upsert targets must be heap tables (the default).
--
-- Columns: those of business_db (DATETIME(6) -> TIMESTAMP(6)) plus
--   arrived_at  when the row version landed here (server clock). Polling on
--               it finds new and changed rows; on PostgreSQL a BEFORE UPDATE
--               trigger moves it on upserts (Greenplum-family servers do not
--               run row triggers on distributed tables, so there it marks
--               the first arrival only).

SELECT (version() ~* '(cloudberry|greenplum)') AS is_mpp \gset
\if :is_mpp
  \set dist_ss 'DISTRIBUTED BY (ss_item_sk, ss_ticket_number)'
  \set dist_sr 'DISTRIBUTED BY (sr_item_sk, sr_ticket_number)'
  \echo 'warehouse flavour: Cloudberry/Greenplum (tables DISTRIBUTED BY their key)'
\else
  \set dist_ss ''
  \set dist_sr ''
  \echo 'warehouse flavour: PostgreSQL'
\endif

\set path path1
\ir tables.inc.psql
\set path path2
\ir tables.inc.psql
