//! Atomic run-directory writes: everything is rendered into a hidden staging
//! directory next to the target and renamed into place only when every exporter
//! succeeded, so an aborted or failing write never leaves a half-written run.
//! A re-render replaces only the files it writes: a run directory is also
//! where users keep their notes and a gate's verdict.

use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::data::RunData;
use super::{default_exporters, Exporter, ReportError};

/// Removes a staging directory unless disarmed.
struct Staging {
    path: PathBuf,
    armed: bool,
}

impl Staging {
    fn create(path: PathBuf) -> Result<Self, ReportError> {
        if path.exists() {
            // Left over from a crashed process with our pid; it was never renamed.
            fs::remove_dir_all(&path).map_err(|source| ReportError::Io {
                path: path.clone(),
                source,
            })?;
        }
        fs::create_dir_all(&path).map_err(|source| ReportError::Io {
            path: path.clone(),
            source,
        })?;
        Ok(Staging { path, armed: true })
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if self.armed {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// Keeps letters, digits, `-` and `_`; everything else becomes `-`.
fn slug(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_matches('-');
    if s.is_empty() {
        "run".to_string()
    } else {
        s.to_string()
    }
}

/// A run id: `<UTC start, YYYYmmddTHHMMSSZ>-<scenario slug>`, also the default
/// directory name, so the `run` command can name a run before it has a [`RunData`].
pub fn run_id(started_at: DateTime<Utc>, scenario: &str) -> String {
    format!("{}-{}", started_at.format("%Y%m%dT%H%M%SZ"), slug(scenario))
}

/// The directory name of a run: [`run_id`] of its start and scenario; a
/// shard's says which shard (`-shard1of3`), a merged run's `-merged`, so the
/// shards of one run can write into one directory without taking turns.
pub fn run_dir_name(run: &RunData) -> String {
    let id = run_id(run.started_at, &run.scenario);
    match run.shards.as_slice() {
        [] => id,
        [one] => format!("{id}-shard{}of{}", one.index, one.count),
        _ => format!("{id}-merged"),
    }
}

fn render_into(
    dir: &Path,
    run: &RunData,
    exporters: &[Box<dyn Exporter>],
) -> Result<(), ReportError> {
    for e in exporters {
        e.export(run, dir)?;
    }
    Ok(())
}

fn staging_path(parent: &Path, name: &str, what: &str) -> PathBuf {
    parent.join(format!(".{name}.{what}-{}", std::process::id()))
}

/// Writes the full run directory under `reports_root` and returns its path.
/// A name already taken gets a `-2`, `-3`... suffix rather than being overwritten.
pub fn write_run_dir(reports_root: &Path, run: &RunData) -> Result<PathBuf, ReportError> {
    write_run_dir_with(reports_root, run, &default_exporters())
}

/// [`write_run_dir`] with an explicit exporter list.
pub fn write_run_dir_with(
    reports_root: &Path,
    run: &RunData,
    exporters: &[Box<dyn Exporter>],
) -> Result<PathBuf, ReportError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ReportError::Io { path, source }
    };
    fs::create_dir_all(reports_root).map_err(io(reports_root))?;
    let base = run_dir_name(run);
    let mut staging = Staging::create(staging_path(reports_root, &base, "tmp"))?;
    render_into(&staging.path, run, exporters)?;
    let mut n = 1;
    loop {
        let name = if n == 1 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        let target = reports_root.join(&name);
        if !target.exists() {
            fs::rename(&staging.path, &target).map_err(io(&target))?;
            staging.armed = false;
            return Ok(target);
        }
        n += 1;
    }
}

/// Re-renders an existing run directory in place (for `tpcds-bench report`):
/// the new files are staged beside it, and only when every exporter
/// succeeded each replaces its old version by one rename, so a reader sees a
/// whole old file or a whole new one. Files the exporters do not write (a
/// user's notes, a saved `gate.md`) are left as they are; before, the whole
/// directory was swapped and they were deleted.
pub fn rewrite_run_dir(dir: &Path, run: &RunData) -> Result<(), ReportError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ReportError::Io { path, source }
    };
    let parent = dir.parent().unwrap_or(Path::new("."));
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| run_dir_name(run));
    let staging = Staging::create(staging_path(parent, &name, "tmp"))?;
    render_into(&staging.path, run, &default_exporters())?;
    for entry in fs::read_dir(&staging.path).map_err(io(&staging.path))? {
        let from = entry.map_err(io(&staging.path))?.path();
        let to = dir.join(from.file_name().unwrap_or_default());
        fs::rename(&from, &to).map_err(io(&to))?;
    }
    // The staging directory is empty now; dropping it removes it.
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testdata::tiny_run;
    use crate::report::{load_run, write_file};

    /// Writes one file, then fails: what a crash mid-report looks like.
    struct FailAfterWriting;

    impl Exporter for FailAfterWriting {
        fn name(&self) -> &'static str {
            "broken"
        }
        fn export(&self, _run: &RunData, dir: &Path) -> Result<(), ReportError> {
            write_file(dir, "partial.txt", b"half")?;
            Err(ReportError::Chart {
                name: "broken".into(),
                message: "injected failure".into(),
            })
        }
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_failing_exporter_leaves_nothing_behind() {
        let tmp = tempfile::tempdir().unwrap();
        let mut exporters = default_exporters();
        exporters.push(Box::new(FailAfterWriting));
        let e = write_run_dir_with(tmp.path(), &tiny_run(), &exporters).unwrap_err();
        assert!(e.to_string().contains("injected"), "{e}");
        assert_eq!(entries(tmp.path()), Vec::<String>::new());
    }

    #[test]
    fn complete_write_has_every_file_and_no_staging_dir() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = write_run_dir(tmp.path(), &tiny_run()).unwrap();
        assert_eq!(
            entries(tmp.path()),
            vec!["20260301T120000Z-tiny".to_string()]
        );
        assert_eq!(
            entries(&dir),
            [
                "client.hlog",
                "kafka.hlog",
                "latency-over-time.png",
                "latency-over-time.svg",
                "latency-percentiles.png",
                "latency-percentiles.svg",
                "latency.csv",
                "path1.hlog",
                "report.html",
                "scenario.toml",
                "summary.json",
                "summary.md",
                "timeseries.csv",
            ]
            .map(String::from)
        );
    }

    #[test]
    fn interrupted_runs_are_written_completely_and_marked() {
        let tmp = tempfile::tempdir().unwrap();
        let mut run = tiny_run();
        run.interrupted = true;
        let dir = write_run_dir(tmp.path(), &run).unwrap();
        assert!(load_run(&dir).unwrap().summary.interrupted);
        let md = fs::read_to_string(dir.join("summary.md")).unwrap();
        assert!(md.contains("**Interrupted:**"), "{md}");
    }

    #[test]
    fn rewrite_replaces_the_directory_in_place() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = write_run_dir(tmp.path(), &tiny_run()).unwrap();
        fs::write(dir.join("summary.md"), "stale").unwrap();
        let loaded = load_run(&dir).unwrap();
        rewrite_run_dir(&dir, &loaded.run).unwrap();
        assert_ne!(fs::read_to_string(dir.join("summary.md")).unwrap(), "stale");
        assert_eq!(
            entries(tmp.path()),
            vec!["20260301T120000Z-tiny".to_string()]
        );
    }

    #[test]
    fn rewrite_keeps_every_file_it_did_not_write() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = write_run_dir(tmp.path(), &tiny_run()).unwrap();
        let written = entries(&dir);
        fs::write(dir.join("notes.txt"), "why this run was slow").unwrap();
        fs::write(dir.join("gate.md"), "## tpcds-bench gate").unwrap();
        fs::create_dir(dir.join("extra")).unwrap();
        fs::write(dir.join("extra/trace.log"), "x").unwrap();
        rewrite_run_dir(&dir, &load_run(&dir).unwrap().run).unwrap();
        assert_eq!(
            fs::read_to_string(dir.join("notes.txt")).unwrap(),
            "why this run was slow"
        );
        assert_eq!(
            fs::read_to_string(dir.join("gate.md")).unwrap(),
            "## tpcds-bench gate"
        );
        assert_eq!(
            fs::read_to_string(dir.join("extra/trace.log")).unwrap(),
            "x"
        );
        let mut want = written;
        want.extend(["extra", "gate.md", "notes.txt"].map(String::from));
        want.sort();
        assert_eq!(entries(&dir), want);
        // No staging directory is left beside the run.
        assert_eq!(
            entries(tmp.path()),
            vec!["20260301T120000Z-tiny".to_string()]
        );
    }

    #[test]
    fn names_are_safe_slugs() {
        let mut run = tiny_run();
        run.scenario = "../high throughput/ü".into();
        assert_eq!(run_dir_name(&run), "20260301T120000Z-high-throughput");
        run.scenario = "///".into();
        assert_eq!(run_dir_name(&run), "20260301T120000Z-run");
    }

    #[test]
    fn no_password_reaches_any_file() {
        let tmp = tempfile::tempdir().unwrap();
        let mut run = tiny_run();
        let dsn = "mysql://root:root123@127.0.0.1:3306/business_db";
        run.scenario_source = format!("[targets]\nmysql = \"{dsn}\"\n");
        run.resolved_scenario = serde_json::json!({ "targets": { "mysql": dsn } });
        run.environment.insert("dsn".into(), dsn.into());
        run.caveats.push(format!("could not reach {dsn}").into());
        run.slo.breaches.push(format!("{dsn} too slow"));
        // Issue 22: secrets that are no URL password, under secret-looking names.
        run.scenario_source
            .push_str("[control]\nenv = { KAFKA_PASSWORD = \"root123\" }\n");
        run.environment
            .insert("flink.setting.s3.secret-key".into(), "root123".into());
        run.resolved_scenario["token"] = "root123".into();
        let dir = write_run_dir(tmp.path(), &run).unwrap();
        for name in entries(&dir) {
            let bytes = fs::read(dir.join(&name)).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            assert!(!text.contains("root123"), "{name} leaks the password");
        }
        let scenario = fs::read_to_string(dir.join("scenario.toml")).unwrap();
        assert!(scenario.contains("mysql://root:***@127.0.0.1:3306/business_db"));
    }
}
