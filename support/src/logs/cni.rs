//! istio-cni lines that announce a pod joining the ambient mesh, of every era.

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

pub use crate::eras::EnrollmentLogFormat;

/// A pod that istio-cni put into the ambient mesh.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Enrollment {
    pub format: EnrollmentLogFormat,
    pub pod: String,
    pub namespace: String,
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
// "Adding route for %s/%s: %+v") and `Adding pod '<pod>/<ns>' (<uid>) to ipset` (same file).
static NODE_ROUTE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"Adding route for ([a-z0-9.\-]+)/([a-z0-9\-]+): \[").expect("valid regex")
});
static IPSET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"Adding pod '([a-z0-9.\-]+)/([a-z0-9\-]+)' \([^)]*\) to ipset")
        .expect("valid regex")
});
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
    let line = super::strip_kubectl_prefix(line).trim();
    if line.is_empty() {
        return Err(NotEnrollment::Empty);
    }
    let timestamp = TIMESTAMP.find(line).map(|m| m.as_str().to_string());
    let found = |format, pod: &str, namespace: &str| Enrollment {
        format,
        pod: pod.to_string(),
        namespace: namespace.to_string(),
        timestamp: timestamp.clone(),
    };
    if line.starts_with('{') {
        return json(line);
    }
    if let Some(c) = NODE_ROUTE.captures(line) {
        return Ok(found(EnrollmentLogFormat::NodeRoute, &c[1], &c[2]));
    }
    if let Some(c) = IPSET.captures(line) {
        return Ok(found(EnrollmentLogFormat::NodeRoute, &c[1], &c[2]));
    }
    if let Some(c) = IN_POD.captures(line) {
        return Ok(found(EnrollmentLogFormat::InPodAddingPod, &c[2], &c[1]));
    }
    if let Some(c) = TO_MESH.captures(line) {
        return Ok(found(EnrollmentLogFormat::AddingPodToMesh, &c[2], &c[1]));
    }
    Err(NotEnrollment::OtherLine)
}

fn json(line: &str) -> Result<Enrollment, NotEnrollment> {
    let value: serde_json::Value =
        serde_json::from_str(line).map_err(|_| NotEnrollment::OtherLine)?;
    let text = |k: &str| value.get(k).and_then(|v| v.as_str()).map(str::to_string);
    if text("msg").or_else(|| text("message")).as_deref() != Some("adding pod to the mesh") {
        return Err(NotEnrollment::OtherLine);
    }
    match (text("ns"), text("name")) {
        (Some(namespace), Some(pod)) => Ok(Enrollment {
            format: EnrollmentLogFormat::AddingPodToMesh,
            pod,
            namespace,
            timestamp: text("time"),
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
    fn other_lines_are_typed() {
        assert_eq!(parse_enrollment(""), Err(NotEnrollment::Empty));
        assert_eq!(parse_enrollment("{not json"), Err(NotEnrollment::OtherLine));
        assert_eq!(
            parse_enrollment("Namespace default is enabled in ambient mesh"),
            Err(NotEnrollment::OtherLine)
        );
    }
}
