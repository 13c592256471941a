//! What a child process may execute, enforced by the kernel (Landlock, Linux 5.13+): a process
//! started inside an [`ExecJail`] and all its descendants can execve only the allowed files and
//! the files beneath the allowed directories. Nothing else (reading, writing, networking) is
//! restricted. The sim provider starts kwok this way: kwok runs `kubectl exec` commands as local
//! processes, and the jail makes "only the replay programs" true by construction rather than by
//! `PATH` (an absolute path such as `/usr/bin/id`, or `/bin/sh`, is refused with EACCES).

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

/// `LANDLOCK_ACCESS_FS_EXECUTE` (include/uapi/linux/landlock.h).
const ACCESS_FS_EXECUTE: u64 = 1;
/// `LANDLOCK_RULE_PATH_BENEATH`.
const RULE_PATH_BENEATH: libc::c_int = 1;
/// `LANDLOCK_CREATE_RULESET_VERSION`.
const CREATE_RULESET_VERSION: u32 = 1;

/// `struct landlock_ruleset_attr`, ABI 1 prefix (the kernel accepts a shorter struct).
#[repr(C)]
struct RulesetAttr {
    handled_access_fs: u64,
}

/// `struct landlock_path_beneath_attr` (packed in the uapi header).
#[repr(C, packed)]
struct PathBeneathAttr {
    allowed_access: u64,
    parent_fd: i32,
}

#[derive(Debug, thiserror::Error)]
pub enum JailError {
    #[error(
        "the kernel does not offer Landlock ({0}); it needs Linux 5.13+ with landlock in its LSM list"
    )]
    Unsupported(String),
    #[error("allowing {path}: {source}")]
    Path {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("creating the Landlock ruleset: {0}")]
    Ruleset(#[source] std::io::Error),
}

/// The Landlock ABI version of this kernel.
pub fn abi_version() -> Result<u32, JailError> {
    // SAFETY: landlock_create_ruleset(NULL, 0, VERSION) only returns a number; no memory is read.
    let v = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<RulesetAttr>(),
            0usize,
            CREATE_RULESET_VERSION,
        )
    };
    if v < 1 {
        return Err(JailError::Unsupported(
            std::io::Error::last_os_error().to_string(),
        ));
    }
    Ok(v as u32)
}

/// A ruleset allowing execution of `allowed` paths only, ready to be applied in a child.
#[derive(Debug)]
pub struct ExecJail {
    ruleset: OwnedFd,
}

impl ExecJail {
    pub fn new(allowed: &[&Path]) -> Result<Self, JailError> {
        abi_version()?;
        let attr = RulesetAttr {
            handled_access_fs: ACCESS_FS_EXECUTE,
        };
        // SAFETY: attr is a valid, initialized struct of the size given.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_landlock_create_ruleset,
                &attr as *const RulesetAttr,
                std::mem::size_of::<RulesetAttr>(),
                0u32,
            )
        };
        if fd < 0 {
            return Err(JailError::Ruleset(std::io::Error::last_os_error()));
        }
        // SAFETY: the syscall returned a new file descriptor we own (it has O_CLOEXEC).
        let ruleset = unsafe { OwnedFd::from_raw_fd(fd as RawFd) };
        for path in allowed {
            let err = |source| JailError::Path {
                path: path.display().to_string(),
                source,
            };
            let file = std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_PATH | libc::O_CLOEXEC)
                .open(path)
                .map_err(err)?;
            let rule = PathBeneathAttr {
                allowed_access: ACCESS_FS_EXECUTE,
                parent_fd: file.as_raw_fd(),
            };
            // SAFETY: both descriptors are open; rule is a valid struct for this rule type.
            let r = unsafe {
                libc::syscall(
                    libc::SYS_landlock_add_rule,
                    ruleset.as_raw_fd(),
                    RULE_PATH_BENEATH,
                    &rule as *const PathBeneathAttr,
                    0u32,
                )
            };
            if r != 0 {
                return Err(err(std::io::Error::last_os_error()));
            }
        }
        Ok(ExecJail { ruleset })
    }

    /// Restricts the calling process. Only for the child between fork and exec: it makes two
    /// system calls and allocates nothing, so it is async-signal-safe.
    pub fn apply_in_child(&self) -> std::io::Result<()> {
        // SAFETY: prctl and landlock_restrict_self take integers only.
        unsafe {
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if libc::syscall(
                libc::SYS_landlock_restrict_self,
                self.ruleset.as_raw_fd(),
                0u32,
            ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
        }
        Ok(())
    }
}

use std::os::unix::fs::OpenOptionsExt;

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;

    fn run_jailed(
        jail: &std::sync::Arc<ExecJail>,
        program: &str,
    ) -> std::io::Result<std::process::ExitStatus> {
        let mut cmd = std::process::Command::new(program);
        let jail = jail.clone();
        // SAFETY: apply_in_child is async-signal-safe.
        unsafe {
            cmd.pre_exec(move || jail.apply_in_child());
        }
        cmd.status()
    }

    #[test]
    fn only_allowed_programs_run_inside_the_jail() {
        let libs: Vec<&Path> = ["/lib", "/lib64", "/usr/lib", "/usr/lib64"]
            .iter()
            .map(Path::new)
            .filter(|p| p.exists())
            .collect();
        // A dynamically linked program needs its loader (in the library directories) too.
        let mut allowed = vec![Path::new("/usr/bin/true")];
        allowed.extend(libs);
        let jail = match (abi_version(), ExecJail::new(&allowed)) {
            (Ok(_), Ok(jail)) => std::sync::Arc::new(jail),
            (Err(_), Err(JailError::Unsupported(_))) => return, // the sim provider then serves no exec
            (abi, jail) => panic!("inconsistent: {abi:?} {jail:?}"),
        };
        assert!(run_jailed(&jail, "/usr/bin/true").unwrap().success());
        let refused = run_jailed(&jail, "/usr/bin/id").unwrap_err();
        assert_eq!(refused.raw_os_error(), Some(libc::EACCES), "{refused}");
        let shell = run_jailed(&jail, "/bin/sh").unwrap_err();
        assert_eq!(shell.raw_os_error(), Some(libc::EACCES), "{shell}");
        // The parent is not restricted.
        assert!(
            std::process::Command::new("/usr/bin/id")
                .status()
                .unwrap()
                .success()
        );
    }
}
