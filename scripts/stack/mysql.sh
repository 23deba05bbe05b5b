# shellcheck shell=bash
# MariaDB from Debian as a plain process: own datadir under .stack/mysql,
# binlog ROW / FULL row image, UTC, bound to MYSQL_HOST:MYSQL_PORT.
# Sourced by scripts/stack.sh after lib.sh.

MYSQL_DIR=$TPCDS_STACK_DIR/mysql

# mysql_cli [ARGS...]: the MariaDB client over TCP as MYSQL_USER (password via
# the environment, never on the command line).
mysql_cli() {
  MYSQL_PWD=$MYSQL_PASSWORD mariadb --protocol=TCP -h "$MYSQL_HOST" -P "$MYSQL_PORT" -u "$MYSQL_USER" \
    --batch --skip-column-names "$@"
}

# sql_quote VALUE: VALUE as a MariaDB string literal, so a password is data,
# never SQL: single quotes and backslashes doubled (the server's default
# sql_mode treats a backslash as an escape), the whole in single quotes.
sql_quote() {
  local v=${1//\\/\\\\}
  v=${v//\'/\'\'}
  printf "'%s'" "$v"
}

# sql_identifier NAME WHAT: NAME when it is a plain identifier (it is
# spliced into SQL unquoted), else die.
sql_identifier() {
  [[ $1 =~ ^[A-Za-z0-9_]+$ ]] || die "$2 '$1' is not a plain identifier" "use letters, digits and _ only"
  printf '%s' "$1"
}

mysql_write_config() {
  mkdir -p "$MYSQL_DIR/data"
  {
    echo "[mysqld]"
    [ "$(id -u)" -eq 0 ] && echo "user = root"
    cat <<EOF
datadir = $MYSQL_DIR/data
socket = $MYSQL_DIR/mysqld.sock
pid-file = $MYSQL_DIR/mysqld.pid
bind-address = $MYSQL_HOST
port = $MYSQL_PORT
skip-name-resolve
# What Flink CDC validates: row-based binlog with full row images, UTC.
server_id = 1
log_bin = $MYSQL_DIR/data/binlog
binlog_format = ROW
binlog_row_image = FULL
binlog_expire_logs_seconds = 86400
default-time-zone = '+00:00'
character-set-server = utf8mb4
collation-server = utf8mb4_general_ci
# Room for the run's rows: the audit reads a run's ticket range through
# idx_ss_ticket, one primary-key lookup a row; with 256M and a table of 3.9 M
# rows (737 MB) MySQL's side of the audit of a 5-minute run took 13-15 s,
# with 2G 5-6 s (docs/RESULTS.md, "The audit's cost"). Allocated as used.
innodb_buffer_pool_size = 2G
max_connections = 300
EOF
  } >"$MYSQL_DIR/my.cnf"
}

mysql_up() {
  if is_external mysql; then
    log "mysql: external (TPCDS_EXTERNAL), expecting it at $MYSQL_HOST:$MYSQL_PORT"
  elif is_running mysql; then
    log "mysql: already running (pid $(pid_of mysql))"
  else
    require_free_port MySQL "$MYSQL_PORT" MYSQL_PORT
    mysql_write_config
    if [ ! -f "$MYSQL_DIR/.initialised" ]; then
      log "mysql: initialising datadir $MYSQL_DIR/data"
      rm -rf "$MYSQL_DIR/data" && mkdir -p "$MYSQL_DIR/data"
      mariadb-install-db --defaults-file="$MYSQL_DIR/my.cnf" --auth-root-authentication-method=normal \
        --skip-test-db >"$LOG_DIR/mysql-install.log" 2>&1 ||
        die "mariadb-install-db failed" "read $LOG_DIR/mysql-install.log"
    fi
    # Until root has a password, talk to the server over its own socket
    # (the client would otherwise follow MYSQL_HOST to whatever is there).
    spawn mysql mariadbd --defaults-file="$MYSQL_DIR/my.cnf"
    wait_for mysql 60 env -u MYSQL_HOST mariadb-admin --protocol=SOCKET -h localhost --socket="$MYSQL_DIR/mysqld.sock" -u root ping --connect-timeout=1
    if [ ! -f "$MYSQL_DIR/.initialised" ]; then
      # Fresh datadir: root gets its password, for local and TCP clients; the
      # password-less root@127.0.0.1/::1/hostname accounts install-db made go.
      local pw
      pw=$(sql_quote "$MYSQL_PASSWORD")
      env -u MYSQL_HOST mariadb --protocol=SOCKET -h localhost --socket="$MYSQL_DIR/mysqld.sock" -u root <<EOF || die "setting the MySQL root password failed"
ALTER USER 'root'@'localhost' IDENTIFIED BY $pw;
CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY $pw;
GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;
SELECT IFNULL(CONCAT('DROP USER ', GROUP_CONCAT(CONCAT('root@', QUOTE(host)))), 'DO 0') INTO @drop_extra_roots
  FROM mysql.user WHERE user = 'root' AND host NOT IN ('localhost', '%');
EXECUTE IMMEDIATE @drop_extra_roots;
FLUSH PRIVILEGES;
EOF
      touch "$MYSQL_DIR/.initialised"
    fi
    ok "mysql: MariaDB running (pid $(pid_of mysql)) on $MYSQL_HOST:$MYSQL_PORT"
  fi
  mysql_check
  mysql_init_schema
}

# mysql_check: the settings Flink CDC refuses to work without, on whichever
# server is at MYSQL_HOST:MYSQL_PORT.
mysql_check() {
  local out log_bin fmt image
  out=$(mysql_cli -e 'SELECT @@log_bin, @@binlog_format, @@binlog_row_image' 2>&1) ||
    die "cannot log in to MySQL at $MYSQL_HOST:$MYSQL_PORT as $MYSQL_USER: $out" \
      "check MYSQL_HOST/MYSQL_PORT/MYSQL_USER/MYSQL_PASSWORD"
  read -r log_bin fmt image <<<"$out"
  [ "$log_bin" = 1 ] || die "MySQL at $MYSQL_HOST:$MYSQL_PORT has the binlog disabled (log_bin=0)" \
    "start it with log_bin (and binlog_format=ROW, binlog_row_image=FULL)"
  [ "$fmt" = ROW ] || die "MySQL at $MYSQL_HOST:$MYSQL_PORT has binlog_format=$fmt; Flink CDC needs ROW" \
    "set binlog_format=ROW in the server config and restart it"
  [ "$image" = FULL ] || die "MySQL at $MYSQL_HOST:$MYSQL_PORT has binlog_row_image=$image; Flink CDC needs FULL" \
    "set binlog_row_image=FULL in the server config and restart it"
}

# mysql_init_sql FILE: a mysql-init/ file with the database name and CDC
# account from the environment (the files carry the defaults). The account's
# name and password go in as quoted literals (sql_quote), replaced literally
# in one pass, so no value is read as SQL, sed or awk syntax.
mysql_init_sql() {
  local db user pw
  db=$(sql_identifier "$MYSQL_DATABASE" MYSQL_DATABASE) || return 1
  user=$(sql_quote "$MYSQL_CDC_USER")
  pw=$(sql_quote "$MYSQL_CDC_PASSWORD")
  SUB_DB=$db SUB_USER=$user SUB_PW=$pw awk '
    BEGIN { n = split("business_db|'"'"'flink_cdc'"'"'|'"'"'flink_cdc123'"'"'", from, "|")
            to[1] = ENVIRON["SUB_DB"]; to[2] = ENVIRON["SUB_USER"]; to[3] = ENVIRON["SUB_PW"] }
    {
      line = $0; out = ""
      for (;;) {
        best = 0; at = 0
        for (k = 1; k <= n; k++) {
          i = index(line, from[k])
          if (i > 0 && (at == 0 || i < at)) { at = i; best = k }
        }
        if (!best) break
        out = out substr(line, 1, at - 1) to[best]
        line = substr(line, at + length(from[best]))
      }
      print out line
    }' "$1"
}

mysql_init_schema() {
  local f
  for f in "$STACK_ROOT"/mysql-init/*.sql; do
    { mysql_init_sql "$f" | mysql_cli; } >"$LOG_DIR/mysql-init.log" 2>&1 ||
      die "applying $f failed" "read $LOG_DIR/mysql-init.log"
  done
}

mysql_down() { is_external mysql || stop_component mysql 60; }
