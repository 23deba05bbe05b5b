-- Path 2: MySQL business_db.store_sales / store_returns -> Flink CDC ->
-- warehouse path2.store_sales / path2.store_returns directly (no Kafka),
-- upserted by primary key; deletes delete.
--
-- ${VAR} placeholders: see scripts/stack/flink-sql.env.

-- Own database for this job's temporary tables, and no settings carried
-- over from a previous file, so several files can run in one SQL session.
RESET;
CREATE DATABASE IF NOT EXISTS cdc_to_cloudberry;
USE cdc_to_cloudberry;

SET 'pipeline.name' = 'tpcds-mysql-cdc-to-cloudberry';
-- The settings that set this job's latency floor, its parallelism and how its
-- snapshot reads the tables, declared as job parameters from the same
-- variables the statements below use, so the harness reads them back from the
-- running job (GET /jobs/<id>/config, user-config) into each run directory,
-- and `tpcds-bench gate` refuses runs whose settings differ.
SET 'pipeline.global-job-parameters' = 'checkpoint.interval:${CHECKPOINT_INTERVAL},cdc.debezium.poll.interval.ms:${CDC_POLL_INTERVAL_MS},cdc.debezium.connect.keep.alive.interval.ms:${CDC_KEEPALIVE_INTERVAL_MS},path2.sink.buffer-flush.interval:${PATH2_JDBC_FLUSH_INTERVAL},path2.sink.buffer-flush.max-rows:${PATH2_JDBC_FLUSH_MAX_ROWS},parallelism:${JOB_PARALLELISM},cdc.scan.incremental.snapshot.chunk.size:${CDC_SNAPSHOT_CHUNK_SIZE},cdc.scan.snapshot.fetch.size:${CDC_SNAPSHOT_FETCH_SIZE}';
SET 'parallelism.default' = '${JOB_PARALLELISM}';
-- Commits the CDC source's binlog offset; the JDBC sink also flushes on each
-- checkpoint (its flush interval below bounds latency when shorter).
SET 'execution.checkpointing.interval' = '${CHECKPOINT_INTERVAL}';
-- Source and sink share the primary key and nothing reorders rows between
-- them, so the planner's upsert materializer is not needed.
SET 'table.exec.sink.upsert-materialize' = 'NONE';

-- The CDC sources read the binlog from the position the snapshot ends at. On
-- MariaDB that position is a binlog file/offset (SHOW MASTER STATUS has no
-- GTID set there); on MySQL 8 with GTIDs on, it also carries the GTID set.
-- Each CDC job needs its own server-id range (one id per parallel reader).
-- debezium.poll.interval.ms: how long the binlog reader idles between looks
-- at its event queue when it was empty; a latency floor (see flink-sql.env).
-- debezium.connect.keep.alive.interval.ms: how soon a lost MySQL connection
-- is noticed and reopened (Debezium's 60 s default left the jobs blind for
-- 86 s after a MySQL restart; see flink-sql.env).
-- scan.incremental.snapshot.chunk.size, scan.snapshot.fetch.size: how the
-- snapshot a fresh start begins with reads each table (rows per chunk, JDBC
-- fetch size; see flink-sql.env).
CREATE TEMPORARY TABLE mysql_store_sales (
  ss_sold_date_sk       INT,
  ss_sold_time_sk       INT,
  ss_item_sk            INT NOT NULL,
  ss_customer_sk        INT,
  ss_cdemo_sk           INT,
  ss_hdemo_sk           INT,
  ss_addr_sk            INT,
  ss_store_sk           INT,
  ss_promo_sk           INT,
  ss_ticket_number      BIGINT NOT NULL,
  ss_quantity           INT,
  ss_wholesale_cost     DECIMAL(7, 2),
  ss_list_price         DECIMAL(7, 2),
  ss_sales_price        DECIMAL(7, 2),
  ss_ext_discount_amt   DECIMAL(7, 2),
  ss_ext_sales_price    DECIMAL(7, 2),
  ss_ext_wholesale_cost DECIMAL(7, 2),
  ss_ext_list_price     DECIMAL(7, 2),
  ss_ext_tax            DECIMAL(7, 2),
  ss_coupon_amt         DECIMAL(7, 2),
  ss_net_paid           DECIMAL(7, 2),
  ss_net_paid_inc_tax   DECIMAL(7, 2),
  ss_net_profit         DECIMAL(7, 2),
  bench_ts              TIMESTAMP(6) NOT NULL,
  updated_at            TIMESTAMP(6) NOT NULL,
  PRIMARY KEY (ss_item_sk, ss_ticket_number) NOT ENFORCED
) WITH (
  'connector' = 'mysql-cdc',
  'hostname' = '${MYSQL_HOST}',
  'port' = '${MYSQL_PORT}',
  'username' = '${MYSQL_CDC_USER}',
  'password' = '${MYSQL_CDC_PASSWORD}',
  'database-name' = '${MYSQL_DATABASE}',
  'table-name' = 'store_sales',
  'server-id' = '${CDC_SERVER_ID_PATH2_SALES}',
  'server-time-zone' = '${MYSQL_SERVER_TIME_ZONE}',
  'scan.startup.mode' = 'initial',
  'scan.incremental.snapshot.chunk.size' = '${CDC_SNAPSHOT_CHUNK_SIZE}',
  'scan.snapshot.fetch.size' = '${CDC_SNAPSHOT_FETCH_SIZE}',
  'debezium.poll.interval.ms' = '${CDC_POLL_INTERVAL_MS}',
  'debezium.connect.keep.alive.interval.ms' = '${CDC_KEEPALIVE_INTERVAL_MS}',
  'jdbc.properties.useSSL' = 'false'
);

CREATE TEMPORARY TABLE mysql_store_returns (
  sr_returned_date_sk   INT,
  sr_return_time_sk     INT,
  sr_item_sk            INT NOT NULL,
  sr_customer_sk        INT,
  sr_cdemo_sk           INT,
  sr_hdemo_sk           INT,
  sr_addr_sk            INT,
  sr_store_sk           INT,
  sr_reason_sk          INT,
  sr_ticket_number      BIGINT NOT NULL,
  sr_return_quantity    INT,
  sr_return_amt         DECIMAL(7, 2),
  sr_return_tax         DECIMAL(7, 2),
  sr_return_amt_inc_tax DECIMAL(7, 2),
  sr_fee                DECIMAL(7, 2),
  sr_return_ship_cost   DECIMAL(7, 2),
  sr_refunded_cash      DECIMAL(7, 2),
  sr_reversed_charge    DECIMAL(7, 2),
  sr_store_credit       DECIMAL(7, 2),
  sr_net_loss           DECIMAL(7, 2),
  bench_ts              TIMESTAMP(6) NOT NULL,
  updated_at            TIMESTAMP(6) NOT NULL,
  PRIMARY KEY (sr_item_sk, sr_ticket_number) NOT ENFORCED
) WITH (
  'connector' = 'mysql-cdc',
  'hostname' = '${MYSQL_HOST}',
  'port' = '${MYSQL_PORT}',
  'username' = '${MYSQL_CDC_USER}',
  'password' = '${MYSQL_CDC_PASSWORD}',
  'database-name' = '${MYSQL_DATABASE}',
  'table-name' = 'store_returns',
  'server-id' = '${CDC_SERVER_ID_PATH2_RETURNS}',
  'server-time-zone' = '${MYSQL_SERVER_TIME_ZONE}',
  'scan.startup.mode' = 'initial',
  'scan.incremental.snapshot.chunk.size' = '${CDC_SNAPSHOT_CHUNK_SIZE}',
  'scan.snapshot.fetch.size' = '${CDC_SNAPSHOT_FETCH_SIZE}',
  'debezium.poll.interval.ms' = '${CDC_POLL_INTERVAL_MS}',
  'debezium.connect.keep.alive.interval.ms' = '${CDC_KEEPALIVE_INTERVAL_MS}',
  'jdbc.properties.useSSL' = 'false'
);

-- JDBC upsert sinks (PostgreSQL dialect: INSERT .. ON CONFLICT (key) DO
-- UPDATE, key columns left out of SET as Cloudberry requires). A row waits in
-- the sink's buffer until max-rows rows are buffered or the flush interval
-- passes: that interval is the floor of path 2's warehouse latency.
-- arrived_at is not written: the warehouse stamps it.
CREATE TEMPORARY TABLE path2_store_sales (
  ss_sold_date_sk       INT,
  ss_sold_time_sk       INT,
  ss_item_sk            INT NOT NULL,
  ss_customer_sk        INT,
  ss_cdemo_sk           INT,
  ss_hdemo_sk           INT,
  ss_addr_sk            INT,
  ss_store_sk           INT,
  ss_promo_sk           INT,
  ss_ticket_number      BIGINT NOT NULL,
  ss_quantity           INT,
  ss_wholesale_cost     DECIMAL(7, 2),
  ss_list_price         DECIMAL(7, 2),
  ss_sales_price        DECIMAL(7, 2),
  ss_ext_discount_amt   DECIMAL(7, 2),
  ss_ext_sales_price    DECIMAL(7, 2),
  ss_ext_wholesale_cost DECIMAL(7, 2),
  ss_ext_list_price     DECIMAL(7, 2),
  ss_ext_tax            DECIMAL(7, 2),
  ss_coupon_amt         DECIMAL(7, 2),
  ss_net_paid           DECIMAL(7, 2),
  ss_net_paid_inc_tax   DECIMAL(7, 2),
  ss_net_profit         DECIMAL(7, 2),
  bench_ts              TIMESTAMP(6) NOT NULL,
  updated_at            TIMESTAMP(6) NOT NULL,
  PRIMARY KEY (ss_item_sk, ss_ticket_number) NOT ENFORCED
) WITH (
  'connector' = 'jdbc',
  'url' = 'jdbc:postgresql://${WAREHOUSE_HOST}:${WAREHOUSE_PORT}/${WAREHOUSE_DATABASE}',
  'driver' = 'org.postgresql.Driver',
  'username' = '${WAREHOUSE_USER}',
  'password' = '${WAREHOUSE_PASSWORD}',
  'table-name' = 'path2.store_sales',
  'sink.buffer-flush.interval' = '${PATH2_JDBC_FLUSH_INTERVAL}',
  'sink.buffer-flush.max-rows' = '${PATH2_JDBC_FLUSH_MAX_ROWS}',
  'sink.max-retries' = '3'
);

CREATE TEMPORARY TABLE path2_store_returns (
  sr_returned_date_sk   INT,
  sr_return_time_sk     INT,
  sr_item_sk            INT NOT NULL,
  sr_customer_sk        INT,
  sr_cdemo_sk           INT,
  sr_hdemo_sk           INT,
  sr_addr_sk            INT,
  sr_store_sk           INT,
  sr_reason_sk          INT,
  sr_ticket_number      BIGINT NOT NULL,
  sr_return_quantity    INT,
  sr_return_amt         DECIMAL(7, 2),
  sr_return_tax         DECIMAL(7, 2),
  sr_return_amt_inc_tax DECIMAL(7, 2),
  sr_fee                DECIMAL(7, 2),
  sr_return_ship_cost   DECIMAL(7, 2),
  sr_refunded_cash      DECIMAL(7, 2),
  sr_reversed_charge    DECIMAL(7, 2),
  sr_store_credit       DECIMAL(7, 2),
  sr_net_loss           DECIMAL(7, 2),
  bench_ts              TIMESTAMP(6) NOT NULL,
  updated_at            TIMESTAMP(6) NOT NULL,
  PRIMARY KEY (sr_item_sk, sr_ticket_number) NOT ENFORCED
) WITH (
  'connector' = 'jdbc',
  'url' = 'jdbc:postgresql://${WAREHOUSE_HOST}:${WAREHOUSE_PORT}/${WAREHOUSE_DATABASE}',
  'driver' = 'org.postgresql.Driver',
  'username' = '${WAREHOUSE_USER}',
  'password' = '${WAREHOUSE_PASSWORD}',
  'table-name' = 'path2.store_returns',
  'sink.buffer-flush.interval' = '${PATH2_JDBC_FLUSH_INTERVAL}',
  'sink.buffer-flush.max-rows' = '${PATH2_JDBC_FLUSH_MAX_ROWS}',
  'sink.max-retries' = '3'
);

EXECUTE STATEMENT SET
BEGIN
  INSERT INTO path2_store_sales SELECT * FROM mysql_store_sales;
  INSERT INTO path2_store_returns SELECT * FROM mysql_store_returns;
END;
