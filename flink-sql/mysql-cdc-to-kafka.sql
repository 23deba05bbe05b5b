-- Path 1, first leg: MySQL business_db.store_sales / store_returns ->
-- Flink CDC -> Kafka topics tpcds.store_sales / tpcds.store_returns.
--
-- ${VAR} placeholders are filled in from the environment by
-- scripts/stack/render-sql.sh; the defaults and what each one costs in
-- latency are in scripts/stack/flink-sql.env. Run the rendered file with
-- `sql-client.sh -f` (scripts/stack.sh up does); it submits one job.

-- Own database for this job's temporary tables, and no settings carried
-- over from a previous file, so several files can run in one SQL session.
RESET;
CREATE DATABASE IF NOT EXISTS cdc_to_kafka;
USE cdc_to_kafka;

SET 'pipeline.name' = 'tpcds-mysql-cdc-to-kafka';
-- The settings that set this job's latency floor, its parallelism and how its
-- snapshot reads the tables, declared as job parameters from the same
-- variables the statements below use, so the harness reads them back from the
-- running job (GET /jobs/<id>/config, user-config) into each run directory,
-- and `tpcds-bench gate` refuses runs whose settings differ.
SET 'pipeline.global-job-parameters' = 'checkpoint.interval:${CHECKPOINT_INTERVAL},cdc.debezium.poll.interval.ms:${CDC_POLL_INTERVAL_MS},cdc.debezium.connect.keep.alive.interval.ms:${CDC_KEEPALIVE_INTERVAL_MS},kafka.sink.delivery-guarantee:${KAFKA_DELIVERY_GUARANTEE},kafka.properties.linger.ms:${KAFKA_LINGER_MS},kafka.format:${KAFKA_FORMAT},parallelism:${JOB_PARALLELISM},cdc.scan.incremental.snapshot.chunk.size:${CDC_SNAPSHOT_CHUNK_SIZE},cdc.scan.snapshot.fetch.size:${CDC_SNAPSHOT_FETCH_SIZE}';
SET 'parallelism.default' = '${JOB_PARALLELISM}';
-- Checkpoints commit the CDC source's binlog offset and flush the Kafka
-- producer; with the at-least-once guarantee below, records are visible in
-- Kafka as soon as they are sent, so this interval bounds recovery work, not
-- latency. Set KAFKA_DELIVERY_GUARANTEE=exactly-once to see latency follow it.
SET 'execution.checkpointing.interval' = '${CHECKPOINT_INTERVAL}';

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
--[json]   row_kind              STRING METADATA FROM 'row_kind' VIRTUAL,
  PRIMARY KEY (ss_item_sk, ss_ticket_number) NOT ENFORCED
) WITH (
  'connector' = 'mysql-cdc',
--[json]   'scan.read-changelog-as-append-only.enabled' = 'true',
  'hostname' = '${MYSQL_HOST}',
  'port' = '${MYSQL_PORT}',
  'username' = '${MYSQL_CDC_USER}',
  'password' = '${MYSQL_CDC_PASSWORD}',
  'database-name' = '${MYSQL_DATABASE}',
  'table-name' = 'store_sales',
  'server-id' = '${CDC_SERVER_ID_KAFKA_SALES}',
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
--[json]   row_kind              STRING METADATA FROM 'row_kind' VIRTUAL,
  PRIMARY KEY (sr_item_sk, sr_ticket_number) NOT ENFORCED
) WITH (
  'connector' = 'mysql-cdc',
--[json]   'scan.read-changelog-as-append-only.enabled' = 'true',
  'hostname' = '${MYSQL_HOST}',
  'port' = '${MYSQL_PORT}',
  'username' = '${MYSQL_CDC_USER}',
  'password' = '${MYSQL_CDC_PASSWORD}',
  'database-name' = '${MYSQL_DATABASE}',
  'table-name' = 'store_returns',
  'server-id' = '${CDC_SERVER_ID_KAFKA_RETURNS}',
  'server-time-zone' = '${MYSQL_SERVER_TIME_ZONE}',
  'scan.startup.mode' = 'initial',
  'scan.incremental.snapshot.chunk.size' = '${CDC_SNAPSHOT_CHUNK_SIZE}',
  'scan.snapshot.fetch.size' = '${CDC_SNAPSHOT_FETCH_SIZE}',
  'debezium.poll.interval.ms' = '${CDC_POLL_INTERVAL_MS}',
  'debezium.connect.keep.alive.interval.ms' = '${CDC_KEEPALIVE_INTERVAL_MS}',
  'jdbc.properties.useSSL' = 'false'
);

-- The changelog format is KAFKA_FORMAT (scripts/stack/flink-sql.env; lines
-- marked --[format] are kept for the formats they name; docs/FORMATS.md):
-- - debezium-json {"before":..,"after":..,"op":"c"|"d"}, canal-json
--   {"data":[..],"type":"INSERT"|"DELETE"}, maxwell-json {"data":..,"type":
--   "insert"|"delete"}, ogg-json {"before":..,"after":..,"op_type":"I"|"D"}:
--   Flink writes an update as a delete of the old row then an insert of the
--   new one (it never writes "u"/"UPDATE").
-- - upsert-kafka: the upsert-kafka connector, the primary key as the JSON
--   record key, the row as a JSON value; an update is the new row, a delete a
--   tombstone (null value).
-- - json: plain JSON rows, append-only. The kafka connector with json takes
--   inserts only, so the CDC sources above read the changelog as append-only
--   rows with their row kind, and only inserts (+I) and updates' new rows (+U)
--   are written. LIMITS: deletes are not written at all (the topic cannot say
--   a row is gone, so path 1 keeps deleted rows), an update is indistinguishable
--   from an insert, and the topic has no primary key.
-- Decimals as plain numbers, timestamps in ISO-8601. The record key is the
-- primary key (JSON), so a key's changes stay in order on one partition.
CREATE TEMPORARY TABLE kafka_store_sales (
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
--[json]   updated_at            TIMESTAMP(6) NOT NULL
--[!json]   updated_at            TIMESTAMP(6) NOT NULL,
--[!json]   PRIMARY KEY (ss_item_sk, ss_ticket_number) NOT ENFORCED
) WITH (
  'connector' = '${KAFKA_CONNECTOR}',
  'topic' = 'tpcds.store_sales',
  'properties.bootstrap.servers' = '${KAFKA_BOOTSTRAP}',
  'key.format' = 'json',
--[!upsert-kafka]   'key.fields' = 'ss_item_sk;ss_ticket_number',
  'value.format' = '${KAFKA_VALUE_FORMAT}',
  'value.${KAFKA_VALUE_FORMAT}.encode.decimal-as-plain-number' = 'true',
  'value.${KAFKA_VALUE_FORMAT}.timestamp-format.standard' = 'ISO-8601',
  -- at-least-once: records are sent as they come (a checkpoint only waits for
  -- their acks); exactly-once would hold them in a transaction until the next
  -- checkpoint completes.
  'sink.delivery-guarantee' = '${KAFKA_DELIVERY_GUARANTEE}',
  'sink.transactional-id-prefix' = 'tpcds-cdc-sales',
  -- How long the producer waits to fill a batch before sending it.
  'properties.linger.ms' = '${KAFKA_LINGER_MS}'
);

CREATE TEMPORARY TABLE kafka_store_returns (
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
--[json]   updated_at            TIMESTAMP(6) NOT NULL
--[!json]   updated_at            TIMESTAMP(6) NOT NULL,
--[!json]   PRIMARY KEY (sr_item_sk, sr_ticket_number) NOT ENFORCED
) WITH (
  'connector' = '${KAFKA_CONNECTOR}',
  'topic' = 'tpcds.store_returns',
  'properties.bootstrap.servers' = '${KAFKA_BOOTSTRAP}',
  'key.format' = 'json',
--[!upsert-kafka]   'key.fields' = 'sr_item_sk;sr_ticket_number',
  'value.format' = '${KAFKA_VALUE_FORMAT}',
  'value.${KAFKA_VALUE_FORMAT}.encode.decimal-as-plain-number' = 'true',
  'value.${KAFKA_VALUE_FORMAT}.timestamp-format.standard' = 'ISO-8601',
  'sink.delivery-guarantee' = '${KAFKA_DELIVERY_GUARANTEE}',
  'sink.transactional-id-prefix' = 'tpcds-cdc-returns',
  'properties.linger.ms' = '${KAFKA_LINGER_MS}'
);

EXECUTE STATEMENT SET
BEGIN
--[!json]   INSERT INTO kafka_store_sales SELECT * FROM mysql_store_sales;
--[!json]   INSERT INTO kafka_store_returns SELECT * FROM mysql_store_returns;
--[json]   INSERT INTO kafka_store_sales SELECT ss_sold_date_sk, ss_sold_time_sk, ss_item_sk, ss_customer_sk, ss_cdemo_sk, ss_hdemo_sk, ss_addr_sk, ss_store_sk, ss_promo_sk, ss_ticket_number, ss_quantity, ss_wholesale_cost, ss_list_price, ss_sales_price, ss_ext_discount_amt, ss_ext_sales_price, ss_ext_wholesale_cost, ss_ext_list_price, ss_ext_tax, ss_coupon_amt, ss_net_paid, ss_net_paid_inc_tax, ss_net_profit, bench_ts, updated_at FROM mysql_store_sales WHERE row_kind IN ('+I', '+U');
--[json]   INSERT INTO kafka_store_returns SELECT sr_returned_date_sk, sr_return_time_sk, sr_item_sk, sr_customer_sk, sr_cdemo_sk, sr_hdemo_sk, sr_addr_sk, sr_store_sk, sr_reason_sk, sr_ticket_number, sr_return_quantity, sr_return_amt, sr_return_tax, sr_return_amt_inc_tax, sr_fee, sr_return_ship_cost, sr_refunded_cash, sr_reversed_charge, sr_store_credit, sr_net_loss, bench_ts, updated_at FROM mysql_store_returns WHERE row_kind IN ('+I', '+U');
END;
