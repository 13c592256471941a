//! L4 processing: sleep curls the product page; the ztunnel on sleep's node logs the outbound
//! connection without a waypoint, the ztunnel on productpage's node logs the inbound one from
//! sleep. The tutorial finds those ztunnels "by trial and error"; here each is the ztunnel pod
//! whose `spec.nodeName` is the workload's node.

use std::sync::Arc;

use rstest::rstest;
use serial_test::serial;
use support::observe;
use support::registry::{Kind, Observation};
use support::steps::{APPS_NAMESPACE, CLIENT, PRODUCTPAGE_URL};

use crate::world::{World, apps};

#[rstest]
#[ignore = "needs a cluster (docker + kind, or AMBIENT_PROVIDER=sim|k3s|existing): see README"]
#[serial(cluster)]
fn curl_from_sleep_returns_the_product_page(apps: Arc<World>) {
    let w = &apps;
    let c = &w.cluster.client;
    w.until_observed(
        Kind::Curl,
        "l4.curl_index_page",
        w.data_plane_timeout(120),
        || async {
            let reply = observe::curl(c, APPS_NAMESPACE, CLIENT, PRODUCTPAGE_URL, w.timeout(60));
            let stdout = reply.await?.stdout;
            Ok::<_, observe::ObserveError>(Observation::Curl { stdout })
        },
    );
}

/// The log of the ztunnel on the node of `log_of`'s pod after the tutorial's curl, with the
/// connection the tutorial makes, at the documented line `at`.
fn ztunnel_line(w: &World, log_of: &str, at: &str) {
    let c = &w.cluster.client;
    let traffic = w.expect(w.run(observe::tutorial_traffic(c, &w.facts, None)));
    w.until_observed(Kind::ZtunnelLog, at, w.data_plane_timeout(120), || async {
        let log =
            observe::curl_then_ztunnel_log(c, &w.facts, PRODUCTPAGE_URL, log_of, w.timeout(60));
        Ok::<_, observe::ObserveError>(Observation::ZtunnelLog {
            lines: log.await?.lines,
            traffic: traffic.clone(),
        })
    });
}

#[rstest]
#[ignore = "needs a cluster (docker + kind, or AMBIENT_PROVIDER=sim|k3s|existing): see README"]
#[serial(cluster)]
fn sleeps_ztunnel_logs_the_outbound_connection(apps: Arc<World>) {
    ztunnel_line(&apps, CLIENT, "l4.sleep_ztunnel_line");
}

#[rstest]
#[ignore = "needs a cluster (docker + kind, or AMBIENT_PROVIDER=sim|k3s|existing): see README"]
#[serial(cluster)]
fn productpages_ztunnel_logs_the_inbound_connection(apps: Arc<World>) {
    ztunnel_line(&apps, "productpage-v1", "l4.productpage_ztunnel_line");
}
