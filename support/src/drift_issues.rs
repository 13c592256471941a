//! One GitHub issue per drifted claim: what the nightly's issues job should do, decided from the
//! drift report and the issues that exist. The GitHub calls are the workflow's (`gh`); this is
//! the decision, pure and tested on claim records.
//!
//! An issue belongs to a claim of this suite (its *key*): whichever builds it drifts on tonight,
//! it is one problem of the tutorial, so one issue (never one per claim and era: 31 claims are at
//! most 31 issues, whatever the records say). Its title names the claim and the build it was
//! first seen on; its body is the report's section for each drifted build, and ends with a marker
//! naming the claim and the *build line* it was opened for (`1.24.2/kind`: a release is its own
//! line, dev builds of one minor are one line, `1.25-dev/kind`). Only issues with the label
//! [`LABEL`] are read (labels can be set only by people with triage access), and of those only
//! the ones whose last marker names a claim.
//!
//! For each claim in the report:
//! - drifted on some build: comment on its open issue ("still drifted"), or reopen its most
//!   recently closed one, or open one; at most `max_open` issues are opened or reopened a night,
//!   the rest are listed in one summary action;
//! - held on the build line its open issue was opened for (as documented, doc stale, format-1
//!   holds), and drifted nowhere: close it. A pass on another line (1.24.3 for an issue of
//!   1.24.2) closes nothing: 1.24.2 may still drift. Issues of the earlier per-era markers (no
//!   line) are left to people;
//! - otherwise (not reached, not applicable, absent from the report): nothing; a claim that was
//!   not decided tonight neither opens nor closes an issue.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::claims::Answer;
use crate::report::{Build, Cell, Report};

/// The label every drift issue carries.
pub const LABEL: &str = "ambient-drift";
const MARKER_START: &str = "<!-- ambient-drift ";
const MARKER_END: &str = " -->";
/// GitHub refuses an issue or comment body over 65536 characters.
const MAX_BODY: usize = 60_000;

/// An issue as `gh issue list --json number,title,body,state,labels` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Issue {
    pub number: u64,
    pub title: String,
    #[serde(default)]
    pub body: String,
    /// `OPEN` or `CLOSED`.
    pub state: String,
    #[serde(default)]
    pub labels: Vec<Label>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Label {
    pub name: String,
}

impl Issue {
    fn open(&self) -> bool {
        self.state.eq_ignore_ascii_case("open")
    }

    /// The marker of a drift issue: its label, and the last marker of its body.
    pub fn marker(&self) -> Option<Marker> {
        if !self.labels.iter().any(|l| l.name == LABEL) {
            return None;
        }
        let at = self.body.rfind(MARKER_START)?;
        let rest = &self.body[at + MARKER_START.len()..];
        Marker::parse(&rest[..rest.find(MARKER_END)?])
    }

    /// The claim of a drift issue.
    pub fn key(&self) -> Option<Key> {
        self.marker().map(|m| m.key)
    }
}

/// What an issue is about: a claim of this suite.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Key {
    pub claim: String,
}

/// What an issue's marker says: its claim, and the build line it was opened for (none in the
/// markers of the earlier per-era issues).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    pub key: Key,
    pub line: Option<String>,
}

/// Characters a marker's values may hold: enough for claim ids, versions, eras and providers,
/// and nothing that could end the marker or mean something in Markdown.
fn plain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/'))
}

/// The build line of a build: a release (or pre-release, or the tutorial's build) is its own
/// line; dev and source builds of one minor are one line (a new one every night). With the
/// provider: `1.24.2/kind`, `1.25-dev/kind`. `None` for a version or provider this suite cannot
/// read.
pub fn build_line(build: &Build) -> Option<String> {
    use crate::eras::{IstioVersion, VersionKind};
    let v = IstioVersion::parse(&build.istio_version).ok()?;
    let version = match v.kind {
        VersionKind::DevBuild { .. } | VersionKind::Source => {
            format!("{}.{}-dev", v.major, v.minor)
        }
        _ => v.raw,
    };
    let line = format!("{version}/{}", build.provider);
    (plain(&build.era) && plain(&build.provider) && !build.provider.contains('/') && plain(&line))
        .then_some(line)
}

impl Key {
    fn of(cell: &Cell) -> Option<Key> {
        // Only the suite's own claims get issues (records of another version are in the report
        // with a note, not here), and only cells whose build has a line.
        crate::claims::claim(&cell.claim)?;
        build_line(&cell.build)?;
        Some(Key {
            claim: cell.claim.clone(),
        })
    }

    /// `<!-- ambient-drift claim=… line=… -->`
    pub fn marker(&self, line: &str) -> String {
        format!("{MARKER_START}claim={} line={line}{MARKER_END}", self.claim)
    }
}

impl Marker {
    fn parse(inner: &str) -> Option<Marker> {
        let mut fields = BTreeMap::new();
        for part in inner.split_whitespace() {
            let (k, v) = part.split_once('=')?;
            if !plain(v) {
                return None;
            }
            fields.insert(k, v);
        }
        let claim = fields.get("claim")?.to_string();
        crate::claims::claim(&claim)?;
        Some(Marker {
            key: Key { claim },
            line: fields.get("line").map(|l| l.to_string()),
        })
    }
}

/// One thing for the workflow to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// `gh issue create --title … --body-file … --label ambient-drift`
    Open {
        key: Key,
        title: String,
        body: String,
    },
    /// `gh issue comment <number> --body-file …`
    Comment { key: Key, number: u64, body: String },
    /// `gh issue reopen <number> --comment …`
    Reopen { key: Key, number: u64, body: String },
    /// `gh issue close <number> --reason completed --comment …`
    Close { key: Key, number: u64, body: String },
    /// Nothing on GitHub: what the night did not do (issues beyond the night's limit, issues
    /// left open because their build line did not run), for the job summary.
    Summary { body: String },
}

/// Issues opened or reopened a night, unless the workflow says otherwise: a night that breaks
/// many claims at once (a new release) gets a few issues and a summary, not a flood.
pub const MAX_OPEN: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(
        "--run-url {0:?}: expected an https:// URL of the workflow run (letters, digits, ./_-)"
    )]
    RunUrl(String),
}

/// A link to the run, for bodies.
fn run_line(run_url: Option<&str>) -> String {
    run_url
        .map(|u| format!("Workflow run: {u}\n\n"))
        .unwrap_or_default()
}

fn cut(mut s: String) -> String {
    if s.len() > MAX_BODY {
        let mut end = MAX_BODY;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push_str("\n\n… (cut: the whole report is the run's `drift-report` artifact)\n");
    }
    s
}

fn builds(cells: &[&Cell]) -> String {
    cells
        .iter()
        .map(|c| c.build.label())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The report's sections for the drifted cells, then the key's marker (last, so nothing a record
/// holds can come after it).
fn drift_body(
    intro: &str,
    drifted: &[&Cell],
    run_url: Option<&str>,
    key: &Key,
    line: &str,
) -> String {
    let mut body = format!("{intro}\n\n{}", run_line(run_url));
    for cell in drifted {
        body.push_str(&crate::report::drift_markdown(cell));
        body.push('\n');
    }
    let mut body = cut(body);
    body.push_str(&format!(
        "\n---\nOpened and kept up to date by the nightly workflow's `issues` job: it comments \
         while the claim stays drifted and closes this issue when the claim holds again on the \
         build line it was opened for ({line}).\n{}\n",
        key.marker(line)
    ));
    body
}

/// What to do, given tonight's report and the issues that exist (all states): at most
/// `max_open` issues opened or reopened, the rest in a [`Action::Summary`].
pub fn plan(
    report: &Report,
    existing: &[Issue],
    run_url: Option<&str>,
    max_open: usize,
) -> Result<Vec<Action>, PlanError> {
    if let Some(u) = run_url {
        let ok = u.strip_prefix("https://").is_some_and(|rest| {
            !rest.is_empty()
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'/' | b'_' | b'-'))
        });
        if !ok {
            return Err(PlanError::RunUrl(u.to_string()));
        }
    }
    // Tonight's cells per claim, in the report's order.
    let mut by_key: BTreeMap<Key, Vec<&Cell>> = BTreeMap::new();
    for cell in &report.cells {
        if let Some(key) = Key::of(cell) {
            by_key.entry(key).or_default().push(cell);
        }
    }
    let mut issues: BTreeMap<Key, Vec<(&Issue, Marker)>> = BTreeMap::new();
    for issue in existing {
        if let Some(marker) = issue.marker() {
            issues
                .entry(marker.key.clone())
                .or_default()
                .push((issue, marker));
        }
    }
    let mut actions = Vec::new();
    let mut opened = 0usize;
    let mut not_opened: Vec<String> = Vec::new();
    let mut left_open: Vec<String> = Vec::new();
    for (key, cells) in by_key {
        let drifted: Vec<&Cell> = cells
            .iter()
            .copied()
            .filter(|c| matches!(c.answer, Answer::Drifted { .. }))
            .collect();
        let held: Vec<&Cell> = cells
            .iter()
            .copied()
            .filter(|c| {
                matches!(
                    c.answer,
                    Answer::AsDocumented | Answer::DocStale { .. } | Answer::Holds
                )
            })
            .collect();
        let mine = issues.get(&key).map(Vec::as_slice).unwrap_or_default();
        let open = mine
            .iter()
            .filter(|(i, _)| i.open())
            .min_by_key(|(i, _)| i.number);
        let closed = mine
            .iter()
            .filter(|(i, _)| !i.open())
            .max_by_key(|(i, _)| i.number);
        if let Some(first) = drifted.first() {
            let line = build_line(&first.build).unwrap_or_default();
            if open.is_none() && opened >= max_open {
                not_opened.push(format!("`{}` on {}", key.claim, builds(&drifted)));
                continue;
            }
            let action = match (open, closed) {
                (Some((issue, marker)), _) => Action::Comment {
                    number: issue.number,
                    body: drift_body(
                        &format!("Still drifted on {}.", builds(&drifted)),
                        &drifted,
                        run_url,
                        &key,
                        marker.line.as_deref().unwrap_or(&line),
                    ),
                    key,
                },
                (None, Some((issue, marker))) => {
                    opened += 1;
                    Action::Reopen {
                        number: issue.number,
                        body: drift_body(
                            &format!("Drifted again on {}.", builds(&drifted)),
                            &drifted,
                            run_url,
                            &key,
                            marker.line.as_deref().unwrap_or(&line),
                        ),
                        key,
                    }
                }
                (None, None) => {
                    opened += 1;
                    Action::Open {
                        title: title(&key, &first.build),
                        body: drift_body(
                            &format!(
                                "The nightly drift run found that the tutorial's claim `{}` no \
                                 longer holds on {}.",
                                key.claim,
                                builds(&drifted)
                            ),
                            &drifted,
                            run_url,
                            &key,
                            &line,
                        ),
                        key,
                    }
                }
            };
            actions.push(action);
        } else if !held.is_empty() {
            for (issue, marker) in mine.iter().filter(|(i, _)| i.open()) {
                let on_its_line: Vec<&Cell> = held
                    .iter()
                    .copied()
                    .filter(|c| marker.line.is_some() && build_line(&c.build) == marker.line)
                    .collect();
                if on_its_line.is_empty() {
                    left_open.push(format!(
                        "#{} (`{}`): holds on {}, but it was opened for {}, which did not run",
                        issue.number,
                        key.claim,
                        builds(&held),
                        marker
                            .line
                            .as_deref()
                            .unwrap_or("an era and provider (an earlier marker): close it by hand")
                    ));
                    continue;
                }
                let line = marker.line.clone().unwrap_or_default();
                actions.push(Action::Close {
                    key: key.clone(),
                    number: issue.number,
                    body: format!(
                        "Holds again on {}: closing.\n\n{}{}\n",
                        builds(&on_its_line),
                        run_line(run_url),
                        key.marker(&line)
                    ),
                });
            }
        }
    }
    if !not_opened.is_empty() || !left_open.is_empty() {
        let mut body = String::new();
        if !not_opened.is_empty() {
            body.push_str(&format!(
                "{} more drifted claim(s) got no issue tonight (at most {max_open} are opened or \
                 reopened a night; the next nights open them):\n",
                not_opened.len()
            ));
            for n in &not_opened {
                body.push_str(&format!("- {n}\n"));
            }
        }
        if !left_open.is_empty() {
            body.push_str("Left open:\n");
            for n in &left_open {
                body.push_str(&format!("- {n}\n"));
            }
        }
        actions.push(Action::Summary { body: cut(body) });
    }
    Ok(actions)
}

/// `Drift: l7.waypoint_pod_running on Istio 1.24.2 (1.24, kind)` (the cell's build has a line:
/// its version reads as one, its era and provider are plain).
fn title(key: &Key, build: &Build) -> String {
    let version = crate::eras::IstioVersion::parse(&build.istio_version)
        .map(|v| v.raw)
        .unwrap_or_default();
    format!(
        "Drift: {} on Istio {version} ({}, {})",
        key.claim, build.era, build.provider
    )
}

/// The plan as the workflow reads it: a JSON array of actions.
pub fn to_json(actions: &[Action]) -> String {
    serde_json::to_string_pretty(actions).unwrap_or_else(|_| "[]".into())
}

/// Reads `gh issue list --json number,title,body,state,labels` output.
pub fn parse_issues(text: &str) -> Result<Vec<Issue>, serde_json::Error> {
    serde_json::from_str(text)
}

/// Reads the report's JSON summary (`ambient-spec report --json`).
pub fn parse_report(text: &str) -> Result<Report, serde_json::Error> {
    serde_json::from_str(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOTE: &str = "\n\n… (cut: the whole report is the run's `drift-report` artifact)\n";

    #[test]
    fn a_body_is_cut_at_its_limit_on_a_char_boundary() {
        let exact = "x".repeat(MAX_BODY);
        assert_eq!(cut(exact.clone()), exact);
        let over = "x".repeat(MAX_BODY + 1);
        assert_eq!(cut(over), "x".repeat(MAX_BODY) + NOTE);
        // A three-byte char across the limit, at each of its offsets: cut before it.
        for pad in 0..3 {
            let s = "x".repeat(pad) + &"€".repeat(MAX_BODY / 3 + 1);
            let kept = cut(s.clone());
            let body = kept.strip_suffix(NOTE).expect("the cut note");
            assert!(body.len() <= MAX_BODY && body.len() > MAX_BODY - 3, "{pad}");
            assert!(s.starts_with(body), "{pad}");
        }
    }
}
