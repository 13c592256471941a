//! The tutorial document as the expectation: what the parser reads from it, how every claim is
//! anchored to it, and the three answers on recorded observations of two builds — the 2022 one
//! the tutorial was written against, and Istio 1.31-dev as the sim provider ran it.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Pod, Service};
use support::answers::{self, Component, Refs};
use support::claims::{Answer, CLAIMS, ClaimId, Decide, UNCHECKED};
use support::eras::{Era, TUTORIAL_BUILD};
use support::fixtures::{self, recorded_lines};
use support::judge::{
    AppPod, DeclarationOutcome, From, IngressGatewayParts, Traffic, WaypointExpectation,
};
use support::logs::{AccessRecord, Enrollment, parse_access, parse_enrollment};
use support::registry::{self, Kind};
use support::tutorial::expectations::{Expectations, Expected, extract};

fn seed() -> String {
    fixtures::read("tutorial/ambient-tutorial.md").unwrap()
}

fn reference() -> Expectations {
    extract(&seed())
}

#[test]
fn the_tutorial_reads_into_documented_expectations() {
    let e = reference();
    assert!(e.not_understood.is_empty(), "{:?}", e.not_understood);
    let listing: String = e
        .documented
        .iter()
        .map(|d| {
            let what = match &d.expected {
                Expected::KindConfig { config } => {
                    format!("kind config, {} lines", config.lines().count())
                }
                Expected::Url { url } => format!("URL {url}"),
                Expected::InstallOutput { lines } => format!("install lines {lines:?}"),
                Expected::Listing { table } => format!(
                    "{} table: {}",
                    table.kind(),
                    table
                        .rows
                        .iter()
                        .map(|r| format!("{} {:?}", r.name, r.columns.values().collect::<Vec<_>>()))
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                Expected::PerNode { table, statement } => format!(
                    "per node: {:?} ({statement})",
                    table.rows.iter().map(|r| r.base_name()).collect::<Vec<_>>()
                ),
                Expected::NonAmbient { table, .. } => format!(
                    "non-ambient: {:?}",
                    table.rows.iter().map(|r| r.base_name()).collect::<Vec<_>>()
                ),
                Expected::Command { command } => format!("command {command}"),
                Expected::Statement { text } => format!("statement {text:?}"),
                Expected::Enrollments { lines } => format!(
                    "enrollments {:?}",
                    lines
                        .iter()
                        .map(|l| format!("{:?} {}/{}", l.format, l.namespace, l.pod))
                        .collect::<Vec<_>>()
                ),
                Expected::ZtunnelLine { record, .. } => {
                    format!("ztunnel {:?}: {record}", record.format)
                }
                Expected::Declaration { object, .. } => format!(
                    "declaration {} {} {} class {}",
                    object
                        .types
                        .as_ref()
                        .map(|t| t.api_version.as_str())
                        .unwrap_or(""),
                    object.types.as_ref().map(|t| t.kind.as_str()).unwrap_or(""),
                    object.metadata.name.as_deref().unwrap_or(""),
                    object.data["spec"]["gatewayClassName"]
                        .as_str()
                        .unwrap_or("")
                ),
                Expected::PodLine { row } => {
                    format!("pod line {} {:?}", row.base_name(), row.columns)
                }
            };
            format!("{} [{}] {}: {what}\n", d.id, d.heading, d.lines)
        })
        .collect();
    insta::assert_snapshot!(listing);
}

// ---- reading the tutorial: the near misses of each shape it reads -----------------------------

/// The seed with `from` replaced by `to` (once, and it must be there).
fn seed_with(from: &str, to: &str) -> Expectations {
    let seed = seed();
    assert!(seed.contains(from), "{from}");
    extract(&seed.replacen(from, to, 1))
}

#[test]
fn istio_cni_output_is_read_after_either_the_grep_or_the_component() {
    let seed_command = "kubectl logs <istio-cni-node-id> -n istio-system|grep route";
    for command in [
        seed_command,
        // The component's logs, not grepped.
        "kubectl logs ds/istio-cni-node -n istio-system",
        // A grep for the routes of some other pod's log.
        "kubectl logs <node-agent> -n kube-system | grep route",
    ] {
        let e = seed_with(seed_command, command);
        assert!(
            matches!(
                e.get("demo_apps.cni_routes").map(|d| &d.expected),
                Some(Expected::Enrollments { lines }) if lines.len() == 6
            ),
            "{command}"
        );
    }
    // Near miss: another command's output is not read as enrollments.
    let e = seed_with(seed_command, "kubectl get pods -n istio-system");
    assert!(e.get("demo_apps.cni_routes").is_none());
}

#[test]
fn a_heredoc_loses_its_common_indentation_whatever_its_blank_lines() {
    use support::tutorial::expectations::heredoc;
    let block =
        "   kubectl apply -f - <<EOF\n     kind: Gateway\n\n     metadata:\n       name: w\n   EOF";
    assert_eq!(
        heredoc(block).as_deref(),
        Some("kind: Gateway\n\nmetadata:\n  name: w\n")
    );
    // Near miss: no heredoc, no body.
    assert_eq!(heredoc("   kubectl apply -f gateway.yaml"), None);
}

#[test]
fn an_inline_declaration_keeps_the_words_before_it_as_its_note_and_only_those() {
    let e = reference();
    let Some(Expected::Declaration { note, .. }) =
        e.get("l7.waypoint_declaration").map(|d| &d.expected)
    else {
        panic!("the seed declares its waypoint inline")
    };
    assert!(
        note.as_deref()
            .is_some_and(|n| n.contains("gatewayClassName")),
        "{note:?}"
    );
    // Near miss: a declaration right after another block has no words before it: no note.
    let page = "## L7 processing in ambient mode\n\n```bash\nkubectl get pod\n```\n```bash\nkubectl apply -f - <<EOF\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: w\nspec:\n  gatewayClassName: istio-waypoint\nEOF\n```\n";
    let e = extract(page);
    assert!(
        matches!(
            e.get("l7.waypoint_declaration").map(|d| &d.expected),
            Some(Expected::Declaration { note: None, .. })
        ),
        "{:?}",
        e.documented
    );
}

#[test]
fn apply_without_a_target_or_from_a_file_on_stdin_declares_nothing() {
    for command in [
        "kubectl apply -f",
        "kubectl apply -f - < productpage-waypoint.yaml",
    ] {
        let page = format!("## L7 processing in ambient mode\n\n```bash\n{command}\n```\n");
        let e = extract(&page);
        assert!(e.documented.is_empty(), "{command}: {:?}", e.documented);
        assert!(
            e.not_understood.is_empty(),
            "{command}: {:?}",
            e.not_understood
        );
    }
}

/// `ClaimId::Variant` names used by the tutorial tier's sources.
fn claims_checked_by_tests() -> String {
    let dir = support::settings::workspace_root().join("tests/tutorial");
    std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "rs"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect()
}

#[test]
fn every_claim_is_checked_and_anchored_and_every_expectation_is_claimed() {
    let e = reference();
    let sources = claims_checked_by_tests();
    for c in CLAIMS {
        if c.decide == Decide::Custom {
            // Decided by its own section: the section names it.
            let variant = format!("ClaimId::{:?}", c.id);
            assert!(sources.contains(&variant), "no test checks {}", c.name());
        } else {
            // Decided by its kind: some step observes what its kind reads where it is anchored.
            let kind = Kind::ALL
                .into_iter()
                .find(|k| registry::takes(c.decide, *k))
                .unwrap_or_else(|| panic!("{}: no observation takes {:?}", c.name(), c.decide));
            let at = format!("{:?}", c.anchors[0]);
            let kind_name = format!("{kind:?}");
            let variant = kind_name.split('(').next().unwrap_or_default();
            assert!(
                sources.contains(&format!("Kind::{variant}")) && sources.contains(&at),
                "no step observes {kind:?} at {at}, which {} reads",
                c.name()
            );
        }
        for a in c.anchors {
            assert!(
                e.get(a).is_some(),
                "{} is anchored to {a}, which the tutorial does not document",
                c.name()
            );
        }
    }
    for d in &e.documented {
        let claimed = CLAIMS.iter().any(|c| c.anchors.contains(&d.id.as_str()));
        let unchecked = UNCHECKED.iter().any(|(id, _)| *id == d.id);
        assert!(
            claimed ^ unchecked,
            "{} ({}) is {}",
            d.id,
            d.lines,
            if claimed {
                "both claimed and listed as unchecked"
            } else {
                "neither claimed nor listed as unchecked"
            }
        );
    }
}

#[test]
fn the_suites_kind_config_is_the_documented_one() {
    // Why `requirements.kind_config` needs no cluster claim (claims::UNCHECKED).
    let e = reference();
    let Expected::KindConfig { config } = &e.get("requirements.kind_config").unwrap().expected
    else {
        panic!()
    };
    let ours = fixtures::read("kind/ambient.yaml").unwrap();
    let documented = support::cluster::kind::KindConfig::parse(config).unwrap();
    assert_eq!(
        support::cluster::kind::KindConfig::parse(&ours).unwrap(),
        documented
    );
}

// ---- recorded observations of two builds -----------------------------------------------------

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

fn named<K: kube::Resource>(items: Vec<K>, name: &str) -> Option<K> {
    items
        .into_iter()
        .find(|i| i.meta().name.as_deref() == Some(name))
}

fn lines_of(file: &str, source_contains: &str) -> Vec<(String, AccessRecord)> {
    recorded_lines(file)
        .unwrap()
        .into_iter()
        .filter(|l| l.source.contains(source_contains))
        .filter_map(|l| parse_access(&l.text).ok().map(|r| (l.text, r)))
        .collect()
}

/// Istio 1.31-dev as the sim provider ran it (fixtures/objects/captured/1.31-dev), and 1.23+
/// ztunnel and istio-cni lines from real clusters (fixtures/recorded): every claim they cover.
fn replay_1_31(e: &Expectations) -> BTreeMap<ClaimId, Answer> {
    let refs = Refs::new(e, "1.31-dev", Era::Ga1_24);
    let mut out = BTreeMap::new();
    let stderr = fixtures::read("objects/captured/1.31-dev/istioctl-install.stderr.txt").unwrap();
    let printed = support::istio::install::component_lines(&stderr);
    out.insert(
        ClaimId::InstallationIstioctlPrintsComponentLines,
        answers::install_lines(&refs, &printed),
    );
    let deployments: Vec<Deployment> = captured("istio-system-deployments.json");
    let istiod = named(deployments, "istiod").unwrap();
    let istiod_pods: Vec<Pod> = captured::<Pod>("istio-system-pods.json")
        .into_iter()
        .filter(|p| {
            p.metadata
                .name
                .as_deref()
                .unwrap_or("")
                .starts_with("istiod-")
        })
        .collect();
    out.insert(
        ClaimId::InstallationIstiodAvailable,
        answers::istiod_available(&refs, &istiod, &istiod_pods),
    );
    let nodes: Vec<String> = captured::<k8s_openapi::api::core::v1::Node>("nodes.json")
        .iter()
        .filter_map(|n| n.metadata.name.clone())
        .collect();
    let pods: Vec<Pod> = captured("istio-system-pods.json");
    let of = |prefix: &str| -> Vec<Pod> {
        pods.iter()
            .filter(|p| p.metadata.name.as_deref().unwrap_or("").starts_with(prefix))
            .cloned()
            .collect()
    };
    let daemonsets: Vec<DaemonSet> = captured("istio-system-daemonsets.json");
    let ztunnel = named(daemonsets.clone(), "ztunnel").unwrap();
    let cni = named(daemonsets, "istio-cni-node").unwrap();
    out.insert(
        ClaimId::InstallationZtunnelOnePodPerNode,
        answers::one_pod_per_node(&refs, Component::Ztunnel, &ztunnel, &of("ztunnel-"), &nodes),
    );
    out.insert(
        ClaimId::InstallationIstioCniOnePodPerNode,
        answers::one_pod_per_node(
            &refs,
            Component::IstioCni,
            &cni,
            &of("istio-cni-node-"),
            &nodes,
        ),
    );
    out.insert(
        ClaimId::InstallationIstioCniNodeSelector,
        answers::node_selector(&refs, Component::IstioCni, &cni),
    );
    out.insert(
        ClaimId::InstallationZtunnelNodeSelector,
        answers::node_selector(&refs, Component::Ztunnel, &ztunnel),
    );
    let services: Vec<Service> = captured("istio-system-services.json");
    out.insert(
        ClaimId::InstallationIstiodService,
        answers::istiod_service(&refs, named(services.clone(), "istiod").as_ref()),
    );
    let sets: Vec<ReplicaSet> = captured("istio-system-replicasets.json");
    let hpas: Vec<HorizontalPodAutoscaler> = captured("istio-system-horizontalpodautoscalers.json");
    out.insert(
        ClaimId::InstallationIstiodReplicaset,
        answers::istiod_replicaset(&refs, sets.first()),
    );
    out.insert(
        ClaimId::InstallationIstiodAutoscaler,
        answers::istiod_autoscaler(&refs, named(hpas.clone(), "istiod").as_ref()),
    );
    let ingress = IngressGatewayParts {
        deployment: false,
        service: named(services, "istio-ingressgateway").is_some(),
        autoscaler: named(hpas, "istio-ingressgateway").is_some(),
    };
    out.insert(
        ClaimId::InstallationIngressGatewayAsEraSays,
        answers::ingress_gateway(&refs, ingress, Default::default()),
    );
    let ready = of("ztunnel-").len();
    out.insert(
        ClaimId::InstallationThreeZtunnelsOnThreeNodes,
        answers::three_on_three(&refs, Some(3), nodes.len(), ready),
    );
    out.insert(
        ClaimId::InstallationListedProxiesOnePerNode,
        answers::listed_proxies_one_per_node(&refs, &cni, &of("istio-cni-node-"), &nodes),
    );
    // istio-cni of 1.23+ (istio/istio#55913): one pod enrolled on one node.
    let enrolled: Vec<Enrollment> = recorded_lines("istio-cni.log")
        .unwrap()
        .iter()
        .filter(|l| l.source.contains("55913"))
        .filter_map(|l| parse_enrollment(&l.text).ok())
        .collect();
    let pod = AppPod {
        name: "nginx-deployment-1-7588ccf8f7-n8kvl".into(),
        namespace: "slow-cooker".into(),
        node: "n1".into(),
        ip: None,
    };
    let by_node = BTreeMap::from([("n1".to_string(), enrolled)]);
    out.insert(
        ClaimId::DemoAppsPodsEnrolled,
        answers::pods_enrolled(&refs, &[pod], &by_node),
    );
    // ztunnel of 1.23+ (istio.io's troubleshooting page): curl → productpage, both directions.
    let lines = lines_of("ztunnel-access-1.22.log", "troubleshoot-ztunnel");
    let traffic = Traffic {
        client_sa: "curl".into(),
        client_ips: vec!["10.244.1.12".into()],
        service_host: "productpage.default.svc.cluster.local".into(),
        server_ips: vec!["10.244.1.10".into()],
        ..Traffic::default()
    };
    out.insert(
        ClaimId::L4SleepZtunnelLogsOutbound,
        answers::outbound_logged(&refs, "l4.sleep_ztunnel_line", &lines, &traffic),
    );
    out.insert(
        ClaimId::L4ProductpageZtunnelLogsInbound,
        answers::inbound_logged(
            &refs,
            "l4.productpage_ztunnel_line",
            &lines,
            &traffic,
            From::Client,
        ),
    );
    // 1.22+ ztunnels with a waypoint on the path (fixtures/recorded/ztunnel-access-waypoint.log,
    // each line from its own recorded cluster): productpage -> details through the namespace
    // waypoint `waypoint`; httpbin receiving from the waypoint `simple-http-waypoint`.
    let l7_lines = lines_of("ztunnel-access-waypoint.log", "");
    let to_waypoint = Traffic {
        client_sa: "bookinfo-productpage".into(),
        client_ips: vec!["10.28.2.18".into()],
        service_host: "details.default.svc.cluster.local".into(),
        server_ips: vec!["10.28.2.20".into()],
        waypoint: Some(WaypointExpectation {
            identity: None,
            pod_ips: vec!["10.28.2.14".into()],
            deployment: Some("waypoint".into()),
        }),
        ..Traffic::default()
    };
    out.insert(
        ClaimId::L7SleepZtunnelLogsToWaypoint,
        answers::outbound_logged(&refs, "l7.sleep_ztunnel_line", &l7_lines, &to_waypoint),
    );
    let from_waypoint = Traffic {
        client_sa: "sleep".into(),
        service_host: "httpbin.default.svc.cluster.local".into(),
        server_ips: vec!["10.244.3.8".into()],
        waypoint: Some(WaypointExpectation {
            identity: None,
            pod_ips: vec!["10.244.3.9".into()],
            deployment: Some("simple-http-waypoint".into()),
        }),
        ..Traffic::default()
    };
    out.insert(
        ClaimId::L7ProductpageZtunnelLogsInbound,
        answers::inbound_logged(
            &refs,
            "l7.productpage_ztunnel_line",
            &l7_lines,
            &from_waypoint,
            From::Waypoint,
        ),
    );
    // The tutorial's waypoint declaration on that API server: v1alpha2 is not served.
    let refused = fixtures::read("objects/captured/1.31-dev/v1alpha2-gateway.txt").unwrap();
    let tutorials = DeclarationOutcome {
        what: "gateway.networking.k8s.io/v1alpha2 Gateway productpage".into(),
        refused: Some(format!("HTTP 404: {}", refused.trim())),
        conditions: vec![],
    };
    let gateways: Vec<serde_json::Value> = captured("default-gateways.json");
    let era_gw = gateways
        .iter()
        .find(|g| g["metadata"]["name"] == "productpage-waypoint")
        .unwrap();
    let eras = DeclarationOutcome {
        what: "gateway.networking.k8s.io/v1 Gateway productpage-waypoint".into(),
        refused: None,
        conditions: era_gw["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let f = |k: &str| c[k].as_str().unwrap_or_default().to_string();
                (f("type"), f("status"), f("reason"), f("message"))
            })
            .collect(),
    };
    let era_yaml = fixtures::read("waypoint/1.22.yaml").unwrap();
    out.insert(
        ClaimId::L7WaypointDeclared,
        answers::waypoint_declared(&refs, &tutorials, Some(&eras), &era_yaml),
    );
    let waypoint_pods: Vec<Pod> = captured::<Pod>("default-pods.json")
        .into_iter()
        .filter(|p| {
            p.metadata
                .name
                .as_deref()
                .unwrap_or("")
                .contains("waypoint")
        })
        .collect();
    out.insert(
        ClaimId::L7WaypointPodNamed,
        answers::waypoint_pod_named(&refs, &waypoint_pods),
    );
    out.insert(
        ClaimId::L7WaypointPodRunning,
        answers::waypoint_pod(&refs, &waypoint_pods),
    );
    out
}

/// The 2022 build as others ran it (the 2022 blog and Huabing Zhao's post of 2022-09-10, in
/// fixtures/recorded): every claim they cover.
fn replay_2022(e: &Expectations) -> BTreeMap<ClaimId, Answer> {
    let refs = Refs::new(e, TUTORIAL_BUILD, Era::Experimental2022);
    let mut out = BTreeMap::new();
    let printed: Vec<String> = recorded_lines("install-2022.txt")
        .unwrap()
        .into_iter()
        .map(|l| l.text)
        .collect();
    out.insert(
        ClaimId::InstallationIstioctlPrintsComponentLines,
        answers::install_lines(&refs, &printed),
    );
    let lines = lines_of("ztunnel-envoy-2022.log", "Huabing Zhao");
    // That post's cluster: sleep 10.244.1.5 behind the ztunnel at 10.244.1.3, productpage
    // 10.244.2.9, the waypoint 10.244.2.12.
    let plain = Traffic {
        client_sa: "sleep".into(),
        client_ips: vec!["10.244.1.5".into(), "10.244.1.3".into()],
        service_host: "productpage.default.svc.cluster.local".into(),
        server_ips: vec!["10.244.2.9".into()],
        ..Traffic::default()
    };
    out.insert(
        ClaimId::L4SleepZtunnelLogsOutbound,
        answers::outbound_logged(&refs, "l4.sleep_ztunnel_line", &lines, &plain),
    );
    out.insert(
        ClaimId::L4ProductpageZtunnelLogsInbound,
        answers::inbound_logged(
            &refs,
            "l4.productpage_ztunnel_line",
            &lines,
            &plain,
            From::Client,
        ),
    );
    // The L7 step's window: the post's lines from after its waypoint was deployed (10:51).
    let lines: Vec<(String, AccessRecord)> = lines
        .into_iter()
        .filter(|(_, r)| r.timestamp.as_str() >= "2022-09-10T10:51")
        .collect();
    let via = Traffic {
        waypoint: Some(WaypointExpectation {
            identity: Some("spiffe://cluster.local/ns/default/sa/bookinfo-productpage".into()),
            pod_ips: vec!["10.244.2.12".into()],
            deployment: Some("bookinfo-productpage-waypoint-proxy".into()),
        }),
        ..plain
    };
    out.insert(
        ClaimId::L7SleepZtunnelLogsToWaypoint,
        answers::outbound_logged(&refs, "l7.sleep_ztunnel_line", &lines, &via),
    );
    out.insert(
        ClaimId::L7ProductpageZtunnelLogsInbound,
        answers::inbound_logged(
            &refs,
            "l7.productpage_ztunnel_line",
            &lines,
            &via,
            From::Waypoint,
        ),
    );
    let enrolled: Vec<Enrollment> = recorded_lines("istio-cni.log")
        .unwrap()
        .iter()
        .filter(|l| l.source.contains("Huabing Zhao"))
        .filter_map(|l| parse_enrollment(&l.text).ok())
        .collect();
    // The tutorial shows no pod addresses but its routes': the pods are where they lead.
    let pods: Vec<AppPod> = enrolled
        .iter()
        .map(|e| AppPod {
            name: e.pod.clone(),
            namespace: e.namespace.clone(),
            node: "ambient-worker2".into(),
            ip: e.pod_ip.clone(),
        })
        .collect();
    let by_node = BTreeMap::from([("ambient-worker2".to_string(), enrolled)]);
    out.insert(
        ClaimId::DemoAppsPodsEnrolled,
        answers::pods_enrolled(&refs, &pods, &by_node),
    );
    let status: serde_json::Value =
        serde_norway::from_str(&fixtures::read("recorded/waypoint-status-2022.yaml").unwrap())
            .unwrap();
    let tutorials = DeclarationOutcome {
        what: "gateway.networking.k8s.io/v1alpha2 Gateway productpage".into(),
        refused: None,
        conditions: status["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let f = |k: &str| c[k].as_str().unwrap_or_default().to_string();
                (f("type"), f("status"), f("reason"), f("message"))
            })
            .collect(),
    };
    out.insert(
        ClaimId::L7WaypointDeclared,
        answers::waypoint_declared(&refs, &tutorials, None, ""),
    );
    out
}

fn kind(a: &Answer) -> &'static str {
    match a {
        Answer::AsDocumented => "as_documented",
        Answer::DocStale { .. } => "doc_stale",
        Answer::Drifted { .. } => "drifted",
        Answer::NotApplicable { .. } => "not_applicable",
        Answer::NotReached { .. } => "not_reached",
        Answer::Holds => "holds",
    }
}

#[test]
fn the_2022_build_is_as_documented_for_every_claim_it_covers() {
    for (id, answer) in replay_2022(&reference()) {
        assert_eq!(
            answer,
            Answer::AsDocumented,
            "{}: {}",
            id.name(),
            answer.describe()
        );
    }
}

#[test]
fn on_the_pinned_build_a_difference_is_drift_never_a_stale_tutorial() {
    // The 1.31 observations, judged as if they were the tutorial's own build.
    let e = reference();
    let refs = Refs::new(&e, TUTORIAL_BUILD, Era::Experimental2022);
    let stderr = fixtures::read("objects/captured/1.31-dev/istioctl-install.stderr.txt").unwrap();
    let printed = support::istio::install::component_lines(&stderr);
    let answer = answers::install_lines(&refs, &printed);
    assert_eq!(kind(&answer), "drifted", "{}", answer.describe());
}

#[test]
fn istio_1_31_shows_where_the_tutorial_is_stale_and_nothing_else() {
    let answers = replay_1_31(&reference());
    let stale: Vec<(&str, String)> = answers
        .iter()
        .filter_map(|(id, a)| match a {
            Answer::DocStale { documented, .. } => Some((id.name(), documented.lines.to_string())),
            _ => None,
        })
        .collect();
    assert_eq!(
        stale,
        [
            (
                "installation.istioctl_prints_component_lines",
                "lines 54-58".to_string()
            ),
            (
                "installation.ztunnel_node_selector",
                "lines 80-82".to_string()
            ),
            (
                "installation.ingress_gateway_as_era_says",
                "lines 70-93".to_string()
            ),
            ("demo_apps.pods_enrolled", "lines 133-138".to_string()),
            ("l4.sleep_ztunnel_logs_outbound", "line 167".to_string()),
            (
                "l4.productpage_ztunnel_logs_inbound",
                "line 163".to_string()
            ),
            ("l7.waypoint_declared", "lines 183-192".to_string()),
            ("l7.waypoint_pod_named", "line 201".to_string()),
            ("l7.waypoint_pod_running", "line 201".to_string()),
            ("l7.sleep_ztunnel_logs_to_waypoint", "line 223".to_string()),
            (
                "l7.productpage_ztunnel_logs_inbound",
                "line 219".to_string()
            ),
        ]
    );
    for (id, a) in &answers {
        assert!(
            matches!(a, Answer::AsDocumented | Answer::DocStale { .. }),
            "{}: {}",
            id.name(),
            a.describe()
        );
    }
    // Every row that lists the ingress gateway is quoted: pod, service, deployment, replicaset,
    // autoscaler.
    let Answer::DocStale { documented, .. } =
        &answers[&ClaimId::InstallationIngressGatewayAsEraSays]
    else {
        panic!()
    };
    let rows: Vec<&str> = documented
        .text
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(
        rows,
        [
            "pod/istio-ingressgateway-dd667dbb7-z64jh",
            "service/istio-ingressgateway",
            "deployment.apps/istio-ingressgateway",
            "replicaset.apps/istio-ingressgateway-dd667dbb7",
            "horizontalpodautoscaler.autoscaling/istio-ingressgateway"
        ]
    );
    // A stale statement names the era fact and its source.
    let Answer::DocStale {
        era,
        documented,
        replacement,
        ..
    } = &answers[&ClaimId::InstallationIstioctlPrintsComponentLines]
    else {
        panic!()
    };
    // Icons since 1.23.0; this release's source is the 1.24 operator rewrite.
    assert_eq!(era.since, "1.23");
    assert!(
        era.source.contains("operator/pkg/component/component.go"),
        "{}",
        era.source
    );
    assert!(
        documented.text.contains("✔ Ingress gateways installed"),
        "{}",
        documented.text
    );
    assert!(
        replacement
            .as_deref()
            .unwrap()
            .contains("✔ Ztunnel installed 🔒")
    );
}

#[test]
fn a_near_miss_is_drift_not_a_stale_tutorial() {
    // The 1.23+ lines judged by an era that expects another format (1.18's tracing lines).
    let e = reference();
    let refs = Refs::new(&e, "1.18.0", Era::Alpha1_18);
    let lines = lines_of("ztunnel-access-1.22.log", "troubleshoot-ztunnel");
    let traffic = Traffic {
        client_sa: "curl".into(),
        server_ips: vec!["10.244.1.10".into()],
        service_host: "productpage.default.svc.cluster.local".into(),
        ..Traffic::default()
    };
    let answer = answers::outbound_logged(&refs, "l4.sleep_ztunnel_line", &lines, &traffic);
    let Answer::Drifted { era_expected, .. } = &answer else {
        panic!("{}", answer.describe())
    };
    assert!(
        era_expected.as_deref().unwrap().contains("RustTracing"),
        "{era_expected:?}"
    );
}

/// A copy of the tutorial with one output block edited: the install output as Istio 1.24+ prints
/// it.
fn edited_install_output() -> String {
    seed().replace(
        "    ✔ Istio core installed\n    ✔ Istiod installed\n    ✔ Ingress gateways installed\n    ✔ CNI installed\n    ✔ Installation complete\n",
        "    ✔ Istio core installed ⛵️\n    ✔ Istiod installed 🧠\n    ✔ CNI installed 🪢\n    ✔ Ztunnel installed 🔒\n    ✔ Installation complete\n",
    )
}

#[test]
fn editing_one_output_block_flips_exactly_the_claim_it_feeds() {
    let variant = edited_install_output();
    assert_ne!(variant, seed(), "the edit applied");
    let before = replay_1_31(&reference());
    let after = replay_1_31(&extract(&variant));
    let flipped: Vec<(&str, &str, &str)> = before
        .iter()
        .filter(|(id, a)| kind(a) != kind(&after[id]))
        .map(|(id, a)| (id.name(), kind(a), kind(&after[id])))
        .collect();
    assert_eq!(
        flipped,
        [(
            "installation.istioctl_prints_component_lines",
            "doc_stale",
            "as_documented"
        )]
    );
}

#[test]
fn the_tutorial_is_in_sync_with_itself() {
    let reference = reference();
    let sync = support::docsync::compare_expectations(&reference, &reference);
    assert!(sync.in_sync(), "{}", sync.render());
    assert_eq!(sync.same, reference.documented.len());
    assert_eq!(sync.same, 29);
}

#[test]
fn doc_sync_names_an_edited_expected_output_with_both_texts() {
    let sync =
        support::docsync::compare_expectations(&extract(&edited_install_output()), &reference());
    assert!(!sync.in_sync());
    assert_eq!(sync.edited.len(), 1, "{}", sync.render());
    let (old, new) = &sync.edited[0];
    assert_eq!(old.id, "installation.install_output");
    assert_eq!(new.lines.to_string(), "lines 54-58");
    let text = sync.render();
    assert!(
        text.contains("EDITED  [Installation] lines 54-58"),
        "{text}"
    );
    assert!(
        text.contains("✔ Ingress gateways installed") && text.contains("✔ Ztunnel installed 🔒"),
        "{text}"
    );
    // Removing a block and adding an unknown one are named too.
    let removed = seed().replace("   ```bash\n   bookinfo-productpage-waypoint-proxy-fcf74c55d-j9zm5   1/1     Running   0          27s\n   ```\n", "");
    assert_ne!(removed, seed(), "the block was removed");
    let sync = support::docsync::compare_expectations(&extract(&removed), &reference());
    assert_eq!(sync.removed.len(), 1, "{}", sync.render());
    assert_eq!(sync.removed[0].id, "l7.waypoint_pod_line");
    let unknown = seed().replace(
        "### L4 processing in ambient mode",
        "```bash\nkubectl get svc\n```\n```bash\nNAME  TYPE\nproductpage  ClusterIP\n```\n### L4 processing in ambient mode",
    );
    let e = extract(&unknown);
    assert_eq!(e.not_understood.len(), 1, "{:?}", e.not_understood);
    assert!(
        e.not_understood[0].why.contains("kubectl get svc"),
        "{}",
        e.not_understood[0].why
    );
    assert!(!support::docsync::compare_expectations(&e, &reference()).in_sync());
}

/// Records of a 1.31 run, as the recorder writes them.
fn records_1_31() -> Vec<support::claims::ClaimRecord> {
    let dir = tempfile::tempdir().unwrap();
    let recorder = support::recorder::Recorder::new(dir.path(), "1.24", "1.31-dev", "sim");
    for (id, a) in replay_1_31(&reference()) {
        recorder.record(id, &a).unwrap();
    }
    let path = dir.path().join("claims.jsonl");
    support::report::load(&[&path]).unwrap().records
}

#[test]
fn the_report_leads_with_the_stale_tutorial() {
    let dir = tempfile::tempdir().unwrap();
    let recorder = support::recorder::Recorder::new(dir.path(), "1.24", "1.31-dev", "sim");
    for (id, a) in replay_1_31(&reference()) {
        recorder.record(id, &a).unwrap();
    }
    let path = dir.path().join("claims.jsonl");
    let report = support::report::build(&support::report::load(&[&path]).unwrap());
    let md = report.markdown();
    assert!(md.starts_with("# Tutorial drift report\n\n- 1.31-dev (1.24, sim): 11 documented statements are stale, 0 drifted"), "{md}");
    let stale_at = md.find("## Where the tutorial is stale").unwrap();
    assert!(
        stale_at < md.find("## Claims").unwrap(),
        "the stale list comes first"
    );
    assert!(md.contains("### lines 54-58"), "{md}");
    assert!(
        md.contains("✔ Ingress gateways installed"),
        "the documented text, verbatim: {md}"
    );
    let json = report.json();
    assert_eq!(json["doc_stale"], 11);
    assert_eq!(json["counts"][0]["doc_stale"], 11);
}

#[test]
fn docpatch_rewrites_what_it_saw_and_git_applies_it() {
    let records = records_1_31();
    let chosen = support::docpatch::select(&records, None).unwrap();
    let patch = support::docpatch::build(&seed(), "tutorial.md", &chosen).unwrap();
    // Install output, both L4 lines, the waypoint declaration, its pod line and both L7 lines were
    // seen whole.
    assert_eq!(patch.replaced, 7, "{}", patch.render("1.31-dev"));
    assert!(
        patch
            .notes
            .iter()
            .any(|n| n.contains("installation.ztunnel_node_selector")),
        "{:?}",
        patch.notes
    );
    // Near miss: an honest run's records are all used; no note counts records left out.
    assert!(
        !patch.notes.iter().any(|n| n.contains("not used")),
        "{:?}",
        patch.notes
    );
    // `git apply` accepts it, and the patched tutorial documents what 1.31 does.
    let patched = crate::patch_runs::apply(&patch.render("1.31-dev"));
    let after = replay_1_31(&extract(&patched));
    for id in [
        ClaimId::InstallationIstioctlPrintsComponentLines,
        ClaimId::L4SleepZtunnelLogsOutbound,
        ClaimId::L4ProductpageZtunnelLogsInbound,
        ClaimId::L7WaypointPodRunning,
    ] {
        assert_eq!(
            after[&id],
            Answer::AsDocumented,
            "{}: {}",
            id.name(),
            after[&id].describe()
        );
    }
    // Two claims read from the same block (a run may record one claim twice under two ids):
    // the block is replaced once. The last block rewritten, so no other replacement follows it.
    let stale = chosen
        .iter()
        .filter_map(|r| match &r.answer {
            Answer::DocStale {
                documented,
                replacement: Some(_),
                ..
            } => Some((documented.lines.start, r)),
            _ => None,
        })
        .max_by_key(|(start, _)| *start)
        .map(|(_, r)| r)
        .unwrap();
    let mut twin = (*stale).clone();
    twin.claim = format!("{}_again", twin.claim);
    let mut with_twin = chosen.clone();
    with_twin.push(&twin);
    let again = support::docpatch::build(&seed(), "tutorial.md", &with_twin).unwrap();
    assert_eq!(again.replaced, patch.replaced);
    assert_eq!(again.diff, patch.diff);
    // Records of two builds need a choice.
    let mut two = records.clone();
    two.extend(records.iter().cloned().map(|mut r| {
        r.istio_version = "1.30.3".into();
        r
    }));
    assert!(support::docpatch::select(&two, None).is_err());
    assert_eq!(
        support::docpatch::select(&two, Some("1.30.3"))
            .unwrap()
            .len(),
        chosen.len()
    );
}

#[test]
fn docpatch_patches_from_one_build_and_the_newest_record_of_each_claim() {
    use support::docpatch::{PatchError, select};
    let records = records_1_31();
    let claim = records[0].claim.clone();
    // Two runs of the same build: the later record of a claim wins, in whichever order they come.
    let mut earlier = records[0].clone();
    earlier.at = "2000-01-01T00:00:00Z".into();
    earlier.run_id = "earlier".into();
    let mut later = records[0].clone();
    later.at = "2999-01-01T00:00:00Z".into();
    later.run_id = "later".into();
    for runs in [
        vec![earlier.clone(), later.clone()],
        vec![later.clone(), earlier.clone()],
    ] {
        let chosen = select(&runs, None).unwrap();
        assert_eq!(chosen.len(), 1);
        assert_eq!(chosen[0].run_id, "later", "{claim}: the newest record");
    }
    // --istio picks that build's records only; a build with no records is named.
    let mut other = records[0].clone();
    other.istio_version = "1.30.3".into();
    other.run_id = "other".into();
    let both = vec![records[0].clone(), other];
    let picked = select(&both, Some("1.30.3")).unwrap();
    assert_eq!(picked.len(), 1);
    assert_eq!(picked[0].run_id, "other");
    assert!(matches!(
        select(&both, Some("1.29.0")),
        Err(PatchError::NoSuchBuild(v)) if v == "1.29.0"
    ));
    assert!(matches!(select(&[], None), Err(PatchError::NoRecords)));
    assert!(matches!(
        select(&[], Some("1.31-dev")),
        Err(PatchError::NoSuchBuild(_))
    ));
    assert!(matches!(
        select(&both, None),
        Err(PatchError::SeveralBuilds { count: 2, .. })
    ));
}

#[test]
fn the_readme_lists_every_claim() {
    let readme =
        std::fs::read_to_string(support::settings::workspace_root().join("README.md")).unwrap();
    let (_, rest) = readme
        .split_once("<!-- claims:begin -->\n")
        .expect("README has a <!-- claims:begin --> marker");
    let (block, _) = rest
        .split_once("<!-- claims:end -->")
        .expect("README has a <!-- claims:end --> marker");
    let expected = support::claims::markdown_table();
    assert!(
        block == expected,
        "README's claim list is not support::claims::markdown_table(); replace the block with:\n{expected}"
    );
    // The eight expectations that were once checked by nothing each have a claim now.
    for id in [
        "installation.istiod_service",
        "installation.ingress_gateway_as_era_says",
        "installation.istiod_replicaset",
        "installation.istiod_autoscaler",
        "demo_apps.bookinfo_gateway_applied",
        "installation.istio_cni_node_selector",
        "kiali.graph_empty_before_traffic",
        "installation.listed_proxies_one_per_node",
    ] {
        assert!(block.contains(&format!("`{id}`")), "{id}");
    }
}

#[test]
fn on_another_page_the_seeds_claims_are_not_applicable_with_why() {
    // `AMBIENT_TUTORIAL=<an istio.io page>`: the page is read, and each claim whose statement it
    // does not make is not applicable, naming what the page does not document.
    let page = fixtures::read("pages/ambient/deploy-sample-app.md").unwrap();
    let tutorial =
        support::tutorial::Tutorial::read(std::path::Path::new("deploy-sample-app.md"), page)
            .unwrap();
    let answers = replay_1_31(&tutorial.expectations);
    assert!(!answers.is_empty());
    for (id, answer) in &answers {
        let Answer::NotApplicable { why } = answer else {
            panic!("{}: {}", id.name(), answer.describe())
        };
        assert!(why.contains("documents no"), "{}: {why}", id.name());
    }
    // The seed's own answers are unchanged by the reader (the 1.31 replay through the L7 section:
    // 11 stale, as the report of that replay counts them).
    let seed = replay_1_31(&reference());
    assert_eq!(seed.len(), answers.len());
    assert_eq!(
        seed.values()
            .filter(|a| matches!(a, Answer::DocStale { .. }))
            .count(),
        11
    );
}
