#!/bin/sh
# apply.sh: create the warehouse database (if missing) and the path1/path2
# tables and the derived views over them (02-derived.sql) in it, on PostgreSQL or Cloudberry/Greenplum (01-path-tables.sql
# picks the flavour). Used by scripts/stack.sh up and by docker-compose's
# warehouse-init service. Needs psql; POSIX sh.
#
# Environment (defaults = the project's conventions):
#   WAREHOUSE_HOST=127.0.0.1 WAREHOUSE_PORT=5432 WAREHOUSE_DATABASE=tpcds
#   WAREHOUSE_USER=gpadmin WAREHOUSE_PASSWORD=gpadmin
#   WAREHOUSE_WAIT_SECONDS=0   wait this long for the server to accept logins
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${WAREHOUSE_HOST:=127.0.0.1}" "${WAREHOUSE_PORT:=5432}" "${WAREHOUSE_DATABASE:=tpcds}"
: "${WAREHOUSE_USER:=gpadmin}" "${WAREHOUSE_PASSWORD:=gpadmin}" "${WAREHOUSE_WAIT_SECONDS:=0}"
export PGHOST="$WAREHOUSE_HOST" PGPORT="$WAREHOUSE_PORT" PGUSER="$WAREHOUSE_USER" PGPASSWORD="$WAREHOUSE_PASSWORD"
export PGOPTIONS='-c client_min_messages=warning' PGCONNECT_TIMEOUT=5

waited=0
until psql -X -q -d postgres -c 'SELECT 1' >/dev/null 2>&1; do
  if [ "$waited" -ge "$WAREHOUSE_WAIT_SECONDS" ]; then
    echo "warehouse-init: cannot log in to $WAREHOUSE_USER@$WAREHOUSE_HOST:$WAREHOUSE_PORT/postgres" >&2
    psql -X -q -d postgres -c 'SELECT 1' >&2 || true
    exit 3
  fi
  sleep 2
  waited=$((waited + 2))
done

exists=$(psql -X -qtA -d postgres -v db="$WAREHOUSE_DATABASE" <<'EOF'
SELECT 1 FROM pg_database WHERE datname = :'db';
EOF
)
if [ "$exists" != 1 ]; then
  psql -X -q -v ON_ERROR_STOP=1 -d postgres -v db="$WAREHOUSE_DATABASE" <<'EOF'
CREATE DATABASE :"db";
EOF
fi
psql -X -q -v ON_ERROR_STOP=1 -d "$WAREHOUSE_DATABASE" -f "$here/01-path-tables.sql"
# Derived relations (views, materialized views) over path1/path2.
psql -X -q -v ON_ERROR_STOP=1 -d "$WAREHOUSE_DATABASE" -f "$here/02-derived.sql"
