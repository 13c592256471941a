//! The 2022 Envoy-based ztunnel: Envoy's text access log with the listener name appended.

use std::borrow::Cow;

use super::{AccessLogFormat, AccessView, Direction, EndpointView, NotAccessView, WaypointView};
use crate::logs::fields::{EnvoyTokens, contains_short, envoy_tokens, find_short, is_timestamp};

/// Field positions of EnvoyTextLogFormat after `[%START_TIME%]` (EXP ztunnelgen.go).
mod at {
    pub const RESPONSE_CODE: usize = 1;
    pub const RESPONSE_FLAGS: usize = 2;
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

/// `[<timestamp>] <fields> <listener name>`.
pub(super) fn read(line: &str) -> Result<AccessView<'_>, NotAccessView<'_>> {
    // The first `] ` (the timestamp is short: no substring search set up for it).
    let b = line.as_bytes();
    let end = (0..b.len())
        .find(|&i| b[i] == b']' && b.get(i + 1) == Some(&b' '))
        .ok_or(NotAccessView::UnknownFormat)?;
    let timestamp = &line[1..end];
    if !is_timestamp(timestamp) {
        return Err(NotAccessView::UnknownFormat);
    }
    let mut tokens = envoy_tokens(&line[end + 2..]);
    let mut t = [""; at::LISTENER];
    for slot in &mut t {
        *slot = tokens.next().ok_or(NotAccessView::UnknownFormat)?.text;
    }
    let listener = joined(tokens);
    let value = |i: usize| Some(t[i]).filter(|v| *v != "-" && !v.is_empty());
    let says = |what: &str| contains_short(&listener, what);
    let direction = if says("outbound") {
        Some(Direction::Outbound)
    } else if says("inbound") {
        Some(Direction::Inbound)
    } else {
        None
    };
    let (src, dst, mut waypoint) = endpoints(&t, direction);
    if says("waypoint proxy)") && !says("(no waypoint proxy)") && waypoint.is_none() {
        waypoint = Some(WaypointView {
            addr: value(at::UPSTREAM_HOST).map(Cow::Borrowed),
            ..WaypointView::default()
        });
    }
    let (code, flags) = (t[at::RESPONSE_CODE], t[at::RESPONSE_FLAGS]);
    let error = (flags != "-" && !flags.is_empty())
        .then(|| Cow::Owned(format!("response flags {flags} (code {code})")));
    let number = |i: usize| t[i].parse::<u64>().ok();
    Ok(AccessView {
        event: if listener.is_empty() {
            Cow::Borrowed("envoy access log")
        } else {
            listener
        },
        direction,
        src,
        dst,
        waypoint,
        bytes_sent: number(at::BYTES_SENT),
        bytes_recv: number(at::BYTES_RECEIVED),
        duration: value(at::DURATION).map(|ms| Cow::Owned(format!("{ms}ms"))),
        error,
        ..AccessView::new(AccessLogFormat::EnvoyText, timestamp)
    })
}

/// The remaining tokens joined by single spaces: borrowed when the line has them so.
fn joined(tokens: EnvoyTokens<'_>) -> Cow<'_, str> {
    let text = tokens.text();
    let mut words = tokens.clone();
    let Some(first) = words.next() else {
        return Cow::Borrowed("");
    };
    let mut end = first.end;
    let mut as_written = !first.quoted;
    for w in words {
        as_written &= !w.quoted && w.start == end + 1 && text.as_bytes()[end] == b' ';
        end = w.end;
    }
    if as_written {
        return Cow::Borrowed(&text[first.start..end]);
    }
    let mut out = String::new();
    for (i, w) in tokens.enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(w.text);
    }
    Cow::Owned(out)
}

/// Source, destination and waypoint as the cluster, upstream host and listener tell them.
fn endpoints<'a>(
    t: &[&'a str; at::LISTENER],
    direction: Option<Direction>,
) -> (EndpointView<'a>, EndpointView<'a>, Option<WaypointView<'a>>) {
    let value = |i: usize| Some(t[i]).filter(|v| *v != "-" && !v.is_empty());
    let cluster = value(at::UPSTREAM_CLUSTER).unwrap_or_default();
    let upstream_host = value(at::UPSTREAM_HOST).unwrap_or_default();
    let mut src = EndpointView::default();
    let mut dst = EndpointView::default();
    // Cluster names carry the client identity: `<spiffe>_to_http_<svc>_outbound_internal`,
    // `<spiffe>_to_server_waypoint_proxy_<spiffe>`, `outbound_tunnel_clus_<spiffe>`.
    let mut waypoint = None;
    if let Some(at) = find_short(cluster, "_to_") {
        let (client, rest) = (&cluster[..at], &cluster[at + "_to_".len()..]);
        src.identity = Some(client)
            .filter(|c| c.starts_with("spiffe://"))
            .map(Cow::Borrowed);
        if let Some(server) = rest.strip_prefix("server_waypoint_proxy_") {
            waypoint = Some(WaypointView {
                identity: Some(Cow::Borrowed(server)),
                addr: value(at::UPSTREAM_HOST).map(Cow::Borrowed),
                workload: None,
            });
        } else if let Some(svc) = rest
            .strip_prefix("http_")
            .or_else(|| rest.strip_prefix("tcp_"))
        {
            let mut svc = svc;
            while let Some(shorter) = svc.strip_suffix("_outbound_internal") {
                svc = shorter;
            }
            dst.service = Some(Cow::Borrowed(svc));
        }
    } else if let Some(client) = cluster.strip_prefix("outbound_tunnel_clus_") {
        src.identity = Some(Cow::Borrowed(client));
        dst.addr = value(at::UPSTREAM_HOST).map(Cow::Borrowed);
    }
    // `envoy://outbound_tunnel_lis_<spiffe>/<pod ip:port>`: the endpoint chosen for the service.
    if let Some(rest) = upstream_host.strip_prefix("envoy://outbound_tunnel_lis_")
        && let Some((identity, endpoint)) = rest.rsplit_once('/')
    {
        src.identity.get_or_insert(Cow::Borrowed(identity));
        dst.addr = Some(Cow::Borrowed(endpoint));
    }
    let not_internal = |a: &&str| !a.starts_with("envoy://");
    match direction {
        Some(Direction::Inbound) => {
            src.addr = value(at::DOWNSTREAM_REMOTE).map(Cow::Borrowed);
            // `inbound hcm` names the workload address it forwarded to; `capture inbound
            // listener` only the tunnel port it accepted on.
            let forwarded_to = value(at::UPSTREAM_HOST).filter(not_internal);
            dst.addr = dst
                .addr
                .take()
                .or(forwarded_to.map(Cow::Borrowed))
                .or_else(|| value(at::DOWNSTREAM_LOCAL).map(Cow::Borrowed));
        }
        _ => {
            src.addr = value(at::DOWNSTREAM_REMOTE)
                .filter(not_internal)
                .map(Cow::Borrowed);
            if dst.addr.is_none() {
                dst.addr = value(at::DOWNSTREAM_LOCAL)
                    .filter(not_internal)
                    .map(Cow::Borrowed);
            }
        }
    }
    (src, dst, waypoint)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tutorial's L4 inbound line.
    const INBOUND: &str = "[2022-11-29T19:43:56.477Z] \"- - HTTP/2\" 0 - - - \"-\" 241 1968 91918 - \"-\" \"-\" \"-\" \"-\" \"-\" - - 10.244.2.4:15008 10.244.1.2:39660 - - capture inbound listener";

    #[test]
    fn response_flags_are_an_error_and_a_dash_is_no_value() {
        let r = crate::logs::parse_access(INBOUND).unwrap();
        assert_eq!((r.error, r.duration.as_deref()), (None, Some("91918ms")));
        let failed = INBOUND.replacen("0 - - -", "0 UF - -", 1);
        let r = crate::logs::parse_access(&failed).unwrap();
        assert_eq!(r.error.as_deref(), Some("response flags UF (code 0)"));
        let no_duration = INBOUND.replacen(" 91918 ", " - ", 1);
        assert_eq!(
            crate::logs::parse_access(&no_duration).unwrap().duration,
            None
        );
    }

    #[test]
    fn the_rest_of_a_line_is_borrowed_where_written_one_space_apart() {
        let event = "capture outbound (no waypoint proxy)";
        assert!(matches!(joined(envoy_tokens(event)), Cow::Borrowed(e) if e == event));
        // Near misses: two spaces, a quoted token first or inside: the words joined by single
        // spaces, copied.
        for (text, words) in [
            ("capture  inbound", "capture inbound"),
            ("a \"b c\" d", "a b c d"),
            ("\"a\" b", "a b"),
        ] {
            assert!(
                matches!(joined(envoy_tokens(text)), Cow::Owned(w) if w == words),
                "{text}"
            );
        }
        assert_eq!(joined(envoy_tokens("  ")), "");
    }
}
