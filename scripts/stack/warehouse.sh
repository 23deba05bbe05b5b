# shellcheck shell=bash
# The warehouse: PostgreSQL 15 from Debian as a plain process (the stand-in
# for Cloudberry), own cluster under .stack/pg, TCP only on
# WAREHOUSE_HOST:WAREHOUSE_PORT. With TPCDS_EXTERNAL=warehouse it is any
# PostgreSQL-protocol server (e.g. a Cloudberry sandbox) that is only
# initialised. Sourced by scripts/stack.sh after lib.sh and mysql.sh.

PG_DIR=$TPCDS_STACK_DIR/pg

# as_pg CMD...: PostgreSQL refuses to run as root; run its tools as the
# Debian `postgres` user then. setpriv execs in place, so a spawned server's
# recorded pid is the postmaster's own.
AS_PG=()
if [ "$(id -u)" -eq 0 ]; then AS_PG=(setpriv --reuid=postgres --regid=postgres --init-groups --); fi
as_pg() { "${AS_PG[@]}" "$@"; }

warehouse_up() {
  if is_external warehouse; then
    log "warehouse: external (TPCDS_EXTERNAL), expecting it at $WAREHOUSE_HOST:$WAREHOUSE_PORT"
  elif is_running warehouse && ! warehouse_commit_ts_off; then
    log "warehouse: already running (pid $(pid_of warehouse))"
  else
    if is_running warehouse; then
      # Started by an older stack script: commit timestamps need a restart.
      log "warehouse: restarting to turn on track_commit_timestamp (when each row became visible)"
      stop_component warehouse 60 INT
    fi
    require_free_port PostgreSQL "$WAREHOUSE_PORT" WAREHOUSE_PORT
    mkdir -p "$PG_DIR"
    if [ ! -f "$PG_DIR/.initialised" ]; then
      log "warehouse: initialising PostgreSQL cluster in $PG_DIR/data"
      rm -rf "$PG_DIR/data" && mkdir -p "$PG_DIR/data" "$PG_DIR/run"
      [ "$(id -u)" -eq 0 ] && chown -R postgres: "$PG_DIR"
      as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
        >"$LOG_DIR/warehouse-initdb.log" 2>&1 || die "initdb failed" "read $LOG_DIR/warehouse-initdb.log"
      cat >>"$PG_DIR/data/postgresql.conf" <<EOF
# tpcds-bench native stack
listen_addresses = '$WAREHOUSE_HOST'
unix_socket_directories = '$PG_DIR/run'
max_connections = 200
shared_buffers = 256MB
timezone = 'UTC'
EOF
      # TCP clients log in with a password; the local socket stays trusted for set-up.
      cat >"$PG_DIR/data/pg_hba.conf" <<EOF
local all all trust
host all all 127.0.0.1/32 scram-sha-256
host all all ::1/128 scram-sha-256
EOF
    fi
    # The port lives on the command line so an overridden WAREHOUSE_PORT needs no re-init.
    # track_commit_timestamp: the harness reads when each row version became
    # visible (pg_xact_commit_timestamp) instead of when its poll saw it.
    spawn warehouse "${AS_PG[@]}" "$PG_BIN/postgres" -D "$PG_DIR/data" -p "$WAREHOUSE_PORT" -k "$PG_DIR/run" \
      -c track_commit_timestamp=on
    wait_for warehouse 60 as_pg "$PG_BIN/pg_isready" -q -h "$PG_DIR/run" -p "$WAREHOUSE_PORT"
    if [ ! -f "$PG_DIR/.initialised" ]; then
      as_pg psql -X -q -v ON_ERROR_STOP=1 -h "$PG_DIR/run" -p "$WAREHOUSE_PORT" -U postgres -d postgres \
        -v user="$WAREHOUSE_USER" -v pw="$WAREHOUSE_PASSWORD" <<'EOF' ||
CREATE ROLE :"user" LOGIN SUPERUSER PASSWORD :'pw';
EOF
        die "creating the role $WAREHOUSE_USER in the warehouse failed"
      touch "$PG_DIR/.initialised"
    fi
    ok "warehouse: PostgreSQL running (pid $(pid_of warehouse)) on $WAREHOUSE_HOST:$WAREHOUSE_PORT"
  fi
  local out
  out=$("$STACK_ROOT/warehouse-init/apply.sh" 2>&1) ||
    die "creating the database and the path1/path2 tables in the warehouse failed: $out" \
      "check WAREHOUSE_HOST/WAREHOUSE_PORT/WAREHOUSE_USER/WAREHOUSE_PASSWORD/WAREHOUSE_DATABASE"
  log "warehouse: ${out##*$'\n'}; database $WAREHOUSE_DATABASE, schemas path1 and path2 ready"
}

# warehouse_commit_ts_off: true when the running warehouse does not keep
# commit timestamps (a server started before the setting was added).
warehouse_commit_ts_off() {
  local v
  v=$(as_pg psql -X -At -h "$PG_DIR/run" -p "$WAREHOUSE_PORT" -U postgres -d postgres \
    -c "SHOW track_commit_timestamp" 2>/dev/null) || return 1
  [ "$v" = "off" ]
}

# refresher_up: the materialized views' scheduler (warehouse-init/refresh.sh),
# a process of the stack like the servers, logging to logs/refresher.log.
# Restarted when MATVIEW_REFRESH_INTERVAL or MATVIEW_REFRESH_ALWAYS differs
# from the running one's.
refresher_up() {
  local running want="$MATVIEW_REFRESH_INTERVAL always=$MATVIEW_REFRESH_ALWAYS"
  if is_running refresher; then
    running=$(cat "$PID_DIR/refresher.interval" 2>/dev/null)
    if [ "$running" = "$want" ]; then
      log "refresher: already running (pid $(pid_of refresher)), every ${MATVIEW_REFRESH_INTERVAL}s"
      return 0
    fi
    stop_component refresher 5
  fi
  spawn refresher "$STACK_ROOT/warehouse-init/refresh.sh"
  echo "$want" >"$PID_DIR/refresher.interval"
  ok "refresher: materialized views refreshed every ${MATVIEW_REFRESH_INTERVAL}s while a derived reader is connected (MATVIEW_REFRESH_ALWAYS=$MATVIEW_REFRESH_ALWAYS; pid $(pid_of refresher))"
}
refresher_down() { stop_component refresher 5; }

# SIGINT is PostgreSQL's fast shutdown: SIGTERM would wait for every client
# (a harness still connected) to disconnect first.
warehouse_down() { is_external warehouse || stop_component warehouse 60 INT; }
