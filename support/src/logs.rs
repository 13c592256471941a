//! Readers for the log lines the tutorial shows: ztunnel connections and istio-cni enrollment.
//!
//! Every reader takes any `&str` and returns a typed record or a typed "not this kind of line";
//! none panics (a property test feeds them arbitrary input). The readers borrow from the line;
//! the public functions return owned records, `ambient-spec logs` serializes the borrowed ones.

pub mod cni;
pub mod ztunnel;

mod fields;
pub mod json;
#[cfg(test)]
mod reference;

pub use cni::{Enrollment, NotEnrollment, parse_enrollment};
pub use ztunnel::{AccessRecord, Direction, Endpoint, NotAccessLog, parse_access};

/// A line as every reader sees it: without the `kubectl logs --prefix` prefix, trimmed, and parsed
/// once if it is JSON.
pub(crate) enum Line<'a> {
    Empty,
    /// Starts with `{`; `None` if it is not valid JSON.
    Json(Option<serde_json::Value>),
    Text(&'a str),
}

impl<'a> Line<'a> {
    pub fn new(line: &'a str) -> Self {
        let line = strip_kubectl_prefix(line).trim();
        if line.is_empty() {
            Line::Empty
        } else if line.starts_with('{') {
            Line::Json(serde_json::from_str(line).ok())
        } else {
            Line::Text(line)
        }
    }
}

/// Removes the prefix `kubectl logs --prefix` adds (`[pod/ztunnel-x/istio-proxy] `).
fn strip_kubectl_prefix(line: &str) -> &str {
    let trimmed = line
        .trim_start_matches('\u{feff}')
        .trim_end_matches(['\r', '\n']);
    if let Some(rest) = trimmed.strip_prefix("[pod/")
        && let Some(end) = rest.find("] ")
    {
        return &rest[end + 2..];
    }
    trimmed
}
