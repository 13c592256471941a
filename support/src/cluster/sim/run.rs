//! One sim cluster per `cargo nextest run`.
//!
//! Under nextest every test is a process of its own: each would start the sim cluster, install
//! Istio and deploy the apps again (about 10 s a test). So when a test process of a nextest run
//! (`NEXTEST_RUN_ID`) needs the sim cluster, the run's first one starts a *holder*: the test
//! binary again, as [`HOLDER_TEST`], in a session of its own. The holder starts the cluster as a
//! test process does (the components die with it: PR_SET_PDEATHSIG), writes the `run` file, and
//! stays until the nextest process that ran the test (the starter's parent) exits: it waits on a
//! pidfd, which wakes at once however nextest ends, SIGKILL included. Later test processes of the
//! same run find the `run` file and attach to the cluster; whatever they change stays in the
//! cluster, as between the tests of one `cargo test` process.
//!
//! istiod (a local process on sim, started after `istioctl install`) belongs to the holder too:
//! a test process asks for it through the holder's FIFO (`<state>/sim-<name>/holder.fifo`, in the
//! private state directory) and waits for the answer file the holder writes; a second request
//! while it runs only returns its address.
//!
//! Nothing outlives the run: nextest ends → the holder ends → every component ends. A holder or
//! component of a run that is over is reaped like any dead run's (`owner`), and a live run is
//! never shared with another (another run id or `cargo test`: refused as "in use"). Test
//! processes never write the `pids` file: the holder owns everything in it.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::owner::ProcessId;
use super::{SimBinaries, SimError, SimOptions, context, io};
use crate::cluster::{Cluster, guard};
use crate::k8s::wait::{Probe, nodes_ready, until};
use crate::settings::Settings;

/// The environment variable that makes the test binary's [`HOLDER_TEST`] hold the run's cluster:
/// `<pid> <start time>` of the process to outlive the cluster (the nextest runner).
pub const HOLDER_ENV: &str = "AMBIENT_SIM_RUN_HOLDER";
/// The test (in the tutorial binary) that runs [`hold_if_asked`].
pub const HOLDER_TEST: &str = "sim_provider::run_cluster_holder";

/// The nextest run this process belongs to, if any.
pub fn run_id() -> Option<String> {
    crate::claims::current_nextest_run_id()
}

/// What the holder writes once the cluster runs: `<state>/sim-<name>/run`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunFile {
    pub run_id: String,
    pub holder: ProcessId,
    pub exec_served: bool,
}

impl RunFile {
    pub fn render(&self) -> String {
        format!(
            "run_id {}\nholder {} {}\nexec_served {}\n",
            self.run_id, self.holder.pid, self.holder.start, self.exec_served
        )
    }

    pub fn parse(text: &str) -> Option<RunFile> {
        let mut run_id = None;
        let mut holder = None;
        let mut exec_served = None;
        for line in text.lines() {
            let parts: Vec<&str> = line.split_whitespace().collect();
            match parts.as_slice() {
                ["run_id", id] => run_id = Some(id.to_string()),
                ["holder", pid, start] => {
                    holder = Some(ProcessId {
                        pid: pid.parse().ok()?,
                        start: start.parse().ok()?,
                    })
                }
                ["exec_served", b] => exec_served = b.parse().ok(),
                _ => {}
            }
        }
        Some(RunFile {
            run_id: run_id?,
            holder: holder?,
            exec_served: exec_served?,
        })
    }

    /// The run file in a cluster's state directory, if there is a readable one.
    pub fn read(dir: &Path) -> Option<RunFile> {
        Self::parse(&std::fs::read_to_string(dir.join("run")).ok()?)
    }
}

/// A test process's handle on the run's cluster: asks the holder for what must be owned by it.
pub struct RunCluster {
    pub cluster: Cluster,
    pub exec_served: bool,
    state_dir: PathBuf,
    holder_log: PathBuf,
    timeout: std::time::Duration,
    istiod_http: std::sync::Mutex<Option<SocketAddr>>,
}

impl RunCluster {
    /// Has the holder start istiod from `binary` unless it runs already (after `istioctl
    /// install`); returns its HTTP address.
    pub async fn start_istiod(&self, binary: &Path) -> Result<SocketAddr, SimError> {
        let fifo_path = self.state_dir.join(FIFO);
        let nonce = format!(
            "{}-{}",
            std::process::id(),
            k8s_openapi::jiff::Timestamp::now().as_nanosecond()
        );
        let line = format!("istiod {nonce} {}\n", binary.display());
        if line.len() > 4000 || line[..line.len() - 1].contains('\n') {
            return Err(io(binary)(std::io::Error::other(
                "not a path the holder can be sent",
            )));
        }
        // Non-blocking: with no holder reading, opening fails (ENXIO) instead of waiting.
        let mut fifo = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo_path)
            .map_err(io(&fifo_path))?;
        // One write under PIPE_BUF bytes: never interleaved with another request.
        fifo.write_all(line.as_bytes()).map_err(io(&fifo_path))?;
        drop(fifo);
        let reply_path = self.state_dir.join(format!("reply-{nonce}"));
        let what = "the run's holder to start istiod";
        let state_dir = &self.state_dir;
        let log = self.holder_log.display().to_string();
        let reply = until(what, self.timeout * 2, || {
            let reply = std::fs::read_to_string(&reply_path).ok();
            let holder_alive = RunFile::read(state_dir).is_some_and(|r| r.holder.alive());
            async move {
                match reply {
                    Some(r) => Probe::Ready(r),
                    None if !holder_alive => Probe::Hopeless("the holder is gone".into()),
                    None => Probe::NotYet("no answer yet".into()),
                }
            }
        })
        .await?;
        let _ = std::fs::remove_file(&reply_path);
        let failed = |reason: String| SimError::Holder {
            request: "start istiod".into(),
            reason,
            log: log.clone(),
        };
        match reply.trim().split_once(' ') {
            Some(("ok", addr)) => {
                let addr: SocketAddr = addr
                    .parse()
                    .map_err(|_| failed(format!("it answered {reply:?}")))?;
                *self.istiod_http.lock().unwrap_or_else(|e| e.into_inner()) = Some(addr);
                Ok(addr)
            }
            Some(("error", why)) => Err(failed(why.to_string())),
            _ => Err(failed(format!("it answered {reply:?}"))),
        }
    }

    /// Where istiod answers, once [`RunCluster::start_istiod`] returned.
    pub fn istiod_http(&self) -> Option<SocketAddr> {
        *self.istiod_http.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The holder's request FIFO in the cluster's state directory.
const FIFO: &str = "holder.fifo";

/// The run's cluster for a test process of nextest run `run_id`: attached to if this run's
/// holder runs it, else started by a new holder.
pub async fn cluster(settings: &Settings, run_id: &str) -> Result<RunCluster, SimError> {
    let opts = SimOptions::for_settings(settings, &settings.cluster_name, None)?;
    SimBinaries::locate(&SimBinaries::default_dir())?;
    // One starter at a time (the cluster test group runs one test at a time; this holds even
    // when it does not): the lock is released when the file closes.
    let lock_path = settings
        .state_dir
        .join(format!("sim-{}.lock", settings.cluster_name));
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(io(&lock_path))?;
    lock.lock().map_err(io(&lock_path))?;
    let run = match RunFile::read(&opts.state_dir) {
        Some(run) if run.run_id == run_id && run.holder.alive() => run,
        _ => {
            let runner =
                ProcessId::of(std::os::unix::process::parent_id()).ok_or_else(|| SimError::Io {
                    path: "/proc".into(),
                    source: std::io::Error::other(
                        "the nextest runner (this process's parent) is gone",
                    ),
                })?;
            start_holder(&opts, run_id, runner).await?
        }
    };
    let attached = attach(&opts, &run).await;
    drop(lock);
    attached
}

/// A test process's handle on the cluster `run`'s holder runs.
pub async fn attach(opts: &SimOptions, run: &RunFile) -> Result<RunCluster, SimError> {
    Ok(RunCluster {
        cluster: connect(opts).await?,
        exec_served: run.exec_served,
        state_dir: opts.state_dir.clone(),
        holder_log: holder_log(opts),
        timeout: opts.timeout,
        istiod_http: std::sync::Mutex::new(None),
    })
}

async fn connect(opts: &SimOptions) -> Result<Cluster, SimError> {
    let kubeconfig_path = opts.state_dir.join(format!("{}.kubeconfig", opts.name));
    let text = std::fs::read_to_string(&kubeconfig_path).map_err(io(&kubeconfig_path))?;
    let origin = kubeconfig_path.display().to_string();
    let approved = guard::approve_local(&origin, &text, &context(&opts.name))?;
    let context = approved.context().to_string();
    let client = approved.connect().await?;
    nodes_ready(&client, opts.node_names.len(), opts.timeout).await?;
    Ok(Cluster {
        name: opts.name.clone(),
        kubeconfig_path,
        context,
        client,
        node_names: opts.node_names.clone(),
    })
}

fn holder_log(opts: &SimOptions) -> PathBuf {
    opts.logs_dir
        .parent()
        .unwrap_or(&opts.logs_dir)
        .join("holder.log")
}

/// Starts a holder of cluster `opts.name` for run `run_id` that ends when `runner` does, and
/// waits until the cluster runs.
pub async fn start_holder(
    opts: &SimOptions,
    run_id: &str,
    runner: ProcessId,
) -> Result<RunFile, SimError> {
    let exe = std::env::current_exe().map_err(io(Path::new("/proc/self/exe")))?;
    let log = holder_log(opts);
    if let Some(dir) = log.parent() {
        crate::settings::create_dir(dir, false).map_err(io(dir))?;
    }
    let out = std::fs::File::create(&log).map_err(io(&log))?;
    let err = out.try_clone().map_err(io(&log))?;
    let mut cmd = Command::new(&exe);
    cmd.args(["--exact", HOLDER_TEST, "--ignored", "--nocapture"])
        .env(HOLDER_ENV, format!("{} {}", runner.pid, runner.start))
        .env(crate::claims::NEXTEST_RUN_ID, run_id)
        .env(crate::settings::CLUSTER_NAME, &opts.name)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    // SAFETY: setsid is async-signal-safe; the holder leaves the test's process group and session
    // (nextest signals those when a test ends or times out) and ends with the run instead.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    crate::progress::say(format!(
        "sim: starting cluster {:?} for nextest run {run_id} (held until the run ends; log {})",
        opts.name,
        log.display()
    ));
    let mut child = cmd.spawn().map_err(io(&exe))?;
    let child_pid = child.id();
    let what = format!("the run's sim cluster {:?} to start", opts.name);
    let started = until(&what, opts.timeout * 2, || {
        let exited = child.try_wait().ok().flatten();
        let run = RunFile::read(&opts.state_dir);
        let log = &log;
        async move {
            match (run, exited) {
                (Some(run), _) if run.run_id == run_id && run.holder.pid == child_pid => {
                    Probe::Ready(run)
                }
                (_, Some(status)) => Probe::Hopeless(format!(
                    "the holder exited ({status}); {} ends with:\n{}",
                    log.display(),
                    crate::process::tail(&std::fs::read_to_string(log).unwrap_or_default(), 15)
                )),
                _ => Probe::NotYet("starting".into()),
            }
        }
    })
    .await;
    match started {
        Ok(run) => {
            // Not waited for: it outlives this test process, whose end re-parents it.
            std::mem::forget(child);
            Ok(run)
        }
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            Err(e.into())
        }
    }
}

/// The holder's side: when [`HOLDER_ENV`] is set, starts the run's cluster, writes the run file,
/// waits until the runner process exits, then stops the cluster. Returns at once otherwise.
pub fn hold_if_asked() {
    let Ok(value) = std::env::var(HOLDER_ENV) else {
        return;
    };
    if let Err(e) = hold(&value) {
        let _ = writeln!(
            std::io::stderr(),
            "sim run holder: {}",
            crate::errors::report(&e)
        );
        std::process::exit(1);
    }
}

fn hold(value: &str) -> Result<(), SimError> {
    let bad = || SimError::Io {
        path: HOLDER_ENV.into(),
        source: std::io::Error::other(format!("expected `<pid> <start time>`, got {value:?}")),
    };
    let (pid, start) = value.split_once(' ').ok_or_else(bad)?;
    let runner = ProcessId {
        pid: pid.parse().map_err(|_| bad())?,
        start: start.parse().map_err(|_| bad())?,
    };
    let run_id = run_id().ok_or_else(|| SimError::Io {
        path: crate::claims::NEXTEST_RUN_ID.into(),
        source: std::io::Error::other("not set: the holder serves one nextest run"),
    })?;
    // Watch the runner before anything starts: a pidfd names that very process.
    let watch = pidfd(runner)?;
    let mut settings = Settings::from_env().map_err(|e| SimError::Io {
        path: "settings".into(),
        source: std::io::Error::other(e.to_string()),
    })?;
    settings.provider = crate::settings::Provider::Sim;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(io(Path::new("tokio runtime")))?;
    let opts = SimOptions::for_settings(&settings, &settings.cluster_name, None)?;
    let bins = SimBinaries::locate(&SimBinaries::default_dir())?;
    let sim = runtime.block_on(super::start(&opts, &bins))?;
    let fifo = request_fifo(&opts.state_dir)?;
    let me = ProcessId::current().ok_or_else(bad)?;
    let run = RunFile {
        run_id: run_id.clone(),
        holder: me,
        exec_served: sim.exec_served,
    };
    crate::cluster::write_private(&opts.state_dir.join("run"), &run.render()).map_err(|e| {
        SimError::Io {
            path: opts.state_dir.join("run").display().to_string(),
            source: std::io::Error::other(e.to_string()),
        }
    })?;
    crate::progress::say(format!(
        "sim: cluster {:?} runs for nextest run {run_id} until process {} ends",
        opts.name, runner.pid
    ));
    let mut pending = Vec::new();
    while let Woke::Request = wait(&watch, &fifo)? {
        for request in read_requests(&fifo, &mut pending) {
            answer(&runtime, &sim, &opts.state_dir, &request);
        }
    }
    crate::progress::say("sim: the nextest run ended; stopping the cluster");
    drop(sim);
    Ok(())
}

/// Creates the request FIFO (0600, in the private state directory) and opens it for reading
/// and writing: the holder is then never at end-of-file when a test process closes its end.
fn request_fifo(state_dir: &Path) -> Result<std::fs::File, SimError> {
    let path = state_dir.join(FIFO);
    let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes())
        .map_err(|e| io(&path)(std::io::Error::other(e)))?;
    // SAFETY: mkfifo reads a NUL-terminated path.
    if unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) } != 0 {
        return Err(io(&path)(std::io::Error::last_os_error()));
    }
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&path)
        .map_err(io(&path))
}

enum Woke {
    RunnerExited,
    Request,
}

/// Blocks until the runner exits or a request arrives.
fn wait(runner: &OwnedFd, fifo: &std::fs::File) -> Result<Woke, SimError> {
    loop {
        let mut fds = [
            libc::pollfd {
                fd: runner.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: fifo.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: two valid pollfds; no timeout.
        let rc = unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) };
        if rc < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(io(Path::new("poll"))(e));
        }
        if fds[0].revents != 0 {
            return Ok(Woke::RunnerExited);
        }
        if fds[1].revents != 0 {
            return Ok(Woke::Request);
        }
    }
}

/// The complete lines the FIFO holds now (a partial one waits in `pending`).
fn read_requests(mut fifo: &std::fs::File, pending: &mut Vec<u8>) -> Vec<String> {
    let mut buf = [0u8; 4096];
    loop {
        match fifo.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => pending.extend_from_slice(&buf[..n]),
            Err(_) => break, // WouldBlock: all read
        }
    }
    let mut lines = Vec::new();
    while let Some(at) = pending.iter().position(|b| *b == b'\n') {
        let line: Vec<u8> = pending.drain(..=at).collect();
        lines.push(String::from_utf8_lossy(&line[..at]).into_owned());
    }
    lines
}

/// Carries out `istiod <nonce> <binary>` and writes `reply-<nonce>`: `ok <address>` or
/// `error <why>`. Anything else is ignored (said in the holder's log).
fn answer(
    runtime: &tokio::runtime::Runtime,
    sim: &super::SimCluster,
    state_dir: &Path,
    request: &str,
) {
    let mut parts = request.splitn(3, ' ');
    let (Some("istiod"), Some(nonce), Some(binary)) = (parts.next(), parts.next(), parts.next())
    else {
        crate::progress::say(format!(
            "sim: ignored a request the holder does not know: {request:?}"
        ));
        return;
    };
    if nonce.is_empty() || !nonce.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        crate::progress::say(format!(
            "sim: ignored a request with a bad nonce: {request:?}"
        ));
        return;
    }
    let reply = match runtime.block_on(sim.start_istiod(Path::new(binary))) {
        Ok(_) => match sim.istiod_http() {
            Some(addr) => format!("ok {addr}\n"),
            None => "error istiod started but has no address\n".to_string(),
        },
        Err(e) => format!("error {}\n", crate::errors::chain(&e).replace('\n', " ")),
    };
    let path = state_dir.join(format!("reply-{nonce}"));
    let tmp = state_dir.join(format!(".reply-{nonce}"));
    let written = crate::cluster::write_private(&tmp, &reply)
        .map_err(|e| e.to_string())
        .and_then(|()| std::fs::rename(&tmp, &path).map_err(|e| e.to_string()));
    if let Err(e) = written {
        crate::progress::say(format!("sim: could not answer {request:?}: {e}"));
    }
}

/// A pidfd for `p`, checked to be that very process (pid and start time).
fn pidfd(p: ProcessId) -> Result<OwnedFd, SimError> {
    let gone = || SimError::Io {
        path: format!("/proc/{}", p.pid),
        source: std::io::Error::other("the nextest runner already exited"),
    };
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, p.pid as libc::pid_t, 0) };
    if fd < 0 {
        return Err(gone());
    }
    // SAFETY: a descriptor just returned by pidfd_open, owned here alone.
    let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    if !p.alive() {
        return Err(gone());
    }
    Ok(fd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_run_file_round_trips_and_refuses_junk() {
        let run = RunFile {
            run_id: "1f79aa0d-4ec8-4a5c-aa83-5e8dc2f36573".into(),
            holder: ProcessId {
                pid: 42,
                start: 123456,
            },
            exec_served: true,
        };
        assert_eq!(RunFile::parse(&run.render()), Some(run));
        assert_eq!(RunFile::parse("run_id x\nholder 1\n"), None);
        assert_eq!(RunFile::parse(""), None);
    }
}
