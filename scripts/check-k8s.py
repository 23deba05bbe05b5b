#!/usr/bin/env python3
"""Check deploy/k8s/ against the CLI, with no cluster: every file parses, the
shards' Job is Indexed with completions = parallelism = TPCDS_SHARD_COUNT, the
scenario in its ConfigMap is valid TOML with at least N workers, every flag the
manifests pass is a flag of that command in src/cli.rs, every environment
variable they set is one the harness reads (src/), the scenario and report
paths they pass are mounted, and the merge step's directory pattern is the one
`run --shard` writes for that start time and scenario.

    python3 scripts/check-k8s.py              # check the repository
    python3 scripts/check-k8s.py --self-test  # also prove that broken copies fail

Exit 0 when every check passes, 1 otherwise. Needs PyYAML (python3-yaml).
"""

import copy
import datetime
import pathlib
import re
import shlex
import sys
import tomllib

try:
    import yaml
except ImportError:  # pragma: no cover - environment problem, not a check
    sys.exit("check-k8s: PyYAML is missing: apt-get install python3-yaml (or pip install PyYAML)")

ROOT = pathlib.Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"


def cli_flags():
    """{'run': {'--out', ...}, 'merge': {...}} from the Args structs of src/cli.rs."""
    text = (ROOT / "src" / "cli.rs").read_text()
    out = {}
    for command, struct in (("run", "RunArgs"), ("merge", "MergeArgs")):
        body = re.search(r"pub struct %s \{(.*?)\n\}" % struct, text, re.S).group(1)
        flags = set()
        for attrs, field in re.findall(r"((?:\s*#\[arg\([^\]]*\)\])*)\s*pub (\w+):", body):
            if "long" in attrs:
                m = re.search(r'long\s*=\s*"([\w-]+)"', attrs)
                flags.add("--" + (m.group(1) if m else field.replace("_", "-")))
        out[command] = flags
    # Flags every command has (clap's own).
    for flags in out.values():
        flags.update({"--help", "--version"})
    return out


def env_read():
    """Environment variables the harness reads: clap's env = "...", env::var("...")."""
    names = set()
    for path in (ROOT / "src").rglob("*.rs"):
        text = path.read_text()
        names.update(re.findall(r'env\s*=\s*"([A-Z0-9_]+)"', text))
        names.update(re.findall(r'env::var(?:_os)?\("([A-Z0-9_]+)"\)', text))
        names.update(re.findall(r'"(TPCDS_[A-Z0-9_]+)"', text))
    return names


def slug(name):
    """As src/report/atomic.rs slugs a scenario name for its directory."""
    s = "".join(c.lower() if c.isalnum() else "-" for c in name)
    s = re.sub("-+", "-", s).strip("-")
    return s or "run"


def load():
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                docs.append((path.name, doc))
    return docs


class Checker:
    def __init__(self, docs):
        self.docs = docs
        self.flags = cli_flags()
        self.env = env_read()
        self.results = []

    def ok(self, what, cond, why=""):
        self.results.append((what, bool(cond), why))
        return bool(cond)

    def kind(self, kind, name=None):
        return [d for _, d in self.docs
                if d.get("kind") == kind and (name is None or d["metadata"]["name"] == name)]

    def container_env(self, container):
        env = {e["name"]: e.get("value") for e in container.get("env", [])}
        for ref in container.get("envFrom", []):
            name = ref.get("secretRef", {}).get("name") or ref.get("configMapRef", {}).get("name")
            for src in self.kind("Secret", name) + self.kind("ConfigMap", name):
                for k, v in {**src.get("data", {}), **src.get("stringData", {})}.items():
                    env[k] = v
        return env

    def argv(self, container):
        """The harness's argv: args, or the tpcds-bench command inside `sh -c`."""
        cmd = container.get("command", [])
        args = container.get("args", [])
        if cmd[:2] == ["/bin/sh", "-c"]:
            words = shlex.split(args[0])
            words = words[1:] if words[0] == "exec" else words
            self.ok("the shell runs tpcds-bench", words[0] == "tpcds-bench", f"runs {words[0]}")
            return words[1:]
        return args

    def check_flags(self, argv, where):
        command = argv[0] if argv else ""
        if not self.ok(f"{where}: runs a known command", command in self.flags, f"command {command!r}"):
            return
        for a in argv[1:]:
            if a.startswith("--"):
                flag = a.split("=", 1)[0]
                self.ok(f"{where}: {flag} is a flag of `{command}`", flag in self.flags[command],
                        f"src/cli.rs has no {flag} for {command}")

    def mounts(self, job):
        spec = job["spec"]["template"]["spec"]
        c = spec["containers"][0]
        vols = {v["name"]: v for v in spec.get("volumes", [])}
        return {m["mountPath"]: vols.get(m["name"], {}) for m in c.get("volumeMounts", [])}

    def run(self):
        self.ok("deploy/k8s has manifests", self.docs, "no YAML found")
        jobs = self.kind("Job")
        indexed = [j for j in jobs if j["spec"].get("completionMode") == "Indexed"]
        if not self.ok("one Indexed Job runs the shards", len(indexed) == 1, f"{len(indexed)} found"):
            return self.results
        job = indexed[0]
        spec = job["spec"]
        c = spec["template"]["spec"]["containers"][0]
        env = self.container_env(c)
        n = env.get("TPCDS_SHARD_COUNT")
        self.ok("completions = parallelism = TPCDS_SHARD_COUNT",
                n is not None and spec.get("completions") == spec.get("parallelism") == int(n),
                f"completions {spec.get('completions')}, parallelism {spec.get('parallelism')}, TPCDS_SHARD_COUNT {n}")
        n = int(n or 0)
        for name in env:
            self.ok(f"shards: the harness reads {name}", name in self.env, "no such variable in src/")
        start = env.get("TPCDS_START_AT", "")
        try:
            start_at = datetime.datetime.fromisoformat(start.replace("Z", "+00:00"))
            self.ok("TPCDS_START_AT is RFC 3339 with a zone", start_at.tzinfo is not None, start)
        except ValueError:
            self.ok("TPCDS_START_AT is RFC 3339", False, repr(start))
            start_at = None
        argv = self.argv(c)
        self.check_flags(argv, "shards")
        mounts = self.mounts(job)
        scenario_path = next((a for a in argv[1:] if not a.startswith("--") and a.endswith(".toml")), "")
        mount_dir = str(pathlib.PurePosixPath(scenario_path).parent)
        vol = mounts.get(mount_dir, {})
        cm_name = vol.get("configMap", {}).get("name")
        cms = self.kind("ConfigMap", cm_name) if cm_name else []
        key = pathlib.PurePosixPath(scenario_path).name
        if self.ok("the scenario file is a mounted ConfigMap key", cms and key in cms[0].get("data", {}),
                   f"{scenario_path} is not in a mounted ConfigMap"):
            try:
                scenario = tomllib.loads(cms[0]["data"][key])
                workers = scenario.get("load", {}).get("workers", 1)
                self.ok("load.workers >= the shard count", workers >= n, f"{workers} workers for {n} shards")
                self.ok("no [[faults]] or derived sinks in a sharded scenario",
                        not scenario.get("faults") and not any(
                            s.endswith("_view") or s == "metrics" or s.startswith("q_")
                            for s in scenario.get("observe", {}).get("sinks", [])),
                        "run --shard refuses them")
                name = scenario.get("name", "")
            except tomllib.TOMLDecodeError as e:
                self.ok("the scenario parses", False, str(e))
                name = ""
        else:
            name = ""
        out = argv[argv.index("--out") + 1] if "--out" in argv else env.get("TPCDS_REPORTS_DIR", "")
        pvc = mounts.get(out, {}).get("persistentVolumeClaim", {}).get("claimName")
        self.ok("shards write to a mounted volume", pvc, f"--out {out} is not a mounted claim")
        self.ok("the claim exists and is ReadWriteMany",
                any("ReadWriteMany" in p["spec"].get("accessModes", [])
                    for p in self.kind("PersistentVolumeClaim", pvc)), f"claim {pvc}")
        merges = [j for j in jobs if j is not job]
        if self.ok("a merge Job follows", len(merges) == 1, f"{len(merges)} other Jobs"):
            m = merges[0]
            margv = self.argv(m["spec"]["template"]["spec"]["containers"][0])
            self.check_flags(margv, "merge")
            mmounts = self.mounts(m)
            self.ok("merge reads the shards' claim",
                    any(v.get("persistentVolumeClaim", {}).get("claimName") == pvc for v in mmounts.values()),
                    "merge mounts another volume")
            if start_at is not None and name:
                want = f"{out}/{start_at.strftime('%Y%m%dT%H%M%SZ')}-{slug(name)}-shard*of{n}"
                self.ok("merge's pattern is the shards' directory names", want in margv,
                        f"expected {want} in {margv}")
        return self.results


def report(results):
    ok = True
    for what, passed, why in results:
        print(f"{'ok  ' if passed else 'FAIL'} {what}" + ("" if passed else f": {why}"))
        ok &= passed
    return ok


def self_test(docs):
    def broken(mutate):
        copy_docs = copy.deepcopy(docs)
        mutate({(f, d["kind"], d["metadata"]["name"]): d for f, d in copy_docs})
        return [r for r in Checker(copy_docs).run() if not r[1]]

    def shard_container(d):
        return d[("shards.yaml", "Job", "tpcds-bench-shards")]["spec"]["template"]["spec"]["containers"][0]

    def set_env(d, name, value):
        for e in shard_container(d)["env"]:
            if e["name"] == name:
                e["value"] = value

    cases = {
        "parallelism differing from completions": lambda d: d[("shards.yaml", "Job", "tpcds-bench-shards")]
        ["spec"].__setitem__("parallelism", 2),
        "a shard count differing from completions": lambda d: set_env(d, "TPCDS_SHARD_COUNT", "4"),
        "an unknown flag": lambda d: shard_container(d)["args"].append("--shards-total"),
        "an environment variable the harness does not read": lambda d: shard_container(d)["env"].append(
            {"name": "TPCDS_SHARD_TOTAL", "value": "3"}),
        "a start time without a zone": lambda d: set_env(d, "TPCDS_START_AT", "2026-12-05T18:00:00"),
        "an unmounted report path": lambda d: shard_container(d)["args"].__setitem__(-1, "/data"),
        "a scenario with fewer workers than shards": lambda d: d[("shards.yaml", "ConfigMap", "tpcds-bench-scenario")]
        ["data"].__setitem__("scenario.toml", d[("shards.yaml", "ConfigMap", "tpcds-bench-scenario")]["data"]
                             ["scenario.toml"].replace("workers = 6", "workers = 2")),
        "a merge pattern for another start": lambda d: set_env(d, "TPCDS_START_AT", "2026-12-05T19:00:00Z"),
        "a job that is not Indexed": lambda d: d[("shards.yaml", "Job", "tpcds-bench-shards")]["spec"].pop(
            "completionMode"),
    }
    return [(f"self-test: {what} is caught", bool(broken(m)), "the checker did not notice")
            for what, m in cases.items()]


def main():
    try:
        docs = load()
    except yaml.YAMLError as e:
        print(f"FAIL deploy/k8s does not parse: {e}")
        return 1
    results = Checker(docs).run()
    if "--self-test" in sys.argv[1:]:
        results += self_test(docs)
    return 0 if report(results) else 1


if __name__ == "__main__":
    sys.exit(main())
