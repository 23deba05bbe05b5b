-- Source database of the pipeline: TPC-DS store_sales / store_returns.
-- Runs unchanged on MySQL 8.0 (docker-compose, /docker-entrypoint-initdb.d)
-- and MariaDB 10.11 (native stack, scripts/stack.sh up); safe to re-run.
--
-- Columns and keys follow TPC-DS (money DECIMAL(7,2), keys INT, ticket
-- numbers BIGINT). Two harness columns follow them, both with defaults so a
-- row inserted by any client with only the key columns still flows through:
--   bench_ts    the writer's wall-clock UTC stamp of this row version
--               (the harness sets it; key + bench_ts identify one version)
--   updated_at  when the row was last written, maintained by the server
-- The server runs in UTC (default-time-zone='+00:00'), which the CDC sources'
-- server-time-zone = 'UTC' relies on.

CREATE DATABASE IF NOT EXISTS business_db
  DEFAULT CHARACTER SET utf8mb4 DEFAULT COLLATE utf8mb4_general_ci;

USE business_db;

CREATE TABLE IF NOT EXISTS store_sales (
  ss_sold_date_sk       INT,
  ss_sold_time_sk       INT,
  ss_item_sk            INT           NOT NULL,
  ss_customer_sk        INT,
  ss_cdemo_sk           INT,
  ss_hdemo_sk           INT,
  ss_addr_sk            INT,
  ss_store_sk           INT,
  ss_promo_sk           INT,
  ss_ticket_number      BIGINT        NOT NULL,
  ss_quantity           INT,
  ss_wholesale_cost     DECIMAL(7,2),
  ss_list_price         DECIMAL(7,2),
  ss_sales_price        DECIMAL(7,2),
  ss_ext_discount_amt   DECIMAL(7,2),
  ss_ext_sales_price    DECIMAL(7,2),
  ss_ext_wholesale_cost DECIMAL(7,2),
  ss_ext_list_price     DECIMAL(7,2),
  ss_ext_tax            DECIMAL(7,2),
  ss_coupon_amt         DECIMAL(7,2),
  ss_net_paid           DECIMAL(7,2),
  ss_net_paid_inc_tax   DECIMAL(7,2),
  ss_net_profit         DECIMAL(7,2),
  bench_ts              DATETIME(6)   NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at            DATETIME(6)   NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (ss_item_sk, ss_ticket_number),
  KEY idx_ss_ticket (ss_ticket_number)
) ENGINE = InnoDB;

CREATE TABLE IF NOT EXISTS store_returns (
  sr_returned_date_sk   INT,
  sr_return_time_sk     INT,
  sr_item_sk            INT           NOT NULL,
  sr_customer_sk        INT,
  sr_cdemo_sk           INT,
  sr_hdemo_sk           INT,
  sr_addr_sk            INT,
  sr_store_sk           INT,
  sr_reason_sk          INT,
  sr_ticket_number      BIGINT        NOT NULL,
  sr_return_quantity    INT,
  sr_return_amt         DECIMAL(7,2),
  sr_return_tax         DECIMAL(7,2),
  sr_return_amt_inc_tax DECIMAL(7,2),
  sr_fee                DECIMAL(7,2),
  sr_return_ship_cost   DECIMAL(7,2),
  sr_refunded_cash      DECIMAL(7,2),
  sr_reversed_charge    DECIMAL(7,2),
  sr_store_credit       DECIMAL(7,2),
  sr_net_loss           DECIMAL(7,2),
  bench_ts              DATETIME(6)   NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at            DATETIME(6)   NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (sr_item_sk, sr_ticket_number),
  KEY idx_sr_ticket (sr_ticket_number)
) ENGINE = InnoDB;

-- The CDC user: exactly the grants Flink CDC's MySQL source needs (snapshot
-- reads, listing databases, reading the binlog and its position). '%' covers
-- TCP clients; on MySQL 8.0 the compose file makes mysql_native_password the
-- default plugin so the same statement yields the same account on both.
CREATE USER IF NOT EXISTS 'flink_cdc'@'%' IDENTIFIED BY 'flink_cdc123';
GRANT SELECT, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'flink_cdc'@'%';
FLUSH PRIVILEGES;
