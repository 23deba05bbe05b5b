#!/usr/bin/env python3
"""Check docker-compose.yml against the SQL files and the native stack, with
no Docker engine: the file parses, every published port is bound to
127.0.0.1 (unless TPCDS_PUBLISH_ADDRESS says otherwise), and its service
names, ports, credentials, versions, topics and job list agree with
mysql-init/, warehouse-init/, flink-sql/ and the defaults of scripts/stack/
(lib.sh, flink-sql.env, kafka.sh, flink.sh, mysql.sh, prometheus.sh), and
Prometheus, Grafana and the dashboard agree with the native stack's.

    python3 scripts/check-compose.py              # check the repository
    python3 scripts/check-compose.py --self-test  # also prove that broken copies fail

Exit 0 when every check passes, 1 otherwise. Needs PyYAML
(Debian: python3-yaml; PyPI: PyYAML).
"""

import copy
import json
import pathlib
import re
import sys

try:
    import yaml
except ImportError:  # pragma: no cover - environment problem, not a check
    sys.exit("check-compose: PyYAML is missing: apt-get install python3-yaml (or pip install PyYAML)")

ROOT = pathlib.Path(__file__).resolve().parent.parent


def shell_defaults(path):
    """NAME -> value for `: "${NAME:=value}"` and plain `NAME=value` lines."""
    out = {}
    for line in path.read_text().splitlines():
        m = re.match(r'^\s*:\s+"\$\{(\w+):=([^}]*)\}"', line)
        if m:
            out[m.group(1)] = m.group(2)
            continue
        m = re.match(r"^([A-Z][A-Z0-9_]*)=([^\s$(]+)$", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def shell_array(path, name):
    """Items of a bash array NAME=(a b "c") declared in path."""
    text = path.read_text()
    m = re.search(name + r"=\(([^)]*)\)", text, re.S)
    if not m:
        return []
    return [w.strip('"') for w in m.group(1).split()]


def env_default(value):
    """'${X:-d}' -> 'd'; anything else unchanged (as a string)."""
    m = re.fullmatch(r"\$\{\w+:-([^}]*)\}", str(value))
    return m.group(1) if m else str(value)


def published(mapping):
    """(host address, host port) of a compose port mapping: '127.0.0.1:3306:3306',
    '${VAR:-127.0.0.1}:3306:3306' (the default counts), '3306:3306' and '3306'
    (address None: every interface), or the long form {target, published, host_ip}.
    The port is None when Docker picks it."""
    if isinstance(mapping, dict):
        ip = mapping.get("host_ip")
        port = mapping.get("published")
        return (env_default(ip) if ip else None,
                int(str(port).split("-")[0]) if port not in (None, "") else None)
    parts = str(mapping).split("/")[0].rsplit(":", 2)
    if len(parts) == 1:
        return None, None
    ip = env_default(parts[0]) if len(parts) == 3 else None
    return ip, int(parts[-2].split("-")[0])


def host_port(mapping):
    """'3306:3306' or '127.0.0.1:3306:3306' -> 3306 (the host side)."""
    return published(mapping)[1]


class Checker:
    def __init__(self, compose, root=ROOT):
        self.c = compose
        self.root = root
        self.results = []
        stack = root / "scripts" / "stack"
        self.lib = shell_defaults(stack / "lib.sh")
        self.sqlenv = shell_defaults(stack / "flink-sql.env")
        self.topics = shell_array(stack / "kafka.sh", "KAFKA_TOPICS")
        self.jobs = shell_array(stack / "flink.sh", "FLINK_JOBS")
        self.flink_sh = shell_defaults(stack / "flink.sh")
        self.mysql_sh = (stack / "mysql.sh").read_text()
        self.prom_sh = (stack / "prometheus.sh").read_text()
        self.prom = shell_defaults(stack / "prometheus.sh")
        self.mysql_init = "\n".join(p.read_text() for p in sorted((root / "mysql-init").glob("*.sql")))
        self.sql = {p.name: p.read_text() for p in sorted((root / "flink-sql").glob("*.sql"))}

    def check(self, name, ok, detail=""):
        self.results.append((name, bool(ok), detail))

    def svc(self, name):
        return (self.c.get("services") or {}).get(name) or {}

    def env(self, service):
        e = self.svc(service).get("environment") or {}
        if isinstance(e, list):
            e = dict(item.split("=", 1) for item in e)
        return {k: env_default(v) for k, v in e.items()}

    def host_ports(self, service):
        return [host_port(p) for p in self.svc(service).get("ports") or []]

    def run(self):
        c, lib, sqlenv = self.c, self.lib, self.sqlenv
        services = set((c.get("services") or {}).keys())
        need = {"mysql", "kafka", "kafka-init", "jobmanager", "taskmanager", "flink-sql-submit", "akhq",
                "cloudberry", "postgres", "warehouse-init"}
        self.check("services present", need <= services, f"missing: {sorted(need - services)}")

        # Ports: the native stack's defaults.
        for service, var in [("mysql", "MYSQL_PORT"), ("kafka", "KAFKA_PORT"), ("jobmanager", "FLINK_PORT"),
                             ("cloudberry", "WAREHOUSE_PORT"), ("postgres", "WAREHOUSE_PORT")]:
            self.check(f"{service} publishes {var}={lib.get(var)}", int(lib[var]) in self.host_ports(service),
                       f"ports {self.svc(service).get('ports')}")
        self.check("akhq on 8080", 8080 in self.host_ports("akhq"), f"ports {self.svc('akhq').get('ports')}")
        # Exposure: the stack has fixed passwords, and the Flink REST API and
        # AKHQ act for whoever reaches them; other interfaces only on request.
        for service in sorted(services):
            spec = self.svc(service)
            for p in spec.get("ports") or []:
                ip, port = published(p)
                self.check(f"{service} publishes {port} on 127.0.0.1 only", ip == "127.0.0.1",
                           f"{p!r}: write \"${{TPCDS_PUBLISH_ADDRESS:-127.0.0.1}}:PORT:PORT\"")
            self.check(f"{service} is not on the host network", spec.get("network_mode") != "host")

        # MySQL: credentials, database, binlog settings.
        me = self.env("mysql")
        self.check("MySQL root password", me.get("MYSQL_ROOT_PASSWORD") == lib["MYSQL_PASSWORD"] and lib["MYSQL_USER"] == "root",
                   f"compose {me.get('MYSQL_ROOT_PASSWORD')!r}, native root/{lib['MYSQL_PASSWORD']!r}")
        self.check("MySQL database", me.get("MYSQL_DATABASE") == lib["MYSQL_DATABASE"]
                   and f"CREATE DATABASE IF NOT EXISTS {lib['MYSQL_DATABASE']}" in self.mysql_init,
                   f"compose {me.get('MYSQL_DATABASE')!r}, native {lib['MYSQL_DATABASE']!r}")
        cmd = " ".join(self.svc("mysql").get("command") or [])
        for flag in ["--binlog-format=ROW", "--binlog-row-image=FULL", "--gtid-mode=ON", "--default-time-zone=+00:00",
                     "--log-bin"]:
            self.check(f"MySQL {flag}", flag in cmd, cmd)
        for setting in ["binlog_format = ROW", "binlog_row_image = FULL", "default-time-zone = '+00:00'"]:
            self.check(f"native MariaDB {setting}", setting in self.mysql_sh)
        mounts = [str(v) for v in self.svc("mysql").get("volumes") or []]
        self.check("MySQL runs mysql-init/", any(v.startswith("./mysql-init:/docker-entrypoint-initdb.d") for v in mounts), mounts)
        cdc = re.search(r"CREATE USER IF NOT EXISTS '(\w+)'@'%' IDENTIFIED BY '([^']*)'", self.mysql_init)
        grant = re.search(r"GRANT (.*?) ON \*\.\* TO '(\w+)'@'%'", self.mysql_init)
        self.check("CDC user in mysql-init = native defaults",
                   cdc and cdc.groups() == (lib["MYSQL_CDC_USER"], lib["MYSQL_CDC_PASSWORD"]), cdc and cdc.groups())
        self.check("CDC user grants exactly what Flink CDC needs",
                   grant and {g.strip() for g in grant.group(1).split(",")}
                   == {"SELECT", "SHOW DATABASES", "REPLICATION SLAVE", "REPLICATION CLIENT"}, grant and grant.group(1))

        # The job submitter sees the same names and credentials.
        se = self.env("flink-sql-submit")
        self.check("submitter MYSQL_HOST is the mysql service", se.get("MYSQL_HOST") == "mysql" and "mysql" in services)
        for var in ["MYSQL_PORT", "MYSQL_DATABASE", "MYSQL_CDC_USER", "MYSQL_CDC_PASSWORD", "WAREHOUSE_PORT",
                    "WAREHOUSE_DATABASE", "WAREHOUSE_USER", "WAREHOUSE_PASSWORD"]:
            self.check(f"submitter {var} = native default", str(se.get(var)) == lib[var] == sqlenv[var],
                       f"compose {se.get(var)!r}, lib.sh {lib.get(var)!r}, flink-sql.env {sqlenv.get(var)!r}")
        kafka_env = self.env("kafka")
        internal = re.search(r"INTERNAL://([\w.-]+:\d+)", kafka_env.get("KAFKA_ADVERTISED_LISTENERS", ""))
        self.check("submitter KAFKA_BOOTSTRAP is kafka's internal listener",
                   internal and se.get("KAFKA_BOOTSTRAP") == internal.group(1), (se.get("KAFKA_BOOTSTRAP"), internal and internal.group(1)))
        external = re.search(r"EXTERNAL://([\d.]+):(\d+)", kafka_env.get("KAFKA_ADVERTISED_LISTENERS", ""))
        self.check("kafka advertises the native endpoint to the host",
                   external and external.groups() == (lib["KAFKA_HOST"], lib["KAFKA_PORT"]), external and external.groups())
        self.check("kafka in KRaft mode", "controller" in kafka_env.get("KAFKA_PROCESS_ROLES", "")
                   and "KAFKA_ZOOKEEPER_CONNECT" not in kafka_env)

        # Latency-floor and snapshot settings: same defaults as flink-sql.env,
        # and every placeholder of the SQL files has a default.
        for var in ["PATH1_JDBC_FLUSH_INTERVAL", "PATH1_JDBC_FLUSH_MAX_ROWS", "PATH2_JDBC_FLUSH_INTERVAL",
                    "PATH2_JDBC_FLUSH_MAX_ROWS", "CHECKPOINT_INTERVAL", "KAFKA_DELIVERY_GUARANTEE", "KAFKA_LINGER_MS",
                    "CDC_POLL_INTERVAL_MS", "CDC_KEEPALIVE_INTERVAL_MS", "KAFKA_FORMAT", "CDC_SNAPSHOT_CHUNK_SIZE",
                    "CDC_SNAPSHOT_FETCH_SIZE"]:
            self.check(f"submitter {var} default = flink-sql.env", se.get(var) == sqlenv.get(var),
                       f"compose {se.get(var)!r}, flink-sql.env {sqlenv.get(var)!r}")
        used = set()
        for text in self.sql.values():
            for line in text.splitlines():
                if not line.lstrip().startswith("--"):
                    used |= set(re.findall(r"\$\{(\w+)\}", line))
        # KAFKA_CONNECTOR and KAFKA_VALUE_FORMAT follow from KAFKA_FORMAT there.
        derived = set(re.findall(r"\b(KAFKA_CONNECTOR|KAFKA_VALUE_FORMAT)=", (self.root / "scripts/stack/flink-sql.env").read_text()))
        self.check("every SQL placeholder has a default in flink-sql.env", used <= set(sqlenv) | derived,
                   sorted(used - set(sqlenv) - derived))

        # Warehouse: both flavours answer as "warehouse" with the same credentials.
        for service in ["cloudberry", "postgres"]:
            aliases = ((self.svc(service).get("networks") or {}).get("default") or {}).get("aliases") or []
            self.check(f"{service} is reachable as 'warehouse'", "warehouse" in aliases, aliases)
            self.check(f"{service} is a compose profile", bool(self.svc(service).get("profiles")))
        pe = self.env("postgres")
        self.check("postgres credentials = native", (pe.get("POSTGRES_USER"), pe.get("POSTGRES_PASSWORD"), pe.get("POSTGRES_DB"))
                   == (lib["WAREHOUSE_USER"], lib["WAREHOUSE_PASSWORD"], lib["WAREHOUSE_DATABASE"]), pe)
        we = self.env("warehouse-init")
        self.check("warehouse-init = native", (we.get("WAREHOUSE_HOST"), str(we.get("WAREHOUSE_PORT")), we.get("WAREHOUSE_USER"),
                   we.get("WAREHOUSE_PASSWORD"), we.get("WAREHOUSE_DATABASE")) == ("warehouse", lib["WAREHOUSE_PORT"],
                   lib["WAREHOUSE_USER"], lib["WAREHOUSE_PASSWORD"], lib["WAREHOUSE_DATABASE"]), we)
        self.check("submitter WAREHOUSE_HOST = warehouse", se.get("WAREHOUSE_HOST") == "warehouse")
        wmounts = [str(v) for v in self.svc("warehouse-init").get("volumes") or []]
        self.check("warehouse-init runs warehouse-init/apply.sh", any(v.startswith("./warehouse-init:/warehouse-init") for v in wmounts)
                   and (self.root / "warehouse-init" / "apply.sh").exists(), wmounts)
        re_ = self.env("matview-refresher")
        self.check("matview-refresher = native", (re_.get("WAREHOUSE_HOST"), str(re_.get("WAREHOUSE_PORT")),
                   re_.get("WAREHOUSE_USER"), re_.get("WAREHOUSE_PASSWORD"), re_.get("WAREHOUSE_DATABASE"),
                   env_default(re_.get("MATVIEW_REFRESH_INTERVAL")), env_default(re_.get("MATVIEW_REFRESH_ALWAYS"))) ==
                   ("warehouse", lib["WAREHOUSE_PORT"], lib["WAREHOUSE_USER"], lib["WAREHOUSE_PASSWORD"],
                    lib["WAREHOUSE_DATABASE"], lib["MATVIEW_REFRESH_INTERVAL"], lib["MATVIEW_REFRESH_ALWAYS"]), re_)
        self.check("matview-refresher runs warehouse-init/refresh.sh",
                   self.svc("matview-refresher").get("entrypoint") == ["/warehouse-init/refresh.sh"]
                   and (self.root / "warehouse-init" / "refresh.sh").exists())
        envfile = self.root / ".env"
        profiles = shell_defaults(envfile).get("COMPOSE_PROFILES", "") if envfile.exists() else ""
        self.check(".env selects one warehouse profile by default", profiles in ("cloudberry", "postgres"), profiles)

        pg_cmd = " ".join(self.svc("postgres").get("command") or [])
        self.check("postgres keeps commit timestamps (as natively)", "track_commit_timestamp=on" in pg_cmd
                   and "track_commit_timestamp=on" in (self.root / "scripts/stack/warehouse.sh").read_text(), pg_cmd)

        # Topics: created by kafka-init = created natively = used by the SQL.
        init_cmd = " ".join(self.svc("kafka-init").get("command") or [])
        compose_topics = set(re.findall(r"\btpcds\.\w+", init_cmd))
        sql_topics = set()
        for text in self.sql.values():
            sql_topics |= set(re.findall(r"'topic' = '([^']+)'", text))
        self.check("topics: compose = native", compose_topics == set(self.topics), (sorted(compose_topics), self.topics))
        self.check("topics: SQL uses only created topics", sql_topics <= set(self.topics), sorted(sql_topics - set(self.topics)))
        self.check("topics use LogAppendTime (as natively)", "message.timestamp.type=LogAppendTime" in init_cmd
                   and "message.timestamp.type=LogAppendTime" in (self.root / "scripts/stack/kafka.sh").read_text())

        # Versions and jars: the Flink image carries the native connector set.
        dockerfile = (self.root / "docker" / "flink" / "Dockerfile").read_text()
        base = re.search(r"^FROM flink:([\d.]+)-", dockerfile, re.M)
        self.check("Flink version = native", base and base.group(1) == lib["FLINK_VERSION"], base and base.group(1))
        for var in ["FLINK_CDC_VERSION", "MYSQL_JDBC_VERSION", "FLINK_KAFKA_CONNECTOR_VERSION", "FLINK_JDBC_CONNECTOR_VERSION",
                    "POSTGRES_JDBC_VERSION"]:
            m = re.search(rf"^ARG {var}=(\S+)", dockerfile, re.M)
            self.check(f"Flink image {var} = native", m and m.group(1) == lib[var], (m and m.group(1), lib.get(var)))
        kimg = str(self.svc("kafka").get("image", ""))
        self.check("Kafka version = native", kimg.endswith(":" + lib["KAFKA_VERSION"]), kimg)
        tm = self.svc("taskmanager").get("environment", {}).get("FLINK_PROPERTIES", "")
        slots = re.search(r"taskmanager\.numberOfTaskSlots:\s*(\d+)", tm)
        self.check("task slots = native", slots and slots.group(1) == self.flink_sh.get("FLINK_TASK_SLOTS"),
                   (slots and slots.group(1), self.flink_sh.get("FLINK_TASK_SLOTS")))

        # Jobs: the submitter submits the native job list; names match the SQL.
        submit = (self.root / "docker" / "flink" / "submit-jobs.sh")
        self.check("compose submits the native job list", submit.exists() and shell_array(submit, "JOBS") == self.jobs,
                   (submit.exists() and shell_array(submit, "JOBS"), self.jobs))
        for entry in self.jobs:
            file, name = entry.split(":", 1)
            self.check(f"{file} sets pipeline.name {name}", f"SET 'pipeline.name' = '{name}';" in self.sql.get(file, ""))
        self.check("Flink image copies flink-sql/ and the renderer",
                   "COPY flink-sql " in dockerfile and "render-sql.sh" in dockerfile)
        self.live()
        return self.results

    def live(self):
        """Prometheus, Grafana and the exporters (issue 25) = the native stack's."""
        services = set((self.c.get("services") or {}).keys())
        need = {"prometheus", "grafana", "mysql-exporter", "warehouse-exporter", "jmx-agent"}
        self.check("live services present", need <= services, f"missing: {sorted(need - services)}")
        port = int(self.prom.get("PROMETHEUS_PORT", 0))
        self.check(f"prometheus publishes PROMETHEUS_PORT={port}", port in self.host_ports("prometheus"),
                   self.svc("prometheus").get("ports"))
        conf_path = self.root / "docker" / "prometheus" / "prometheus.yml"
        conf = yaml.safe_load(conf_path.read_text()) if conf_path.exists() else {}
        jobs = {j["job_name"]: [t for sc in j.get("static_configs", []) for t in sc.get("targets", [])]
                for j in conf.get("scrape_configs") or []}
        native_jobs = re.findall(r"job_name: ([\w-]+)", self.prom_sh)
        self.check("prometheus scrapes the native stack's jobs", sorted(jobs) == sorted(native_jobs), (sorted(jobs), native_jobs))
        harness = self.prom.get("HARNESS_METRICS_PORT")
        self.check(f"prometheus scrapes the harness on HARNESS_METRICS_PORT={harness}",
                   any(t.endswith(f":{harness}") for t in jobs.get("tpcds-bench", [])), jobs.get("tpcds-bench"))
        mounts = [str(v) for v in self.svc("prometheus").get("volumes") or []]
        self.check("prometheus reads docker/prometheus/prometheus.yml",
                   any(v.startswith("./docker/prometheus/prometheus.yml:") for v in mounts), mounts)
        for service in ["jobmanager", "taskmanager"]:
            props = (self.svc(service).get("environment") or {}).get("FLINK_PROPERTIES", "")
            self.check(f"{service} runs Flink's Prometheus reporter", "PrometheusReporterFactory" in props
                       and "PrometheusReporterFactory" in self.prom_sh)
        rules = self.root / "docker" / "prometheus" / "kafka-jmx.yaml"
        native_rules = re.search(r"kafka-jmx.yaml\" <<'EOF2'\n(.*?)EOF2", self.prom_sh, re.S)
        self.check("Kafka's JMX rules: compose = native", rules.exists() and native_rules
                   and yaml.safe_load(rules.read_text()) == yaml.safe_load(native_rules.group(1)))
        self.check("kafka loads the JMX exporter agent", "-javaagent:" in str(self.env("kafka").get("KAFKA_OPTS", "")))
        gmounts = [str(v) for v in self.svc("grafana").get("volumes") or []]
        self.check("grafana provisions docker/grafana", any(v.startswith("./docker/grafana/provisioning:") for v in gmounts)
                   and any(v.startswith("./docker/grafana/dashboards:") for v in gmounts), gmounts)
        ds_path = self.root / "docker" / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
        uids = {d.get("uid") for d in (yaml.safe_load(ds_path.read_text()) or {}).get("datasources", [])} if ds_path.exists() else set()
        dashboards = sorted((self.root / "docker" / "grafana" / "dashboards").glob("*.json"))
        self.check("a Grafana dashboard is provisioned", bool(dashboards))
        for path in dashboards:
            try:
                d = json.loads(path.read_text())
            except ValueError as e:
                self.check(f"{path.name} parses", False, e)
                continue
            used = {t.get("datasource", {}).get("uid") for p in d.get("panels", []) for t in p.get("targets", [])}
            self.check(f"{path.name} queries the provisioned datasource", used and used <= uids, (used, uids))


def report(results):
    failed = [r for r in results if not r[1]]
    for name, ok, detail in results:
        line = f"{'ok  ' if ok else 'FAIL'} {name}"
        if not ok and detail not in ("", None):
            line += f"  ({detail})"
        print(line)
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    return not failed


def self_test(compose):
    """Break copies of the compose file in ways the checker must notice."""
    def broken(mutate):
        c = copy.deepcopy(compose)
        mutate(c)
        return [r[0] for r in Checker(c).run() if not r[1]]

    cases = {
        "a moved MySQL port": lambda c: c["services"]["mysql"].__setitem__("ports", ["127.0.0.1:3307:3306"]),
        "MySQL on every interface": lambda c: c["services"]["mysql"].__setitem__("ports", ["3306:3306"]),
        "AKHQ on 0.0.0.0": lambda c: c["services"]["akhq"].__setitem__("ports", ["0.0.0.0:8080:8080"]),
        "the Flink REST API exposed by default": lambda c: c["services"]["jobmanager"].__setitem__(
            "ports", ["${TPCDS_PUBLISH_ADDRESS:-0.0.0.0}:8081:8081"]),
        "the warehouse in long form without host_ip": lambda c: c["services"]["postgres"].__setitem__(
            "ports", [{"target": 5432, "published": 5432}]),
        "a service on the host network": lambda c: c["services"]["akhq"].__setitem__("network_mode", "host"),
        "a wrong root password": lambda c: c["services"]["mysql"]["environment"].__setitem__("MYSQL_ROOT_PASSWORD", "x"),
        "STATEMENT binlog": lambda c: c["services"]["mysql"].__setitem__(
            "command", [a.replace("ROW", "STATEMENT") for a in c["services"]["mysql"]["command"]]),
        "a renamed warehouse alias": lambda c: c["services"]["postgres"]["networks"]["default"].__setitem__("aliases", ["pg"]),
        "a different flush default": lambda c: c["services"]["flink-sql-submit"]["environment"].__setitem__(
            "PATH1_JDBC_FLUSH_INTERVAL", "${PATH1_JDBC_FLUSH_INTERVAL:-1s}"),
        "a different snapshot chunk size": lambda c: c["services"]["flink-sql-submit"]["environment"].__setitem__(
            "CDC_SNAPSHOT_CHUNK_SIZE", "${CDC_SNAPSHOT_CHUNK_SIZE:-1000}"),
        "a missing topic": lambda c: c["services"]["kafka-init"].__setitem__(
            "command", [c["services"]["kafka-init"]["command"][0].replace("tpcds.alerts", "")]),
        "a wrong CDC password": lambda c: c["services"]["flink-sql-submit"]["environment"].__setitem__("MYSQL_CDC_PASSWORD", "x"),
        "a missing service": lambda c: c["services"].pop("akhq"),
        "no Grafana": lambda c: c["services"].pop("grafana"),
        "Prometheus on every interface": lambda c: c["services"]["prometheus"].__setitem__("ports", ["9090:9090"]),
        "no Flink reporter in the taskmanager": lambda c: c["services"]["taskmanager"]["environment"].__setitem__(
            "FLINK_PROPERTIES", "taskmanager.numberOfTaskSlots: 8\n"),
        "no JMX agent in Kafka": lambda c: c["services"]["kafka"]["environment"].pop("KAFKA_OPTS"),
        "a different refresh interval": lambda c: c["services"]["matview-refresher"]["environment"].__setitem__(
            "MATVIEW_REFRESH_INTERVAL", "${MATVIEW_REFRESH_INTERVAL:-10}"),
    }
    results = []
    for what, mutate in cases.items():
        failures = broken(mutate)
        results.append((f"self-test: {what} is caught", bool(failures), "the checker did not notice"))
    return results


def main():
    path = ROOT / "docker-compose.yml"
    try:
        compose = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        print(f"FAIL docker-compose.yml does not parse: {e}")
        return 1
    results = Checker(compose).run()
    if "--self-test" in sys.argv[1:]:
        results += self_test(compose)
    return 0 if report(results) else 1


if __name__ == "__main__":
    sys.exit(main())
