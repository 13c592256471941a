//! The judge half of every claim: pure functions from what was observed to a [`Verdict`].
//! Everything that decides pass or fail is here, so it is proven on recorded data without a
//! cluster.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::Pod;

use crate::claims::Verdict;
use crate::eras::{AccessLogFormat, EnrollmentLogFormat};
use crate::k8s::conditions::{daemonset_ready, pod_ready};
use crate::logs::{AccessRecord, Direction, Enrollment};

/// A documented step the suite performed: it did what the tutorial says (`expected`), or it
/// drifted with the error and its causes; a step that could not start (a missing sample, CRDs
/// that could not be fetched) is not reached.
pub fn step(done: &Result<(), crate::steps::StepError>, expected: &str) -> Verdict {
    match done {
        Ok(()) => Verdict::Holds,
        Err(e) if e.before_the_step() => Verdict::NotReached {
            why: crate::errors::chain(e),
        },
        Err(e) => Verdict::drifted(expected, crate::errors::chain(e)),
    }
}

/// Judges what was observed with `judge`; a failed observation (a wait that ran out, a resource
/// that never appeared) drifts from `expected`, with the error and its causes.
pub fn observed<O, E: std::error::Error + 'static>(
    observation: &Result<O, E>,
    expected: &str,
    judge: impl FnOnce(&O) -> Verdict,
) -> Verdict {
    match observation {
        Ok(o) => judge(o),
        Err(e) => Verdict::drifted(expected, crate::errors::chain(e)),
    }
}

/// The component lines, compared as a set: istioctl prints them in completion order.
pub fn install_lines(expected: &[&str], printed: &[String]) -> Verdict {
    let mut want: Vec<&str> = expected.to_vec();
    let mut got: Vec<&str> = printed.iter().map(String::as_str).collect();
    want.sort_unstable();
    got.sort_unstable();
    Verdict::holds_if(want == got, expected.join("\n"), printed.join("\n"))
}

/// "One per node": the DaemonSet is ready by Istio's rule and every node runs exactly one ready
/// pod of it.
pub fn one_pod_per_node(ds: &DaemonSet, pods: &[Pod], nodes: &[String]) -> Verdict {
    let name = ds.metadata.name.clone().unwrap_or_default();
    let expected = format!(
        "{name}: one ready pod on each of {} nodes ({})",
        nodes.len(),
        nodes.join(", ")
    );
    let mut per_node: BTreeMap<&str, Vec<&str>> =
        nodes.iter().map(|n| (n.as_str(), Vec::new())).collect();
    let mut elsewhere = Vec::new();
    for p in pods
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none() && pod_ready(p))
    {
        let node = p
            .spec
            .as_ref()
            .and_then(|s| s.node_name.as_deref())
            .unwrap_or("<unscheduled>");
        let pod = p.metadata.name.as_deref().unwrap_or_default();
        match per_node.get_mut(node) {
            Some(v) => v.push(pod),
            None => elsewhere.push(format!("{pod} on {node}")),
        }
    }
    let mut problems = Vec::new();
    if let Err(state) = daemonset_ready(ds) {
        problems.push(format!("daemonset not ready: {state}"));
    }
    for (node, pods) in &per_node {
        if pods.len() != 1 {
            problems.push(format!("{node}: {} ready pods {pods:?}", pods.len()));
        }
    }
    if !elsewhere.is_empty() {
        problems.push(format!(
            "pods on unexpected nodes: {}",
            elsewhere.join(", ")
        ));
    }
    Verdict::holds_if(problems.is_empty(), expected, problems.join("; "))
}

/// The tutorial's numbers: three nodes, three ready ztunnels. Only meaningful on its topology; a
/// provider with another node count makes it not applicable.
pub fn three_on_three(
    topology_nodes: Option<usize>,
    nodes: usize,
    ready_ztunnels: usize,
) -> Verdict {
    if topology_nodes.is_some_and(|n| n != 3) || (topology_nodes.is_none() && nodes != 3) {
        return Verdict::NotApplicable {
            why: format!("the tutorial's 3-node topology; this cluster has {nodes} node(s)"),
        };
    }
    Verdict::holds_if(
        nodes == 3 && ready_ztunnels == 3,
        "3 nodes, 3 ready ztunnel pods",
        format!("{nodes} nodes, {ready_ztunnels} ready ztunnel pods"),
    )
}

/// Something the era says is there (or is not).
pub fn presence(what: &str, expected_present: bool, found: bool) -> Verdict {
    let say = |present: bool| format!("{what} {}", if present { "present" } else { "absent" });
    Verdict::holds_if(expected_present == found, say(expected_present), say(found))
}

/// Each `(pod, namespace, node)` has an enrollment line, in the era's format, in the log of the
/// istio-cni pod on its node.
pub fn enrolled(
    pods: &[(String, String, String)],
    enrollments_by_node: &BTreeMap<String, Vec<Enrollment>>,
    format: EnrollmentLogFormat,
) -> Verdict {
    let mut missing = Vec::new();
    let mut other_format = Vec::new();
    for (pod, ns, node) in pods {
        let found = enrollments_by_node
            .get(node)
            .into_iter()
            .flatten()
            .find(|e| &e.pod == pod && &e.namespace == ns);
        match found {
            None => missing.push(format!("{ns}/{pod} (istio-cni on {node})")),
            Some(e) if e.format != format => {
                other_format.push(format!("{ns}/{pod}: {:?}", e.format))
            }
            Some(_) => {}
        }
    }
    let mut actual = Vec::new();
    if !missing.is_empty() {
        actual.push(format!("no enrollment line for {}", missing.join(", ")));
    }
    if !other_format.is_empty() {
        actual.push(format!(
            "enrolled, but announced as {}",
            other_format.join(", ")
        ));
    }
    Verdict::holds_if(
        actual.is_empty(),
        format!(
            "an enrollment line ({format:?}) for each of {} pods",
            pods.len()
        ),
        actual.join("; "),
    )
}

/// No app pod carries a sidecar: one container each, none named `istio-proxy`.
pub fn no_sidecars(pods: &[Pod]) -> Verdict {
    let with_sidecar: Vec<String> = pods
        .iter()
        .filter(|p| {
            let containers = p
                .spec
                .as_ref()
                .map(|s| s.containers.as_slice())
                .unwrap_or_default();
            containers.len() != 1 || containers.iter().any(|c| c.name == "istio-proxy")
        })
        .map(|p| {
            let names: Vec<&str> = p
                .spec
                .iter()
                .flat_map(|s| s.containers.iter().map(|c| c.name.as_str()))
                .collect();
            format!(
                "{} {names:?}",
                p.metadata.name.as_deref().unwrap_or_default()
            )
        })
        .collect();
    Verdict::holds_if(
        with_sidecar.is_empty(),
        "one container per app pod",
        with_sidecar.join(", "),
    )
}

/// Bookinfo's product page: its HTML title (samples/bookinfo/src/productpage/templates).
pub const PRODUCTPAGE_TITLE: &str = "<title>Simple Bookstore App</title>";
/// Appended by the suite to the tutorial's curl (`-w`) so the status is visible.
pub const HTTP_CODE_MARKER: &str = "[http_code=";

/// The page curl returned: HTTP 200 and the product page's title.
pub fn productpage_page(curl_stdout: &str) -> Verdict {
    let code = curl_stdout
        .rsplit_once(HTTP_CODE_MARKER)
        .and_then(|(_, rest)| rest.split(']').next())
        .unwrap_or("none");
    let title = curl_stdout.contains(PRODUCTPAGE_TITLE);
    Verdict::holds_if(
        code == "200" && title,
        format!("HTTP 200 and {PRODUCTPAGE_TITLE}"),
        format!(
            "HTTP {code}, title {}",
            if title { "present" } else { "absent" }
        ),
    )
}

/// The connection the tutorial makes (sleep → productpage), as each era's ztunnel logs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Traffic {
    /// The client's service account (`sleep`).
    pub client_sa: String,
    /// The service host (`productpage.default.svc.cluster.local`).
    pub service_host: String,
    /// IPs of the server pods (productpage-v1).
    pub server_ips: Vec<String>,
    /// Expected waypoint on the path, if any.
    pub waypoint: Option<WaypointExpectation>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaypointExpectation {
    /// The SPIFFE identity the era's log names for it, when its format names one.
    pub identity: Option<String>,
    pub pod_ips: Vec<String>,
}

fn host(addr: &str) -> &str {
    match addr.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => addr,
    }
}

fn addr_in(addr: &Option<String>, ips: &[String]) -> bool {
    addr.as_deref()
        .is_some_and(|a| ips.iter().any(|ip| ip == host(a)))
}

fn from_client(r: &AccessRecord, sa: &str) -> bool {
    let by_identity = r
        .src
        .identity
        .as_deref()
        .is_some_and(|i| i.ends_with(&format!("/sa/{sa}")));
    let by_workload = r
        .src
        .workload
        .as_deref()
        .is_some_and(|w| w.starts_with(&format!("{sa}-")));
    // 1.18 – 1.21 outbound lines carry no source at all.
    let unknown = r.format == AccessLogFormat::RustTracing && r.src.identity.is_none();
    by_identity || by_workload || unknown
}

fn to_server(r: &AccessRecord, t: &Traffic) -> bool {
    r.dst.service.as_deref() == Some(t.service_host.as_str()) || addr_in(&r.dst.addr, &t.server_ips)
}

fn via_expected_waypoint(r: &AccessRecord, w: &WaypointExpectation) -> bool {
    let by_record = r.waypoint.as_ref().is_some_and(|wp| {
        wp.identity.is_some() && wp.identity == w.identity || addr_in(&wp.addr, &w.pod_ips)
    });
    let by_destination =
        w.identity.is_some() && r.dst.identity == w.identity || addr_in(&r.dst.addr, &w.pod_ips);
    by_record || by_destination
}

fn summary(records: &[&AccessRecord]) -> String {
    if records.is_empty() {
        return "no such connection lines".into();
    }
    records
        .iter()
        .take(5)
        .map(|r| r.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The client's ztunnel logged the outbound connection, through the waypoint iff one is expected.
/// Also returns the index of the record that shows it (the line to snapshot).
pub fn outbound_logged(records: &[AccessRecord], t: &Traffic) -> (Verdict, Option<usize>) {
    let outbound: Vec<(usize, &AccessRecord)> = records
        .iter()
        .enumerate()
        .filter(|(_, r)| r.direction == Some(Direction::Outbound) && from_client(r, &t.client_sa))
        .collect();
    let matches = |r: &AccessRecord| match &t.waypoint {
        None => {
            let says_waypoint =
                r.event.contains("waypoint proxy)") && !r.event.contains("(no waypoint proxy)");
            to_server(r, t) && r.waypoint.is_none() && !says_waypoint
        }
        Some(w) => via_expected_waypoint(r, w),
    };
    // Prefer the line the tutorial shows (the capture listener's), then any match.
    let preferred = |r: &AccessRecord| r.event.starts_with("capture outbound");
    let hit = outbound
        .iter()
        .find(|(_, r)| matches(r) && preferred(r))
        .or_else(|| outbound.iter().find(|(_, r)| matches(r)))
        .map(|(i, _)| *i);
    let expected = match &t.waypoint {
        None => format!(
            "an outbound line from {} to {} without a waypoint",
            t.client_sa, t.service_host
        ),
        Some(w) => format!(
            "an outbound line from {} to the waypoint {}",
            t.client_sa,
            w.identity.clone().unwrap_or_else(|| w.pod_ips.join("|"))
        ),
    };
    let seen: Vec<&AccessRecord> = outbound.iter().map(|(_, r)| *r).collect();
    (
        Verdict::holds_if(hit.is_some(), expected, summary(&seen)),
        hit,
    )
}

/// The server's ztunnel logged an inbound connection to a server pod; with the index of the
/// record that shows it.
pub fn inbound_logged(records: &[AccessRecord], t: &Traffic) -> (Verdict, Option<usize>) {
    let inbound: Vec<(usize, &AccessRecord)> = records
        .iter()
        .enumerate()
        .filter(|(_, r)| r.direction == Some(Direction::Inbound))
        .collect();
    let matches = |r: &AccessRecord| {
        addr_in(&r.dst.addr, &t.server_ips)
            || r.dst
                .workload
                .as_deref()
                .is_some_and(|w| w.starts_with("productpage-"))
    };
    let preferred = |r: &AccessRecord| {
        r.event == "capture inbound listener" || r.event == "connection complete"
    };
    let hit = inbound
        .iter()
        .find(|(_, r)| matches(r) && preferred(r))
        .or_else(|| inbound.iter().find(|(_, r)| matches(r)))
        .map(|(i, _)| *i);
    let seen: Vec<&AccessRecord> = inbound.iter().map(|(_, r)| *r).collect();
    let expected = format!(
        "an inbound line to {} ({})",
        t.service_host,
        t.server_ips.join(", ")
    );
    (
        Verdict::holds_if(hit.is_some(), expected, summary(&seen)),
        hit,
    )
}

/// Kiali's graph (`/kiali/api/namespaces/graph`) has an edge from an app/workload to another
/// (directly, or through a service node).
pub fn graph_edge(graph: &serde_json::Value, from: &str, to: &str) -> Verdict {
    let nodes = graph["elements"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let edges = graph["elements"]["edges"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let names = |data: &serde_json::Value| -> Vec<String> {
        ["app", "workload", "service"]
            .iter()
            .filter_map(|k| data[*k].as_str().map(str::to_string))
            .collect()
    };
    let is = |data: &serde_json::Value, name: &str| {
        names(data).iter().any(|n| {
            n == name
                || n.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with('-'))
        })
    };
    let ids = |name: &str| -> Vec<String> {
        nodes
            .iter()
            .filter(|n| is(&n["data"], name))
            .filter_map(|n| n["data"]["id"].as_str().map(str::to_string))
            .collect()
    };
    let (from_ids, to_ids) = (ids(from), ids(to));
    let found = edges.iter().any(|e| {
        let s = e["data"]["source"].as_str().unwrap_or_default();
        let t = e["data"]["target"].as_str().unwrap_or_default();
        from_ids.iter().any(|f| f == s) && to_ids.iter().any(|x| x == t)
    });
    let seen: Vec<String> = nodes.iter().map(|n| names(&n["data"]).join("/")).collect();
    Verdict::holds_if(
        found,
        format!("an edge {from} -> {to}"),
        format!(
            "{} nodes [{}], {} edges, none {from} -> {to}",
            nodes.len(),
            seen.join(", "),
            edges.len()
        ),
    )
}
