//! Each judge against its near-miss, on real recorded data: a line or object that differs from
//! one that holds in exactly the thing the tutorial's statement is about must fail. Where no real
//! near-miss was recorded, the real line that holds is edited in that one field, and the test says
//! so.

use support::claims::Verdict;
use support::fixtures::{self, recorded_lines};
use support::judge::{self, DeclarationOutcome, From, IngressGatewayParts, Traffic};
use support::judge::{WaypointExpectation, acted_on, conditions_of};
use support::logs::{AccessRecord, parse_access};

fn line(file: &str, timestamp: &str) -> String {
    recorded_lines(file)
        .unwrap()
        .into_iter()
        .find(|l| l.text.starts_with(timestamp))
        .unwrap_or_else(|| panic!("no line at {timestamp} in {file}"))
        .text
}

fn parsed(text: &str) -> Vec<AccessRecord> {
    vec![parse_access(text).unwrap()]
}

fn fails(v: &Verdict) -> String {
    match v {
        Verdict::Drifted { actual, .. } => actual.clone(),
        other => panic!("expected a drift, got {other:?}"),
    }
}

/// curl -> productpage in namespace bookinfo, as in the recorded 2025-06-30 walkthrough.
fn curl_to_productpage() -> Traffic {
    Traffic {
        client_sa: "curl".into(),
        service_host: "productpage.bookinfo.svc.cluster.local".into(),
        server_ips: vec!["10.42.0.17".into()],
        ..Traffic::default()
    }
}

/// A real refused line made a completed one: level `info`, no `error=` (the one difference).
fn without_error(text: &str) -> String {
    let (kept, _) = text.split_once(" error=\"").unwrap();
    kept.replacen("error   access", "info    access", 1)
}

#[test]
fn a_line_with_an_error_is_not_the_tutorials_connection() {
    let errors = "ztunnel-access-errors.log";
    // Outbound with `error="http status: 401 Unauthorized"`.
    let out = line(errors, "2025-06-30T06:41:34.685787Z");
    let verdict = judge::outbound_logged(&parsed(&out), &curl_to_productpage()).0;
    assert!(
        fails(&verdict).contains("error http status: 401"),
        "{verdict:?}"
    );
    assert_eq!(
        judge::outbound_logged(&parsed(&without_error(&out)), &curl_to_productpage()).0,
        Verdict::Holds
    );
    // Inbound refused by policy.
    let inbound = line(errors, "2025-06-30T06:41:34.685667Z");
    let t = curl_to_productpage();
    assert!(
        judge::inbound_logged(&parsed(&inbound), &t, From::Client)
            .0
            .is_failure()
    );
    assert_eq!(
        judge::inbound_logged(&parsed(&without_error(&inbound)), &t, From::Client).0,
        Verdict::Holds
    );
}

#[test]
fn connection_opened_is_not_connection_complete() {
    // The real 2026-08-19 pair: `connection opened`, then `connection complete`.
    let file = "ztunnel-access-1.22.log";
    let t = Traffic {
        client_sa: "ztunnel-diag".into(),
        service_host: "kubernetes.default.svc.cluster.local".into(),
        client_ips: vec!["10.244.0.7".into()],
        ..Traffic::default()
    };
    let opened = line(file, "2026-08-19T22:32:58.367972Z");
    let complete = line(file, "2026-08-19T22:33:05.939619Z");
    assert!(judge::outbound_logged(&parsed(&opened), &t).0.is_failure());
    assert_eq!(
        judge::outbound_logged(&parsed(&complete), &t).0,
        Verdict::Holds
    );
}

#[test]
fn an_inbound_line_from_another_source_is_not_from_the_client() {
    // The 2024-11-16 line: the Bookinfo gateway -> productpage, inbound.
    let text = line("ztunnel-access-1.22.log", "2024-11-16T10:33:01.410751Z");
    let to_productpage = |client: &str| Traffic {
        client_sa: client.into(),
        service_host: "productpage.default.svc.cluster.local".into(),
        server_ips: vec!["10.28.2.18".into()],
        ..Traffic::default()
    };
    let from_gateway = judge::inbound_logged(
        &parsed(&text),
        &to_productpage("bookinfo-gateway-istio"),
        From::Client,
    );
    assert_eq!(from_gateway.0, Verdict::Holds);
    let from_sleep = judge::inbound_logged(&parsed(&text), &to_productpage("sleep"), From::Client);
    assert!(fails(&from_sleep.0).contains("bookinfo-gateway-istio"));
    // A workload whose name only starts with the client's is not the client: `sleep-waypoint`
    // is not `sleep` (the real line with its source renamed, identity and address elsewhere).
    let renamed = text
        .replace(
            "src.workload=\"bookinfo-gateway-istio-64fc6d75d6-s442s\"",
            "src.workload=\"sleep-waypoint-64fc6d75d6-s442s\"",
        )
        .replace("sa/bookinfo-gateway-istio\"", "sa/sleep-waypoint\"");
    assert!(
        judge::inbound_logged(&parsed(&renamed), &to_productpage("sleep"), From::Client)
            .0
            .is_failure()
    );
    let renamed_to_sleep = renamed.replace("sleep-waypoint-64fc6d75d6", "sleep-64fc6d75d6");
    assert_eq!(
        judge::inbound_logged(
            &parsed(&renamed_to_sleep),
            &to_productpage("sleep"),
            From::Client
        )
        .0,
        Verdict::Holds
    );
}

#[test]
fn traffic_that_bypasses_the_waypoint_is_not_l7_traffic() {
    // The PR 1500 line: inbound to httpbin *from its waypoint* (simple-http-waypoint).
    let text = line("ztunnel-access-1.22.log", "2025-04-01T14:01:02.476412Z");
    let waypoint = WaypointExpectation {
        identity: Some("spiffe://cluster.local/ns/default/sa/simple-http-waypoint".into()),
        deployment: Some("simple-http-waypoint".into()),
        ..WaypointExpectation::default()
    };
    let t = Traffic {
        client_sa: "curl".into(),
        service_host: "httpbin.default.svc.cluster.local".into(),
        server_ips: vec!["10.244.3.8".into()],
        waypoint: Some(waypoint.clone()),
        ..Traffic::default()
    };
    assert_eq!(
        judge::inbound_logged(&parsed(&text), &t, From::Waypoint).0,
        Verdict::Holds
    );
    // istio.io's troubleshooting line: curl straight to productpage, no waypoint on the path.
    let direct = line("ztunnel-access-1.22.log", "2024-05-04T09:59:05.028709Z");
    let to_productpage = Traffic {
        client_sa: "curl".into(),
        service_host: "productpage.default.svc.cluster.local".into(),
        server_ips: vec!["10.244.1.10".into()],
        waypoint: Some(waypoint),
        ..Traffic::default()
    };
    let bypassed = judge::inbound_logged(&parsed(&direct), &to_productpage, From::Waypoint);
    assert!(fails(&bypassed.0).contains("curl"), "{bypassed:?}");
    // The client's own outbound line, direct to productpage, is no line to the waypoint either.
    let direct_out = line("ztunnel-access-1.22.log", "2024-05-04T09:59:05.028771Z");
    assert!(
        judge::outbound_logged(&parsed(&direct_out), &to_productpage)
            .0
            .is_failure()
    );
}

#[test]
fn an_outbound_line_of_another_client_is_not_the_clients_even_with_its_source_cut_short() {
    // istio.io's troubleshooting line is curl's; the tutorial's client is sleep. Only the
    // 1.18 - 1.21 tracing lines, which name no source at all, are tied to the client by the
    // window the suite read; a structured line with some source fields missing is not.
    let curls = line("ztunnel-access-1.22.log", "2024-05-04T09:59:05.028771Z");
    let sleep = Traffic {
        client_sa: "sleep".into(),
        client_ips: vec!["10.244.2.7".into()],
        service_host: "productpage.default.svc.cluster.local".into(),
        server_ips: vec!["10.244.1.10".into()],
        ..Traffic::default()
    };
    let as_curl = Traffic {
        client_sa: "curl".into(),
        ..sleep.clone()
    };
    assert_eq!(
        judge::outbound_logged(&parsed(&curls), &as_curl).0,
        Verdict::Holds
    );
    let without = |text: &str, field: &str| {
        let at = text.find(&format!(" {field}=")).unwrap();
        let end = text[at + 1..].find(' ').map_or(text.len(), |e| at + 1 + e);
        format!("{}{}", &text[..at], &text[end..])
    };
    let no_workload = without(&curls, "src.workload");
    let no_workload_addr = without(&no_workload, "src.addr");
    let no_source = without(&no_workload_addr, "src.identity");
    for text in [&curls, &no_workload, &no_workload_addr, &no_source] {
        assert!(
            judge::outbound_logged(&parsed(text), &sleep).0.is_failure(),
            "taken for sleep's: {text}"
        );
    }
    // A 1.18 tracing line (no source) within the suite's window is the client's.
    let tracing = line("ztunnel-tracing-1.18.log", "2023-08-14T09:33:25.226403Z");
    let to_reviews = Traffic {
        service_host: "reviews.default.svc.cluster.local".into(),
        server_ips: vec!["10.240.1.11".into()],
        ..sleep.clone()
    };
    assert_eq!(
        judge::outbound_logged(&parsed(&tracing), &to_reviews).0,
        Verdict::Holds
    );
}

#[test]
fn a_waypoint_is_known_by_its_identity_its_deployment_or_its_address() {
    // The PR 1500 line: inbound to httpbin from its waypoint.
    let text = line("ztunnel-access-1.22.log", "2025-04-01T14:01:02.476412Z");
    let through = |waypoint: WaypointExpectation| Traffic {
        client_sa: "curl".into(),
        service_host: "httpbin.default.svc.cluster.local".into(),
        server_ips: vec!["10.244.3.8".into()],
        waypoint: Some(waypoint),
        ..Traffic::default()
    };
    let identity = "spiffe://cluster.local/ns/default/sa/simple-http-waypoint";
    for (by, waypoint) in [
        (
            "identity",
            WaypointExpectation {
                identity: Some(identity.into()),
                ..WaypointExpectation::default()
            },
        ),
        (
            "deployment",
            WaypointExpectation {
                deployment: Some("simple-http-waypoint".into()),
                ..WaypointExpectation::default()
            },
        ),
        (
            "address",
            WaypointExpectation {
                pod_ips: vec!["10.244.3.9".into()],
                ..WaypointExpectation::default()
            },
        ),
    ] {
        assert_eq!(
            judge::inbound_logged(&parsed(&text), &through(waypoint), From::Waypoint).0,
            Verdict::Holds,
            "by {by}"
        );
    }
    // Another waypoint, on every count.
    let other = WaypointExpectation {
        identity: Some("spiffe://cluster.local/ns/default/sa/waypoint".into()),
        deployment: Some("waypoint".into()),
        pod_ips: vec!["10.244.3.99".into()],
    };
    assert!(
        judge::inbound_logged(&parsed(&text), &through(other), From::Waypoint)
            .0
            .is_failure()
    );
}

#[test]
fn an_outbound_line_to_another_waypoint_is_not_through_the_expected_one() {
    let expect = |identity: Option<&str>, pod_ips: &[&str]| WaypointExpectation {
        identity: identity.map(str::to_string),
        pod_ips: pod_ips.iter().map(|s| s.to_string()).collect(),
        deployment: None,
    };
    // 2022: the cluster name says `to_server_waypoint_proxy_<identity>`; the address dialled is
    // the service's, so only the record's waypoint can tell.
    let envoy = line("ztunnel-envoy-2022.log", "[2022-11-29T20:18:40.046Z]");
    let productpage_waypoint = "spiffe://cluster.local/ns/default/sa/bookinfo-productpage";
    let via = |waypoint: WaypointExpectation| Traffic {
        client_sa: "sleep".into(),
        service_host: "productpage.default.svc.cluster.local".into(),
        waypoint: Some(waypoint),
        ..Traffic::default()
    };
    let judged = |text: &str, t: Traffic| judge::outbound_logged(&parsed(text), &t).0;
    assert_eq!(
        judged(&envoy, via(expect(Some(productpage_waypoint), &[]))),
        Verdict::Holds
    );
    assert_eq!(
        judged(&envoy, via(expect(None, &["10.244.1.11"]))),
        Verdict::Holds
    );
    for other in [
        expect(Some("spiffe://cluster.local/ns/default/sa/waypoint"), &[]),
        expect(None, &["10.244.1.99"]),
        expect(None, &[]),
    ] {
        assert!(judged(&envoy, via(other.clone())).is_failure(), "{other:?}");
    }
    // 1.22+: the 2025-04-09 line to an Envoy Gateway waypoint. Without `dst.hbone_addr` nothing
    // marks the record as sent to a waypoint; its destination (identity or address) still is one.
    let structured = line("ztunnel-access-1.22.log", "2025-04-09T11:44:45.641989Z");
    let no_hbone = {
        let at = structured.find("dst.hbone_addr=").unwrap();
        let end = at + structured[at..].find(char::is_whitespace).unwrap() + 1;
        format!("{}{}", &structured[..at], &structured[end..])
    };
    let eg = "spiffe://cluster.local/ns/envoy-gateway-system/sa/envoy-envoy-gateway-system-eg-waypoint-3d55183b";
    let via_eg = |waypoint: WaypointExpectation| Traffic {
        client_sa: "default".into(),
        service_host: "backend.envoy-gateway-system.svc.cluster.local".into(),
        waypoint: Some(waypoint),
        ..Traffic::default()
    };
    for text in [&structured, &no_hbone] {
        assert_eq!(judged(text, via_eg(expect(Some(eg), &[]))), Verdict::Holds);
        assert_eq!(
            judged(text, via_eg(expect(None, &["10.244.0.14"]))),
            Verdict::Holds
        );
        assert!(
            judged(
                text,
                via_eg(expect(Some(productpage_waypoint), &["10.244.0.99"]))
            )
            .is_failure()
        );
    }
}

#[test]
fn the_line_the_tutorial_shows_is_the_one_taken_and_a_missing_one_names_its_source() {
    // Two 2022 inbound lines that both show the connection: Envoy's `inbound hcm` and the
    // `capture inbound listener` line the tutorial prints. The snapshot takes the latter.
    let hcm = line("ztunnel-envoy-2022.log", "[2022-09-10T10:18:23.497Z]");
    let capture = line("ztunnel-envoy-2022.log", "[2022-11-29T19:43:56.477Z]");
    let records = vec![parse_access(&hcm).unwrap(), parse_access(&capture).unwrap()];
    let t = Traffic {
        client_sa: "sleep".into(),
        client_ips: vec!["10.244.1.3".into(), "10.244.1.2".into()],
        service_host: "productpage.default.svc.cluster.local".into(),
        server_ips: vec!["10.244.2.9".into(), "10.244.2.4".into()],
        ..Traffic::default()
    };
    assert_eq!(
        judge::inbound_logged(&records[..1], &t, From::Client),
        (Verdict::Holds, Some(0))
    );
    assert_eq!(
        judge::inbound_logged(&records, &t, From::Client),
        (Verdict::Holds, Some(1))
    );
    // Expected from the waypoint, the failure says so (not "from sleep").
    let waypoint = WaypointExpectation {
        identity: Some("spiffe://cluster.local/ns/default/sa/waypoint".into()),
        ..WaypointExpectation::default()
    };
    let l7 = Traffic {
        waypoint: Some(waypoint),
        ..t
    };
    let Verdict::Drifted { expected, .. } = judge::inbound_logged(&records, &l7, From::Waypoint).0
    else {
        panic!("no line comes from the waypoint")
    };
    assert!(
        expected.starts_with("a completed inbound line from the waypoint (spiffe://cluster.local/ns/default/sa/waypoint)"),
        "{expected}"
    );
}

#[test]
fn an_edge_from_the_client_to_another_service_is_not_to_productpage() {
    let graph = |edges: &[(&str, &str)]| {
        let edges: Vec<serde_json::Value> = edges
            .iter()
            .map(|(s, t)| serde_json::json!({ "data": { "source": s, "target": t } }))
            .collect();
        serde_json::json!({ "elements": {
            "nodes": [
                { "data": { "id": "n1", "app": "sleep", "workload": "sleep" } },
                { "data": { "id": "n2", "app": "productpage", "workload": "productpage-v1" } },
                { "data": { "id": "n3", "app": "details", "workload": "details-v1" } },
            ],
            "edges": edges,
        }})
    };
    assert_eq!(
        judge::graph_edge(&graph(&[("n1", "n2")]), "sleep", "productpage"),
        Verdict::Holds
    );
    for edges in [vec![("n1", "n3"), ("n2", "n3")], vec![("n2", "n1")], vec![]] {
        assert!(
            judge::graph_edge(&graph(&edges), "sleep", "productpage").is_failure(),
            "{edges:?}"
        );
    }
}

#[test]
fn the_waypoint_pod_is_not_the_productpage_pod() {
    // The 2024-11-16 inbound line with its destination renamed to the waypoint's pod and moved
    // to another address: `productpage-waypoint` only starts like productpage.
    let text = line("ztunnel-access-1.22.log", "2024-11-16T10:33:01.410751Z");
    let t = Traffic {
        client_sa: "bookinfo-gateway-istio".into(),
        service_host: "productpage.default.svc.cluster.local".into(),
        server_ips: vec!["10.28.2.18".into()],
        ..Traffic::default()
    };
    let to_waypoint = text
        .replace(
            "dst.workload=\"productpage-v1-57ffb6658c-tgbjs\"",
            "dst.workload=\"productpage-waypoint-57ffb6658c-tgbjs\"",
        )
        .replace("dst.addr=10.28.2.18:15008", "dst.addr=10.28.2.99:15008");
    assert!(
        judge::inbound_logged(&parsed(&to_waypoint), &t, From::Client)
            .0
            .is_failure()
    );
    let moved_only = text.replace("dst.addr=10.28.2.18:15008", "dst.addr=10.28.2.99:15008");
    assert_eq!(
        judge::inbound_logged(&parsed(&moved_only), &t, From::Client).0,
        Verdict::Holds,
        "productpage-v1 by its workload name"
    );
    assert!(judge::is_service_workload("productpage-v1", "productpage"));
    assert!(judge::is_service_workload("productpage", "productpage"));
    assert!(!judge::is_service_workload(
        "productpage-waypoint",
        "productpage"
    ));
    assert!(!judge::is_service_workload("productpage-v", "productpage"));
    assert!(!judge::is_service_workload("productpagex", "productpage"));
    assert!(!judge::is_service_workload("anything", ""));
}

#[test]
fn a_graph_node_named_like_productpage_is_not_productpage() {
    // Kiali's own expected response, with two nodes renamed: productpage-v1 plays sleep and the
    // waypoint is `productpage-waypoint`. Its edge sleep -> productpage-waypoint is no edge
    // sleep -> productpage.
    let raw = fixtures::read("recorded/kiali-graph-ambient.json").unwrap();
    let renamed = |waypoint: &str| -> serde_json::Value {
        let mut g: serde_json::Value = serde_json::from_str(&raw).unwrap();
        for n in g["elements"]["nodes"].as_array_mut().unwrap() {
            let d = &mut n["data"];
            if d["workload"] == "productpage-v1" {
                d["app"] = "sleep".into();
                d["workload"] = "sleep".into();
            } else if d["workload"] == "waypoint" {
                d["workload"] = waypoint.into();
            }
        }
        g
    };
    let near = judge::graph_edge(&renamed("productpage-waypoint"), "sleep", "productpage");
    assert!(fails(&near).contains("productpage-waypoint"), "{near:?}");
    assert_eq!(
        judge::graph_edge(&renamed("productpage"), "sleep", "productpage"),
        Verdict::Holds
    );
}

/// The conditions istiod writes on a waypoint Gateway since 1.18 (`WaypointFacts::conditions`).
const GATEWAY: &[&str] = &["Accepted", "Programmed"];

fn gateway_outcome(status: Option<serde_json::Value>) -> DeclarationOutcome {
    let captured: serde_json::Value = serde_json::from_str(
        &fixtures::read("objects/captured/1.31-dev/default-gateways.json").unwrap(),
    )
    .unwrap();
    let mut gateway = captured["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["metadata"]["name"] == "productpage-waypoint")
        .unwrap()
        .clone();
    match status {
        Some(s) => gateway["status"] = s,
        None => {
            gateway.as_object_mut().unwrap().remove("status");
        }
    }
    DeclarationOutcome {
        what: "gateway.networking.k8s.io/v1 Gateway productpage-waypoint".into(),
        refused: None,
        conditions: conditions_of(&gateway),
    }
}

#[test]
fn a_gateway_nobody_acted_on_is_not_a_waypoint() {
    // As istiod left it on the sim run: Accepted and Programmed.
    let acted = gateway_outcome(Some(
        serde_json::from_str::<serde_json::Value>(
            &fixtures::read("objects/captured/1.31-dev/default-gateways.json").unwrap(),
        )
        .unwrap()["items"][1]["status"]
            .clone(),
    ));
    assert!(acted_on(&acted.conditions, GATEWAY), "{acted:?}");
    assert_eq!(judge::declaration_acted_on(&acted, GATEWAY), Verdict::Holds);
    // No status at all.
    let none = gateway_outcome(None);
    assert!(fails(&judge::declaration_acted_on(&none, GATEWAY)).contains("conditions: none"));
    // The status the Gateway API CRD defaults to before a controller acts
    // (gateway-api v1.2.0 config/crd/standard/gateway.networking.k8s.io_gateways.yaml:760-770).
    let pending = gateway_outcome(Some(serde_json::json!({"conditions": [
        {"lastTransitionTime": "1970-01-01T00:00:00Z", "message": "Waiting for controller",
         "reason": "Pending", "status": "Unknown", "type": "Accepted"},
        {"lastTransitionTime": "1970-01-01T00:00:00Z", "message": "Waiting for controller",
         "reason": "Pending", "status": "Unknown", "type": "Programmed"}
    ]})));
    assert!(
        fails(&judge::declaration_acted_on(&pending, GATEWAY))
            .contains("Accepted=Unknown (Pending")
    );
    // Refused by the API server (what the sim run saw for the tutorial's v1alpha2 Gateway).
    let refused = DeclarationOutcome {
        refused: Some(
            fixtures::read("objects/captured/1.31-dev/v1alpha2-gateway.txt")
                .unwrap()
                .trim()
                .to_string(),
        ),
        ..gateway_outcome(None)
    };
    assert!(fails(&judge::declaration_acted_on(&refused, GATEWAY)).contains("refused"));
}

#[test]
fn part_of_an_ingress_gateway_is_no_ingress_gateway() {
    let all = IngressGatewayParts {
        deployment: true,
        service: true,
        autoscaler: true,
    };
    let none = IngressGatewayParts {
        deployment: false,
        service: false,
        autoscaler: false,
    };
    assert_eq!(judge::ingress_gateway(all, true), Verdict::Holds);
    assert_eq!(judge::ingress_gateway(none, false), Verdict::Holds);
    for partial in [
        IngressGatewayParts {
            autoscaler: false,
            ..all
        },
        IngressGatewayParts {
            deployment: false,
            ..all
        },
        IngressGatewayParts {
            service: true,
            ..none
        },
    ] {
        for expected in [true, false] {
            let v = judge::ingress_gateway(partial, expected);
            assert!(fails(&v).contains("only"), "{partial:?} {expected}: {v:?}");
        }
    }
    assert!(judge::ingress_gateway(all, false).is_failure());
    assert!(judge::ingress_gateway(none, true).is_failure());
}

/// The 2022 build's ingress gateway Service and autoscaler as the tutorial lists them (lines 77
/// and 93: LoadBalancer on 15021, 80 and 443; Deployment/istio-ingressgateway, 1 to 5 at 80% CPU).
/// No object of that build was recorded, so these are written from the tutorial's rows.
fn listed_ingress_objects() -> (
    k8s_openapi::api::core::v1::Service,
    k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler,
) {
    let service = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "istio-ingressgateway", "namespace": "istio-system"},
        "spec": {"type": "LoadBalancer", "ports": [
            {"name": "status-port", "port": 15021, "nodePort": 32651},
            {"name": "http2", "port": 80, "nodePort": 32654},
            {"name": "https", "port": 443, "nodePort": 30106}
        ]}
    }))
    .unwrap();
    let hpa = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "istio-ingressgateway", "namespace": "istio-system"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "istio-ingressgateway"},
            "minReplicas": 1, "maxReplicas": 5,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": 80}}}]
        }
    }))
    .unwrap();
    (service, hpa)
}

#[test]
fn an_ingress_gateway_unlike_the_listed_one_is_a_drift() {
    use support::answers::{IngressGatewayObjects, Refs, ingress_gateway};
    use support::claims::Answer;
    use support::eras::{Era, TUTORIAL_BUILD};
    let doc = support::tutorial::expectations::extract(
        &fixtures::read("tutorial/ambient-tutorial.md").unwrap(),
    );
    let refs = Refs::new(&doc, TUTORIAL_BUILD, Era::Experimental2022);
    let all = IngressGatewayParts {
        deployment: true,
        service: true,
        autoscaler: true,
    };
    let (service, hpa) = listed_ingress_objects();
    let listed = crate::verdicts::ListedIngress::new();
    let answer =
        |service: &k8s_openapi::api::core::v1::Service,
         hpa: &k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler| {
            ingress_gateway(
                &refs,
                all,
                IngressGatewayObjects {
                    service: Some(service),
                    autoscaler: Some(hpa),
                    ..listed.objects()
                },
            )
        };
    assert_eq!(answer(&service, &hpa), Answer::AsDocumented);
    // A ClusterIP Service where the tutorial lists a LoadBalancer.
    let mut cluster_ip = service.clone();
    cluster_ip.spec.as_mut().unwrap().type_ = Some("ClusterIP".into());
    let Answer::Drifted { actual, .. } = answer(&cluster_ip, &hpa) else {
        panic!()
    };
    assert!(actual.contains("ClusterIP"), "{actual}");
    // Port 443 missing.
    let mut two_ports = service.clone();
    two_ports
        .spec
        .as_mut()
        .unwrap()
        .ports
        .as_mut()
        .unwrap()
        .pop();
    assert!(matches!(answer(&two_ports, &hpa), Answer::Drifted { .. }));
    // An autoscaler to 3 replicas where the tutorial lists 5.
    let mut to_three = hpa.clone();
    to_three.spec.as_mut().unwrap().max_replicas = 3;
    let Answer::Drifted { actual, .. } = answer(&service, &to_three) else {
        panic!()
    };
    assert!(actual.contains("1 to 3 replicas"), "{actual}");
}

#[test]
fn a_client_manifest_that_no_longer_serves_is_a_drift() {
    use support::answers::{Refs, manifests_available};
    use support::claims::Answer;
    use support::eras::{Era, TUTORIAL_BUILD};
    let doc = support::tutorial::expectations::extract(
        &fixtures::read("tutorial/ambient-tutorial.md").unwrap(),
    );
    let refs = Refs::new(&doc, TUTORIAL_BUILD, Era::Experimental2022);
    let sleep = "https://raw.githubusercontent.com/linsun/sample-apps/main/sleep/sleep.yaml";
    let notsleep = "https://raw.githubusercontent.com/linsun/sample-apps/main/sleep/notsleep.yaml";
    let probed = |a: Result<u16, String>, b: Result<u16, String>| {
        vec![(sleep.to_string(), a), (notsleep.to_string(), b)]
    };
    assert_eq!(
        manifests_available(&refs, &probed(Ok(200), Ok(200))),
        Answer::AsDocumented
    );
    // Either one gone is the drift, named by its URL.
    for (statuses, gone) in [
        (probed(Ok(404), Ok(200)), sleep),
        (probed(Ok(200), Ok(404)), notsleep),
        (probed(Ok(200), Err("connection refused".into())), notsleep),
    ] {
        let Answer::Drifted { actual, .. } = manifests_available(&refs, &statuses) else {
            panic!("{statuses:?}")
        };
        assert!(actual.starts_with(gone), "{actual}");
    }
    // A URL the run did not probe is not taken for served.
    let Answer::Drifted { actual, .. } =
        manifests_available(&refs, &[(sleep.to_string(), Ok(200))])
    else {
        panic!()
    };
    assert!(actual.contains("was not probed"), "{actual}");
}

#[test]
fn presence_is_what_the_era_says_either_way() {
    assert_eq!(
        judge::presence("istio-ingressgateway", true, true),
        Verdict::Holds
    );
    assert_eq!(
        judge::presence("istio-ingressgateway", false, false),
        Verdict::Holds
    );
    let Verdict::Drifted { expected, actual } =
        judge::presence("istio-ingressgateway", true, false)
    else {
        panic!("missing is not present")
    };
    assert_eq!(
        (expected.as_str(), actual.as_str()),
        (
            "istio-ingressgateway present",
            "istio-ingressgateway absent"
        )
    );
    assert!(fails(&judge::presence("istio-ingressgateway", false, true)).contains("present"));
}

fn pod_with(name: &str, containers: &[&str]) -> k8s_openapi::api::core::v1::Pod {
    let containers: Vec<serde_json::Value> = containers
        .iter()
        .map(|c| serde_json::json!({ "name": c, "image": "example" }))
        .collect();
    serde_json::from_value(serde_json::json!({
        "metadata": { "name": name, "namespace": "default" },
        "spec": { "containers": containers },
    }))
    .unwrap()
}

#[test]
fn a_pod_with_a_sidecar_or_a_second_container_is_not_sidecarless() {
    let restarted = judge::Restarted {
        deployment: "productpage-v1".into(),
        annotation: ("ambient-tutorial-suite/restarted-at".into(), "t".into()),
    };
    let mut app = pod_with("productpage-v1-7c548b785b-thqvj", &["productpage"]);
    app.metadata.annotations = Some(
        [(
            restarted.annotation.0.clone(),
            restarted.annotation.1.clone(),
        )]
        .into_iter()
        .collect(),
    );
    assert_eq!(
        judge::no_sidecars(std::slice::from_ref(&app), &restarted),
        Verdict::Holds
    );
    for (pod, seen) in [
        (
            pod_with("productpage-v1-2", &["productpage", "istio-proxy"]),
            "istio-proxy",
        ),
        // A second container of any name is one container too many.
        (
            pod_with("productpage-v1-3", &["productpage", "debug"]),
            "debug",
        ),
        // The proxy alone (an app container replaced) is not the app.
        (
            pod_with("productpage-v1-4", &["istio-proxy"]),
            "istio-proxy",
        ),
    ] {
        let why = fails(&judge::no_sidecars(&[app.clone(), pod.clone()], &restarted));
        let name = pod.metadata.name.clone().unwrap();
        assert!(why.contains(&name) && why.contains(seen), "{why}");
        assert!(!why.contains("productpage-v1-7c548b785b-thqvj"), "{why}");
    }
}

#[test]
fn a_page_without_the_title_or_without_200_is_not_the_product_page() {
    let page = |code: &str, title: bool| {
        format!(
            "<html><head>{}</head></html>{}{code}]",
            if title {
                judge::PRODUCTPAGE_TITLE
            } else {
                "<title>Error</title>"
            },
            judge::HTTP_CODE_MARKER
        )
    };
    assert_eq!(judge::productpage_page(&page("200", true)), Verdict::Holds);
    assert!(fails(&judge::productpage_page(&page("200", false))).contains("title absent"));
    assert!(fails(&judge::productpage_page(&page("503", true))).contains("HTTP 503"));
    assert!(
        fails(&judge::productpage_page("curl: (6) Could not resolve host")).contains("HTTP none")
    );
}

#[test]
fn a_false_condition_is_no_controller_acting() {
    let condition = |t: &str, s: &str, r: &str| {
        vec![(t.to_string(), s.to_string(), r.to_string(), String::new())]
    };
    assert!(acted_on(
        &condition("Programmed", "True", "Programmed"),
        &["Programmed"]
    ));
    assert!(acted_on(&condition("Ready", "True", "Ready"), &["Ready"]));
    // A controller that refused the Gateway wrote its reason, with status False.
    assert!(!acted_on(
        &condition("Accepted", "False", "InvalidParameters"),
        &["Accepted"]
    ));
    assert!(!acted_on(
        &condition("Accepted", "True", "Pending"),
        &["Accepted"]
    ));
    // Another condition True is not the one required.
    assert!(!acted_on(
        &condition("ResolvedRefs", "True", "ResolvedRefs"),
        &["Accepted"]
    ));
    // One of two required True is not enough; nothing required is a caller's mistake, not a pass.
    assert!(!acted_on(
        &condition("Accepted", "True", "Accepted"),
        GATEWAY
    ));
    assert!(!acted_on(&condition("Accepted", "True", "Accepted"), &[]));
}

#[test]
fn an_empty_graph_is_one_without_the_edge() {
    let raw = fixtures::read("recorded/kiali-graph-ambient.json").unwrap();
    let graph: serde_json::Value = serde_json::from_str(&raw).unwrap();
    // Kiali's recorded graph has traffic into productpage; as the graph of a quiet minute it is
    // the near-miss.
    let (from, to) = ("productpage", "reviews");
    assert_eq!(judge::graph_edge(&graph, from, to), Verdict::Holds);
    let answered = |body| judge::KialiGraph { status: 200, body };
    assert!(fails(&judge::graph_without_edge(&answered(graph), from, to)).contains("an edge"));
    let empty = serde_json::json!({ "elements": { "nodes": [], "edges": [] } });
    assert_eq!(
        judge::graph_without_edge(&answered(empty), from, to),
        Verdict::Holds
    );
}

#[test]
fn a_deployment_is_ready_as_kubectl_says_only_when_available_with_those_numbers() {
    let captured: serde_json::Value = serde_json::from_str(
        &fixtures::read("objects/captured/1.31-dev/istio-system-deployments.json").unwrap(),
    )
    .unwrap();
    let istiod = captured["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["metadata"]["name"] == "istiod")
        .unwrap()
        .clone();
    let deployment = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut d = istiod.clone();
        edit(&mut d);
        serde_json::from_value::<k8s_openapi::api::apps::v1::Deployment>(d).unwrap()
    };
    let as_captured = deployment(&|_| {});
    assert_eq!(judge::deployment_ready(&as_captured, "1/1"), Verdict::Holds);
    // Available, but not the READY the tutorial shows.
    assert!(fails(&judge::deployment_ready(&as_captured, "2/2")).contains("READY 1/1"));
    // READY 1/1 but not Available.
    let unavailable = deployment(&|d| {
        d["status"]["conditions"][0]["status"] = "False".into();
    });
    assert!(fails(&judge::deployment_ready(&unavailable, "1/1")).contains("Available=false"));
}

#[test]
fn the_same_declaration_is_the_same_object_and_class() {
    // The tutorial's waypoint declaration (lines 184-191), reformatted: the same object.
    let tutorial = "apiVersion: gateway.networking.k8s.io/v1alpha2\nkind: Gateway\nmetadata:\n name: productpage\n annotations:\n   istio.io/service-account: bookinfo-productpage\nspec:\n gatewayClassName: istio-mesh\n";
    let reformatted = "kind: Gateway\napiVersion: gateway.networking.k8s.io/v1alpha2\nspec: {gatewayClassName: istio-mesh}\nmetadata: {name: productpage}\n";
    assert!(judge::same_declaration(tutorial, reformatted));
    for (what, other) in [
        ("version", tutorial.replace("v1alpha2", "v1")),
        (
            "name",
            tutorial.replace("name: productpage", "name: waypoint"),
        ),
        ("class", tutorial.replace("istio-mesh", "istio-waypoint")),
        ("kind", tutorial.replace("kind: Gateway", "kind: HTTPRoute")),
    ] {
        assert!(!judge::same_declaration(tutorial, &other), "another {what}");
    }
    assert!(!judge::same_declaration("not: [yaml", "not: [yaml"));
}

#[test]
fn a_step_that_failed_is_a_drift_and_one_that_could_not_start_is_not_reached() {
    use support::istio::AcquireError;
    use support::k8s::wait::WaitError;
    use support::steps::StepError;
    assert_eq!(judge::step(&Ok(()), "applied"), Verdict::Holds);
    // The rollout ran and did not finish: the documented step drifted, with its cause.
    let failed = StepError::Wait(WaitError::Timeout {
        what: "deployment/kiali available".into(),
        timeout: std::time::Duration::from_secs(300),
        last: "0/1 available".into(),
    });
    let Verdict::Drifted { expected, actual } = judge::step(&Err(failed), "kiali rolled out")
    else {
        panic!("a step that ran and failed must drift")
    };
    assert_eq!(expected, "kiali rolled out");
    assert!(actual.contains("0/1 available"), "{actual}");
    // The release's samples could not be fetched: the step itself never ran.
    let before = StepError::Release(AcquireError::Http {
        version: "1.24.2".into(),
        url: "https://example.invalid/istio-1.24.2.tar.gz".into(),
        status: 404,
    });
    let Verdict::NotReached { why } = judge::step(&Err(before), "kiali rolled out") else {
        panic!("a step that could not start is not a drift of the tutorial's step")
    };
    assert!(why.contains("HTTP 404"), "{why}");
}

#[test]
fn a_dashboard_that_answers_with_an_error_page_is_a_drift() {
    use support::answers::{Refs, dashboard};
    use support::claims::Answer;
    use support::eras::{Era, TUTORIAL_BUILD};
    let doc = support::tutorial::expectations::extract(
        &fixtures::read("tutorial/ambient-tutorial.md").unwrap(),
    );
    let refs = Refs::new(&doc, TUTORIAL_BUILD, Era::Experimental2022);
    assert_eq!(dashboard(&refs, &Ok(200)), Answer::AsDocumented);
    for status in [Ok(404), Ok(503), Err("connection refused".to_string())] {
        let Answer::Drifted { actual, .. } = dashboard(&refs, &status) else {
            panic!("{status:?} taken for a served dashboard")
        };
        assert!(
            actual.contains("404") || actual.contains("503") || actual.contains("refused"),
            "{actual}"
        );
    }
}

#[test]
fn a_partial_ingress_gateway_is_a_drift_even_with_its_service_and_autoscaler_as_listed() {
    use support::answers::{IngressGatewayObjects, Refs, ingress_gateway};
    use support::claims::Answer;
    use support::eras::{Era, TUTORIAL_BUILD};
    let doc = support::tutorial::expectations::extract(
        &fixtures::read("tutorial/ambient-tutorial.md").unwrap(),
    );
    let refs = Refs::new(&doc, TUTORIAL_BUILD, Era::Experimental2022);
    let (service, hpa) = listed_ingress_objects();
    let without_deployment = IngressGatewayParts {
        deployment: false,
        service: true,
        autoscaler: true,
    };
    let answer = ingress_gateway(
        &refs,
        without_deployment,
        IngressGatewayObjects {
            service: Some(&service),
            autoscaler: Some(&hpa),
            ..Default::default()
        },
    );
    let Answer::Drifted {
        actual, documented, ..
    } = &answer
    else {
        panic!("{}", answer.describe())
    };
    assert!(
        actual.contains("only service, autoscaler present"),
        "{actual}"
    );
    // Anchored to every row the tutorial lists for it, under one name.
    let documented = documented.as_ref().unwrap();
    assert_eq!(
        documented.expectation,
        "installation.get_all (istio-ingressgateway)"
    );
    assert_eq!((documented.lines.start, documented.lines.end), (70, 93));
}
