//! Progress of long steps (downloads, waits, cluster creation, installs), on stderr.
//!
//! - On a terminal (stderr is one and `TERM` is not `dumb`): a bar per download (bytes, rate,
//!   ETA) and a spinner per wait (what is awaited, elapsed, deadline, the last state seen), drawn
//!   by indicatif; lines print above them.
//! - Anywhere else (CI logs, a pipe, nextest's captured output): plain lines,
//!   `[ambient 03:17:02Z +12.3s] message`, with no escape sequence and no carriage return. A
//!   download prints a line every tenth of the archive (every 16 MiB when its size is unknown); a
//!   wait prints nothing while it is short, then a line once it has lasted 5 s, one every 30 s
//!   with the last state seen, and one when it ends.
//!
//! Written straight to the process's stderr, not through `eprintln!`, so libtest's output capture
//! does not hide them while a slow cluster test runs.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A wait this short prints nothing in plain output.
pub const QUIET: Duration = Duration::from_secs(5);
/// How often a plain wait says it is still waiting.
pub const EVERY: Duration = Duration::from_secs(30);

type Sink = Arc<Mutex<Box<dyn Write + Send>>>;

enum Out {
    Terminal(MultiProgress),
    Plain(Sink),
}

/// Where progress goes: the process's [`global`] one, or one writing plain lines to any writer
/// (tests).
pub struct Progress {
    out: Out,
    start: Instant,
    quiet: Duration,
    every: Duration,
}

/// The process's progress output, on stderr: drawn when stderr is a terminal, plain lines
/// otherwise (decided once).
pub fn global() -> &'static Progress {
    GLOBAL.get_or_init(Progress::detect)
}

static GLOBAL: OnceLock<Progress> = OnceLock::new();

/// Makes `progress` the process's progress output, before anything used it (a test process that
/// wants other wait intervals); returns it back if one is already in use.
pub fn init(progress: Progress) -> Result<(), Progress> {
    GLOBAL.set(progress)
}

/// Prints one progress line: `[ambient 03:17:02Z +12.3s] message`.
pub fn say(message: impl AsRef<str>) {
    global().say(message)
}

/// Starts showing a download of `total` bytes (if known).
pub fn download(what: &str, total: Option<u64>) -> Download<'static> {
    global().download(what, total)
}

/// Starts showing a wait for `what`, bounded by `timeout`.
pub fn wait(what: &str, timeout: Duration) -> Wait<'static> {
    global().wait(what, timeout)
}

/// `1m05s`, `12.3s`.
pub fn duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs >= 60 {
        format!("{}m{:02}s", secs / 60, secs % 60)
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

/// `[ambient 03:17:02Z +12.3s] message\n`: one line whatever the message holds (a carriage
/// return or an escape sequence would redraw or colour a CI log).
fn line(start: Instant, message: &str) -> String {
    let now = k8s_openapi::jiff::Timestamp::now();
    let message: String = message
        .chars()
        .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
        .filter(|c| *c == '\t' || !c.is_control())
        .collect();
    format!(
        "[ambient {} +{:.1}s] {message}\n",
        now.strftime("%H:%M:%SZ"),
        start.elapsed().as_secs_f64(),
    )
}

fn write_line(sink: &Sink, line: &str) {
    let mut w = sink.lock().unwrap_or_else(|e| e.into_inner());
    let _ = w.write_all(line.as_bytes());
    let _ = w.flush();
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / 1048576.0)
}

impl Progress {
    /// On stderr: drawn when it is a terminal (and `TERM` is not `dumb`), plain lines otherwise.
    pub fn detect() -> Self {
        let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
        if std::io::stderr().is_terminal() && !dumb {
            Progress::terminal(ProgressDrawTarget::stderr())
        } else {
            Progress::plain(std::io::stderr())
        }
    }

    /// Plain lines to `writer`.
    pub fn plain(writer: impl Write + Send + 'static) -> Self {
        Progress {
            out: Out::Plain(Arc::new(Mutex::new(Box::new(writer)))),
            start: Instant::now(),
            quiet: QUIET,
            every: EVERY,
        }
    }

    /// Bars and spinners drawn on `target`.
    pub fn terminal(target: ProgressDrawTarget) -> Self {
        Progress {
            out: Out::Terminal(MultiProgress::with_draw_target(target)),
            start: Instant::now(),
            quiet: QUIET,
            every: EVERY,
        }
    }

    /// How long a plain wait stays silent, and how often it then prints.
    pub fn with_wait_intervals(mut self, quiet: Duration, every: Duration) -> Self {
        self.quiet = quiet;
        self.every = every;
        self
    }

    pub fn is_terminal(&self) -> bool {
        matches!(self.out, Out::Terminal(_))
    }

    /// Prints one line (above any bar or spinner on a terminal).
    pub fn say(&self, message: impl AsRef<str>) {
        let line = line(self.start, message.as_ref());
        match &self.out {
            Out::Terminal(multi) => multi.suspend(|| {
                let _ = std::io::stderr().lock().write_all(line.as_bytes());
            }),
            Out::Plain(sink) => write_line(sink, &line),
        }
    }

    /// Starts showing a download of `total` bytes (if known).
    pub fn download<'p>(&'p self, what: &str, total: Option<u64>) -> Download<'p> {
        let bar = match &self.out {
            Out::Terminal(multi) => {
                let (bar, template) = match total {
                    Some(t) => (
                        ProgressBar::new(t),
                        "{spinner} {msg} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}",
                    ),
                    None => (
                        ProgressBar::new_spinner(),
                        "{spinner} {msg} {bytes} {binary_bytes_per_sec}",
                    ),
                };
                if let Ok(style) = ProgressStyle::with_template(template) {
                    bar.set_style(style.progress_chars("=> "));
                }
                bar.set_message(what.to_string());
                Some(multi.add(bar))
            }
            Out::Plain(_) => None,
        };
        Download {
            progress: self,
            what: what.to_string(),
            total: total.filter(|t| *t > 0),
            received: 0,
            next_line: 0,
            start: Instant::now(),
            bar,
        }
    }

    /// Starts showing a wait for `what`, bounded by `timeout`; dropped or finished, it stops.
    pub fn wait<'p>(&'p self, what: &str, timeout: Duration) -> Wait<'p> {
        let shared = Arc::new(WaitShared {
            state: Mutex::new(WaitState::default()),
            wake: Condvar::new(),
        });
        let (spinner, ticker) = match &self.out {
            Out::Terminal(multi) => {
                let spinner = multi.add(ProgressBar::new_spinner());
                let template = format!(
                    "{{spinner}} waiting for {} {{elapsed}} of {} {{msg}}",
                    what.replace(['{', '}'], ""),
                    duration(timeout)
                );
                if let Ok(style) = ProgressStyle::with_template(&template) {
                    spinner.set_style(style);
                }
                spinner.enable_steady_tick(Duration::from_millis(120));
                (Some(spinner), None)
            }
            Out::Plain(sink) => {
                let ticker = PlainWait {
                    sink: sink.clone(),
                    shared: shared.clone(),
                    what: what.to_string(),
                    timeout,
                    quiet: self.quiet,
                    every: self.every,
                    start: self.start,
                };
                (None, Some(std::thread::spawn(move || ticker.run())))
            }
        };
        Wait {
            progress: self,
            what: what.to_string(),
            start: Instant::now(),
            shared,
            spinner,
            ticker,
        }
    }
}

/// A download being shown; [`Download::finish`] when all bytes arrived.
pub struct Download<'p> {
    progress: &'p Progress,
    what: String,
    total: Option<u64>,
    received: u64,
    next_line: u64,
    start: Instant,
    bar: Option<ProgressBar>,
}

impl Download<'_> {
    /// `bytes` more arrived.
    pub fn advance(&mut self, bytes: u64) {
        self.received += bytes;
        if let Some(bar) = &self.bar {
            bar.set_position(self.received);
            return;
        }
        if self.received < self.next_line {
            return;
        }
        let secs = self.start.elapsed().as_secs_f64().max(0.001);
        let rate = self.received as f64 / secs;
        let line = match self.total {
            Some(t) => {
                self.next_line = self.received + t.div_ceil(10);
                let left = t.saturating_sub(self.received) as f64 / rate.max(1.0);
                format!(
                    "  {}: {} of {} ({}%), {}/s, about {} left",
                    self.what,
                    mib(self.received),
                    mib(t),
                    self.received * 100 / t,
                    mib(rate as u64),
                    duration(Duration::from_secs_f64(left))
                )
            }
            None => {
                self.next_line = self.received + 16 * 1048576;
                format!(
                    "  {}: {}, {}/s",
                    self.what,
                    mib(self.received),
                    mib(rate as u64)
                )
            }
        };
        self.progress.say(line);
    }

    /// All bytes arrived: one line with the size, time and rate.
    pub fn finish(mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        let took = self.start.elapsed();
        let rate = self.received as f64 / took.as_secs_f64().max(0.001);
        self.progress.say(format!(
            "  {}: {} in {} ({}/s)",
            self.what,
            mib(self.received),
            duration(took),
            mib(rate as u64)
        ));
    }
}

impl Drop for Download<'_> {
    fn drop(&mut self) {
        // Stopped early (an error the caller reports): the bar goes, nothing else is said.
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

#[derive(Default)]
struct WaitState {
    done: bool,
    last_seen: Option<String>,
    announced: bool,
}

struct WaitShared {
    state: Mutex<WaitState>,
    wake: Condvar,
}

impl WaitShared {
    fn lock(&self) -> std::sync::MutexGuard<'_, WaitState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The thread behind a plain wait: silent for `quiet`, then a line every `every`.
struct PlainWait {
    sink: Sink,
    shared: Arc<WaitShared>,
    what: String,
    timeout: Duration,
    quiet: Duration,
    every: Duration,
    /// The progress output's start (the `+12.3s` of each line).
    start: Instant,
}

impl PlainWait {
    fn run(self) {
        let started = Instant::now();
        let mut next = self.quiet;
        let mut state = self.shared.lock();
        loop {
            // Sleeps until the next line is due or the wait ends (no busy loop, no fixed sleep).
            let elapsed = started.elapsed();
            if state.done {
                return;
            }
            if elapsed < next {
                state = self
                    .shared
                    .wake
                    .wait_timeout(state, next - elapsed)
                    .map(|(s, _)| s)
                    .unwrap_or_else(|e| e.into_inner().0);
                continue;
            }
            let seen = state
                .last_seen
                .as_deref()
                .map(|s| format!("; last seen: {s}"))
                .unwrap_or_default();
            let message = if state.announced {
                format!(
                    "still waiting for {}: {} of {}{seen}",
                    self.what,
                    duration(elapsed),
                    duration(self.timeout)
                )
            } else {
                format!(
                    "waiting for {} (up to {}){seen}",
                    self.what,
                    duration(self.timeout)
                )
            };
            state.announced = true;
            write_line(&self.sink, &line(self.start, &message));
            next = elapsed + self.every;
        }
    }
}

/// A wait being shown; [`Wait::seen`] updates what it shows, [`Wait::finish`] ends it.
pub struct Wait<'p> {
    progress: &'p Progress,
    what: String,
    start: Instant,
    shared: Arc<WaitShared>,
    spinner: Option<ProgressBar>,
    ticker: Option<std::thread::JoinHandle<()>>,
}

impl Wait<'_> {
    /// The state seen by the last probe (shown beside the spinner, or in the next plain line).
    pub fn seen(&self, state: &str) {
        let state: String = state.chars().take(200).collect();
        if let Some(s) = &self.spinner {
            s.set_message(format!("— {}", state.replace(['\r', '\n'], " ")));
        }
        self.shared.lock().last_seen = Some(state);
    }

    fn stop(&mut self) -> bool {
        let announced = {
            let mut state = self.shared.lock();
            state.done = true;
            state.announced
        };
        self.shared.wake.notify_all();
        if let Some(t) = self.ticker.take() {
            let _ = t.join();
        }
        if let Some(s) = self.spinner.take() {
            s.finish_and_clear();
        }
        announced || (self.progress.is_terminal() && self.start.elapsed() >= self.progress.quiet)
    }

    /// The wait ended (`outcome`: "ready", "timed out", ...): a line saying so if it lasted long
    /// enough to be shown.
    pub fn finish(mut self, outcome: &str) {
        if self.stop() {
            self.progress.say(format!(
                "{}: {outcome} after {}",
                self.what,
                duration(self.start.elapsed())
            ));
        }
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        self.stop();
    }
}
