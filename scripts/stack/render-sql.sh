#!/bin/sh
# render-sql.sh FILE.sql > rendered.sql
# Fills the ${VAR} placeholders of a flink-sql/ file from the environment,
# with the defaults of flink-sql.env beside this script. Fails, naming the
# variable, when a placeholder has no value. Whole-line -- comments are
# left as they are, except a line that starts with a format list,
#   --[canal-json|json] 'value.format' = 'canal-json',
# which is kept (without its marker) when KAFKA_FORMAT is one of the listed
# formats and dropped otherwise (--[!upsert-kafka]: kept for every other format): the Kafka changelog format changes a few
# options and statements (see KAFKA_FORMAT in flink-sql.env). POSIX sh + awk,
# so the same script renders the jobs natively and inside the Flink container.
# The output holds passwords: callers write it readable by its owner only
# (scripts/stack/lib.sh private_dir, umask 077).
set -eu
[ $# -eq 1 ] || { echo "usage: $0 FILE.sql" >&2; exit 2; }
. "$(dirname "$0")/flink-sql.env"
awk '
  /^[ \t]*--\[!?[a-z|-]+\] / {
    match($0, /--\[!?[a-z|-]+\] /)
    list = substr($0, RSTART + 3, RLENGTH - 5)
    negate = sub(/^!/, "", list)
    n = split(list, formats, "|")
    keep = negate
    for (i = 1; i <= n; i++) if (formats[i] == ENVIRON["KAFKA_FORMAT"]) keep = !negate
    if (!keep) next
    $0 = substr($0, 1, RSTART - 1) substr($0, RSTART + RLENGTH)
  }
  /^[ \t]*--/ { print; next }  # comments may mention ${VAR} as text
  {
    line = $0; out = ""
    while (match(line, /\$\{[A-Za-z_][A-Za-z0-9_]*\}/)) {
      name = substr(line, RSTART + 2, RLENGTH - 3)
      if (!(name in ENVIRON)) { printf "render-sql: %s:%d: ${%s} has no value\n", FILENAME, NR, name > "/dev/stderr"; bad = 1 }
      out = out substr(line, 1, RSTART - 1) ENVIRON[name]
      line = substr(line, RSTART + RLENGTH)
    }
    print out line
  }
  END { exit bad }
' "$1"
