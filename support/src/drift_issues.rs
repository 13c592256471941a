//! One GitHub issue per drifted claim: what the nightly's issues job should do, decided from the
//! drift report and the issues that exist. The GitHub calls are the workflow's (`gh`); this is
//! the decision, pure and tested on claim records.
//!
//! An issue belongs to a claim on an Istio era (the *key*), whatever the provider that saw it
//! (kind or sim): the nightly tests a new dev build every night and a new release now and then,
//! and a drift that carries over to the next build of the same era, or shows on another provider,
//! is the same problem, so it stays one issue. (Markers of older issues also name a provider:
//! it is ignored, so those issues carry on.) Its title names the
//! claim and the build it was first seen on; its body is the report's section for each drifted
//! build, and ends with a marker naming the key. Only issues with the label [`LABEL`] are read
//! (labels can be set only by people with triage access), and of those only the ones whose last
//! marker names a key.
//!
//! For each key in the report:
//! - drifted on some build: comment on its open issue ("still drifted"), or reopen its most
//!   recently closed one, or open one;
//! - held on every build it was decided on (as documented, doc stale, format-1 holds): close its
//!   open issues, saying on which builds it holds;
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

    /// The key of a drift issue: its label, and the last marker of its body.
    pub fn key(&self) -> Option<Key> {
        if !self.labels.iter().any(|l| l.name == LABEL) {
            return None;
        }
        let at = self.body.rfind(MARKER_START)?;
        let rest = &self.body[at + MARKER_START.len()..];
        Key::parse(&rest[..rest.find(MARKER_END)?])
    }
}

/// What an issue is about: a claim on an era, whatever the provider.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Key {
    pub claim: String,
    pub era: String,
}

/// Characters a key's parts may hold: enough for claim ids, eras and providers, and nothing that
/// could end the marker or mean something in Markdown.
fn plain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

impl Key {
    fn of(cell: &Cell) -> Option<Key> {
        // Only the suite's own claims get issues (records of another version are in the report
        // with a note, not here).
        crate::claims::claim(&cell.claim)?;
        let key = Key {
            claim: cell.claim.clone(),
            era: cell.build.era.clone(),
        };
        (plain(&key.era) && plain(&cell.build.provider)).then_some(key)
    }

    /// `<!-- ambient-drift claim=… era=… -->`
    pub fn marker(&self) -> String {
        format!(
            "{MARKER_START}claim={} era={}{MARKER_END}",
            self.claim, self.era
        )
    }

    fn parse(inner: &str) -> Option<Key> {
        let mut fields = BTreeMap::new();
        for part in inner.split_whitespace() {
            let (k, v) = part.split_once('=')?;
            fields.insert(k, v);
        }
        // An older marker's `provider=` is read past: its issue is the claim's on that era.
        let key = Key {
            claim: fields.get("claim")?.to_string(),
            era: fields.get("era")?.to_string(),
        };
        (plain(&key.claim) && plain(&key.era)).then_some(key)
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
}

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
fn drift_body(intro: &str, drifted: &[&Cell], run_url: Option<&str>, key: &Key) -> String {
    let mut body = format!("{intro}\n\n{}", run_line(run_url));
    for cell in drifted {
        body.push_str(&crate::report::drift_markdown(cell));
        body.push('\n');
    }
    let mut body = cut(body);
    body.push_str(&format!(
        "\n---\nOpened and kept up to date by the nightly workflow's `issues` job: it comments \
         while the claim stays drifted and closes this issue when the claim holds again.\n{}\n",
        key.marker()
    ));
    body
}

/// What to do, given tonight's report and the issues that exist (all states).
pub fn plan(
    report: &Report,
    existing: &[Issue],
    run_url: Option<&str>,
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
    // Tonight's cells per key, in the report's order.
    let mut by_key: BTreeMap<Key, Vec<&Cell>> = BTreeMap::new();
    for cell in &report.cells {
        if let Some(key) = Key::of(cell) {
            by_key.entry(key).or_default().push(cell);
        }
    }
    let mut issues: BTreeMap<Key, Vec<&Issue>> = BTreeMap::new();
    for issue in existing {
        if let Some(key) = issue.key() {
            issues.entry(key).or_default().push(issue);
        }
    }
    let mut actions = Vec::new();
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
        let open = mine.iter().filter(|i| i.open()).min_by_key(|i| i.number);
        let closed = mine.iter().filter(|i| !i.open()).max_by_key(|i| i.number);
        if !drifted.is_empty() {
            let action = match (open, closed) {
                (Some(issue), _) => Action::Comment {
                    number: issue.number,
                    body: drift_body(
                        &format!("Still drifted on {}.", builds(&drifted)),
                        &drifted,
                        run_url,
                        &key,
                    ),
                    key,
                },
                (None, Some(issue)) => Action::Reopen {
                    number: issue.number,
                    body: drift_body(
                        &format!("Drifted again on {}.", builds(&drifted)),
                        &drifted,
                        run_url,
                        &key,
                    ),
                    key,
                },
                (None, None) => {
                    let first = &drifted[0].build;
                    Action::Open {
                        title: title(&key, first),
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
                        ),
                        key,
                    }
                }
            };
            actions.push(action);
        } else if !held.is_empty() {
            for issue in mine.iter().filter(|i| i.open()) {
                actions.push(Action::Close {
                    key: key.clone(),
                    number: issue.number,
                    body: format!(
                        "Holds again on {}: closing.\n\n{}{}\n",
                        builds(&held),
                        run_line(run_url),
                        key.marker()
                    ),
                });
            }
        }
    }
    Ok(actions)
}

/// `Drift: l7.waypoint_pod_running on Istio 1.24.2 (1.24, kind)`: the build it was first seen on.
fn title(key: &Key, build: &Build) -> String {
    let version: String = build.istio_version.chars().take(80).collect();
    format!(
        "Drift: {} on Istio {version} ({}, {})",
        key.claim, key.era, build.provider
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
