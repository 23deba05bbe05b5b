# shellcheck shell=bash
# KAFKA_FORMAT (scripts/stack/flink-sql.env): the changelog format of path 1's
# topics. A topic holds one format only (a reader of another format fails on,
# or silently drops, the old records; upsert-kafka rereads a topic from its
# start), so the stack records the format its topics hold in
# $KAFKA_DIR/format, and before jobs are rendered (up, restart-jobs)
# a different KAFKA_FORMAT empties the two topics: the jobs that use them
# are cancelled, the topics deleted and created again.
# Sourced by scripts/stack.sh after kafka.sh and flink.sh.

# The jobs whose SQL depends on KAFKA_FORMAT (entries of FLINK_JOBS).
FORMAT_JOBS=(
  "mysql-cdc-to-kafka.sql:tpcds-mysql-cdc-to-kafka"
  "kafka-to-cloudberry.sql:tpcds-kafka-to-cloudberry"
  "streaming-analytics.sql:tpcds-streaming-analytics"
)
FORMAT_TOPICS=(tpcds.store_sales tpcds.store_returns)

# format_wanted: KAFKA_FORMAT as flink-sql.env resolves it (its default, or
# the environment's); fails, saying which are valid, on an unknown one.
format_wanted() { (. "$STACK_ROOT/scripts/stack/flink-sql.env" && echo "$KAFKA_FORMAT"); }

# format_recorded: what the topics hold; a stack from before KAFKA_FORMAT
# existed wrote debezium-json.
format_recorded() { cat "$KAFKA_DIR/format" 2>/dev/null || echo debezium-json; }

# format_apply: make the topics hold KAFKA_FORMAT before jobs are submitted.
format_apply() {
  local want have t pids=() i
  want=$(format_wanted) || die "KAFKA_FORMAT is not valid (above)" "set KAFKA_FORMAT to one of the formats named"
  have=$(format_recorded)
  [ "$want" = "$have" ] && return 0
  is_external kafka && die "KAFKA_FORMAT=$want, but the external Kafka's topics hold $have" \
    "empty ${FORMAT_TOPICS[*]} yourself, then: echo $want >$KAFKA_DIR/format"
  log "kafka: switching the changelog format from $have to $want: cancelling the jobs that use ${FORMAT_TOPICS[*]} and emptying them"
  (
    # flink_cancel_jobs acts on FLINK_JOBS: here, only the format's jobs.
    FLINK_JOBS=("${FORMAT_JOBS[@]}")
    flink_cancel_jobs
  ) || die "cancelling the jobs of the old format failed"
  # One JVM for both (the topic name is a regular expression), and none to
  # list: each Kafka tool costs seconds of CPU on a busy 2-core machine.
  kafka_topic_cmd --delete --if-exists --topic "$(IFS='|' && echo "${FORMAT_TOPICS[*]}" | sed 's/\./\\./g')" \
    >"$LOG_DIR/kafka-topic-delete.log" 2>&1 ||
    die "deleting ${FORMAT_TOPICS[*]} failed: $(tail -n 3 "$LOG_DIR/kafka-topic-delete.log")"
  for t in "${FORMAT_TOPICS[@]}"; do
    (
      # Deletion completes in the background: a topic still being deleted
      # cannot be created again yet.
      for ((i = 0; i < 30; i++)); do
        kafka_create_topic "$t" >"$LOG_DIR/kafka-topic-$t.log" 2>&1 && exit 0
        sleep 1
      done
      exit 1
    ) &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || die "creating topic ${FORMAT_TOPICS[$i]} again failed: $(tail -n 3 "$LOG_DIR/kafka-topic-${FORMAT_TOPICS[$i]}.log")"
    rm -f "$LOG_DIR/kafka-topic-${FORMAT_TOPICS[$i]}.log"
  done
  echo "$want" >"$KAFKA_DIR/format"
  # restart-jobs may have named only some jobs: all of the format's jobs were
  # cancelled above and are submitted again.
  local e
  for e in "${FORMAT_JOBS[@]}"; do
    [[ " ${FLINK_JOBS[*]} " == *" $e "* ]] || FLINK_JOBS+=("$e")
  done
  ok "kafka: ${FORMAT_TOPICS[*]} emptied; they now carry $want"
}
