//! Every fixture parses into typed Kubernetes objects, and agrees with the era facts that name it:
//! a typo fails here, not on a cluster.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Service, ServiceAccount};
use support::cluster::kind::{KindConfig, NodeRole};
use support::eras::{Era, facts};
use support::fixtures;
use support::manifests::{parse, typed};

#[test]
fn kind_config_is_the_tutorial_cluster() {
    let config = KindConfig::parse(&fixtures::read("kind/ambient.yaml").unwrap()).unwrap();
    assert_eq!(config.kind, "Cluster");
    assert_eq!(config.api_version, "kind.x-k8s.io/v1alpha4");
    assert_eq!(config.name, "ambient");
    let roles: Vec<NodeRole> = config.nodes.iter().map(|n| n.role).collect();
    assert_eq!(
        roles,
        [NodeRole::ControlPlane, NodeRole::Worker, NodeRole::Worker]
    );
    assert_eq!(
        config.node_names(),
        ["ambient-control-plane", "ambient-worker", "ambient-worker2"]
    );
}

#[test]
fn kind_config_typos_are_refused() {
    let typo = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nname: ambient\nnodes:\n- role: wroker\n";
    assert!(KindConfig::parse(typo).is_err());
    let unknown = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nname: a\nnode: []\n";
    assert!(KindConfig::parse(unknown).is_err());
}

/// The clients the tutorial relies on: a ServiceAccount (its identity shows in ztunnel logs), a
/// Deployment to `kubectl exec deploy/<name> -- curl`, a Service on port 80.
fn check_client(name: &str) {
    let file = format!("apps/{name}.yaml");
    let objects = parse(&file, &fixtures::read(&file).unwrap()).unwrap();
    assert_eq!(objects.len(), 3);
    let sa: ServiceAccount = objects.iter().find_map(typed).expect("a ServiceAccount");
    assert_eq!(sa.metadata.name.as_deref(), Some(name));
    let svc: Service = objects.iter().find_map(typed).expect("a Service");
    let ports = svc.spec.unwrap().ports.unwrap();
    assert_eq!(ports[0].port, 80);
    let deploy: Deployment = objects.iter().find_map(typed).expect("a Deployment");
    assert_eq!(deploy.metadata.name.as_deref(), Some(name));
    let pod = deploy.spec.unwrap().template.spec.unwrap();
    assert_eq!(pod.service_account_name.as_deref(), Some(name));
    let container = &pod.containers[0];
    assert!(
        container
            .image
            .as_deref()
            .unwrap()
            .starts_with("curlimages/curl")
    );
    assert_eq!(
        container.command.as_deref().unwrap(),
        ["/bin/sleep", "infinity"]
    );
}

#[test]
fn sleep_client_has_what_the_tutorial_uses() {
    check_client("sleep");
}

#[test]
fn notsleep_client_has_what_the_tutorial_uses() {
    check_client("notsleep");
}

#[test]
fn each_era_waypoint_fixture_matches_its_facts() {
    for era in Era::ALL {
        let w = facts(era).waypoint;
        let objects = parse(w.fixture, &fixtures::read(w.fixture).unwrap()).unwrap();
        assert_eq!(objects.len(), 1, "{era}");
        let gw = &objects[0];
        let types = gw.types.as_ref().unwrap();
        assert_eq!(types.kind, "Gateway", "{era}");
        assert_eq!(types.api_version, w.gateway_api_version, "{era}");
        assert_eq!(gw.metadata.name.as_deref(), Some(w.gateway_name), "{era}");
        assert_eq!(gw.metadata.namespace.as_deref(), Some("default"), "{era}");
        assert_eq!(
            gw.data["spec"]["gatewayClassName"], w.gateway_class,
            "{era}"
        );
    }
}

#[test]
fn the_2022_waypoint_is_the_tutorial_manifest() {
    let objects = parse("exp2022", &fixtures::read("waypoint/exp2022.yaml").unwrap()).unwrap();
    let annotations = objects[0].metadata.annotations.clone().unwrap();
    assert_eq!(
        annotations["istio.io/service-account"],
        "bookinfo-productpage"
    );
}

/// The sim wrapper modules require the versions `fixtures/sim/versions.env` names: the wrappers
/// are generated from it, and a Dependabot pull request bumps a go.mod alone.
#[test]
fn the_sim_wrappers_require_the_versions_of_versions_env() {
    let env = fixtures::read("sim/versions.env").unwrap();
    let var = |name: &str| {
        env.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("versions.env sets no {name}"))
            .trim()
            .to_string()
    };
    for (wrapper, module, name) in [
        ("k8s", "k8s.io/kubernetes", "K8S_VERSION"),
        ("etcd", "go.etcd.io/etcd/server/v3", "ETCD_VERSION"),
        ("kwok", "sigs.k8s.io/kwok", "KWOK_VERSION"),
        ("istio", "istio.io/istio", "ISTIO_MODULE_VERSION"),
    ] {
        let file = format!("sim/{wrapper}/go.mod");
        let gomod = fixtures::read(&file).unwrap();
        let required = gomod
            .lines()
            .map(|l| l.trim().trim_start_matches("require").trim())
            .find_map(|l| l.strip_prefix(&format!("{module} ")))
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("fixtures/{file} requires no {module}"));
        let wanted = var(name);
        assert_eq!(
            required, wanted,
            "fixtures/{file} requires {module} {required}, fixtures/sim/versions.env says \
             {name}={wanted}: set {name} there and run `bash fixtures/sim/build.sh regenerate`"
        );
    }
}
