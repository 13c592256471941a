//! Snapshot policy: one set of redactions for everything that changes from run to run.
//!
//! Tests bind [`settings`] and snapshot plain text; they never write redactions of their own.
//! Filters run in order, specific before generic.
//!
//! The tutorial tier's snapshots are part of the verdict: [`Snapshot::compare`] reads the stored
//! `.snap` before the claim is recorded, and a difference is a drift of that claim
//! (`answers::against_snapshot`). Stored and pending files are insta's, so `cargo insta review`
//! accepts or rejects a change.

use std::path::PathBuf;

/// The redactions, as (regex, replacement) pairs, in the order they apply.
pub const FILTERS: &[(&str, &str)] = &[
    // Whitespace runs: the same line arrives tab-separated from kubectl and space-separated from
    // a copy in a document.
    (r"[ \t]{2,}|\t", " "),
    // Build ids: dev builds and the 2022 experimental build.
    (r"\b0\.0\.0-ambient\.[0-9a-f]{40}\b", "[BUILD]"),
    (r"\b1\.\d+-(?:alpha|dev)\.[0-9a-f]{40}\b", "[BUILD]"),
    // Timestamps (RFC 3339, with or without fraction).
    (
        r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z\b",
        "[TIMESTAMP]",
    ),
    // UUIDs (request ids, pod uids) and 32-hex trace ids.
    (
        r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b",
        "[UUID]",
    ),
    (r"\b[0-9a-f]{32}\b", "[ID]"),
    // Pod names: Deployment pods `<name>-<template hash>-<suffix>`, DaemonSet pods
    // `<name>-<suffix>`. Kubernetes draws both from the alphabet "bcdfghjklmnpqrstvwxz2456789"
    // (k8s.io/apimachinery/pkg/util/rand), which has no vowels, so words are left alone.
    (
        r"-[bcdfghjklmnpqrstvwxz2456789]{6,10}-[bcdfghjklmnpqrstvwxz2456789]{5}\b",
        "-[HASH]-[POD]",
    ),
    (
        r"\b(ztunnel|istio-cni-node)-[bcdfghjklmnpqrstvwxz2456789]{5}\b",
        "$1-[POD]",
    ),
    // IPv4 with an ephemeral or node port (30000-65535): both vary.
    (
        r"\b\d{1,3}(?:\.\d{1,3}){3}:(?:[3-5]\d{4}|6[0-5]\d{3})\b",
        "[IP]:[PORT]",
    ),
    // Any other IPv4 address; a well-known port after it stays.
    (r"\b\d{1,3}(?:\.\d{1,3}){3}\b", "[IP]"),
    // Durations and byte counts of the structured access log (1.22+) and of tracing lines.
    (r#"duration="?\d+ms"?"#, "duration=[DURATION]"),
    (r"\bdur=[0-9.]+(?:µs|ms|s|ns)", "dur=[DURATION]"),
    (r"\bbytes_(sent|recv)=\d+", "bytes_$1=[BYTES]"),
    // The Envoy text access log of 2022: bytes received, bytes sent, duration and upstream time
    // follow the quoted upstream-failure field.
    (
        r#"("[^"]*") \d+ \d+ \d+ (\d+|-) "#,
        "$1 [BYTES] [BYTES] [DURATION] [UPSTREAM_TIME] ",
    ),
];

/// insta settings with every redaction, cloned from the current scope (not `Settings::new`, which
/// would drop the caller's settings). Bind with `let _guard = settings().bind_to_scope();`.
pub fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    for (regex, replacement) in FILTERS {
        s.add_filter(regex, *replacement);
    }
    s.set_prepend_module_to_snapshot(true);
    s
}

/// Applies the same redactions to a string, for comparisons outside insta.
pub fn redact(text: &str) -> String {
    use std::sync::LazyLock;
    static COMPILED: LazyLock<Vec<(regex::Regex, &'static str)>> = LazyLock::new(|| {
        FILTERS
            .iter()
            .map(|(r, with)| (regex::Regex::new(r).expect("valid filter"), *with))
            .collect()
    });
    let mut out = text.to_string();
    for (re, with) in COMPILED.iter() {
        out = re.replace_all(&out, *with).into_owned();
    }
    out
}

/// The *shape* of a structured ztunnel access line (1.22+): timestamp redacted, whitespace runs
/// made one space, every `key=value` value replaced by `[VALUE]` with its quoting kept, except
/// `direction`. What is left is what a format change moves: level, scope, event, which keys, in
/// which order, which values are quoted. Who talked to whom is the judge's business, not the
/// snapshot's, so lines of other workloads (the recorded real ones) have the tutorial's shape.
pub fn access_line_shape(line: &str) -> String {
    let mut out = Vec::new();
    for token in tokens(line.trim()) {
        let shaped = match token.split_once('=') {
            Some((key, value)) if key != "direction" && is_key(key) => {
                if value.starts_with('"') {
                    format!("{key}=\"[VALUE]\"")
                } else {
                    format!("{key}=[VALUE]")
                }
            }
            _ => redact(token),
        };
        out.push(shaped);
    }
    out.join(" ")
}

fn is_key(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_')
}

/// Whitespace-separated tokens, a double-quoted run (with `\"` escapes) counting as no separator.
fn tokens(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = None;
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        if quoted {
            match (escaped, c) {
                (false, '\\') => escaped = true,
                (false, '"') => quoted = false,
                _ => escaped = false,
            }
            continue;
        }
        if c.is_whitespace() {
            if let Some(s) = start.take() {
                out.push(&line[s..i]);
            }
            continue;
        }
        start.get_or_insert(i);
        if c == '"' {
            quoted = true;
        }
    }
    if let Some(s) = start {
        out.push(&line[s..]);
    }
    out
}

/// A snapshot of one claim's observation, stored as insta stores it
/// (`<dir>/<module>__<name>@<suffix>.snap`), so `cargo insta review` reviews it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub dir: PathBuf,
    /// `tutorial__l4__sleeps_ztunnel_logs_the_outbound_connection@1.23`
    pub name: String,
    /// The test file that takes it (insta's `source:`).
    pub source: String,
}

/// How an observation compares with its stored snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Compared {
    Same,
    /// The stored text and the observed one (both redacted).
    Differs {
        path: PathBuf,
        stored: String,
        observed: String,
    },
    /// No snapshot is stored for this name yet.
    Missing {
        path: PathBuf,
        observed: String,
    },
    /// The stored snapshot could not be read ([`Snapshot::compare`]'s error, with its causes):
    /// the claim is not reached (`answers::against_snapshot`).
    Unreadable {
        why: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("cannot read the snapshot {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the snapshot {} is not in insta's format (a `---` header, its fields, `---`, then the text): {why}",
        path.display()
    )]
    Format { path: PathBuf, why: &'static str },
}

impl Snapshot {
    pub fn new(
        dir: impl Into<PathBuf>,
        module: &str,
        name: &str,
        suffix: &str,
        source: &str,
    ) -> Self {
        Snapshot {
            dir: dir.into(),
            name: format!("{module}__{name}@{suffix}"),
            source: source.to_string(),
        }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(format!("{}.snap", self.name))
    }

    fn pending_path(&self) -> PathBuf {
        self.dir.join(format!("{}.snap.new", self.name))
    }

    /// The stored text, if there is one.
    pub fn stored(&self) -> Result<Option<String>, SnapshotError> {
        let path = self.path();
        match std::fs::read_to_string(&path) {
            Ok(text) => stored_text(&text)
                .map(Some)
                .map_err(|why| SnapshotError::Format { path, why }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(SnapshotError::Read { path, source }),
        }
    }

    /// Compares `observed` (already redacted) with the stored snapshot. Trailing whitespace is
    /// not significant, as in insta.
    pub fn compare(&self, observed: &str) -> Result<Compared, SnapshotError> {
        let observed = observed.trim_end().to_string();
        Ok(match self.stored()? {
            Some(stored) if stored.trim_end() == observed => Compared::Same,
            Some(stored) => Compared::Differs {
                path: self.path(),
                stored: stored.trim_end().to_string(),
                observed,
            },
            None => Compared::Missing {
                path: self.path(),
                observed,
            },
        })
    }

    /// Leaves `observed` beside the snapshot as `<name>.snap.new` for `cargo insta review`;
    /// nothing `on_ci` (insta writes none where `CI` is set: [`on_ci`]). Returns the file written.
    pub fn write_pending(&self, observed: &str, on_ci: bool) -> std::io::Result<Option<PathBuf>> {
        if on_ci {
            return Ok(None);
        }
        let path = self.pending_path();
        let text = format!(
            "---\nsource: {}\nexpression: observed\n---\n{}\n",
            self.source,
            observed.trim_end()
        );
        std::fs::write(&path, text)?;
        Ok(Some(path))
    }
}

/// Whether this process writes no pending snapshot: on CI (`CI` set), as insta decides, unless
/// `INSTA_UPDATE` asks for them (the nightly sets `new` and uploads them for review).
pub fn on_ci() -> bool {
    !writes_pending(
        std::env::var_os("CI").is_some(),
        std::env::var("INSTA_UPDATE").ok().as_deref(),
    )
}

/// insta's rule for `.snap.new` files: `INSTA_UPDATE=no` writes none, `new` (and `always`,
/// `unseen`) writes them even on CI, `auto` or unset writes them everywhere but on CI.
pub fn writes_pending(ci: bool, insta_update: Option<&str>) -> bool {
    match insta_update {
        Some("no") => false,
        Some("new" | "always" | "unseen") => true,
        _ => !ci,
    }
}

/// The text of an insta snapshot file: what follows its `---` header.
fn stored_text(file: &str) -> Result<String, &'static str> {
    let file = file.replace("\r\n", "\n");
    let rest = file
        .strip_prefix("---\n")
        .ok_or("it does not start with `---`")?;
    let end = rest
        .find("\n---\n")
        .ok_or("its header has no closing `---`")?;
    Ok(rest[end + 5..].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_snapshots_follow_insta_update_then_ci() {
        assert!(writes_pending(false, None));
        assert!(!writes_pending(true, None));
        assert!(!writes_pending(true, Some("auto")));
        assert!(writes_pending(true, Some("new")));
        assert!(!writes_pending(false, Some("no")));
    }

    #[test]
    fn an_access_line_shape_keeps_keys_quoting_and_direction() {
        let line = "2024-07-23T14:21:03.450051Z\tinfo\taccess\tconnection complete\tsrc.addr=10.12.0.8:37522 src.workload=sleep-bc9998558-bhv5z src.identity=\"spiffe://cluster.local/ns/my-ambient/sa/sleep\" direction=\"outbound\" error=\"a \\\"quoted\\\" reason, with spaces\" bytes_sent=84";
        assert_eq!(
            access_line_shape(line),
            "[TIMESTAMP] info access connection complete src.addr=[VALUE] src.workload=[VALUE] \
             src.identity=\"[VALUE]\" direction=\"outbound\" error=\"[VALUE]\" bytes_sent=[VALUE]"
        );
        // An escaped quote followed by a space stays inside the value; a token with `=` whose
        // left side is no key (`proxy{wl=…}`) is no key=value.
        assert_eq!(
            access_line_shape("info access x error=\"a \\\" b\" n=1"),
            "info access x error=\"[VALUE]\" n=[VALUE]"
        );
        assert_eq!(
            access_line_shape("debug proxy{wl=ns/pod} fetching =x k.y_z=1"),
            "debug proxy{wl=ns/pod} fetching =x k.y_z=[VALUE]"
        );
        // Spaces instead of tabs (a pasted line) give the same shape.
        assert_eq!(
            access_line_shape(&line.replace('\t', "    ")),
            access_line_shape(line)
        );
    }

    #[test]
    fn stored_text_is_what_follows_insta_s_header() {
        assert_eq!(
            stored_text("---\nsource: a\nexpression: b\n---\nline 1\nline 2\n").unwrap(),
            "line 1\nline 2\n"
        );
        assert!(stored_text("line 1\n").is_err());
        assert!(stored_text("---\nsource: a\n").is_err());
    }

    #[test]
    fn every_filter_compiles() {
        for (r, _) in FILTERS {
            regex::Regex::new(r).unwrap_or_else(|e| panic!("{r}: {e}"));
        }
    }

    #[test]
    fn words_without_vowels_rule_keeps_names() {
        let s =
            redact("pod/istio-ingressgateway-dd667dbb7-z64jh bookinfo-productpage-waypoint-proxy");
        assert_eq!(
            s,
            "pod/istio-ingressgateway-[HASH]-[POD] bookinfo-productpage-waypoint-proxy"
        );
        assert_eq!(
            redact("ztunnel-5qpn7 istio-cni-node-tc8fn"),
            "ztunnel-[POD] istio-cni-node-[POD]"
        );
        assert_eq!(
            redact("10.244.2.4:15008 10.244.1.2:39660"),
            "[IP]:15008 [IP]:[PORT]"
        );
    }
}
