//! L4 processing: sleep curls the product page; the ztunnel on sleep's node logs the outbound
//! connection without a waypoint, the ztunnel on productpage's node logs the inbound one. The
//! tutorial finds those ztunnels "by trial and error"; here each is the ztunnel pod whose
//! `spec.nodeName` is the workload's node.

use std::sync::Arc;

use rstest::rstest;
use serial_test::serial;
use support::claims::Verdict;
use support::judge::{self, Traffic};
use support::k8s::wait::{Probe, until};
use support::logs::AccessRecord;

use crate::world::{World, apps, block_on};

#[rstest]
#[ignore = "needs a cluster (docker + kind, or AMBIENT_PROVIDER=sim|k3s|existing): see README"]
#[serial(cluster)]
fn curl_from_sleep_returns_the_product_page(apps: Arc<World>) {
    let w = &apps;
    let verdict = block_on(async {
        until(
            "curl from sleep to return the product page",
            w.data_plane_timeout(120),
            || async move {
                match judge::productpage_page(&w.curl_productpage().await) {
                    Verdict::Holds => Probe::Ready(Verdict::Holds),
                    other => Probe::NotYet(format!("{other:?}")),
                }
            },
        )
        .await
        .unwrap_or_else(|e| Verdict::drifted("HTTP 200 and the product page", e.to_string()))
    });
    w.check("l4.curl_returns_productpage", verdict);
}

/// Curls until the ztunnel on `node_of`'s node logs what `judge` looks for; returns the verdict
/// and the matching raw line.
pub async fn logged(
    w: &World,
    node_of: &str,
    traffic: &Traffic,
    judge: fn(&[AccessRecord], &Traffic) -> (Verdict, Option<usize>),
) -> (Verdict, Option<String>) {
    let what = format!("the ztunnel on {node_of}'s node to log the connection");
    let outcome = until(&what, w.data_plane_timeout(120), || async move {
        let lines = w.curl_and_read_ztunnel(node_of).await;
        let records: Vec<AccessRecord> = lines.iter().map(|(_, r)| r.clone()).collect();
        match judge(&records, traffic) {
            (Verdict::Holds, Some(i)) => Probe::Ready(lines[i].0.clone()),
            (other, _) => Probe::NotYet(format!("{other:?}")),
        }
    })
    .await;
    match outcome {
        Ok(line) => (Verdict::Holds, Some(line)),
        Err(e) => (
            Verdict::drifted(
                format!("{node_of}'s ztunnel logs the connection"),
                e.to_string(),
            ),
            None,
        ),
    }
}

#[rstest]
#[ignore = "needs a cluster (docker + kind, or AMBIENT_PROVIDER=sim|k3s|existing): see README"]
#[serial(cluster)]
fn sleeps_ztunnel_logs_the_outbound_connection(apps: Arc<World>) {
    let traffic = block_on(apps.traffic(None));
    let (verdict, line) = block_on(logged(&apps, "sleep", &traffic, judge::outbound_logged));
    if apps.check("l4.sleep_ztunnel_logs_outbound", verdict)
        && let Some(line) = line
    {
        apps.snapshot(apps.facts.era.id(), || insta::assert_snapshot!(line));
    }
}

#[rstest]
#[ignore = "needs a cluster (docker + kind, or AMBIENT_PROVIDER=sim|k3s|existing): see README"]
#[serial(cluster)]
fn productpages_ztunnel_logs_the_inbound_connection(apps: Arc<World>) {
    let traffic = block_on(apps.traffic(None));
    let (verdict, line) = block_on(logged(
        &apps,
        "productpage-v1",
        &traffic,
        judge::inbound_logged,
    ));
    if apps.check("l4.productpage_ztunnel_logs_inbound", verdict)
        && let Some(line) = line
    {
        apps.snapshot(apps.facts.era.id(), || insta::assert_snapshot!(line));
    }
}
