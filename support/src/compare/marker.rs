//! Lines that say how a command failed: kubectl's `command terminated with exit code N` (the
//! remote command's status, `kubectl exec`) and Envoy's `RBAC: access denied` (the body of a 403
//! from an authorization policy).

use super::{Comparison, Difference, Seen, Side};

const TERMINATED: &str = "command terminated with exit code ";

/// The `N` of `command terminated with exit code N` in `text`.
pub fn terminated_code(text: &str) -> Option<i32> {
    text.lines().find_map(|l| {
        let at = l.find(TERMINATED)?;
        l[at + TERMINATED.len()..].trim().parse().ok()
    })
}

/// `command terminated with exit code N`: the same line with the same `N` on stderr or stdout,
/// and the command's own exit status not 0 (kubectl exits with the remote status). No
/// normalization: the code is the statement.
pub fn exit_code(expected: &str, seen: Seen<'_>) -> Comparison {
    let Some(want) = terminated_code(expected) else {
        return Comparison::unreadable(
            Side::Expected,
            "no `command terminated with exit code N` documented",
        );
    };
    let line = |code: i32| format!("{TERMINATED}{code}");
    let got = terminated_code(seen.stderr).or_else(|| terminated_code(seen.stdout));
    let mut out = Vec::new();
    match got {
        Some(code) if code == want => {}
        Some(code) => out.push(Difference::new("remote exit code", line(want), line(code))),
        None => out.push(Difference::new("remote exit code", line(want), "")),
    }
    if seen.exit_code == Some(0) {
        out.push(Difference::new("exit status", "non-zero", "0"));
    }
    Comparison::from_differences(out)
}

/// `RBAC: access denied` as a line of the output (trimmed), not merely inside another line.
pub fn rbac_denied(seen: &str) -> Comparison {
    const DENIED: &str = "RBAC: access denied";
    if seen.lines().any(|l| l.trim() == DENIED) {
        Comparison::Matches
    } else {
        let first = seen.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        Comparison::Differs(vec![Difference::new("response body", DENIED, first.trim())])
    }
}
