//! Readers for the log lines the tutorial shows: ztunnel connections and istio-cni enrollment.
//!
//! Every reader takes any `&str` and returns a typed record or a typed "not this kind of line";
//! none panics (a property test feeds them arbitrary input).

pub mod cni;
pub mod ztunnel;

mod fields;
pub mod json;

pub use cni::{Enrollment, NotEnrollment, parse_enrollment};
pub use ztunnel::{AccessRecord, Direction, Endpoint, NotAccessLog, parse_access};

/// Removes the prefix `kubectl logs --prefix` adds (`[pod/ztunnel-x/istio-proxy] `).
pub(crate) fn strip_kubectl_prefix(line: &str) -> &str {
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
