#!/bin/sh
# refresh.sh: the stack's scheduler for PostgreSQL's materialized views
# (derived.store_daily_path1_mv, derived.store_daily_path2_mv). A user's
# warehouse has its own scheduler (cron, pg_cron, Airflow); this stands in for
# it. A refresh starts every MATVIEW_REFRESH_INTERVAL seconds (or right after
# the previous one when that took longer), so a row that lands in pathN is in
# the matview after at most the interval plus one refresh's duration. One log
# line per refresh: start time, seconds it took. On Cloudberry the views are
# incremental and there is nothing to refresh: it says so and exits.
# It refreshes only while someone reads the derived views: a session named
# 'tpcds-bench derived reader' (tpcds-bench's view pollers) is connected, or
# MATVIEW_REFRESH_ALWAYS=1. A full refresh costs warehouse CPU that grows with
# the tables (0.7-1.0 s every 2 s at 70k rows per path on 2 cores), which would
# otherwise load every run on the stack, including runs that never read them.
# Used by scripts/stack.sh up (native) and docker-compose's matview-refresher.
#
# Environment: WAREHOUSE_HOST WAREHOUSE_PORT WAREHOUSE_DATABASE WAREHOUSE_USER
#   WAREHOUSE_PASSWORD (as apply.sh), MATVIEW_REFRESH_INTERVAL=2 (seconds),
#   MATVIEW_REFRESH_ALWAYS=0 (1: refresh even with no reader connected)
set -eu
: "${WAREHOUSE_HOST:=127.0.0.1}" "${WAREHOUSE_PORT:=5432}" "${WAREHOUSE_DATABASE:=tpcds}"
: "${WAREHOUSE_USER:=gpadmin}" "${WAREHOUSE_PASSWORD:=gpadmin}" "${MATVIEW_REFRESH_INTERVAL:=2}"
: "${MATVIEW_REFRESH_ALWAYS:=0}"
export PGHOST="$WAREHOUSE_HOST" PGPORT="$WAREHOUSE_PORT" PGUSER="$WAREHOUSE_USER" PGPASSWORD="$WAREHOUSE_PASSWORD"
export PGDATABASE="$WAREHOUSE_DATABASE" PGCONNECT_TIMEOUT=5 PGOPTIONS='-c client_min_messages=warning'

if [ "$(psql -X -qtA -c "SELECT version() ~* '(cloudberry|greenplum)'")" = t ]; then
  echo "refresh: Cloudberry/Greenplum: the derived views are INCREMENTAL MATERIALIZED VIEWs; nothing to refresh"
  exit 0
fi
echo "refresh: every ${MATVIEW_REFRESH_INTERVAL}s while a derived reader is connected (always: ${MATVIEW_REFRESH_ALWAYS}): derived.store_daily_path1_mv, derived.store_daily_path2_mv"
ms() { date +%s%3N; }
readers() {
  psql -X -qtA -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'tpcds-bench derived reader'" 2>/dev/null || echo 0
}
idle=
while :; do
  if [ "$MATVIEW_REFRESH_ALWAYS" != 1 ] && [ "$(readers)" = 0 ]; then
    [ -z "$idle" ] && echo "$(date -u +%H:%M:%S.%3N) no derived reader connected: refreshes paused"
    idle=1
    sleep 0.5
    continue
  fi
  [ -n "$idle" ] && echo "$(date -u +%H:%M:%S.%3N) a derived reader connected: refreshing"
  idle=
  t0=$(ms)
  if psql -X -q -v ON_ERROR_STOP=1 \
    -c 'REFRESH MATERIALIZED VIEW CONCURRENTLY derived.store_daily_path1_mv' \
    -c 'REFRESH MATERIALIZED VIEW CONCURRENTLY derived.store_daily_path2_mv'; then
    took=$(($(ms) - t0))
    echo "$(date -u +%H:%M:%S.%3N) refreshed in ${took} ms"
  else
    took=$(($(ms) - t0))
    echo "$(date -u +%H:%M:%S.%3N) refresh failed (retrying)" >&2
  fi
  left=$((MATVIEW_REFRESH_INTERVAL * 1000 - took))
  [ "$left" -gt 0 ] && sleep "$(printf '%d.%03d' $((left / 1000)) $((left % 1000)))"
done
