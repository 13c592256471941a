//! Kiali: apply the release's `samples/addons`, wait for the kiali rollout, open the dashboard the
//! tutorial's way (`istioctl dashboard kiali`, without a browser); with no request for a minute
//! the graph shows no traffic (the tutorial's note); then curl, and the graph shows sleep →
//! productpage.

use std::sync::Arc;
use std::time::Duration;

use rstest::rstest;
use serial_test::serial;
use support::answers;
use support::claims::ClaimId;
use support::observe::{self, kiali};
use support::registry::{Kind, Observation};
use support::steps::{self, APPS_NAMESPACE, CLIENT, PRODUCTPAGE_URL};

use crate::world::{World, apps};

/// "did not handle any request in the past minute": the graph's window.
const PAST_MINUTE: Duration = Duration::from_secs(60);

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
        ClaimId::KialiRolloutCompletes,
        answers::step(
            &w.refs(),
            "kiali.rollout",
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
        Ok(d) => w
            .run(d.page_status())
            .map_err(|e| support::errors::chain(&e)),
        Err(e) => Err(support::errors::chain(e.as_ref())),
    };
    w.check(
        ClaimId::KialiDashboardReachable,
        answers::dashboard(&w.refs(), &page),
    );

    // The note under step 2: with no request in the past minute the graph shows nothing. The
    // earlier sections' requests leave the window within a minute or so.
    w.until_observed(
        Kind::Graph,
        "kiali.graph_may_be_empty",
        w.data_plane_timeout(180),
        || async {
            let d = dashboard.as_ref().map_err(Arc::clone)?;
            let graph = d.graph(APPS_NAMESPACE, PAST_MINUTE).await;
            graph.map(Observation::Graph).map_err(Arc::new)
        },
    );

    // Steps 3 and 4: traffic, then the graph shows it.
    w.until_observed(
        Kind::Graph,
        "kiali.graph_shows_traffic",
        w.data_plane_timeout(240),
        || async {
            let d = dashboard.as_ref().map_err(Arc::clone)?;
            let _ = observe::curl(c, APPS_NAMESPACE, CLIENT, PRODUCTPAGE_URL, w.timeout(60)).await;
            let graph = d.graph(APPS_NAMESPACE, PAST_MINUTE).await;
            graph.map(Observation::Graph).map_err(Arc::new)
        },
    );
}
