#!/usr/bin/env bash
# Issue 21: what the audit costs per sink at a given size. Writes ROWS rows
# (RETURNS_PCT % of them store_returns, the rest store_sales) into an unused
# ticket range of MySQL with sql_log_bin = 0 (so the pipeline never sees them)
# and copies them byte for byte into path1 and path2 (mysql -B | psql \copy),
# then runs `tpcds-bench audit DIR` REPEATS times on a run directory whose
# summary.json names that range, and prints each sink's time as the audit
# reports it. With BEFORE=/path/to/older/tpcds-bench both binaries run on the
# same rows, alternating, so their times compare side by side. The rows are
# deleted again at the end (also with sql_log_bin = 0).
#
#   scripts/bench/audit-cost.sh                          # 300,000 rows, 3 repeats
#   ROWS=30000 REPEATS=1 scripts/bench/audit-cost.sh     # the short version
#   BEFORE=/tmp/tpcds-bench-main scripts/bench/audit-cost.sh
#   LOAD_ONLY=1 scripts/bench/audit-cost.sh              # leave the rows there (time statements
#                                                  # by hand); CLEAN_ONLY=1 deletes them
#
# Needs the stack (scripts/stack.sh up) and the mysql and psql clients; reads
# TPCDS_MYSQL_URL / TPCDS_WAREHOUSE_URL like the harness.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${ROWS:=300000}"
: "${RETURNS_PCT:=10}"
: "${REPEATS:=3}"
: "${TPCDS_MYSQL_URL:=mysql://root:root123@127.0.0.1:3306/business_db}"
: "${TPCDS_WAREHOUSE_URL:=postgres://gpadmin:gpadmin@127.0.0.1:5432/tpcds}"
if [ -z "${LOAD_ONLY:-}${CLEAN_ONLY:-}" ]; then
  # shellcheck source=harness-bin.sh
  . scripts/bench/harness-bin.sh
fi
# A range no run allocates (runs take theirs from the clock, ~1.8e18).
LO=9000000000000000000
HI=$((LO + 10000000))
RETURNS=$((ROWS * RETURNS_PCT / 100))
SALES=$((ROWS - RETURNS))

# mysql://user:pass@host:port/db → client options (the password via MYSQL_PWD,
# never on the command line).
read -r MY_USER MY_PASS MY_HOST MY_PORT MY_DB < <(python3 - "$TPCDS_MYSQL_URL" <<'PY'
import sys, urllib.parse as u
p = u.urlparse(sys.argv[1])
print(u.unquote(p.username or "root"), u.unquote(p.password or ""), p.hostname, p.port or 3306, p.path.lstrip("/"))
PY
)
my() { MYSQL_PWD=$MY_PASS mysql -u "$MY_USER" -h "$MY_HOST" -P "$MY_PORT" "$MY_DB" "$@"; }
pg() { psql -X -q -v ON_ERROR_STOP=1 "$TPCDS_WAREHOUSE_URL" "$@"; }

SS_COLS="ss_sold_date_sk, ss_sold_time_sk, ss_item_sk, ss_customer_sk, ss_cdemo_sk, ss_hdemo_sk, ss_addr_sk,
  ss_store_sk, ss_promo_sk, ss_ticket_number, ss_quantity, ss_wholesale_cost, ss_list_price, ss_sales_price,
  ss_ext_discount_amt, ss_ext_sales_price, ss_ext_wholesale_cost, ss_ext_list_price, ss_ext_tax, ss_coupon_amt,
  ss_net_paid, ss_net_paid_inc_tax, ss_net_profit, bench_ts, updated_at"
SR_COLS="sr_returned_date_sk, sr_return_time_sk, sr_item_sk, sr_customer_sk, sr_cdemo_sk, sr_hdemo_sk,
  sr_addr_sk, sr_store_sk, sr_reason_sk, sr_ticket_number, sr_return_quantity, sr_return_amt, sr_return_tax,
  sr_return_amt_inc_tax, sr_fee, sr_return_ship_cost, sr_refunded_cash, sr_reversed_charge, sr_store_credit,
  sr_net_loss, bench_ts, updated_at"

cleanup() {
  my -e "SET sql_log_bin = 0;
    DELETE FROM store_sales WHERE ss_ticket_number >= $LO AND ss_ticket_number < $HI;
    DELETE FROM store_returns WHERE sr_ticket_number >= $LO AND sr_ticket_number < $HI;"
  for p in path1 path2; do
    pg -c "DELETE FROM $p.store_sales WHERE ss_ticket_number >= $LO AND ss_ticket_number < $HI;
      DELETE FROM $p.store_returns WHERE sr_ticket_number >= $LO AND sr_ticket_number < $HI;"
  done
}
cleanup
[ -n "${CLEAN_ONLY:-}" ] && exit 0
[ -z "${LOAD_ONLY:-}" ] && trap cleanup EXIT

# n = 0 .. 999,999 from six digit tables; values spread over the columns'
# ranges, some NULL, some negative, microseconds in the timestamps.
DIGITS="(SELECT 0 d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4
  UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)"
SEQ="(SELECT a.d + 10*b.d + 100*c.d + 1000*e.d + 10000*f.d + 100000*g.d AS n
  FROM $DIGITS a, $DIGITS b, $DIGITS c, $DIGITS e, $DIGITS f, $DIGITS g) s"
echo "writing $SALES store_sales and $RETURNS store_returns rows at tickets $LO..$HI" >&2
my -e "SET sql_log_bin = 0;
INSERT INTO store_sales ($SS_COLS)
SELECT 2450000 + n % 2000, n % 86400, 1 + n % 18000, IF(n % 50 = 0, NULL, n % 100000), n % 1920800,
  n % 7200, n % 50000, 1 + n % 12, IF(n % 7 = 0, NULL, n % 300), $LO + n, 1 + n % 100,
  (n * 37 % 10000) / 100, (n * 41 % 20000) / 100, (n * 43 % 20000) / 100, (n * 47 % 500000) / 100,
  (n * 53 % 900000) / 100, (n * 59 % 900000) / 100, (n * 61 % 900000) / 100, (n * 67 % 50000) / 100,
  IF(n % 11 = 0, NULL, (n * 71 % 10000) / 100), (n * 73 % 900000) / 100, (n * 79 % 900000) / 100,
  (n * 83 % 2000000 - 1000000) / 100,
  TIMESTAMP '2026-12-05 12:00:00' + INTERVAL n * 1237 MICROSECOND,
  TIMESTAMP '2026-12-05 12:00:00' + INTERVAL n * 1931 MICROSECOND
FROM $SEQ WHERE n < $SALES;
INSERT INTO store_returns ($SR_COLS)
SELECT 2450000 + n % 2000, n % 86400, 1 + n % 18000, IF(n % 50 = 0, NULL, n % 100000), n % 1920800,
  n % 7200, n % 50000, 1 + n % 12, IF(n % 7 = 0, NULL, 1 + n % 35), $LO + n * 3, 1 + n % 100,
  (n * 37 % 500000) / 100, (n * 41 % 50000) / 100, (n * 43 % 500000) / 100, (n * 47 % 10000) / 100,
  (n * 53 % 100000) / 100, IF(n % 13 = 0, NULL, (n * 59 % 500000) / 100), (n * 61 % 500000) / 100,
  (n * 67 % 500000) / 100, (n * 71 % 1000000 - 500000) / 100,
  TIMESTAMP '2026-12-05 12:00:00' + INTERVAL n * 1237 MICROSECOND,
  TIMESTAMP '2026-12-05 12:00:00' + INTERVAL n * 1931 MICROSECOND
FROM $SEQ WHERE n < $RETURNS;"
for p in path1 path2; do
  my -B -N -e "SELECT $SS_COLS FROM store_sales WHERE ss_ticket_number >= $LO AND ss_ticket_number < $HI" |
    pg -c "\\copy $p.store_sales ($SS_COLS) FROM STDIN WITH (FORMAT text, NULL 'NULL')"
  my -B -N -e "SELECT $SR_COLS FROM store_returns WHERE sr_ticket_number >= $LO AND sr_ticket_number < $HI" |
    pg -c "\\copy $p.store_returns ($SR_COLS) FROM STDIN WITH (FORMAT text, NULL 'NULL')"
  pg -c "ANALYZE $p.store_sales; ANALYZE $p.store_returns"
done
my -e "ANALYZE TABLE store_sales, store_returns" >/dev/null
if [ -n "${LOAD_ONLY:-}" ]; then
  echo "rows left at tickets $LO..$HI" >&2
  exit 0
fi

DIR=$(mktemp -d)
python3 - "$DIR" "$LO..$HI" <<'PY'
import json, sys
d = json.load(open("tests/fixtures/runs/quickstart/summary.json"))
d["environment"]["tickets"] = sys.argv[2]
# The rows never reached Kafka (sql_log_bin = 0): the warehouse paths only.
d["sinks"].pop("kafka", None)
json.dump(d, open(f"{sys.argv[1]}/summary.json", "w"))
PY

# CPU seconds so far of MySQL (mysqld, every thread) and of the warehouse
# (the postmaster with its exited children, which is where an audit's
# backends and parallel workers end up, plus the live ones): a contended
# machine stretches wall times, CPU seconds much less.
STACK=${TPCDS_STACK_DIR:-.stack}
cpu() {
  python3 - "$STACK/pids/mysql.pid" "$STACK/pids/warehouse.pid" <<'PY'
import os, sys
tick = os.sysconf("SC_CLK_TCK")
def fields(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()
def own(pid, children=False):
    f = fields(pid)  # f[11..14]: utime stime cutime cstime
    return sum(int(x) for x in f[11:15 if children else 13])
my = int(open(sys.argv[1]).read().split()[0])
pm = int(open(sys.argv[2]).read().split()[0])
pg = own(pm, children=True)
for d in os.listdir("/proc"):
    if d.isdigit():
        try:
            if int(fields(d)[1]) == pm:
                pg += own(d)
        except (OSError, IndexError):
            pass
print(own(my) / tick, pg / tick)
PY
}

# One audit: "binary: path1 X ms, path2 Y ms; wall; CPU of each database".
once() {
  local name=$1 bin=$2 t0 t1 c0 c1
  c0=$(cpu)
  t0=$(date +%s%N)
  "$bin" audit "$DIR" --json >"$DIR/out.json" || {
    echo "$name: the audit found differences or failed" >&2
    cat "$DIR/out.json" >&2
    exit 1
  }
  t1=$(date +%s%N)
  c1=$(cpu)
  python3 - "$name" "$(( (t1 - t0) / 1000000 ))" "$ROWS" "$DIR/out.json" "$c0" "$c1" <<'PY'
import json, sys
name, wall, rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = json.load(open(sys.argv[4]))
(m0, p0), (m1, p1) = (map(float, c.split()) for c in sys.argv[5:7])
parts = []
for sink, a in r["sinks"].items():
    assert a["mismatched"] == 0 and a["rows"] == rows, (sink, a)
    parts.append(f"{sink} {a['took_ms']} ms")
print(f"{name:>6}: {', '.join(parts)}; wall {wall} ms; CPU MySQL {m1 - m0:.2f} s, "
      f"warehouse {p1 - p0:.2f} s ({(m1 - m0 + p1 - p0) * 1e6 / rows:.1f} µs per row)", flush=True)
PY
}
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for i in $(seq 1 "$REPEATS"); do
  if [ -n "${BEFORE:-}" ] && [ $((i % 2)) -eq 1 ]; then once before "$BEFORE"; fi
  once after "$BIN"
  if [ -n "${BEFORE:-}" ] && [ $((i % 2)) -eq 0 ]; then once before "$BEFORE"; fi
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
rm -rf "$DIR"
