# shellcheck shell=bash
# Fault controls of the native stack: stop, kill and start one component, for
# tpcds-bench's [[faults]] and for people who want to see the pipeline recover.
# Sourced by scripts/stack.sh after the component files.
#
#   stop COMPONENT     graceful stop (the component's own shutdown signal)
#   kill COMPONENT     SIGKILL to the component's whole process group (no shutdown)
#   start COMPONENT    start it again and wait until it answers (not the jobs)
#   can-control COMPONENT   exit 0 when this script controls it, 3 when not
#
# Every action is idempotent (stopping a stopped component, starting a running
# one do nothing and say so) and logged with its time to .stack/logs/control.log.

CONTROL_COMPONENTS=(mysql kafka warehouse flink-jobmanager flink-taskmanager)

control_log() { printf '%s %s\n' "$(date -u +%FT%T.%3NZ)" "$*" >>"$LOG_DIR/control.log"; }

# control_check COMPONENT: refuse (exit 3) what this script does not control:
# unknown names, external components, components this stack never started.
control_check() {
  local c=${1:-}
  case " ${CONTROL_COMPONENTS[*]} " in
    *" $c "*) ;;
    *)
      printf '%s [stack] ERROR: cannot control "%s": not a component of the native stack (valid: %s)\n' \
        "$(date +%H:%M:%S)" "$c" "${CONTROL_COMPONENTS[*]}" >&2
      exit 3
      ;;
  esac
  if is_external "${c%%-*}"; then
    printf '%s [stack] ERROR: cannot control %s: it is external (TPCDS_EXTERNAL=%s), not started by this stack\n' \
      "$(date +%H:%M:%S)" "$c" "$TPCDS_EXTERNAL" >&2
    exit 3
  fi
  if [ ! -f "$PID_DIR/$c.pid" ]; then
    printf '%s [stack] ERROR: cannot control %s: no pid file of ours in %s (start the stack with scripts/stack.sh up, or point TPCDS_STACK_DIR at its directory)\n' \
      "$(date +%H:%M:%S)" "$c" "$PID_DIR" >&2
    exit 3
  fi
}

# The signal each component shuts down cleanly and quickly on.
control_stop_signal() { case "$1" in warehouse) echo INT ;; *) echo TERM ;; esac; }

control_stop() {
  control_check "$1"
  if ! is_running "$1"; then
    log "$1: already stopped"
    control_log "stop $1: already stopped"
    return 0
  fi
  control_log "stop $1 (pid $(pid_of "$1"))"
  # Keep the pid file's name so can-control still knows the component is ours.
  local line
  line=$(cat "$PID_DIR/$1.pid")
  stop_component "$1" 60 "$(control_stop_signal "$1")"
  echo "$line" >"$PID_DIR/$1.pid"
  control_log "stopped $1"
}

control_kill() {
  control_check "$1"
  local pid
  if ! pid=$(pid_of "$1"); then
    log "$1: already stopped"
    control_log "kill $1: already stopped"
    return 0
  fi
  control_log "kill $1 (pid $pid, SIGKILL to its process group)"
  log "killing $1 (pid $pid, SIGKILL)"
  # spawn ran it with setsid: its process group holds the server and its
  # children (PostgreSQL backends would otherwise keep the shared memory).
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  control_log "killed $1"
}

control_tm_ids() {
  curl -fsS -m 2 "$FLINK_REST/taskmanagers" 2>/dev/null |
    python3 -c 'import json, sys; print("\n".join(t["id"] for t in json.load(sys.stdin)["taskmanagers"]))'
}
control_new_tm() { comm -13 <(sort <<<"$1") <(control_tm_ids | sort) | grep -q .; }

control_start() {
  control_check "$1"
  if is_running "$1"; then
    log "$1: already running (pid $(pid_of "$1"))"
    control_log "start $1: already running"
    return 0
  fi
  control_log "start $1"
  # A restart reuses the existing schemas and topics: skip the set-up steps
  # that cost a JVM each (topic listing). A busy machine gets 5 minutes.
  STACK_RESTART=1
  : "${STACK_START_TIMEOUT:=300}"
  export STACK_START_TIMEOUT
  case "$1" in
    mysql | kafka | warehouse)
      # The stack's ports may lie in the ephemeral range: a client retrying
      # against a stopped server can end up holding the server's port
      # (seen: Kafka "Address already in use"); such a start is tried again.
      local attempt
      for attempt in 1 2 3; do
        ("${1}_up") && break
        [ "$attempt" = 3 ] && die "$1 did not start after 3 attempts" "read $LOG_DIR/$1.log"
        warn "$1: start attempt $attempt failed; trying again in 2 s"
        stop_component "$1" 30 KILL
        sleep 2
      done
      ;;
    flink-jobmanager) flink_up ;;
    flink-taskmanager)
      # A killed TaskManager stays registered until its heartbeat times out:
      # wait for the new one, not for the ghost of the old one.
      local before
      before=$(control_tm_ids)
      flink_up
      wait_for flink-taskmanager 90 control_new_tm "$before"
      ;;
  esac
  control_log "started $1 (pid $(pid_of "$1"))"
}
