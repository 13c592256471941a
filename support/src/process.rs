//! One way to run an external tool (kind, istioctl, docker): an argv vector, a timeout, captured
//! output, and an error that says which command failed and how.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, BufReader};

use crate::progress;

/// Where each tool the suite runs can be installed from.
pub fn install_hint(program: &str) -> &'static str {
    match program {
        "kind" => "install it from https://kind.sigs.k8s.io/docs/user/quick-start/#installation",
        "docker" => {
            "install Docker Engine from https://docs.docker.com/engine/install/ and start it"
        }
        "istioctl" => {
            "let the suite download it (unset AMBIENT_ISTIO) or point AMBIENT_ISTIO at it"
        }
        "go" => "install Go from https://go.dev/dl/ (the sim provider builds its binaries with it)",
        _ => "install it and make sure it is on PATH",
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("{program} not found on PATH: {hint}")]
    NotFound { program: String, hint: &'static str },
    #[error("`{command}` did not finish within {timeout:?}; it was killed")]
    Timeout {
        command: String,
        timeout: Duration,
        stderr_tail: String,
    },
    #[error("`{command}` failed with {status}{}", tail_note(stderr_tail))]
    Failed {
        command: String,
        status: String,
        stdout: String,
        stderr_tail: String,
    },
    #[error("`{command}` could not be run: {source}")]
    Io {
        command: String,
        #[source]
        source: std::io::Error,
    },
}

fn tail_note(tail: &str) -> String {
    if tail.trim().is_empty() {
        String::new()
    } else {
        format!("; stderr ends with:\n{tail}")
    }
}

/// Captured output of a finished command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

/// The tools a run may use, found on one search path (the process PATH unless a test gives
/// another).
#[derive(Debug, Clone)]
pub struct Tools {
    search_path: OsString,
}

impl Default for Tools {
    fn default() -> Self {
        Tools {
            search_path: std::env::var_os("PATH").unwrap_or_default(),
        }
    }
}

impl Tools {
    /// Tools looked up only in `dirs` (tests put fake executables there).
    pub fn with_path(dirs: &[&Path]) -> Self {
        Tools {
            search_path: std::env::join_paths(dirs).unwrap_or_default(),
        }
    }

    /// Finds `program` on the search path (an explicit path is used as is).
    pub fn find(&self, program: &str) -> Result<PathBuf, ProcessError> {
        let not_found = || ProcessError::NotFound {
            program: program.to_string(),
            hint: install_hint(program),
        };
        if program.contains('/') {
            let p = PathBuf::from(program);
            return if is_executable(&p) {
                Ok(p)
            } else {
                Err(not_found())
            };
        }
        std::env::split_paths(&self.search_path)
            .map(|dir| dir.join(program))
            .find(|p| is_executable(p))
            .ok_or_else(not_found)
    }

    /// Starts building a command for `program`.
    pub fn command(&self, program: impl Into<String>) -> Cmd {
        Cmd {
            tools: self.clone(),
            program: program.into(),
            args: Vec::new(),
            timeout: Duration::from_secs(60),
            echo: false,
            env: Vec::new(),
            clear_env: false,
            cwd: None,
        }
    }
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// A command to run: program + argv, never a shell string.
#[derive(Debug, Clone)]
#[must_use = "a command does nothing until `.run()`"]
pub struct Cmd {
    tools: Tools,
    program: String,
    args: Vec<OsString>,
    timeout: Duration,
    echo: bool,
    env: Vec<(OsString, OsString)>,
    clear_env: bool,
    cwd: Option<PathBuf>,
}

impl Cmd {
    pub fn arg(mut self, a: impl AsRef<OsStr>) -> Self {
        self.args.push(a.as_ref().to_os_string());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
        self
    }

    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    /// Show each output line as progress while it runs (for long steps).
    pub fn echo(mut self) -> Self {
        self.echo = true;
        self
    }

    pub fn env(mut self, k: impl AsRef<OsStr>, v: impl AsRef<OsStr>) -> Self {
        self.env
            .push((k.as_ref().to_os_string(), v.as_ref().to_os_string()));
        self
    }

    /// Start from an empty environment: only `PATH` (the tools' search path) and the variables
    /// given with [`Cmd::env`] reach the program (documented commands run this way).
    pub fn clear_env(mut self) -> Self {
        self.clear_env = true;
        self
    }

    /// Runs the program in `dir` instead of this process's working directory.
    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = Some(dir.into());
        self
    }

    /// The command line as a user would type it (for messages only).
    pub fn display(&self) -> String {
        std::iter::once(self.program.clone())
            .chain(self.args.iter().map(|a| {
                let s = a.to_string_lossy();
                if s.is_empty() || s.contains(char::is_whitespace) {
                    format!("{s:?}")
                } else {
                    s.into_owned()
                }
            }))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Starts the program in a process group of its own (so a timeout can end its children too),
    /// stdout and stderr piped, nothing on stdin, `PATH` = the tools' search path.
    fn spawn_piped(&self, path: &Path) -> std::io::Result<tokio::process::Child> {
        let mut command = tokio::process::Command::new(path);
        if self.clear_env {
            command.env_clear();
        }
        if let Some(dir) = &self.cwd {
            command.current_dir(dir);
        }
        command
            .args(&self.args)
            .env("PATH", &self.tools.search_path)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .process_group(0)
            .spawn()
    }

    /// Runs to completion; a non-zero exit is [`ProcessError::Failed`] with the tail of stderr.
    pub async fn run(self) -> Result<Output, ProcessError> {
        let command = self.display();
        let (status, output) = self.run_unchecked().await?;
        if status.success() {
            return Ok(output);
        }
        Err(ProcessError::Failed {
            command,
            status: describe(&status),
            stdout: output.stdout,
            stderr_tail: tail(&output.stderr, 20),
        })
    }

    /// Runs to completion and returns the exit status with the output, whatever the status.
    pub async fn run_unchecked(self) -> Result<(std::process::ExitStatus, Output), ProcessError> {
        let command = self.display();
        let path = self.tools.find(&self.program)?;
        let io = |source| ProcessError::Io {
            command: command.clone(),
            source,
        };
        if self.echo {
            progress::say(format!("running: {command}"));
        }
        let started = Instant::now();
        let mut child = self.spawn_piped(&path).map_err(io)?;
        let prefix = self
            .program
            .rsplit('/')
            .next()
            .unwrap_or(&self.program)
            .to_string();
        let stdout = tokio::spawn(collect(
            child.stdout.take(),
            self.echo.then(|| prefix.clone()),
        ));
        let stderr = tokio::spawn(collect(child.stderr.take(), self.echo.then_some(prefix)));
        let pid = child.id();
        let status = match tokio::time::timeout(self.timeout, child.wait()).await {
            Ok(status) => {
                // A background child left behind would hold the pipes open: end the group.
                if let Some(pid) = pid {
                    kill_group(pid);
                }
                status.map_err(io)?
            }
            Err(_) => {
                // Kill the whole process group: a tool's own children must not outlive it.
                if let Some(pid) = pid {
                    kill_group(pid);
                }
                let _ = child.kill().await;
                let err = stderr.await.unwrap_or_default();
                return Err(ProcessError::Timeout {
                    command,
                    timeout: self.timeout,
                    stderr_tail: tail(&err, 20),
                });
            }
        };
        let output = Output {
            stdout: stdout.await.unwrap_or_default(),
            stderr: stderr.await.unwrap_or_default(),
            elapsed: started.elapsed(),
        };
        Ok((status, output))
    }
}

fn kill_group(pid: u32) {
    let Ok(pid) = i32::try_from(pid) else { return };
    // SAFETY: kill(2) with a negative pid signals that process group; it touches no memory.
    unsafe {
        libc::kill(-pid, libc::SIGKILL);
    }
}

/// How much of a stream is kept: the first and the last [`KEEP`] bytes, with a note of what was
/// dropped between them. A tool that floods its output cannot grow the suite.
pub const KEEP: usize = 1 << 20;
/// Longer lines are cut (the rest of the line is counted as dropped).
pub const MAX_LINE: usize = 64 << 10;

/// The head and tail of a stream.
#[derive(Debug, Default)]
struct Capture {
    head: Vec<u8>,
    tail: std::collections::VecDeque<u8>,
    dropped: u64,
}

impl Capture {
    fn push(&mut self, mut data: &[u8]) {
        if self.head.len() < KEEP {
            let n = (KEEP - self.head.len()).min(data.len());
            self.head.extend_from_slice(&data[..n]);
            data = &data[n..];
        }
        self.tail.extend(data);
        if self.tail.len() > KEEP {
            let excess = self.tail.len() - KEEP;
            self.tail.drain(..excess);
            self.dropped += excess as u64;
        }
    }

    fn finish(self) -> String {
        let mut out = String::from_utf8_lossy(&self.head).into_owned();
        if self.dropped > 0 {
            out.push_str(&format!("[... {} bytes dropped ...]\n", self.dropped));
        }
        let (a, b) = self.tail.as_slices();
        out.push_str(&String::from_utf8_lossy(&[a, b].concat()));
        out
    }
}

/// The next line of `reader` without its newline, at most [`MAX_LINE`] bytes of it (the count of
/// bytes cut off is returned too); `None` at the end.
async fn next_line_bounded<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
) -> std::io::Result<Option<(Vec<u8>, usize)>> {
    use tokio::io::AsyncBufReadExt as _;
    let mut line = Vec::new();
    let mut cut = 0usize;
    loop {
        let buf = reader.fill_buf().await?;
        if buf.is_empty() {
            return Ok((!line.is_empty() || cut > 0).then_some((line, cut)));
        }
        let (chunk, done) = match buf.iter().position(|b| *b == b'\n') {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        let room = MAX_LINE.saturating_sub(line.len());
        let take = room.min(chunk.len());
        line.extend_from_slice(&chunk[..take]);
        cut += chunk.len() - take;
        let used = done.unwrap_or(buf.len());
        reader.consume(used);
        if done.is_some() {
            return Ok(Some((line, cut)));
        }
    }
}

async fn collect(stream: Option<impl AsyncRead + Unpin>, echo: Option<String>) -> String {
    let Some(stream) = stream else {
        return String::new();
    };
    let mut reader = BufReader::new(stream);
    let mut capture = Capture::default();
    // A read error (a closed pipe) ends the stream: what was read is kept.
    while let Ok(Some((line, cut))) = next_line_bounded(&mut reader).await {
        if let Some(prefix) = &echo {
            progress::say(format!("  {prefix}: {}", String::from_utf8_lossy(&line)));
        }
        capture.push(&line);
        if cut > 0 {
            capture.push(format!("[... {cut} bytes of this line dropped]").as_bytes());
        }
        capture.push(b"\n");
    }
    capture.finish()
}

fn describe(status: &std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(sig)) => format!("signal {sig}"),
        _ => status.to_string(),
    }
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// A long-running tool (e.g. `istioctl dashboard kiali`), stopped when dropped.
pub struct Running {
    child: tokio::process::Child,
    /// The output line that showed it was ready.
    pub ready_line: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(pid) = self.child.id() {
            kill_group(pid);
        }
    }
}

impl Cmd {
    /// Starts the command and waits (bounded by its timeout) for an output line that `ready`
    /// accepts; the process keeps running until the returned handle is dropped.
    pub async fn spawn_until(self, ready: impl Fn(&str) -> bool) -> Result<Running, ProcessError> {
        let command = self.display();
        let path = self.tools.find(&self.program)?;
        let io = |source| ProcessError::Io {
            command: command.clone(),
            source,
        };
        let mut child = self.spawn_piped(&path).map_err(io)?;
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let mut lines = futures::stream::select(stream_lines(stdout), stream_lines(stderr));
        let mut seen = Capture::default();
        let wait = async {
            use futures::StreamExt;
            while let Some(line) = lines.next().await {
                seen.push(line.as_bytes());
                seen.push(b"\n");
                if ready(&line) {
                    return Some(line);
                }
            }
            None
        };
        let outcome = tokio::time::timeout(self.timeout, wait).await;
        match outcome {
            Ok(Some(line)) => Ok(Running {
                child,
                ready_line: line,
            }),
            Ok(None) => {
                let status = child.wait().await.map(|s| describe(&s)).unwrap_or_default();
                Err(ProcessError::Failed {
                    command,
                    status,
                    stdout: String::new(),
                    stderr_tail: tail(&seen.finish(), 20),
                })
            }
            Err(_) => {
                if let Some(pid) = child.id() {
                    kill_group(pid);
                }
                Err(ProcessError::Timeout {
                    command,
                    timeout: self.timeout,
                    stderr_tail: tail(&seen.finish(), 20),
                })
            }
        }
    }
}

fn stream_lines(
    stream: Option<impl AsyncRead + Unpin + Send + 'static>,
) -> futures::stream::BoxStream<'static, String> {
    use futures::StreamExt;
    match stream {
        None => futures::stream::empty().boxed(),
        Some(s) => futures::stream::unfold(BufReader::new(s), |mut reader| async move {
            match next_line_bounded(&mut reader).await {
                Ok(Some((line, _))) => Some((String::from_utf8_lossy(&line).into_owned(), reader)),
                _ => None,
            }
        })
        .boxed(),
    }
}

/// A long-lived child (a control-plane component) that ends with this process: it is killed when
/// dropped, and by the kernel when the test process dies, even by SIGKILL (PR_SET_PDEATHSIG).
pub struct Owned {
    pub name: String,
    pub log: PathBuf,
    child: std::process::Child,
}

impl Owned {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `Some(status)` if it has exited.
    pub fn exited(&mut self) -> Option<String> {
        self.child.try_wait().ok().flatten().map(|s| describe(&s))
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        kill_group(self.child.id());
        let _ = self.child.wait();
    }
}

/// Starts `program args...` with stdout and stderr appended to `log`, the environment of this
/// process plus `env`. The spawn happens on one thread that lives as long as the process:
/// PR_SET_PDEATHSIG fires when the spawning *thread* ends, and libtest ends a test's thread after
/// each test.
pub fn spawn_owned(
    name: &str,
    program: &Path,
    args: &[String],
    env: &[(String, String)],
    log: &Path,
    jail: Option<std::sync::Arc<crate::jail::ExecJail>>,
) -> Result<Owned, ProcessError> {
    let how = OwnedSetup {
        env,
        clear_env: false,
        cwd: None,
        jail,
    };
    spawn_owned_with(name, program, args, log, how)
}

/// How [`spawn_owned_with`] starts a process, beyond its argv.
#[derive(Default)]
pub struct OwnedSetup<'a> {
    /// Variables to set.
    pub env: &'a [(String, String)],
    /// Start from an empty environment (only `env`): nothing stray (a `KUBECONFIG`, a feature
    /// flag) reaches the process.
    pub clear_env: bool,
    /// Working directory (this process's if `None`).
    pub cwd: Option<&'a Path>,
    /// Landlock: what the process may execute.
    pub jail: Option<std::sync::Arc<crate::jail::ExecJail>>,
}

/// [`spawn_owned`] with a working directory and, if asked, a cleared environment.
pub fn spawn_owned_with(
    name: &str,
    program: &Path,
    args: &[String],
    log: &Path,
    how: OwnedSetup<'_>,
) -> Result<Owned, ProcessError> {
    let OwnedSetup {
        env,
        clear_env,
        cwd,
        jail,
    } = how;
    use std::os::unix::process::CommandExt;
    use std::sync::mpsc;
    type Request = (
        std::process::Command,
        mpsc::Sender<std::io::Result<std::process::Child>>,
    );
    static LAUNCHER: std::sync::OnceLock<std::sync::Mutex<mpsc::Sender<Request>>> =
        std::sync::OnceLock::new();
    let command = format!("{} {}", program.display(), args.join(" "));
    let io = |source| ProcessError::Io {
        command: command.clone(),
        source,
    };
    if !is_executable(program) {
        return Err(ProcessError::NotFound {
            program: program.display().to_string(),
            hint: "build the sim binaries: bash fixtures/sim/build.sh",
        });
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(io)?;
    let err_file = file.try_clone().map_err(io)?;
    let mut cmd = std::process::Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(err_file)
        .process_group(0);
    if clear_env {
        cmd.env_clear();
    }
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    if let Some(dir) = cwd {
        cmd.current_dir(dir);
    }
    // SAFETY: prctl, getppid and the jail's two system calls are async-signal-safe; nothing
    // else runs between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The parent may have died between fork and prctl.
            if libc::getppid() == 1 {
                return Err(std::io::Error::other("parent exited"));
            }
            if let Some(jail) = &jail {
                jail.apply_in_child()?;
            }
            Ok(())
        });
    }
    let sender = LAUNCHER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Request>();
        std::thread::Builder::new()
            .name("ambient-launcher".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    let _ = reply.send(cmd.spawn());
                }
            })
            .expect("the launcher thread starts");
        std::sync::Mutex::new(tx)
    });
    let (reply, answer) = mpsc::channel();
    sender
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .send((cmd, reply))
        .map_err(|_| io(std::io::Error::other("launcher thread gone")))?;
    let child = answer
        .recv()
        .map_err(|_| io(std::io::Error::other("launcher thread gone")))?
        .map_err(io)?;
    Ok(Owned {
        name: name.to_string(),
        log: log.to_path_buf(),
        child,
    })
}
