//! Who runs a sim cluster: the `pids` file in its state directory names the owning test process
//! and every component, each with its start time (so a reused pid is never mistaken for it).
//!
//! A new run of the same cluster name reaps the components of a dead owner (SIGKILL of a test
//! process leaves nothing behind thanks to PR_SET_PDEATHSIG; this is the second line of defence)
//! and refuses to start while a live owner still runs them: two runs never kill each other.
//!
//! Two starts of one name at the same moment both find no live owner in the `pids` file, so the
//! name is also locked first ([`NameLock`]): a POSIX record lock on `<state>/sim-<name>.owner`,
//! held for the cluster's whole life and released by the kernel when its owner dies. The loser
//! asks the kernel who holds it (`F_GETLK`) and is refused with that pid before it touches
//! anything of the winner's.

use std::collections::HashSet;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::{SimError, io};

/// A process as the kernel knows it: pid and start time (clock ticks since boot).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessId {
    pub pid: u32,
    pub start: u64,
}

impl ProcessId {
    /// The process `pid` if it exists (and is not a zombie).
    pub fn of(pid: u32) -> Option<Self> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // `pid (comm) state ... starttime`: comm may hold spaces and parentheses.
        let rest = &stat[stat.rfind(')')? + 1..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.first() == Some(&"Z") {
            return None;
        }
        // starttime is field 22 of stat; fields here start at field 3 (state).
        let start = fields.get(19)?.parse().ok()?;
        Some(ProcessId { pid, start })
    }

    pub fn current() -> Option<Self> {
        Self::of(std::process::id())
    }

    /// Whether this very process (same pid, same start) still runs.
    pub fn alive(&self) -> bool {
        Self::of(self.pid).is_some_and(|now| now.start == self.start)
    }
}

/// The contents of a `pids` file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pids {
    pub owner: Option<ProcessId>,
    pub components: Vec<(String, ProcessId)>,
}

impl Pids {
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Some(o) = self.owner {
            out.push_str(&format!("owner {} {}\n", o.pid, o.start));
        }
        for (name, p) in &self.components {
            out.push_str(&format!("{name} {} {}\n", p.pid, p.start));
        }
        out
    }

    pub fn parse(text: &str) -> Self {
        let mut pids = Pids::default();
        for line in text.lines() {
            let parts: Vec<&str> = line.split_whitespace().collect();
            let [name, pid, start] = parts.as_slice() else {
                continue;
            };
            let (Ok(pid), Ok(start)) = (pid.parse(), start.parse()) else {
                continue;
            };
            let id = ProcessId { pid, start };
            if *name == "owner" {
                pids.owner = Some(id);
            } else {
                pids.components.push((name.to_string(), id));
            }
        }
        pids
    }

    pub fn write(&self, dir: &Path) -> Result<(), SimError> {
        let path = dir.join("pids");
        crate::cluster::write_private(&path, &self.render()).map_err(|e| SimError::Io {
            path: path.display().to_string(),
            source: std::io::Error::other(e.to_string()),
        })
    }
}

/// Names this process holds: POSIX locks never conflict within one process, so a second start of
/// a name this process owns is refused here.
static HELD: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);

/// The lock on one cluster name; released when dropped (or when the process dies).
#[derive(Debug)]
pub struct NameLock {
    path: PathBuf,
    /// Closing it releases the lock.
    _file: std::fs::File,
}

impl Drop for NameLock {
    fn drop(&mut self) {
        let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(set) = held.as_mut() {
            set.remove(&self.path);
        }
    }
}

/// The lock file of the cluster whose private state is `state_dir` (beside it, so wiping the
/// state never removes a lock another run holds).
pub fn lock_path(state_dir: &Path) -> PathBuf {
    let mut name = state_dir.file_name().unwrap_or_default().to_os_string();
    name.push(".owner");
    state_dir.with_file_name(name)
}

/// Takes the name of the cluster whose private state is `state_dir`, or says which process
/// has it.
pub fn lock_name(state_dir: &Path, name: &str) -> Result<NameLock, SimError> {
    let path = lock_path(state_dir);
    let in_use = |owner: u32| SimError::InUse {
        name: name.to_string(),
        owner,
        dir: state_dir.display().to_string(),
    };
    let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
    let set = held.get_or_insert_with(HashSet::new);
    if set.contains(&path) {
        return Err(in_use(std::process::id()));
    }
    if let Some(parent) = path.parent() {
        crate::settings::create_dir(parent, true).map_err(io(parent))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(io(&path))?;
    // The holder may release it between our attempt and our question: ask again, a few times.
    for _ in 0..5 {
        if record_lock(&file, libc::F_SETLK)
            .map_err(io(&path))?
            .is_none()
        {
            set.insert(path.clone());
            return Ok(NameLock { path, _file: file });
        }
        if let Some(owner) = record_lock(&file, libc::F_GETLK).map_err(io(&path))? {
            return Err(in_use(owner));
        }
    }
    Err(io(&path)(std::io::Error::other(
        "its lock changed hands five times in a row; try again",
    )))
}

/// `F_SETLK` (take a write lock on the whole file) or `F_GETLK` (who would block it): `None`
/// when taken or free, `Some(pid)` of the process holding it.
fn record_lock(file: &std::fs::File, command: libc::c_int) -> std::io::Result<Option<u32>> {
    // SAFETY: an all-zero flock is a valid value (l_start 0, l_len 0: the whole file).
    let mut lock: libc::flock = unsafe { std::mem::zeroed() };
    lock.l_type = libc::F_WRLCK as libc::c_short;
    lock.l_whence = libc::SEEK_SET as libc::c_short;
    // SAFETY: fcntl with a lock command reads and writes the flock struct given, nothing else.
    let rc = unsafe { libc::fcntl(file.as_raw_fd(), command, &mut lock) };
    if rc == -1 {
        let e = std::io::Error::last_os_error();
        return match e.raw_os_error() {
            Some(libc::EAGAIN) | Some(libc::EACCES) if command == libc::F_SETLK => Ok(Some(0)),
            _ => Err(e),
        };
    }
    if command == libc::F_GETLK && lock.l_type != libc::F_UNLCK as libc::c_short {
        return Ok(Some(lock.l_pid as u32));
    }
    Ok(None)
}

/// Before a cluster starts in `dir`: refuses while a live owner runs components there; kills the
/// components a dead owner left (only processes whose pid *and* start time match). Returns the
/// pids it killed.
pub fn reap_leftovers(dir: &Path, name: &str) -> Result<Vec<u32>, SimError> {
    let text = match std::fs::read_to_string(dir.join("pids")) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(&dir.join("pids"))(e)),
    };
    let pids = Pids::parse(&text);
    let running: Vec<&(String, ProcessId)> =
        pids.components.iter().filter(|(_, p)| p.alive()).collect();
    if running.is_empty() {
        return Ok(Vec::new());
    }
    if let Some(owner) = pids.owner.filter(ProcessId::alive) {
        return Err(SimError::InUse {
            name: name.to_string(),
            owner: owner.pid,
            dir: dir.display().to_string(),
        });
    }
    let mut reaped = Vec::new();
    for (_, p) in running {
        // SAFETY: kill(2) on a process whose pid and start time match a component this cluster's
        // dead owner started; it touches no memory.
        unsafe {
            libc::kill(p.pid as i32, libc::SIGKILL);
        }
        reaped.push(p.pid);
    }
    Ok(reaped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_changed_start_is_not() {
        let me = ProcessId::current().unwrap();
        assert!(me.alive());
        let reused = ProcessId {
            start: me.start + 1,
            ..me
        };
        assert!(
            !reused.alive(),
            "a pid reused by another process is not ours"
        );
    }

    #[test]
    fn pids_round_trip_and_junk_is_skipped() {
        let pids = Pids {
            owner: Some(ProcessId { pid: 10, start: 99 }),
            components: vec![(
                "etcd".into(),
                ProcessId {
                    pid: 11,
                    start: 100,
                },
            )],
        };
        let text = pids.render();
        assert_eq!(Pids::parse(&text), pids);
        assert_eq!(Pids::parse("garbage\n12\nkwok x y\n"), Pids::default());
    }

    #[test]
    fn a_name_is_taken_once_and_free_again_when_released() {
        let root = tempfile::tempdir().unwrap();
        let state = root.path().join("sim-x");
        let first = lock_name(&state, "x").unwrap();
        assert_eq!(lock_path(&state), root.path().join("sim-x.owner"));
        let err = lock_name(&state, "x").unwrap_err().to_string();
        assert!(
            err.contains(&format!("in use by process {}", std::process::id())),
            "{err}"
        );
        // Another name is another lock.
        let other = lock_name(&root.path().join("sim-y"), "y").unwrap();
        drop(first);
        let again = lock_name(&state, "x").unwrap();
        drop((again, other));
    }

    #[test]
    fn a_live_owner_keeps_its_cluster() {
        let dir = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let component = ProcessId::of(child.id()).unwrap();
        let pids = Pids {
            owner: ProcessId::current(),
            components: vec![("etcd".into(), component)],
        };
        pids.write(dir.path()).unwrap();
        let err = reap_leftovers(dir.path(), "x").unwrap_err().to_string();
        assert!(err.contains("in use by process"), "{err}");
        assert!(component.alive(), "nothing was killed");
        // A dead owner's components are reaped.
        let dead_owner = ProcessId {
            pid: u32::MAX - 1,
            start: 1,
        };
        Pids {
            owner: Some(dead_owner),
            ..pids
        }
        .write(dir.path())
        .unwrap();
        assert_eq!(reap_leftovers(dir.path(), "x").unwrap(), vec![child.id()]);
        child.wait().unwrap();
        assert!(!component.alive());
    }
}
