//! What a child process may execute, enforced by the kernel (Landlock, Linux 5.13+, through the
//! Landlock maintainers' `landlock` crate): a process started inside an [`ExecJail`] and all its
//! descendants can execve only the allowed files and the files beneath the allowed directories.
//! Nothing else (reading, writing, networking) is restricted. The sim provider starts kwok this
//! way: kwok runs `kubectl exec` commands as local processes, and the jail makes "only the replay
//! programs" true by construction rather than by `PATH` (an absolute path such as `/usr/bin/id`,
//! or `/bin/sh`, is refused with EACCES).
//!
//! The jail is applied before the jailed program's own execve, so that program must be allowed
//! too; the sim provider allows a private copy of kwok and makes it non-executable (mode 0600)
//! once kwok runs, so nothing inside can start kwok again (not even through `/proc/self/exe`).

use std::path::Path;

pub use landlock::LandlockStatus;
use landlock::{
    ABI, AccessFs, CompatLevel, Compatible, PathBeneath, PathFd, Ruleset, RulesetAttr,
    RulesetCreated, RulesetCreatedAttr, RulesetStatus,
};

#[derive(Debug, thiserror::Error)]
pub enum JailError {
    #[error(
        "the kernel does not offer Landlock ({0}); it needs Linux 5.13+ with landlock in its LSM \
         list (boot parameter lsm=...,landlock)"
    )]
    Unsupported(String),
    #[error("allowing {path}: {reason}")]
    Path { path: String, reason: String },
    #[error("creating the Landlock ruleset: {0}")]
    Ruleset(String),
}

/// What the kernel offers, as the crate reports it: `Available { effective_abi, kernel_abi }`,
/// `NotEnabled` or `NotImplemented`.
///
/// The crate tells it only in the status of a restriction, so this restricts a thread of its own
/// that ends at once, with a rule that still allows executing anything.
pub fn kernel_status() -> LandlockStatus {
    let probe = || -> Option<LandlockStatus> {
        let status = Ruleset::default()
            .handle_access(AccessFs::Execute)
            .ok()?
            .create()
            .ok()?
            .add_rule(PathBeneath::new(PathFd::new("/").ok()?, AccessFs::Execute))
            .ok()?
            .restrict_self()
            .ok()?;
        Some(status.landlock)
    };
    std::thread::spawn(probe)
        .join()
        .ok()
        .flatten()
        .unwrap_or(LandlockStatus::NotImplemented)
}

/// One line for logs and diagnostics: `Landlock ABI 7` or why there is none.
pub fn describe(status: LandlockStatus) -> String {
    match status {
        LandlockStatus::Available {
            effective_abi,
            kernel_abi,
        } => {
            let abi = abi_number(effective_abi);
            match kernel_abi {
                Some(k) => format!("Landlock ABI {k} (used as {abi}, the newest the crate knows)"),
                None => format!("Landlock ABI {abi}"),
            }
        }
        LandlockStatus::NotEnabled => {
            "Landlock is built into this kernel but not enabled (EOPNOTSUPP)".into()
        }
        LandlockStatus::NotImplemented => "this kernel has no Landlock (ENOSYS)".into(),
    }
}

fn abi_number(abi: ABI) -> u32 {
    // ABI is a C-like enum whose discriminants are the kernel's version numbers.
    abi as u32
}

/// A ruleset allowing execution of `allowed` paths only, ready to be applied in a child.
#[derive(Debug)]
pub struct ExecJail {
    ruleset: RulesetCreated,
    /// What the kernel offers (for logs).
    pub status: LandlockStatus,
}

impl ExecJail {
    pub fn new(allowed: &[&Path]) -> Result<Self, JailError> {
        let status = kernel_status();
        if !matches!(status, LandlockStatus::Available { .. }) {
            return Err(JailError::Unsupported(describe(status)));
        }
        // A hard requirement: a kernel that cannot confine execution is an error, never a jail
        // that silently allows everything.
        let mut ruleset = Ruleset::default()
            .set_compatibility(CompatLevel::HardRequirement)
            .handle_access(AccessFs::Execute)
            .and_then(Ruleset::create)
            .map_err(|e| JailError::Ruleset(e.to_string()))?;
        for path in allowed {
            let err = |reason: String| JailError::Path {
                path: path.display().to_string(),
                reason,
            };
            let fd = PathFd::new(path).map_err(|e| err(e.to_string()))?;
            ruleset = ruleset
                .add_rule(PathBeneath::new(fd, AccessFs::Execute))
                .map_err(|e| err(e.to_string()))?;
        }
        Ok(ExecJail { ruleset, status })
    }

    /// Restricts the calling process (PR_SET_NO_NEW_PRIVS, then landlock_restrict_self). Only for
    /// the child between fork and exec: it duplicates a descriptor and makes two system calls,
    /// allocating nothing, even on failure.
    pub fn apply_in_child(&self) -> std::io::Result<()> {
        let ruleset = self.ruleset.try_clone()?;
        match ruleset.restrict_self() {
            Ok(s) if s.ruleset == RulesetStatus::FullyEnforced && s.no_new_privs => Ok(()),
            Ok(_) => Err(std::io::Error::from_raw_os_error(libc::EPERM)),
            Err(_) => Err(std::io::Error::last_os_error()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;

    fn run_jailed(
        jail: &std::sync::Arc<ExecJail>,
        program: &str,
    ) -> std::io::Result<std::process::ExitStatus> {
        // A file just copied may be "busy" for a moment (another test's fork holds it open until
        // it execs): a few tries, bounded.
        for _ in 0..40 {
            let mut cmd = std::process::Command::new(program);
            let jail = jail.clone();
            // SAFETY: apply_in_child is async-signal-safe.
            unsafe {
                cmd.pre_exec(move || jail.apply_in_child());
            }
            match cmd.status() {
                Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) => {
                    std::thread::sleep(std::time::Duration::from_millis(50))
                }
                other => return other,
            }
        }
        Err(std::io::Error::from_raw_os_error(libc::ETXTBSY))
    }

    #[test]
    fn only_allowed_programs_run_inside_the_jail() {
        let status = kernel_status();
        eprintln!("kernel: {}", describe(status));
        let libs: Vec<&Path> = ["/lib", "/lib64", "/usr/lib", "/usr/lib64"]
            .iter()
            .map(Path::new)
            .filter(|p| p.exists())
            .collect();
        // A dynamically linked program needs its loader (in the library directories) too.
        let mut allowed = vec![Path::new("/usr/bin/true")];
        allowed.extend(libs);
        let jail = match ExecJail::new(&allowed) {
            Ok(jail) => std::sync::Arc::new(jail),
            Err(JailError::Unsupported(why)) => {
                // Not a pass: the reason is printed, and the sim provider then serves no exec.
                assert!(!matches!(status, LandlockStatus::Available { .. }));
                eprintln!("SKIPPED: {why}");
                return;
            }
            Err(e) => panic!("{e}"),
        };
        assert!(matches!(jail.status, LandlockStatus::Available { .. }));
        assert!(describe(jail.status).starts_with("Landlock ABI "));
        assert!(run_jailed(&jail, "/usr/bin/true").unwrap().success());
        let refused = run_jailed(&jail, "/usr/bin/id").unwrap_err();
        assert_eq!(refused.raw_os_error(), Some(libc::EACCES), "{refused}");
        let shell = run_jailed(&jail, "/bin/sh").unwrap_err();
        assert_eq!(shell.raw_os_error(), Some(libc::EACCES), "{shell}");
        // The parent is not restricted, and the probe thread restricted nothing else either.
        assert!(
            std::process::Command::new("/usr/bin/id")
                .status()
                .unwrap()
                .success()
        );
    }

    #[test]
    fn a_copy_made_non_executable_cannot_be_started_again_from_inside() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("true");
        std::fs::copy("/usr/bin/true", &copy).unwrap();
        let libs: Vec<&Path> = ["/lib", "/lib64", "/usr/lib", "/usr/lib64"]
            .iter()
            .map(Path::new)
            .filter(|p| p.exists())
            .collect();
        let mut allowed = vec![copy.as_path()];
        allowed.extend(libs);
        let jail = match ExecJail::new(&allowed) {
            Ok(jail) => std::sync::Arc::new(jail),
            Err(JailError::Unsupported(why)) => {
                eprintln!("SKIPPED: {why}");
                return;
            }
            Err(e) => panic!("{e}"),
        };
        let copy_str = copy.to_str().unwrap();
        assert!(run_jailed(&jail, copy_str).unwrap().success());
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o600)).unwrap();
        let again = run_jailed(&jail, copy_str).unwrap_err();
        assert_eq!(again.raw_os_error(), Some(libc::EACCES), "{again}");
    }
}
