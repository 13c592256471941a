//! Log lines, read by the suite's own log readers ([`crate::logs`]): ztunnel connection lines of
//! every era and istio-cni enrollment lines.
//!
//! Each documented line must have a seen line of the same kind that agrees on every field the
//! documented line has: for a connection the event, direction, each side's workload, namespace,
//! identity and service, the waypoint, and the error (a seen error where the documented
//! line has none differs too); for an enrollment the pod and namespace.
//! Normalized: timestamps, addresses and ports, byte counts and durations (they differ on every
//! run), generated suffixes of workload and pod names ([`super::names::generated`]), and
//! `kubectl logs --prefix` prefixes (the readers strip them). Seen lines of other kinds, and
//! seen lines beyond the documented ones, are allowed (a log holds more than a page shows).
//!
//! Cost: each seen line is read once; each documented line then scans them (a page documents a
//! handful of lines, so this stays linear in the size of the log).

use crate::logs::{AccessRecord, Endpoint, Enrollment, parse_access, parse_enrollment};

use super::names::generated;
use super::{Comparison, Difference, Side};

enum Record {
    Access(Box<AccessRecord>),
    Enrollment(Enrollment),
}

fn read(line: &str) -> Option<Record> {
    if let Ok(a) = parse_access(line) {
        return Some(Record::Access(Box::new(a)));
    }
    parse_enrollment(line).ok().map(Record::Enrollment)
}

fn names_like(e: &str, s: &str) -> bool {
    e == s || generated(e).like(&generated(s))
}

/// Fields of `e` (documented) that `s` lacks or has otherwise.
fn endpoint_differences(side: &str, e: &Endpoint, s: &Endpoint, out: &mut Vec<String>) {
    let fields = [
        ("workload", &e.workload, &s.workload, true),
        ("namespace", &e.namespace, &s.namespace, false),
        ("identity", &e.identity, &s.identity, false),
        ("service", &e.service, &s.service, false),
    ];
    for (name, ev, sv, generated_name) in fields {
        if let Some(ev) = ev {
            let same = sv.as_deref().is_some_and(|sv| {
                if generated_name {
                    names_like(ev, sv)
                } else {
                    ev == sv
                }
            });
            if !same {
                out.push(format!("{side}.{name}"));
            }
        }
    }
}

fn access_differences(e: &AccessRecord, s: &AccessRecord) -> Vec<String> {
    let mut out = Vec::new();
    if e.event != s.event {
        out.push("event".to_string());
    }
    if e.direction.is_some() && e.direction != s.direction {
        out.push("direction".to_string());
    }
    endpoint_differences("src", &e.src, &s.src, &mut out);
    endpoint_differences("dst", &e.dst, &s.dst, &mut out);
    match (&e.waypoint, &s.waypoint) {
        (Some(ew), Some(sw)) => {
            if ew.identity.is_some() && ew.identity != sw.identity {
                out.push("waypoint.identity".to_string());
            }
            if let Some(w) = &ew.workload
                && !sw.workload.as_deref().is_some_and(|s| names_like(w, s))
            {
                out.push("waypoint.workload".to_string());
            }
        }
        (Some(_), None) => out.push("waypoint".to_string()),
        (None, Some(_)) if e.waypoint_known() => out.push("waypoint".to_string()),
        _ => {}
    }
    // A seen error where the page shows none is a failed connection, not the one shown.
    if e.error != s.error {
        out.push("error".to_string());
    }
    out
}

fn enrollment_differences(e: &Enrollment, s: &Enrollment) -> Vec<String> {
    let mut out = Vec::new();
    if !names_like(&e.pod, &s.pod) {
        out.push("pod".to_string());
    }
    if e.namespace != s.namespace {
        out.push("namespace".to_string());
    }
    out
}

/// Compares the documented log lines with the seen output.
pub fn compare(expected: &str, seen: &str) -> Comparison {
    let mut documented = Vec::new();
    for line in expected.lines().filter(|l| !l.trim().is_empty()) {
        match read(line) {
            Some(r) => documented.push((line.trim(), r)),
            None => {
                return Comparison::unreadable(
                    Side::Expected,
                    format!(
                        "not a ztunnel or istio-cni line the suite reads: {}",
                        line.trim()
                    ),
                );
            }
        }
    }
    if documented.is_empty() {
        return Comparison::unreadable(Side::Expected, "no log line documented");
    }
    let seen_lines: Vec<(&str, Record)> = seen
        .lines()
        .filter_map(|l| read(l).map(|r| (l.trim(), r)))
        .collect();
    let mut used = vec![false; seen_lines.len()];
    let mut out = Vec::new();
    for (line, record) in &documented {
        // The nearest seen line of the same kind: fewest differing fields.
        let mut best: Option<(usize, Vec<String>)> = None;
        for (i, (_, s)) in seen_lines.iter().enumerate().filter(|(i, _)| !used[*i]) {
            let diff = match (record, s) {
                (Record::Access(e), Record::Access(s)) => access_differences(e, s),
                (Record::Enrollment(e), Record::Enrollment(s)) => enrollment_differences(e, s),
                _ => continue,
            };
            let better = best.as_ref().is_none_or(|(_, d)| diff.len() < d.len());
            if better {
                let exact = diff.is_empty();
                best = Some((i, diff));
                if exact {
                    break;
                }
            }
        }
        match best {
            Some((i, diff)) if diff.is_empty() => used[i] = true,
            Some((i, diff)) => out.push(Difference::new(
                format!("log line ({} differ)", diff.join(", ")),
                *line,
                seen_lines[i].0,
            )),
            None => out.push(Difference::new("log line", *line, "")),
        }
    }
    Comparison::from_differences(out)
}
