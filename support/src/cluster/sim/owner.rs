//! Who runs a sim cluster: the `pids` file in its state directory names the owning test process
//! and every component, each with its start time (so a reused pid is never mistaken for it).
//!
//! A new run of the same cluster name reaps the components of a dead owner (SIGKILL of a test
//! process leaves nothing behind thanks to PR_SET_PDEATHSIG; this is the second line of defence)
//! and refuses to start while a live owner still runs them: two runs never kill each other.

use std::path::Path;

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
