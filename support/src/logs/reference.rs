//! The readers and the writer as they were before `ambient-spec logs` was made fast (the
//! `serde_json::Value` path and the regexes), kept verbatim as the reference the fast path is
//! compared with, line by line, on recorded, generated and arbitrary input.
#![allow(dead_code)]

use std::io::{BufRead, Write};
use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Value, json};

use super::cni::{Enrollment, EnrollmentLogFormat, NotEnrollment};
use super::ztunnel::{AccessLogFormat, AccessRecord, Direction, Endpoint, NotAccessLog, Waypoint};

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

/// Splits `key=value key="quoted value" ...` into pairs. Quoted values may contain spaces and
/// `\"`; a token without `=` is skipped. Never panics.
pub fn key_values(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return out;
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| !c.is_whitespace() && *c != '=') {
            key.push(c);
        }
        if chars.next_if_eq(&'=').is_none() {
            continue; // a bare word: not a field
        }
        let mut value = String::new();
        if chars.next_if_eq(&'"').is_some() {
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(escaped) = chars.next() {
                            value.push(escaped);
                        }
                    }
                    '"' => break,
                    _ => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                value.push(c);
            }
        }
        if !key.is_empty() {
            out.push((key, value));
        }
    }
}

/// Splits an Envoy text access log body into tokens: `"quoted strings"` stay whole (without
/// their quotes), everything else splits on whitespace. Never panics.
pub fn envoy_tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        match chars.peek() {
            None => return out,
            Some('"') => {
                chars.next();
                let mut token = String::new();
                for c in chars.by_ref() {
                    if c == '"' {
                        break;
                    }
                    token.push(c);
                }
                out.push(token);
            }
            Some(_) => {
                let mut token = String::new();
                while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                    token.push(c);
                }
                out.push(token);
            }
        }
    }
}

/// `true` if `s` starts with an RFC 3339 UTC timestamp such as `2024-07-23T14:21:03.450051Z`.
pub fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 20
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && s.ends_with('Z')
        && s.is_ascii()
}

/// Reads one ztunnel log line.
pub fn parse_access(line: &str) -> Result<AccessRecord, NotAccessLog> {
    let line = strip_kubectl_prefix(line).trim();
    if line.is_empty() {
        return Err(NotAccessLog::Empty);
    }
    if line.starts_with('[') {
        return envoy_text(line);
    }
    if line.starts_with('{') {
        return istio_json(line);
    }
    let first = line.split_whitespace().next().unwrap_or_default();
    if !is_timestamp(first) {
        return Err(NotAccessLog::UnknownFormat);
    }
    if let Some(c) = ISTIO_ACCESS.captures(line) {
        return Ok(istio_text(&c[1], &c[2], &c[3], &c[4]));
    }
    if let Some(c) = RUST_TRACING.captures(line) {
        return rust_tracing(
            &c[1],
            &c[2],
            c.get(3).map_or("", |m| m.as_str()),
            &c[4],
            &c[5],
        );
    }
    if ISTIO_OTHER.is_match(line) {
        // Everything after the level: `<target> <message> <fields>`.
        let message = line
            .split_whitespace()
            .skip(2)
            .collect::<Vec<_>>()
            .join(" ");
        return Err(NotAccessLog::OtherMessage {
            format: AccessLogFormat::IstioAccessQuoted,
            message,
        });
    }
    Err(NotAccessLog::UnknownFormat)
}

static ISTIO_ACCESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(\S+)\s+(info|warn|error|debug)\s+access\s+(connection complete|connection opened|connection failed)\s+(.*)$")
        .expect("valid regex")
});
static ISTIO_OTHER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\S+\s+(info|warn|error|debug|trace)\s+\S+").expect("valid regex")
});
static RUST_TRACING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(\S+)\s+(TRACE|DEBUG|INFO|WARN|ERROR)\s+((?:[A-Za-z_]+\{[^}]*\}:\s*)*)(ztunnel(?:::[A-Za-z0-9_]+)*):\s+(.*)$")
        .expect("valid regex")
});

// ---- 1.22+ structured access log ---------------------------------------------------------

fn istio_text(timestamp: &str, level: &str, event: &str, fields: &str) -> AccessRecord {
    // 1.22 wrote workload/namespace/service unquoted, 1.23+ quotes every string value
    // (istio/ztunnel src/proxy/metrics.rs at 1.22.0 vs 1.23.0).
    let quoted = [
        "src.workload=\"",
        "dst.workload=\"",
        "src.namespace=\"",
        "dst.namespace=\"",
        "dst.service=\"",
    ]
    .iter()
    .any(|k| fields.contains(k));
    let format = if quoted {
        AccessLogFormat::IstioAccessQuoted
    } else {
        AccessLogFormat::IstioAccessUnquoted
    };
    let kv = key_values(fields);
    let get = |k: &str| kv.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    structured(format, timestamp, level, event, get)
}

fn istio_json(line: &str) -> Result<AccessRecord, NotAccessLog> {
    let value: serde_json::Value =
        serde_json::from_str(line).map_err(|_| NotAccessLog::UnknownFormat)?;
    let obj = value.as_object().ok_or(NotAccessLog::UnknownFormat)?;
    let text = |k: &str| {
        obj.get(k).and_then(|v| match v {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    };
    let (Some(time), Some(message)) = (text("time"), text("message").or_else(|| text("msg")))
    else {
        return Err(NotAccessLog::UnknownFormat);
    };
    if text("scope").as_deref() != Some("access") {
        return Err(NotAccessLog::OtherMessage {
            format: AccessLogFormat::IstioAccessJson,
            message,
        });
    }
    let level = text("level").unwrap_or_default();
    Ok(structured(
        AccessLogFormat::IstioAccessJson,
        &time,
        &level,
        &message,
        text,
    ))
}

fn structured(
    format: AccessLogFormat,
    timestamp: &str,
    level: &str,
    event: &str,
    get: impl Fn(&str) -> Option<String>,
) -> AccessRecord {
    let endpoint = |side: &str| Endpoint {
        addr: get(&format!("{side}.addr")),
        workload: get(&format!("{side}.workload")),
        namespace: get(&format!("{side}.namespace")),
        identity: get(&format!("{side}.identity")),
        service: get(&format!("{side}.service")),
    };
    let direction = match get("direction").as_deref() {
        Some("outbound") => Some(Direction::Outbound),
        Some("inbound") => Some(Direction::Inbound),
        _ => None,
    };
    let dst = endpoint("dst");
    // No field names the waypoint. An outbound HBONE connection whose tunnel target
    // (`dst.hbone_addr`) is not the address dialled (`dst.addr`) was sent to a waypoint that
    // forwards to the service address: then dst.workload/identity are the waypoint's.
    // [I: inferred from real lines, e.g. istio/ztunnel#1500 and the records in fixtures/recorded.]
    let ip = |a: &str| {
        a.rsplit_once(':')
            .map(|(h, _)| h.to_string())
            .unwrap_or_else(|| a.to_string())
    };
    let waypoint = match (direction, &dst.addr, get("dst.hbone_addr")) {
        (Some(Direction::Outbound), Some(addr), Some(hbone)) if ip(addr) != ip(&hbone) => {
            Some(Waypoint {
                identity: dst.identity.clone(),
                addr: Some(addr.clone()),
                workload: dst.workload.clone(),
            })
        }
        _ => None,
    };
    let mut error = get("error");
    if error.is_none() && level == "error" {
        error = Some("error".to_string());
    }
    AccessRecord {
        format,
        timestamp: timestamp.to_string(),
        event: event.to_string(),
        direction,
        src: endpoint("src"),
        dst,
        waypoint,
        bytes_sent: get("bytes_sent").and_then(|v| v.parse().ok()),
        bytes_recv: get("bytes_recv").and_then(|v| v.parse().ok()),
        duration: get("duration"),
        error,
    }
}

// ---- 2022 Envoy-based ztunnel --------------------------------------------------------------

/// Field positions of EnvoyTextLogFormat after `[%START_TIME%]` (EXP ztunnelgen.go).
mod envoy_fields {
    pub const BYTES_RECEIVED: usize = 6;
    pub const BYTES_SENT: usize = 7;
    pub const DURATION: usize = 8;
    pub const UPSTREAM_HOST: usize = 14;
    pub const UPSTREAM_CLUSTER: usize = 15;
    pub const DOWNSTREAM_LOCAL: usize = 17;
    pub const DOWNSTREAM_REMOTE: usize = 18;
    /// After the route name comes the listener name the 2022 build appended.
    pub const LISTENER: usize = 21;
}

fn envoy_text(line: &str) -> Result<AccessRecord, NotAccessLog> {
    let end = line.find("] ").ok_or(NotAccessLog::UnknownFormat)?;
    let timestamp = &line[1..end];
    if !is_timestamp(timestamp) {
        return Err(NotAccessLog::UnknownFormat);
    }
    let t = envoy_tokens(&line[end + 2..]);
    if t.len() < envoy_fields::LISTENER {
        return Err(NotAccessLog::UnknownFormat);
    }
    let number = |i: usize| t[i].parse::<u64>().ok();
    let value = |i: usize| Some(t[i].clone()).filter(|v| v != "-" && !v.is_empty());
    let listener = t[envoy_fields::LISTENER..].join(" ");
    let direction = if listener.contains("outbound") {
        Some(Direction::Outbound)
    } else if listener.contains("inbound") {
        Some(Direction::Inbound)
    } else {
        None
    };
    let cluster = value(envoy_fields::UPSTREAM_CLUSTER).unwrap_or_default();
    let upstream_host = value(envoy_fields::UPSTREAM_HOST).unwrap_or_default();

    let mut src = Endpoint::default();
    let mut dst = Endpoint::default();
    // Cluster names carry the client identity: `<spiffe>_to_http_<svc>_outbound_internal`,
    // `<spiffe>_to_server_waypoint_proxy_<spiffe>`, `outbound_tunnel_clus_<spiffe>`.
    let mut waypoint = None;
    if let Some((client, rest)) = cluster.split_once("_to_") {
        src.identity = Some(client.to_string()).filter(|c| c.starts_with("spiffe://"));
        if let Some(server) = rest.strip_prefix("server_waypoint_proxy_") {
            waypoint = Some(Waypoint {
                identity: Some(server.to_string()),
                addr: value(envoy_fields::UPSTREAM_HOST),
                workload: None,
            });
        } else if let Some(svc) = rest
            .strip_prefix("http_")
            .or_else(|| rest.strip_prefix("tcp_"))
        {
            dst.service = Some(svc.trim_end_matches("_outbound_internal").to_string());
        }
    } else if let Some(client) = cluster.strip_prefix("outbound_tunnel_clus_") {
        src.identity = Some(client.to_string());
        dst.addr = value(envoy_fields::UPSTREAM_HOST);
    }
    // `envoy://outbound_tunnel_lis_<spiffe>/<pod ip:port>`: the endpoint chosen for the service.
    if let Some(rest) = upstream_host.strip_prefix("envoy://outbound_tunnel_lis_")
        && let Some((identity, endpoint)) = rest.rsplit_once('/')
    {
        src.identity.get_or_insert_with(|| identity.to_string());
        dst.addr = Some(endpoint.to_string());
    }
    match direction {
        Some(Direction::Inbound) => {
            src.addr = value(envoy_fields::DOWNSTREAM_REMOTE);
            // `inbound hcm` names the workload address it forwarded to; `capture inbound
            // listener` only the tunnel port it accepted on.
            let forwarded_to =
                value(envoy_fields::UPSTREAM_HOST).filter(|h| !h.starts_with("envoy://"));
            dst.addr = dst
                .addr
                .take()
                .or(forwarded_to)
                .or_else(|| value(envoy_fields::DOWNSTREAM_LOCAL));
        }
        _ => {
            src.addr =
                value(envoy_fields::DOWNSTREAM_REMOTE).filter(|a| !a.starts_with("envoy://"));
            if dst.addr.is_none() {
                dst.addr =
                    value(envoy_fields::DOWNSTREAM_LOCAL).filter(|a| !a.starts_with("envoy://"));
            }
        }
    }
    if listener.contains("waypoint proxy)")
        && !listener.contains("(no waypoint proxy)")
        && waypoint.is_none()
    {
        waypoint = Some(Waypoint {
            identity: None,
            addr: value(envoy_fields::UPSTREAM_HOST),
            workload: None,
        });
    }
    let code = t.get(1).cloned().unwrap_or_default();
    let flags = t.get(2).cloned().unwrap_or_default();
    let error = (flags != "-" && !flags.is_empty())
        .then(|| format!("response flags {flags} (code {code})"));
    Ok(AccessRecord {
        format: AccessLogFormat::EnvoyText,
        timestamp: timestamp.to_string(),
        event: if listener.is_empty() {
            "envoy access log".to_string()
        } else {
            listener
        },
        direction,
        src,
        dst,
        waypoint,
        bytes_sent: number(envoy_fields::BYTES_SENT),
        bytes_recv: number(envoy_fields::BYTES_RECEIVED),
        duration: value(envoy_fields::DURATION).map(|ms| format!("{ms}ms")),
        error,
    })
}

// ---- 1.18 – 1.21 Rust ztunnel tracing lines ------------------------------------------------

static PROXY_TO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^proxy to (\S+) using HBONE via (\S+) type (\w+)").expect("valid regex")
});
static FAST_PATH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^proxying to (\S+) using node local fast path").expect("valid regex")
});
static CONNECT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^got CONNECT request to (\S+)").expect("valid regex"));
static SPAN: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\{([^}]*)\}").expect("valid regex"));
static RBAC: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^RBAC rejected conn=(\S+)").expect("valid regex"));

fn rust_tracing(
    timestamp: &str,
    level: &str,
    spans: &str,
    target: &str,
    message: &str,
) -> Result<AccessRecord, NotAccessLog> {
    let span_fields: Vec<(String, String)> = SPAN
        .captures_iter(spans)
        .flat_map(|c| key_values(&c[1]))
        .collect();
    let span = |k: &str| {
        span_fields
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    let message = message.trim();
    let mut record = AccessRecord {
        format: AccessLogFormat::RustTracing,
        timestamp: timestamp.to_string(),
        event: String::new(),
        direction: None,
        src: Endpoint::default(),
        dst: Endpoint::default(),
        waypoint: None,
        bytes_sent: None,
        bytes_recv: None,
        duration: None,
        error: None,
    };
    let other = || NotAccessLog::OtherMessage {
        format: AccessLogFormat::RustTracing,
        message: message.to_string(),
    };
    match target {
        "ztunnel::proxy::outbound" => {
            record.direction = Some(Direction::Outbound);
            if let Some(c) = PROXY_TO.captures(message) {
                record.event = "proxy to".to_string();
                record.dst.addr = Some(c[1].to_string());
                if &c[3] == "ToServerWaypoint" {
                    record.waypoint = Some(Waypoint {
                        addr: Some(c[2].to_string()),
                        ..Waypoint::default()
                    });
                }
            } else if let Some(c) = FAST_PATH.captures(message) {
                record.event = "proxying to".to_string();
                record.dst.addr = Some(c[1].to_string());
            } else if message.starts_with("complete") || message.starts_with("failed") {
                let kv = key_values(message);
                record.event = message
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string();
                record.duration = kv.iter().find(|(k, _)| k == "dur").map(|(_, v)| v.clone());
                record.error = kv.iter().find(|(k, _)| k == "err").map(|(_, v)| v.clone());
            } else {
                return Err(other());
            }
        }
        "ztunnel::proxy::inbound" => {
            record.direction = Some(Direction::Inbound);
            record.src.addr = span("peer_ip");
            record.src.identity = span("peer_id");
            if let Some(c) = CONNECT.captures(message) {
                record.event = "got CONNECT request".to_string();
                record.dst.addr = Some(c[1].to_string());
            } else if let Some(c) = RBAC.captures(message) {
                record.event = "RBAC rejected".to_string();
                record.error = Some("RBAC rejected".to_string());
                if let Some((_, to)) = c[1].rsplit_once("->") {
                    record.dst.addr = Some(to.to_string());
                }
            } else {
                return Err(other());
            }
        }
        "ztunnel::proxy::inbound_passthrough" => {
            let kv = key_values(message);
            let get = |k: &str| kv.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
            let event = ["accepted connection", "connection complete"]
                .into_iter()
                .find(|e| message.starts_with(e));
            let Some(event) = event else {
                return Err(other());
            };
            record.event = event.to_string();
            record.direction = Some(Direction::Inbound);
            record.src.addr = get("source");
            record.dst.addr = get("destination");
        }
        _ => return Err(other()),
    }
    if level == "ERROR" && record.error.is_none() {
        record.error = Some("error".to_string());
    }
    Ok(record)
}

// `Adding route for <pod>/<ns>: [...]` (EXP/1.18/1.20 cni/pkg/ambient/net.go, format
// "Adding route for %s/%s: %+v") and `Adding pod '<pod>/<ns>' (<uid>) to ipset` (same file).
static NODE_ROUTE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"Adding route for ([a-z0-9.\-]+)/([a-z0-9\-]+): \[").expect("valid regex")
});
// Issue 17: the ipset line is no enrollment; a route names the pod's address.
static ROUTE_DESTINATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r": \[(?:table \d+ )?(\d{1,3}(?:\.\d{1,3}){3})(?:/32)?[ \]]").expect("valid regex")
});
// `in pod mode - adding pod <ns>/<pod> to ztunnel` (1.21/1.22 cni/pkg/nodeagent/net.go).
static IN_POD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"in pod mode - adding pod ([a-z0-9\-]+)/([a-z0-9.\-]+) to ztunnel")
        .expect("valid regex")
});
static ROUTE_TABLE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r": \[table (\d+) ").expect("valid regex"));
static ROUTE_DEVICE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r" dev ([A-Za-z0-9_.@\-]+)[ \]]").expect("valid regex"));
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
    let line = strip_kubectl_prefix(line).trim();
    if line.is_empty() {
        return Err(NotEnrollment::Empty);
    }
    let timestamp = TIMESTAMP.find(line).map(|m| m.as_str().to_string());
    let found = |format, pod: &str, namespace: &str| Enrollment {
        format,
        pod: pod.to_string(),
        namespace: namespace.to_string(),
        pod_ip: None,
        route_table: None,
        route_device: None,
        timestamp: timestamp.clone(),
    };
    if line.starts_with('{') {
        return json(line);
    }
    if let Some(c) = NODE_ROUTE.captures(line) {
        return Ok(Enrollment {
            pod_ip: ROUTE_DESTINATION.captures(line).map(|d| d[1].to_string()),
            route_table: ROUTE_TABLE.captures(line).map(|d| d[1].to_string()),
            route_device: ROUTE_DEVICE.captures(line).map(|d| d[1].to_string()),
            ..found(EnrollmentLogFormat::NodeRoute, &c[1], &c[2])
        });
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
            pod_ip: None,
            route_table: None,
            route_device: None,
            timestamp: text("time"),
        }),
        _ => Err(NotEnrollment::OtherLine),
    }
}

/// One JSON object for one line: `{"line": n, "record": "access"|"enrollment", ...}` or
/// `{"line": n, "error": "..."}`. Blank lines produce nothing.
pub fn line_to_json(number: usize, line: &str) -> Option<Value> {
    if line.trim().is_empty() {
        return None;
    }
    let tagged = |kind: &str, record: Value| {
        let mut obj = json!({ "line": number, "record": kind });
        if let (Some(o), Value::Object(fields)) = (obj.as_object_mut(), record) {
            o.extend(fields);
        }
        obj
    };
    let not_access = match parse_access(line) {
        Ok(r) => {
            return Some(tagged(
                "access",
                serde_json::to_value(r).unwrap_or(Value::Null),
            ));
        }
        Err(e) => e,
    };
    match parse_enrollment(line) {
        Ok(e) => Some(tagged(
            "enrollment",
            serde_json::to_value(e).unwrap_or(Value::Null),
        )),
        Err(_) => Some(json!({ "line": number, "error": not_access.to_string() })),
    }
}

/// Reads lines from `input` (invalid UTF-8 is replaced, never fatal) and writes JSON lines.
pub fn convert(mut input: impl BufRead, mut output: impl Write) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut number = 0;
    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        number += 1;
        let line = String::from_utf8_lossy(&buf);
        if let Some(value) = line_to_json(number, &line) {
            writeln!(output, "{value}")?;
        }
    }
    output.flush()
}

/// The fast path against the reference: same JSON bytes, same typed records.
mod tests {
    use proptest::prelude::*;

    use crate::fixtures::recorded_lines;

    fn agree(number: usize, line: &str) {
        let expected = super::line_to_json(number, line)
            .map(|v| format!("{v}\n"))
            .unwrap_or_default();
        let mut got = Vec::new();
        crate::logs::json::write_line(number, line, &mut got);
        assert_eq!(String::from_utf8_lossy(&got), expected, "JSON of {line:?}");
        assert_eq!(
            crate::logs::json::line_to_json(number, line),
            super::line_to_json(number, line),
            "line_to_json of {line:?}"
        );
        assert_eq!(
            crate::logs::parse_access(line),
            super::parse_access(line),
            "parse_access of {line:?}"
        );
        assert_eq!(
            crate::logs::parse_enrollment(line),
            super::parse_enrollment(line),
            "parse_enrollment of {line:?}"
        );
    }

    const LOGS: [&str; 4] = [
        "ztunnel-envoy-2022.log",
        "ztunnel-tracing-1.18.log",
        "ztunnel-access-1.22.log",
        "istio-cni.log",
    ];

    /// Read once: the property tests below pick from them in every case.
    fn real_lines() -> &'static [String] {
        static LINES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
        LINES.get_or_init(|| {
            LOGS.iter()
                .flat_map(|f| recorded_lines(f).unwrap())
                .map(|l| l.text)
                .collect()
        })
    }

    fn old_convert(input: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        super::convert(input, &mut out).unwrap();
        out
    }

    fn new_convert(input: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        crate::logs::json::convert(input, &mut out).unwrap();
        out
    }

    #[test]
    fn every_recorded_file_converts_alike() {
        let dir = crate::fixtures::path("recorded");
        let mut files = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let input = std::fs::read(entry.unwrap().path()).unwrap();
            assert_eq!(new_convert(&input), old_convert(&input));
            for (i, line) in String::from_utf8_lossy(&input)
                .split_inclusive('\n')
                .enumerate()
            {
                agree(i + 1, line);
            }
            files += 1;
        }
        assert!(files >= 6);
    }

    /// The damage `support/bench/gen-logs.awk` does, and more, to every real line.
    /// `line` damaged in the ways real logs are: prefixes, line ends, other whitespace, edited
    /// keywords, and cut short. `cuts`: `Some(true)` cuts at every character, `Some(false)` at
    /// every boundary between a separator and what follows it (where readers decide), `None`
    /// not at all.
    fn damaged(line: &str, cuts: Option<bool>) -> Vec<String> {
        let mut out = vec![
            format!("[pod/ztunnel-5qpn7/istio-proxy] {line}"),
            format!("\u{feff}{line}\r\n"),
            format!("{line}\r"),
            format!("  {line}\t\n"),
            line.replace(' ', "  "),
            line.replace(' ', "\t"),
            line.replace(' ', "\u{3000}"),
            line.replace('\t', "\u{85}"),
            line.replace('"', ""),
            line.replace('"', "\\\""),
            line.replace('=', "=\""),
            line.replace("Z ", "Z\n"),
            line.replace("info", "trace"),
            line.replace("INFO", "ERROR"),
            line.replace("access", "accesss"),
            line.replace("complete", "completed"),
            line.replace("ztunnel::", "ztunnel:::"),
            line.replace("}:", "} :"),
            line.replace("}:", "}:\n"),
            line.replace("type Direct", "type ToServerWaypoint"),
            line.replace("type Direct", "type ToServerWaypointé"),
            line.replace("type Direct", "type Ωmega"),
            line.replace("outbound", "inbound"),
            line.replace("- -", "\"- -\""),
            line.replace(":15008", ":15009"),
            line.replace("scope", "scopes"),
            line.replace("\"msg\"", "\"message\""),
        ];
        let Some(every_cut) = cuts else {
            return out;
        };
        let separator = |c: char| c.is_whitespace() || "=\":{}[]/,".contains(c);
        let mut previous_was_separator = true;
        let cuts: Vec<usize> = line
            .char_indices()
            .filter(|&(_, c)| {
                let at_boundary = every_cut || separator(c) || previous_was_separator;
                previous_was_separator = separator(c);
                at_boundary
            })
            .map(|(i, _)| i)
            .collect();
        for (n, &at) in cuts.iter().enumerate() {
            out.push(line[..at].to_string());
            if n % 7 == 0 {
                out.push(format!("{}\u{fffd}\u{0}\"\\{}", &line[..at], &line[at..]));
                out.push(format!("{}\n{}", &line[..at], &line[at..]));
            }
        }
        out
    }

    #[test]
    fn damaged_real_lines_read_alike() {
        // Every character a cut for the first line of each format (of each file: istio-cni's
        // lines are no access lines), every separator boundary for the next three, the other
        // damage for all: the same decisions in a fraction of the time.
        let mut seen: std::collections::HashMap<(String, Option<String>), usize> =
            std::collections::HashMap::new();
        let lines = LOGS.iter().flat_map(|f| recorded_lines(f).unwrap());
        for (n, line) in lines.enumerate() {
            let format = crate::logs::parse_access(&line.text).map(|r| format!("{:?}", r.format));
            let count = seen.entry((line.file.clone(), format.ok())).or_insert(0);
            let cuts = match *count {
                0 => Some(true),
                1..=3 => Some(false),
                _ => None,
            };
            *count += 1;
            for d in damaged(&line.text, cuts) {
                agree(n + 1, &d);
            }
        }
    }

    #[test]
    fn damaged_streams_convert_alike() {
        let mut input = Vec::new();
        for line in real_lines() {
            input.extend_from_slice(line.as_bytes());
            input.extend_from_slice(b"\r\n\n");
            let bytes = line.as_bytes();
            input.extend_from_slice(&bytes[..bytes.len() / 2]);
            input.extend_from_slice(b"\xc3\x28\xff");
            input.extend_from_slice(&bytes[bytes.len() / 2..]);
            input.push(b'\n');
        }
        assert_eq!(new_convert(&input), old_convert(&input));
    }

    #[test]
    fn whitespace_is_the_regexes_whitespace() {
        let space = regex::Regex::new(r"^\s$").unwrap();
        for c in (0..=0x10ffff).filter_map(char::from_u32) {
            assert_eq!(
                space.is_match(c.encode_utf8(&mut [0; 4])),
                c.is_whitespace(),
                "{c:?}"
            );
        }
    }

    #[test]
    fn a_waypoint_type_ends_where_the_regexes_word_ends() {
        // Letters, digits, marks and connectors of any script continue a word; the rest end it.
        for c in [
            'a', 'Z', '_', '0', 'é', 'Ω', '\u{300}', '٣', '‿', '-', '.', ' ', '€', '\u{200d}',
        ] {
            agree(
                1,
                &format!(
                    "2023-08-14T09:33:25.226403Z  INFO outbound{{id=9}}: ztunnel::proxy::outbound: \
                     proxy to 10.0.0.1:80 using HBONE via 10.0.0.2:15008 type ToServerWaypoint{c}"
                ),
            );
        }
    }

    /// Cases of the cheaper properties in `cargo test` (a quarter of them for the dearer ones).
    const QUICK_CASES: u32 = 256;

    /// `quick` cases in `cargo test`; `PROPTEST_CASES` (the nightly's 4096) for the long search.
    /// Shrinking runs both paths on every candidate: bounded, so that a failure is reported soon.
    fn config(quick: u32) -> ProptestConfig {
        let cases = match std::env::var_os("PROPTEST_CASES") {
            Some(_) => ProptestConfig::default().cases,
            None => quick,
        };
        ProptestConfig {
            cases,
            failure_persistence: None,
            max_shrink_time: 30_000,
            ..ProptestConfig::default()
        }
    }

    proptest! {
        #![proptest_config(config(QUICK_CASES))]

        #[test]
        fn arbitrary_text_reads_alike(s in any::<String>()) {
            agree(1, &s);
        }


        #[test]
        fn real_lines_cut_and_spliced_read_alike(
            index in any::<prop::sample::Index>(),
            other in any::<prop::sample::Index>(),
            cut in any::<prop::sample::Index>(),
            junk in "[\\PC\t\n\r\"\\\\ =]{0,4}",
        ) {
            let lines = real_lines();
            let line = &lines[index.index(lines.len())];
            let other = &lines[other.index(lines.len())];
            let mut at = cut.index(line.len() + 1);
            while !line.is_char_boundary(at) {
                at -= 1;
            }
            agree(1, &format!("{}{junk}{}", &line[..at], &line[at..]));
            agree(1, &format!("{}{junk}{}", &line[..at], other));
        }
    }

    // These two cost more a case (strings built from a regex, whole streams through both paths).
    proptest! {
        #![proptest_config(config(QUICK_CASES / 4))]

        #[test]
        fn log_shaped_text_reads_alike(s in concat!(
            r#"(\[pod/z\] )?(\[|\{|[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{8,15}Z\]? ?)"#,
            r#"([ \t\n]|\u{a0}|\u{3000}|info|INFO|ERROR|trace|access|connection complete|connection failed|"#,
            r#"ztunnel::proxy::(in|out)bound(_passthrough)?: |inbound|outbound|[a-z_]{1,6}\{[a-z_=. ]{0,12}\}:|"#,
            r#"proxy to |proxying to | using HBONE via | type |ToServerWaypoint| using node local fast path|"#,
            r#"got CONNECT request to |RBAC rejected conn=|->|complete |failed |accepted connection|"#,
            r#"(src|dst)\.(addr|workload|namespace|identity|service|hbone_addr)=|direction=|"#,
            r#"bytes_(sent|recv)=|duration=|error=|dur=|err=|source=|destination=|"#,
            r#""(time|scope|message|msg|level|ns|name)":|"|=|\{|\}|:|,|-|_to_|server_waypoint_proxy_|"#,
            r#"envoy://outbound_tunnel_lis_|outbound_tunnel_clus_|http_|waypoint proxy\)|"#,
            r#"Adding route for |adding pod to the mesh|in pod mode - adding pod | ns=| name=|/|"#,
            r#"[0-9./:-]{1,12}|[a-z]{1,5}|é|\\){0,60}"#,
        )) {
            agree(1, &s);
        }

        #[test]
        fn byte_streams_convert_alike(bytes in prop::collection::vec(
            prop_oneof![Just(b'\n'), Just(b'\r'), Just(b' '), Just(0xff), Just(0xc3), any::<u8>()],
            0..400,
        )) {
            prop_assert_eq!(new_convert(&bytes), old_convert(&bytes));
        }
    }
}
