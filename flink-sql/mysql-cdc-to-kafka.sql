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
-- The settings that set this job's latency floor, declared as job parameters
-- from the same variables the statements below use, so the harness reads
-- them back from the running job (GET /jobs/<id>/config, user-config) into
-- each run directory, and `tpcds-bench gate` refuses runs whose settings differ.
SET 'pipeline.global-job-parameters' = 'checkpoint.interval:${CHECKPOINT_INTERVAL},cdc.debezium.poll.interval.ms:${CDC_POLL_INTERVAL_MS},cdc.debezium.connect.keep.alive.interval.ms:${CDC_KEEPALIVE_INTERVAL_MS},kafka.sink.delivery-guarantee:${KAFKA_DELIVERY_GUARANTEE},kafka.properties.linger.ms:${KAFKA_LINGER_MS}';
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
  'server-id' = '${CDC_SERVER_ID_KAFKA_SALES}',
  'server-time-zone' = '${MYSQL_SERVER_TIME_ZONE}',
  'scan.startup.mode' = 'initial',
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
  'server-id' = '${CDC_SERVER_ID_KAFKA_RETURNS}',
  'server-time-zone' = '${MYSQL_SERVER_TIME_ZONE}',
  'scan.startup.mode' = 'initial',
  'debezium.poll.interval.ms' = '${CDC_POLL_INTERVAL_MS}',
  'debezium.connect.keep.alive.interval.ms' = '${CDC_KEEPALIVE_INTERVAL_MS}',
  'jdbc.properties.useSSL' = 'false'
);

-- debezium-json carries inserts, updates and deletes: {"before":..,"after":..,
-- "op":"c"|"d"}; Flink writes an update as a "d" of the old image followed by
-- a "c" of the new one. Decimals as plain numbers, timestamps in ISO-8601.
-- The record key is the primary key (JSON), so a key's changes stay in order
-- on one partition and the topic could be compacted.
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
  updated_at            TIMESTAMP(6) NOT NULL,
  PRIMARY KEY (ss_item_sk, ss_ticket_number) NOT ENFORCED
) WITH (
  'connector' = 'kafka',
  'topic' = 'tpcds.store_sales',
  'properties.bootstrap.servers' = '${KAFKA_BOOTSTRAP}',
  'key.format' = 'json',
  'key.fields' = 'ss_item_sk;ss_ticket_number',
  'value.format' = 'debezium-json',
  'value.debezium-json.encode.decimal-as-plain-number' = 'true',
  'value.debezium-json.timestamp-format.standard' = 'ISO-8601',
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
  updated_at            TIMESTAMP(6) NOT NULL,
  PRIMARY KEY (sr_item_sk, sr_ticket_number) NOT ENFORCED
) WITH (
  'connector' = 'kafka',
  'topic' = 'tpcds.store_returns',
  'properties.bootstrap.servers' = '${KAFKA_BOOTSTRAP}',
  'key.format' = 'json',
  'key.fields' = 'sr_item_sk;sr_ticket_number',
  'value.format' = 'debezium-json',
  'value.debezium-json.encode.decimal-as-plain-number' = 'true',
  'value.debezium-json.timestamp-format.standard' = 'ISO-8601',
  'sink.delivery-guarantee' = '${KAFKA_DELIVERY_GUARANTEE}',
  'sink.transactional-id-prefix' = 'tpcds-cdc-returns',
  'properties.linger.ms' = '${KAFKA_LINGER_MS}'
);

EXECUTE STATEMENT SET
BEGIN
  INSERT INTO kafka_store_sales SELECT * FROM mysql_store_sales;
  INSERT INTO kafka_store_returns SELECT * FROM mysql_store_returns;
END;
