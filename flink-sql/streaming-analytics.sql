-- Streaming analytics on path 1's Kafka topics: windowed per-store sales
-- metrics to tpcds.sales_metrics and threshold alerts to tpcds.alerts.
--
-- The change events are read as plain JSON envelopes (debezium-json: op +
-- before/after images; the other formats of KAFKA_FORMAT in lines marked
-- --[format], see mysql-cdc-to-kafka.sql) so every event is an append-only
-- fact: an insert adds its new image, a delete subtracts its old image, and
-- the window sums are the net change of the store's figures in that window
-- (an update counts as -old +new). Windows run
-- on processing time so they close on schedule even when the topics are quiet.
--
-- ${VAR} placeholders: see scripts/stack/flink-sql.env.

-- Own database for this job's temporary tables, and no settings carried
-- over from a previous file, so several files can run in one SQL session.
RESET;
CREATE DATABASE IF NOT EXISTS streaming_analytics;
USE streaming_analytics;

SET 'pipeline.name' = 'tpcds-streaming-analytics';
SET 'parallelism.default' = '${JOB_PARALLELISM}';
SET 'execution.checkpointing.interval' = '${CHECKPOINT_INTERVAL}';
-- Window bounds in the results are UTC (tpcds-bench reads window_end as UTC).
SET 'table.local-time-zone' = 'UTC';

CREATE TEMPORARY TABLE sales_events (
--[debezium-json]   op STRING,
--[ogg-json]   op_type STRING,
--[canal-json|maxwell-json]   type STRING,
--[debezium-json|ogg-json]   `before` ROW<ss_item_sk INT, ss_ticket_number BIGINT, ss_store_sk INT, ss_quantity INT, ss_net_paid DECIMAL(7, 2), ss_net_profit DECIMAL(7, 2)>,
--[debezium-json|ogg-json]   `after` ROW<ss_item_sk INT, ss_ticket_number BIGINT, ss_store_sk INT, ss_quantity INT, ss_net_paid DECIMAL(7, 2), ss_net_profit DECIMAL(7, 2)>,
--[canal-json]   data ARRAY<ROW<ss_item_sk INT, ss_ticket_number BIGINT, ss_store_sk INT, ss_quantity INT, ss_net_paid DECIMAL(7, 2), ss_net_profit DECIMAL(7, 2)>>,
--[maxwell-json]   data ROW<ss_item_sk INT, ss_ticket_number BIGINT, ss_store_sk INT, ss_quantity INT, ss_net_paid DECIMAL(7, 2), ss_net_profit DECIMAL(7, 2)>,
--[upsert-kafka|json]   ss_item_sk INT,
--[upsert-kafka|json]   ss_ticket_number BIGINT,
--[upsert-kafka|json]   ss_store_sk INT,
--[upsert-kafka|json]   ss_quantity INT,
--[upsert-kafka|json]   ss_net_paid DECIMAL(7, 2),
--[upsert-kafka|json]   ss_net_profit DECIMAL(7, 2),
  proc_time AS PROCTIME()
) WITH (
  'connector' = 'kafka',
  'topic' = 'tpcds.store_sales',
  'properties.bootstrap.servers' = '${KAFKA_BOOTSTRAP}',
  'properties.group.id' = '${ANALYTICS_GROUP_ID}',
  'scan.startup.mode' = 'latest-offset',
  'format' = 'json',
  'json.ignore-parse-errors' = 'true'
);

CREATE TEMPORARY TABLE return_events (
--[debezium-json]   op STRING,
--[ogg-json]   op_type STRING,
--[canal-json|maxwell-json]   type STRING,
--[debezium-json|ogg-json]   `before` ROW<sr_item_sk INT, sr_ticket_number BIGINT, sr_store_sk INT, sr_return_amt DECIMAL(7, 2)>,
--[debezium-json|ogg-json]   `after` ROW<sr_item_sk INT, sr_ticket_number BIGINT, sr_store_sk INT, sr_return_amt DECIMAL(7, 2)>,
--[canal-json]   data ARRAY<ROW<sr_item_sk INT, sr_ticket_number BIGINT, sr_store_sk INT, sr_return_amt DECIMAL(7, 2)>>,
--[maxwell-json]   data ROW<sr_item_sk INT, sr_ticket_number BIGINT, sr_store_sk INT, sr_return_amt DECIMAL(7, 2)>,
--[upsert-kafka|json]   sr_item_sk INT,
--[upsert-kafka|json]   sr_ticket_number BIGINT,
--[upsert-kafka|json]   sr_store_sk INT,
--[upsert-kafka|json]   sr_return_amt DECIMAL(7, 2),
  proc_time AS PROCTIME()
) WITH (
  'connector' = 'kafka',
  'topic' = 'tpcds.store_returns',
  'properties.bootstrap.servers' = '${KAFKA_BOOTSTRAP}',
  'properties.group.id' = '${ANALYTICS_GROUP_ID}',
  'scan.startup.mode' = 'latest-offset',
  'format' = 'json',
  'json.ignore-parse-errors' = 'true'
);

-- One row per (window, store). Sums use DECIMAL(17, 2): DECIMAL(7, 2) holds
-- one line's money, not a window's.
CREATE TEMPORARY TABLE sales_metrics (
  window_start    TIMESTAMP(3),
  window_end      TIMESTAMP(3),
  store_sk        INT,
  change_events   BIGINT,
  tickets         BIGINT,
  net_quantity    BIGINT,
  net_paid        DECIMAL(17, 2),
  net_profit      DECIMAL(17, 2)
) WITH (
  'connector' = 'kafka',
  'topic' = 'tpcds.sales_metrics',
  'properties.bootstrap.servers' = '${KAFKA_BOOTSTRAP}',
  'format' = 'json',
  'json.encode.decimal-as-plain-number' = 'true',
  'sink.delivery-guarantee' = '${KAFKA_DELIVERY_GUARANTEE}',
  'sink.transactional-id-prefix' = 'tpcds-analytics-metrics',
  'properties.linger.ms' = '${KAFKA_LINGER_MS}'
);

CREATE TEMPORARY TABLE alerts (
  window_start    TIMESTAMP(3),
  window_end      TIMESTAMP(3),
  store_sk        INT,
  alert_type      STRING,
  metric_value    DECIMAL(17, 2),
  threshold       DECIMAL(17, 2),
  message         STRING
) WITH (
  'connector' = 'kafka',
  'topic' = 'tpcds.alerts',
  'properties.bootstrap.servers' = '${KAFKA_BOOTSTRAP}',
  'format' = 'json',
  'json.encode.decimal-as-plain-number' = 'true',
  'sink.delivery-guarantee' = '${KAFKA_DELIVERY_GUARANTEE}',
  'sink.transactional-id-prefix' = 'tpcds-analytics-alerts',
  'properties.linger.ms' = '${KAFKA_LINGER_MS}'
);

-- Every change as a signed image: +1 for a new row, -1 for a removed one
-- (an update is -old +new in every format that writes it as delete+insert;
-- upsert-kafka and json carry only new rows, so there an update counts its new
-- row without taking the old one away and a delete counts nothing).
CREATE TEMPORARY VIEW signed_sales AS
--[debezium-json] SELECT proc_time, CASE op WHEN 'd' THEN -1 ELSE 1 END AS sign, COALESCE(`after`.ss_store_sk, `before`.ss_store_sk) AS store_sk, COALESCE(`after`.ss_ticket_number, `before`.ss_ticket_number) AS ticket_number, COALESCE(`after`.ss_quantity, `before`.ss_quantity) AS quantity, CAST(COALESCE(`after`.ss_net_paid, `before`.ss_net_paid) AS DECIMAL(17, 2)) AS net_paid, CAST(COALESCE(`after`.ss_net_profit, `before`.ss_net_profit) AS DECIMAL(17, 2)) AS net_profit
--[debezium-json] FROM sales_events WHERE op IN ('c', 'd', 'r');
--[ogg-json] SELECT proc_time, CASE op_type WHEN 'D' THEN -1 ELSE 1 END AS sign, COALESCE(`after`.ss_store_sk, `before`.ss_store_sk) AS store_sk, COALESCE(`after`.ss_ticket_number, `before`.ss_ticket_number) AS ticket_number, COALESCE(`after`.ss_quantity, `before`.ss_quantity) AS quantity, CAST(COALESCE(`after`.ss_net_paid, `before`.ss_net_paid) AS DECIMAL(17, 2)) AS net_paid, CAST(COALESCE(`after`.ss_net_profit, `before`.ss_net_profit) AS DECIMAL(17, 2)) AS net_profit
--[ogg-json] FROM sales_events WHERE op_type IN ('I', 'D');
--[canal-json] SELECT proc_time, CASE type WHEN 'DELETE' THEN -1 ELSE 1 END AS sign, data[1].ss_store_sk AS store_sk, data[1].ss_ticket_number AS ticket_number, data[1].ss_quantity AS quantity, CAST(data[1].ss_net_paid AS DECIMAL(17, 2)) AS net_paid, CAST(data[1].ss_net_profit AS DECIMAL(17, 2)) AS net_profit
--[canal-json] FROM sales_events WHERE type IN ('INSERT', 'DELETE');
--[maxwell-json] SELECT proc_time, CASE type WHEN 'delete' THEN -1 ELSE 1 END AS sign, data.ss_store_sk AS store_sk, data.ss_ticket_number AS ticket_number, data.ss_quantity AS quantity, CAST(data.ss_net_paid AS DECIMAL(17, 2)) AS net_paid, CAST(data.ss_net_profit AS DECIMAL(17, 2)) AS net_profit
--[maxwell-json] FROM sales_events WHERE type IN ('insert', 'delete');
--[upsert-kafka|json] SELECT proc_time, 1 AS sign, ss_store_sk AS store_sk, ss_ticket_number AS ticket_number, ss_quantity AS quantity, CAST(ss_net_paid AS DECIMAL(17, 2)) AS net_paid, CAST(ss_net_profit AS DECIMAL(17, 2)) AS net_profit
--[upsert-kafka|json] FROM sales_events WHERE ss_ticket_number IS NOT NULL;

CREATE TEMPORARY VIEW signed_returns AS
--[debezium-json] SELECT proc_time, CASE op WHEN 'd' THEN -1 ELSE 1 END AS sign, COALESCE(`after`.sr_store_sk, `before`.sr_store_sk) AS store_sk, CAST(COALESCE(`after`.sr_return_amt, `before`.sr_return_amt) AS DECIMAL(17, 2)) AS return_amt
--[debezium-json] FROM return_events WHERE op IN ('c', 'd', 'r');
--[ogg-json] SELECT proc_time, CASE op_type WHEN 'D' THEN -1 ELSE 1 END AS sign, COALESCE(`after`.sr_store_sk, `before`.sr_store_sk) AS store_sk, CAST(COALESCE(`after`.sr_return_amt, `before`.sr_return_amt) AS DECIMAL(17, 2)) AS return_amt
--[ogg-json] FROM return_events WHERE op_type IN ('I', 'D');
--[canal-json] SELECT proc_time, CASE type WHEN 'DELETE' THEN -1 ELSE 1 END AS sign, data[1].sr_store_sk AS store_sk, CAST(data[1].sr_return_amt AS DECIMAL(17, 2)) AS return_amt
--[canal-json] FROM return_events WHERE type IN ('INSERT', 'DELETE');
--[maxwell-json] SELECT proc_time, CASE type WHEN 'delete' THEN -1 ELSE 1 END AS sign, data.sr_store_sk AS store_sk, CAST(data.sr_return_amt AS DECIMAL(17, 2)) AS return_amt
--[maxwell-json] FROM return_events WHERE type IN ('insert', 'delete');
--[upsert-kafka|json] SELECT proc_time, 1 AS sign, sr_store_sk AS store_sk, CAST(sr_return_amt AS DECIMAL(17, 2)) AS return_amt
--[upsert-kafka|json] FROM return_events WHERE sr_ticket_number IS NOT NULL;

CREATE TEMPORARY VIEW store_sales_windows AS
SELECT
  window_start, window_end, store_sk,
  COUNT(*) AS change_events,
  COUNT(DISTINCT ticket_number) AS tickets,
  CAST(SUM(sign * quantity) AS BIGINT) AS net_quantity,
  CAST(SUM(sign * net_paid) AS DECIMAL(17, 2)) AS net_paid,
  CAST(SUM(sign * net_profit) AS DECIMAL(17, 2)) AS net_profit
FROM TABLE(TUMBLE(TABLE signed_sales, DESCRIPTOR(proc_time), INTERVAL '${ANALYTICS_WINDOW_SECONDS}' SECOND))
GROUP BY window_start, window_end, store_sk;

CREATE TEMPORARY VIEW store_return_windows AS
SELECT
  window_start, window_end, store_sk,
  CAST(SUM(sign * return_amt) AS DECIMAL(17, 2)) AS return_amt
FROM TABLE(TUMBLE(TABLE signed_returns, DESCRIPTOR(proc_time), INTERVAL '${ANALYTICS_WINDOW_SECONDS}' SECOND))
GROUP BY window_start, window_end, store_sk;

EXECUTE STATEMENT SET
BEGIN
  INSERT INTO sales_metrics
  SELECT window_start, window_end, store_sk, change_events, tickets, net_quantity, net_paid, net_profit
  FROM store_sales_windows;

  INSERT INTO alerts
  SELECT window_start, window_end, store_sk, 'NEGATIVE_PROFIT', net_profit, CAST(0 AS DECIMAL(17, 2)),
         CONCAT('store ', CAST(store_sk AS STRING), ' lost ', CAST(-net_profit AS STRING),
                ' in ', '${ANALYTICS_WINDOW_SECONDS}', ' s')
  FROM store_sales_windows
  WHERE net_profit < 0
  UNION ALL
  SELECT window_start, window_end, store_sk, 'HIGH_RETURNS', return_amt,
         CAST(${ALERT_RETURN_AMT_THRESHOLD} AS DECIMAL(17, 2)),
         CONCAT('store ', CAST(store_sk AS STRING), ' returned ', CAST(return_amt AS STRING),
                ' in ', '${ANALYTICS_WINDOW_SECONDS}', ' s')
  FROM store_return_windows
  WHERE return_amt > ${ALERT_RETURN_AMT_THRESHOLD};
END;
