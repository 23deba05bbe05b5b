# shellcheck shell=bash
# Fault controls of the native stack: stop, kill and start one component, for
# tpcds-bench's [[faults]] and for people who want to see the pipeline recover.
# Sourced by scripts/stack.sh after the component files.
#
#   stop COMPONENT     graceful stop (the component's own shutdown signal)
#   kill COMPONENT     SIGKILL to the component's whole process group (no shutdown)
#   start COMPONENT    start it again and wait until it answers (not the jobs)
#   pause JOB          stop one Flink job with a savepoint (JOB: a flink-sql/ file's
#                      stem, e.g. mysql-cdc-to-cloudberry)
#   resume JOB         submit that job again from its last savepoint, wait until it runs
#   can-control COMPONENT|JOB   exit 0 when this script controls it, 3 when not
#   cancel-jobs JOB... cancel jobs without a savepoint and drop their pause savepoints,
#                      so their next start is a fresh one (a CDC snapshot)
#
# Every action is idempotent (stopping a stopped component, starting a running
# one do nothing and say so) and logged with its time to .stack/logs/control.log.

CONTROL_COMPONENTS=(mysql kafka warehouse flink-jobmanager flink-taskmanager)

# The Flink jobs pause/resume act on: flink-sql/ file stems (FLINK_JOBS).
control_job_stems() { local e; for e in "${FLINK_JOBS[@]}"; do printf '%s ' "${e%%.sql:*}"; done; }

# control_job STEM: prints "FILE NAME" of that job, or fails.
control_job() {
  local e
  for e in "${FLINK_JOBS[@]}"; do
    [ "${e%%.sql:*}" = "$1" ] && { echo "${e%%:*} ${e#*:}"; return 0; }
  done
  return 1
}

control_log() { printf '%s %s\n' "$(date -u +%FT%T.%3NZ)" "$*" >>"$LOG_DIR/control.log"; }

# control_check COMPONENT: refuse (exit 3) what this script does not control:
# unknown names, external components, components this stack never started.
control_check() {
  local c=${1:-}
  if control_job "$c" >/dev/null; then
    # A job is controllable when the cluster it runs on is ours and answers.
    control_check flink-jobmanager
    flink_rest_up || {
      printf '%s [stack] ERROR: cannot control job %s: Flink REST %s does not answer\n' "$(date +%H:%M:%S)" "$c" "$FLINK_REST" >&2
      exit 3
    }
    return 0
  fi
  case " ${CONTROL_COMPONENTS[*]} " in
    *" $c "*) ;;
    *)
      printf '%s [stack] ERROR: cannot control "%s": not a component of the native stack (valid: %s)\n' \
        "$(date +%H:%M:%S)" "$c" "${CONTROL_COMPONENTS[*]} or a job: $(control_job_stems)" >&2
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

# control_pause STEM: stop the job with a savepoint (Flink's stop, no drain:
# sources stop where they are, the sinks flush, the job ends FINISHED); the
# savepoint's path goes to $FLINK_DIR/savepoints/STEM.last for resume.
control_pause() {
  control_check "$1"
  local file name state jid trigger out status location i
  read -r file name <<<"$(control_job "$1")"
  read -r state jid _ <<<"$(flink_jobs | job_line "$name")"
  if [ "$state" != RUNNING ]; then
    log "job $1: not running ($state), nothing to pause"
    control_log "pause $1: not running ($state)"
    return 0
  fi
  mkdir -p "$FLINK_DIR/savepoints"
  control_log "pause $1 (job $jid)"
  trigger=$(curl -fsS -m 30 -X POST -H 'Content-Type: application/json' \
    -d "{\"targetDirectory\": \"file://$FLINK_DIR/savepoints\", \"drain\": false}" \
    "$FLINK_REST/jobs/$jid/stop" | python3 -c 'import json, sys; print(json.load(sys.stdin)["request-id"])') ||
    die "job $1: Flink refused stop-with-savepoint" "read $LOG_DIR/flink-jobmanager.log"
  for ((i = 0; i < 600; i++)); do
    out=$(curl -fsS -m 5 "$FLINK_REST/jobs/$jid/savepoints/$trigger" 2>/dev/null || true)
    read -r status location <<<"$(python3 -c '
import json, sys
try:
    o = json.loads(sys.argv[1])
except ValueError:
    print("PENDING"); sys.exit()
op = o.get("operation") or {}
if "failure-cause" in op:
    print("FAILED", (op["failure-cause"].get("stack-trace") or "").splitlines()[0:1])
else:
    print(o.get("status", {}).get("id", "PENDING"), op.get("location", ""))
' "$out")"
    case "$status" in
      COMPLETED) break ;;
      FAILED) die "job $1: the savepoint failed: $location" "read $LOG_DIR/flink-jobmanager.log" ;;
    esac
    sleep 0.2
  done
  [ "$status" = COMPLETED ] || die "job $1: no savepoint after 120 s" "read $LOG_DIR/flink-jobmanager.log"
  echo "$location" >"$FLINK_DIR/savepoints/$1.last"
  control_log "paused $1 (savepoint $location)"
  log "job $1 paused; savepoint $location"
}

# control_restart_jobs: each running job stopped with a savepoint and
# submitted again from it with the SQL just rendered (restart-jobs): a changed
# sink setting takes effect and the job goes on from where it stopped. A
# cancel and fresh submit instead makes the CDC sources read every table from
# the start again (minutes on a database that holds earlier runs' rows, with
# every row rewritten at the sinks): a sweep's A/B step measured that backlog,
# not the setting. Jobs that were not running are left to the fresh submit.
control_restart_jobs() {
  local entry stem
  for entry in "${FLINK_JOBS[@]}"; do
    stem=${entry%%.sql:*}
    rm -f "$FLINK_DIR/savepoints/$stem.last"
    control_pause "$stem"
    if [ -s "$FLINK_DIR/savepoints/$stem.last" ]; then
      control_resume "$stem"
    fi
  done
}

# control_cancel_jobs: cancel the jobs of FLINK_JOBS (stack.sh cancel-jobs
# narrows it to the named ones) without a savepoint and wait until each has
# ended. Their next start is fresh (restart-jobs --fresh, heal or up submit a
# job that is not running): the CDC sources snapshot every table, e.g. rows
# loaded into MySQL while they were stopped. Each job's pause savepoint record
# goes too: `resume` would otherwise restore the state of before the cancel
# (the CDC source's old binlog offset: rows loaded since come from the binlog,
# if it still holds them, instead of the snapshot).
control_cancel_jobs() {
  local entry stems=() name state jobs pending=() i
  for entry in "${FLINK_JOBS[@]}"; do stems+=("${entry%%.sql:*}"); done
  control_log "cancel-jobs ${stems[*]}"
  flink_cancel_jobs
  # flink_cancel_jobs gives each job 60 s and passes over one already
  # CANCELLING: a job must have ended before MySQL is loaded behind its back.
  for ((i = 0; i < 240; i++)); do
    jobs=$(flink_jobs) || die "cancel-jobs: the Flink REST API at $FLINK_REST stopped answering" "scripts/stack.sh status"
    pending=()
    for entry in "${FLINK_JOBS[@]}"; do
      name=${entry#*:} state=''
      read -r state _ <<<"$(job_line "$name" <<<"$jobs")"
      case "$state" in '' | CANCELED | FAILED | FINISHED | SUSPENDED) ;; *) pending+=("$name ($state)") ;; esac
    done
    [ "${#pending[@]}" -eq 0 ] && break
    sleep 0.5
  done
  [ "${#pending[@]}" -eq 0 ] || die "cancel-jobs: not ended after 2 minutes: ${pending[*]}" \
    "read $LOG_DIR/flink-jobmanager.log and $FLINK_REST, then run scripts/stack.sh cancel-jobs again"
  for entry in "${stems[@]}"; do rm -f "$FLINK_DIR/savepoints/$entry.last"; done
  control_log "cancelled ${stems[*]}"
  ok "flink: ${stems[*]} cancelled (no savepoint); scripts/stack.sh restart-jobs --fresh ${stems[*]} starts them anew"
}

# control_resume STEM: submit the job's SQL again with
# execution.savepoint.path set to its last savepoint; wait until it runs.
control_resume() {
  control_check "$1"
  local file name state sp src sql rc log=$LOG_DIR/flink-submit.log
  read -r file name <<<"$(control_job "$1")"
  read -r state _ <<<"$(flink_jobs | job_line "$name")"
  if job_active "$state"; then
    log "job $1: already $state"
    control_log "resume $1: already $state"
    return 0
  fi
  [ -s "$FLINK_DIR/savepoints/$1.last" ] ||
    die "job $1: no savepoint to resume from ($FLINK_DIR/savepoints/$1.last)" "pause it first, or run scripts/stack.sh up (a fresh start)"
  sp=$(cat "$FLINK_DIR/savepoints/$1.last")
  control_log "resume $1 from $sp"
  private_dir "$FLINK_DIR/sql" || die "cannot make $FLINK_DIR/sql private"
  # The job as `up` rendered it (this stack's settings), not this checkout's flink-sql/.
  src=$(flink_job_sql "$file") || exit 1
  sql=$FLINK_DIR/sql/resume-$file
  # Every job file starts with RESET; the savepoint path goes right after it.
  # Owner-only (umask 077): the rendered SQL holds passwords.
  (umask 077 && awk -v sp="$sp" '{ print } !done && /^RESET;/ { print "SET '"'"'execution.savepoint.path'"'"' = '"'"'" sp "'"'"';"; done = 1 }' "$src" >"$sql") ||
    die "cannot write $sql from $src"
  grep -q "execution.savepoint.path" "$sql" || die "$src has no RESET; line to put the savepoint path after"
  "$FLINK_HOME/bin/sql-client.sh" -f "$sql" >"$log" 2>&1
  rc=$?
  grep -q 'Job ID:' "$log" || sql_client_failed "$log" "$rc" "job $1: resubmitting it from savepoint $sp failed"
  flink_wait_jobs 300 "$name"
  control_log "resumed $1"
}
