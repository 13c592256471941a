//! `istioctl install`'s progress lines: `✔ Istio core installed`, `✔ Installation complete`.
//!
//! istioctl installs components in parallel and prints `✔ <component> installed <icon>` as each
//! becomes ready (`operator/pkg/util/progress/progress.go`, `reportProgress`), then
//! `✔ Installation complete` when all are done (`SetState(StateComplete)`): the order of the
//! component lines depends on timing. So:
//! - the components are compared as sets (order ignored): one documented and not installed, or
//!   installed and not documented, differs;
//! - `✔ Installation complete` must be there if documented, after every component line;
//! - a `✘ <component> encountered an error: …` line always differs;
//! - normalized away: ANSI colors, the icon after `installed` (`⛵️`, `🧠`, newer releases only),
//!   text glued after `Installation complete` (istioctl writes no newline before its next
//!   message), and every other line (`- Processing resources …`, warnings).

use super::names::strip_ansi;
use super::{Comparison, Difference, Side};

/// The `✔`/`✘` lines of an install output.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstallLines {
    /// Components in the order printed.
    pub installed: Vec<String>,
    /// Index into `installed` where `Installation complete` came (`installed.len()` if last).
    pub complete_after: Option<usize>,
    /// `✘` lines, as printed.
    pub errors: Vec<String>,
}

/// Reads the `✔`/`✘` lines of `text`.
pub fn parse(text: &str) -> InstallLines {
    let mut out = InstallLines::default();
    for raw in text.lines() {
        let line = strip_ansi(raw);
        let line = line.trim();
        if let Some(rest) = line.strip_prefix('✔') {
            let rest = rest.trim_start();
            if rest.starts_with("Installation complete") {
                out.complete_after.get_or_insert(out.installed.len());
            } else if let Some(i) = rest.find(" installed") {
                out.installed.push(rest[..i].trim().to_string());
            }
        } else if line.starts_with('✘') {
            out.errors.push(line.to_string());
        }
    }
    out
}

/// Compares the documented install lines with what istioctl printed (stdout and stderr).
pub fn compare(expected: &str, seen: &str) -> Comparison {
    let e = parse(expected);
    if e.installed.is_empty() && e.complete_after.is_none() {
        return Comparison::unreadable(Side::Expected, "no `✔ … installed` line documented");
    }
    let s = parse(seen);
    let mut out = Vec::new();
    for c in &e.installed {
        if !s.installed.contains(c) {
            out.push(Difference::new("component", format!("✔ {c} installed"), ""));
        }
    }
    for c in &s.installed {
        if !e.installed.contains(c) {
            out.push(Difference::new("component", "", format!("✔ {c} installed")));
        }
    }
    if e.complete_after.is_some() {
        match s.complete_after {
            None => out.push(Difference::new("completion", "✔ Installation complete", "")),
            Some(at) if at < s.installed.len() => out.push(Difference::new(
                "completion",
                "✔ Installation complete after every component",
                format!(
                    "✔ Installation complete before ✔ {} installed",
                    s.installed[at]
                ),
            )),
            Some(_) => {}
        }
    }
    for err in &s.errors {
        out.push(Difference::new("error", "", err));
    }
    Comparison::from_differences(out)
}
