//! Kiali: apply the release's `samples/addons`, wait for the kiali rollout, open the dashboard the
//! tutorial's way (`istioctl dashboard kiali`, without a browser), make traffic, and read the graph
//! through Kiali's API until it shows sleep → productpage.

use std::sync::Arc;
use std::time::Duration;

use rstest::rstest;
use serial_test::serial;
use support::claims::Verdict;
use support::judge;
use support::observe::{self, kiali};
use support::steps::{self, APPS_NAMESPACE, CLIENT, PRODUCTPAGE_URL};

use crate::world::{World, apps};

#[rstest]
#[ignore = "needs a cluster (docker + kind, or AMBIENT_PROVIDER=sim|k3s|existing): see README"]
#[serial(cluster)]
fn kiali_shows_the_traffic(apps: Arc<World>) {
    let w = &apps;
    let c = &w.cluster.client;

    // Step 1: install the addons and wait for the rollout.
    let installed = w.run(steps::install_addons(
        c,
        &w.release,
        &w.facts,
        w.timeout(300),
    ));
    w.check(
        "kiali.rollout_completes",
        judge::step(
            &installed,
            "samples/addons applied and deployment kiali rolled out",
        ),
    );

    // Step 2: `istioctl dashboard kiali`.
    let dashboard = w.run(kiali::Dashboard::open(kiali::Open {
        tools: &w.tools,
        istioctl: &w.release.istioctl,
        kubeconfig: &w.cluster.kubeconfig_path,
        context: &w.cluster.context,
        timeout: w.timeout(60),
    }));
    // Each claim that needs the dashboard shares its failure.
    let dashboard = dashboard.map_err(Arc::new);
    let page = match &dashboard {
        Ok(d) => w.run(d.page_status()).map_err(Arc::new),
        Err(e) => Err(e.clone()),
    };
    w.check(
        "kiali.dashboard_reachable",
        judge::observed(
            &page,
            "istioctl dashboard kiali serves the dashboard",
            |s| {
                Verdict::holds_if(
                    *s == 200,
                    "HTTP 200 from the dashboard",
                    format!("HTTP {s}"),
                )
            },
        ),
    );

    // Steps 3 and 4: traffic, then the graph shows it.
    w.until_judged(
        "kiali.graph_shows_traffic",
        w.data_plane_timeout(240),
        || async {
            let d = dashboard.as_ref().map_err(Arc::clone)?;
            let _ = observe::curl(c, APPS_NAMESPACE, CLIENT, PRODUCTPAGE_URL, w.timeout(60)).await;
            d.graph(APPS_NAMESPACE, Duration::from_secs(120))
                .await
                .map_err(Arc::new)
        },
        |graph| judge::graph_edge(graph, "sleep", "productpage"),
    );
}
