//! Running tools: argv in, captured output and named errors out.

use std::time::{Duration, Instant};

use support::process::{ProcessError, Tools};

use crate::world::FakeBin;

#[tokio::test]
async fn a_missing_tool_says_where_to_get_it() {
    let empty = tempfile::tempdir().unwrap();
    let err = Tools::with_path(&[empty.path()])
        .command("kind")
        .arg("version")
        .run()
        .await
        .unwrap_err();
    assert!(matches!(err, ProcessError::NotFound { .. }));
    assert_eq!(
        err.to_string(),
        "kind not found on PATH: install it from https://kind.sigs.k8s.io/docs/user/quick-start/#installation"
    );
}

#[tokio::test]
async fn a_failing_tool_surfaces_status_and_stderr() {
    let bin = FakeBin::new();
    bin.script(
        "istioctl",
        "echo 'line one' >&2\necho 'Error: no Kubernetes cluster' >&2\nexit 3",
    );
    let err = bin
        .tools()
        .command("istioctl")
        .args(["install", "-y"])
        .run()
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("`istioctl install -y` failed with exit status 3"),
        "{text}"
    );
    assert!(
        text.ends_with("line one\nError: no Kubernetes cluster"),
        "{text}"
    );
}

#[tokio::test]
async fn a_hung_tool_is_killed_at_the_timeout_with_its_children() {
    let bin = FakeBin::new();
    let pid_file = bin.dir.path().join("child.pid");
    // The fake starts a child of its own, says which, and waits on it.
    bin.script(
        "kind",
        &format!("sleep 30 &\necho $! > '{}'\nwait", pid_file.display()),
    );
    // The kill must come after the child started: a short timeout first, a longer one only if
    // the kill came before the child's number was written (a busy machine).
    for timeout in CHILD_STARTED_WITHIN.map(Duration::from_millis) {
        let _ = std::fs::remove_file(&pid_file);
        let started = Instant::now();
        let err = bin
            .tools()
            .command("kind")
            .args(["create", "cluster"])
            .timeout(timeout)
            .run()
            .await
            .unwrap_err();
        assert!(
            started.elapsed() < timeout + Duration::from_secs(5),
            "took {:?}",
            started.elapsed()
        );
        assert!(matches!(err, ProcessError::Timeout { .. }));
        assert_eq!(
            err.to_string(),
            format!("`kind create cluster` did not finish within {timeout:?}; it was killed")
        );
        let Some(child) = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|pid| pid.trim().parse::<u32>().ok())
        else {
            continue;
        };
        // The grandchild belonged to the killed process group: it must be gone (or a zombie)
        // once the kernel has delivered the signal.
        let gone = support::k8s::wait::until(
            "the hung tool's child to die",
            Duration::from_secs(3),
            || async move {
                let state =
                    std::fs::read_to_string(format!("/proc/{child}/stat")).unwrap_or_default();
                match state.split_whitespace().nth(2) {
                    Some(s) if s != "Z" => support::k8s::wait::Probe::NotYet(state.clone()),
                    _ => support::k8s::wait::Probe::Ready(()),
                }
            },
        )
        .await;
        assert!(
            gone.is_ok(),
            "child {child} of the hung tool survived: {gone:?}"
        );
        return;
    }
    panic!("the hung tool never wrote its child's number within {CHILD_STARTED_WITHIN:?} ms");
}

/// Timeouts (ms) for a hung tool that starts a child first: the first is usually long enough for
/// a shell to start one, each next is tried only if the one before ended the tool earlier.
pub const CHILD_STARTED_WITHIN: [u64; 4] = [50, 200, 800, 3_200];

#[tokio::test]
async fn arguments_reach_the_tool_unchanged() {
    let bin = FakeBin::new();
    bin.answering("istioctl", "ok\n", 0);
    let out = bin
        .tools()
        .command("istioctl")
        .args(["--set", "a b", "$HOME", "; rm -rf /", ""])
        .run()
        .await
        .unwrap();
    assert_eq!(out.stdout, "ok\n");
    assert_eq!(
        bin.calls(),
        [["istioctl", "--set", "a b", "$HOME", "; rm -rf /", ""]]
    );
}

#[tokio::test]
async fn a_tool_that_leaves_a_background_child_does_not_hang_the_run() {
    let bin = FakeBin::new();
    bin.script("istioctl", "sleep 30 &\necho started");
    let started = Instant::now();
    let out = bin.tools().command("istioctl").run().await.unwrap();
    assert_eq!(out.stdout, "started\n");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_tool_that_floods_its_output_cannot_grow_the_suite() {
    let bin = FakeBin::new();
    // 9.5 MB of lines on stdout (over four times what is kept), then 1 MB without a newline on
    // stderr (15 times the longest line kept): any more kept than the bound fails as surely as
    // with more input, which only costs time.
    bin.script(
        "istioctl",
        "yes 'flooding the pipe with a line of text' | head -n 250000\nhead -c 1000000 /dev/zero | tr '\\0' 'x' >&2",
    );
    let out = bin
        .tools()
        .command("istioctl")
        .timeout(std::time::Duration::from_secs(60))
        .run()
        .await
        .unwrap();
    let cap = 2 * support::process::KEEP + 200;
    assert!(out.stdout.len() <= cap, "{} bytes kept", out.stdout.len());
    assert!(out.stdout.starts_with("flooding the pipe"));
    assert!(
        out.stdout.contains(" bytes dropped ...]"),
        "says how much was dropped"
    );
    assert!(
        out.stdout
            .ends_with("flooding the pipe with a line of text\n"),
        "the tail is kept"
    );
    assert!(
        out.stderr.len() <= support::process::MAX_LINE + 100,
        "{}",
        out.stderr.len()
    );
    assert!(
        out.stderr.contains("bytes of this line dropped"),
        "{}",
        &out.stderr[out.stderr.len() - 80..]
    );
}
