//! The claims' dispatch (`support::registry`): which claims an observation at an expectation
//! decides, each once per reference with the text it rests on, and what is recorded of an answer
//! (`settle`): every path with the near miss it must not take.

use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::Pod;
use support::answers::{self, Decided, Refs};
use support::claims::{Answer, ClaimId, of};
use support::cluster::provider::facts;
use support::eras::{Era, facts as era_facts};
use support::fixtures::{self, recorded_lines};
use support::judge::{self, Traffic, WaypointExpectation};
use support::logs::{AccessRecord, parse_access};
use support::registry::{self, Kind, Observation};
use support::settings::Provider;
use support::snapshot::Compared;
use support::tutorial::expectations::{Expectations, extract};

fn doc() -> Expectations {
    extract(&fixtures::read("tutorial/ambient-tutorial.md").unwrap())
}

fn page() -> &'static Path {
    Path::new("fixtures/tutorial/ambient-tutorial.md")
}

fn drift() -> Answer {
    Answer::Drifted {
        expected: "e".into(),
        actual: "a".into(),
        era_expected: None,
        documented: None,
    }
}

fn waypoint_pods() -> Vec<Pod> {
    let list: serde_json::Value = serde_json::from_str(
        &fixtures::read("objects/captured/1.31-dev/default-pods.json").unwrap(),
    )
    .unwrap();
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| serde_json::from_value::<Pod>(i.clone()).unwrap())
        .filter(|p| p.metadata.name.as_deref().unwrap().contains("waypoint"))
        .collect()
}

// ---- settle --------------------------------------------------------------------------------

#[test]
fn a_data_plane_claim_is_not_applicable_on_sim_and_its_drift_stays_a_drift_on_kind() {
    let doc = doc();
    let claim = of(ClaimId::L7SleepZtunnelLogsToWaypoint);
    let decided = Decided {
        answer: drift(),
        evidence: Some("the line".into()),
    };
    let on_sim = registry::settle(
        claim,
        &facts(Provider::Sim),
        &doc,
        page(),
        decided.clone(),
        None,
    );
    let Answer::NotApplicable { why } = &on_sim else {
        panic!("{}", on_sim.describe())
    };
    // With what was observed: the answer and the text it rested on.
    assert!(why.contains("sim") && why.contains("Data"), "{why}");
    assert!(
        why.contains("actual:   a") && why.contains("the line"),
        "{why}"
    );
    // Near miss: the same answer where a data plane runs is the drift it is.
    let on_kind = registry::settle(claim, &facts(Provider::Kind), &doc, page(), decided, None);
    assert_eq!(on_kind, drift());
    // A Control-plane claim is decided on sim.
    let control = of(ClaimId::InstallationIstiodService);
    let decided = Decided::bare(drift());
    let answer = registry::settle(control, &facts(Provider::Sim), &doc, page(), decided, None);
    assert_eq!(answer, drift());
}

#[test]
fn the_apps_readiness_is_decided_only_where_containers_run() {
    // kwok marks pods Running and ready with nothing running: sim cannot decide readiness.
    for id in [
        ClaimId::DemoAppsBookinfoAvailable,
        ClaimId::DemoAppsClientsAvailable,
    ] {
        let c = of(id);
        assert!(!facts(Provider::Sim).decides(c.plane), "{}", c.name());
        assert!(facts(Provider::Kind).decides(c.plane), "{}", c.name());
        let decided = Decided {
            answer: Answer::AsDocumented,
            evidence: Some("the API server reports productpage-v1 available".into()),
        };
        let answer = registry::settle(c, &facts(Provider::Sim), &doc(), page(), decided, None);
        let Answer::NotApplicable { why } = answer else {
            panic!("{}: decided on sim", c.name())
        };
        assert!(why.contains("productpage-v1 available"), "{why}");
    }
}

#[test]
fn a_claim_whose_anchors_the_page_does_not_document_is_not_applicable() {
    let claim = of(ClaimId::L7WaypointPodNamed);
    let other_page = extract("# Another page\n\n```bash\nkubectl get pods\n```\n");
    let answer = registry::settle(
        claim,
        &facts(Provider::Kind),
        &other_page,
        Path::new("another.md"),
        Decided::bare(drift()),
        None,
    );
    let Answer::NotApplicable { why } = answer else {
        panic!("{}", answer.describe())
    };
    assert!(
        why.contains("another.md") && why.contains("l7.waypoint_pod_line"),
        "{why}"
    );
    // Near miss: the page that documents it keeps the answer.
    let answer = registry::settle(
        claim,
        &facts(Provider::Kind),
        &doc(),
        page(),
        Decided::bare(drift()),
        None,
    );
    assert_eq!(answer, drift());
}

#[test]
fn a_differing_snapshot_makes_a_holding_answer_a_drift_and_a_missing_one_does_not() {
    let claim = of(ClaimId::L4SleepZtunnelLogsOutbound);
    let settle = |compared: &Compared| {
        registry::settle(
            claim,
            &facts(Provider::Kind),
            &doc(),
            page(),
            Decided::bare(Answer::AsDocumented),
            Some(compared),
        )
    };
    let differs = Compared::Differs {
        path: PathBuf::from("snapshots/x.snap"),
        stored: "stored line".into(),
        observed: "observed line".into(),
    };
    let Answer::Drifted {
        expected, actual, ..
    } = settle(&differs)
    else {
        panic!("a differing snapshot left the answer holding")
    };
    assert!(expected.contains("stored line") && actual.contains("observed line"));
    let missing = Compared::Missing {
        path: PathBuf::from("snapshots/x.snap"),
        observed: "observed line".into(),
    };
    assert_eq!(settle(&missing), Answer::AsDocumented);
    assert_eq!(settle(&Compared::Same), Answer::AsDocumented);
    let unreadable = Compared::Unreadable {
        why: "not in insta's format".into(),
    };
    assert!(matches!(settle(&unreadable), Answer::NotReached { why } if why.contains("insta")));
    // Where the provider cannot decide the claim, its snapshot is never compared.
    assert!(!registry::compares_snapshot(claim, &facts(Provider::Sim)));
    assert!(registry::compares_snapshot(claim, &facts(Provider::Kind)));
}

#[test]
fn the_log_claims_name_their_stored_snapshots_and_no_other_claim_does() {
    assert_eq!(
        of(ClaimId::L4SleepZtunnelLogsOutbound).decide.snapshot(),
        Some("sleeps_ztunnel_logs_the_outbound_connection")
    );
    assert_eq!(
        of(ClaimId::InstallationZtunnelOnePodPerNode)
            .decide
            .snapshot(),
        None
    );
    let stored = std::fs::read_dir(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tutorial/snapshots"),
    )
    .unwrap()
    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
    .collect::<Vec<_>>();
    for c in support::claims::CLAIMS {
        let Some(name) = c.decide.snapshot() else {
            continue;
        };
        let section = c.name().split('.').next().unwrap();
        let prefix = format!("tutorial__{section}__{name}@");
        assert!(
            stored.iter().any(|f| f.starts_with(&prefix)),
            "{}: no {prefix}*.snap",
            c.name()
        );
    }
}

// ---- decide --------------------------------------------------------------------------------

#[test]
fn an_observation_decides_the_claims_anchored_where_it_was_made_whose_kind_takes_it() {
    let at = |at: &str, kind: Kind| -> Vec<&str> {
        registry::claims_at(at, kind).map(|c| c.name()).collect()
    };
    assert_eq!(
        at("l7.waypoint_pod_line", Kind::Pods),
        ["l7.waypoint_pod_named", "l7.waypoint_pod_running"]
    );
    assert_eq!(
        at("l7.sleep_ztunnel_line", Kind::ZtunnelLog),
        ["l7.sleep_ztunnel_logs_to_waypoint"]
    );
    assert_eq!(
        at("l4.curl_index_page", Kind::Curl),
        ["l4.curl_returns_productpage"]
    );
    // Near misses: the right anchor with another kind, the right kind at another anchor, an
    // anchor whose claims are decided by their own sections only.
    assert!(at("l7.waypoint_pod_line", Kind::ZtunnelLog).is_empty());
    assert!(at("l7.productpage_ztunnel_line", Kind::Pods).is_empty());
    assert!(at("l4.sleep_ztunnel_line", Kind::Curl).is_empty());
    assert!(at("installation.get_all.service", Kind::Pods).is_empty());
}

#[test]
fn the_waypoint_pods_decide_both_pod_claims_with_the_pods_line_as_evidence() {
    let doc = doc();
    let refs = Refs::new(&doc, "1.31-dev", Era::Ga1_24);
    let pods = waypoint_pods();
    let o = Observation::Pods(pods.clone());
    let named = registry::decide(of(ClaimId::L7WaypointPodNamed), &refs, &o);
    let running = registry::decide(of(ClaimId::L7WaypointPodRunning), &refs, &o);
    // The same answers as the claims' own functions.
    assert_eq!(named.answer, answers::waypoint_pod_named(&refs, &pods));
    assert_eq!(running.answer, answers::waypoint_pod(&refs, &pods));
    assert!(matches!(named.answer, Answer::DocStale { .. }));
    let evidence = named.evidence.unwrap();
    assert!(evidence.starts_with("productpage-waypoint-"), "{evidence}");
    // Near miss: no waypoint pod is a drift with nothing to rest on.
    let none = registry::decide(
        of(ClaimId::L7WaypointPodNamed),
        &refs,
        &Observation::Pods(Vec::new()),
    );
    assert!(matches!(none.answer, Answer::Drifted { .. }));
    assert_eq!(none.evidence, None);
    // An observation its kind does not read is not reached, with why.
    let curl = Observation::Curl {
        stdout: String::new(),
    };
    let wrong = registry::decide(of(ClaimId::L7WaypointPodNamed), &refs, &curl);
    assert!(matches!(wrong.answer, Answer::NotReached { why } if why.contains("Curl")));
}

fn l7_lines() -> Vec<(String, AccessRecord)> {
    recorded_lines("ztunnel-access-waypoint.log")
        .unwrap()
        .into_iter()
        .filter_map(|l| parse_access(&l.text).ok().map(|r| (l.text, r)))
        .collect()
}

/// The recorded L7 lines with the waypoint's identity edited to the one 1.22+ gives it
/// (`productpage-waypoint`), read again.
fn l7_lines_of_the_eras_waypoint() -> Vec<(String, AccessRecord)> {
    l7_lines()
        .into_iter()
        .map(|(text, _)| {
            let text = text.replace("sa/waypoint\"", "sa/productpage-waypoint\"");
            let record = parse_access(&text).unwrap();
            (text, record)
        })
        .collect()
}

/// productpage -> details through the namespace waypoint `waypoint`, as recorded.
fn to_waypoint(waypoint_ip: &str) -> Traffic {
    Traffic {
        client_sa: "bookinfo-productpage".into(),
        client_ips: vec!["10.28.2.18".into()],
        service_host: "details.default.svc.cluster.local".into(),
        server_ips: vec!["10.28.2.20".into()],
        waypoint: Some(WaypointExpectation {
            identity: None,
            pod_ips: vec![waypoint_ip.into()],
            deployment: Some("waypoint".into()),
        }),
        ..Traffic::default()
    }
}

#[test]
fn a_ztunnel_line_is_judged_once_per_reference_and_its_line_is_the_snapshot_text() {
    let doc = doc();
    let refs = Refs::new(&doc, "1.31-dev", Era::Ga1_24);
    let lines = l7_lines();
    let claim = of(ClaimId::L7SleepZtunnelLogsToWaypoint);
    let o = Observation::ZtunnelLog {
        lines: lines.clone(),
        traffic: to_waypoint("10.28.2.14"),
    };
    let decided = registry::decide(claim, &refs, &o);
    assert_eq!(
        decided.answer,
        answers::outbound_logged(
            &refs,
            "l7.sleep_ztunnel_line",
            &lines,
            &to_waypoint("10.28.2.14")
        )
    );
    assert!(
        matches!(decided.answer, Answer::DocStale { .. }),
        "{}",
        decided.answer.describe()
    );
    // The evidence is the line the era's judge matched, as the snapshot stores it.
    let mut era = to_waypoint("10.28.2.14");
    era.format = Some(era_facts(Era::Ga1_24).access_log);
    let (_, hit) = judge::outbound_logged(&judge::with_outcomes(&lines), &era);
    let line = &lines[hit.unwrap()].0;
    assert_eq!(
        decided.evidence.as_deref(),
        Some(
            era_facts(Era::Ga1_24)
                .access_log
                .snapshot_text(line)
                .as_str()
        )
    );
    // Near miss: a waypoint at another address is a drift, resting on no line.
    let elsewhere = Observation::ZtunnelLog {
        lines,
        traffic: to_waypoint("10.28.2.99"),
    };
    let decided = registry::decide(claim, &refs, &elsewhere);
    assert!(matches!(decided.answer, Answer::Drifted { .. }));
    assert_eq!(decided.evidence, None);
}

#[test]
fn a_waypoint_claim_without_a_waypoint_on_the_path_is_not_reached_and_an_l4_claim_ignores_one() {
    let doc = doc();
    let refs = Refs::new(&doc, "1.31-dev", Era::Ga1_24);
    let no_waypoint = Traffic {
        waypoint: None,
        ..to_waypoint("10.28.2.14")
    };
    let o = Observation::ZtunnelLog {
        lines: l7_lines(),
        traffic: no_waypoint,
    };
    let l7 = registry::decide(of(ClaimId::L7SleepZtunnelLogsToWaypoint), &refs, &o);
    assert!(matches!(l7.answer, Answer::NotReached { .. }));
    // The L4 claim judges the connection straight, whatever waypoint the step knows of: the same
    // answer with or without one in the observation.
    let with_waypoint = Observation::ZtunnelLog {
        lines: l7_lines(),
        traffic: to_waypoint("10.28.2.14"),
    };
    let l4 = of(ClaimId::L4SleepZtunnelLogsOutbound);
    assert_eq!(
        registry::decide(l4, &refs, &with_waypoint).answer,
        registry::decide(l4, &refs, &o).answer
    );
}

#[test]
fn claims_a_provider_cannot_decide_never_hold_up_the_wait() {
    let doc = doc();
    let refs = Refs::new(&doc, "1.31-dev", Era::Ga1_24);
    use support::observe::Judgement;
    // No waypoint pod yet: both pod claims drift. On sim the Istiod-plane name claim must still
    // settle before the wait ends; the Data-plane line claim holds up nothing there.
    let empty = Observation::Pods(Vec::new());
    let at = "l7.waypoint_pod_line";
    assert!(!registry::decide_all(at, &empty, &refs, &facts(Provider::Sim)).settled());
    // With istiod's pod (not running: kwok's) the name holds, and sim has nothing to wait for.
    let mut pods = waypoint_pods();
    for p in &mut pods {
        p.status.as_mut().unwrap().container_statuses = None;
    }
    let placeholder = Observation::Pods(pods);
    assert!(registry::decide_all(at, &placeholder, &refs, &facts(Provider::Sim)).settled());
    // Near miss: where a data plane runs, the pod that is not ready holds the wait up.
    assert!(!registry::decide_all(at, &placeholder, &refs, &facts(Provider::Kind)).settled());
}

fn captured<K: k8s_openapi::serde::de::DeserializeOwned>(file: &str) -> Vec<K> {
    let list: serde_json::Value = serde_json::from_str(
        &fixtures::read(&format!("objects/captured/1.31-dev/{file}")).unwrap(),
    )
    .unwrap();
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| serde_json::from_value(i.clone()).unwrap())
        .collect()
}

#[test]
fn a_listing_decides_each_listed_objects_row_by_its_name_and_no_other_objects() {
    use k8s_openapi::api::apps::v1::ReplicaSet;
    use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
    use k8s_openapi::api::core::v1::Service;
    use support::registry::Listing;
    let doc = doc();
    let refs = Refs::new(&doc, "1.31-dev", Era::Ga1_24);
    let listing = Listing {
        services: captured::<Service>("istio-system-services.json"),
        replicasets: captured::<ReplicaSet>("istio-system-replicasets.json"),
        autoscalers: captured::<HorizontalPodAutoscaler>(
            "istio-system-horizontalpodautoscalers.json",
        ),
    };
    let decide = |id: ClaimId, l: &Listing| {
        registry::decide(of(id), &refs, &Observation::Listing(l.clone())).answer
    };
    let claims = [
        ClaimId::InstallationIstiodService,
        ClaimId::InstallationIstiodReplicaset,
        ClaimId::InstallationIstiodAutoscaler,
    ];
    // The sim run's own objects, as recorded: istiod's rows as listed.
    for id in claims {
        assert_eq!(decide(id, &listing), Answer::AsDocumented, "{id:?}");
    }
    // Near misses: only other objects listed (another's Service, ReplicaSet and autoscaler, named
    // and owned otherwise) leave each row without its object.
    let mut others = listing.clone();
    for s in &mut others.services {
        s.metadata.name = Some(format!("not-{}", s.metadata.name.as_deref().unwrap()));
    }
    for rs in &mut others.replicasets {
        for o in rs.metadata.owner_references.iter_mut().flatten() {
            o.name = format!("not-{}", o.name);
        }
    }
    for h in &mut others.autoscalers {
        h.metadata.name = Some("not-istiod".into());
    }
    for id in claims {
        let answer = decide(id, &others);
        assert!(
            matches!(answer, Answer::Drifted { .. }),
            "{id:?}: {}",
            answer.describe()
        );
    }
}

#[test]
fn a_ztunnel_line_claim_runs_its_judge_once_per_reference() {
    use std::cell::Cell;
    let doc = doc();
    let lines = l7_lines();
    let runs = Cell::new(0);
    let counted = |r: &[AccessRecord], t: &Traffic| {
        runs.set(runs.get() + 1);
        judge::outbound_logged(r, t)
    };
    let judged = |refs: &Refs, traffic: Traffic| {
        runs.set(0);
        let d = answers::logged(refs, "l7.sleep_ztunnel_line", &lines, &traffic, counted);
        (d.answer, runs.get())
    };
    // The tutorial's build: one reference, one run (a drift here: these are 1.2x lines).
    let pinned = Refs::new(&doc, support::eras::TUTORIAL_BUILD, Era::Experimental2022);
    let (answer, n) = judged(&pinned, to_waypoint("10.28.2.14"));
    assert!(matches!(answer, Answer::Drifted { .. }));
    assert_eq!(n, 1);
    // Another build: the document's run and the era's.
    let refs = Refs::new(&doc, "1.31-dev", Era::Ga1_24);
    let (answer, n) = judged(&refs, to_waypoint("10.28.2.99"));
    assert!(matches!(answer, Answer::Drifted { .. }));
    assert_eq!(n, 2);
    // A stale document: two more to say which of the era's facts explain it.
    let (answer, n) = judged(&refs, to_waypoint("10.28.2.14"));
    assert!(matches!(answer, Answer::DocStale { .. }));
    assert_eq!(n, 4);
}

#[test]
fn a_daemonset_observation_decides_its_own_components_claims_only() {
    use support::claims::Component;
    let at = "installation.get_all.daemonset";
    let names =
        |kind: Kind| -> Vec<&str> { registry::claims_at(at, kind).map(|c| c.name()).collect() };
    assert_eq!(
        names(Kind::DaemonSet(Component::Ztunnel)),
        [
            "installation.ztunnel_one_pod_per_node",
            "installation.ztunnel_node_selector"
        ]
    );
    assert_eq!(
        names(Kind::DaemonSet(Component::IstioCni)),
        [
            "installation.istio_cni_one_pod_per_node",
            "installation.istio_cni_node_selector"
        ]
    );
    // Near miss: istio-cni's DaemonSet handed to a ztunnel claim decides nothing of ztunnel.
    let doc = doc();
    let refs = Refs::new(&doc, "1.31-dev", Era::Ga1_24);
    let cni = Observation::DaemonSet {
        component: Component::IstioCni,
        daemonset: Box::new(captured("istio-system-daemonsets.json").remove(0)),
        pods: Vec::new(),
        nodes: Vec::new(),
    };
    let ztunnel_selector = of(ClaimId::InstallationZtunnelNodeSelector);
    assert!(matches!(
        registry::decide(ztunnel_selector, &refs, &cni).answer,
        Answer::NotReached { .. }
    ));
    let ztunnel_per_node = of(ClaimId::InstallationZtunnelOnePodPerNode);
    assert!(matches!(
        registry::decide(ztunnel_per_node, &refs, &cni).answer,
        Answer::NotReached { .. }
    ));
    // ztunnel's own DaemonSet decides both, as the answers do on it.
    let ztunnel: k8s_openapi::api::apps::v1::DaemonSet =
        captured::<k8s_openapi::api::apps::v1::DaemonSet>("istio-system-daemonsets.json")
            .into_iter()
            .find(|d| d.metadata.name.as_deref() == Some("ztunnel"))
            .unwrap();
    let pods: Vec<Pod> = captured::<Pod>("istio-system-pods.json")
        .into_iter()
        .filter(|p| p.metadata.name.as_deref().unwrap().starts_with("ztunnel-"))
        .collect();
    let nodes: Vec<String> = captured::<k8s_openapi::api::core::v1::Node>("nodes.json")
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect();
    let observed = Observation::DaemonSet {
        component: Component::Ztunnel,
        daemonset: Box::new(ztunnel.clone()),
        pods: pods.clone(),
        nodes: nodes.clone(),
    };
    let per_node = registry::decide(ztunnel_per_node, &refs, &observed).answer;
    assert_eq!(
        per_node,
        answers::one_pod_per_node(&refs, Component::Ztunnel, &ztunnel, &pods, &nodes)
    );
    assert!(
        !matches!(per_node, Answer::NotReached { .. }),
        "{per_node:?}"
    );
    let selector = registry::decide(ztunnel_selector, &refs, &observed).answer;
    assert_eq!(
        selector,
        answers::node_selector(&refs, Component::Ztunnel, &ztunnel)
    );
    assert!(
        !matches!(selector, Answer::NotReached { .. }),
        "{selector:?}"
    );
}

#[test]
fn an_empty_graph_holds_for_the_note_and_drifts_for_the_traffic() {
    let doc = doc();
    let refs = Refs::new(&doc, "1.31-dev", Era::Ga1_24);
    let graph = |status: u16| {
        Observation::Graph(judge::KialiGraph {
            status,
            body: serde_json::json!({"elements": {"nodes": [], "edges": []}}),
        })
    };
    let empty = of(ClaimId::KialiGraphEmptyBeforeTraffic);
    let traffic = of(ClaimId::KialiGraphShowsTraffic);
    assert_eq!(
        registry::decide(empty, &refs, &graph(200)).answer,
        Answer::AsDocumented
    );
    assert!(matches!(
        registry::decide(traffic, &refs, &graph(200)).answer,
        Answer::Drifted { .. }
    ));
    // Near miss: an error is no graph, so no empty one either.
    assert!(matches!(
        registry::decide(empty, &refs, &graph(500)).answer,
        Answer::Drifted { .. }
    ));
}

#[test]
fn a_url_claim_holds_only_when_every_url_it_documents_serves() {
    use support::tutorial::expectations::Expected;
    let doc = doc();
    let refs = Refs::new(&doc, support::eras::TUTORIAL_BUILD, Era::Experimental2022);
    let url = |id: &str| match &doc.get(id).unwrap().expected {
        Expected::Url { url } => url.clone(),
        other => panic!("{id}: {other:?}"),
    };
    let (sleep, notsleep) = (
        url("demo_apps.sleep_manifest_url"),
        url("demo_apps.notsleep_manifest_url"),
    );
    let claim = of(ClaimId::DemoAppsClientManifestsAvailable);
    let decide = |statuses: Vec<(String, Result<u16, String>)>| {
        registry::decide(claim, &refs, &Observation::Urls(statuses)).answer
    };
    assert_eq!(
        decide(vec![(sleep.clone(), Ok(200)), (notsleep.clone(), Ok(200))]),
        Answer::AsDocumented
    );
    // Near misses: one of the two gone, one never probed.
    let gone = decide(vec![(sleep.clone(), Ok(200)), (notsleep.clone(), Ok(404))]);
    assert!(matches!(&gone, Answer::Drifted { actual, .. } if actual.contains("404")));
    let unprobed = decide(vec![(sleep, Ok(200))]);
    assert!(matches!(&unprobed, Answer::Drifted { actual, .. } if actual.contains("not probed")));
    // Either URL's expectation finds the claim.
    for at in [
        "demo_apps.sleep_manifest_url",
        "demo_apps.notsleep_manifest_url",
    ] {
        let found: Vec<&str> = registry::claims_at(at, Kind::Urls)
            .map(|c| c.name())
            .collect();
        assert_eq!(found, ["demo_apps.client_manifests_available"]);
    }
}

#[test]
fn what_the_wait_says_names_each_claim_and_a_failed_observation_drifts_each_claim() {
    use support::observe::Judgement;
    let doc = doc();
    let refs = Refs::new(&doc, "1.31-dev", Era::Ga1_24);
    let at = "l7.waypoint_pod_line";
    let decisions = registry::decide_all(
        at,
        &Observation::Pods(Vec::new()),
        &refs,
        &facts(Provider::Kind),
    );
    let said = decisions.describe();
    assert!(
        said.contains("l7.waypoint_pod_named: expected:")
            && said.contains("l7.waypoint_pod_running: expected:"),
        "{said}"
    );
    let unobserved = registry::Decisions::unobserved("no pod list".into());
    assert_eq!(unobserved.describe(), "no pod list");
    assert!(!unobserved.settled());
    // A step's one observation that failed: each claim it would decide drifts from its
    // statement, anchored, with why.
    let failed = registry::not_observed(at, Kind::Pods, &refs, "the API server refused");
    let names: Vec<&str> = failed.iter().map(|(c, _)| c.name()).collect();
    assert_eq!(names, ["l7.waypoint_pod_named", "l7.waypoint_pod_running"]);
    for (c, d) in failed {
        let Answer::Drifted {
            expected,
            actual,
            documented,
            ..
        } = d.answer
        else {
            panic!("{}: not a drift", c.name())
        };
        assert_eq!(expected, c.statement);
        assert_eq!(actual, "the API server refused");
        assert_eq!(documented.unwrap().expectation, at);
    }
}

/// The tutorial's own cluster as its L4 lines show it: sleep at 10.244.1.4 behind the ztunnel at
/// 10.244.1.2, productpage at 10.244.2.4.
fn tutorial_traffic() -> Traffic {
    Traffic {
        client_sa: "sleep".into(),
        client_ips: vec!["10.244.1.4".into(), "10.244.1.2".into()],
        service_host: "productpage.default.svc.cluster.local".into(),
        server_ips: vec!["10.244.2.4".into()],
        ..Traffic::default()
    }
}

#[test]
fn an_answer_as_documented_rests_on_the_line_the_documents_judge_matched() {
    let doc = doc();
    let refs = Refs::new(&doc, support::eras::TUTORIAL_BUILD, Era::Experimental2022);
    // The tutorial's own L4 lines: productpage's inbound line, then sleep's outbound one.
    let lines: Vec<(String, AccessRecord)> = recorded_lines("ztunnel-envoy-2022.log").unwrap()[..2]
        .iter()
        .map(|l| (l.text.clone(), parse_access(&l.text).unwrap()))
        .collect();
    let decide = |id: ClaimId| {
        let o = Observation::ZtunnelLog {
            lines: lines.clone(),
            traffic: tutorial_traffic(),
        };
        registry::decide(of(id), &refs, &o)
    };
    let snapshot = |i: usize| {
        era_facts(Era::Experimental2022)
            .access_log
            .snapshot_text(&lines[i].0)
    };
    let outbound = decide(ClaimId::L4SleepZtunnelLogsOutbound);
    assert_eq!(outbound.answer, Answer::AsDocumented);
    assert_eq!(outbound.evidence, Some(snapshot(1)));
    let inbound = decide(ClaimId::L4ProductpageZtunnelLogsInbound);
    assert_eq!(inbound.answer, Answer::AsDocumented);
    assert_eq!(inbound.evidence, Some(snapshot(0)));
}

#[test]
fn istiods_pod_is_decided_by_its_row_in_the_listing_with_its_line_as_evidence() {
    let doc = doc();
    let refs = Refs::new(&doc, "1.31-dev", Era::Ga1_24);
    let claim = of(ClaimId::InstallationIstiodPodNamed);
    let pods = captured::<Pod>("istio-system-pods.json");
    let decided = registry::decide(claim, &refs, &Observation::Pods(pods.clone()));
    assert_eq!(decided.answer, Answer::AsDocumented);
    let evidence = decided.evidence.unwrap();
    assert!(evidence.starts_with("istiod-"), "{evidence}");
    // Near miss: the same pods without istiod's is a drift resting on no line.
    let others: Vec<Pod> = pods
        .into_iter()
        .filter(|p| !p.metadata.name.as_deref().unwrap().starts_with("istiod-"))
        .collect();
    let decided = registry::decide(claim, &refs, &Observation::Pods(others));
    assert!(matches!(decided.answer, Answer::Drifted { .. }));
    assert_eq!(decided.evidence, None);
}

#[test]
fn a_stale_l7_line_cites_the_waypoint_identity_only_where_the_identity_decided() {
    let doc = doc();
    let refs = Refs::new(&doc, "1.31-dev", Era::Ga1_24);
    let claim = of(ClaimId::L7SleepZtunnelLogsToWaypoint);
    let identity_fact =
        "the waypoint presents the identity of service account productpage-waypoint";
    let fact_of = |lines: Vec<(String, AccessRecord)>, traffic: Traffic| {
        let o = Observation::ZtunnelLog { lines, traffic };
        match registry::decide(claim, &refs, &o).answer {
            Answer::DocStale { era, .. } => era.fact,
            other => panic!("expected a stale document, got {}", other.describe()),
        }
    };
    // The waypoint found by its address: only the format explains the stale line.
    let by_address = fact_of(l7_lines(), to_waypoint("10.28.2.14"));
    assert!(!by_address.contains(identity_fact), "{by_address}");
    assert!(by_address.contains("ztunnel"), "{by_address}");
    // The waypoint found by the identity the era gives it (the line's identity edited to the
    // era's service account, the address unknown): the identity is cited too.
    let lines = l7_lines_of_the_eras_waypoint();
    let by_identity = fact_of(lines, to_waypoint("10.28.2.99"));
    assert!(by_identity.contains(identity_fact), "{by_identity}");
}

#[test]
fn a_stale_l7_line_in_the_eras_own_format_cites_the_identity_alone() {
    // A page that already shows the era's line format, naming the waypoint by the 2022 build's
    // identity: only the identity makes it stale, so the log format is not cited.
    let seed = fixtures::read("tutorial/ambient-tutorial.md").unwrap();
    let documented = seed
        .lines()
        .find(|l| l.contains("capture outbound (to server waypoint proxy)"))
        .unwrap()
        .trim()
        .to_string();
    let observed: Vec<(String, AccessRecord)> = l7_lines_of_the_eras_waypoint()
        .into_iter()
        .filter(|(_, r)| r.direction == Some(support::logs::Direction::Outbound))
        .collect();
    let era_line = &observed[0].0;
    let page = seed.replacen(
        &documented,
        &era_line.replace("sa/productpage-waypoint\"", "sa/bookinfo-productpage\""),
        1,
    );
    let doc = extract(&page);
    let refs = Refs::new(&doc, "1.31-dev", Era::Ga1_24);
    let o = Observation::ZtunnelLog {
        lines: observed,
        traffic: to_waypoint("10.28.2.99"),
    };
    let answer = registry::decide(of(ClaimId::L7SleepZtunnelLogsToWaypoint), &refs, &o).answer;
    let Answer::DocStale { era, .. } = &answer else {
        panic!("expected a stale document, got {}", answer.describe())
    };
    assert!(
        era.fact
            .contains("the waypoint presents the identity of service account productpage-waypoint"),
        "{}",
        era.fact
    );
    assert!(
        !era.fact.contains("ztunnel logs connections"),
        "{}",
        era.fact
    );
}
