//! Progress of long steps: drawn on a terminal, plain timestamped lines anywhere else (a CI log
//! must never receive an escape sequence or a carriage return).

use std::io::{IsTerminal, Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::k8s::wait::{Probe, until};
use support::progress::{self, Progress};

/// A writer the test can read while progress writes to it.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

/// Every line is `[ambient HH:MM:SSZ +S.Ss] message`, with nothing a terminal would interpret.
fn assert_plain(text: &str) {
    assert!(!text.contains('\x1b'), "an escape sequence: {text:?}");
    assert!(!text.contains('\r'), "a carriage return: {text:?}");
    assert!(text.ends_with('\n'), "{text:?}");
    let line = regex::Regex::new(r"^\[ambient \d\d:\d\d:\d\dZ \+\d+\.\ds\] .*\S$").unwrap();
    for l in text.lines() {
        assert!(line.is_match(l), "not a plain progress line: {l:?}");
    }
}

/// Waits (bounded) until `text` shows `what`: the output is written by another thread.
fn eventually(out: &Shared, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !out.text().contains(what) {
        assert!(Instant::now() < deadline, "no {what:?} in {:?}", out.text());
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn off_a_terminal_progress_is_plain_timestamped_lines() {
    let out = Shared::default();
    let p = Progress::plain(out.clone())
        .with_wait_intervals(Duration::from_millis(20), Duration::from_millis(40));
    assert!(!p.is_terminal());
    p.say("a message with a \r carriage return, a \x1b[31mcolour\x1b[0m and a\nnewline");
    let mut d = p.download("Istio 1.24.2", Some(10 << 20));
    for _ in 0..10 {
        d.advance(1 << 20);
    }
    d.finish();
    let mut unknown = p.download("Istio latest-dev", None);
    unknown.advance(40 << 20);
    unknown.finish();
    let w = p.wait("istiod to be available", Duration::from_secs(300));
    w.seen("0/1 ready");
    eventually(&out, "still waiting for istiod to be available");
    w.finish("ready");
    let text = out.text();
    assert_plain(&text);
    for expected in [
        "a message with a   carriage return, a [31mcolour[0m and a newline",
        "  Istio 1.24.2: 1.0 MiB of 10.0 MiB (10%), ",
        "  Istio 1.24.2: 10.0 MiB of 10.0 MiB (100%), ",
        "  Istio 1.24.2: 10.0 MiB in ",
        "  Istio latest-dev: 40.0 MiB, ",
        "waiting for istiod to be available (up to 5m00s); last seen: 0/1 ready",
        " of 5m00s; last seen: 0/1 ready",
        "istiod to be available: ready after ",
    ] {
        assert!(text.contains(expected), "no {expected:?} in:\n{text}");
    }
    // A tenth of the archive per line, not a line per chunk.
    assert_eq!(text.matches("Istio 1.24.2: ").count(), 11, "{text}");
}

#[test]
fn a_short_wait_says_nothing() {
    let out = Shared::default();
    let p = Progress::plain(out.clone());
    let w = p.wait("something quick", Duration::from_secs(60));
    w.seen("almost");
    w.finish("ready");
    drop(p.wait("something dropped", Duration::from_secs(60)));
    assert_eq!(out.text(), "");
}

/// The child side of the tests below (does nothing unless they start it): progress through the
/// process's own output, as the suite uses it: a download, a line, and the suite's one bounded
/// wait (`until`), which lasts until the test has seen it shown and closes the child's input.
/// On a terminal the first probe waits for that (the spinner draws itself meanwhile); elsewhere
/// the first probe says "not yet" and a later one finds the input closed.
#[test]
fn progress_child() {
    if std::env::var_os("PROGRESS_CHILD").is_none() {
        return;
    }
    let _ = progress::init(
        Progress::detect()
            .with_wait_intervals(Duration::from_millis(10), Duration::from_millis(20)),
    );
    let mut d = progress::download("Istio child", Some(4 << 20));
    for _ in 0..4 {
        d.advance(1 << 20);
    }
    d.finish();
    progress::say("child says hello");
    let (closed, shown) = tokio::sync::watch::channel(false);
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        let _ = closed.send(true);
    });
    let on_terminal = std::io::stderr().is_terminal();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(until("the child's wait", Duration::from_secs(30), || {
        let mut shown = shown.clone();
        async move {
            if on_terminal {
                let _ = shown.wait_for(|&closed| closed).await;
            }
            if *shown.borrow() {
                Probe::Ready(())
            } else {
                Probe::NotYet("not yet".into())
            }
        }
    }))
    .unwrap();
}

/// The child, its input a pipe the test closes once it has seen what it waits for.
fn child() -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "progress::progress_child",
        "--exact",
        "--nocapture",
        "--test-threads=1",
    ])
    .env("PROGRESS_CHILD", "1")
    .env("TERM", "xterm-256color")
    .stdin(Stdio::piped())
    .stdout(Stdio::null());
    cmd
}

/// Reads `from` to its end (EIO, on Linux, once a terminal's other end is closed), closing the
/// child's `input` once what was read contains every one of `awaited`.
fn read_until_shown(mut from: impl Read, input: ChildStdin, awaited: &[&str]) -> Vec<u8> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let mut input = Some(input);
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 {
            break;
        }
        seen.extend_from_slice(&buf[..n]);
        if input.is_some() {
            let text = String::from_utf8_lossy(&seen);
            if awaited.iter().all(|a| text.contains(a)) {
                drop(input.take());
            }
        }
    }
    seen
}

#[test]
fn a_pipe_gets_plain_lines_from_the_real_output() {
    let mut running = child().stderr(Stdio::piped()).spawn().unwrap();
    let (stderr, input) = (
        running.stderr.take().unwrap(),
        running.stdin.take().unwrap(),
    );
    // The wait goes on until its "still waiting" line has been read.
    let seen = read_until_shown(stderr, input, &["still waiting for the child's wait: "]);
    let status = running.wait().unwrap();
    let text = String::from_utf8(seen).unwrap();
    assert!(status.success(), "{status:?}\n{text}");
    assert_plain(&text);
    for expected in [
        "Istio child: 4.0 MiB in ",
        "child says hello",
        "waiting for the child's wait (up to 30.0s); last seen: not yet",
        "still waiting for the child's wait: ",
        "the child's wait: ready after ",
    ] {
        assert!(text.contains(expected), "no {expected:?} in:\n{text}");
    }
}

#[test]
fn a_terminal_gets_a_spinner_and_a_bar() {
    let (master, slave) = pty();
    let mut cmd = child();
    cmd.stderr(Stdio::from(slave));
    let mut running = cmd.spawn().unwrap();
    drop(cmd); // the parent's copy of the terminal's other end
    let input = running.stdin.take().unwrap();
    // The wait goes on until its spinner has been drawn.
    let reader = std::thread::spawn(move || {
        read_until_shown(master, input, &["waiting for the child's wait", "of 30.0s"])
    });
    assert!(running.wait().unwrap().success());
    let seen = String::from_utf8_lossy(&reader.join().unwrap()).into_owned();
    // indicatif draws and redraws (escape sequences), the spinner names what is awaited and its
    // deadline, and lines still print.
    assert!(seen.contains("\x1b["), "{seen:?}");
    assert!(
        seen.contains("waiting for the child's wait") && seen.contains("of 30.0s"),
        "{seen:?}"
    );
    assert!(seen.contains("child says hello"), "{seen:?}");
    assert!(seen.contains("Istio child: 4.0 MiB in "), "{seen:?}");
}

/// A pseudo-terminal: the reading end, and the end a child writes to.
fn pty() -> (std::fs::File, OwnedFd) {
    let (mut master, mut slave) = (-1, -1);
    let size = libc::winsize {
        ws_row: 40,
        ws_col: 120,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty writes two new descriptors into the integers given; the name and termios
    // pointers may be null.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened by openpty and are owned here alone.
    unsafe {
        (
            std::fs::File::from(OwnedFd::from_raw_fd(master)),
            OwnedFd::from_raw_fd(slave),
        )
    }
}
