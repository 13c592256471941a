//! L7 processing: the tutorial's own waypoint declaration is applied first, as a reader would, and
//! what the cluster did with it is recorded; then the era's declaration, to go on. Its pod runs;
//! curl still returns the page; sleep's ztunnel now sends the connection to the server waypoint,
//! and productpage's ztunnel receives it from the waypoint. The section removes the waypoint when
//! it ends, so the other sections see the cluster as they expect.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::jiff::Timestamp;

use rstest::rstest;
use serial_test::serial;
use support::answers;
use support::claims::ClaimId;
use support::judge::{self, WaypointExpectation};
use support::observe;
use support::registry::{Kind, Observation};
use support::steps::{self, APPS_NAMESPACE, CLIENT, PRODUCTPAGE_URL};
use support::tutorial::expectations::Expected;

use crate::world::{World, apps};

#[rstest]
#[ignore = "needs a cluster (docker + kind, or AMBIENT_PROVIDER=sim|k3s|existing): see README"]
#[serial(cluster)]
fn l7_processing_through_the_productpage_waypoint(apps: Arc<World>) {
    let w = &apps;
    let c = &w.cluster.client;
    let wp = &w.facts.waypoint;
    let tutorials = match w.tutorial.expectations.get("l7.waypoint_declaration") {
        Some(d) => match &d.expected {
            Expected::Declaration { yaml, .. } => yaml.clone(),
            _ => String::new(),
        },
        None => String::new(),
    };
    let eras = w.expect(support::fixtures::read(wp.fixture));
    let _teardown = w.teardown("removing the waypoints", async {
        steps::undeclare(c, "the tutorial's declaration", &tutorials, w.timeout(180)).await?;
        steps::remove_waypoint(c, &w.facts, w.timeout(180)).await
    });

    // Step 1: deploy the waypoint, the tutorial's way first.
    let local_crds = w.settings.gateway_api_crds.as_deref();
    let crds = w.run(support::gateway_api::install(
        c,
        wp.gateway_api_crds,
        local_crds,
        w.timeout(60),
    ));
    w.expect(crds);
    let acting = w.istiod_timeout(60);
    // The tutorial's declaration is waited on for the conditions the tutorial's build writes.
    let documented = support::eras::facts(support::eras::Era::Experimental2022);
    let by_tutorial = w.run(steps::declare(
        c,
        "the tutorial's declaration",
        &tutorials,
        documented.waypoint.conditions,
        acting,
    ));
    let by_era = if judge::same_declaration(&tutorials, &eras) {
        None
    } else {
        let declared = w.run(steps::declare_waypoint(
            c,
            &w.facts,
            local_crds,
            w.timeout(60),
        ));
        w.expect(declared);
        Some(w.run(steps::declare(c, wp.fixture, &eras, wp.conditions, acting)))
    };
    w.check(
        ClaimId::L7WaypointDeclared,
        answers::waypoint_declared(&w.refs(), &by_tutorial, by_era.as_ref(), &eras),
    );

    // Step 2: `kubectl get pod | grep waypoint`: the pod's name (istiod's Deployment), then its
    // READY, STATUS and RESTARTS (a running container's).
    w.until_observed(
        Kind::Pods,
        "l7.waypoint_pod_line",
        w.istiod_timeout(300),
        || async {
            let pods = observe::pods_named_like(c, APPS_NAMESPACE, "waypoint").await?;
            Ok::<_, observe::ObserveError>(Observation::Pods(pods))
        },
    );
    let waypoint = w.run(observe::waypoint_pods(c, APPS_NAMESPACE, wp.deployment));

    // Step 3: curl still returns the page.
    w.until_observed(
        Kind::Curl,
        "l7.curl_index_page",
        w.data_plane_timeout(60),
        || async {
            let reply = observe::curl(c, APPS_NAMESPACE, CLIENT, PRODUCTPAGE_URL, w.timeout(60));
            let stdout = reply.await?.stdout;
            Ok::<_, observe::ObserveError>(Observation::Curl { stdout })
        },
    );

    // Step 4: sleep's ztunnel sends the connection to the server waypoint; productpage's receives
    // it from the waypoint.
    let expectation = WaypointExpectation {
        identity: wp
            .identity_service_account
            .map(|sa| format!("spiffe://cluster.local/ns/default/sa/{sa}")),
        pod_ips: waypoint.map(|p| p.ips).unwrap_or_default(),
        deployment: Some(wp.deployment.to_string()),
    };
    let traffic = w.expect(w.run(observe::tutorial_traffic(c, &w.facts, Some(expectation))));
    // Every request the step makes is judged: the log is read from before its first curl, so a
    // request that went around the waypoint stays in what each retry judges ("sometimes through
    // the waypoint" never holds). Retries only wait for lines to arrive.
    let ztunnel_line = |log_of: &'static str, at: &str| {
        let since = Timestamp::now() - Duration::from_secs(2);
        w.until_observed(Kind::ZtunnelLog, at, w.data_plane_timeout(120), || async {
            let url = PRODUCTPAGE_URL;
            let log = observe::curl_then_ztunnel_log_since(
                c,
                &w.facts,
                url,
                log_of,
                since,
                w.timeout(60),
            );
            Ok::<_, observe::ObserveError>(Observation::ZtunnelLog {
                lines: log.await?.lines,
                traffic: traffic.clone(),
            })
        });
    };
    ztunnel_line(CLIENT, "l7.sleep_ztunnel_line");
    ztunnel_line("productpage-v1", "l7.productpage_ztunnel_line");
}
