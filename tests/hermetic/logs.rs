//! Every recorded real log line goes through the readers; the outcome is checked against what the
//! line itself says (independently of the parser's own patterns), then snapshotted whole.

use support::eras::AccessLogFormat;
use support::fixtures::{RecordedLine, recorded_lines};
use support::logs::{Direction, NotAccessLog, NotEnrollment, parse_access, parse_enrollment};

fn lines(file: &str) -> Vec<RecordedLine> {
    let lines = recorded_lines(file).unwrap();
    assert!(
        lines.len() >= 15,
        "{file}: at least 15 real lines, found {}",
        lines.len()
    );
    for l in &lines {
        assert!(
            !l.source.is_empty(),
            "{}:{} has no `# source:`",
            l.file,
            l.line_number
        );
    }
    lines
}

/// All outcomes of one file as JSON lines, for a reviewed snapshot.
fn outcomes(lines: &[RecordedLine], read: impl Fn(&str) -> serde_json::Value) -> String {
    lines
        .iter()
        .map(|l| format!("{}: {}", l.line_number, read(&l.text)))
        .collect::<Vec<_>>()
        .join("\n")
}

fn access_json(line: &str) -> serde_json::Value {
    match parse_access(line) {
        Ok(r) => serde_json::to_value(r).unwrap(),
        Err(e) => serde_json::json!({ "not_access": e }),
    }
}

#[test]
fn envoy_2022_lines_all_read_as_connections() {
    let lines = lines("ztunnel-envoy-2022.log");
    for l in &lines {
        let r = parse_access(&l.text).unwrap_or_else(|e| panic!("line {}: {e}", l.line_number));
        assert_eq!(r.format, AccessLogFormat::EnvoyText);
        assert_eq!(
            format!("[{}]", r.timestamp),
            l.text[..r.timestamp.len() + 2]
        );
        let suffix_says = if l.text.ends_with("- -") {
            None // the waypoint's own log: no listener suffix
        } else if l.text.contains("outbound") && !l.text.ends_with("inbound hcm") {
            Some(Direction::Outbound)
        } else {
            Some(Direction::Inbound)
        };
        assert_eq!(r.direction, suffix_says, "line {}", l.line_number);
        assert!(
            r.bytes_sent.is_some() && r.bytes_recv.is_some(),
            "line {}",
            l.line_number
        );
        let to_waypoint = l.text.ends_with("(to server waypoint proxy)");
        assert_eq!(r.waypoint.is_some(), to_waypoint, "line {}", l.line_number);
    }
    insta::assert_snapshot!(outcomes(&lines, access_json));
}

#[test]
fn the_tutorial_l4_lines_say_what_the_tutorial_says() {
    let lines = lines("ztunnel-envoy-2022.log");
    let inbound = parse_access(&lines[0].text).unwrap();
    assert_eq!(inbound.direction, Some(Direction::Inbound));
    assert_eq!(inbound.dst.addr.as_deref(), Some("10.244.2.4:15008"));
    let outbound = parse_access(&lines[1].text).unwrap();
    assert_eq!(outbound.direction, Some(Direction::Outbound));
    assert_eq!(
        outbound.src.identity.as_deref(),
        Some("spiffe://cluster.local/ns/default/sa/sleep")
    );
    assert_eq!(
        outbound.dst.service.as_deref(),
        Some("productpage.default.svc.cluster.local")
    );
    assert_eq!(outbound.dst.addr.as_deref(), Some("10.244.2.4:9080"));
    assert_eq!(outbound.src.addr.as_deref(), Some("10.244.1.4:51650"));
    assert!(outbound.waypoint.is_none() && outbound.waypoint_known());
    assert_eq!(
        (outbound.bytes_recv, outbound.bytes_sent),
        (Some(84), Some(1839))
    );
}

#[test]
fn the_tutorial_l7_line_names_the_productpage_waypoint() {
    let lines = lines("ztunnel-envoy-2022.log");
    let r = parse_access(&lines[3].text).unwrap();
    assert_eq!(r.direction, Some(Direction::Outbound));
    let w = r.waypoint.expect("went to a waypoint");
    assert_eq!(
        w.identity.as_deref(),
        Some("spiffe://cluster.local/ns/default/sa/bookinfo-productpage")
    );
    assert_eq!(w.addr.as_deref(), Some("10.244.1.11:15006"));
    assert_eq!(
        r.src.identity.as_deref(),
        Some("spiffe://cluster.local/ns/default/sa/sleep")
    );
}

#[test]
fn rust_tracing_lines_read_connections_and_name_the_rest() {
    let lines = lines("ztunnel-tracing-1.18.log");
    for l in &lines {
        let is_connection = [
            "ztunnel::proxy::outbound:",
            "ztunnel::proxy::inbound:",
            "ztunnel::proxy::inbound_passthrough:",
        ]
        .iter()
        .any(|t| l.text.contains(t));
        match parse_access(&l.text) {
            Ok(r) => {
                assert!(is_connection, "line {} read as a connection", l.line_number);
                assert_eq!(r.format, AccessLogFormat::RustTracing);
                assert!(l.text.starts_with(&r.timestamp));
                let says_inbound = l.text.contains("::inbound");
                assert_eq!(
                    r.direction == Some(Direction::Inbound),
                    says_inbound,
                    "line {}",
                    l.line_number
                );
            }
            Err(NotAccessLog::OtherMessage { format, .. }) => {
                assert!(!is_connection, "line {} is a connection", l.line_number);
                assert_eq!(format, AccessLogFormat::RustTracing);
            }
            Err(e) => panic!("line {}: {e}", l.line_number),
        }
    }
    let inbound = parse_access(&lines[2].text).unwrap();
    assert_eq!(
        inbound.src.identity.as_deref(),
        Some("spiffe://cluster.local/ns/ambient-demo/sa/sleep")
    );
    assert_eq!(inbound.src.addr.as_deref(), Some("10.240.2.16"));
    assert_eq!(inbound.dst.addr.as_deref(), Some("10.240.1.11:80"));
    let rbac = parse_access(&lines[8].text).unwrap();
    assert_eq!(rbac.error.as_deref(), Some("RBAC rejected"));
    assert_eq!(rbac.dst.addr.as_deref(), Some("10.240.1.2:80"));
    insta::assert_snapshot!(outcomes(&lines, access_json));
}

#[test]
fn structured_access_lines_read_every_key() {
    let lines = lines("ztunnel-access-1.22.log");
    for l in &lines {
        let is_access = l.text.contains("\taccess\t")
            || l.text.contains(" access ")
            || l.text.contains(" access\t")
            || l.text.contains("\"scope\":\"access\"");
        match parse_access(&l.text) {
            Ok(r) => {
                assert!(is_access, "line {}", l.line_number);
                let direction = if l.text.contains("outbound\"") {
                    Direction::Outbound
                } else {
                    Direction::Inbound
                };
                assert_eq!(r.direction, Some(direction), "line {}", l.line_number);
                assert!(
                    r.src.addr.is_some() && r.dst.addr.is_some(),
                    "line {}",
                    l.line_number
                );
                if l.text.contains("connection complete") {
                    assert!(
                        r.bytes_sent.is_some() && r.duration.is_some(),
                        "line {}",
                        l.line_number
                    );
                }
            }
            Err(NotAccessLog::OtherMessage { .. }) => assert!(!is_access, "line {}", l.line_number),
            Err(e) => panic!("line {}: {e}", l.line_number),
        }
    }
    // 1.22.0–1.22.1 wrote workload, namespace and service bare, 1.22.2+ quotes them.
    for unquoted in &lines[0..2] {
        assert_eq!(
            parse_access(&unquoted.text).unwrap().format,
            AccessLogFormat::IstioAccessUnquoted
        );
    }
    assert_eq!(
        parse_access(&lines[2].text).unwrap().format,
        AccessLogFormat::IstioAccessQuoted
    );
    let json = lines.last().unwrap();
    assert_eq!(
        parse_access(&json.text).unwrap().format,
        AccessLogFormat::IstioAccessJson
    );
    insta::assert_snapshot!(outcomes(&lines, access_json));
}

#[test]
fn a_structured_line_sent_to_a_waypoint_names_it() {
    let lines = lines("ztunnel-access-1.22.log");
    let to_waypoint: Vec<_> = lines
        .iter()
        .filter_map(|l| parse_access(&l.text).ok())
        .filter(|r| r.waypoint.is_some())
        .collect();
    assert_eq!(
        to_waypoint.len(),
        1,
        "only the Envoy Gateway waypoint line: {to_waypoint:#?}"
    );
    let w = to_waypoint[0].waypoint.as_ref().unwrap();
    assert_eq!(
        w.identity.as_deref(),
        Some(
            "spiffe://cluster.local/ns/envoy-gateway-system/sa/envoy-envoy-gateway-system-eg-waypoint-3d55183b"
        )
    );
}

#[test]
fn cni_lines_name_the_enrolled_pod() {
    let lines = lines("istio-cni.log");
    let mut enrolled = 0;
    for l in &lines {
        match parse_enrollment(&l.text) {
            Ok(e) => {
                enrolled += 1;
                // The pod and namespace appear in the line in the era's own order.
                let slash = format!("{}/{}", e.pod, e.namespace);
                let ns_slash = format!("{}/{}", e.namespace, e.pod);
                let kv = format!("ns={} name={}", e.namespace, e.pod);
                assert!(
                    l.text.contains(&slash) || l.text.contains(&ns_slash) || l.text.contains(&kv),
                    "line {}: {e:?}",
                    l.line_number
                );
            }
            Err(NotEnrollment::OtherLine) => {
                assert!(
                    !l.text.contains("Adding route")
                        && !l.text.contains("adding pod to the mesh")
                        && !l.text.contains("in pod mode"),
                    "line {} is an enrollment",
                    l.line_number
                );
            }
            Err(NotEnrollment::Empty) => panic!("line {} is empty", l.line_number),
        }
    }
    // 20 route / in-pod / to-the-mesh lines; the blog's two `to ipset` lines are not among them.
    assert_eq!(enrolled, 20);
    assert_eq!(
        lines.iter().filter(|l| l.text.contains("to ipset")).count(),
        2
    );
    let tutorial = parse_enrollment(&lines[0].text).unwrap();
    assert_eq!(
        (tutorial.pod.as_str(), tutorial.namespace.as_str()),
        ("productpage-v1-7c548b785b-thqvj", "default")
    );
    let in_pod = lines
        .iter()
        .find(|l| l.text.contains("in pod mode"))
        .unwrap();
    let e = parse_enrollment(&in_pod.text).unwrap();
    assert_eq!(
        (e.pod.as_str(), e.namespace.as_str()),
        ("httpbin-5bd875fbdd-84vs8", "ambient-demo")
    );
    insta::assert_snapshot!(outcomes(&lines, |t| match parse_enrollment(t) {
        Ok(e) => serde_json::to_value(e).unwrap(),
        Err(e) => serde_json::json!({ "not_enrollment": e }),
    }));
}

#[test]
fn an_outbound_line_of_1_22_says_whether_a_waypoint_was_on_the_path_and_an_inbound_one_does_not() {
    let records = records("ztunnel-access-1.22.log");
    let direct = records
        .iter()
        .find(|r| r.direction == Some(Direction::Outbound) && r.waypoint.is_none())
        .expect("a direct outbound line of 1.22");
    assert!(direct.dst.addr.is_some());
    assert!(direct.waypoint_known());
    // Near misses: the same line inbound, or without its destination, tells nothing of a
    // waypoint.
    let mut inbound = direct.clone();
    inbound.direction = Some(Direction::Inbound);
    assert!(!inbound.waypoint_known());
    let mut nowhere = direct.clone();
    nowhere.dst.addr = None;
    assert!(!nowhere.waypoint_known());
}

#[test]
fn a_1_18_outbound_line_says_whether_a_waypoint_was_on_the_path_by_its_event() {
    let records = records("ztunnel-tracing-1.18.log");
    for event in ["proxy to", "proxying to"] {
        let direct = records
            .iter()
            .find(|r| r.event == event && r.waypoint.is_none())
            .unwrap_or_else(|| panic!("a 1.18 `{event}` line without a waypoint"));
        assert!(direct.waypoint_known(), "{event}");
        // Near miss: another event of the same line says nothing of a waypoint.
        let mut other = direct.clone();
        other.event = "got CONNECT request".into();
        assert!(!other.waypoint_known(), "{event}");
    }
}

/// The connections a recorded file's readable lines log.
fn records(file: &str) -> Vec<support::logs::AccessRecord> {
    lines(file)
        .iter()
        .filter_map(|l| parse_access(&l.text).ok())
        .collect()
}
