#!/bin/bash
# submit-jobs.sh: the docker-compose counterpart of the job part of
# `scripts/stack.sh up`: waits for the JobManager, renders flink-sql/*.sql
# (render-sql.sh, with the service names from the compose environment) and
# submits, in one SQL client session, the jobs that are not running yet.
set -euo pipefail
# The rendered SQL (/tmp/submit.sql) holds the MySQL and warehouse passwords.
umask 077
REST=http://${FLINK_JOBMANAGER:-jobmanager}:${FLINK_REST_PORT:-8081}
JOBS=(
  "mysql-cdc-to-kafka.sql:tpcds-mysql-cdc-to-kafka"
  "kafka-to-cloudberry.sql:tpcds-kafka-to-cloudberry"
  "mysql-cdc-to-cloudberry.sql:tpcds-mysql-cdc-to-cloudberry"
  "streaming-analytics.sql:tpcds-streaming-analytics"
)

for _ in $(seq 1 90); do
  curl -fsS -m 2 "$REST/overview" | grep -q '"taskmanagers":[1-9]' && break
  sleep 2
done

# A client-only configuration pointing at the JobManager.
export FLINK_CONF_DIR=/tmp/flink-client-conf
mkdir -p "$FLINK_CONF_DIR"
cp /opt/flink/conf/log4j-cli.properties "$FLINK_CONF_DIR/"
cat >"$FLINK_CONF_DIR/config.yaml" <<CONF
rest.address: ${FLINK_JOBMANAGER:-jobmanager}
rest.port: ${FLINK_REST_PORT:-8081}
env.java.opts.client: -XX:TieredStopAtLevel=1 -XX:+UseSerialGC
CONF

running=$(curl -fsS "$REST/jobs/overview")
: >/tmp/submit.sql
for entry in "${JOBS[@]}"; do
  file=${entry%%:*} name=${entry#*:}
  # end-time -1: the job has not ended (running, starting or restarting).
  if grep -Eq "\"name\":\"$name\",\"start-time\":[0-9]+,\"end-time\":-1," <<<"$running"; then
    echo "job $name already submitted and not ended"
    continue
  fi
  /opt/tpcds/scripts/stack/render-sql.sh "/opt/tpcds/flink-sql/$file" >>/tmp/submit.sql
  echo "submitting $file"
done
[ -s /tmp/submit.sql ] || exit 0
/opt/flink/bin/sql-client.sh -f /tmp/submit.sql | tee /tmp/submit.log
grep -q 'Job ID:' /tmp/submit.log
