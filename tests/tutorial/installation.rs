//! Installation: `istioctl install --set profile=ambient -y`, then `kubectl -n istio-system get
//! all` shows istiod, one ztunnel and one istio-cni-node per node, and (2022 build only) the
//! ingress gateway with its autoscaler.

use std::sync::Arc;

use rstest::rstest;
use serial_test::serial;
use support::judge;
use support::k8s::conditions::pod_ready;
use support::k8s::pods;
use support::observe;

use crate::world::{World, installed};

#[rstest]
#[ignore = "needs a cluster (docker + kind, or AMBIENT_PROVIDER=sim|k3s|existing): see README"]
#[serial(cluster)]
fn istioctl_prints_component_lines(installed: Arc<World>) {
    let w = &installed;
    let lines = w.install_report().component_lines;
    w.check(
        "installation.istioctl_prints_component_lines",
        judge::install_lines(w.facts.install_lines, &lines),
    );
    let mut sorted = lines;
    sorted.sort();
    w.snapshot(w.facts.install_variant, || {
        insta::assert_snapshot!(sorted.join("\n"))
    });
}

#[rstest]
#[ignore = "needs a cluster (docker + kind, or AMBIENT_PROVIDER=sim|k3s|existing): see README"]
#[serial(cluster)]
fn istiod_is_available(installed: Arc<World>) {
    let w = &installed;
    let ns = w.facts.istio_namespace;
    let istiod = w.run(pods::wait_deployment(
        &w.cluster.client,
        ns,
        "istiod",
        w.timeout(300),
    ));
    w.check(
        "installation.istiod_available",
        judge::observed(&istiod, "deployment istiod available", |_| {
            support::claims::Verdict::Holds
        }),
    );
}

/// "one per node": the DaemonSet ready by Istio's rule, one ready pod on each node.
fn one_pod_per_node(w: &World, claim_id: &str, daemonset: &str, label: (&str, &str)) {
    let ns = w.facts.istio_namespace;
    let seen = w.run(observe::ready_daemonset(
        &w.cluster.client,
        ns,
        daemonset,
        label,
        w.timeout(300),
    ));
    w.check(
        claim_id,
        judge::observed(
            &seen,
            &format!("daemonset {daemonset} ready on every node"),
            |o| judge::one_pod_per_node(&o.daemonset, &o.pods, &w.cluster.node_names),
        ),
    );
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
    let w = &installed;
    let expected = w.facts.ingress_gateway;
    let seen = w.run(observe::ingress_gateway(
        &w.cluster.client,
        w.facts.istio_namespace,
        expected.then(|| w.timeout(300)),
    ));
    w.check(
        "installation.ingress_gateway_as_era_says",
        judge::observed(&seen, "istio-ingressgateway available", |g| {
            judge::presence(
                "istio-ingressgateway deployment and autoscaler",
                expected,
                g.deployment.is_some() && g.autoscaler.is_some(),
            )
        }),
    );
}

#[rstest]
#[ignore = "needs a cluster (docker + kind, or AMBIENT_PROVIDER=sim|k3s|existing): see README"]
#[serial(cluster)]
fn three_ambient_proxies_run_on_the_three_node_cluster(installed: Arc<World>) {
    let w = &installed;
    let f = &w.facts;
    let seen = w.run(observe::ready_daemonset(
        &w.cluster.client,
        f.istio_namespace,
        f.ztunnel_daemonset,
        f.ztunnel_label,
        w.timeout(300),
    ));
    let topology = support::cluster::provider::facts(w.settings.provider).nodes;
    w.check(
        "installation.three_ztunnels_on_three_nodes",
        judge::observed(&seen, "ztunnel ready", |o| {
            let ready = o.pods.iter().filter(|p| pod_ready(p)).count();
            judge::three_on_three(topology, w.cluster.node_names.len(), ready)
        }),
    );
}
