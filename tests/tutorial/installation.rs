//! Installation: `istioctl install --set profile=ambient -y`, then `kubectl -n istio-system get
//! all` shows istiod, one ztunnel and one istio-cni-node per node, and (2022 build only) the
//! ingress gateway with its autoscaler.

use std::sync::Arc;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use rstest::rstest;
use serial_test::serial;
use support::claims::Verdict;
use support::judge;
use support::k8s::pods;

use crate::world::{World, block_on, installed};

#[rstest]
#[ignore = "needs a cluster (docker + kind, or AMBIENT_PROVIDER=sim|k3s|existing): see README"]
#[serial(cluster)]
fn istioctl_prints_component_lines(installed: Arc<World>) {
    let lines = installed.install_report().component_lines;
    installed.check(
        "installation.istioctl_prints_component_lines",
        judge::install_lines(installed.facts.install_lines, &lines),
    );
    let mut sorted = lines;
    sorted.sort();
    installed.snapshot(installed.facts.install_variant, || {
        insta::assert_snapshot!(sorted.join("\n"))
    });
}

#[rstest]
#[ignore = "needs a cluster (docker + kind, or AMBIENT_PROVIDER=sim|k3s|existing): see README"]
#[serial(cluster)]
fn istiod_is_available(installed: Arc<World>) {
    let c = &installed.cluster.client;
    let verdict = match block_on(pods::wait_deployment(
        c,
        installed.facts.istio_namespace,
        "istiod",
        installed.timeout(300),
    )) {
        Ok(_) => Verdict::Holds,
        Err(e) => Verdict::drifted("deployment istiod available", e.to_string()),
    };
    installed.check("installation.istiod_available", verdict);
}

fn one_pod_per_node(w: &World, claim_id: &str, daemonset: &str, (k, v): (&str, &str)) {
    let c = &w.cluster.client;
    let ns = w.facts.istio_namespace;
    let verdict = block_on(async {
        let ds = match pods::wait_daemonset(c, ns, daemonset, w.timeout(300)).await {
            Ok(ds) => ds,
            Err(e) => {
                return Verdict::drifted(
                    format!("daemonset {daemonset} ready on every node"),
                    e.to_string(),
                );
            }
        };
        let found = pods::list(c, ns, &format!("{k}={v}"))
            .await
            .unwrap_or_default();
        judge::one_pod_per_node(&ds, &found, &w.cluster.node_names)
    });
    w.check(claim_id, verdict);
}

#[rstest]
#[ignore = "needs a cluster (docker + kind, or AMBIENT_PROVIDER=sim|k3s|existing): see README"]
#[serial(cluster)]
fn one_ztunnel_runs_on_each_node(installed: Arc<World>) {
    let f = &installed.facts;
    one_pod_per_node(
        &installed,
        "installation.ztunnel_one_pod_per_node",
        f.ztunnel_daemonset,
        f.ztunnel_label,
    );
}

#[rstest]
#[ignore = "needs a cluster (docker + kind, or AMBIENT_PROVIDER=sim|k3s|existing): see README"]
#[serial(cluster)]
fn one_istio_cni_node_runs_on_each_node(installed: Arc<World>) {
    let f = &installed.facts;
    one_pod_per_node(
        &installed,
        "installation.istio_cni_one_pod_per_node",
        f.cni_daemonset,
        f.cni_label,
    );
}

#[rstest]
#[ignore = "needs a cluster (docker + kind, or AMBIENT_PROVIDER=sim|k3s|existing): see README"]
#[serial(cluster)]
fn ingress_gateway_is_installed_where_the_era_installs_it(installed: Arc<World>) {
    let c = installed.cluster.client.client();
    let ns = installed.facts.istio_namespace;
    let expected = installed.facts.ingress_gateway;
    let verdict = block_on(async {
        let wait = pods::wait_deployment(
            &installed.cluster.client,
            ns,
            "istio-ingressgateway",
            installed.timeout(300),
        );
        if expected && let Err(e) = wait.await {
            return Verdict::drifted("istio-ingressgateway available", e.to_string());
        }
        let deployment = kube::Api::<Deployment>::namespaced(c.clone(), ns)
            .get_opt("istio-ingressgateway")
            .await;
        let hpa = kube::Api::<HorizontalPodAutoscaler>::namespaced(c, ns)
            .get_opt("istio-ingressgateway")
            .await;
        match (deployment, hpa) {
            (Ok(d), Ok(h)) => {
                let found = d.is_some() && h.is_some();
                judge::presence(
                    "istio-ingressgateway deployment and autoscaler",
                    expected,
                    found,
                )
            }
            (Err(e), _) | (_, Err(e)) => Verdict::NotReached { why: e.to_string() },
        }
    });
    installed.check("installation.ingress_gateway_as_era_says", verdict);
}

#[rstest]
#[ignore = "needs a cluster (docker + kind, or AMBIENT_PROVIDER=sim|k3s|existing): see README"]
#[serial(cluster)]
fn three_ambient_proxies_run_on_the_three_node_cluster(installed: Arc<World>) {
    let (k, v) = installed.facts.ztunnel_label;
    let c = &installed.cluster.client;
    let verdict = block_on(async {
        let ns = installed.facts.istio_namespace;
        if let Err(e) = pods::wait_daemonset(
            c,
            ns,
            installed.facts.ztunnel_daemonset,
            installed.timeout(300),
        )
        .await
        {
            return Verdict::drifted("ztunnel ready", e.to_string());
        }
        let ready = pods::list(c, ns, &format!("{k}={v}"))
            .await
            .unwrap_or_default();
        let ready = ready
            .iter()
            .filter(|p| support::k8s::conditions::pod_ready(p))
            .count();
        let topology = support::cluster::provider::facts(installed.settings.provider).nodes;
        judge::three_on_three(topology, installed.cluster.node_names.len(), ready)
    });
    installed.check("installation.three_ztunnels_on_three_nodes", verdict);
}
