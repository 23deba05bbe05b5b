#!/usr/bin/env bash
# What of the store_sales row costs MariaDB its single-row rate: sysbench
# writes the harness's row (scripts/bench/capacity-store-sales.lua) into variants of
# the table, next to oltp_insert, ROUNDS times in turn, on the running stack's
# MariaDB. Prints rows/s per variant and round. A throwaway database per
# variant (capacity_row_*), dropped at the end; business_db is only read.
#
#   scripts/bench/capacity-row-variants.sh            # 4 threads, 15 s each, 2 rounds
#   THREADS=8 SECONDS_EACH=30 ROUNDS=3 scripts/bench/capacity-row-variants.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${MYSQL_HOST:=127.0.0.1}" "${MYSQL_PORT:=3306}" "${MYSQL_USER:=root}" "${MYSQL_PASSWORD:=root123}"
: "${THREADS:=4}" "${SECONDS_EACH:=15}" "${ROUNDS:=2}"
q() { mariadb --protocol=TCP -h "$MYSQL_HOST" -P "$MYSQL_PORT" -u "$MYSQL_USER" -p"$MYSQL_PASSWORD" -N -B -e "$1"; }
command -v sysbench >/dev/null || { echo "capacity-row-variants: sysbench is missing (scripts/setup-deps.sh installs it)" >&2; exit 3; }
q 'SELECT 1' >/dev/null || { echo "capacity-row-variants: MariaDB does not answer (scripts/stack.sh up)" >&2; exit 3; }
CONN=(--db-driver=mysql --mysql-host="$MYSQL_HOST" --mysql-port="$MYSQL_PORT" --mysql-user="$MYSQL_USER" --mysql-password="$MYSQL_PASSWORD")
RUN=(--threads="$THREADS" --time="$SECONDS_EACH" --report-interval=0 run)
rate() { sed -n 's/^ *transactions: *[0-9]* *(\([0-9.]*\) per sec.)/\1/p'; }
# name → ALTER applied to a copy of business_db.store_sales
declare -A ALTER=(
  [as_is]=""
  [no_second_index]="DROP KEY idx_ss_ticket"
  [no_updated_at]="DROP COLUMN updated_at"
  [ticket_first_key]="DROP PRIMARY KEY, ADD PRIMARY KEY (ss_ticket_number, ss_item_sk)"
  [all_three]="DROP KEY idx_ss_ticket, DROP COLUMN updated_at, DROP PRIMARY KEY, ADD PRIMARY KEY (ss_ticket_number, ss_item_sk)"
)
ORDER=(as_is no_second_index no_updated_at ticket_first_key all_three)
trap 'for v in "${ORDER[@]}" sb; do q "DROP DATABASE IF EXISTS capacity_row_$v" || true; done' EXIT
printf '| round | oltp_insert |'; printf ' %s |' "${ORDER[@]}"; printf '\n|---|---|'; printf -- '---|%.0s' "${ORDER[@]}"; printf '\n'
for round in $(seq "$ROUNDS"); do
  SB=(sysbench oltp_insert "${CONN[@]}" --mysql-db=capacity_row_sb --tables=1 --table-size=10000)
  q "DROP DATABASE IF EXISTS capacity_row_sb; CREATE DATABASE capacity_row_sb"
  "${SB[@]}" prepare >/dev/null
  line="| $round | $("${SB[@]}" "${RUN[@]}" | rate) |"
  for v in "${ORDER[@]}"; do
    db=capacity_row_$v
    q "DROP DATABASE IF EXISTS $db; CREATE DATABASE $db; CREATE TABLE $db.store_sales LIKE business_db.store_sales"
    [ -z "${ALTER[$v]}" ] || q "ALTER TABLE $db.store_sales ${ALTER[$v]}"
    line+=" $(sysbench scripts/bench/capacity-store-sales.lua "${CONN[@]}" --mysql-db="$db" "${RUN[@]}" | rate) |"
    q "DROP DATABASE $db"
  done
  echo "$line"
done
