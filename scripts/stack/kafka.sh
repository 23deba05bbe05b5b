# shellcheck shell=bash
# Apache Kafka 4 in KRaft combined mode (one node is broker and controller),
# jars from Maven Central, data under .stack/kafka. Sourced by scripts/stack.sh.

KAFKA_DIR=$TPCDS_STACK_DIR/kafka
# The pipeline's topics. One partition each keeps every key's changes in one
# ordered log; LogAppendTime makes the record timestamp the broker's arrival
# time, which the harness reports beside its own observation time.
KAFKA_TOPICS=(tpcds.store_sales tpcds.store_returns tpcds.sales_metrics tpcds.alerts tpcds.clock_probe)

# kafka_java CLASS ARGS...: a short-lived Kafka tool (storage format, topic
# admin); the quick JIT tier and serial GC halve its start-up on 2 cores.
kafka_java() {
  java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx256m -Dlog4j2.configurationFile="$KAFKA_DIR/log4j2.yaml" -cp "$KAFKA_LIBS/*" "$@"
}

kafka_write_config() {
  mkdir -p "$KAFKA_DIR"
  cat >"$KAFKA_DIR/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$KAFKA_DIR/data
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=24
EOF
  cat >"$KAFKA_DIR/log4j2.yaml" <<'EOF'
Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: INFO
      AppenderRef:
        - ref: STDOUT
    Logger:
      - name: org.apache.kafka
        level: WARN
      - name: kafka
        level: WARN
      - name: state.change.logger
        level: WARN
EOF
}

kafka_topic_cmd() { kafka_java org.apache.kafka.tools.TopicCommand --bootstrap-server "$KAFKA_HOST:$KAFKA_PORT" "$@"; }

kafka_up() {
  if is_external kafka; then
    log "kafka: external (TPCDS_EXTERNAL), expecting it at $KAFKA_HOST:$KAFKA_PORT"
  elif is_running kafka; then
    log "kafka: already running (pid $(pid_of kafka))"
  else
    require_free_port Kafka "$KAFKA_PORT" KAFKA_PORT
    require_free_port "Kafka (controller)" "$KAFKA_CONTROLLER_PORT" KAFKA_CONTROLLER_PORT
    kafka_write_config
    if [ ! -f "$KAFKA_DIR/.formatted" ]; then
      rm -rf "$KAFKA_DIR/data"
      kafka_java kafka.tools.StorageTool format --standalone -t "$(kafka_java kafka.tools.StorageTool random-uuid)" \
        -c "$KAFKA_DIR/server.properties" >"$LOG_DIR/kafka-format.log" 2>&1 ||
        die "formatting Kafka's storage failed" "read $LOG_DIR/kafka-format.log"
      touch "$KAFKA_DIR/.formatted"
    fi
    # shellcheck disable=SC2086  # KAFKA_JAVA_AGENT (prometheus.sh): one word or none
    spawn kafka java -Xms256m -Xmx512m -XX:+UseG1GC $KAFKA_JAVA_AGENT -Dlog4j2.configurationFile="$KAFKA_DIR/log4j2.yaml" \
      -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_DIR/server.properties"
    wait_for kafka 90 tcp_open "$KAFKA_HOST" "$KAFKA_PORT"
    ok "kafka: running (pid $(pid_of kafka)) on $KAFKA_HOST:$KAFKA_PORT (KRaft, controller on $KAFKA_CONTROLLER_PORT)"
  fi
  # A restart by the fault controls keeps the topics it had.
  [ -n "${STACK_RESTART:-}" ] || kafka_create_topics
}

# kafka_create_topic NAME [FLAGS]: one of the pipeline's topics, as KAFKA_TOPICS says.
kafka_create_topic() {
  kafka_topic_cmd --create --topic "$1" --partitions 1 --replication-factor 1 \
    --config message.timestamp.type=LogAppendTime "${@:2}"
}

kafka_create_topics() {
  local have t pids=() missing=() i
  have=$(kafka_topic_cmd --list 2>"$LOG_DIR/kafka-topics.log") ||
    die "cannot list Kafka topics at $KAFKA_HOST:$KAFKA_PORT" "read $LOG_DIR/kafka-topics.log"
  for t in "${KAFKA_TOPICS[@]}"; do
    grep -qxF "$t" <<<"$have" && continue
    # One JVM per topic: in parallel, they take the time of one.
    kafka_create_topic "$t" --if-not-exists >"$LOG_DIR/kafka-topic-$t.log" 2>&1 &
    pids+=($!)
    missing+=("$t")
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || die "creating topic ${missing[$i]} failed: $(tail -n 3 "$LOG_DIR/kafka-topic-${missing[$i]}.log")"
    rm -f "$LOG_DIR/kafka-topic-${missing[$i]}.log"
    log "kafka: created topic ${missing[$i]}"
  done
}

kafka_down() { is_external kafka || stop_component kafka 60; }
