//! What decides each verdict of the tutorial tests, on recorded data: readiness rules on
//! Kubernetes objects, the ztunnel for a node, claims against real log lines, Kiali's graph, the
//! claim record format.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::core::v1::Pod;
use support::claims::{Answer, CLAIMS, ClaimId, ClaimRecord, RECORD_FORMAT, Section, Verdict};
use support::eras::{EnrollmentLogFormat, Era, facts};
use support::fixtures::{self, recorded_lines};
use support::judge::{self, AppPod, From, Traffic, WaypointExpectation};
use support::k8s::conditions::{daemonset_ready, deployment_available, pod_blocker};
use support::k8s::pods::pick_running;
use support::logs::{AccessRecord, parse_access, parse_enrollment};
use support::recorder::Recorder;

fn object<K: k8s_openapi::serde::de::DeserializeOwned>(name: &str) -> K {
    serde_norway::from_str(&fixtures::read(&format!("objects/{name}")).unwrap()).unwrap()
}

fn records(file: &str) -> Vec<AccessRecord> {
    recorded_lines(file)
        .unwrap()
        .iter()
        .filter_map(|l| parse_access(&l.text).ok())
        .collect()
}

fn tutorial_nodes() -> Vec<String> {
    ["ambient-control-plane", "ambient-worker", "ambient-worker2"]
        .map(String::from)
        .into()
}

/// The route the tutorial's `grep route` lines show: `table 100 … dev istioin`.
const TUTORIAL_ROUTE: Option<judge::NodeRoute> = Some(judge::NodeRoute {
    table: "100",
    device: "istioin",
});

#[test]
fn daemonset_readiness_follows_istios_rule() {
    assert_eq!(
        daemonset_ready(&object::<DaemonSet>("ztunnel-ready.yaml")),
        Ok(())
    );
    let rolling = daemonset_ready(&object::<DaemonSet>("ztunnel-rolling.yaml")).unwrap_err();
    assert_eq!(
        rolling,
        "desired 3, ready 2, updated 1, observedGeneration 1/2"
    );
    // desired 0 is not "ready everywhere": e-framework's rule would say ready here.
    assert!(daemonset_ready(&object::<DaemonSet>("ztunnel-unscheduled.yaml")).is_err());
}

#[test]
fn deployment_availability() {
    assert_eq!(
        deployment_available(&object::<Deployment>("istiod-available.yaml")),
        Ok(())
    );
    let err = deployment_available(&object::<Deployment>("istiod-progressing.yaml")).unwrap_err();
    assert!(err.contains("Available=false"), "{err}");
}

fn now() -> k8s_openapi::jiff::Timestamp {
    k8s_openapi::jiff::Timestamp::now()
}

#[test]
fn a_pod_unschedulable_for_a_moment_is_not_hopeless_yet() {
    let mut pod: Pod = object("pod-unschedulable.yaml");
    let just_now = k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(now());
    pod.status.as_mut().unwrap().conditions.as_mut().unwrap()[0].last_transition_time =
        Some(just_now);
    assert_eq!(pod_blocker(&pod, now()), None);
    let later = now() + std::time::Duration::from_secs(61);
    assert!(
        pod_blocker(&pod, later)
            .unwrap()
            .contains("cannot be scheduled")
    );
}

#[test]
fn nodes_are_ready_once_the_not_ready_taint_is_lifted() {
    use k8s_openapi::api::core::v1::Node;
    let mut node: Node = serde_json::from_value(serde_json::json!({
        "metadata": { "name": "ambient-worker" },
        "spec": { "taints": [{ "key": "node.kubernetes.io/not-ready", "effect": "NoSchedule" }] },
        "status": { "conditions": [{ "type": "Ready", "status": "True" }] },
    }))
    .unwrap();
    assert!(!support::k8s::conditions::node_ready(&node));
    node.spec.as_mut().unwrap().taints = None;
    assert!(support::k8s::conditions::node_ready(&node));
}

#[test]
fn waits_stop_early_on_pods_that_cannot_start() {
    let pull = pod_blocker(&object::<Pod>("pod-image-pull-backoff.yaml"), now()).unwrap();
    assert!(
        pull.contains("cannot pull image gcr.io/istio-testing/proxyv2:0.0.0-ambient.191fe680"),
        "{pull}"
    );
    let crash = pod_blocker(&object::<Pod>("pod-crash-loop.yaml"), now()).unwrap();
    assert!(crash.contains("crash-looping (5 restarts)"), "{crash}");
    let pending = pod_blocker(&object::<Pod>("pod-unschedulable.yaml"), now()).unwrap();
    assert!(
        pending.contains("cannot be scheduled: 0/3 nodes are available: 3 Insufficient memory"),
        "{pending}"
    );
    assert_eq!(pod_blocker(&object::<Pod>("pod-running.yaml"), now()), None);
}

#[test]
fn one_ztunnel_per_node_needs_one_ready_pod_on_each_node() {
    let ds: DaemonSet = object("ztunnel-ready.yaml");
    let running: Pod = object("pod-running.yaml"); // on ambient-worker
    let on = |node: &str, name: &str| {
        let mut p = running.clone();
        p.metadata.name = Some(name.into());
        p.spec.as_mut().unwrap().node_name = Some(node.into());
        p
    };
    let three = vec![
        on("ambient-control-plane", "ztunnel-mq72n"),
        on("ambient-worker", "ztunnel-5qpn7"),
        on("ambient-worker2", "ztunnel-fccxw"),
    ];
    assert_eq!(
        judge::one_pod_per_node(&ds, &three, &tutorial_nodes()),
        Verdict::Holds
    );
    let two = three[..2].to_vec();
    let Verdict::Drifted { actual, .. } = judge::one_pod_per_node(&ds, &two, &tutorial_nodes())
    else {
        panic!()
    };
    assert!(actual.contains("ambient-worker2: 0 ready pods"), "{actual}");
    let mut doubled = three.clone();
    doubled.push(on("ambient-worker", "ztunnel-x2x2x"));
    let Verdict::Drifted { actual, .. } = judge::one_pod_per_node(&ds, &doubled, &tutorial_nodes())
    else {
        panic!()
    };
    assert!(actual.contains("ambient-worker: 2 ready pods"), "{actual}");
    let not_ready = vec![
        three[0].clone(),
        three[1].clone(),
        object::<Pod>("pod-image-pull-backoff.yaml"),
    ];
    assert!(judge::one_pod_per_node(&ds, &not_ready, &tutorial_nodes()).is_failure());
}

#[test]
fn the_ztunnel_for_a_node_is_its_running_pod() {
    let mut terminating: Pod = object("pod-running.yaml");
    terminating.metadata.name = Some("ztunnel-old".into());
    terminating.metadata.deletion_timestamp =
        Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
            k8s_openapi::jiff::Timestamp::UNIX_EPOCH,
        ));
    let pending: Pod = object("pod-image-pull-backoff.yaml");
    let running: Pod = object("pod-running.yaml");
    let chosen = pick_running(vec![terminating, pending, running]).unwrap();
    assert_eq!(chosen.metadata.name.as_deref(), Some("ztunnel-5qpn7"));
    assert!(pick_running(vec![object("pod-image-pull-backoff.yaml")]).is_none());
}

/// The tutorial's own cluster: productpage at 10.244.2.4 (from its L4 log lines).
/// The tutorial's own cluster: productpage at 10.244.2.4, sleep at 10.244.1.4 behind the
/// ztunnel at 10.244.1.2 (from its L4 log lines).
fn tutorial_traffic(waypoint: Option<WaypointExpectation>) -> Traffic {
    Traffic {
        client_sa: "sleep".into(),
        client_ips: vec!["10.244.1.4".into(), "10.244.1.2".into()],
        service_host: "productpage.default.svc.cluster.local".into(),
        server_ips: vec!["10.244.2.4".into()],
        waypoint,
        format: None,
    }
}

#[test]
fn the_tutorials_l4_lines_satisfy_the_l4_claims() {
    let all = records("ztunnel-envoy-2022.log");
    let tutorial = &all[..2]; // the L4 step's two lines
    let (out, i) = judge::outbound_logged(tutorial, &tutorial_traffic(None));
    assert_eq!(out, Verdict::Holds);
    assert_eq!(
        tutorial[i.unwrap()].event,
        "capture outbound (no waypoint proxy)"
    );
    assert_eq!(
        judge::inbound_logged(tutorial, &tutorial_traffic(None), From::Client).0,
        Verdict::Holds
    );
}

#[test]
fn the_tutorials_l7_line_satisfies_the_waypoint_claim_and_not_the_l4_one() {
    let all = records("ztunnel-envoy-2022.log");
    let l7 = &all[2..4];
    let wp = facts(Era::Experimental2022).waypoint;
    let identity = wp
        .identity_service_account
        .map(|sa| format!("spiffe://cluster.local/ns/default/sa/{sa}"));
    let expectation = WaypointExpectation {
        identity,
        pod_ips: vec!["10.244.1.11".into()],
        deployment: Some(wp.deployment.into()),
    };
    assert_eq!(
        judge::outbound_logged(l7, &tutorial_traffic(Some(expectation))).0,
        Verdict::Holds
    );
    // Without a waypoint expected, the same lines are a drift: the connection went elsewhere.
    let (verdict, _) = judge::outbound_logged(l7, &tutorial_traffic(None));
    let Verdict::Drifted { actual, .. } = verdict else {
        panic!("{verdict:?}")
    };
    assert!(
        actual.contains("via waypoint spiffe://cluster.local/ns/default/sa/bookinfo-productpage"),
        "{actual}"
    );
    // And the L4 line is a drift for the L7 claim.
    let wrong = WaypointExpectation {
        identity: Some("spiffe://cluster.local/ns/default/sa/x".into()),
        ..WaypointExpectation::default()
    };
    assert!(
        judge::outbound_logged(&all[..2], &tutorial_traffic(Some(wrong)))
            .0
            .is_failure()
    );
}

#[test]
fn rust_tracing_lines_judge_by_address() {
    let all = records("ztunnel-tracing-1.18.log");
    let traffic = Traffic {
        client_sa: "sleep".into(),
        service_host: "httpbin.ambient-demo.svc.cluster.local".into(),
        server_ips: vec!["10.240.1.11".into()],
        ..Traffic::default()
    };
    assert_eq!(judge::outbound_logged(&all, &traffic).0, Verdict::Holds);
    assert_eq!(
        judge::inbound_logged(&all, &traffic, From::Client).0,
        Verdict::Holds
    );
    let elsewhere = Traffic {
        server_ips: vec!["10.9.9.9".into()],
        ..traffic
    };
    assert!(judge::outbound_logged(&all, &elsewhere).0.is_failure());
}

#[test]
fn structured_lines_judge_by_identity_and_service() {
    let all = records("ztunnel-access-1.22.log");
    // istio.io's troubleshooting page: curl -> productpage, both directions.
    let traffic = Traffic {
        client_sa: "curl".into(),
        service_host: "productpage.default.svc.cluster.local".into(),
        server_ips: vec!["10.244.1.10".into()],
        ..Traffic::default()
    };
    assert_eq!(judge::outbound_logged(&all, &traffic).0, Verdict::Holds);
    assert_eq!(
        judge::inbound_logged(&all, &traffic, From::Client).0,
        Verdict::Holds
    );
    // The Envoy Gateway line went through a waypoint: a claim expecting that waypoint holds.
    let via = Traffic {
        client_sa: "default".into(),
        service_host: "backend.envoy-gateway-system.svc.cluster.local".into(),
        waypoint: Some(WaypointExpectation {
            identity: Some(
                "spiffe://cluster.local/ns/envoy-gateway-system/sa/envoy-envoy-gateway-system-eg-waypoint-3d55183b"
                    .into(),
            ),
            ..WaypointExpectation::default()
        }),
        ..Traffic::default()
    };
    assert_eq!(judge::outbound_logged(&all, &via).0, Verdict::Holds);
    // ... and a claim that there is no waypoint on that path does not.
    assert!(
        judge::outbound_logged(
            &all,
            &Traffic {
                waypoint: None,
                ..via
            }
        )
        .0
        .is_failure()
    );
}

fn app_pod(name: &str, node: &str, ip: Option<&str>) -> AppPod {
    AppPod {
        name: name.into(),
        namespace: "default".into(),
        node: node.into(),
        ip: ip.map(String::from),
    }
}

#[test]
fn enrollment_is_judged_per_pod_on_its_node() {
    let lines = recorded_lines("istio-cni.log").unwrap();
    let enrollments: Vec<_> = lines[..6]
        .iter()
        .map(|l| parse_enrollment(&l.text).unwrap())
        .collect();
    let by_node = BTreeMap::from([("ambient-worker2".to_string(), enrollments)]);
    // The tutorial's own lines: productpage routed to 10.244.2.9, details to 10.244.2.4.
    let expected = [
        app_pod(
            "productpage-v1-7c548b785b-thqvj",
            "ambient-worker2",
            Some("10.244.2.9"),
        ),
        app_pod(
            "details-v1-76778d6644-fnqpt",
            "ambient-worker2",
            Some("10.244.2.4"),
        ),
    ];
    assert_eq!(
        judge::enrolled(
            &expected,
            &by_node,
            EnrollmentLogFormat::NodeRoute,
            TUTORIAL_ROUTE
        ),
        Verdict::Holds
    );
    // A newer era expects another announcement.
    let Verdict::Drifted { actual, .. } = judge::enrolled(
        &expected,
        &by_node,
        EnrollmentLogFormat::AddingPodToMesh,
        None,
    ) else {
        panic!()
    };
    assert!(actual.contains("announced as"), "{actual}");
    // sleep's line is not there; nor is anything on another node.
    let missing = [
        app_pod("sleep-x", "ambient-worker2", None),
        app_pod("details-v1-76778d6644-fnqpt", "ambient-worker", None),
    ];
    let Verdict::Drifted { actual, .. } = judge::enrolled(
        &missing,
        &by_node,
        EnrollmentLogFormat::NodeRoute,
        TUTORIAL_ROUTE,
    ) else {
        panic!()
    };
    assert!(
        actual.contains("default/sleep-x") && actual.contains("(istio-cni on ambient-worker)"),
        "{actual}"
    );
}

/// The 2022-10 blog's istio-cni lines: an ipset line before each route line.
fn blog_enrollments(from: &str, to: &str) -> BTreeMap<String, Vec<support::logs::Enrollment>> {
    let lines: Vec<String> = recorded_lines("istio-cni.log")
        .unwrap()
        .into_iter()
        .map(|l| l.text)
        .skip_while(|t| !t.starts_with(from))
        .take_while(|t| !t.starts_with(to))
        .collect();
    assert!(!lines.is_empty());
    let read = lines
        .iter()
        .filter_map(|t| parse_enrollment(t).ok())
        .collect();
    BTreeMap::from([("ambient-worker2".to_string(), read)])
}

#[test]
fn an_ipset_line_alone_is_no_enrollment() {
    let reviews_v3 = [app_pod(
        "reviews-v3-75f494fccb-92nq5",
        "ambient-worker2",
        Some("10.244.1.6"),
    )];
    // Up to and with reviews-v3's ipset line, before its route line.
    let ipset_only = blog_enrollments("2022-10-12T07:34:33.224957Z", "2022-10-12T07:34:33.232236Z");
    let Verdict::Drifted { actual, .. } = judge::enrolled(
        &reviews_v3,
        &ipset_only,
        EnrollmentLogFormat::NodeRoute,
        TUTORIAL_ROUTE,
    ) else {
        panic!("the ipset line counted")
    };
    assert!(
        actual.contains("no enrollment line for default/reviews-v3"),
        "{actual}"
    );
    // With its route line.
    let with_route = blog_enrollments("2022-10-12T07:34:33.224957Z", "no such line");
    assert_eq!(
        judge::enrolled(
            &reviews_v3,
            &with_route,
            EnrollmentLogFormat::NodeRoute,
            TUTORIAL_ROUTE
        ),
        Verdict::Holds
    );
}

#[test]
fn a_route_to_another_address_is_no_enrollment() {
    let all = blog_enrollments("2022-10-12T07:34:33.224957Z", "no such line");
    // reviews-v1 is at 10.244.1.4 (the blog's `kubectl get po -o wide`): its route leads there.
    let at = |ip: &str| {
        [app_pod(
            "reviews-v1-6494d87c7b-zrpks",
            "ambient-worker2",
            Some(ip),
        )]
    };
    assert_eq!(
        judge::enrolled(
            &at("10.244.1.4"),
            &all,
            EnrollmentLogFormat::NodeRoute,
            TUTORIAL_ROUTE
        ),
        Verdict::Holds
    );
    // Had the pod been at details' address (10.244.1.9), the route would lead elsewhere.
    let Verdict::Drifted { actual, .. } = judge::enrolled(
        &at("10.244.1.9"),
        &all,
        EnrollmentLogFormat::NodeRoute,
        TUTORIAL_ROUTE,
    ) else {
        panic!()
    };
    assert!(
        actual.contains("reviews-v1-6494d87c7b-zrpks at 10.244.1.9: route to 10.244.1.4"),
        "{actual}"
    );
    // Formats that name no address are judged by name alone.
    let enrolled_1_23 = BTreeMap::from([(
        "n1".to_string(),
        vec![
            parse_enrollment(
                "2024-09-01T10:00:00.000000Z\tinfo\tcni-agent\tadding pod to the mesh\tns=default name=a-1",
            )
            .unwrap(),
        ],
    )]);
    let pod = [AppPod {
        name: "a-1".into(),
        namespace: "default".into(),
        node: "n1".into(),
        ip: Some("10.0.0.1".into()),
    }];
    assert_eq!(
        judge::enrolled(
            &pod,
            &enrolled_1_23,
            EnrollmentLogFormat::AddingPodToMesh,
            None
        ),
        Verdict::Holds
    );
}

#[test]
fn the_product_page_is_judged_by_status_and_title() {
    let page = format!(
        "<html><head>{}</head></html>\n[http_code=200]",
        judge::PRODUCTPAGE_TITLE
    );
    assert_eq!(judge::productpage_page(&page), Verdict::Holds);
    assert!(judge::productpage_page("upstream connect error\n[http_code=503]").is_failure());
    assert!(judge::productpage_page("(exec failed: timeout)").is_failure());
}

#[test]
fn kiali_graph_edges_are_found_in_a_real_response() {
    let graph: serde_json::Value =
        serde_json::from_str(&fixtures::read("recorded/kiali-graph-ambient.json").unwrap())
            .unwrap();
    assert_eq!(
        judge::graph_edge(&graph, "productpage", "details"),
        Verdict::Holds
    );
    assert_eq!(
        judge::graph_edge(&graph, "productpage", "waypoint"),
        Verdict::Holds
    );
    // The graph has no sleep: the tutorial's claim does not hold on it, and the message says why.
    let Verdict::Drifted { actual, .. } = judge::graph_edge(&graph, "sleep", "productpage") else {
        panic!()
    };
    assert!(
        actual.starts_with("4 nodes [") && actual.contains("6 edges"),
        "{actual}"
    );
    // Direction matters.
    assert!(judge::graph_edge(&graph, "details", "productpage").is_failure());
    assert!(judge::graph_edge(&serde_json::json!({}), "a", "b").is_failure());
}

#[test]
fn install_lines_compare_as_a_set() {
    let era = facts(Era::Ga1_24);
    let mut printed: Vec<String> = era
        .install_lines
        .iter()
        .rev()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        judge::install_lines(era.install_lines, &printed),
        Verdict::Holds
    );
    printed.pop();
    assert!(judge::install_lines(era.install_lines, &printed).is_failure());
    let old = facts(Era::Experimental2022);
    assert!(
        judge::install_lines(
            old.install_lines,
            &era.install_lines
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
        )
        .is_failure()
    );
}

#[test]
fn claim_records_are_json_lines_with_a_format_version() {
    let dir = tempfile::tempdir().unwrap();
    let recorder = Recorder::new(
        dir.path(),
        "exp2022",
        "0.0.0-ambient.191fe680b52c1754ee72a06b3e0d3f9d116f2e82",
        "kind",
    )
    .with_tutorial(std::path::Path::new(
        "fixtures/tutorial/ambient-tutorial.md",
    ));
    recorder
        .record(ClaimId::L4CurlReturnsProductpage, &Answer::AsDocumented)
        .unwrap();
    let drifted = Answer::Drifted {
        expected: "available".into(),
        actual: "ImagePullBackOff".into(),
        era_expected: None,
        documented: None,
    };
    recorder
        .record(ClaimId::L7WaypointPodRunning, &drifted)
        .unwrap();
    let text = std::fs::read_to_string(dir.path().join("claims.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["format"], RECORD_FORMAT);
    assert_eq!(lines[0]["claim"], "l4.curl_returns_productpage");
    assert_eq!(lines[0]["section"], "l4");
    assert_eq!(lines[0]["answer"], "as_documented");
    assert_eq!(
        lines[0]["tutorial"],
        "fixtures/tutorial/ambient-tutorial.md"
    );
    assert_eq!(lines[1]["answer"], "drifted");
    assert_eq!(lines[1]["actual"], "ImagePullBackOff");
    let back = ClaimRecord::from_json(lines[1].clone()).unwrap();
    assert_eq!(back.section, Section::L7);
    assert_eq!(back.answer, drifted);
}

#[test]
fn format_1_records_are_still_read() {
    let v1 = serde_json::json!({"format": 1, "run_id": "r", "claim": "l4.curl_returns_productpage",
        "section": "l4", "era": "1.24", "istio_version": "1.24.2", "provider": "kind",
        "at": "2026-11-19T03:00:00Z", "verdict": "holds"});
    assert_eq!(ClaimRecord::from_json(v1).unwrap().answer, Answer::Holds);
}

#[test]
fn claims_are_in_tutorial_order() {
    let sections: Vec<Section> = CLAIMS.iter().map(|c| c.section).collect();
    let mut sorted = sections.clone();
    sorted.sort();
    assert_eq!(sections, sorted);
}

#[test]
fn the_2022_snapshots_of_the_tutorial_tests_are_the_tutorials_own_lines() {
    let lines = recorded_lines("ztunnel-envoy-2022.log").unwrap();
    let root = support::settings::workspace_root().join("tests/tutorial/snapshots");
    let cases = [
        (
            "tutorial__l4__sleeps_ztunnel_logs_the_outbound_connection@exp2022.snap",
            1,
        ),
        (
            "tutorial__l4__productpages_ztunnel_logs_the_inbound_connection@exp2022.snap",
            0,
        ),
        ("tutorial__l7__sleep_ztunnel_to_waypoint@exp2022.snap", 3),
    ];
    for (file, index) in cases {
        let snap = std::fs::read_to_string(root.join(file)).unwrap();
        let body = snap.splitn(3, "---\n").nth(2).unwrap().trim_end();
        assert_eq!(
            body,
            support::snapshot::redact(&lines[index].text),
            "{file}"
        );
    }
}

#[test]
fn three_ztunnels_is_a_claim_about_the_tutorials_topology() {
    assert_eq!(judge::three_on_three(Some(3), 3, 3), Verdict::Holds);
    assert!(judge::three_on_three(Some(3), 3, 2).is_failure());
    // One node (k3s): not applicable, never holds or drifts.
    assert!(matches!(
        judge::three_on_three(Some(1), 1, 1),
        Verdict::NotApplicable { .. }
    ));
    // An existing cluster: decided by its real node count.
    assert!(matches!(
        judge::three_on_three(None, 5, 5),
        Verdict::NotApplicable { .. }
    ));
    assert_eq!(judge::three_on_three(None, 3, 3), Verdict::Holds);
}

fn captured<K: k8s_openapi::serde::de::DeserializeOwned>(name: &str) -> K {
    serde_json::from_str(&fixtures::read(&format!("objects/captured/{name}")).unwrap()).unwrap()
}

#[test]
fn readiness_rules_hold_on_objects_captured_from_a_real_api_server() {
    let ds: DaemonSet = captured("ztunnel-daemonset.json");
    assert_eq!(daemonset_ready(&ds), Ok(()));
    assert_eq!(
        daemonset_ready(&captured::<DaemonSet>("istio-cni-node-daemonset.json")),
        Ok(())
    );
    assert_eq!(
        deployment_available(&captured::<Deployment>("istiod-deployment.json")),
        Ok(())
    );
    let pods: Vec<Pod> = (0..3)
        .map(|i| captured(&format!("ztunnel-pod-{i}.json")))
        .collect();
    assert_eq!(
        judge::one_pod_per_node(&ds, &pods, &tutorial_nodes()),
        Verdict::Holds
    );
    // The controller placed them one per node, which is what the claim is about: drop one and it drifts.
    assert!(judge::one_pod_per_node(&ds, &pods[1..], &tutorial_nodes()).is_failure());
    for p in &pods {
        assert_eq!(pod_blocker(p, now()), None);
    }
}
