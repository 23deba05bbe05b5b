//! How a fault reaches the stack: the native stack's `scripts/stack.sh
//! stop|kill|start COMPONENT`, or `docker compose stop|kill|start SERVICE`.
//!
//! The controller is chosen before the run starts ([`Controller::resolve`])
//! and every fault's target is checked then ([`Controller::check`]): a stack
//! this harness cannot control is refused (exit code 3) before any load, not
//! discovered half-way through a run.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use thiserror::Error;
use tokio::process::Command;

use crate::scenario::{Control, ControlMode, FaultAction, FaultTarget};

/// The Flink jobs with a MySQL CDC source (`flink-sql/` stems): the ones a
/// snapshot (`[snapshot]`) cancels and submits anew. The Kafka → warehouse
/// job goes on from its offsets.
pub const CDC_JOBS: [&str; 2] = ["mysql-cdc-to-kafka", "mysql-cdc-to-cloudberry"];

/// Environment variable naming the native stack's `scripts/stack.sh`.
pub const STACK_CONTROL_ENV: &str = "TPCDS_STACK_CONTROL";

/// The stack cannot be controlled from here.
#[derive(Debug, Error)]
pub enum ControlError {
    /// No way to reach the stack's controls.
    #[error("cannot control the stack for [[faults]]: {reason}; {what_to_do}")]
    Uncontrollable {
        /// Why not.
        reason: String,
        /// What the user can do.
        what_to_do: String,
    },
    /// A control command failed.
    #[error("`{command}` failed ({status}): {output}")]
    Failed {
        /// The command line.
        command: String,
        /// Exit status.
        status: String,
        /// The end of its output.
        output: String,
    },
}

/// The stack's controls, as resolved for this run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Controller {
    /// `scripts/stack.sh` of the native stack.
    Native {
        /// The script's path.
        script: PathBuf,
    },
    /// `docker compose -f FILE`.
    Compose {
        /// The compose file.
        file: PathBuf,
    },
}

/// A failed command's message keeps at most this many lines of its stderr
/// (the script's error, and the first error lines of what it ran) …
const ERROR_LINES: usize = 16;
/// … and at most this many bytes of them (or of the end of its stdout when
/// it wrote nothing to stderr).
const OUTPUT_MAX: usize = 1500;

impl Controller {
    /// Picks the controls `control` asks for. `scenario_dir` is where the
    /// scenario file lives: `scripts/stack.sh` is looked for in the current
    /// directory, then beside the scenario's parent (a repository checkout).
    pub fn resolve(control: &Control, scenario_dir: Option<&Path>) -> Result<Self, ControlError> {
        // Absolute: the restore command a report prints must run from anywhere.
        let native =
            native_script(control, scenario_dir).map(|p| std::fs::canonicalize(&p).unwrap_or(p));
        let docker = on_path("docker");
        match control.mode {
            ControlMode::Native => native
                .map(|script| Controller::Native { script })
                .ok_or_else(no_script),
            ControlMode::Compose if docker => Ok(Controller::Compose {
                file: PathBuf::from(&control.compose_file),
            }),
            ControlMode::Compose => Err(no_docker()),
            ControlMode::Auto => match native {
                Some(script) => Ok(Controller::Native { script }),
                None if docker => Ok(Controller::Compose {
                    file: PathBuf::from(&control.compose_file),
                }),
                None => Err(ControlError::Uncontrollable {
                    reason: "neither the native stack's scripts/stack.sh nor `docker` was found".into(),
                    what_to_do: format!(
                        "run from the repository (scripts/stack.sh), set {STACK_CONTROL_ENV} or control.script to its path, \
                         or install docker for control.mode = \"compose\""
                    ),
                }),
            },
        }
    }

    /// Whether `target` is controllable: the native script must have started
    /// it (its pid file, not `TPCDS_EXTERNAL`); compose needs the compose file.
    pub async fn check(&self, target: FaultTarget) -> Result<(), ControlError> {
        match self {
            Controller::Native { script } => {
                let mut cmd = Command::new(script);
                cmd.arg("can-control").arg(target.name());
                run(cmd, &format!("{} can-control {}", script.display(), target.name()))
                    .await
                    .map(|_| ())
                    .map_err(|e| match e {
                        ControlError::Failed { output, .. } => ControlError::Uncontrollable {
                            reason: output.trim().to_string(),
                            what_to_do: "start the stack with scripts/stack.sh up (same TPCDS_STACK_DIR and ports), \
                                         or remove this fault"
                                .into(),
                        },
                        other => other,
                    })
            }
            // Resuming resubmits the job's SQL with the savepoint path: only
            // the native stack's script does that.
            Controller::Compose { .. } if target.is_job() => Err(ControlError::Uncontrollable {
                reason: format!(
                    "pausing the Flink job {} needs the native stack's scripts/stack.sh (it resubmits the job's SQL from the savepoint)",
                    target.name()
                ),
                what_to_do: "use control.mode = \"native\", or restart/kill a component instead".into(),
            }),
            Controller::Compose { file } if file.is_file() => Ok(()),
            Controller::Compose { file } => Err(ControlError::Uncontrollable {
                reason: format!("the compose file {} does not exist", file.display()),
                what_to_do: "set control.compose_file to the stack's docker-compose.yml".into(),
            }),
        }
    }

    /// The command that takes `target` down.
    pub fn down(&self, action: FaultAction, target: FaultTarget) -> (Command, String) {
        let verb = match action {
            FaultAction::Restart => "stop",
            FaultAction::Kill => "kill",
            FaultAction::Pause => "pause",
        };
        self.command(verb, target)
    }

    /// The command that brings `target` back (a paused job: resubmitted
    /// from its savepoint).
    pub fn up(&self, target: FaultTarget) -> (Command, String) {
        self.command(if target.is_job() { "resume" } else { "start" }, target)
    }

    fn command(&self, verb: &str, target: FaultTarget) -> (Command, String) {
        match self {
            Controller::Native { script } => {
                let mut cmd = Command::new(script);
                cmd.arg(verb).arg(target.name());
                let line = format!("{} {verb} {}", script.display(), target.name());
                (cmd, line)
            }
            Controller::Compose { file } => {
                let service = compose_service(target);
                let mut cmd = Command::new("docker");
                cmd.arg("compose")
                    .arg("-f")
                    .arg(file)
                    .arg(verb)
                    .arg(service);
                let line = format!("docker compose -f {} {verb} {service}", file.display());
                (cmd, line)
            }
        }
    }

    /// The shell command a user runs to bring `target` back, exactly: the
    /// native script by its absolute path with the stack directory it acts
    /// on (`TPCDS_STACK_DIR`, as the run had it), so it works from any
    /// directory and checkout.
    pub fn restore_line(&self, target: FaultTarget) -> String {
        match self {
            Controller::Native { script } => {
                let verb = if target.is_job() { "resume" } else { "start" };
                let line = format!(
                    "{} {verb} {}",
                    shell_quote(&script.to_string_lossy()),
                    target.name()
                );
                stack_command(script, &line)
            }
            Controller::Compose { .. } => self.up(target).1,
        }
    }

    /// Runs the native stack's `scripts/stack.sh ARGS…` (the snapshot
    /// phase's `cancel-jobs` and `restart-jobs --fresh`); the compose stack
    /// cannot submit Flink SQL jobs from here.
    pub async fn stack(&self, args: &[&str]) -> Result<String, ControlError> {
        match self {
            Controller::Native { script } => {
                let mut cmd = Command::new(script);
                cmd.args(args);
                run(cmd, &format!("{} {}", script.display(), args.join(" "))).await
            }
            Controller::Compose { .. } => Err(ControlError::Uncontrollable {
                reason: format!(
                    "`{}` needs the native stack's scripts/stack.sh (it renders and submits the jobs' SQL)",
                    args.join(" ")
                ),
                what_to_do: "use control.mode = \"native\" with the native stack".into(),
            }),
        }
    }

    /// `native` or `compose`.
    pub fn kind(&self) -> &'static str {
        match self {
            Controller::Native { .. } => "native",
            Controller::Compose { .. } => "compose",
        }
    }
}

/// The docker-compose service of a target (`docker-compose.yml`).
pub fn compose_service(target: FaultTarget) -> &'static str {
    match target {
        FaultTarget::Mysql => "mysql",
        FaultTarget::Kafka => "kafka",
        // The warehouse service of the active profile.
        FaultTarget::Warehouse => {
            if std::env::var("COMPOSE_PROFILES").is_ok_and(|p| p.contains("postgres")) {
                "postgres"
            } else {
                "cloudberry"
            }
        }
        FaultTarget::FlinkJobmanager => "jobmanager",
        FaultTarget::FlinkTaskmanager => "taskmanager",
        // Refused by `check` before any run: jobs live on the JobManager.
        FaultTarget::JobCdcToKafka
        | FaultTarget::JobKafkaToWarehouse
        | FaultTarget::JobCdcToWarehouse
        | FaultTarget::JobAnalytics => "jobmanager",
    }
}

/// `line` (a `scripts/stack.sh …` command) prefixed with the stack directory
/// it acts on: `TPCDS_STACK_DIR` when set, else the script's checkout's
/// `.stack` (scripts/stack/lib.sh's default), shell-quoted.
pub fn stack_command(script: &Path, line: &str) -> String {
    let dir = std::env::var_os("TPCDS_STACK_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            script
                .parent()
                .and_then(Path::parent)
                .map(|root| root.join(".stack"))
        });
    match dir {
        Some(d) => format!(
            "TPCDS_STACK_DIR={} {line}",
            shell_quote(&d.to_string_lossy())
        ),
        None => line.to_string(),
    }
}

/// `s` as one shell word: as it is when it is plain, else single-quoted.
fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Runs a control command to completion. On failure the error holds its
/// exit status and the first lines of its stderr (where the stack script
/// writes its error and the first error lines of the command that failed
/// under it), redacted: the real cause, not the end of a log.
pub async fn run(mut cmd: Command, line: &str) -> Result<String, ControlError> {
    cmd.stdin(Stdio::null()).kill_on_drop(true);
    let out = cmd.output().await.map_err(|e| ControlError::Failed {
        command: line.to_string(),
        status: "could not start".into(),
        output: e.to_string(),
    })?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if out.status.success() {
        return Ok(crate::redact::redact_text(&tail(&stdout, OUTPUT_MAX)).into_owned());
    }
    Err(ControlError::Failed {
        command: line.to_string(),
        status: out.status.to_string(),
        output: crate::redact::redact_text(&error_text(
            &String::from_utf8_lossy(&out.stderr),
            &stdout,
        ))
        .into_owned(),
    })
}

/// The first [`ERROR_LINES`] non-empty lines of `stderr` (at most
/// [`OUTPUT_MAX`] bytes), or the end of `stdout` when stderr is empty.
fn error_text(stderr: &str, stdout: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() {
        return tail(stdout.trim_end(), OUTPUT_MAX);
    }
    let mut text = lines[..lines.len().min(ERROR_LINES)].join("\n");
    if lines.len() > ERROR_LINES {
        text.push_str("\n…");
    }
    head(&text, OUTPUT_MAX)
}

fn head(s: &str, n: usize) -> String {
    if s.len() <= n {
        return s.to_string();
    }
    let mut cut = n;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}…", &s[..cut])
}

fn tail(s: &str, n: usize) -> String {
    if s.len() <= n {
        return s.to_string();
    }
    let mut cut = s.len() - n;
    while !s.is_char_boundary(cut) {
        cut += 1;
    }
    format!("…{}", &s[cut..])
}

fn native_script(control: &Control, scenario_dir: Option<&Path>) -> Option<PathBuf> {
    if let Some(s) = &control.script {
        return Some(PathBuf::from(s)).filter(|p| p.is_file());
    }
    if let Some(s) = std::env::var_os(STACK_CONTROL_ENV).filter(|s| !s.is_empty()) {
        return Some(PathBuf::from(s)).filter(|p| p.is_file());
    }
    let here = PathBuf::from("scripts/stack.sh");
    if here.is_file() {
        return Some(here);
    }
    scenario_dir
        .and_then(|d| d.parent())
        .map(|d| d.join("scripts/stack.sh"))
        .filter(|p| p.is_file())
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
}

fn no_script() -> ControlError {
    ControlError::Uncontrollable {
        reason: "control.mode = \"native\" but scripts/stack.sh was not found".into(),
        what_to_do: format!(
            "run from the repository, or set {STACK_CONTROL_ENV} or control.script to the path of scripts/stack.sh"
        ),
    }
}

fn no_docker() -> ControlError {
    ControlError::Uncontrollable {
        reason: "control.mode = \"compose\" but `docker` is not on PATH".into(),
        what_to_do: "install docker (with the compose plugin), or use the native stack (control.mode = \"native\")"
            .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_mapping_uses_the_compose_services() {
        let c = Controller::Compose {
            file: PathBuf::from("docker-compose.yml"),
        };
        let (_, line) = c.down(FaultAction::Restart, FaultTarget::Kafka);
        assert_eq!(line, "docker compose -f docker-compose.yml stop kafka");
        let (_, line) = c.down(FaultAction::Kill, FaultTarget::FlinkTaskmanager);
        assert_eq!(
            line,
            "docker compose -f docker-compose.yml kill taskmanager"
        );
        let (_, line) = c.up(FaultTarget::FlinkJobmanager);
        assert_eq!(
            line,
            "docker compose -f docker-compose.yml start jobmanager"
        );
    }

    #[test]
    fn native_mapping_uses_the_stack_script() {
        let c = Controller::Native {
            script: PathBuf::from("scripts/stack.sh"),
        };
        assert_eq!(
            c.down(FaultAction::Kill, FaultTarget::Mysql).1,
            "scripts/stack.sh kill mysql"
        );
        assert_eq!(
            c.up(FaultTarget::Warehouse).1,
            "scripts/stack.sh start warehouse"
        );
    }

    #[test]
    fn a_missing_script_is_refused_by_name() {
        let control = Control {
            mode: ControlMode::Native,
            script: Some("/nonexistent/stack.sh".into()),
            compose_file: "docker-compose.yml".into(),
        };
        let e = Controller::resolve(&control, None).unwrap_err().to_string();
        assert!(e.contains("scripts/stack.sh was not found"), "{e}");
    }

    #[test]
    fn output_tail_keeps_the_end() {
        assert_eq!(tail("abcdef", 3), "…def");
        assert_eq!(tail("ab", 3), "ab");
    }

    // The stack script prints the failing command's first error lines, then
    // its own ERROR line, on stderr; its progress goes to stdout. The message
    // keeps stderr from its start (the cause), not the end of everything.
    #[test]
    fn a_failure_keeps_the_first_error_lines_of_stderr() {
        let stderr = "           | bash: /x/.cache/flink-1.20.3/bin/sql-client.sh: No such file or directory\n\
                      16:00:00 [stack] ERROR: job kafka-to-cloudberry: `sql-client.sh -f …` exited 127\n";
        let text = error_text(stderr, "16:00:00 [stack] progress\n");
        assert!(text.starts_with("| bash: /x/.cache"), "{text}");
        assert!(text.contains("exited 127"), "{text}");
        assert!(!text.contains("progress"), "{text}");
        let many: String = (0..40).map(|i| format!("line {i}\n")).collect();
        let text = error_text(&many, "");
        assert!(
            text.starts_with("line 0\n") && text.ends_with("…"),
            "{text}"
        );
        assert!(!text.contains("line 16"), "{text}");
        assert_eq!(error_text("", "a\nthe end\n"), "a\nthe end");
    }

    #[test]
    fn the_restore_command_names_the_stack_directory() {
        let line = stack_command(
            Path::new("/a b/scripts/stack.sh"),
            "/a b/scripts/stack.sh resume x",
        );
        let want_dir = std::env::var("TPCDS_STACK_DIR").unwrap_or_else(|_| "/a b/.stack".into());
        assert!(line.starts_with("TPCDS_STACK_DIR="), "{line}");
        assert!(line.contains(&shell_quote(&want_dir)), "{line}");
        assert_eq!(shell_quote("/plain/path"), "/plain/path");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
    }
}
