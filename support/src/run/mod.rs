//! Running a documented command as written: the text goes to bash unchanged but for `@path@`
//! markers, with `set -o pipefail`, stdin closed, a timeout that ends the whole process group
//! (which also ends, when the command returns, what it left running in the background),
//! output (bounded as [`crate::process`] bounds every tool's output) and exit status kept as
//! evidence.
//!
//! Before it runs, a command is read into shell words ([`words`]) and
//! - refused if it names another kubeconfig, context, server or credentials ([`guard`]);
//! - recorded not applicable, with why, if the provider cannot perform it ([`applicability`]).
//!
//! What it runs in ([`env`]): a working directory that is a view of the Istio release in use
//! (`samples/`, `manifests/`, … linked; `istio` and `istio-<version>` link to the view itself, so
//! `./istio/samples/…` and `samples/…` both resolve; `bin/` holds the run's pinned `kubectl` and
//! `istioctl` and comes first on `PATH`), `HOME` and `KUBECONFIG` in the run's private state, and
//! an environment built from an allow-list, never inherited.

pub mod applicability;
pub mod env;
pub mod guard;
pub mod kubectl;
pub mod local_copy;
pub mod words;

use std::path::PathBuf;
use std::time::Duration;

pub use applicability::NotApplicable;
pub use env::{PinnedTools, RunDir, RunSetup};
pub use guard::{GuardError, Refusal};

use crate::process::ProcessError;
use crate::settings::Provider;

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
}

impl Exit {
    pub fn success(self) -> bool {
        self == Exit::Code(0)
    }
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exit::Code(c) => write!(f, "exit status {c}"),
            Exit::Signal(s) => write!(f, "signal {s}"),
        }
    }
}

/// What a command that ran left behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// The text bash was given (the document's text, `@path@` markers resolved).
    pub command: String,
    pub stdout: String,
    pub stderr: String,
    pub exit: Exit,
    pub elapsed: Duration,
    /// The values the caller asked to carry ([`Runner::run_carrying`]), `(name, value)`, read
    /// from the run's private directory after the command exited 0; names left unset are absent.
    pub carried: Vec<(String, String)>,
}

/// What happened to one documented command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ran(Evidence),
    /// Not run: it names another cluster or credentials, or cannot be read as shell words.
    Refused(GuardError),
    /// Not run: the provider cannot perform it.
    NotApplicable(NotApplicable),
    /// Killed (with its whole process group) after the timeout.
    TimedOut {
        command: String,
        after: Duration,
        stderr_tail: String,
    },
    /// bash could not be started.
    NotStarted {
        command: String,
        reason: String,
    },
}

/// What the runner will do with a command text, decided before anything runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Run this text (markers resolved).
    Run(String),
    Refused(GuardError),
    NotApplicable(NotApplicable),
}

/// Runs documented commands in one run's private directory.
#[derive(Debug, Clone)]
pub struct Runner {
    dir: RunDir,
    provider: Provider,
    timeout: Duration,
}

impl Runner {
    /// A runner over a prepared [`RunDir`].
    pub fn new(dir: RunDir, provider: Provider, timeout: Duration) -> Self {
        Runner {
            dir,
            provider,
            timeout,
        }
    }

    pub fn dir(&self) -> &RunDir {
        &self.dir
    }

    /// Refused, not applicable, or the text to run. Pure: reads nothing but `text`.
    pub fn decide(&self, text: &str) -> Decision {
        let resolved = self.dir.resolve_markers(text);
        if let Err(refused) = guard::check(&resolved) {
            return Decision::Refused(refused);
        }
        // The guard parsed it already; this parse cannot fail where the guard's did not.
        let script = match words::parse(&resolved) {
            Ok(script) => script,
            Err(e) => return Decision::Refused(GuardError::Unreadable(e)),
        };
        match applicability::check(&script, self.provider) {
            Some(not) => Decision::NotApplicable(not),
            None => Decision::Run(resolved),
        }
    }

    /// Decides, then runs the command through bash if it may run.
    pub async fn run(&self, text: &str) -> Outcome {
        self.run_carrying(text, &[]).await
    }

    /// [`Runner::run`], and when the command exits 0, the values of the variables `names` it
    /// set ([`Evidence::carried`]): a trailer after the command's own text writes them, NUL
    /// separated (a shell value holds no NUL), to a file in the run's private directory, never
    /// to the output that is compared. The command itself runs once, as written.
    pub async fn run_carrying(&self, text: &str, names: &[String]) -> Outcome {
        let resolved = match self.decide(text) {
            Decision::Run(resolved) => resolved,
            Decision::Refused(e) => return Outcome::Refused(e),
            Decision::NotApplicable(n) => return Outcome::NotApplicable(n),
        };
        let names: Vec<&str> = names
            .iter()
            .map(String::as_str)
            .filter(|n| words::is_variable_name(n))
            .collect();
        let carried_file = self.dir.carried_file();
        // A file left by an earlier command must never pass for this one's values.
        let _ = std::fs::remove_file(&carried_file);
        let script = if names.is_empty() {
            resolved.clone()
        } else {
            carrying_trailer(&resolved, &names, &carried_file)
        };
        let cmd = self
            .dir
            .tools()
            .command("bash")
            .args(["--noprofile", "--norc", "-o", "pipefail", "-c"])
            .arg(&script)
            .clear_env()
            .current_dir(self.dir.work())
            .timeout(self.timeout);
        let cmd = self
            .dir
            .environment()
            .into_iter()
            .filter(|(k, _)| k != "PATH")
            .fold(cmd, |cmd, (k, v)| cmd.env(k, v));
        match cmd.run_unchecked().await {
            Ok((status, output)) => {
                let exit = exit_of(&status);
                let carried = if exit.success() && !names.is_empty() {
                    read_carried(&carried_file)
                } else {
                    Vec::new()
                };
                let _ = std::fs::remove_file(&carried_file);
                Outcome::Ran(Evidence {
                    command: resolved,
                    stdout: output.stdout,
                    stderr: output.stderr,
                    exit,
                    elapsed: output.elapsed,
                    carried,
                })
            }
            Err(ProcessError::Timeout {
                timeout,
                stderr_tail,
                ..
            }) => Outcome::TimedOut {
                command: resolved,
                after: timeout,
                stderr_tail,
            },
            Err(e) => Outcome::NotStarted {
                command: resolved,
                reason: crate::errors::chain(&e),
            },
        }
    }
}

/// The command's text, then: keep its status; if 0, write `name NUL set-or-empty NUL value NUL`
/// for each name to `file`; end with its status.
fn carrying_trailer(text: &str, names: &[&str], file: &std::path::Path) -> String {
    let mut out = String::with_capacity(text.len() + 64 * (names.len() + 2));
    out.push_str(text);
    out.push_str("\n__ambient_status=$?\nif [ \"$__ambient_status\" -eq 0 ]; then { ");
    for n in names {
        out.push_str(&format!(
            "printf '%s\\0' {n} \"${{{n}+set}}\" \"${{{n}-}}\"; "
        ));
    }
    out.push_str(&format!(
        "}} > {}; fi\nexit \"$__ambient_status\"\n",
        words::quote(&file.display().to_string())
    ));
    out
}

/// At most this much of a carried-values file is read.
const CARRIED_LIMIT: u64 = 1 << 20;

/// The `(name, value)` pairs of a file [`carrying_trailer`] wrote; names left unset are absent,
/// a missing or cut file carries nothing more than its whole triples.
fn read_carried(file: &std::path::Path) -> Vec<(String, String)> {
    use std::io::Read;
    let mut bytes = Vec::new();
    let Ok(f) = std::fs::File::open(file) else {
        return Vec::new();
    };
    if f.take(CARRIED_LIMIT).read_to_end(&mut bytes).is_err() {
        return Vec::new();
    }
    parse_carried(&bytes)
}

fn parse_carried(bytes: &[u8]) -> Vec<(String, String)> {
    let fields: Vec<&[u8]> = bytes.split(|b| *b == 0).collect();
    fields
        .chunks_exact(3)
        .filter(|t| t[1] == b"set")
        .map(|t| {
            (
                String::from_utf8_lossy(t[0]).into_owned(),
                String::from_utf8_lossy(t[2]).into_owned(),
            )
        })
        .filter(|(n, _)| words::is_variable_name(n))
        .collect()
}

fn exit_of(status: &std::process::ExitStatus) -> Exit {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => Exit::Code(code),
        (None, Some(sig)) => Exit::Signal(sig),
        _ => Exit::Code(-1),
    }
}

/// Errors preparing a run's directory.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(
        "preparing the run's directory {path}: {source}; check that the state directory is writable"
    )]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{what} {path} is not an executable file: {hint}")]
    Tool {
        what: &'static str,
        path: PathBuf,
        hint: &'static str,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carried_values_are_whole_triples_of_set_names() {
        let bytes = b"A\0set\0x y\0B\0\0\0C\0set\0\0bad-name\0set\0v\0D\0set";
        assert_eq!(
            parse_carried(bytes),
            [
                ("A".to_string(), "x y".to_string()),
                ("C".to_string(), String::new())
            ]
        );
        assert!(parse_carried(b"").is_empty());
    }

    #[test]
    fn the_trailer_writes_only_after_success_and_keeps_the_status() {
        let t = carrying_trailer(
            "kubectl get x",
            &["A", "B"],
            std::path::Path::new("/s/it's"),
        );
        assert!(t.starts_with("kubectl get x\n__ambient_status=$?\n"), "{t}");
        assert!(t.contains("if [ \"$__ambient_status\" -eq 0 ]"), "{t}");
        assert!(
            t.contains("printf '%s\\0' A \"${A+set}\" \"${A-}\";"),
            "{t}"
        );
        assert!(t.contains("printf '%s\\0' B "), "{t}");
        assert!(t.contains("> '/s/it'\\''s'; fi"), "{t}");
        assert!(t.ends_with("exit \"$__ambient_status\"\n"), "{t}");
    }
}
