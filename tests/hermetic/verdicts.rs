//! Verdicts that cannot lie: each judge of issue 24 against the near-miss it used to accept, on
//! real data (captured objects of the sim run of 1.31-dev, recorded log lines), on the document's
//! side and on the era's. Where a real object had to be edited to make the near-miss, the test
//! says which one field.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use support::answers::{self, Component, IngressGatewayObjects, Refs};
use support::claims::{Answer, Verdict};
use support::eras::{Era, Fact, TUTORIAL_BUILD, facts};
use support::fixtures::{self, recorded_lines};
use support::judge::{
    self, AppPod, DeclarationOutcome, From, IngressGatewayParts, KialiGraph, Restarted, Traffic,
    WaypointExpectation,
};
use support::k8s::conditions::{deployment_available, rollout_complete};
use support::logs::{AccessRecord, parse_access, parse_enrollment};
use support::tutorial::expectations::{Expectations, extract};

fn doc() -> Expectations {
    extract(&fixtures::read("tutorial/ambient-tutorial.md").unwrap())
}

fn captured<K: k8s_openapi::serde::de::DeserializeOwned>(file: &str, name: &str) -> K {
    let list: serde_json::Value = serde_json::from_str(
        &fixtures::read(&format!("objects/captured/1.31-dev/{file}")).unwrap(),
    )
    .unwrap();
    let item = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| {
            i["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.starts_with(name))
        })
        .unwrap_or_else(|| panic!("no {name} in {file}"))
        .clone();
    serde_json::from_value(item).unwrap()
}

fn drifted(a: &Answer) -> (String, Option<String>) {
    match a {
        Answer::Drifted {
            actual,
            era_expected,
            ..
        } => (actual.clone(), era_expected.clone()),
        other => panic!("expected a drift, got {}", other.describe()),
    }
}

fn fails(v: &Verdict) -> String {
    match v {
        Verdict::Drifted { actual, .. } => actual.clone(),
        other => panic!("expected a drift, got {other:?}"),
    }
}

// ---- demo_apps.no_sidecars ---------------------------------------------------------------------

const RESTARTED_AT: &str = "ambient-tutorial-suite/restarted-at";

/// The tutorial's notsleep, as a pod created after the label: the real waypoint pod of the sim run
/// (istiod's rendering), renamed, with the restart's annotation and the app's one container.
fn notsleep_after_label() -> (Pod, Restarted) {
    let mut pod: Pod = captured("default-pods.json", "productpage-waypoint-");
    pod.metadata.name = Some("notsleep-6d6f8d8b7-q2x7z".into());
    pod.metadata
        .annotations
        .get_or_insert_with(Default::default)
        .insert(RESTARTED_AT.into(), "2026-12-06T12:00:00Z".into());
    let spec = pod.spec.as_mut().unwrap();
    spec.containers[0].name = "notsleep".into();
    let restarted = Restarted {
        deployment: "notsleep".into(),
        annotation: (RESTARTED_AT.into(), "2026-12-06T12:00:00Z".into()),
    };
    (pod, restarted)
}

#[test]
fn a_native_sidecar_is_a_sidecar() {
    let (app, restarted) = notsleep_after_label();
    assert_eq!(
        judge::no_sidecars(std::slice::from_ref(&app), &restarted),
        Verdict::Holds
    );
    // Istio's native sidecar (the default injection since 1.27): the real istio-proxy container
    // istiod rendered, as an init container with `restartPolicy: Always`.
    let mut injected = app.clone();
    let mut proxy = captured::<Pod>("default-pods.json", "productpage-waypoint-")
        .spec
        .unwrap()
        .containers
        .remove(0);
    proxy.restart_policy = Some("Always".into());
    injected.spec.as_mut().unwrap().init_containers = Some(vec![proxy.clone()]);
    let why = fails(&judge::no_sidecars(&[injected], &restarted));
    assert!(
        why.contains("init container istio-proxy (restartPolicy Always)"),
        "{why}"
    );
    // Any native sidecar, whatever its name; and the injector's `istio-init` without one.
    for (name, policy) in [("envoy", Some("Always")), ("istio-init", None)] {
        let mut other = app.clone();
        let mut c = proxy.clone();
        c.name = name.into();
        c.restart_policy = policy.map(str::to_string);
        other.spec.as_mut().unwrap().init_containers = Some(vec![c]);
        assert!(
            fails(&judge::no_sidecars(&[other], &restarted)).contains(name),
            "{name}"
        );
    }
    // A plain init container of the app's own is no sidecar.
    let mut plain = app.clone();
    let mut c = proxy;
    c.name = "wait-for-db".into();
    c.restart_policy = None;
    plain.spec.as_mut().unwrap().init_containers = Some(vec![c]);
    assert_eq!(judge::no_sidecars(&[plain], &restarted), Verdict::Holds);
}

#[test]
fn the_pod_judged_must_be_one_created_after_the_label() {
    let (app, restarted) = notsleep_after_label();
    // The pod from before the restart: no annotation, or an older restart's value.
    let mut before = app.clone();
    before.metadata.annotations = None;
    let why = fails(&judge::no_sidecars(&[before], &restarted));
    assert!(
        why.contains("no pod of notsleep created after the label"),
        "{why}"
    );
    let mut older = app.clone();
    older
        .metadata
        .annotations
        .as_mut()
        .unwrap()
        .insert(RESTARTED_AT.into(), "2026-12-05T08:00:00Z".into());
    assert!(judge::no_sidecars(&[older], &restarted).is_failure());
    // A pod of another deployment with the annotation is not notsleep's.
    let mut sleep = app;
    sleep.metadata.name = Some("sleep-6d6f8d8b7-q2x7z".into());
    assert!(judge::no_sidecars(&[sleep], &restarted).is_failure());
}

#[test]
fn a_rollout_is_complete_only_when_no_old_pod_is_counted() {
    let done: Deployment = captured("default-deployments.json", "productpage-waypoint");
    assert_eq!(rollout_complete(&done), Ok(()));
    // Mid-rollout as the issue saw it: the new pod updated and ready, the old one still counted
    // (replicas 2). Available, so the old wait returned here.
    let mut mid = done.clone();
    mid.status.as_mut().unwrap().replicas = Some(2);
    assert_eq!(deployment_available(&mid), Ok(()));
    assert!(rollout_complete(&mid).unwrap_err().contains("replicas 2"));
    // Each count on its own, and a spec the controller has not seen yet.
    for field in ["updated", "ready", "available"] {
        let mut d = done.clone();
        let s = d.status.as_mut().unwrap();
        match field {
            "updated" => s.updated_replicas = Some(0),
            "ready" => s.ready_replicas = Some(0),
            _ => s.available_replicas = Some(0),
        }
        assert!(rollout_complete(&d).is_err(), "{field}");
    }
    let mut unseen = done.clone();
    unseen.metadata.generation = Some(2);
    assert!(rollout_complete(&unseen).unwrap_err().contains("1/2"));
    let mut none = done;
    none.status = None;
    assert!(rollout_complete(&none).is_err());
}

// ---- l7.waypoint_declared ----------------------------------------------------------------------

fn era_gateway(programmed: &str) -> DeclarationOutcome {
    let mut gw: serde_json::Value = captured("default-gateways.json", "productpage-waypoint");
    for c in gw["status"]["conditions"].as_array_mut().unwrap() {
        if c["type"] == "Programmed" {
            c["status"] = programmed.into();
        }
    }
    DeclarationOutcome {
        what: "gateway.networking.k8s.io/v1 Gateway productpage-waypoint".into(),
        refused: None,
        conditions: judge::conditions_of(&gw),
    }
}

fn tutorials_refused() -> DeclarationOutcome {
    DeclarationOutcome {
        what: "gateway.networking.k8s.io/v1alpha2 Gateway productpage".into(),
        refused: Some(
            fixtures::read("objects/captured/1.31-dev/v1alpha2-gateway.txt")
                .unwrap()
                .trim()
                .into(),
        ),
        conditions: vec![],
    }
}

#[test]
fn accepted_but_not_programmed_is_no_waypoint_on_either_side() {
    let required = facts(Era::Ga1_24).waypoint.conditions;
    assert_eq!(required, ["Accepted", "Programmed"]);
    assert_eq!(
        judge::declaration_acted_on(&era_gateway("True"), required),
        Verdict::Holds
    );
    let why = fails(&judge::declaration_acted_on(
        &era_gateway("False"),
        required,
    ));
    assert!(why.contains("not: Programmed=False"), "{why}");
    // On 1.31 (era 1.24): the tutorial's declaration refused, the era's accepted and programmed
    // is a stale tutorial; the era's accepted but not programmed is a drift, never stale.
    let doc = doc();
    let era_yaml = fixtures::read("waypoint/1.22.yaml").unwrap();
    let refs = Refs::new(&doc, "1.31-dev", Era::Ga1_24);
    let ok = answers::waypoint_declared(
        &refs,
        &tutorials_refused(),
        Some(&era_gateway("True")),
        &era_yaml,
    );
    assert!(matches!(ok, Answer::DocStale { .. }), "{}", ok.describe());
    let broken = answers::waypoint_declared(
        &refs,
        &tutorials_refused(),
        Some(&era_gateway("False")),
        &era_yaml,
    );
    let (_, era_expected) = drifted(&broken);
    assert!(era_expected.unwrap().contains("Programmed"));
}

#[test]
fn the_2022_waypoint_is_judged_by_the_condition_its_build_writes() {
    // The 2022 blog's status: `Ready=True` only.
    let status: serde_json::Value =
        serde_norway::from_str(&fixtures::read("recorded/waypoint-status-2022.yaml").unwrap())
            .unwrap();
    let outcome = DeclarationOutcome {
        what: "gateway.networking.k8s.io/v1alpha2 Gateway productpage".into(),
        refused: None,
        conditions: judge::conditions_of(&serde_json::json!({ "status": status })),
    };
    let required = facts(Era::Experimental2022).waypoint.conditions;
    assert_eq!(
        judge::declaration_acted_on(&outcome, required),
        Verdict::Holds
    );
    // Ready=False: the controller said it could not deploy it.
    let mut not_ready = outcome.clone();
    not_ready.conditions[0].1 = "False".into();
    assert!(judge::declaration_acted_on(&not_ready, required).is_failure());
    // Judged by the later eras' pair, the 2022 status is not enough.
    assert!(
        judge::declaration_acted_on(&outcome, facts(Era::Beta1_22).waypoint.conditions)
            .is_failure()
    );
}

// ---- l7.waypoint_pod_running -------------------------------------------------------------------

fn waypoint_pod() -> Pod {
    captured("default-pods.json", "productpage-waypoint-")
}

#[test]
fn the_waypoint_pods_name_is_istiods_deployment_and_no_other_pod_passes_for_it() {
    let doc = doc();
    let pod = waypoint_pod();
    // 1.31: istiod names the Deployment `productpage-waypoint`, the tutorial's line
    // `bookinfo-productpage-waypoint-proxy`: stale, citing the waypoint Deployment fact.
    let refs = Refs::new(&doc, "1.31-dev", Era::Ga1_24);
    let Answer::DocStale { era: era_fact, .. } =
        answers::waypoint_pod_named(&refs, std::slice::from_ref(&pod))
    else {
        panic!("not stale")
    };
    assert!(
        era_fact.fact.contains("productpage-waypoint"),
        "{}",
        era_fact.fact
    );
    // Readiness is not this claim's: a pod that is not ready still carries istiod's name.
    let mut not_ready = pod.clone();
    not_ready.status.as_mut().unwrap().container_statuses = None;
    assert!(matches!(
        answers::waypoint_pod_named(&refs, &[not_ready]),
        Answer::DocStale { .. }
    ));
    // Near misses: the productpage pod itself, a waypoint of another service, no pod at all.
    for name in [
        "productpage-v1-54bb874995-kzpnw",
        "reviews-waypoint-7b5b785d58-xkgss",
        "productpage-waypoint-proxy-7b5b785d58-xkgss",
    ] {
        let mut other = pod.clone();
        other.metadata.name = Some(name.into());
        let (actual, _) = drifted(&answers::waypoint_pod_named(&refs, &[other]));
        assert!(actual.contains(name), "{name}: {actual}");
    }
    let (actual, _) = drifted(&answers::waypoint_pod_named(&refs, &[]));
    assert!(actual.contains("no pod"), "{actual}");
    // The tutorial's own build names it as the line shows.
    let refs = Refs::new(&doc, TUTORIAL_BUILD, Era::Experimental2022);
    let mut documented = pod;
    documented.metadata.name = Some("bookinfo-productpage-waypoint-proxy-fcf74c55d-j9zm5".into());
    assert_eq!(
        answers::waypoint_pod_named(&refs, &[documented]),
        Answer::AsDocumented
    );
}

#[test]
fn a_terminating_or_restarted_waypoint_pod_is_not_the_line_shown() {
    let doc = doc();
    let refs = Refs::new(&doc, "1.31-dev", Era::Ga1_24);
    let pod = waypoint_pod();
    assert!(matches!(
        answers::waypoint_pod(&refs, std::slice::from_ref(&pod)),
        Answer::DocStale { .. }
    ));
    // Terminating: kubectl shows STATUS Terminating while the phase is still Running.
    let mut terminating = pod.clone();
    terminating.metadata.deletion_timestamp =
        Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
            "2026-11-26T12:00:00Z".parse().unwrap(),
        ));
    assert_eq!(judge::status_column(&terminating), "Terminating");
    let (actual, _) = drifted(&answers::waypoint_pod(&refs, &[terminating]));
    assert!(actual.contains("Terminating"), "{actual}");
    // Seven restarts where the tutorial shows 0.
    let mut restarted = pod.clone();
    restarted
        .status
        .as_mut()
        .unwrap()
        .container_statuses
        .as_mut()
        .unwrap()[0]
        .restart_count = 7;
    assert_eq!(judge::restarts_column(&restarted), "7");
    let (actual, _) = drifted(&answers::waypoint_pod(&refs, &[restarted]));
    assert!(actual.contains("1/1 Running 7"), "{actual}");
    // The replacement the era offers shows the pod's own columns.
    let Answer::DocStale { replacement, .. } = answers::waypoint_pod(&refs, &[pod]) else {
        panic!()
    };
    assert!(replacement.unwrap().contains("1/1     Running   0"));
}

// ---- the L7 ztunnel statements -----------------------------------------------------------------

fn waypoint_lines() -> Vec<(String, AccessRecord)> {
    recorded_lines("ztunnel-access-waypoint.log")
        .unwrap()
        .into_iter()
        .map(|l| {
            let r = parse_access(&l.text).unwrap();
            (l.text, r)
        })
        .collect()
}

/// productpage -> details through the namespace waypoint, as recorded.
fn to_details_via_waypoint() -> Traffic {
    Traffic {
        client_sa: "bookinfo-productpage".into(),
        client_ips: vec!["10.28.2.18".into()],
        service_host: "details.default.svc.cluster.local".into(),
        server_ips: vec!["10.28.2.20".into()],
        waypoint: Some(WaypointExpectation {
            identity: Some("spiffe://cluster.local/ns/default/sa/waypoint".into()),
            pod_ips: vec!["10.28.2.14".into()],
            deployment: Some("waypoint".into()),
        }),
        format: None,
    }
}

/// The recorded line made a direct one: to the service's pod, not the waypoint (the one change).
fn around_the_waypoint(line: &str) -> String {
    line.replace("dst.addr=10.28.2.14:15008", "dst.addr=10.28.2.20:15008")
        .replace(
            "dst.workload=\"waypoint-7594b5b786-vgjwz\"",
            "dst.workload=\"details-v1-65cfcf56f9-4drsk\"",
        )
        .replace("sa/waypoint\"", "sa/bookinfo-details\"")
}

#[test]
fn a_direct_line_beside_a_waypoint_line_is_not_l7_traffic() {
    let lines = waypoint_lines();
    let via = lines[0].1.clone();
    let t = to_details_via_waypoint();
    assert_eq!(
        judge::outbound_logged(std::slice::from_ref(&via), &t).0,
        Verdict::Holds
    );
    let direct = parse_access(&around_the_waypoint(&lines[0].0)).unwrap();
    assert!(
        judge::outbound_logged(std::slice::from_ref(&direct), &t)
            .0
            .is_failure()
    );
    // Both: some of the step's traffic went around the waypoint.
    for records in [vec![via.clone(), direct.clone()], vec![direct, via]] {
        let (verdict, hit) = judge::outbound_logged(&records, &t);
        assert!(
            fails(&verdict).contains("1 line(s) around the waypoint"),
            "{verdict:?}"
        );
        assert_eq!(hit, None);
    }
}

/// httpbin's ztunnel receiving from the waypoint `simple-http-waypoint` (istio/ztunnel#1500).
fn from_the_waypoint() -> Traffic {
    Traffic {
        client_sa: "sleep".into(),
        client_ips: vec!["10.244.3.5".into()],
        service_host: "httpbin.default.svc.cluster.local".into(),
        server_ips: vec!["10.244.3.8".into()],
        waypoint: Some(WaypointExpectation {
            identity: Some("spiffe://cluster.local/ns/default/sa/simple-http-waypoint".into()),
            pod_ips: vec!["10.244.3.9".into()],
            deployment: Some("simple-http-waypoint".into()),
        }),
        format: None,
    }
}

#[test]
fn an_inbound_line_straight_from_the_client_beside_one_from_the_waypoint_drifts() {
    let lines = waypoint_lines();
    let from_wp = lines[1].1.clone();
    let t = from_the_waypoint();
    assert_eq!(
        judge::inbound_logged(std::slice::from_ref(&from_wp), &t, From::Waypoint).0,
        Verdict::Holds
    );
    // The same line, from the client (sleep) itself: the one change is the source.
    let direct_text = lines[1]
        .0
        .replace("src.addr=10.244.3.9:52462", "src.addr=10.244.3.5:52462")
        .replace(
            "simple-http-waypoint-547d6d7b8b-4xckr",
            "sleep-7656cf8794-8fhdk",
        )
        .replace("sa/simple-http-waypoint", "sa/sleep");
    let direct = parse_access(&direct_text).unwrap();
    let (verdict, hit) = judge::inbound_logged(&[from_wp, direct], &t, From::Waypoint);
    assert!(
        fails(&verdict).contains("straight from sleep"),
        "{verdict:?}"
    );
    assert_eq!(hit, None);
}

// ---- L4 on 1.18 – 1.21 -------------------------------------------------------------------------

fn tracing_lines() -> Vec<(String, AccessRecord)> {
    recorded_lines("ztunnel-tracing-failed-1.21.log")
        .unwrap()
        .into_iter()
        .filter_map(|l| parse_access(&l.text).ok().map(|r| (l.text, r)))
        .collect()
}

#[test]
fn a_connection_start_followed_by_its_failure_did_not_complete() {
    let lines = tracing_lines();
    assert_eq!(lines.len(), 6, "{lines:?}");
    let direct = Traffic {
        client_sa: "curl-deny".into(),
        service_host: "handson.handson.svc.cluster.local".into(),
        server_ips: vec!["10.0.2.103".into()],
        ..Traffic::default()
    };
    // Read line by line, `proxy to` alone looks completed.
    let starts: Vec<AccessRecord> = lines[..4].iter().map(|(_, r)| r.clone()).collect();
    assert_eq!(
        judge::outbound_logged(&starts, &direct).0,
        Verdict::Holds,
        "the near-miss the old judge accepted"
    );
    // With each connection's outcome: both failed.
    let judged = judge::with_outcomes(&lines[..4]);
    // (The tracing reader keeps `err=`'s first word.)
    assert_eq!(judged[0].error.as_deref(), Some("http"));
    assert!(fails(&judge::outbound_logged(&judged, &direct).0).contains("error http"));
    // A start whose span completed keeps no error, and holds (through its waypoint).
    let judged = judge::with_outcomes(&lines);
    assert_eq!(judged[4].error, None);
    let via = Traffic {
        client_sa: "curl".into(),
        service_host: "handson.handson.svc.cluster.local".into(),
        server_ips: vec!["10.96.172.67".into()],
        waypoint: Some(WaypointExpectation {
            identity: None,
            pod_ips: vec!["10.0.2.107".into()],
            deployment: None,
        }),
        ..Traffic::default()
    };
    assert_eq!(judge::outbound_logged(&judged[4..], &via).0, Verdict::Holds);
    // The failure of another span does not touch this one.
    let mut other = lines[..2].to_vec();
    other[1].0 = other[1].0.replace("9f733045", "00000000");
    assert_eq!(judge::with_outcomes(&other)[0].error, None);
}

#[test]
fn the_l4_answers_read_each_connections_outcome() {
    let doc = doc();
    let refs = Refs::new(&doc, "1.21.0", Era::InPod1_21);
    let lines = tracing_lines();
    let direct = Traffic {
        client_sa: "curl-deny".into(),
        service_host: "handson.handson.svc.cluster.local".into(),
        server_ips: vec!["10.0.2.103".into()],
        ..Traffic::default()
    };
    let answer = answers::outbound_logged(&refs, "l4.sleep_ztunnel_line", &lines[..4], &direct);
    let (actual, _) = drifted(&answer);
    assert!(
        actual.contains("(proxy to) [RustTracing, error http]"),
        "{actual}"
    );
}

// ---- kiali.graph_empty_before_traffic ----------------------------------------------------------

#[test]
fn an_error_from_kiali_is_no_empty_graph() {
    let doc = doc();
    let refs = Refs::new(&doc, TUTORIAL_BUILD, Era::Experimental2022);
    let empty = serde_json::json!({ "elements": { "nodes": [], "edges": [] } });
    let ok = KialiGraph {
        status: 200,
        body: empty.clone(),
    };
    assert_eq!(answers::graph_empty(&refs, &ok), Answer::AsDocumented);
    // Kiali's error body (kiali/kiali handlers: `{"error": "..."}` with a 5xx or 4xx status).
    let error = KialiGraph {
        status: 503,
        body: serde_json::json!({ "error": "Prometheus is unreachable" }),
    };
    let (actual, _) = drifted(&answers::graph_empty(&refs, &error));
    assert!(actual.contains("HTTP 503"), "{actual}");
    // The error body with 200, and a non-200 with a graph: neither is an empty graph.
    let error_200 = KialiGraph {
        status: 200,
        ..error.clone()
    };
    assert!(judge::graph_without_edge(&error_200, "sleep", "productpage").is_failure());
    let graph_500 = KialiGraph {
        status: 500,
        body: empty,
    };
    assert!(judge::graph_without_edge(&graph_500, "sleep", "productpage").is_failure());
    let nothing = KialiGraph {
        status: 200,
        body: serde_json::json!({}),
    };
    assert!(judge::graph_without_edge(&nothing, "sleep", "productpage").is_failure());
    // And the traffic claim reads the status too.
    let recorded: serde_json::Value =
        serde_json::from_str(&fixtures::read("recorded/kiali-graph-ambient.json").unwrap())
            .unwrap();
    let with_edge = |status| KialiGraph {
        status,
        body: recorded.clone(),
    };
    assert_eq!(
        judge::graph_with_edge(&with_edge(200), "productpage", "reviews"),
        Verdict::Holds
    );
    assert!(judge::graph_with_edge(&with_edge(500), "productpage", "reviews").is_failure());
}

// ---- installation.ingress_gateway_as_era_says ---------------------------------------------------

/// The 2022 build's ingress gateway as the tutorial lists it, from real objects of the sim run:
/// istiod's Deployment, ReplicaSet and pod renamed to the tutorial's names (no object of that
/// build was recorded; READY 1/1, 1 1 1 and `1/1 Running 0` are the same numbers).
pub struct ListedIngress {
    deployment: Deployment,
    replicaset: ReplicaSet,
    pods: Vec<Pod>,
}

impl ListedIngress {
    pub fn new() -> Self {
        let mut deployment: Deployment = captured("istio-system-deployments.json", "istiod");
        deployment.metadata.name = Some("istio-ingressgateway".into());
        let mut replicaset: ReplicaSet = captured("istio-system-replicasets.json", "istiod-");
        replicaset.metadata.name = Some("istio-ingressgateway-dd667dbb7".into());
        let mut pod: Pod = captured("istio-system-pods.json", "istiod-");
        pod.metadata.name = Some("istio-ingressgateway-dd667dbb7-z64jh".into());
        ListedIngress {
            deployment,
            replicaset,
            pods: vec![pod],
        }
    }

    pub fn objects(&self) -> IngressGatewayObjects<'_> {
        IngressGatewayObjects {
            deployment: Some(&self.deployment),
            replicaset: Some(&self.replicaset),
            pods: &self.pods,
            ..Default::default()
        }
    }
}

#[test]
fn the_ingress_gateways_pod_deployment_and_replicaset_rows_are_read() {
    let doc = doc();
    let refs = Refs::new(&doc, TUTORIAL_BUILD, Era::Experimental2022);
    let all = IngressGatewayParts {
        deployment: true,
        service: true,
        autoscaler: true,
    };
    let svc: k8s_openapi::api::core::v1::Service = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "istio-ingressgateway"},
        "spec": {"type": "LoadBalancer", "ports": [{"port": 15021}, {"port": 80}, {"port": 443}]}
    }))
    .unwrap();
    let hpa: k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler =
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "istio-ingressgateway"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "istio-ingressgateway"},
                "minReplicas": 1, "maxReplicas": 5, "metrics": [{"type": "Resource",
                "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]}
        }))
        .unwrap();
    let listed = ListedIngress::new();
    let answer = |o: IngressGatewayObjects| {
        answers::ingress_gateway(
            &refs,
            all,
            IngressGatewayObjects {
                service: Some(&svc),
                autoscaler: Some(&hpa),
                ..o
            },
        )
    };
    assert_eq!(answer(listed.objects()), Answer::AsDocumented);
    // The Deployment at 0/1.
    let mut half = listed.deployment.clone();
    half.status.as_mut().unwrap().ready_replicas = Some(0);
    let (actual, _) = drifted(&answer(IngressGatewayObjects {
        deployment: Some(&half),
        ..listed.objects()
    }));
    assert!(actual.contains("READY 0/1"), "{actual}");
    // The ReplicaSet with 2 current where the tutorial lists 1.
    let mut two = listed.replicaset.clone();
    two.status.as_mut().unwrap().replicas = 2;
    let (actual, _) = drifted(&answer(IngressGatewayObjects {
        replicaset: Some(&two),
        ..listed.objects()
    }));
    assert!(actual.contains("1 desired, 2 current"), "{actual}");
    // The pod restarted twice, or no pod at all.
    let mut pods = listed.pods.clone();
    pods[0]
        .status
        .as_mut()
        .unwrap()
        .container_statuses
        .as_mut()
        .unwrap()[0]
        .restart_count = 2;
    let (actual, _) = drifted(&answer(IngressGatewayObjects {
        pods: &pods,
        ..listed.objects()
    }));
    assert!(actual.contains("Running 2"), "{actual}");
    assert!(
        answer(IngressGatewayObjects {
            pods: &[],
            ..listed.objects()
        })
        .is_failure(false)
    );
    assert!(
        answer(IngressGatewayObjects {
            replicaset: None,
            ..listed.objects()
        })
        .is_failure(false)
    );
}

// ---- demo_apps.pods_enrolled -------------------------------------------------------------------

#[test]
fn a_route_through_another_device_or_table_is_not_the_redirection() {
    let doc = doc();
    let refs = Refs::new(&doc, TUTORIAL_BUILD, Era::Experimental2022);
    // The tutorial's own productpage line, as istio-cni would log it on the pod's node.
    let line = "2022-11-26T19:44:13.500330Z     info    ambient Adding route for productpage-v1-7c548b785b-thqvj/default: [table 100 10.244.2.9/32 via 192.168.126.2 dev istioin src 10.244.2.1]";
    let pod = AppPod {
        name: "productpage-v1-7c548b785b-thqvj".into(),
        namespace: "default".into(),
        node: "ambient-worker2".into(),
        ip: Some("10.244.2.9".into()),
    };
    let on_node = |text: &str| {
        BTreeMap::from([(
            "ambient-worker2".to_string(),
            vec![parse_enrollment(text).unwrap()],
        )])
    };
    let e = parse_enrollment(line).unwrap();
    assert_eq!(
        (e.route_table.as_deref(), e.route_device.as_deref()),
        (Some("100"), Some("istioin"))
    );
    assert_eq!(
        answers::pods_enrolled(&refs, std::slice::from_ref(&pod), &on_node(line)),
        Answer::AsDocumented
    );
    for (near, seen) in [
        (line.replace("dev istioin", "dev eth0"), "dev eth0"),
        (line.replace("table 100", "table 101"), "table 101"),
        (line.replace("table 100 ", ""), "table ?"),
    ] {
        let (actual, _) = drifted(&answers::pods_enrolled(
            &refs,
            std::slice::from_ref(&pod),
            &on_node(&near),
        ));
        assert!(actual.contains(seen), "{actual}");
    }
}

/// The seed with its istio-cni lines rewritten by `edit`, as a maintainer might.
fn doc_with_cni_lines(edit: impl Fn(&str) -> String) -> Expectations {
    let text = fixtures::read("tutorial/ambient-tutorial.md").unwrap();
    let edited: String = text
        .lines()
        .map(|l| {
            if l.contains("Adding route for ") {
                edit(l)
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    extract(&edited)
}

#[test]
fn a_documented_node_route_without_its_table_and_device_is_read_as_no_route() {
    let pod = AppPod {
        name: "productpage-v1-7c548b785b-thqvj".into(),
        namespace: "default".into(),
        node: "ambient-worker2".into(),
        ip: Some("10.244.2.9".into()),
    };
    let seen = "2022-11-26T19:44:13.500330Z     info    ambient Adding route for productpage-v1-7c548b785b-thqvj/default: [table 100 10.244.2.9/32 via 192.168.126.2 dev istioin src 10.244.2.1]";
    let by_node = BTreeMap::from([(
        "ambient-worker2".to_string(),
        vec![parse_enrollment(seen).unwrap()],
    )]);
    // The route lines with the table and device cut: still the node-route format, but what the
    // claim compares is gone. Not judged against some other route: unreadable, and why.
    let cut = doc_with_cni_lines(|l| l.replace("table 100 ", "").replace(" dev istioin", ""));
    let refs = Refs::new(&cut, TUTORIAL_BUILD, Era::Experimental2022);
    let answer = answers::pods_enrolled(&refs, std::slice::from_ref(&pod), &by_node);
    assert!(
        matches!(&answer, Answer::NotApplicable { why } if why.contains("the route's table and device")),
        "{}",
        answer.describe()
    );
    // Near miss: a format that names no route (1.23+, `adding pod to the mesh`) is judged, and
    // holds on the same pod announced that way on its node.
    let to_mesh = |l: &str| {
        let pod = l
            .split("Adding route for ")
            .nth(1)
            .and_then(|r| r.split('/').next())
            .unwrap();
        format!(
            "2024-07-23T14:21:03.450051Z\tinfo\tcni\tadding pod to the mesh\tns=default name={pod}"
        )
    };
    let later = doc_with_cni_lines(to_mesh);
    let refs = Refs::new(&later, TUTORIAL_BUILD, Era::Experimental2022);
    let announced = BTreeMap::from([(
        "ambient-worker2".to_string(),
        vec![parse_enrollment(&to_mesh(seen)).unwrap()],
    )]);
    assert_eq!(
        answers::pods_enrolled(&refs, std::slice::from_ref(&pod), &announced),
        Answer::AsDocumented
    );
}

#[test]
fn the_route_expected_is_named_for_the_node_route_format_only() {
    let doc = doc();
    let pod = AppPod {
        name: "productpage-v1-7c548b785b-thqvj".into(),
        namespace: "default".into(),
        node: "ambient-worker2".into(),
        ip: Some("10.244.2.9".into()),
    };
    // No enrollment line at all on 1.31: the document expects the route; the era (which
    // announces pods without one) does not.
    let refs = Refs::new(&doc, "1.31-dev", Era::Ga1_24);
    let Answer::Drifted {
        expected,
        era_expected,
        ..
    } = answers::pods_enrolled(&refs, std::slice::from_ref(&pod), &BTreeMap::new())
    else {
        panic!("expected a drift")
    };
    assert!(
        expected.contains("a route via table 100 dev istioin"),
        "{expected}"
    );
    let era_expected = era_expected.unwrap();
    assert!(
        era_expected.contains("an enrollment line"),
        "{era_expected}"
    );
    assert!(!era_expected.contains("route via"), "{era_expected}");
}

// ---- demo_apps.bookinfo_gateway_applied --------------------------------------------------------

#[test]
fn the_bookinfo_gateway_claim_can_fail() {
    let doc = doc();
    let refs = Refs::new(&doc, TUTORIAL_BUILD, Era::Experimental2022);
    let applied = Ok(vec![
        "Gateway bookinfo-gateway".to_string(),
        "VirtualService bookinfo".to_string(),
    ]);
    assert_eq!(
        answers::bookinfo_gateway(&refs, &applied, &[]),
        Answer::AsDocumented
    );
    // What the API server answers when the kind is not served (the sim run's words for the
    // tutorial's v1alpha2 Gateway).
    let refused = fixtures::read("objects/captured/1.31-dev/v1alpha2-gateway.txt").unwrap();
    let (actual, _) = drifted(&answers::bookinfo_gateway(
        &refs,
        &Err(refused.trim().to_string()),
        &[],
    ));
    assert!(actual.starts_with("the apply failed"), "{actual}");
    let (actual, _) = drifted(&answers::bookinfo_gateway(
        &refs,
        &applied,
        &["VirtualService bookinfo".to_string()],
    ));
    assert!(
        actual.contains("missing afterwards: VirtualService bookinfo"),
        "{actual}"
    );
    assert!(answers::bookinfo_gateway(&refs, &Ok(vec![]), &[]).is_failure(false));
}

// ---- the era side ------------------------------------------------------------------------------

#[test]
fn a_ztunnel_that_lost_its_selector_on_1_24_is_a_drift_not_as_documented() {
    let doc = doc();
    let ztunnel: DaemonSet = captured("istio-system-daemonsets.json", "ztunnel");
    let refs = Refs::new(&doc, "1.24.2", Era::Ga1_24);
    // As 1.24.2 ships it: `kubernetes.io/os=linux`, where the tutorial shows `<none>`.
    let as_shipped = answers::node_selector(&refs, Component::Ztunnel, &ztunnel);
    let Answer::DocStale { era, .. } = &as_shipped else {
        panic!("{}", as_shipped.describe())
    };
    assert!(era.fact.contains("ztunnel"), "{era:?}");
    // Lost: matches the tutorial's `<none>`, not this Istio's own.
    let mut lost = ztunnel.clone();
    lost.spec
        .as_mut()
        .unwrap()
        .template
        .spec
        .as_mut()
        .unwrap()
        .node_selector = None;
    let (actual, era_expected) = drifted(&answers::node_selector(&refs, Component::Ztunnel, &lost));
    assert!(actual.contains("<none>"), "{actual}");
    assert!(era_expected.unwrap().contains("kubernetes.io/os=linux"));
    // 1.18.x had no selector: there `<none>` is as documented.
    let refs_1_18 = Refs::new(&doc, "1.18.7", Era::Alpha1_18);
    assert_eq!(
        answers::node_selector(&refs_1_18, Component::Ztunnel, &lost),
        Answer::AsDocumented
    );
}

#[test]
fn the_istio_cni_selector_answer_cites_the_istio_cni_fact() {
    let doc = doc();
    let cni: DaemonSet = captured("istio-system-daemonsets.json", "istio-cni-node");
    let refs = Refs::new(&doc, "1.31-dev", Era::Ga1_24);
    let mut other = cni.clone();
    other
        .spec
        .as_mut()
        .unwrap()
        .template
        .spec
        .as_mut()
        .unwrap()
        .node_selector = Some(BTreeMap::from([(
        "kubernetes.io/arch".into(),
        "amd64".into(),
    )]));
    // Neither the tutorial's nor the era's: a drift whose era expectation is istio-cni's.
    let (_, era_expected) = drifted(&answers::node_selector(&refs, Component::IstioCni, &other));
    assert!(era_expected.unwrap().contains("istio-cni-node"));
    let fact = support::eras::provenance(&refs.facts, Fact::CniNodeSelector);
    assert!(fact.fact.contains("istio-cni"), "{fact:?}");
    assert!(fact.source.contains("charts/istio-cni"), "{fact:?}");
}

#[test]
fn a_regression_on_a_newer_era_is_a_drift_for_each_claim_with_an_era_side() {
    let doc = doc();
    let refs = Refs::new(&doc, "1.31-dev", Era::Ga1_24);
    // Install lines: the 2022 build's lines printed by 1.31 (its own icons lost).
    let printed_2022: Vec<String> = [
        "✔ Istio core installed",
        "✔ Istiod installed",
        "✔ Ingress gateways installed",
        "✔ CNI installed",
        "✔ Installation complete",
    ]
    .map(String::from)
    .into();
    assert!(answers::install_lines(&refs, &printed_2022).is_failure(false));
    // The ingress gateway present and as listed on 1.31, whose ambient profile installs none.
    let listed = ListedIngress::new();
    let all = IngressGatewayParts {
        deployment: true,
        service: true,
        autoscaler: true,
    };
    let answer = answers::ingress_gateway(&refs, all, listed.objects());
    assert!(answer.is_failure(false), "{}", answer.describe());
    // Enrollment: a 2022 route line on 1.31, which announces pods otherwise.
    let line = "2022-11-26T19:44:13.500330Z     info    ambient Adding route for productpage-v1-7c548b785b-thqvj/default: [table 100 10.244.2.9/32 via 192.168.126.2 dev istioin src 10.244.2.1]";
    let pod = AppPod {
        name: "productpage-v1-7c548b785b-thqvj".into(),
        namespace: "default".into(),
        node: "n".into(),
        ip: Some("10.244.2.9".into()),
    };
    let by_node = BTreeMap::from([("n".to_string(), vec![parse_enrollment(line).unwrap()])]);
    let (_, era_expected) = drifted(&answers::pods_enrolled(&refs, &[pod], &by_node));
    assert!(era_expected.unwrap().contains("AddingPodToMesh"));
    // The waypoint pod named as in 2022 on 1.31.
    let mut pod = waypoint_pod();
    pod.metadata.name = Some("bookinfo-productpage-waypoint-proxy-fcf74c55d-j9zm5".into());
    assert!(answers::waypoint_pod(&refs, &[pod]).is_failure(false));
}

#[test]
fn the_waypoint_identity_fact_explains_an_identity_difference() {
    let doc = doc();
    let refs = Refs::new(&doc, "1.31-dev", Era::Ga1_24);
    let lines = waypoint_lines();
    // Only the waypoint's identity can tie the line to it (no address, no deployment known).
    let mut t = to_details_via_waypoint();
    t.waypoint = Some(WaypointExpectation {
        identity: None,
        pod_ips: vec![],
        deployment: None,
    });
    // The era's identity is `productpage-waypoint`; make the recorded line present it.
    let text = lines[0]
        .0
        .replace("sa/waypoint\"", "sa/productpage-waypoint\"");
    let line = vec![(text.clone(), parse_access(&text).unwrap())];
    let answer = answers::outbound_logged(&refs, "l7.sleep_ztunnel_line", &line, &t);
    let Answer::DocStale { era, .. } = &answer else {
        panic!("{}", answer.describe())
    };
    assert!(
        era.fact
            .contains("identity of service account productpage-waypoint"),
        "{era:?}"
    );
    assert!(era.fact.contains("ztunnel logs connections"), "{era:?}");
    // With the address known, the identity does not decide: only the log format is cited.
    let answer = answers::outbound_logged(
        &refs,
        "l7.sleep_ztunnel_line",
        &lines[..1],
        &to_details_via_waypoint(),
    );
    let Answer::DocStale { era, .. } = &answer else {
        panic!("{}", answer.describe())
    };
    assert!(!era.fact.contains("identity"), "{era:?}");
}

// ---- RESTARTS of every pod line the tutorial shows ---------------------------------------------

fn istio_system_pods(prefix: &str) -> Vec<Pod> {
    let list: serde_json::Value = serde_json::from_str(
        &fixtures::read("objects/captured/1.31-dev/istio-system-pods.json").unwrap(),
    )
    .unwrap();
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| {
            p["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.starts_with(prefix))
        })
        .map(|p| serde_json::from_value(p.clone()).unwrap())
        .collect()
}

fn restarted(mut pod: Pod, n: i32) -> Pod {
    pod.status
        .as_mut()
        .unwrap()
        .container_statuses
        .as_mut()
        .unwrap()[0]
        .restart_count = n;
    pod
}

#[test]
fn a_restarted_pod_is_not_the_listings_restarts_0() {
    let doc = doc();
    let refs = Refs::new(&doc, "1.31-dev", Era::Ga1_24);
    let nodes: Vec<String> = istio_system_pods("ztunnel-")
        .iter()
        .filter_map(|p| p.spec.as_ref()?.node_name.clone())
        .collect();
    for (component, name, prefix) in [
        (Component::Ztunnel, "ztunnel", "ztunnel-"),
        (Component::IstioCni, "istio-cni-node", "istio-cni-node-"),
    ] {
        let ds: DaemonSet = captured("istio-system-daemonsets.json", name);
        let pods = istio_system_pods(prefix);
        assert_eq!(
            answers::one_pod_per_node(&refs, component, &ds, &pods, &nodes),
            Answer::AsDocumented,
            "{name}"
        );
        let mut once = pods.clone();
        once[1] = restarted(once[1].clone(), 1);
        let (actual, _) = drifted(&answers::one_pod_per_node(
            &refs, component, &ds, &once, &nodes,
        ));
        assert!(actual.contains("RESTARTS 1"), "{actual}");
        if component == Component::IstioCni {
            let (actual, _) = drifted(&answers::listed_proxies_one_per_node(
                &refs, &ds, &once, &nodes,
            ));
            assert!(actual.contains("RESTARTS 1"), "{actual}");
        }
    }
    // istiod: its Deployment 1/1, and its pod `1/1 Running 0`.
    let istiod: Deployment = captured("istio-system-deployments.json", "istiod");
    let pods = istio_system_pods("istiod-");
    assert_eq!(
        answers::istiod_available(&refs, &istiod, &pods),
        Answer::AsDocumented
    );
    let (actual, _) = drifted(&answers::istiod_available(
        &refs,
        &istiod,
        &[restarted(pods[0].clone(), 3)],
    ));
    assert!(actual.contains("Running 3"), "{actual}");
    assert!(answers::istiod_available(&refs, &istiod, &[]).is_failure(false));
}

#[test]
fn the_eras_own_lines_with_one_thing_broken_are_a_drift_never_stale() {
    let doc = doc();
    let refs = Refs::new(&doc, "1.31-dev", Era::Ga1_24);
    let lines = waypoint_lines();
    // As recorded, the L7 lines are the era's: the tutorial is stale.
    let out = answers::outbound_logged(
        &refs,
        "l7.sleep_ztunnel_line",
        &lines[..1],
        &to_details_via_waypoint(),
    );
    assert!(matches!(out, Answer::DocStale { .. }), "{}", out.describe());
    let inbound = answers::inbound_logged(
        &refs,
        "l7.productpage_ztunnel_line",
        &lines[1..],
        &from_the_waypoint(),
        From::Waypoint,
    );
    assert!(
        matches!(inbound, Answer::DocStale { .. }),
        "{}",
        inbound.describe()
    );
    // A direct line beside the waypoint line, in the era's own format: a drift.
    let direct = around_the_waypoint(&lines[0].0);
    let with_direct = vec![
        lines[0].clone(),
        (direct.clone(), parse_access(&direct).unwrap()),
    ];
    let (_, era_expected) = drifted(&answers::outbound_logged(
        &refs,
        "l7.sleep_ztunnel_line",
        &with_direct,
        &to_details_via_waypoint(),
    ));
    assert!(era_expected.unwrap().contains("IstioAccessQuoted"));
    // The era's line with an error: not completed, a drift.
    let refused = lines[0].0.replace(
        "duration=\"40ms\"",
        "duration=\"40ms\" error=\"connection closed due to policy rejection\"",
    );
    let refused = vec![(refused.clone(), parse_access(&refused).unwrap())];
    assert!(
        answers::outbound_logged(
            &refs,
            "l7.sleep_ztunnel_line",
            &refused,
            &to_details_via_waypoint()
        )
        .is_failure(false)
    );
    // istio-cni of 1.23+ that announced another pod than the one running: a drift.
    let enrolled: Vec<_> = recorded_lines("istio-cni.log")
        .unwrap()
        .iter()
        .filter(|l| l.source.contains("55913"))
        .filter_map(|l| parse_enrollment(&l.text).ok())
        .collect();
    let pod = |name: &str| AppPod {
        name: name.into(),
        namespace: "slow-cooker".into(),
        node: "n1".into(),
        ip: None,
    };
    let by_node = BTreeMap::from([("n1".to_string(), enrolled)]);
    assert!(matches!(
        answers::pods_enrolled(
            &refs,
            &[pod("nginx-deployment-1-7588ccf8f7-n8kvl")],
            &by_node
        ),
        Answer::DocStale { .. }
    ));
    assert!(
        answers::pods_enrolled(
            &refs,
            &[pod("nginx-deployment-1-7588ccf8f7-zzzzz")],
            &by_node
        )
        .is_failure(false)
    );
}

#[test]
fn kubectls_status_column_shows_a_waiting_reason_before_the_phase() {
    let mut pod = waypoint_pod();
    assert_eq!(judge::status_column(&pod), "Running");
    let statuses = pod
        .status
        .as_mut()
        .unwrap()
        .container_statuses
        .as_mut()
        .unwrap();
    statuses[0].state = Some(k8s_openapi::api::core::v1::ContainerState {
        waiting: Some(k8s_openapi::api::core::v1::ContainerStateWaiting {
            reason: Some("CrashLoopBackOff".into()),
            ..Default::default()
        }),
        ..Default::default()
    });
    assert_eq!(judge::status_column(&pod), "CrashLoopBackOff");
    let doc = doc();
    let refs = Refs::new(&doc, "1.31-dev", Era::Ga1_24);
    assert!(answers::waypoint_pod(&refs, &[pod]).is_failure(false));
}

#[test]
fn the_pinned_build_never_reads_the_era_and_an_era_that_cannot_say_keeps_the_documents_answer() {
    let doc = doc();
    // On the pinned build a ztunnel with the tutorial's own `<none>`: as documented.
    let ztunnel: DaemonSet = captured("istio-system-daemonsets.json", "ztunnel");
    let mut none = ztunnel.clone();
    none.spec
        .as_mut()
        .unwrap()
        .template
        .spec
        .as_mut()
        .unwrap()
        .node_selector = None;
    let pinned = Refs::new(&doc, TUTORIAL_BUILD, Era::Experimental2022);
    assert_eq!(
        answers::node_selector(&pinned, Component::Ztunnel, &none),
        Answer::AsDocumented
    );
    // Pinned, the era is not read even where its facts would differ.
    let pinned_with_other_facts = Refs {
        facts: facts(Era::Ga1_24),
        ..pinned.clone()
    };
    assert_eq!(
        answers::node_selector(&pinned_with_other_facts, Component::Ztunnel, &none),
        Answer::AsDocumented
    );
    // And the 1.31 DaemonSet on the pinned build: a drift, never stale.
    let (_, era_expected) = drifted(&answers::node_selector(
        &pinned,
        Component::Ztunnel,
        &ztunnel,
    ));
    assert_eq!(era_expected, None);
    // A claim whose era side is silent (no waypoint declared the era's way): as documented.
    let status: serde_json::Value =
        serde_norway::from_str(&fixtures::read("recorded/waypoint-status-2022.yaml").unwrap())
            .unwrap();
    let tutorials = DeclarationOutcome {
        what: "gateway.networking.k8s.io/v1alpha2 Gateway productpage".into(),
        refused: None,
        conditions: judge::conditions_of(&serde_json::json!({ "status": status })),
    };
    let refs = Refs::new(&doc, "1.31-dev", Era::Ga1_24);
    assert_eq!(
        answers::waypoint_declared(&refs, &tutorials, None, ""),
        Answer::AsDocumented
    );
}

#[test]
fn only_the_clients_own_connections_to_the_service_in_the_format_judged_count_as_around() {
    let lines = waypoint_lines();
    let via = lines[0].1.clone();
    let t = to_details_via_waypoint();
    // A direct line to another service (ratings, not details): not around this waypoint.
    let elsewhere = around_the_waypoint(&lines[0].0)
        .replace(
            "details.default.svc.cluster.local",
            "ratings.default.svc.cluster.local",
        )
        .replace("dst.addr=10.28.2.20:15008", "dst.addr=10.28.2.30:15008");
    let elsewhere = parse_access(&elsewhere).unwrap();
    assert_eq!(
        judge::outbound_logged(&[via.clone(), elsewhere], &t).0,
        Verdict::Holds
    );
    // Another client's direct line to details: not the client's connection.
    let other_client = around_the_waypoint(&lines[0].0)
        .replace("src.addr=10.28.2.18:51960", "src.addr=10.28.2.40:51960")
        .replace(
            "productpage-v1-57ffb6658c-tgbjs",
            "reviews-v1-6c8f8d9b7-abcde",
        )
        .replace("sa/bookinfo-productpage\"", "sa/bookinfo-reviews\"");
    let other_client = parse_access(&other_client).unwrap();
    assert_eq!(
        judge::outbound_logged(&[via.clone(), other_client], &t).0,
        Verdict::Holds
    );
    // A direct line in another format than the one judged (the tutorial's 2022 line): not read.
    let envoy = recorded_lines("ztunnel-envoy-2022.log")
        .unwrap()
        .into_iter()
        .find(|l| l.text.contains("capture outbound (no waypoint proxy)"))
        .unwrap();
    let mut envoy = parse_access(&envoy.text).unwrap();
    envoy.dst.service = Some("details.default.svc.cluster.local".into());
    envoy.src.identity = Some("spiffe://cluster.local/ns/default/sa/bookinfo-productpage".into());
    let quoted = Traffic {
        format: Some(support::eras::AccessLogFormat::IstioAccessQuoted),
        ..t.clone()
    };
    assert_eq!(
        judge::outbound_logged(&[via.clone(), envoy.clone()], &quoted).0,
        Verdict::Holds
    );
    assert!(judge::outbound_logged(&[via, envoy], &t).0.is_failure());
    // Inbound: another client straight to the server is not the tutorial's client.
    let from_wp = lines[1].1.clone();
    let other = lines[1]
        .0
        .replace("src.addr=10.244.3.9:52462", "src.addr=10.244.3.77:52462")
        .replace(
            "simple-http-waypoint-547d6d7b8b-4xckr",
            "curl-7656cf8794-8fhdk",
        )
        .replace("sa/simple-http-waypoint", "sa/curl");
    let other = parse_access(&other).unwrap();
    assert_eq!(
        judge::inbound_logged(&[from_wp, other], &from_the_waypoint(), From::Waypoint).0,
        Verdict::Holds
    );
}

#[test]
fn a_later_failed_line_without_an_error_still_fails_its_connection() {
    // The recorded pair, its `err=` cut (the one edit): `failed` alone says the connection ended
    // badly.
    let lines: Vec<(String, AccessRecord)> = tracing_lines()[..2]
        .iter()
        .map(|(text, _)| {
            let text = text
                .split_once(" err=")
                .map_or(text.clone(), |(kept, _)| kept.to_string());
            let r = parse_access(&text).unwrap();
            (text, r)
        })
        .collect();
    assert_eq!(lines[1].1.error, None);
    let judged = judge::with_outcomes(&lines);
    assert_eq!(judged[0].error.as_deref(), Some("failed (a later line)"));
    // Structured and Envoy lines are never paired: their own line says how they ended.
    let structured = waypoint_lines();
    assert_eq!(
        judge::with_outcomes(&structured),
        structured
            .iter()
            .map(|(_, r)| r.clone())
            .collect::<Vec<_>>()
    );
}
