//! istio-cni lines that announce a pod joining the ambient mesh, of every era.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

use super::Line;

pub use crate::eras::EnrollmentLogFormat;

/// A pod that istio-cni put into the ambient mesh.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Enrollment {
    pub format: EnrollmentLogFormat,
    pub pod: String,
    pub namespace: String,
    /// The pod's address the line names: the destination of the 2022 / 1.18-1.20 node route
    /// (`[table 100 10.244.2.9/32 via …]`); the later formats name none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_ip: Option<String>,
    /// The node route's table and device (`table 100`, `dev istioin`), where the line is one.
    /// Judged, not written: `ambient-spec logs` keeps its output format.
    #[serde(skip)]
    pub route_table: Option<String>,
    #[serde(skip)]
    pub route_device: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NotEnrollment {
    #[error("empty line")]
    Empty,
    #[error("not a line announcing a pod joining the ambient mesh")]
    OtherLine,
}

// `Adding route for <pod>/<ns>: [...]` (EXP/1.18/1.20 cni/pkg/ambient/net.go, format
// "Adding route for %s/%s: %+v"). The same file's `Adding pod '<pod>/<ns>' (<uid>) to ipset` comes
// first and is not the line the tutorial greps (`grep route`): it is no enrollment here.
static NODE_ROUTE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"Adding route for ([a-z0-9.\-]+)/([a-z0-9\-]+): \[").expect("valid regex")
});
// The route's destination: `[table 100 10.244.2.9/32 via …]` (the pod's address).
static ROUTE_DESTINATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r": \[(?:table \d+ )?(\d{1,3}(?:\.\d{1,3}){3})(?:/32)?[ \]]").expect("valid regex")
});
// The route's table and device: `[table 100 … dev istioin …]`.
static ROUTE_TABLE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r": \[table (\d+) ").expect("valid regex"));
static ROUTE_DEVICE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r" dev ([A-Za-z0-9_.@\-]+)[ \]]").expect("valid regex"));
// `in pod mode - adding pod <ns>/<pod> to ztunnel` (1.21/1.22 cni/pkg/nodeagent/net.go).
static IN_POD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"in pod mode - adding pod ([a-z0-9\-]+)/([a-z0-9.\-]+) to ztunnel")
        .expect("valid regex")
});
// `adding pod to the mesh` + `ns=<ns> name=<pod>` (1.23+ cni/pkg/nodeagent/net.go, net_linux.go).
static TO_MESH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"adding pod to the mesh\s+ns=([a-z0-9\-]+)\s+name=([a-z0-9.\-]+)")
        .expect("valid regex")
});
static TIMESTAMP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z").expect("valid regex")
});

/// Reads one istio-cni log line (text or `--log_as_json`).
pub fn parse_enrollment(line: &str) -> Result<Enrollment, NotEnrollment> {
    read(&Line::new(line)).map(EnrollmentView::into_owned)
}

/// An [`Enrollment`] that borrows from its line.
#[derive(Debug, Clone)]
pub(crate) struct EnrollmentView<'a> {
    pub format: EnrollmentLogFormat,
    pub pod: Cow<'a, str>,
    pub namespace: Cow<'a, str>,
    pub pod_ip: Option<Cow<'a, str>>,
    pub route_table: Option<Cow<'a, str>>,
    pub route_device: Option<Cow<'a, str>>,
    pub timestamp: Option<Cow<'a, str>>,
}

impl EnrollmentView<'_> {
    pub fn into_owned(self) -> Enrollment {
        Enrollment {
            format: self.format,
            pod: self.pod.into_owned(),
            namespace: self.namespace.into_owned(),
            pod_ip: self.pod_ip.map(Cow::into_owned),
            route_table: self.route_table.map(Cow::into_owned),
            route_device: self.route_device.map(Cow::into_owned),
            timestamp: self.timestamp.map(Cow::into_owned),
        }
    }
}

pub(crate) fn read<'a>(line: &'a Line<'_>) -> Result<EnrollmentView<'a>, NotEnrollment> {
    match line {
        Line::Empty => Err(NotEnrollment::Empty),
        Line::Json(None) => Err(NotEnrollment::OtherLine),
        Line::Json(Some(value)) => json(value),
        Line::Text(text) => text_line(text),
    }
}

fn text_line(line: &str) -> Result<EnrollmentView<'_>, NotEnrollment> {
    // Each pattern starts with a literal: a line without it is not tried (most lines).
    let patterns: [(&str, &LazyLock<Regex>, EnrollmentLogFormat, bool); 3] = [
        (
            "Adding route for ",
            &NODE_ROUTE,
            EnrollmentLogFormat::NodeRoute,
            false,
        ),
        (
            "in pod mode - adding pod ",
            &IN_POD,
            EnrollmentLogFormat::InPodAddingPod,
            true,
        ),
        (
            "adding pod to the mesh",
            &TO_MESH,
            EnrollmentLogFormat::AddingPodToMesh,
            true,
        ),
    ];
    // Every literal has `dding ` in it.
    if !line.contains("dding ") {
        return Err(NotEnrollment::OtherLine);
    }
    for (literal, pattern, format, namespace_first) in patterns {
        if !line.contains(literal) {
            continue;
        }
        if let Some(c) = pattern.captures(line) {
            let (Some(first), Some(second)) = (c.get(1), c.get(2)) else {
                continue;
            };
            let (pod, namespace) = if namespace_first {
                (second.as_str(), first.as_str())
            } else {
                (first.as_str(), second.as_str())
            };
            let route = |re: &Regex| {
                (format == EnrollmentLogFormat::NodeRoute)
                    .then(|| re.captures(line))
                    .flatten()
                    .and_then(|c| c.get(1))
                    .map(|m| Cow::Borrowed(m.as_str()))
            };
            return Ok(EnrollmentView {
                format,
                pod: Cow::Borrowed(pod),
                namespace: Cow::Borrowed(namespace),
                pod_ip: route(&ROUTE_DESTINATION),
                route_table: route(&ROUTE_TABLE),
                route_device: route(&ROUTE_DEVICE),
                timestamp: TIMESTAMP.find(line).map(|m| Cow::Borrowed(m.as_str())),
            });
        }
    }
    Err(NotEnrollment::OtherLine)
}

fn json(value: &serde_json::Value) -> Result<EnrollmentView<'_>, NotEnrollment> {
    let text = |k: &str| value.get(k).and_then(|v| v.as_str());
    if text("msg").or_else(|| text("message")) != Some("adding pod to the mesh") {
        return Err(NotEnrollment::OtherLine);
    }
    match (text("ns"), text("name")) {
        (Some(namespace), Some(pod)) => Ok(EnrollmentView {
            format: EnrollmentLogFormat::AddingPodToMesh,
            pod: Cow::Borrowed(pod),
            namespace: Cow::Borrowed(namespace),
            pod_ip: None,
            route_table: None,
            route_device: None,
            timestamp: text("time").map(Cow::Borrowed),
        }),
        _ => Err(NotEnrollment::OtherLine),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_form_is_read() {
        let line = r#"{"level":"info","time":"2025-02-17T15:13:09.324730Z","scope":"cni-agent","msg":"adding pod to the mesh","ns":"default","name":"sleep-1"}"#;
        let e = parse_enrollment(line).unwrap();
        assert_eq!(
            (e.pod.as_str(), e.namespace.as_str()),
            ("sleep-1", "default")
        );
    }

    #[test]
    fn a_route_names_the_pods_address_and_the_ipset_line_is_no_enrollment() {
        let route = "2022-10-12T07:34:33.228305Z\tinfo\tambient\tAdding route for reviews-v2-79857b95b-m4q2g/default: [table 100 10.244.1.5/32 via 192.168.126.2 dev istioin src 10.244.1.1]";
        let e = parse_enrollment(route).unwrap();
        assert_eq!(e.pod_ip.as_deref(), Some("10.244.1.5"));
        let ipset = "2022-10-12T07:34:33.226054Z\tinfo\tambient\tAdding pod 'reviews-v2-79857b95b-m4q2g/default' (0ff78312-3a13-4a02-b39d-644bfb91e861) to ipset";
        assert_eq!(parse_enrollment(ipset), Err(NotEnrollment::OtherLine));
        // A route whose destination the suite cannot read names no address.
        let odd = "info ambient Adding route for a-1/default: [something else]";
        assert_eq!(parse_enrollment(odd).unwrap().pod_ip, None);
    }

    #[test]
    fn other_lines_are_typed() {
        assert_eq!(parse_enrollment(""), Err(NotEnrollment::Empty));
        assert_eq!(parse_enrollment("{not json"), Err(NotEnrollment::OtherLine));
        assert_eq!(
            parse_enrollment("Namespace default is enabled in ambient mesh"),
            Err(NotEnrollment::OtherLine)
        );
    }
}
