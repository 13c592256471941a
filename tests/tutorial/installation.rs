//! Installation: download the tutorial's istioctl, `istioctl install --set profile=ambient -y`,
//! then `kubectl -n istio-system get all` shows istiod, one ztunnel and one istio-cni-node per
//! node, their services, replicasets and autoscalers, and (2022 build only) the ingress gateway.

use std::sync::Arc;

use rstest::rstest;
use serial_test::serial;
use support::answers::{self, Component, IngressGatewayObjects};
use support::claims::ClaimId;
use support::judge::IngressGatewayParts;
use support::k8s::conditions::pod_ready;
use support::k8s::pods;
use support::observe;
use support::registry::{Kind, Listing, Observation};
use support::tutorial::expectations::Expected;

use crate::world::{World, installed, world};

#[rstest]
#[ignore = "needs a cluster (docker + kind, or AMBIENT_PROVIDER=sim|k3s|existing): see README"]
#[serial(cluster)]
fn the_tutorials_istio_archive_still_downloads(world: Arc<World>) {
    let w = &world;
    let at = "installation.archive_url";
    let url = match w.tutorial.expectations.get(at).map(|d| &d.expected) {
        Some(Expected::Url { url }) => url.clone(),
        _ => String::new(),
    };
    let status = w.run(observe::probe_url(&url, w.timeout(60)));
    w.observed(Kind::Urls, at, Ok(Observation::Urls(vec![(url, status)])));
}

#[rstest]
#[ignore = "needs a cluster (docker + kind, or AMBIENT_PROVIDER=sim|k3s|existing): see README"]
#[serial(cluster)]
fn istioctl_prints_component_lines(installed: Arc<World>) {
    let w = &installed;
    let lines = w.install_report().component_lines;
    // Completion order varies: the snapshot holds the lines sorted.
    let mut sorted = lines.clone();
    sorted.sort();
    w.check_with_snapshot(
        ClaimId::InstallationIstioctlPrintsComponentLines,
        answers::install_lines(&w.refs(), &lines),
        &w.snapshot(
            "installation",
            "istioctl_prints_component_lines",
            w.facts.install_variant,
        ),
        Some(support::snapshot::redact(&sorted.join("\n"))),
    );
}

#[rstest]
#[ignore = "needs a cluster (docker + kind, or AMBIENT_PROVIDER=sim|k3s|existing): see README"]
#[serial(cluster)]
fn istiod_is_available(installed: Arc<World>) {
    let w = &installed;
    let ns = w.facts.istio_namespace;
    let c = &w.cluster.client;
    let istiod = w
        .run(pods::wait_deployment(c, ns, "istiod", w.timeout(300)))
        .and_then(|d| Ok((d, w.run(pods::of_deployment(c, ns, "istiod"))?)));
    // The listing's pod rows, as far as istiod's pods show them.
    let listed = (istiod.as_ref())
        .map(|(_, p)| Observation::Pods(p.clone()))
        .map_err(|e| support::errors::chain(e));
    w.observed(Kind::Pods, "installation.get_all.pod", listed);
    w.check(
        ClaimId::InstallationIstiodAvailable,
        match &istiod {
            Ok((d, p)) => answers::istiod_available(&w.refs(), d, p),
            Err(e) => answers::unobserved(
                &w.refs(),
                "installation.get_all.deployment",
                "deployment istiod available",
                e,
            ),
        },
    );
}

/// "one per node": the DaemonSet ready by Istio's rule, one ready pod on each node; and its node
/// selector as the listing shows it (the claims of the component's DaemonSet row).
fn daemonset_row(w: &World, component: Component) {
    let f = &w.facts;
    let (name, label) = match component {
        Component::Ztunnel => (f.ztunnel_daemonset, f.ztunnel_label),
        Component::IstioCni => (f.cni_daemonset, f.cni_label),
    };
    let seen = w.run(observe::ready_daemonset(
        &w.cluster.client,
        f.istio_namespace,
        name,
        label,
        w.timeout(300),
    ));
    let observed = seen
        .map(|o| Observation::DaemonSet {
            component,
            daemonset: Box::new(o.daemonset),
            pods: o.pods,
            nodes: w.cluster.node_names.clone(),
        })
        .map_err(|e| {
            format!(
                "daemonset {name} ready on every node: {}",
                support::errors::chain(&e)
            )
        });
    w.observed(
        Kind::DaemonSet(component),
        "installation.get_all.daemonset",
        observed,
    );
}

#[rstest]
#[ignore = "needs a cluster (docker + kind, or AMBIENT_PROVIDER=sim|k3s|existing): see README"]
#[serial(cluster)]
fn one_ztunnel_runs_on_each_node(installed: Arc<World>) {
    daemonset_row(&installed, Component::Ztunnel);
}

#[rstest]
#[ignore = "needs a cluster (docker + kind, or AMBIENT_PROVIDER=sim|k3s|existing): see README"]
#[serial(cluster)]
fn one_istio_cni_node_runs_on_each_node(installed: Arc<World>) {
    daemonset_row(&installed, Component::IstioCni);
}

#[rstest]
#[ignore = "needs a cluster (docker + kind, or AMBIENT_PROVIDER=sim|k3s|existing): see README"]
#[serial(cluster)]
fn istiods_service_replicaset_and_autoscaler_are_as_listed(installed: Arc<World>) {
    let w = &installed;
    let ns = w.facts.istio_namespace;
    let c = &w.cluster.client;
    // The listing follows the install: istiod's rollout first, then its objects.
    let seen = w.run(async {
        pods::wait_deployment(c, ns, "istiod", w.timeout(300)).await?;
        observe::istiod_objects(c, ns).await
    });
    let listing = seen
        .map(|o| {
            Observation::Listing(Listing {
                services: o.service.into_iter().collect(),
                replicasets: o.replicaset.into_iter().collect(),
                autoscalers: o.autoscaler.into_iter().collect(),
            })
        })
        .map_err(|e| support::errors::chain(&e));
    for at in [
        "installation.get_all.service",
        "installation.get_all.replicaset",
        "installation.get_all.horizontalpodautoscaler",
    ] {
        w.observed(Kind::Listing, at, listing.clone());
    }
}

#[rstest]
#[ignore = "needs a cluster (docker + kind, or AMBIENT_PROVIDER=sim|k3s|existing): see README"]
#[serial(cluster)]
fn ingress_gateway_is_installed_where_the_era_installs_it(installed: Arc<World>) {
    let w = &installed;
    let ns = w.facts.istio_namespace;
    let seen = w.run(observe::ingress_gateway(
        &w.cluster.client,
        ns,
        w.facts.ingress_gateway.then(|| w.timeout(300)),
    ));
    w.check(
        ClaimId::InstallationIngressGatewayAsEraSays,
        match &seen {
            Ok(g) => answers::ingress_gateway(
                &w.refs(),
                IngressGatewayParts {
                    deployment: g.deployment.is_some(),
                    service: g.service.is_some(),
                    autoscaler: g.autoscaler.is_some(),
                },
                IngressGatewayObjects {
                    service: g.service.as_ref(),
                    autoscaler: g.autoscaler.as_ref(),
                    deployment: g.deployment.as_ref(),
                    replicaset: g.replicaset.as_ref(),
                    pods: &g.pods,
                },
            ),
            Err(e) => answers::unobserved(
                &w.refs(),
                "installation.get_all.deployment",
                "istio-ingressgateway available",
                e,
            ),
        },
    );
}

#[rstest]
#[ignore = "needs a cluster (docker + kind, or AMBIENT_PROVIDER=sim|k3s|existing): see README"]
#[serial(cluster)]
fn three_ambient_proxies_run_on_the_three_node_cluster(installed: Arc<World>) {
    let w = &installed;
    let f = &w.facts;
    let c = &w.cluster.client;
    let ztunnels = w.run(observe::ready_daemonset(
        c,
        f.istio_namespace,
        f.ztunnel_daemonset,
        f.ztunnel_label,
        w.timeout(300),
    ));
    let topology = support::cluster::provider::facts(w.settings.provider).nodes;
    let id = "installation.per_node_proxies";
    w.check(
        ClaimId::InstallationThreeZtunnelsOnThreeNodes,
        match &ztunnels {
            Ok(o) => {
                let ready = o.pods.iter().filter(|p| pod_ready(p)).count();
                answers::three_on_three(&w.refs(), topology, w.cluster.node_names.len(), ready)
            }
            Err(e) => answers::unobserved(&w.refs(), id, "ztunnel ready", e),
        },
    );
    // The pods the tutorial lists under "one for each node" are istio-cni-node's.
    let listed = w.run(observe::ready_daemonset(
        c,
        f.istio_namespace,
        f.cni_daemonset,
        f.cni_label,
        w.timeout(300),
    ));
    w.check(
        ClaimId::InstallationListedProxiesOnePerNode,
        match &listed {
            Ok(o) => answers::listed_proxies_one_per_node(
                &w.refs(),
                &o.daemonset,
                &o.pods,
                &w.cluster.node_names,
            ),
            Err(e) => answers::unobserved(&w.refs(), id, "the listed pods ready on every node", e),
        },
    );
}
