//! Deploying the demo apps: Bookinfo, its gateway, sleep and notsleep; `default` labelled for
//! ambient; istio-cni announces each pod joining the mesh; no pod gets a sidecar.

use std::collections::BTreeMap;
use std::sync::Arc;

use rstest::rstest;
use serial_test::serial;
use support::claims::Verdict;
use support::judge;
use support::k8s::pods;
use support::k8s::wait::{Probe, until};
use support::logs::parse_enrollment;

use crate::world::{BOOKINFO, CLIENTS, World, apps, block_on};

fn deployments_available(w: &World, claim_id: &str, names: &[&str]) {
    let verdict = block_on(async {
        for d in names {
            if let Err(e) =
                pods::wait_deployment(&w.cluster.client, "default", d, w.timeout(300)).await
            {
                return Verdict::drifted(format!("deployment {d} available"), e.to_string());
            }
        }
        Verdict::Holds
    });
    w.check(claim_id, verdict);
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

/// Every app pod, as (pod, namespace, node).
async fn app_pods(w: &World) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for d in BOOKINFO.iter().chain(CLIENTS) {
        let p = w.pod_of(d).await;
        out.push((
            pods::name_of(&p).to_string(),
            "default".to_string(),
            pods::node_of(&p).unwrap_or_default().to_string(),
        ));
    }
    out
}

#[rstest]
#[ignore = "needs a cluster (docker + kind, or AMBIENT_PROVIDER=sim|k3s|existing): see README"]
#[serial(cluster)]
fn each_app_pod_is_added_to_the_ambient_mesh(apps: Arc<World>) {
    let w = &apps;
    let (k, v) = w.facts.cni_label;
    let ns = w.facts.istio_namespace;
    let verdict = block_on(async {
        let expected = app_pods(w).await;
        // istio-cni logs the enrollment soon after the label; read its log until every pod shows.
        let outcome = until(
            "istio-cni to announce every app pod",
            w.data_plane_timeout(120),
            || async {
                let mut by_node = BTreeMap::new();
                for node in &w.cluster.node_names {
                    let Ok(cni) =
                        pods::on_node(&w.cluster.client, ns, &format!("{k}={v}"), node).await
                    else {
                        continue;
                    };
                    let log = pods::logs(
                        &w.cluster.client,
                        ns,
                        pods::name_of(&cni),
                        w.facts.cni_container,
                    )
                    .await
                    .unwrap_or_default();
                    by_node.insert(
                        node.clone(),
                        log.lines()
                            .filter_map(|l| parse_enrollment(l).ok())
                            .collect::<Vec<_>>(),
                    );
                }
                match judge::enrolled(&expected, &by_node, w.facts.enrollment_log) {
                    Verdict::Holds => Probe::Ready(Verdict::Holds),
                    other => Probe::NotYet(format!("{other:?}")),
                }
            },
        )
        .await;
        outcome.unwrap_or_else(|e| {
            Verdict::drifted("an enrollment line for each app pod", e.to_string())
        })
    });
    w.check("demo_apps.pods_enrolled", verdict);
}

#[rstest]
#[ignore = "needs a cluster (docker + kind, or AMBIENT_PROVIDER=sim|k3s|existing): see README"]
#[serial(cluster)]
fn no_app_pod_has_a_sidecar(apps: Arc<World>) {
    let verdict = block_on(async {
        let mut all = Vec::new();
        for d in BOOKINFO.iter().chain(CLIENTS) {
            all.push(apps.pod_of(d).await);
        }
        judge::no_sidecars(&all)
    });
    apps.check("demo_apps.no_sidecars", verdict);
}
