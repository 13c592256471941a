//! Comparators, one per kind of documented output: given the text a document shows and what a
//! command printed, each says "matches" or what differs (the expected and the seen line, cell or
//! field), never a bare bool. Each states its normalizations in its doc comment; all are pure,
//! linear in their input, and total (any input gives a result, never a panic).
//!
//! The floor is istio.io's `tests/util/verify.sh` ([`like`]); above it, comparators that know
//! what they read: kubectl tables by column ([`table`]), istioctl's install lines ([`install`]),
//! YAML/JSON objects ([`object`]), HTTP status lines and page titles ([`http`]), the lines that
//! say a command failed ([`marker`]), and log lines through the suite's log readers ([`logs`]).

pub mod http;
pub mod install;
pub mod like;
pub mod logs;
pub mod marker;
pub mod names;
pub mod object;
pub mod table;

/// One thing that differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// What differs, in words: `STATUS of pod/istiod`, `row missing`, `spec.gatewayClassName`.
    pub what: String,
    /// What the document shows (empty when the document shows nothing there).
    pub expected: String,
    /// What the command printed (empty when it printed nothing there).
    pub seen: String,
}

impl Difference {
    pub fn new(
        what: impl Into<String>,
        expected: impl Into<String>,
        seen: impl Into<String>,
    ) -> Self {
        Difference {
            what: what.into(),
            expected: expected.into(),
            seen: seen.into(),
        }
    }
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: expected {:?}, seen {:?}",
            self.what, self.expected, self.seen
        )
    }
}

/// Which side of a comparison could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Expected,
    Seen,
}

/// A comparator's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Comparison {
    Matches,
    Differs(Vec<Difference>),
    /// One side is not this kind of output at all (no table, not YAML, …).
    Unreadable {
        side: Side,
        reason: String,
    },
}

impl Comparison {
    /// `Matches` when nothing differs.
    pub fn from_differences(differences: Vec<Difference>) -> Self {
        if differences.is_empty() {
            Comparison::Matches
        } else {
            Comparison::Differs(differences)
        }
    }

    pub fn matches(&self) -> bool {
        *self == Comparison::Matches
    }

    /// What differs (empty when it matches or could not be read).
    pub fn differences(&self) -> &[Difference] {
        match self {
            Comparison::Differs(d) => d,
            _ => &[],
        }
    }

    pub(crate) fn unreadable(side: Side, reason: impl Into<String>) -> Self {
        Comparison::Unreadable {
            side,
            reason: reason.into(),
        }
    }
}

/// What a command left to compare against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen<'a> {
    pub stdout: &'a str,
    pub stderr: &'a str,
    /// `None` when it did not end with an exit status (killed).
    pub exit_code: Option<i32>,
}

/// The kinds of documented output, one comparator each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    /// kubectl tables, every row and cell ([`table::compare`]).
    Table(table::Extent),
    /// istioctl install's `✔` lines ([`install::compare`]).
    InstallLines,
    /// YAML or JSON objects ([`object::compare`]).
    Object,
    /// `HTTP/1.1 200 OK` ([`http::first_line`]).
    HttpStatus,
    /// `<title>…</title>` ([`http::title`]).
    Title,
    /// `command terminated with exit code N` ([`marker::exit_code`]).
    ExitCode,
    /// `RBAC: access denied` ([`marker::rbac_denied`]).
    RbacDenied,
    /// ztunnel and istio-cni log lines ([`logs::compare`]).
    Logs,
    /// verify.sh's `_verify_like` ([`like::like`]).
    Like,
}

/// Compares `expected` (the document's text) with what a command left, by `kind`. Streams are
/// read where each kind's tool writes them: tables, objects, titles and logs on stdout; istioctl's
/// install lines, kubectl's `command terminated …` on stderr; status lines and `RBAC` on either.
pub fn compare(kind: OutputKind, expected: &str, seen: Seen<'_>) -> Comparison {
    let both = || format!("{}\n{}", seen.stdout, seen.stderr);
    match kind {
        OutputKind::Table(extent) => table::compare(expected, seen.stdout, extent),
        OutputKind::InstallLines => install::compare(expected, &both()),
        OutputKind::Object => object::compare(expected, seen.stdout),
        OutputKind::HttpStatus => http::first_line(expected, seen.stdout),
        OutputKind::Title => http::title(expected, seen.stdout),
        OutputKind::ExitCode => marker::exit_code(expected, seen),
        OutputKind::RbacDenied => marker::rbac_denied(&both()),
        OutputKind::Logs => logs::compare(expected, seen.stdout),
        OutputKind::Like => like::like(expected, seen.stdout),
    }
}
