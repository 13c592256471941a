//! L4 processing: sleep curls the product page; the ztunnel on sleep's node logs the outbound
//! connection without a waypoint, the ztunnel on productpage's node logs the inbound one from
//! sleep. The tutorial finds those ztunnels "by trial and error"; here each is the ztunnel pod
//! whose `spec.nodeName` is the workload's node.

use std::sync::Arc;

use rstest::rstest;
use serial_test::serial;
use support::answers;
use support::claims::ClaimId;
use support::judge::{self, From};
use support::observe;
use support::steps::{APPS_NAMESPACE, CLIENT, PRODUCTPAGE_URL};

use crate::world::{World, apps};

#[rstest]
#[ignore = "needs a cluster (docker + kind, or AMBIENT_PROVIDER=sim|k3s|existing): see README"]
#[serial(cluster)]
fn curl_from_sleep_returns_the_product_page(apps: Arc<World>) {
    let w = &apps;
    let c = &w.cluster.client;
    w.until_judged(
        ClaimId::L4CurlReturnsProductpage,
        w.data_plane_timeout(120),
        || observe::curl(c, APPS_NAMESPACE, CLIENT, PRODUCTPAGE_URL, w.timeout(60)),
        |reply| answers::curl_page(&w.refs(), "l4.curl_index_page", &reply.stdout),
    );
}

#[rstest]
#[ignore = "needs a cluster (docker + kind, or AMBIENT_PROVIDER=sim|k3s|existing): see README"]
#[serial(cluster)]
fn sleeps_ztunnel_logs_the_outbound_connection(apps: Arc<World>) {
    let w = &apps;
    let c = &w.cluster.client;
    let traffic = w.expect(w.run(observe::tutorial_traffic(c, &w.facts, None)));
    let format = w.facts.access_log;
    let snapshot = w.snapshot(
        "l4",
        "sleeps_ztunnel_logs_the_outbound_connection",
        format.snapshot_suffix(),
    );
    w.until_judged_with_snapshot(
        ClaimId::L4SleepZtunnelLogsOutbound,
        w.data_plane_timeout(120),
        || observe::curl_then_ztunnel_log(c, &w.facts, PRODUCTPAGE_URL, CLIENT, w.timeout(60)),
        |log| answers::outbound_logged(&w.refs(), "l4.sleep_ztunnel_line", &log.lines, &traffic),
        &snapshot,
        |log| {
            let (_, hit) = judge::outbound_logged(&log.records(), &traffic);
            log.line(hit).map(|l| format.snapshot_text(l))
        },
    );
}

#[rstest]
#[ignore = "needs a cluster (docker + kind, or AMBIENT_PROVIDER=sim|k3s|existing): see README"]
#[serial(cluster)]
fn productpages_ztunnel_logs_the_inbound_connection(apps: Arc<World>) {
    let w = &apps;
    let c = &w.cluster.client;
    let traffic = w.expect(w.run(observe::tutorial_traffic(c, &w.facts, None)));
    let format = w.facts.access_log;
    let snapshot = w.snapshot(
        "l4",
        "productpages_ztunnel_logs_the_inbound_connection",
        format.snapshot_suffix(),
    );
    w.until_judged_with_snapshot(
        ClaimId::L4ProductpageZtunnelLogsInbound,
        w.data_plane_timeout(120),
        || {
            let log_of = "productpage-v1";
            observe::curl_then_ztunnel_log(c, &w.facts, PRODUCTPAGE_URL, log_of, w.timeout(60))
        },
        |log| {
            let id = "l4.productpage_ztunnel_line";
            answers::inbound_logged(&w.refs(), id, &log.lines, &traffic, From::Client)
        },
        &snapshot,
        |log| {
            let (_, hit) = judge::inbound_logged(&log.records(), &traffic, From::Client);
            log.line(hit).map(|l| format.snapshot_text(l))
        },
    );
}
