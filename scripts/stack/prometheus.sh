# shellcheck shell=bash
# Watching a run live (issue 25): Prometheus (Debian's package) with its data
# under .stack/prometheus, scraping the harness's endpoint
# (tpcds-bench run --metrics-addr 127.0.0.1:$HARNESS_METRICS_PORT), Flink's
# Prometheus reporter, Kafka's JMX exporter agent, and MariaDB's and
# PostgreSQL's exporters (Debian's). Sourced by scripts/stack.sh after lib.sh,
# before kafka.sh and flink.sh (they read the settings below).
#
# Every port is a variable: several stacks may share a machine.

: "${PROMETHEUS_PORT:=9090}"
# Where the harness serves while a run lasts (nothing there between runs:
# Prometheus marks the target down, which is expected).
: "${HARNESS_METRICS_PORT:=9464}"
# Flink's reporter: the JobManager takes this port, the TaskManager the next.
: "${FLINK_METRICS_PORT:=9249}"
: "${KAFKA_METRICS_PORT:=9404}"
: "${MYSQL_EXPORTER_PORT:=9104}"
: "${WAREHOUSE_EXPORTER_PORT:=9187}"
# Seconds between scrapes: a run's phases last seconds, not minutes.
: "${PROMETHEUS_SCRAPE_INTERVAL:=2}"
# 0: leave Prometheus and the exporters out of `up` (the pipeline alone).
: "${STACK_PROMETHEUS:=1}"
JMX_EXPORTER_VERSION=1.0.1

PROM_DIR=$TPCDS_STACK_DIR/prometheus
JMX_EXPORTER_JAR=$TPCDS_CACHE_DIR/jmx-exporter/jmx_prometheus_javaagent-$JMX_EXPORTER_VERSION.jar
# Read by kafka.sh: Kafka's JVM serves its MBeans for Prometheus.
KAFKA_JAVA_AGENT=
if [ "$STACK_PROMETHEUS" = 1 ]; then
  KAFKA_JAVA_AGENT="-javaagent:$JMX_EXPORTER_JAR=127.0.0.1:$KAFKA_METRICS_PORT:$PROM_DIR/kafka-jmx.yaml"
fi
PROM_COMPONENTS=(prometheus mysql-exporter warehouse-exporter)
# component:VARIABLE of each port `up` checks before starting anything.
PROM_PORTS=()
if [ "$STACK_PROMETHEUS" = 1 ]; then
  PROM_PORTS=(prometheus:PROMETHEUS_PORT mysql-exporter:MYSQL_EXPORTER_PORT warehouse-exporter:WAREHOUSE_EXPORTER_PORT
    kafka:KAFKA_METRICS_PORT flink-jobmanager:FLINK_METRICS_PORT)
fi

# fetch_jmx_exporter: the JMX exporter agent from Maven Central, cached.
fetch_jmx_exporter() {
  [ -f "$JMX_EXPORTER_JAR" ] && return 0
  mkdir -p "$(dirname "$JMX_EXPORTER_JAR")"
  mvn_q dependency:copy -Dartifact="io.prometheus.jmx:jmx_prometheus_javaagent:$JMX_EXPORTER_VERSION" \
    -DoutputDirectory="$(dirname "$JMX_EXPORTER_JAR")" >"$LOG_DIR/fetch-jmx-exporter.log" 2>&1 ||
    die "downloading the JMX exporter failed" "read $LOG_DIR/fetch-jmx-exporter.log"
}

# prometheus_prepare: what Kafka and Flink need before they start (the agent
# jar and its rules); the Debian packages.
prometheus_prepare() {
  [ "$STACK_PROMETHEUS" = 1 ] || return 0
  ensure_debian_packages prometheus prometheus-mysqld-exporter prometheus-postgres-exporter
  fetch_jmx_exporter
  private_dir "$PROM_DIR"
  # Kafka: the broker's traffic per topic, log end offsets, request times.
  cat >"$PROM_DIR/kafka-jmx.yaml" <<'EOF2'
lowercaseOutputName: true
includeObjectNames:
  - "kafka.server:type=BrokerTopicMetrics,*"
  - "kafka.log:type=Log,name=LogEndOffset,*"
  - "kafka.network:type=RequestMetrics,name=TotalTimeMs,*"
  - "kafka.server:type=ReplicaManager,*"
  - "java.lang:type=Memory"
EOF2
}

# prometheus_flink_config: lines for Flink's config.yaml (the reporter jar is
# in the distribution's plugins/metrics-prometheus, which Flink loads).
prometheus_flink_config() {
  [ "$STACK_PROMETHEUS" = 1 ] || return 0
  cat <<EOF2
metrics.reporter.prom.factory.class: org.apache.flink.metrics.prometheus.PrometheusReporterFactory
metrics.reporter.prom.host: 127.0.0.1
metrics.reporter.prom.port: $FLINK_METRICS_PORT-$((FLINK_METRICS_PORT + 1))
EOF2
}

prometheus_write_config() {
  cat >"$PROM_DIR/prometheus.yml" <<EOF2
# Written by scripts/stack.sh up; edits are overwritten.
global:
  scrape_interval: ${PROMETHEUS_SCRAPE_INTERVAL}s
  scrape_timeout: ${PROMETHEUS_SCRAPE_INTERVAL}s
scrape_configs:
  - job_name: tpcds-bench
    static_configs: [{ targets: ["127.0.0.1:$HARNESS_METRICS_PORT"] }]
  - job_name: flink
    static_configs: [{ targets: ["127.0.0.1:$FLINK_METRICS_PORT", "127.0.0.1:$((FLINK_METRICS_PORT + 1))"] }]
  - job_name: kafka
    static_configs: [{ targets: ["127.0.0.1:$KAFKA_METRICS_PORT"] }]
  - job_name: mysql
    static_configs: [{ targets: ["127.0.0.1:$MYSQL_EXPORTER_PORT"] }]
  - job_name: warehouse
    static_configs: [{ targets: ["127.0.0.1:$WAREHOUSE_EXPORTER_PORT"] }]
EOF2
  # The exporters' credentials: files only this user reads.
  (
    umask 077
    printf '[client]\nuser=%s\npassword=%s\nhost=%s\nport=%s\n' \
      "$MYSQL_USER" "$MYSQL_PASSWORD" "$MYSQL_HOST" "$MYSQL_PORT" >"$PROM_DIR/mysql-exporter.cnf"
    printf 'DATA_SOURCE_NAME=postgresql://%s:%s@%s:%s/%s?sslmode=disable\n' "$WAREHOUSE_USER" \
      "$WAREHOUSE_PASSWORD" "$WAREHOUSE_HOST" "$WAREHOUSE_PORT" "$WAREHOUSE_DATABASE" >"$PROM_DIR/warehouse-exporter.env"
  )
}

prometheus_ready() { curl -fsS -m 2 "http://127.0.0.1:$PROMETHEUS_PORT/-/ready" >/dev/null 2>&1; }

# prometheus_up: the exporters and Prometheus (after the databases are up).
prometheus_up() {
  [ "$STACK_PROMETHEUS" = 1 ] || return 0
  prometheus_write_config
  if ! is_running mysql-exporter; then
    require_free_port "MariaDB's exporter" "$MYSQL_EXPORTER_PORT" MYSQL_EXPORTER_PORT
    spawn mysql-exporter prometheus-mysqld-exporter --config.my-cnf="$PROM_DIR/mysql-exporter.cnf" \
      --web.listen-address="127.0.0.1:$MYSQL_EXPORTER_PORT"
    wait_for mysql-exporter 30 tcp_open 127.0.0.1 "$MYSQL_EXPORTER_PORT"
  fi
  if ! is_running warehouse-exporter; then
    require_free_port "PostgreSQL's exporter" "$WAREHOUSE_EXPORTER_PORT" WAREHOUSE_EXPORTER_PORT
    # The DSN comes from a private file: it never shows in `ps`.
    spawn warehouse-exporter bash -c 'set -a; . "$1"; exec prometheus-postgres-exporter \
      --web.listen-address="127.0.0.1:$2"' _ "$PROM_DIR/warehouse-exporter.env" "$WAREHOUSE_EXPORTER_PORT"
    wait_for warehouse-exporter 30 tcp_open 127.0.0.1 "$WAREHOUSE_EXPORTER_PORT"
  fi
  if is_running prometheus; then
    # A changed scrape list takes effect without a restart.
    kill -HUP "$(pid_of prometheus)"
    log "prometheus: already running (pid $(pid_of prometheus)), configuration reloaded"
  else
    require_free_port Prometheus "$PROMETHEUS_PORT" PROMETHEUS_PORT
    mkdir -p "$PROM_DIR/data"
    spawn prometheus prometheus --config.file="$PROM_DIR/prometheus.yml" --storage.tsdb.path="$PROM_DIR/data" \
      --storage.tsdb.retention.time=7d --web.listen-address="127.0.0.1:$PROMETHEUS_PORT"
    wait_for prometheus 60 prometheus_ready
  fi
  # A Kafka started before this stack ran Prometheus has no agent yet.
  tcp_open 127.0.0.1 "$KAFKA_METRICS_PORT" || is_external kafka ||
    warn "kafka serves no metrics on $KAFKA_METRICS_PORT (started without the JMX agent): scripts/stack.sh stop kafka && scripts/stack.sh start kafka"
  tcp_open 127.0.0.1 "$FLINK_METRICS_PORT" ||
    warn "flink serves no metrics on $FLINK_METRICS_PORT (started without the reporter): restart the stack (down, up)"
  ok "prometheus: http://127.0.0.1:$PROMETHEUS_PORT scraping the harness (127.0.0.1:$HARNESS_METRICS_PORT), Flink, Kafka, MariaDB, PostgreSQL"
}

prometheus_down() {
  local c
  for c in "${PROM_COMPONENTS[@]}"; do stop_component "$c" 20; done
}
