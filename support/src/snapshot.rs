//! Snapshot policy: one set of redactions for everything that changes from run to run.
//!
//! Tests bind [`settings`] and snapshot plain text; they never write redactions of their own.
//! Filters run in order, specific before generic.

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

#[cfg(test)]
mod tests {
    use super::*;

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
