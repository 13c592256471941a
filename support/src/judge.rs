//! The judge half of every claim: pure functions from what was observed to a [`Verdict`].
//! Everything that decides pass or fail is here, so it is proven on recorded data without a
//! cluster.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::core::v1::Pod;

use crate::claims::Verdict;
use crate::eras::{AccessLogFormat, EnrollmentLogFormat};
use crate::k8s::conditions::{daemonset_ready, pod_ready};
use crate::logs::{AccessRecord, Direction, Enrollment};
use crate::tutorial::listing::base_name;

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

/// An app pod as the cluster has it: where istio-cni must have announced it, and at which address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppPod {
    pub name: String,
    pub namespace: String,
    pub node: String,
    /// `status.podIP`; a node route must lead there.
    pub ip: Option<String>,
}

/// A node route as the tutorial shows it: `table 100 … dev istioin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeRoute<'a> {
    pub table: &'a str,
    pub device: &'a str,
}

/// Each pod has an enrollment line, in the format expected, in the log of the istio-cni pod on
/// its node; where the line is a node route (2022, 1.18-1.20), the route leads to the pod's
/// address through the table and device `route` names (a route via `dev eth0` is not the
/// redirection into ztunnel). istio-cni's `to ipset` line is not the tutorial's `grep route`
/// line and never counts.
pub fn enrolled(
    pods: &[AppPod],
    enrollments_by_node: &BTreeMap<String, Vec<Enrollment>>,
    format: EnrollmentLogFormat,
    route: Option<NodeRoute>,
) -> Verdict {
    let mut missing = Vec::new();
    let mut other_format = Vec::new();
    let mut wrong_route = Vec::new();
    for pod in pods {
        let on_node = enrollments_by_node.get(&pod.node).into_iter().flatten();
        let mine: Vec<&Enrollment> = on_node
            .filter(|e| e.pod == pod.name && e.namespace == pod.namespace)
            .collect();
        let named = format!("{}/{}", pod.namespace, pod.name);
        let Some(first) = mine.first() else {
            missing.push(format!("{named} (istio-cni on {})", pod.node));
            continue;
        };
        let in_format: Vec<&&Enrollment> = mine.iter().filter(|e| e.format == format).collect();
        if in_format.is_empty() {
            other_format.push(format!("{named}: {:?}", first.format));
            continue;
        }
        let leads_there = |e: &Enrollment| {
            pod.ip
                .as_ref()
                .is_none_or(|ip| e.pod_ip.as_ref() == Some(ip))
                && route.is_none_or(|r| {
                    e.route_table.as_deref() == Some(r.table)
                        && e.route_device.as_deref() == Some(r.device)
                })
        };
        if format == EnrollmentLogFormat::NodeRoute && !in_format.iter().any(|e| leads_there(e)) {
            let routes: Vec<String> = in_format
                .iter()
                .map(|e| {
                    let or = |v: &Option<String>| v.clone().unwrap_or_else(|| "?".into());
                    format!(
                        "{} (table {}, dev {})",
                        e.pod_ip.as_deref().unwrap_or("an unreadable destination"),
                        or(&e.route_table),
                        or(&e.route_device)
                    )
                })
                .collect();
            let at = pod.ip.as_deref().unwrap_or("an unknown address");
            wrong_route.push(format!("{named} at {at}: route to {}", routes.join(", ")));
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
    if !wrong_route.is_empty() {
        actual.push(format!(
            "a route that does not lead to the pod: {}",
            wrong_route.join(", ")
        ));
    }
    let via = route
        .filter(|_| format == EnrollmentLogFormat::NodeRoute)
        .map(|r| format!(", a route via table {} dev {}", r.table, r.device))
        .unwrap_or_default();
    Verdict::holds_if(
        actual.is_empty(),
        format!(
            "an enrollment line ({format:?}{via}) for each of {} pods",
            pods.len()
        ),
        actual.join("; "),
    )
}

/// The containers of a pod that make it more than its app: every container after the first, each
/// native sidecar (an init container with `restartPolicy: Always`: how Istio injects
/// `istio-proxy` by default since 1.27, istio/istio.io content/en/news/releases/1.27.x/
/// announcing-1.27/upgrade-notes "Native sidecar enabled by default" @195c04db; before, opt-in
/// through `ENABLE_NATIVE_SIDECARS`, pilot/pkg/features), and the injector's init containers
/// (`istio-init`, `istio-validation`, any `istio-proxy`).
fn extra_containers(p: &Pod) -> Vec<String> {
    let Some(spec) = p.spec.as_ref() else {
        return vec!["no spec".into()];
    };
    let mut extra: Vec<String> = Vec::new();
    match spec.containers.as_slice() {
        [] => extra.push("no container".into()),
        [only] if only.name == "istio-proxy" => extra.push("istio-proxy".into()),
        [_] => {}
        [_, rest @ ..] => extra.extend(rest.iter().map(|c| c.name.clone())),
    }
    for c in spec.init_containers.iter().flatten() {
        let native = c.restart_policy.as_deref() == Some("Always");
        if native || c.name.starts_with("istio-") {
            extra.push(format!(
                "init container {}{}",
                c.name,
                if native {
                    " (restartPolicy Always)"
                } else {
                    ""
                }
            ));
        }
    }
    extra
}

pub use crate::steps::Restarted;

/// No app pod carries a sidecar: one container each, not named `istio-proxy`, and no native
/// sidecar or injector init container; and among the pods judged is one of `restarted` created
/// after the label (an injector changes pods when they are created, so a pod from before the
/// label proves nothing).
pub fn no_sidecars(pods: &[Pod], restarted: &Restarted) -> Verdict {
    let mut problems: Vec<String> = pods
        .iter()
        .filter_map(|p| {
            let extra = extra_containers(p);
            (!extra.is_empty()).then(|| {
                format!(
                    "{}: {}",
                    p.metadata.name.as_deref().unwrap_or_default(),
                    extra.join(", ")
                )
            })
        })
        .collect();
    let (key, value) = &restarted.annotation;
    let fresh = pods.iter().any(|p| {
        base_name(p.metadata.name.as_deref().unwrap_or_default()) == restarted.deployment
            && p.metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(key))
                .is_some_and(|v| v == value)
    });
    if !fresh {
        problems.push(format!(
            "no pod of {} created after the label among those judged ({key}={value})",
            restarted.deployment
        ));
    }
    Verdict::holds_if(
        problems.is_empty(),
        format!(
            "one container per app pod, no sidecar, a pod of {} created after the label among them",
            restarted.deployment
        ),
        problems.join("; "),
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

/// The connection the tutorial makes (sleep → productpage), as a ztunnel logs it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Traffic {
    /// The client's service account (`sleep`).
    pub client_sa: String,
    /// Addresses a connection from the client arrives from: its pods' (1.22+ keeps the client's
    /// address) and the ztunnel of its node's (the 2022 Envoy ztunnel tunnels from its own).
    pub client_ips: Vec<String>,
    /// The service host (`productpage.default.svc.cluster.local`).
    pub service_host: String,
    /// IPs of the server pods (productpage-v1).
    pub server_ips: Vec<String>,
    /// The waypoint on the path, if one is expected.
    pub waypoint: Option<WaypointExpectation>,
    /// Only lines in this format count (the document's, or the era's).
    pub format: Option<AccessLogFormat>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WaypointExpectation {
    /// The SPIFFE identity the log names for it, when its format names one.
    pub identity: Option<String>,
    pub pod_ips: Vec<String>,
    /// Its Deployment (its pods' names start with it).
    pub deployment: Option<String>,
}

/// Where an inbound connection is expected to come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum From {
    /// Straight from the client (L4).
    Client,
    /// From the waypoint (L7: the waypoint forwards to the server).
    Waypoint,
}

/// The host of a logged address: `10.244.1.5` of `10.244.1.5:33800`, `fd00::5` of
/// `[fd00::5]:15008` (how Rust prints an IPv6 socket address) or of a bare `fd00::5`.
fn host(addr: &str) -> &str {
    if let Some(bracketed) = addr.strip_prefix('[') {
        return bracketed.split_once(']').map_or(addr, |(h, _)| h);
    }
    match addr.rsplit_once(':') {
        Some((h, port)) if !h.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => addr,
    }
}

fn addr_in(addr: &Option<String>, ips: &[String]) -> bool {
    addr.as_deref()
        .is_some_and(|a| ips.iter().any(|ip| ip == host(a)))
}

/// A connection that completed without an error, as each format says it: Envoy lines with no
/// response flags, structured lines `connection complete`, tracing lines of a proxied connection.
/// `connection opened`, `connection failed`, `RBAC rejected`, any `error=` do not count.
pub fn completed(r: &AccessRecord) -> bool {
    if r.error.is_some() {
        return false;
    }
    match r.format {
        // Envoy logs a connection when it ends; its flags (`error`) say if it failed. A
        // blackhole listener drops what it gets.
        AccessLogFormat::EnvoyText => !r.event.contains("blackhole"),
        AccessLogFormat::RustTracing => matches!(
            r.event.as_str(),
            "proxy to" | "proxying to" | "got CONNECT request" | "connection complete"
        ),
        AccessLogFormat::IstioAccessUnquoted
        | AccessLogFormat::IstioAccessQuoted
        | AccessLogFormat::IstioAccessJson => r.event == "connection complete",
    }
}

fn in_format(r: &AccessRecord, t: &Traffic) -> bool {
    t.format.is_none_or(|f| {
        // The structured log's text and JSON forms are the same era's.
        f == r.format
            || matches!(
                (f, r.format),
                (
                    AccessLogFormat::IstioAccessQuoted,
                    AccessLogFormat::IstioAccessJson
                )
            )
    })
}

fn from_client(r: &AccessRecord, t: &Traffic) -> bool {
    let by_identity = r
        .src
        .identity
        .as_deref()
        .is_some_and(|i| i.ends_with(&format!("/sa/{}", t.client_sa)));
    // A pod of the client's Deployment (`sleep-<hash>-<suffix>`), not any name that starts so.
    let by_workload = r
        .src
        .workload
        .as_deref()
        .is_some_and(|w| base_name(w) == t.client_sa);
    by_identity || by_workload || addr_in(&r.src.addr, &t.client_ips)
}

/// 1.18 – 1.21 outbound tracing lines name no source: only the destination, within the window
/// the suite read (the log since just before its own curl), ties them to the client.
fn sourceless(r: &AccessRecord) -> bool {
    r.format == AccessLogFormat::RustTracing
        && r.src.identity.is_none()
        && r.src.addr.is_none()
        && r.src.workload.is_none()
}

fn from_waypoint(r: &AccessRecord, w: &WaypointExpectation) -> bool {
    let by_identity = w.identity.is_some() && r.src.identity == w.identity;
    let by_workload = w.deployment.as_deref().is_some_and(|d| {
        r.src
            .workload
            .as_deref()
            .is_some_and(|wl| base_name(wl) == d)
    });
    by_identity || by_workload || addr_in(&r.src.addr, &w.pod_ips)
}

/// The service's short name: `productpage` of `productpage.default.svc.cluster.local`.
fn service_name(t: &Traffic) -> &str {
    t.service_host.split('.').next().unwrap_or_default()
}

/// A workload of the service: its own name, or a versioned one (`productpage-v1`); not any other
/// name that starts with it (`productpage-waypoint`).
pub fn is_service_workload(workload: &str, service: &str) -> bool {
    !service.is_empty()
        && workload.strip_prefix(service).is_some_and(|rest| {
            rest.is_empty()
                || rest
                    .strip_prefix("-v")
                    .is_some_and(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
        })
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
        .map(|r| {
            format!(
                "{r} [{:?}{}]",
                r.format,
                r.error
                    .as_ref()
                    .map(|e| format!(", error {e}"))
                    .unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn format_note(t: &Traffic) -> String {
    t.format
        .map(|f| format!(" in the {f:?} format"))
        .unwrap_or_default()
}

/// The client's ztunnel logged the outbound connection, completed, in the expected format,
/// through the waypoint iff one is expected. Also returns the index of the record that shows it
/// (the line to snapshot).
pub fn outbound_logged(records: &[AccessRecord], t: &Traffic) -> (Verdict, Option<usize>) {
    let outbound: Vec<(usize, &AccessRecord)> = records
        .iter()
        .enumerate()
        .filter(|(_, r)| r.direction == Some(Direction::Outbound))
        .filter(|(_, r)| from_client(r, t) || sourceless(r))
        .collect();
    let matches = |r: &AccessRecord| {
        completed(r)
            && in_format(r, t)
            && match &t.waypoint {
                None => {
                    let says_waypoint = r.event.contains("waypoint proxy)")
                        && !r.event.contains("(no waypoint proxy)");
                    to_server(r, t) && r.waypoint.is_none() && !says_waypoint
                }
                Some(w) => via_expected_waypoint(r, w),
            }
    };
    // Prefer the line the tutorial shows (the capture listener's), then any match.
    let preferred = |r: &AccessRecord| r.event.starts_with("capture outbound");
    let mut hit = outbound
        .iter()
        .find(|(_, r)| matches(r) && preferred(r))
        .or_else(|| outbound.iter().find(|(_, r)| matches(r)))
        .map(|(i, _)| *i);
    // Through a waypoint, every connection of the client to the service goes through it: one
    // that went around it beside one that did is traffic that only sometimes takes the path.
    let direct: Vec<&AccessRecord> = match &t.waypoint {
        Some(w) => outbound
            .iter()
            .map(|(_, r)| *r)
            .filter(|r| in_format(r, t) && to_server(r, t) && !via_expected_waypoint(r, w))
            .collect(),
        None => Vec::new(),
    };
    if !direct.is_empty() {
        hit = None;
    }
    let expected = match &t.waypoint {
        None => format!(
            "a completed outbound line from {} to {} without a waypoint{}",
            t.client_sa,
            t.service_host,
            format_note(t)
        ),
        Some(w) => format!(
            "a completed outbound line from {} to the waypoint {}{}",
            t.client_sa,
            w.identity.clone().unwrap_or_else(|| w.pod_ips.join("|")),
            format_note(t)
        ),
    };
    let seen: Vec<&AccessRecord> = outbound.iter().map(|(_, r)| *r).collect();
    let actual = if direct.is_empty() {
        summary(&seen)
    } else {
        format!(
            "{} line(s) around the waypoint: {}",
            direct.len(),
            summary(&direct)
        )
    };
    (Verdict::holds_if(hit.is_some(), expected, actual), hit)
}

/// The server's ztunnel logged a completed inbound connection to a server pod, in the expected
/// format, from the client (L4) or from the waypoint (L7); with the index of the record.
pub fn inbound_logged(
    records: &[AccessRecord],
    t: &Traffic,
    from: From,
) -> (Verdict, Option<usize>) {
    let inbound: Vec<(usize, &AccessRecord)> = records
        .iter()
        .enumerate()
        .filter(|(_, r)| r.direction == Some(Direction::Inbound))
        .collect();
    let to_server_pod = |r: &AccessRecord| {
        addr_in(&r.dst.addr, &t.server_ips)
            || r.dst
                .workload
                .as_deref()
                .is_some_and(|w| is_service_workload(base_name(w), service_name(t)))
    };
    let from_source = |r: &AccessRecord| match (from, &t.waypoint) {
        (From::Client, _) => from_client(r, t),
        (From::Waypoint, Some(w)) => from_waypoint(r, w),
        (From::Waypoint, None) => false,
    };
    let matches =
        |r: &AccessRecord| completed(r) && in_format(r, t) && to_server_pod(r) && from_source(r);
    let preferred = |r: &AccessRecord| {
        r.event == "capture inbound listener" || r.event == "connection complete"
    };
    let mut hit = inbound
        .iter()
        .find(|(_, r)| matches(r) && preferred(r))
        .or_else(|| inbound.iter().find(|(_, r)| matches(r)))
        .map(|(i, _)| *i);
    // From the waypoint, none straight from the client beside it (see [`outbound_logged`]).
    let direct: Vec<&AccessRecord> = match (from, &t.waypoint) {
        (From::Waypoint, Some(w)) => inbound
            .iter()
            .map(|(_, r)| *r)
            .filter(|r| {
                in_format(r, t) && to_server_pod(r) && from_client(r, t) && !from_waypoint(r, w)
            })
            .collect(),
        _ => Vec::new(),
    };
    if !direct.is_empty() {
        hit = None;
    }
    let seen: Vec<&AccessRecord> = inbound.iter().map(|(_, r)| *r).collect();
    let seen_text = if direct.is_empty() {
        summary(&seen)
    } else {
        format!(
            "{} line(s) straight from {}: {}",
            direct.len(),
            t.client_sa,
            summary(&direct)
        )
    };
    let source = match (from, &t.waypoint) {
        (From::Waypoint, Some(w)) => format!(
            "the waypoint ({})",
            w.identity.clone().unwrap_or_else(|| w.pod_ips.join("|"))
        ),
        _ => t.client_sa.clone(),
    };
    let expected = format!(
        "a completed inbound line from {source} to {} ({}){}",
        t.service_host,
        t.server_ips.join(", "),
        format_note(t)
    );
    (Verdict::holds_if(hit.is_some(), expected, seen_text), hit)
}

/// Each line's record, with the outcome of its connection where the format logs it apart: a
/// 1.18 – 1.21 tracing line that starts a connection (`proxy to`, `proxying to`, `got CONNECT
/// request`) takes the error of a later `failed … err=` line of the same span id (ztunnel
/// 1.18.0 src/proxy/outbound.rs logs `complete dur=` or `failed … err=` when the connection
/// ends). One pass, one map entry per open connection.
pub fn with_outcomes(lines: &[(String, AccessRecord)]) -> Vec<AccessRecord> {
    let mut records: Vec<AccessRecord> = lines.iter().map(|(_, r)| r.clone()).collect();
    let mut open: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (i, (text, r)) in lines.iter().enumerate() {
        if r.format != AccessLogFormat::RustTracing {
            continue;
        }
        let Some(id) = span_id(text) else { continue };
        if matches!(
            r.event.as_str(),
            "proxy to" | "proxying to" | "got CONNECT request"
        ) {
            open.insert(id, i);
        } else if let Some(start) = open.remove(id)
            && (r.event == "failed" || r.error.is_some())
        {
            records[start].error = Some(
                r.error
                    .clone()
                    .unwrap_or_else(|| format!("{} (a later line)", r.event)),
            );
        }
    }
    records
}

/// The `id` of a tracing line's first span: `7d34…` of `outbound{id=7d34…}:`.
fn span_id(line: &str) -> Option<&str> {
    let at = line.find("{id=")? + "{id=".len();
    let rest = &line[at..];
    let end = rest.find(['}', ' '])?;
    Some(&rest[..end]).filter(|id| !id.is_empty())
}

/// Kiali's answer to a graph request: its HTTP status and its body.
#[derive(Debug, Clone, PartialEq)]
pub struct KialiGraph {
    pub status: u16,
    pub body: serde_json::Value,
}

/// The graph Kiali answered, or why its answer is none: a status other than 200, an
/// `{"error": …}` body, a body without `elements`.
pub fn graph_of(g: &KialiGraph) -> Result<&serde_json::Value, String> {
    let error = g.body.get("error").map(|e| e.to_string());
    match (g.status, error) {
        (200, None) if g.body["elements"].is_object() => Ok(&g.body),
        (200, None) => Err("HTTP 200, but no graph (no `elements`)".into()),
        (status, error) => Err(format!(
            "HTTP {status}{}",
            error.map(|e| format!(", error {e}")).unwrap_or_default()
        )),
    }
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
    // Exactly the app, service or workload named, or its versioned workload (`productpage-v1`):
    // `productpage-waypoint` is not productpage.
    let is = |data: &serde_json::Value, name: &str| {
        names(data).iter().any(|n| is_service_workload(n, name))
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

/// A node selector as kubectl shows it: `k=v,k2=v2`, or `<none>`.
pub fn node_selector_text(ds: &DaemonSet) -> String {
    let selector = ds
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .and_then(|s| s.node_selector.as_ref())
        .filter(|m| !m.is_empty());
    match selector {
        None => "<none>".into(),
        Some(m) => m
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(","),
    }
}

/// The DaemonSet's node selector is `expected` (kubectl's form).
pub fn node_selector(ds: &DaemonSet, expected: &str) -> Verdict {
    let name = ds.metadata.name.as_deref().unwrap_or_default();
    let actual = node_selector_text(ds);
    Verdict::holds_if(
        actual == expected,
        format!("daemonset {name}: node selector {expected}"),
        format!("daemonset {name}: node selector {actual}"),
    )
}

/// Ports of a kubectl `PORT(S)` column: `15010/TCP,443/TCP`, `80:32654/TCP` (node port after
/// the colon).
pub fn ports_of(column: &str) -> Vec<u16> {
    column
        .split(',')
        .filter_map(|p| p.split(['/', ':']).next()?.trim().parse().ok())
        .collect()
}

/// A Service of this type with exactly these ports.
pub fn service(
    svc: Option<&k8s_openapi::api::core::v1::Service>,
    name: &str,
    type_: &str,
    ports: &[u16],
) -> Verdict {
    let expected = format!("service {name}: {type_}, ports {ports:?}");
    let Some(svc) = svc else {
        return Verdict::drifted(expected, format!("no service {name}"));
    };
    let spec = svc.spec.clone().unwrap_or_default();
    let actual_type = spec.type_.unwrap_or_else(|| "ClusterIP".into());
    let mut actual_ports: Vec<u16> = spec
        .ports
        .unwrap_or_default()
        .iter()
        .filter_map(|p| u16::try_from(p.port).ok())
        .collect();
    let mut want = ports.to_vec();
    actual_ports.sort_unstable();
    want.sort_unstable();
    Verdict::holds_if(
        actual_type == type_ && actual_ports == want,
        expected,
        format!("service {name}: {actual_type}, ports {actual_ports:?}"),
    )
}

/// A ReplicaSet's desired, current and ready counts.
pub fn replicaset(
    rs: Option<&k8s_openapi::api::apps::v1::ReplicaSet>,
    owner: &str,
    counts: (i32, i32, i32),
) -> Verdict {
    let expected = format!(
        "replicaset {owner}-<hash>: {} desired, {} current, {} ready",
        counts.0, counts.1, counts.2
    );
    let Some(rs) = rs else {
        return Verdict::drifted(expected, format!("no replicaset of {owner}"));
    };
    let desired = rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let status = rs.status.clone().unwrap_or_default();
    let actual = (desired, status.replicas, status.ready_replicas.unwrap_or(0));
    Verdict::holds_if(
        actual == counts,
        expected,
        format!(
            "replicaset {}: {} desired, {} current, {} ready",
            rs.metadata.name.as_deref().unwrap_or_default(),
            actual.0,
            actual.1,
            actual.2
        ),
    )
}

/// An autoscaler of Deployment `target`, `min` to `max` replicas at `cpu`% CPU.
pub fn autoscaler(
    hpa: Option<&k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler>,
    target: &str,
    min: i32,
    max: i32,
    cpu: i32,
) -> Verdict {
    let expected =
        format!("autoscaler of Deployment/{target}: {min} to {max} replicas at {cpu}% CPU");
    let Some(hpa) = hpa else {
        return Verdict::drifted(expected, format!("no autoscaler for {target}"));
    };
    let spec = hpa.spec.clone().unwrap_or_default();
    let reference = format!(
        "{}/{}",
        spec.scale_target_ref.kind, spec.scale_target_ref.name
    );
    let actual_cpu = spec
        .metrics
        .unwrap_or_default()
        .iter()
        .filter_map(|m| m.resource.as_ref())
        .find(|r| r.name == "cpu")
        .and_then(|r| r.target.average_utilization);
    let actual_min = spec.min_replicas.unwrap_or(1);
    Verdict::holds_if(
        reference == format!("Deployment/{target}")
            && actual_min == min
            && spec.max_replicas == max
            && actual_cpu == Some(cpu),
        expected,
        format!(
            "autoscaler of {reference}: {actual_min} to {} replicas at {}% CPU",
            spec.max_replicas,
            actual_cpu.map_or("?".into(), |c| c.to_string())
        ),
    )
}

/// What was found of the istio-ingressgateway the tutorial lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IngressGatewayParts {
    pub deployment: bool,
    pub service: bool,
    pub autoscaler: bool,
}

/// All of the ingress gateway's objects are there (`expected`), or none is: a part without the
/// rest is a drift either way.
pub fn ingress_gateway(found: IngressGatewayParts, expected_present: bool) -> Verdict {
    let parts = [
        ("deployment", found.deployment),
        ("service", found.service),
        ("autoscaler", found.autoscaler),
    ];
    let present: Vec<&str> = parts.iter().filter(|(_, p)| *p).map(|(n, _)| *n).collect();
    let say = |present: bool| {
        format!(
            "istio-ingressgateway deployment, service and autoscaler {}",
            if present { "present" } else { "absent" }
        )
    };
    let actual = match present.len() {
        0 => say(false),
        3 => say(true),
        _ => format!("istio-ingressgateway: only {} present", present.join(", ")),
    };
    Verdict::holds_if(
        actual == say(expected_present),
        say(expected_present),
        actual,
    )
}

/// A pod line as the tutorial shows it: READY, STATUS and RESTARTS as kubectl prints them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PodColumns<'a> {
    pub ready: &'a str,
    pub status: &'a str,
    pub restarts: &'a str,
}

/// `kubectl get pod | grep waypoint`: a pod of Deployment `deployment` whose READY, STATUS and
/// RESTARTS columns are the tutorial's (`1/1 Running 0`). A terminating pod shows `Terminating`,
/// a restarted one its count: neither is the line shown.
pub fn pod_line(pods: &[Pod], deployment: &str, want: PodColumns) -> Verdict {
    let line = |p: &Pod| {
        let name = p.metadata.name.as_deref().unwrap_or_default();
        format!(
            "{name} {} {} {}",
            ready_column(p),
            status_column(p),
            restarts_column(p)
        )
    };
    let expected = format!(
        "{deployment}-<hash>-<suffix> {} {} {}",
        want.ready, want.status, want.restarts
    );
    let hit = pods.iter().any(|p| {
        let name = p.metadata.name.as_deref().unwrap_or_default();
        crate::tutorial::listing::base_name(name) == deployment
            && ready_column(p) == want.ready
            && status_column(p) == want.status
            && restarts_column(p) == want.restarts
    });
    let seen: Vec<String> = pods.iter().map(line).collect();
    Verdict::holds_if(
        hit,
        expected,
        if seen.is_empty() {
            format!("no pod of {deployment}")
        } else {
            seen.join("; ")
        },
    )
}

/// `kubectl get pod | grep waypoint`, by NAME alone: a pod of Deployment `deployment` exists. The
/// name is the control plane's decision (istiod names the waypoint's Deployment, whose ReplicaSet
/// names the pod); READY, STATUS and RESTARTS are the data plane's, judged by [`pod_line`].
pub fn pod_named(pods: &[Pod], deployment: &str) -> Verdict {
    let hit = pods.iter().any(|p| {
        crate::tutorial::listing::base_name(p.metadata.name.as_deref().unwrap_or_default())
            == deployment
    });
    let seen: Vec<&str> = pods
        .iter()
        .map(|p| p.metadata.name.as_deref().unwrap_or_default())
        .collect();
    Verdict::holds_if(
        hit,
        format!("a pod {deployment}-<hash>-<suffix>"),
        if seen.is_empty() {
            format!("no pod of {deployment}")
        } else {
            seen.join(", ")
        },
    )
}

/// Every pod has the RESTARTS the tutorial shows for its line (`0`): a pod that restarted is not
/// the one the listing shows, even when it is ready again.
pub fn restarts(pods: &[Pod], expected: &str) -> Verdict {
    let other: Vec<String> = pods
        .iter()
        .filter(|p| restarts_column(p) != expected)
        .map(|p| {
            format!(
                "{} RESTARTS {}",
                p.metadata.name.as_deref().unwrap_or_default(),
                restarts_column(p)
            )
        })
        .collect();
    Verdict::holds_if(
        other.is_empty(),
        format!("RESTARTS {expected} for each pod"),
        other.join(", "),
    )
}

/// kubectl's STATUS column, as far as the tutorial's lines need it: `Terminating` once the pod
/// is being deleted, a container's waiting reason (`CrashLoopBackOff`), else the phase.
pub fn status_column(p: &Pod) -> String {
    if p.metadata.deletion_timestamp.is_some() {
        return "Terminating".into();
    }
    let waiting = p
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .into_iter()
        .flatten()
        .find_map(|c| c.state.as_ref()?.waiting.as_ref()?.reason.clone());
    waiting.unwrap_or_else(|| phase(p))
}

/// kubectl's RESTARTS column: the restarts of the pod's containers, summed (without kubectl's
/// `(2m ago)`).
pub fn restarts_column(p: &Pod) -> String {
    let restarts: i32 = p
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .map_or(0, |cs| cs.iter().map(|c| c.restart_count).sum());
    restarts.to_string()
}

/// kubectl's READY column: ready containers / containers.
pub fn ready_column(p: &Pod) -> String {
    let total = p.spec.as_ref().map_or(0, |s| s.containers.len());
    let ready = p
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .map_or(0, |cs| cs.iter().filter(|c| c.ready).count());
    format!("{ready}/{total}")
}

fn phase(p: &Pod) -> String {
    p.status
        .as_ref()
        .and_then(|s| s.phase.clone())
        .unwrap_or_else(|| "Unknown".into())
}

pub use crate::k8s::conditions::conditions_of;
pub use crate::steps::DeclarationOutcome;

/// A controller acted on the object as the era's controller does: each condition type it writes
/// when it has (`Ready` in 2022; `Accepted` and `Programmed` since 1.18) is `True`, not the
/// CRD's `Pending` default. One `True` among them is not enough: `Accepted=True` with
/// `Programmed=False` is a Gateway that was never deployed.
pub fn acted_on(conditions: &[crate::k8s::conditions::Condition], required: &[&str]) -> bool {
    crate::k8s::conditions::all_true(conditions, required).is_ok()
}

/// The declaration was accepted and a controller acted on it: each of `required` is `True`.
pub fn declaration_acted_on(o: &DeclarationOutcome, required: &[&str]) -> Verdict {
    let expected = format!(
        "{} accepted, and {} True by a controller",
        o.what,
        required.join(" and ")
    );
    if let Some(why) = &o.refused {
        return Verdict::drifted(expected, format!("{}: refused: {why}", o.what));
    }
    let seen: Vec<String> = o
        .conditions
        .iter()
        .map(|(t, s, r, m)| format!("{t}={s} ({r}: {m})"))
        .collect();
    let not = crate::k8s::conditions::all_true(&o.conditions, required)
        .err()
        .map(|n| format!(" (not: {})", n.join(", ")))
        .unwrap_or_default();
    Verdict::holds_if(
        not.is_empty(),
        expected,
        format!(
            "{}: accepted; conditions: {}{not}",
            o.what,
            if seen.is_empty() {
                "none".into()
            } else {
                seen.join(", ")
            }
        ),
    )
}

/// Kiali answered with a graph that has no edge from `from` to `to` (nothing handled in the
/// window it covers). An error is no graph, and so no empty one.
pub fn graph_without_edge(graph: &KialiGraph, from: &str, to: &str) -> Verdict {
    let expected = format!("HTTP 200, a graph with no edge {from} -> {to}");
    let body = match graph_of(graph) {
        Ok(b) => b,
        Err(why) => return Verdict::drifted(expected, why),
    };
    match graph_edge(body, from, to) {
        Verdict::Holds => Verdict::drifted(expected, format!("an edge {from} -> {to}")),
        _ => Verdict::Holds,
    }
}

/// Kiali answered with a graph that has an edge from `from` to `to`.
pub fn graph_with_edge(graph: &KialiGraph, from: &str, to: &str) -> Verdict {
    match graph_of(graph) {
        Ok(body) => graph_edge(body, from, to),
        Err(why) => Verdict::drifted(
            format!("HTTP 200, a graph with an edge {from} -> {to}"),
            why,
        ),
    }
}

/// A Deployment available with kubectl's READY `ready` (`1/1`: ready replicas / replicas).
pub fn deployment_ready(d: &Deployment, ready: &str) -> Verdict {
    let name = d.metadata.name.as_deref().unwrap_or_default();
    let want = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let got = d
        .status
        .as_ref()
        .and_then(|s| s.ready_replicas)
        .unwrap_or(0);
    let actual = format!("{got}/{want}");
    let available = crate::k8s::conditions::deployment_available(d);
    Verdict::holds_if(
        available.is_ok() && actual == ready,
        format!("deployment {name} available, READY {ready}"),
        format!(
            "deployment {name} READY {actual}{}",
            available
                .err()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default()
        ),
    )
}

/// Whether two declarations declare the same object (apiVersion, kind, name, class): then the
/// era's declaration is the tutorial's and is not applied twice.
pub fn same_declaration(a: &str, b: &str) -> bool {
    let key = |text: &str| {
        crate::manifests::parse("declaration", text)
            .ok()
            .and_then(|o| o.into_iter().next())
            .map(|o| {
                let t = o.types.clone().unwrap_or_default();
                (
                    t.api_version,
                    t.kind,
                    o.metadata.name.clone(),
                    o.data["spec"]["gatewayClassName"]
                        .as_str()
                        .map(str::to_string),
                )
            })
    };
    key(a).is_some() && key(a) == key(b)
}

#[cfg(test)]
mod tests {
    use super::{host, span_id};

    #[test]
    fn the_span_id_of_a_tracing_line() {
        for (line, want) in [
            (
                "t  INFO outbound{id=7d34}: ztunnel::proxy::outbound: x",
                Some("7d34"),
            ),
            (
                "t  INFO proxy{uid=u-1}:outbound{id=9f73}: ztunnel: x",
                Some("9f73"),
            ),
            (
                "t  INFO inbound{id=ec17 peer_ip=10.0.0.1}: ztunnel: x",
                Some("ec17"),
            ),
            // No `{id=`, an empty id, an id never closed: none.
            ("t  INFO proxy{uid=u-1}: ztunnel: x", None),
            ("t  INFO outbound{id=}: ztunnel: x", None),
            ("t  INFO outbound{id=7d34", None),
        ] {
            assert_eq!(span_id(line), want, "{line}");
        }
    }

    #[test]
    fn the_host_of_an_address_with_or_without_its_port() {
        for (addr, want) in [
            ("10.244.1.5:33800", "10.244.1.5"),
            ("10.244.1.5", "10.244.1.5"),
            ("[fd00:10:244::5]:15008", "fd00:10:244::5"),
            ("fd00:10:244::5", "fd00:10:244::5"),
            ("fd00:10:244::15", "fd00:10:244::15"),
            // Not a port: the whole text is the host.
            ("productpage:http", "productpage:http"),
            ("[fd00::5", "[fd00::5"),
        ] {
            assert_eq!(host(addr), want, "{addr}");
        }
    }
}
