-- Path 1, second leg: Kafka tpcds.store_sales / tpcds.store_returns
-- (in KAFKA_FORMAT, written by mysql-cdc-to-kafka.sql) -> Flink -> warehouse
-- path1.store_sales / path1.store_returns (Cloudberry, or PostgreSQL as its
-- stand-in), upserted by primary key; deletes delete (except with json, which
-- carries none: see mysql-cdc-to-kafka.sql).
--
-- ${VAR} placeholders: see scripts/stack/flink-sql.env.

-- Own database for this job's temporary tables, and no settings carried
-- over from a previous file, so several files can run in one SQL session.
RESET;
CREATE DATABASE IF NOT EXISTS kafka_to_cloudberry;
USE kafka_to_cloudberry;

SET 'pipeline.name' = 'tpcds-kafka-to-cloudberry';
-- The settings that set this job's latency floor, declared as job parameters
-- from the same variables the statements below use, so the harness reads
-- them back from the running job (GET /jobs/<id>/config, user-config) into
-- each run directory, and `tpcds-bench gate` refuses runs whose settings differ.
SET 'pipeline.global-job-parameters' = 'checkpoint.interval:${CHECKPOINT_INTERVAL},path1.sink.buffer-flush.interval:${PATH1_JDBC_FLUSH_INTERVAL},path1.sink.buffer-flush.max-rows:${PATH1_JDBC_FLUSH_MAX_ROWS},kafka.format:${KAFKA_FORMAT}';
SET 'parallelism.default' = '${JOB_PARALLELISM}';
-- The JDBC sink also flushes its buffer on every checkpoint; the flush
-- interval below is what bounds latency when it is shorter.
SET 'execution.checkpointing.interval' = '${CHECKPOINT_INTERVAL}';
-- Source and sink share the primary key and nothing reorders rows between
-- them, so the planner's upsert materializer (state for every key ever seen)
-- is not needed.
SET 'table.exec.sink.upsert-materialize' = 'NONE';

-- Reads from the earliest offset the first time; afterwards from the offsets
-- the fixed consumer group committed at its last checkpoint. The upsert-kafka
-- connector has no startup mode: it reads each topic from the earliest offset
-- on every fresh start (scripts/stack.sh restart-jobs replays the topic; the
-- upserts are idempotent) and keeps every key in state to turn upserts into
-- a changelog. Lines marked --[format]: see mysql-cdc-to-kafka.sql.
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
  'properties.group.id' = '${PATH1_GROUP_ID}',
--[!upsert-kafka]   'scan.startup.mode' = 'group-offsets',
  'properties.auto.offset.reset' = 'earliest',
  'key.format' = 'json',
--[!upsert-kafka]   'key.fields' = 'ss_item_sk;ss_ticket_number',
  'value.format' = '${KAFKA_VALUE_FORMAT}',
  'value.${KAFKA_VALUE_FORMAT}.timestamp-format.standard' = 'ISO-8601'
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
  'properties.group.id' = '${PATH1_GROUP_ID}',
--[!upsert-kafka]   'scan.startup.mode' = 'group-offsets',
  'properties.auto.offset.reset' = 'earliest',
  'key.format' = 'json',
--[!upsert-kafka]   'key.fields' = 'sr_item_sk;sr_ticket_number',
  'value.format' = '${KAFKA_VALUE_FORMAT}',
  'value.${KAFKA_VALUE_FORMAT}.timestamp-format.standard' = 'ISO-8601'
);

-- JDBC upsert sinks (PostgreSQL dialect: INSERT .. ON CONFLICT (key) DO
-- UPDATE, key columns left out of SET as Cloudberry requires). A row waits in
-- the sink's buffer until max-rows rows are buffered or the flush interval
-- passes: that interval is the floor of path 1's warehouse latency.
-- arrived_at is not written: the warehouse stamps it.
CREATE TEMPORARY TABLE path1_store_sales (
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
  'table-name' = 'path1.store_sales',
  'sink.buffer-flush.interval' = '${PATH1_JDBC_FLUSH_INTERVAL}',
  'sink.buffer-flush.max-rows' = '${PATH1_JDBC_FLUSH_MAX_ROWS}',
  'sink.max-retries' = '3'
);

CREATE TEMPORARY TABLE path1_store_returns (
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
  'table-name' = 'path1.store_returns',
  'sink.buffer-flush.interval' = '${PATH1_JDBC_FLUSH_INTERVAL}',
  'sink.buffer-flush.max-rows' = '${PATH1_JDBC_FLUSH_MAX_ROWS}',
  'sink.max-retries' = '3'
);

EXECUTE STATEMENT SET
BEGIN
  INSERT INTO path1_store_sales SELECT * FROM kafka_store_sales;
  INSERT INTO path1_store_returns SELECT * FROM kafka_store_returns;
END;
