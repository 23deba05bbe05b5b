# shellcheck shell=bash
# Flink 1.20 session cluster (one JobManager, one TaskManager) with the CDC,
# Kafka and JDBC connectors in lib/, and the pipeline's four SQL jobs.
# Sourced by scripts/stack.sh after lib.sh.

FLINK_DIR=$TPCDS_STACK_DIR/flink
FLINK_CONF=$FLINK_DIR/conf
: "${FLINK_RPC_PORT:=6123}"
: "${FLINK_TASK_SLOTS:=8}"
: "${FLINK_JM_MEMORY:=1024m}"
: "${FLINK_TM_MEMORY:=2048m}"
# The pipeline's jobs: SQL file and the pipeline.name it sets (how `up`
# recognises a job that is already running).
FLINK_JOBS=(
  "mysql-cdc-to-kafka.sql:tpcds-mysql-cdc-to-kafka"
  "kafka-to-cloudberry.sql:tpcds-kafka-to-cloudberry"
  "mysql-cdc-to-cloudberry.sql:tpcds-mysql-cdc-to-cloudberry"
  "streaming-analytics.sql:tpcds-streaming-analytics"
)
FLINK_REST=http://$FLINK_HOST:$FLINK_PORT

# Flink's scripts read their configuration and log directory from these.
export FLINK_CONF_DIR=$FLINK_CONF FLINK_LOG_DIR=$LOG_DIR FLINK_IDENT_STRING=tpcds

flink_write_config() {
  mkdir -p "$FLINK_CONF" "$FLINK_DIR/checkpoints" "$FLINK_DIR/run" "$FLINK_DIR/tmp"
  cp "$FLINK_HOME"/conf/log4j-cli.properties "$FLINK_HOME"/conf/logback-console.xml "$FLINK_CONF/"
  local java_opts
  java_opts=$(sed -n 's/^ *all: *\(--add-exports.*\)$/\1/p' "$FLINK_HOME/conf/config.yaml" | head -n 1)
  cat >"$FLINK_CONF/config.yaml" <<EOF
# Written by scripts/stack.sh up; edits are overwritten.
env.java.opts.all: $java_opts
# The SQL client is short-lived: the quick JIT tier and a simple GC start it
# in about half the time on 2 cores.
env.java.opts.client: -XX:TieredStopAtLevel=1 -XX:+UseSerialGC
env.pid.dir: $FLINK_DIR/run
io.tmp.dirs: $FLINK_DIR/tmp
jobmanager.bind-host: 127.0.0.1
jobmanager.rpc.address: 127.0.0.1
jobmanager.rpc.port: $FLINK_RPC_PORT
jobmanager.memory.process.size: $FLINK_JM_MEMORY
jobmanager.execution.failover-strategy: region
taskmanager.bind-host: 127.0.0.1
taskmanager.host: 127.0.0.1
# One slot per job at parallelism 1 would be 4; headroom for more/parallel jobs.
taskmanager.numberOfTaskSlots: $FLINK_TASK_SLOTS
taskmanager.memory.process.size: $FLINK_TM_MEMORY
# No RocksDB or batch operators here: keep managed memory small.
taskmanager.memory.managed.fraction: 0.05
parallelism.default: 1
rest.address: $FLINK_HOST
rest.bind-address: $FLINK_HOST
rest.port: $FLINK_PORT
# Cluster default; each job sets its own (flink-sql/*.sql, CHECKPOINT_INTERVAL).
execution.checkpointing.interval: 5s
state.checkpoints.dir: file://$FLINK_DIR/checkpoints
# A job that keeps failing ends up FAILED (and stack.sh up shows why) instead of
# restarting forever; 60 attempts 3 s apart ride out a killed TaskManager
# (tasks deployed to it fail fast until its heartbeat times out) or a sink
# restarting, on a busy 2-core machine (a TaskManager took 108 s to start here).
restart-strategy.type: fixed-delay
restart-strategy.fixed-delay.attempts: 60
restart-strategy.fixed-delay.delay: 3s
# A dead TaskManager is noticed after 20 s instead of 50 s (default).
heartbeat.interval: 4s
heartbeat.timeout: 20s
EOF
  prometheus_flink_config >>"$FLINK_CONF/config.yaml"
  # One log per process (its stdout, in .stack/logs), no rolling duplicates.
  cat >"$FLINK_CONF/log4j-console.properties" <<'EOF'
rootLogger.level = INFO
rootLogger.appenderRef.console.ref = ConsoleAppender
logger.pekko.name = org.apache.pekko
logger.pekko.level = WARN
logger.kafka.name = org.apache.kafka
logger.kafka.level = WARN
logger.debezium.name = io.debezium
logger.debezium.level = WARN
appender.console.name = ConsoleAppender
appender.console.type = CONSOLE
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n
EOF
}

flink_rest_up() { curl -fsS -m 2 "$FLINK_REST/overview" >/dev/null 2>&1; }
flink_tm_registered() { curl -fsS -m 2 "$FLINK_REST/overview" 2>/dev/null | grep -q '"taskmanagers":[1-9]'; }

flink_up() {
  if is_running flink-jobmanager; then
    log "flink: JobManager already running (pid $(pid_of flink-jobmanager))"
  else
    require_free_port "Flink REST" "$FLINK_PORT" FLINK_PORT
    require_free_port "Flink RPC" "$FLINK_RPC_PORT" FLINK_RPC_PORT
    flink_write_config
    spawn flink-jobmanager "$FLINK_HOME/bin/jobmanager.sh" start-foreground
    wait_for flink-jobmanager 90 flink_rest_up
  fi
  if is_running flink-taskmanager; then
    log "flink: TaskManager already running (pid $(pid_of flink-taskmanager))"
  else
    spawn flink-taskmanager "$FLINK_HOME/bin/taskmanager.sh" start-foreground
    wait_for flink-taskmanager 90 flink_tm_registered
  fi
  ok "flink: session cluster running, REST and dashboard on $FLINK_REST"
}

# flink_jobs: one line per job name, newest job of that name:
# "NAME STATE JID RUNNING_TASKS/TOTAL_TASKS" (one REST call for all).
flink_jobs() {
  curl -fsS -m 5 "$FLINK_REST/jobs/overview" 2>/dev/null | python3 -c '
import json, sys
newest = {}
for j in sorted(json.load(sys.stdin)["jobs"], key=lambda j: j["start-time"]):
    newest[j["name"]] = j
for name, j in newest.items():
    print(name, j["state"], j["jid"], "%d/%d" % (j["tasks"]["running"], j["tasks"]["total"]))
'
}

# job_line NAME < flink_jobs output: that job's "STATE JID TASKS", or nothing.
job_line() { awk -v n="$1" '$1 == n { print $2, $3, $4 }'; }

# flink_job_exception JID: the first lines of the job's root exception.
flink_job_exception() {
  curl -fsS -m 5 "$FLINK_REST/jobs/$1/exceptions" 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
text = (d.get("exceptionHistory", {}).get("entries") or [{}])[0].get("stacktrace") or d.get("root-exception") or "(no exception recorded)"
lines = [l for l in text.splitlines() if not l.lstrip().startswith("at ")]
print("\n".join(lines[:12]))
'
}

# job_active STATE: true while a job in STATE holds its slot (running or on
# its way there), so it must not be submitted a second time.
job_active() {
  case "$1" in RUNNING | CREATED | INITIALIZING | RESTARTING | RECONCILING) return 0 ;; esac
  return 1
}

# flink_render_jobs: render every job's SQL from this checkout's flink-sql/
# into $FLINK_DIR/sql/ (`up`, `restart-jobs`): the stack's record of its jobs,
# which heal and resume submit again from any checkout.
flink_render_jobs() {
  local entry file
  private_dir "$FLINK_DIR/sql" || die "cannot make $FLINK_DIR/sql private"
  export KAFKA_BOOTSTRAP=$KAFKA_HOST:$KAFKA_PORT
  for entry in "${FLINK_JOBS[@]}"; do
    file=${entry%%:*}
    (umask 077 && "$STACK_ROOT/scripts/stack/render-sql.sh" "$STACK_ROOT/flink-sql/$file" >"$FLINK_DIR/sql/$file.tmp" &&
      mv "$FLINK_DIR/sql/$file.tmp" "$FLINK_DIR/sql/$file") ||
      die "rendering flink-sql/$file failed"
  done
}

# flink_job_sql FILE: the stack's rendered SQL of a job, or die naming it.
flink_job_sql() {
  local sql=$FLINK_DIR/sql/$1
  [ -f "$sql" ] && [ -r "$sql" ] && [ -s "$sql" ] && { echo "$sql"; return 0; }
  die "cannot read the stack's rendered SQL of job ${1%.sql}: $sql (missing, empty or unreadable; scripts/stack.sh up writes it)" \
    "restore that file, or re-render and resubmit every job with scripts/stack.sh restart-jobs (TPCDS_STACK_DIR=$TPCDS_STACK_DIR)"
}

# sql_client_failed LOG RC WHAT: die naming the SQL client command, its exit
# status and the first error lines of its output (its first lines when none
# look like an error): the real cause, never a guess.
sql_client_failed() {
  local lines
  lines=$(grep -m 8 -E 'ERROR|Exception|Caused by|No such file|Permission denied|not found' "$1")
  [ -n "$lines" ] || lines=$(head -n 8 "$1")
  printf '%s\n' "$lines" | sed 's/^/           | /' >&2
  die "$3: \`$FLINK_HOME/bin/sql-client.sh -f …\` exited $2; its first error lines are above" \
    "read $1 (the rendered SQL is in $FLINK_DIR/sql/)"
}

# flink_submit_jobs: submit every job that is not already running, from the
# stack's rendered SQL, in one SQL client session (a JVM that loads the
# planner once: ~25 s of CPU per client on 2 cores, so one client, not four).
flink_submit_jobs() {
  local entry file name state files=() log=$LOG_DIR/flink-submit.log submitted jobs sql rc
  private_dir "$FLINK_DIR/sql" || die "cannot make $FLINK_DIR/sql private"
  (umask 077 && : >"$FLINK_DIR/sql/submit.sql")
  jobs=$(flink_jobs)
  for entry in "${FLINK_JOBS[@]}"; do
    file=${entry%%:*} name=${entry#*:}
    read -r state _ <<<"$(job_line "$name" <<<"$jobs")"
    if job_active "$state"; then
      log "flink: job $name already $state"
      continue
    fi
    sql=$(flink_job_sql "$file") || exit 1
    cat "$sql" >>"$FLINK_DIR/sql/submit.sql"
    files+=("$file")
  done
  [ "${#files[@]}" -gt 0 ] || return 0
  log "flink: submitting ${files[*]}"
  "$FLINK_HOME/bin/sql-client.sh" -f "$FLINK_DIR/sql/submit.sql" >"$log" 2>&1
  rc=$?
  submitted=$(grep -c 'Job ID:' "$log")
  if [ "$submitted" -ne "${#files[@]}" ]; then
    sql_client_failed "$log" "$rc" "Flink accepted $submitted of ${#files[@]} jobs (${files[*]})"
  fi
}

# flink_cancel_jobs: cancel the pipeline's running jobs (by name) and wait
# until they are gone.
flink_cancel_jobs() {
  local entry name jid state i
  for entry in "${FLINK_JOBS[@]}"; do
    name=${entry#*:}
    read -r state jid _ <<<"$(flink_jobs | job_line "$name")"
    job_active "$state" || [ "$state" = FAILING ] || continue
    log "flink: cancelling $name ($jid)"
    curl -fsS -m 10 -X PATCH "$FLINK_REST/jobs/$jid?mode=cancel" >/dev/null || die "cancelling $name failed"
    for ((i = 0; i < 120; i++)); do
      read -r state _ <<<"$(flink_jobs | job_line "$name")"
      case "$state" in CANCELED | FAILED | FINISHED) break ;; esac
      sleep 0.5
    done
  done
}

# flink_wait_jobs SECONDS [NAME...]: every job (or the jobs NAMEd) RUNNING
# with all its tasks running; a job that fails is reported with the first
# lines of its exception. A resume waits for its own job only: another job
# paused meanwhile (a second fault) is not its business.
flink_wait_jobs() {
  local deadline=$((SECONDS + $1)) entry name jid state tasks pending jobs names=("${@:2}")
  [ "${#names[@]}" -gt 0 ] || for entry in "${FLINK_JOBS[@]}"; do names+=("${entry#*:}"); done
  while :; do
    pending=()
    jobs=$(flink_jobs)
    for name in "${names[@]}"; do
      state='' jid='' tasks=''
      read -r state jid tasks <<<"$(job_line "$name" <<<"$jobs")"
      case "$state" in
        RUNNING) [ "${tasks%/*}" = "${tasks#*/}" ] || pending+=("$name ($tasks tasks running)") ;;
        FAILED | FAILING | CANCELED | CANCELLING | RESTARTING)
          if [ "$state" != RESTARTING ] || [ "$SECONDS" -ge "$deadline" ]; then
            flink_job_exception "$jid" >&2
            die "flink job $name is $state; its exception's first lines are above" \
              "fix the cause, then run scripts/stack.sh up again (it resubmits failed jobs); details: $FLINK_REST/#/job/$jid/exceptions, $LOG_DIR/flink-taskmanager.log"
          fi
          pending+=("$name (RESTARTING)")
          ;;
        "") die "flink job $name is not known to the cluster" "run scripts/stack.sh up again" ;;
        *) pending+=("$name ($state)") ;;
      esac
    done
    [ "${#pending[@]}" -eq 0 ] && break
    [ "$SECONDS" -lt "$deadline" ] || die "flink jobs not running after $1s: ${pending[*]}" \
      "read $LOG_DIR/flink-taskmanager.log and $FLINK_REST"
    sleep 1
  done
  if [ "$#" -gt 1 ]; then ok "flink: ${names[*]} RUNNING"; else ok "flink: all ${#FLINK_JOBS[@]} jobs RUNNING"; fi
}

flink_down() {
  stop_component flink-taskmanager 30
  stop_component flink-jobmanager 30
}
