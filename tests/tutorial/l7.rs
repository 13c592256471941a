//! L7 processing: declare the productpage waypoint the era's way; its pod runs; curl still returns
//! the page; sleep's ztunnel now sends the connection to the server waypoint. The section removes
//! the waypoint when it ends, so the other sections see the cluster as they expect.

use std::sync::Arc;

use rstest::rstest;
use serial_test::serial;
use support::judge::{self, WaypointExpectation};
use support::k8s::pods;
use support::observe;
use support::steps::{self, APPS_NAMESPACE, CLIENT, PRODUCTPAGE_URL};

use crate::world::{World, apps};

#[rstest]
#[ignore = "needs a cluster (docker + kind, or AMBIENT_PROVIDER=sim|k3s|existing): see README"]
#[serial(cluster)]
fn l7_processing_through_the_productpage_waypoint(apps: Arc<World>) {
    let w = &apps;
    let c = &w.cluster.client;
    let wp = &w.facts.waypoint;
    let _teardown = w.teardown(
        "removing the waypoint",
        steps::remove_waypoint(c, &w.facts, w.timeout(180)),
    );

    // Step 1: deploy the waypoint.
    let local_crds = w.settings.gateway_api_crds.as_deref();
    let declared = w.run(steps::declare_waypoint(
        c,
        &w.facts,
        local_crds,
        w.timeout(60),
    ));
    w.check(
        "l7.waypoint_declared",
        judge::step(&declared, &format!("{} accepted", wp.fixture)),
    );

    // Step 2: its pod runs.
    let deployment = wp.deployment;
    let running = w.run(pods::wait_deployment(
        c,
        APPS_NAMESPACE,
        deployment,
        w.data_plane_timeout(300),
    ));
    let waypoint = match &running {
        Ok(_) => w.run(observe::waypoint_pods(c, APPS_NAMESPACE, deployment)),
        Err(_) => Ok(observe::WaypointPods::default()),
    };
    w.check(
        "l7.waypoint_pod_running",
        judge::observed(
            &running,
            &format!("deployment {deployment} available"),
            |_| support::claims::Verdict::Holds,
        ),
    );

    // Step 3: curl still returns the page.
    let reply = w.run(observe::curl(
        c,
        APPS_NAMESPACE,
        CLIENT,
        PRODUCTPAGE_URL,
        w.timeout(60),
    ));
    w.check(
        "l7.curl_returns_productpage",
        judge::observed(&reply, "HTTP 200 and the product page", |r| {
            judge::productpage_page(&r.stdout)
        }),
    );

    // Step 4: sleep's ztunnel sends the connection to the server waypoint; productpage's logs
    // the inbound connection.
    let identity = wp
        .identity_service_account
        .map(|sa| format!("spiffe://cluster.local/ns/default/sa/{sa}"));
    let expectation = WaypointExpectation {
        identity,
        pod_ips: waypoint.map(|p| p.ips).unwrap_or_default(),
    };
    let to_waypoint = w.expect(w.run(observe::tutorial_traffic(c, Some(expectation))));
    let held = w.until_judged(
        "l7.sleep_ztunnel_logs_to_waypoint",
        w.data_plane_timeout(120),
        || observe::curl_then_ztunnel_log(c, &w.facts, PRODUCTPAGE_URL, CLIENT, w.timeout(60)),
        |log| judge::outbound_logged(&log.records(), &to_waypoint).0,
    );
    if let Some(log) = held {
        let (_, hit) = judge::outbound_logged(&log.records(), &to_waypoint);
        let line = log.line(hit).unwrap_or_default().to_string();
        w.snapshot(w.facts.era.id(), || {
            insta::assert_snapshot!("sleep_ztunnel_to_waypoint", line)
        });
    }
    let plain = w.expect(w.run(observe::tutorial_traffic(c, None)));
    w.until_judged(
        "l7.productpage_ztunnel_logs_inbound",
        w.data_plane_timeout(120),
        || {
            let log_of = "productpage-v1";
            observe::curl_then_ztunnel_log(c, &w.facts, PRODUCTPAGE_URL, log_of, w.timeout(60))
        },
        |log| judge::inbound_logged(&log.records(), &plain).0,
    );
}
