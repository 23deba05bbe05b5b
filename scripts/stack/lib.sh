# shellcheck shell=bash disable=SC2034  # variables here are used by the scripts that source it
# Shared settings and helpers for scripts/stack.sh. Sourced, never run.
#
# Every endpoint and credential is an environment variable with the project's
# default; tests/stack/pipeline.rs and docker-compose.yml use the same names and
# values (scripts/check-compose.py checks that they agree).

STACK_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# --- where things live ------------------------------------------------------
: "${TPCDS_CACHE_DIR:=$STACK_ROOT/.cache}"   # downloads (Flink, Kafka, jars); safe to share between clones
: "${TPCDS_STACK_DIR:=$STACK_ROOT/.stack}"   # data, pids, logs, rendered configs of this clone's stack
TPCDS_CACHE_DIR=$(mkdir -p "$TPCDS_CACHE_DIR" && cd "$TPCDS_CACHE_DIR" && pwd)
TPCDS_STACK_DIR=$(mkdir -p "$TPCDS_STACK_DIR" && cd "$TPCDS_STACK_DIR" && pwd)
PID_DIR=$TPCDS_STACK_DIR/pids
LOG_DIR=$TPCDS_STACK_DIR/logs
mkdir -p "$PID_DIR" "$LOG_DIR"

# --- endpoints (the project's conventions) ----------------------------------
: "${MYSQL_HOST:=127.0.0.1}"
: "${MYSQL_PORT:=3306}"
: "${MYSQL_DATABASE:=business_db}"
: "${MYSQL_USER:=root}"
: "${MYSQL_PASSWORD:=root123}"
: "${MYSQL_CDC_USER:=flink_cdc}"
: "${MYSQL_CDC_PASSWORD:=flink_cdc123}"
: "${KAFKA_HOST:=127.0.0.1}"
: "${KAFKA_PORT:=9092}"
: "${KAFKA_CONTROLLER_PORT:=9093}"
: "${FLINK_HOST:=127.0.0.1}"
: "${FLINK_PORT:=8081}"
: "${WAREHOUSE_HOST:=127.0.0.1}"
: "${WAREHOUSE_PORT:=5432}"
: "${WAREHOUSE_DATABASE:=tpcds}"
: "${WAREHOUSE_USER:=gpadmin}"
: "${WAREHOUSE_PASSWORD:=gpadmin}"
# Seconds between refreshes of the PostgreSQL materialized views
# (derived.store_daily_path{1,2}_mv) by the stack's refresher.
: "${MATVIEW_REFRESH_INTERVAL:=2}"
# 1: refresh them even when no tpcds-bench derived reader is connected (by
# default refreshes pause then: a full refresh loads the warehouse).
: "${MATVIEW_REFRESH_ALWAYS:=0}"
# Components listed here (comma separated: mysql, kafka, warehouse) are not
# started by `up`: they are expected at the endpoints above and only checked
# and initialised (e.g. a Cloudberry sandbox as the warehouse).
: "${TPCDS_EXTERNAL:=}"
export MYSQL_HOST MYSQL_PORT MYSQL_DATABASE MYSQL_USER MYSQL_PASSWORD MYSQL_CDC_USER \
  MYSQL_CDC_PASSWORD KAFKA_HOST KAFKA_PORT FLINK_HOST FLINK_PORT WAREHOUSE_HOST WAREHOUSE_PORT \
  WAREHOUSE_DATABASE WAREHOUSE_USER WAREHOUSE_PASSWORD MATVIEW_REFRESH_INTERVAL MATVIEW_REFRESH_ALWAYS

# --- pinned versions ----------------------------------------------------------
FLINK_VERSION=1.20.3
KAFKA_VERSION=4.1.1
FLINK_CDC_VERSION=3.5.0
FLINK_KAFKA_CONNECTOR_VERSION=3.4.0-1.20
FLINK_JDBC_CONNECTOR_VERSION=3.3.0-1.20
MYSQL_JDBC_VERSION=8.4.0
POSTGRES_JDBC_VERSION=42.7.8
LOG4J_VERSION=2.24.3

FLINK_HOME=$TPCDS_CACHE_DIR/flink-$FLINK_VERSION
KAFKA_LIBS=$TPCDS_CACHE_DIR/kafka-$KAFKA_VERSION/libs
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

# --- what the stack was started with -----------------------------------------
# A stack directory is self-contained: `up` records here everything a later
# action needs (the Flink and Kafka distributions, PostgreSQL's binaries,
# endpoints, ports, credentials, memory), and every other action (stop, start,
# pause, resume, heal, status, …) reads them back from it and uses them over
# the caller's environment and defaults. So a control action run from another
# checkout, or by a harness built elsewhere, with TPCDS_STACK_DIR pointing here
# acts on this stack as it was started (issue 27: a resume from a second clone
# looked for Flink under that clone's .cache). The rendered Flink SQL and the
# savepoints live in $TPCDS_STACK_DIR/flink (flink.sh). Owner-only: it holds passwords.
STACK_ENV_FILE=$TPCDS_STACK_DIR/stack.env
STACK_RECORDED_VARS=(TPCDS_CACHE_DIR FLINK_HOME KAFKA_LIBS PG_BIN TPCDS_EXTERNAL
  MYSQL_HOST MYSQL_PORT MYSQL_DATABASE MYSQL_USER MYSQL_PASSWORD MYSQL_CDC_USER MYSQL_CDC_PASSWORD
  KAFKA_HOST KAFKA_PORT KAFKA_CONTROLLER_PORT FLINK_HOST FLINK_PORT FLINK_RPC_PORT FLINK_TASK_SLOTS
  FLINK_JM_MEMORY FLINK_TM_MEMORY WAREHOUSE_HOST WAREHOUSE_PORT WAREHOUSE_DATABASE WAREHOUSE_USER
  WAREHOUSE_PASSWORD)
# Not recorded: MATVIEW_REFRESH_* (changed by `scripts/stack.sh refresher`
# with a new value in the environment) and flink-sql.env's job settings
# (changed by `restart-jobs`, which re-renders the jobs).

# stack_env_record: write $STACK_ENV_FILE from the settings `up` runs with.
stack_env_record() {
  local v
  (
    umask 077
    {
      echo "# Written by scripts/stack.sh up (from $STACK_ROOT, $(date -u +%FT%TZ)); read by every other action."
      for v in "${STACK_RECORDED_VARS[@]}"; do printf '%s=%q\n' "$v" "${!v-}"; done
    } >"$STACK_ENV_FILE.tmp" && mv "$STACK_ENV_FILE.tmp" "$STACK_ENV_FILE"
  ) || die "cannot write $STACK_ENV_FILE"
}

# Every action but `up` (which records what it is given) uses what was recorded.
if [ "${STACK_ACTION:-}" != up ] && [ -f "$STACK_ENV_FILE" ]; then
  # shellcheck source=/dev/null
  . "$STACK_ENV_FILE" || die "cannot read $STACK_ENV_FILE" "run scripts/stack.sh up again from the checkout that started the stack"
fi

# --- output -----------------------------------------------------------------
if [ -t 1 ]; then C_RED=$'\e[31m'; C_GRN=$'\e[32m'; C_YEL=$'\e[33m'; C_OFF=$'\e[0m'; else C_RED=; C_GRN=; C_YEL=; C_OFF=; fi
log() { printf '%s [stack] %s\n' "$(date +%H:%M:%S)" "$*"; }
ok() { printf '%s [stack] %s%s%s\n' "$(date +%H:%M:%S)" "$C_GRN" "$*" "$C_OFF"; }
warn() { printf '%s [stack] %s%s%s\n' "$(date +%H:%M:%S)" "$C_YEL" "$*" "$C_OFF" >&2; }
# die MESSAGE [WHAT TO DO]: a failure the user has to act on.
die() {
  printf '%s [stack] %sERROR: %s%s\n' "$(date +%H:%M:%S)" "$C_RED" "$1" "$C_OFF" >&2
  [ -n "${2:-}" ] && printf '           what to do: %s\n' "$2" >&2
  exit 1
}

# private_dir DIR: DIR exists and only its owner can read it or what is in
# it (700/600), files an older stack wrote with the default umask included:
# for the rendered Flink SQL, which holds the MySQL and warehouse passwords.
# Write new files there with `(umask 077; …)`.
private_dir() {
  mkdir -p "$1" && chmod 700 "$1" && find "$1" -type f ! -perm 600 -exec chmod 600 {} +
}

is_external() { case ",$TPCDS_EXTERNAL," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

# --- Debian packages -----------------------------------------------------------
# ensure_debian_packages PKG...: install missing Debian packages without
# letting their maintainer scripts start system services (the Debian default
# MariaDB/PostgreSQL would take our ports).
ensure_debian_packages() {
  local missing=() p
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
  [ "${#missing[@]}" -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || die "missing Debian packages: ${missing[*]}" "sudo apt-get install -y ${missing[*]}"
  log "installing Debian packages: ${missing[*]}"
  local guard=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && guard=1
  fi
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"; } \
    >"$LOG_DIR/apt.log" 2>&1
  local rc=$?
  [ -n "$guard" ] && rm -f /usr/sbin/policy-rc.d
  [ "$rc" -eq 0 ] || die "apt-get install ${missing[*]} failed" "read $LOG_DIR/apt.log"
}

# --- processes ----------------------------------------------------------------
# A component's pid file holds "PID STARTTIME" of the process `up` started
# (STARTTIME from /proc/PID/stat, which survives exec but not pid reuse), so
# a recycled pid is never taken for ours.
proc_starttime() { awk '{ sub(/^.*\) /, ""); print $20 }' "/proc/$1/stat" 2>/dev/null; }
pid_of() {
  local f=$PID_DIR/$1.pid pid start
  [ -f "$f" ] || return 1
  read -r pid start <"$f"
  [ -n "$pid" ] && [ -n "$start" ] && [ "$(proc_starttime "$pid")" = "$start" ] || return 1
  echo "$pid"
}
is_running() { pid_of "$1" >/dev/null; }

# spawn NAME CMD...: start CMD detached from this shell (own session, stdin
# closed), output to logs/NAME.log, pid to pids/NAME.pid. CMD must exec its
# server so the recorded pid is the server's.
spawn() {
  local name=$1
  shift
  setsid nohup "$@" >>"$LOG_DIR/$name.log" 2>&1 </dev/null &
  echo "$! $(proc_starttime $!)" >"$PID_DIR/$name.pid"
}

# stop_component NAME [SECONDS] [SIGNAL]: send SIGNAL (default TERM) to the
# recorded pid, wait up to SECONDS, then SIGKILL.
stop_component() {
  local name=$1 grace=${2:-30} sig=${3:-TERM} pid i
  if ! pid=$(pid_of "$name"); then
    rm -f "$PID_DIR/$name.pid"
    return 0
  fi
  log "stopping $name (pid $pid)"
  kill -"$sig" "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    warn "$name (pid $pid) ignored SIG$sig for ${grace}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PID_DIR/$name.pid"
}

# port_owner PORT: "pid N (command)" of whoever listens on 127.0.0.1:PORT, or
# empty when the port is free.
port_owner() {
  local line
  line=$(ss -Hltnp "sport = :$1" 2>/dev/null | head -n 1)
  [ -n "$line" ] || return 0
  local pid
  pid=$(sed -n 's/.*pid=\([0-9]*\).*/\1/p' <<<"$line" | head -n 1)
  if [ -n "$pid" ]; then
    echo "pid $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-120))"
  else
    echo "an unknown process"
  fi
}

# require_free_port NAME PORT VAR: fail when a process that is not ours holds PORT.
require_free_port() {
  local owner
  owner=$(port_owner "$2")
  [ -z "$owner" ] && return 0
  die "$1 cannot start: port $2 is already taken by $owner" \
    "stop that process, or choose another port with $3=<port> (all endpoints are overridable)"
}

# wait_for NAME SECONDS CMD...: poll CMD until it succeeds; on timeout name the
# log to read and fail.
wait_for() {
  # STACK_START_TIMEOUT overrides every component's own limit (a busy machine).
  local name=$1 secs=${STACK_START_TIMEOUT:-$2} i
  shift 2
  for ((i = 0; i < secs * 4; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    if ! is_running "$name" && [ -f "$PID_DIR/$name.pid" ]; then
      tail -n 20 "$LOG_DIR/$name.log" >&2 || true
      rm -f "$PID_DIR/$name.pid"
      die "$name exited during start-up (last log lines above)" "read $LOG_DIR/$name.log"
    fi
    sleep 0.25
  done
  tail -n 20 "$LOG_DIR/$name.log" >&2 || true
  die "$name did not become ready within ${secs}s (last log lines above); it is still running as pid $(pid_of "$name" || echo '?')" \
    "read $LOG_DIR/$name.log, then run scripts/stack.sh down"
}

tcp_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# rss_kib PID...: resident memory (KiB) of the processes and all their
# descendants (PostgreSQL serves each connection from a child process).
rss_kib() {
  ps -e -o pid=,ppid=,rss= | awk -v roots="$*" '
    BEGIN { n = split(roots, r, " "); for (i = 1; i <= n; i++) keep[r[i]] = 1 }
    { pid[NR] = $1; ppid[NR] = $2; rss[NR] = $3 }
    END {
      for (changed = 1; changed;) {
        changed = 0
        for (i = 1; i <= NR; i++) if (!(pid[i] in keep) && (ppid[i] in keep)) { keep[pid[i]] = 1; changed = 1 }
      }
      for (i = 1; i <= NR; i++) if (pid[i] in keep) s += rss[i]
      print s + 0
    }'
}
