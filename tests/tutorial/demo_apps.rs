//! Deploying the demo apps: Bookinfo, its gateway, sleep and notsleep; `default` labelled for
//! ambient; istio-cni announces each pod joining the mesh; no pod gets a sidecar.

use std::sync::Arc;

use rstest::rstest;
use serial_test::serial;
use support::judge;
use support::k8s::pods;
use support::observe;
use support::steps::{APPS_NAMESPACE, BOOKINFO, CLIENTS};

use crate::world::{World, apps};

fn deployments_available(w: &World, claim_id: &str, names: &[&str]) {
    let c = &w.cluster.client;
    let available = w.run(async {
        for d in names {
            pods::wait_deployment(c, APPS_NAMESPACE, d, w.timeout(300)).await?;
        }
        Ok::<(), pods::PodError>(())
    });
    w.check(
        claim_id,
        judge::observed(
            &available,
            &format!("deployments {names:?} available"),
            |_| support::claims::Verdict::Holds,
        ),
    );
}

#[rstest]
#[ignore = "needs a cluster (docker + kind, or AMBIENT_PROVIDER=sim|k3s|existing): see README"]
#[serial(cluster)]
fn bookinfo_is_available(apps: Arc<World>) {
    deployments_available(&apps, "demo_apps.bookinfo_available", BOOKINFO);
}

#[rstest]
#[ignore = "needs a cluster (docker + kind, or AMBIENT_PROVIDER=sim|k3s|existing): see README"]
#[serial(cluster)]
fn sleep_and_notsleep_are_available(apps: Arc<World>) {
    deployments_available(&apps, "demo_apps.clients_available", CLIENTS);
}

#[rstest]
#[ignore = "needs a cluster (docker + kind, or AMBIENT_PROVIDER=sim|k3s|existing): see README"]
#[serial(cluster)]
fn each_app_pod_is_added_to_the_ambient_mesh(apps: Arc<World>) {
    let w = &apps;
    let c = &w.cluster.client;
    let all: Vec<&str> = BOOKINFO.iter().chain(CLIENTS).copied().collect();
    // istio-cni logs the enrollment soon after the label; read its log until every pod shows.
    w.until_judged(
        "demo_apps.pods_enrolled",
        w.data_plane_timeout(120),
        || async {
            let app_pods = observe::running_pods(c, APPS_NAMESPACE, &all).await?;
            let by_node = observe::cni_enrollments(c, &w.facts, &w.cluster.node_names).await?;
            Ok::<_, observe::ObserveError>((app_pods, by_node))
        },
        |(app_pods, by_node)| {
            let expected: Vec<(String, String, String)> = app_pods
                .iter()
                .map(|p| {
                    let node = pods::node_of(p).unwrap_or_default();
                    (pods::name_of(p).into(), APPS_NAMESPACE.into(), node.into())
                })
                .collect();
            judge::enrolled(&expected, by_node, w.facts.enrollment_log)
        },
    );
}

#[rstest]
#[ignore = "needs a cluster (docker + kind, or AMBIENT_PROVIDER=sim|k3s|existing): see README"]
#[serial(cluster)]
fn no_app_pod_has_a_sidecar(apps: Arc<World>) {
    let w = &apps;
    let all: Vec<&str> = BOOKINFO.iter().chain(CLIENTS).copied().collect();
    let seen = w.run(observe::running_pods(
        &w.cluster.client,
        APPS_NAMESPACE,
        &all,
    ));
    w.check(
        "demo_apps.no_sidecars",
        judge::observed(&seen, "every app pod running", |p| judge::no_sidecars(p)),
    );
}
