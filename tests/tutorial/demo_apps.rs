//! Deploying the demo apps: Bookinfo, its gateway, sleep and notsleep (their manifests' URLs still
//! serve); wait for every pod; `default` labelled for ambient; istio-cni announces each pod
//! joining the mesh; no pod gets a sidecar, not even one created after the label.

use std::sync::Arc;

use rstest::rstest;
use serial_test::serial;
use support::answers;
use support::claims::{Answer, ClaimId};
use support::judge::AppPod;
use support::k8s::pods;
use support::observe;
use support::registry::{Kind, Observation};
use support::steps::{self, APPS_NAMESPACE, BOOKINFO, CLIENTS};
use support::tutorial::expectations::Expected;

use crate::world::{World, apps, world};

#[rstest]
#[ignore = "needs a cluster (docker + kind, or AMBIENT_PROVIDER=sim|k3s|existing): see README"]
#[serial(cluster)]
fn the_client_manifests_still_serve(world: Arc<World>) {
    let w = &world;
    let urls: Vec<String> = [
        "demo_apps.sleep_manifest_url",
        "demo_apps.notsleep_manifest_url",
    ]
    .iter()
    .filter_map(|id| match &w.tutorial.expectations.get(id)?.expected {
        Expected::Url { url } => Some(url.clone()),
        _ => None,
    })
    .collect();
    let statuses: Vec<(String, Result<u16, String>)> = urls
        .iter()
        .map(|u| (u.clone(), w.run(observe::probe_url(u, w.timeout(60)))))
        .collect();
    let at = "demo_apps.sleep_manifest_url";
    w.observed(Kind::Urls, at, Ok(Observation::Urls(statuses)));
}

/// The apps fixture recorded the readiness claims before anything depended on them; a failure
/// there fails the fixture with its cause.
fn recorded_by_the_fixture(w: &World, id: ClaimId) {
    let answer = w.recorded(id).unwrap_or(Answer::NotReached {
        why: "the apps fixture did not record it".into(),
    });
    assert!(
        !answer.is_failure(w.settings.strict_docs),
        "{}: {}",
        id.name(),
        answer.describe()
    );
}

#[rstest]
#[ignore = "needs a cluster (docker + kind, or AMBIENT_PROVIDER=sim|k3s|existing): see README"]
#[serial(cluster)]
fn bookinfo_is_available(apps: Arc<World>) {
    recorded_by_the_fixture(&apps, ClaimId::DemoAppsBookinfoAvailable);
}

#[rstest]
#[ignore = "needs a cluster (docker + kind, or AMBIENT_PROVIDER=sim|k3s|existing): see README"]
#[serial(cluster)]
fn sleep_and_notsleep_are_available(apps: Arc<World>) {
    recorded_by_the_fixture(&apps, ClaimId::DemoAppsClientsAvailable);
}

#[rstest]
#[ignore = "needs a cluster (docker + kind, or AMBIENT_PROVIDER=sim|k3s|existing): see README"]
#[serial(cluster)]
fn the_bookinfo_gateway_is_applied(apps: Arc<World>) {
    let w = &apps;
    let c = &w.cluster.client;
    // The apply's outcome is the observation; then each object the sample declares, read back.
    let applied = w.run(steps::apply_bookinfo_gateway(c, &w.release));
    let seen = applied
        .map_err(observe::ObserveError::from)
        .and_then(|outcome| {
            let path = (w.release.sample(steps::BOOKINFO_GATEWAY))
                .map_err(|e| observe::ObserveError::from(steps::StepError::from(e)))?;
            let missing = w.run(observe::missing_objects(c, &path, APPS_NAMESPACE))?;
            Ok::<_, observe::ObserveError>((outcome, missing))
        });
    w.check(
        ClaimId::DemoAppsBookinfoGatewayApplied,
        match &seen {
            Ok((outcome, missing)) => answers::bookinfo_gateway(&w.refs(), outcome, missing),
            Err(e) => answers::unobserved(
                &w.refs(),
                "demo_apps.bookinfo_gateway",
                "the gateway's objects",
                e,
            ),
        },
    );
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
        ClaimId::DemoAppsPodsEnrolled,
        w.data_plane_timeout(120),
        || async {
            let app_pods = observe::running_pods(c, APPS_NAMESPACE, &all).await?;
            let by_node = observe::cni_enrollments(c, &w.facts, &w.cluster.node_names).await?;
            Ok::<_, observe::ObserveError>((app_pods, by_node))
        },
        |(app_pods, by_node)| {
            let expected: Vec<AppPod> = app_pods
                .iter()
                .map(|p| AppPod {
                    name: pods::name_of(p).into(),
                    namespace: APPS_NAMESPACE.into(),
                    node: pods::node_of(p).unwrap_or_default().into(),
                    ip: p.status.as_ref().and_then(|s| s.pod_ip.clone()),
                })
                .collect();
            answers::pods_enrolled(&w.refs(), &expected, by_node)
        },
    );
}

#[rstest]
#[ignore = "needs a cluster (docker + kind, or AMBIENT_PROVIDER=sim|k3s|existing): see README"]
#[serial(cluster)]
fn no_app_pod_has_a_sidecar(apps: Arc<World>) {
    let w = &apps;
    let c = &w.cluster.client;
    // A pod created after the namespace label is the one an injector would have changed.
    let restarted = w.run(steps::restart(c, "notsleep", w.timeout(300)));
    let all: Vec<&str> = BOOKINFO.iter().chain(CLIENTS).copied().collect();
    let seen = restarted
        .map_err(observe::ObserveError::from)
        .and_then(|r| Ok((r, w.run(observe::running_pods(c, APPS_NAMESPACE, &all))?)));
    w.check(
        ClaimId::DemoAppsNoSidecars,
        match &seen {
            Ok((restarted, p)) => answers::no_sidecars(&w.refs(), p, restarted),
            Err(e) => answers::unobserved(
                &w.refs(),
                "installation.non_ambient",
                "every app pod running",
                e,
            ),
        },
    );
}
