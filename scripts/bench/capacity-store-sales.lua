-- sysbench script for scripts/bench/capacity.sh: one autocommit INSERT of a
-- store_sales row per event (the harness's row shape: 23 TPC-DS columns and
-- bench_ts, into a table created LIKE business_db.store_sales), so the
-- harness can be compared with sysbench on the same row as well as with
-- oltp_insert's 4-column sbtest row. Text protocol, as oltp_insert.
-- Each thread writes its own ticket numbers, so keys never collide; the item
-- (the primary key's first column) is random, as the harness's is.
function thread_init()
  drv = sysbench.sql.driver()
  con = drv:connect()
  n = 0
end

function thread_done()
  con:disconnect()
end

function event()
  n = n + 1
  local ticket = (sysbench.tid + 1) * 1000000000 + n
  local r = sysbench.rand.uniform
  con:query(string.format(
    "INSERT INTO store_sales (ss_sold_date_sk,ss_sold_time_sk,ss_item_sk,ss_customer_sk," ..
    "ss_cdemo_sk,ss_hdemo_sk,ss_addr_sk,ss_store_sk,ss_promo_sk,ss_ticket_number,ss_quantity," ..
    "ss_wholesale_cost,ss_list_price,ss_sales_price,ss_ext_discount_amt,ss_ext_sales_price," ..
    "ss_ext_wholesale_cost,ss_ext_list_price,ss_ext_tax,ss_coupon_amt,ss_net_paid," ..
    "ss_net_paid_inc_tax,ss_net_profit,bench_ts) VALUES " ..
    "(2451545,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d," ..
    "12.34,20.00,18.50,1.50,37.00,24.68,40.00,2.96,0.00,37.00,39.96,12.32,NOW(6))",
    r(0, 86399), r(1, 18000), r(1, 100000), r(1, 1920800), r(1, 7200), r(1, 50000),
    r(1, 12), r(1, 300), ticket, r(1, 100)))
end
