#!/usr/bin/env bash
# The pipeline under test as plain processes, no Docker:
#   MariaDB (binlog ROW) -> Flink CDC -> Kafka (KRaft) -> Flink -> PostgreSQL path1.*
#   MariaDB              -> Flink CDC ------------------------> PostgreSQL path2.*
#
#   scripts/stack.sh up                start what is not running, create schemas and topics,
#                                      submit the Flink jobs, wait until they run (idempotent)
#   scripts/stack.sh down              stop what `up` started (and only that)
#   scripts/stack.sh status            each component, its pid, endpoint, memory; the jobs
#   scripts/stack.sh refresher         (re)start the materialized views' refresher (after
#                                      changing MATVIEW_REFRESH_INTERVAL)
#   scripts/stack.sh heal              bring back what a test stopped in a stack this checkout
#                                      started: start its stopped components, resubmit jobs
#                                      that are not running; never installs or downloads
#                                      (exit 3 when this checkout did not start the stack)
#   scripts/stack.sh restart-jobs [--fresh] [JOB...]  re-render the Flink jobs (after changing a
#                                      setting of scripts/stack/flink-sql.env), or only the named
#                                      ones (flink-sql/ file stems), and restart each from a
#                                      savepoint, so it goes on where it stopped; --fresh cancels
#                                      and submits them anew (the CDC sources then read every
#                                      table from the start again: minutes on a large database);
#                                      a new KAFKA_FORMAT starts path 1's jobs fresh on emptied topics
#   scripts/stack.sh cancel-jobs JOB...  cancel the named jobs (flink-sql/ file stems) without a
#                                      savepoint, wait until they have ended and drop their pause
#                                      savepoints (idempotent); `restart-jobs --fresh JOB...` then
#                                      submits them anew, so the CDC sources snapshot every table
#                                      (e.g. after MySQL was loaded while they were stopped)
#   scripts/stack.sh logs [COMPONENT]  list the logs, or follow one (mysql, kafka, warehouse,
#                                      flink-jobmanager, flink-taskmanager, or a file name)
#   scripts/stack.sh stop|kill|start COMPONENT   fault controls: stop (graceful), SIGKILL, or
#                                      start one of mysql, kafka, warehouse, flink-jobmanager,
#                                      flink-taskmanager (idempotent; exit 3 if not ours)
#   scripts/stack.sh pause|resume JOB  stop a Flink job with a savepoint / resubmit it from
#                                      it (JOB: a flink-sql/ file's stem)
#
# Endpoints, credentials and settings come from the environment (defaults in
# scripts/stack/lib.sh and scripts/stack/flink-sql.env; docs/STACK.md lists them).
# `up` records them, the distributions' paths and the rendered job SQL in the
# stack directory; every other action uses only what is recorded there, so it
# works from any checkout with TPCDS_STACK_DIR pointing at the stack.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# lib.sh reads the stack directory's recorded settings for every action but `up`.
STACK_ACTION=${1:-}
# shellcheck source=stack/lib.sh
. "$HERE/stack/lib.sh"
# shellcheck source=stack/fetch.sh
. "$HERE/stack/fetch.sh"
# shellcheck source=stack/mysql.sh
. "$HERE/stack/mysql.sh"
# shellcheck source=stack/warehouse.sh
. "$HERE/stack/warehouse.sh"
# shellcheck source=stack/prometheus.sh
. "$HERE/stack/prometheus.sh"
# shellcheck source=stack/kafka.sh
. "$HERE/stack/kafka.sh"
# shellcheck source=stack/flink.sh
. "$HERE/stack/flink.sh"
# shellcheck source=stack/control.sh
. "$HERE/stack/control.sh"
# shellcheck source=stack/format.sh
. "$HERE/stack/format.sh"

# The processes `up` starts (pid files and logs carry these names).
COMPONENTS=(mysql warehouse kafka flink-jobmanager flink-taskmanager refresher)
[ "$STACK_PROMETHEUS" = 1 ] && COMPONENTS+=("${PROM_COMPONENTS[@]}")

# If `up` fails part-way, say which of its processes are running now, so
# nothing is left behind unnamed.
report_running_on_failure() {
  local rc=$? c running=()
  [ "$rc" -eq 0 ] && return
  for c in "${COMPONENTS[@]}"; do is_running "$c" && running+=("$c (pid $(pid_of "$c"))"); done
  if [ "${#running[@]}" -gt 0 ]; then
    printf '           still running from this stack: %s\n' "${running[*]}" >&2
    printf '           run scripts/stack.sh down to stop them, or fix the cause and run up again\n' >&2
  fi
}

# preflight_ports: before starting anything, every port a component that is
# not running yet will need must be free; name each one that is taken.
preflight_ports() {
  local spec c port var owner problems=()
  for spec in mysql:MYSQL_PORT warehouse:WAREHOUSE_PORT kafka:KAFKA_PORT kafka:KAFKA_CONTROLLER_PORT \
    flink-jobmanager:FLINK_PORT flink-jobmanager:FLINK_RPC_PORT "${PROM_PORTS[@]}"; do
    c=${spec%%:*} var=${spec#*:} port=${!var}
    is_external "$c" || is_running "$c" && continue
    owner=$(port_owner "$port")
    [ -n "$owner" ] && problems+=("$c needs port $port ($var), taken by $owner")
  done
  [ "${#problems[@]}" -eq 0 ] && return 0
  printf '           %s\n' "${problems[@]}" >&2
  die "ports needed by the stack are taken (listed above); nothing was started" \
    "stop those processes, or move the stack with the variables named (e.g. MYSQL_PORT=13306 scripts/stack.sh up)"
}

cmd_up() {
  local t0=$SECONDS
  trap report_running_on_failure EXIT
  # Tools the stack runs; Debian packages installed when missing.
  command -v java >/dev/null || ensure_debian_packages openjdk-17-jre-headless
  command -v mvn >/dev/null || ensure_debian_packages maven
  command -v curl >/dev/null || ensure_debian_packages curl
  command -v ss >/dev/null || ensure_debian_packages iproute2
  python3 -m pip --version >/dev/null 2>&1 || ensure_debian_packages python3-pip
  preflight_ports
  fetch_all
  is_external mysql || ensure_debian_packages mariadb-server mariadb-client
  is_external warehouse || ensure_debian_packages postgresql-15 postgresql-client-15
  prometheus_prepare
  stack_env_record
  # The four services do not need each other to start: start them side by
  # side (each one's messages are prefixed by its name), then the jobs.
  local pids=() names=(mysql warehouse kafka flink) i failed=()
  for i in "${names[@]}"; do
    "${i}_up" &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do wait "${pids[$i]}" || failed+=("${names[$i]}"); done
  [ "${#failed[@]}" -eq 0 ] || die "could not bring up: ${failed[*]} (messages above)"
  refresher_up
  prometheus_up
  format_apply
  flink_render_jobs
  flink_submit_jobs
  flink_wait_jobs "${STACK_JOB_TIMEOUT:-180}"
  trap - EXIT
  ok "stack up in $((SECONDS - t0))s"
  print_endpoints
}

print_endpoints() {
  cat <<EOF
  MySQL      $MYSQL_HOST:$MYSQL_PORT  database $MYSQL_DATABASE  user $MYSQL_USER (CDC user $MYSQL_CDC_USER)
  Kafka      $KAFKA_HOST:$KAFKA_PORT  topics ${KAFKA_TOPICS[*]}
  Flink      $FLINK_REST  (REST and dashboard)
  Warehouse  $WAREHOUSE_HOST:$WAREHOUSE_PORT  database $WAREHOUSE_DATABASE  user $WAREHOUSE_USER  schemas path1, path2
  Prometheus http://127.0.0.1:$PROMETHEUS_PORT  scrapes tpcds-bench run --metrics-addr 127.0.0.1:$HARNESS_METRICS_PORT
  Logs       $LOG_DIR
EOF
}

cmd_down() {
  prometheus_down
  refresher_down
  flink_down
  kafka_down
  warehouse_down
  mysql_down
  ok "stack down (data kept in $TPCDS_STACK_DIR; delete it for a fresh start)"
}

# cmd_heal: what the fault tests' clean-up runs. Unlike `up` it installs,
# downloads and initialises nothing, and acts only on a stack whose pid files
# are in this checkout's TPCDS_STACK_DIR: a test run from another checkout
# (or on a machine without a stack) must not start a second stack or install
# packages to "restore" one it never had.
cmd_heal() {
  local c
  if [ ! -f "$PID_DIR/flink-jobmanager.pid" ]; then
    printf '%s [stack] ERROR: nothing to heal: no pid file of ours in %s (this checkout did not start the running stack)\n' \
      "$(date +%H:%M:%S)" "$PID_DIR" >&2
    exit 3
  fi
  for c in "${CONTROL_COMPONENTS[@]}"; do
    is_external "${c%%-*}" || [ ! -f "$PID_DIR/$c.pid" ] || is_running "$c" || control_start "$c"
  done
  flink_rest_up || die "the Flink cluster at $FLINK_REST does not answer after heal" "scripts/stack.sh status"
  # No format_apply: heal resubmits the jobs as `up`/`restart-jobs` rendered
  # them, whose KAFKA_FORMAT is the one the topics hold.
  flink_submit_jobs
  flink_wait_jobs "${STACK_JOB_TIMEOUT:-180}"
  ok "stack healed"
}

cmd_status() {
  local c pid total=0 rss endpoint all_up=0 entry name state jid tasks jobs
  printf '%-18s %-8s %-8s %-10s %s\n' COMPONENT STATE PID RSS_MiB ENDPOINT
  for c in "${COMPONENTS[@]}"; do
    case "$c" in
      mysql) endpoint=$MYSQL_HOST:$MYSQL_PORT ;;
      warehouse) endpoint=$WAREHOUSE_HOST:$WAREHOUSE_PORT ;;
      kafka) endpoint=$KAFKA_HOST:$KAFKA_PORT ;;
      flink-jobmanager) endpoint=$FLINK_REST ;;
      prometheus) endpoint=http://127.0.0.1:$PROMETHEUS_PORT ;;
      mysql-exporter) endpoint=127.0.0.1:$MYSQL_EXPORTER_PORT ;;
      warehouse-exporter) endpoint=127.0.0.1:$WAREHOUSE_EXPORTER_PORT ;;
      *) endpoint=- ;;
    esac
    if pid=$(pid_of "$c"); then
      rss=$(rss_kib "$pid")
      total=$((total + rss))
      printf '%-18s %-8s %-8s %-10s %s\n' "$c" up "$pid" "$((rss / 1024))" "$endpoint"
    elif is_external "${c%%-*}"; then
      printf '%-18s %-8s %-8s %-10s %s\n' "$c" external - - "$endpoint"
    else
      printf '%-18s %-8s %-8s %-10s %s\n' "$c" down - - "$endpoint"
      all_up=1
    fi
  done
  printf '%-18s %-8s %-8s %-10s\n' total "" "" "$((total / 1024))"
  if flink_rest_up; then
    echo
    printf '%-32s %-12s %-8s %s\n' JOB STATE TASKS ID
    jobs=$(flink_jobs)
    for entry in "${FLINK_JOBS[@]}"; do
      name=${entry#*:} state=- jid=- tasks=-
      read -r state jid tasks <<<"$(job_line "$name" <<<"$jobs")"
      printf '%-32s %-12s %-8s %s\n' "$name" "${state:--}" "${tasks:--}" "${jid:--}"
      [ "$state" = RUNNING ] || all_up=1
    done
  fi
  return "$all_up"
}

cmd_logs() {
  if [ $# -eq 0 ]; then
    ls -1 "$LOG_DIR"
    echo "follow one with: scripts/stack.sh logs COMPONENT" >&2
    return
  fi
  local f=$LOG_DIR/$1
  [ -f "$f" ] || f=$LOG_DIR/$1.log
  [ -f "$f" ] || die "no log called $1 in $LOG_DIR" "scripts/stack.sh logs (lists them)"
  exec tail -n 100 -F "$f"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  heal) cmd_heal ;;
  restart-jobs)
    shift
    flink_rest_up || die "the Flink cluster at $FLINK_REST is not running" "scripts/stack.sh up"
    fresh=0 picked=()
    for arg in "$@"; do
      case "$arg" in
        --fresh) fresh=1 ;;
        *)
          entry=$(control_job "$arg") || die "restart-jobs: no job called $arg" \
            "scripts/stack.sh restart-jobs [--fresh] [JOB...], JOB one of $(control_job_stems)"
          picked+=("${entry%% *}:${entry#* }")
          ;;
      esac
    done
    # Only the named jobs: FLINK_JOBS narrowed for render, restart, submit and wait.
    [ "${#picked[@]}" -eq 0 ] || FLINK_JOBS=("${picked[@]}")
    # A new KAFKA_FORMAT first: it cancels path 1's jobs (adding any not named
    # to FLINK_JOBS) and empties their topics, so those start fresh below; a
    # savepoint of the old format's jobs would read the new topics wrongly.
    format_apply
    flink_render_jobs
    if [ "$fresh" = 1 ]; then
      flink_cancel_jobs
    else
      control_restart_jobs
    fi
    # Jobs that were not running (or --fresh) start anew.
    flink_submit_jobs
    flink_wait_jobs "${STACK_JOB_TIMEOUT:-180}"
    ;;
  cancel-jobs)
    shift
    [ $# -gt 0 ] || die "usage: scripts/stack.sh cancel-jobs JOB..." "JOB one or more of $(control_job_stems)"
    picked=()
    for arg in "$@"; do
      entry=$(control_job "$arg") || die "cancel-jobs: no job called $arg" \
        "scripts/stack.sh cancel-jobs JOB..., JOB one of $(control_job_stems)"
      picked+=("${entry%% *}:${entry#* }")
    done
    flink_rest_up || die "the Flink cluster at $FLINK_REST is not running" "scripts/stack.sh up"
    # Only the named jobs: FLINK_JOBS narrowed for the cancel, as restart-jobs does.
    FLINK_JOBS=("${picked[@]}")
    control_cancel_jobs
    ;;
  refresher) refresher_up ;;
  logs)
    shift
    cmd_logs "$@"
    ;;
  stop | kill | start | pause | resume | can-control)
    action=$1
    shift
    [ $# -eq 1 ] || die "usage: scripts/stack.sh $action COMPONENT|JOB" \
      "COMPONENT is one of ${CONTROL_COMPONENTS[*]}; JOB (pause, resume) one of $(control_job_stems)"
    case "$action" in
      stop) control_stop "$1" ;;
      kill) control_kill "$1" ;;
      start) control_start "$1" ;;
      pause) control_pause "$1" ;;
      resume) control_resume "$1" ;;
      can-control) control_check "$1" ;;
    esac
    ;;
  *)
    sed -n '2,34p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
