//! ztunnel connection lines of every era, read into one [`AccessRecord`].
//!
//! Formats (see [`AccessLogFormat`] for their sources): the 2022 Envoy text access log, the
//! Rust ztunnel's tracing lines of 1.18 – 1.21, and the structured `access` lines of 1.22+
//! (tab-separated text, or JSON with `--log_as_json`).

use std::fmt;
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

use super::fields::{envoy_tokens, is_timestamp, key_values};
pub use crate::eras::AccessLogFormat;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Inbound,
    Outbound,
}

/// One side of a connection; every field is optional because no format has them all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Endpoint {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workload: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
}

/// The waypoint a connection was sent to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Waypoint {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workload: Option<String>,
}

/// A connection as ztunnel logged it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessRecord {
    pub format: AccessLogFormat,
    pub timestamp: String,
    /// What the line says happened: `connection complete`, `capture outbound (no waypoint
    /// proxy)`, `proxy to`, ...
    pub event: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direction: Option<Direction>,
    pub src: Endpoint,
    pub dst: Endpoint,
    /// `Some` when the line shows the connection going to a waypoint; `None` when it shows it
    /// did not or cannot tell (see [`AccessRecord::waypoint_known`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waypoint: Option<Waypoint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_sent: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_recv: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl AccessRecord {
    /// Whether this line tells if a waypoint was on the path (an outbound line that says so).
    pub fn waypoint_known(&self) -> bool {
        self.waypoint.is_some()
            || self.event.contains("(no waypoint proxy)")
            || self.event.starts_with("proxy to")
            || self.event == "proxying to"
            || (matches!(
                self.format,
                AccessLogFormat::IstioAccessQuoted
                    | AccessLogFormat::IstioAccessUnquoted
                    | AccessLogFormat::IstioAccessJson
            ) && self.direction == Some(Direction::Outbound)
                && self.dst.addr.is_some())
    }
}

/// Why a line is not a ztunnel connection record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NotAccessLog {
    #[error("empty line")]
    Empty,
    #[error("not in any ztunnel log format")]
    UnknownFormat,
    /// A well-formed ztunnel line that reports something other than a connection.
    #[error("a ztunnel {format:?} line, but not a connection: {message}")]
    OtherMessage {
        format: AccessLogFormat,
        message: String,
    },
}

/// Reads one ztunnel log line.
pub fn parse_access(line: &str) -> Result<AccessRecord, NotAccessLog> {
    let line = super::strip_kubectl_prefix(line).trim();
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
mod envoy {
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
    if t.len() < envoy::LISTENER {
        return Err(NotAccessLog::UnknownFormat);
    }
    let number = |i: usize| t[i].parse::<u64>().ok();
    let value = |i: usize| Some(t[i].clone()).filter(|v| v != "-" && !v.is_empty());
    let listener = t[envoy::LISTENER..].join(" ");
    let direction = if listener.contains("outbound") {
        Some(Direction::Outbound)
    } else if listener.contains("inbound") {
        Some(Direction::Inbound)
    } else {
        None
    };
    let cluster = value(envoy::UPSTREAM_CLUSTER).unwrap_or_default();
    let upstream_host = value(envoy::UPSTREAM_HOST).unwrap_or_default();

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
                addr: value(envoy::UPSTREAM_HOST),
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
        dst.addr = value(envoy::UPSTREAM_HOST);
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
            src.addr = value(envoy::DOWNSTREAM_REMOTE);
            // `inbound hcm` names the workload address it forwarded to; `capture inbound
            // listener` only the tunnel port it accepted on.
            let forwarded_to = value(envoy::UPSTREAM_HOST).filter(|h| !h.starts_with("envoy://"));
            dst.addr = dst
                .addr
                .take()
                .or(forwarded_to)
                .or_else(|| value(envoy::DOWNSTREAM_LOCAL));
        }
        _ => {
            src.addr = value(envoy::DOWNSTREAM_REMOTE).filter(|a| !a.starts_with("envoy://"));
            if dst.addr.is_none() {
                dst.addr = value(envoy::DOWNSTREAM_LOCAL).filter(|a| !a.starts_with("envoy://"));
            }
        }
    }
    if listener.contains("waypoint proxy)")
        && !listener.contains("(no waypoint proxy)")
        && waypoint.is_none()
    {
        waypoint = Some(Waypoint {
            identity: None,
            addr: value(envoy::UPSTREAM_HOST),
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
        bytes_sent: number(envoy::BYTES_SENT),
        bytes_recv: number(envoy::BYTES_RECEIVED),
        duration: value(envoy::DURATION).map(|ms| format!("{ms}ms")),
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

impl fmt::Display for AccessRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = |e: &Endpoint| {
            e.workload
                .clone()
                .or_else(|| e.identity.clone())
                .or_else(|| e.service.clone())
                .or_else(|| e.addr.clone())
                .unwrap_or_else(|| "?".to_string())
        };
        let dir = match self.direction {
            Some(Direction::Inbound) => "inbound",
            Some(Direction::Outbound) => "outbound",
            None => "?",
        };
        write!(
            f,
            "{dir} {} -> {} ({})",
            side(&self.src),
            side(&self.dst),
            self.event
        )?;
        if let Some(w) = &self.waypoint {
            write!(
                f,
                " via waypoint {}",
                w.identity.as_deref().or(w.addr.as_deref()).unwrap_or("?")
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_garbage_are_typed() {
        assert_eq!(parse_access(""), Err(NotAccessLog::Empty));
        assert_eq!(parse_access("   \r\n"), Err(NotAccessLog::Empty));
        assert_eq!(
            parse_access("hello world"),
            Err(NotAccessLog::UnknownFormat)
        );
        assert_eq!(
            parse_access("[not a time] x"),
            Err(NotAccessLog::UnknownFormat)
        );
        assert_eq!(
            parse_access("{\"level\":1}"),
            Err(NotAccessLog::UnknownFormat)
        );
    }

    #[test]
    fn kubectl_prefix_is_ignored() {
        let line = "[pod/ztunnel-5qpn7/istio-proxy] 2024-07-23T14:21:03.450051Z\tinfo\taccess\tconnection complete\tsrc.addr=10.12.0.8:37522 direction=\"outbound\"";
        let r = parse_access(line).unwrap();
        assert_eq!(r.src.addr.as_deref(), Some("10.12.0.8:37522"));
        assert_eq!(r.direction, Some(Direction::Outbound));
    }
}
