# shellcheck shell=bash
# Downloads for the native stack, cached under $TPCDS_CACHE_DIR. Sourced by
# scripts/stack.sh after lib.sh. Each piece is marked complete only after it
# was fully assembled, so an interrupted download is redone, never half-used.
#
# Sources (the registries this project may use):
#   Flink 1.20 distribution   PyPI: apache-flink-libraries (sdist: lib/ opt/ plugins/)
#                             + the apache-flink wheel (bin/*.sh, conf/)
#   SQL gateway, connectors   Maven Central (via mvn, into a cache-local repository)
#   Kafka broker + tools      Maven Central: kafka_2.13, kafka-tools and their runtime dependencies

MVN_REPO=$TPCDS_CACHE_DIR/m2
DL_DIR=$TPCDS_CACHE_DIR/downloads

mvn_q() { mvn -q -B -Dmaven.repo.local="$MVN_REPO" "$@"; }

# write_pom FILE DEPENDENCY...: a throw-away pom whose dependencies are
# "group:artifact:version" strings; mvn's dependency plugin then copies them.
write_pom() {
  local file=$1 dep g a v
  shift
  {
    echo '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
    echo '<groupId>local.tpcds-bench</groupId><artifactId>fetch</artifactId><version>1</version><packaging>pom</packaging><dependencies>'
    for dep in "$@"; do
      IFS=: read -r g a v <<<"$dep"
      echo "<dependency><groupId>$g</groupId><artifactId>$a</artifactId><version>$v</version></dependency>"
    done
    echo '</dependencies></project>'
  } >"$file"
}

fetch_kafka() {
  local dir=$TPCDS_CACHE_DIR/kafka-$KAFKA_VERSION
  [ -f "$dir/.complete" ] && return 0
  rm -rf "$dir" && mkdir -p "$dir"
  write_pom "$dir/pom.xml" \
    "org.apache.kafka:kafka_2.13:$KAFKA_VERSION" \
    "org.apache.kafka:kafka-tools:$KAFKA_VERSION" \
    "org.apache.logging.log4j:log4j-core:$LOG4J_VERSION" \
    "org.apache.logging.log4j:log4j-slf4j-impl:$LOG4J_VERSION"
  (cd "$dir" && mvn_q dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIBS") ||
    return 1
  touch "$dir/.complete"
}

fetch_flink_dist() {
  local dist=$TPCDS_CACHE_DIR/flink-dist-$FLINK_VERSION
  [ -f "$dist/.complete" ] && return 0
  rm -rf "$dist" && mkdir -p "$dist" "$DL_DIR"
  # The wheel is pure bash/conf for our purposes; pin a platform so any local
  # Python can download it.
  python3 -m pip download -q --no-deps -d "$DL_DIR" "apache-flink-libraries==$FLINK_VERSION" &&
    python3 -m pip download -q --no-deps --only-binary=:all: --platform manylinux2014_x86_64 \
      --python-version 3.11 --implementation cp --abi cp311 -d "$DL_DIR" "apache-flink==$FLINK_VERSION" ||
    return 1
  tar xzf "$DL_DIR/apache-flink-libraries-$FLINK_VERSION.tar.gz" -C "$dist" --strip-components=2 \
    "apache-flink-libraries-$FLINK_VERSION/deps" || return 1
  python3 - "$DL_DIR" "$dist" "$FLINK_VERSION" <<'EOF' || return 1
import glob, os, sys, zipfile
dl, dist, version = sys.argv[1:]
wheel = glob.glob(os.path.join(dl, f"apache_flink-{version}-*.whl"))[0]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        for part in ("bin", "conf"):
            prefix = f"pyflink/{part}/"
            if name.startswith(prefix) and not name.endswith("/"):
                target = os.path.join(dist, part, name[len(prefix):])
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "wb") as f:
                    f.write(z.read(name))
                if part == "bin":
                    os.chmod(target, 0o755)
EOF
  touch "$dist/.complete"
}

fetch_flink_jars() {
  local dir=$TPCDS_CACHE_DIR/flink-jars
  [ -f "$dir/.complete" ] && return 0
  rm -rf "$dir" && mkdir -p "$dir/lib" "$dir/opt"
  write_pom "$dir/pom-lib.xml" \
    "org.apache.flink:flink-sql-connector-mysql-cdc:$FLINK_CDC_VERSION" \
    "com.mysql:mysql-connector-j:$MYSQL_JDBC_VERSION" \
    "org.apache.flink:flink-connector-jdbc:$FLINK_JDBC_CONNECTOR_VERSION" \
    "org.postgresql:postgresql:$POSTGRES_JDBC_VERSION"
  # Maven Central serves no flink-sql-connector-kafka (the fat jar) for Flink
  # 1.20, only the plain connector: it comes with kafka-clients and its
  # compression codecs. Guava, Jackson and SLF4J are left out: Flink brings
  # its own, and two copies in lib/ would clash.
  write_pom "$dir/pom-kafka.xml" "org.apache.flink:flink-connector-kafka:$FLINK_KAFKA_CONNECTOR_VERSION"
  write_pom "$dir/pom-opt.xml" "org.apache.flink:flink-sql-gateway:$FLINK_VERSION"
  # The CDC and JDBC connectors are fat jars (or need only Flink itself).
  (cd "$dir" && mvn_q -f pom-lib.xml dependency:copy-dependencies -DexcludeTransitive=true -DoutputDirectory="$dir/lib" &&
    mvn_q -f pom-kafka.xml dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$dir/lib" \
      -DexcludeGroupIds=com.google.guava,com.google.code.findbugs,org.checkerframework,com.google.errorprone,com.google.j2objc,com.fasterxml.jackson.core,com.fasterxml.jackson.datatype,org.slf4j &&
    mvn_q -f pom-opt.xml dependency:copy-dependencies -DexcludeTransitive=true -DoutputDirectory="$dir/opt") ||
    return 1
  touch "$dir/.complete"
}

# assemble_flink_home: FLINK_HOME = distribution + connector jars. Rebuilt
# (seconds, hard links) whenever one of its parts was re-downloaded.
assemble_flink_home() {
  local dist=$TPCDS_CACHE_DIR/flink-dist-$FLINK_VERSION jars=$TPCDS_CACHE_DIR/flink-jars
  if [ -f "$FLINK_HOME/.complete" ] && [ "$FLINK_HOME/.complete" -nt "$dist/.complete" ] &&
    [ "$FLINK_HOME/.complete" -nt "$jars/.complete" ]; then
    return 0
  fi
  rm -rf "$FLINK_HOME" && mkdir -p "$FLINK_HOME/log"
  cp -al "$dist/bin" "$dist/conf" "$dist/lib" "$dist/opt" "$dist/plugins" "$FLINK_HOME/"
  cp -al "$jars"/lib/*.jar "$FLINK_HOME/lib/"
  cp -al "$jars"/opt/*.jar "$FLINK_HOME/opt/"
  touch "$FLINK_HOME/.complete"
}

# fetch_all: everything `up` needs, the three downloads in parallel.
fetch_all() {
  local t0=$SECONDS pids=() names=() i failed=()
  if [ -f "$TPCDS_CACHE_DIR/kafka-$KAFKA_VERSION/.complete" ] && [ -f "$FLINK_HOME/.complete" ] &&
    [ "$FLINK_HOME/.complete" -nt "$TPCDS_CACHE_DIR/flink-jars/.complete" ]; then
    return 0
  fi
  command -v java >/dev/null || die "java not found" "apt-get install -y openjdk-17-jre-headless"
  command -v mvn >/dev/null || die "mvn (Maven) not found; it fetches jars from Maven Central" "apt-get install -y maven"
  log "downloading into $TPCDS_CACHE_DIR (first run only; logs in $LOG_DIR/fetch-*.log)"
  for f in fetch_kafka fetch_flink_dist fetch_flink_jars; do
    "$f" >"$LOG_DIR/fetch-${f#fetch_}.log" 2>&1 &
    pids+=($!)
    names+=("$f")
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || failed+=("${names[$i]#fetch_} (see $LOG_DIR/fetch-${names[$i]#fetch_}.log)")
  done
  [ "${#failed[@]}" -eq 0 ] || die "download failed: ${failed[*]}" \
    "check that PyPI and Maven Central are reachable, then run up again (completed pieces are kept)"
  assemble_flink_home
  ok "downloads ready in $((SECONDS - t0))s"
}
