//! The tutorial's actions on the cluster, as the sections perform them: deploy the demo apps and
//! put their namespace in ambient mode, declare and remove the productpage waypoint, apply the
//! addons. Each is bounded and fails with a typed error that keeps its cause.

use std::path::Path;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Service};
use kube::Api;
use kube::api::{Patch, PatchParams};

use crate::eras::EraFacts;
use crate::gateway_api::GatewayApiError;
use crate::istio::{AcquireError, IstioRelease};
use crate::k8s::GuardedClient;
use crate::k8s::apply::{self, ApplyError};
use crate::k8s::pods::{self, PodError};
use crate::k8s::wait::{Probe, WaitError, until};

/// Deployments the tutorial's apps create.
pub const BOOKINFO: &[&str] = &[
    "details-v1",
    "ratings-v1",
    "reviews-v1",
    "reviews-v2",
    "reviews-v3",
    "productpage-v1",
];
/// The tutorial's clients (its sleep/notsleep manifests).
pub const CLIENTS: &[&str] = &["sleep", "notsleep"];
/// Where the tutorial runs its apps.
pub const APPS_NAMESPACE: &str = "default";
/// The pod the tutorial curls from (`kubectl exec deploy/sleep -- curl ...`).
pub const CLIENT: &str = "sleep";
/// What it curls (L4 step 1, L7 step 3, Kiali step 3).
pub const PRODUCTPAGE_URL: &str = "http://productpage:9080/";

#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error(transparent)]
    Release(#[from] AcquireError),
    #[error(transparent)]
    Apply(#[from] ApplyError),
    #[error(transparent)]
    Pod(#[from] PodError),
    #[error(transparent)]
    Wait(#[from] WaitError),
    #[error(transparent)]
    GatewayApi(#[from] GatewayApiError),
    #[error("{what}")]
    Api {
        what: String,
        #[source]
        source: kube::Error,
    },
}

impl StepError {
    /// Whether the step failed before doing what the tutorial documents (a missing sample, CRDs
    /// that could not be fetched): the claim is then not reached rather than drifted.
    pub fn before_the_step(&self) -> bool {
        matches!(self, StepError::Release(_) | StepError::GatewayApi(_))
    }
}

fn api(what: impl Into<String>) -> impl FnOnce(kube::Error) -> StepError {
    let what = what.into();
    move |source| StepError::Api { what, source }
}

/// "Deploying the demo apps" steps 1 and 2: Bookinfo and its gateway from the release's samples,
/// sleep and notsleep, every deployment available (the tutorial waits before labelling), then
/// the namespace labelled for ambient.
pub async fn deploy_apps(
    client: &GuardedClient,
    release: &IstioRelease,
    facts: &EraFacts,
    timeout: Duration,
) -> Result<(), StepError> {
    for sample in [
        "bookinfo/platform/kube/bookinfo.yaml",
        "bookinfo/networking/bookinfo-gateway.yaml",
    ] {
        apply::apply_path(client, &release.sample(sample)?, APPS_NAMESPACE).await?;
    }
    for fixture in ["apps/sleep.yaml", "apps/notsleep.yaml"] {
        apply::apply_path(client, &crate::fixtures::path(fixture), APPS_NAMESPACE).await?;
    }
    for d in BOOKINFO.iter().chain(CLIENTS) {
        pods::wait_deployment(client, APPS_NAMESPACE, d, timeout).await?;
    }
    label_namespace(client, APPS_NAMESPACE, facts.enrollment_label).await
}

/// `kubectl label namespace <ns> k=v` (a merge patch of the label).
pub async fn label_namespace(
    client: &GuardedClient,
    ns: &str,
    (k, v): (&str, &str),
) -> Result<(), StepError> {
    let api: Api<Namespace> = Api::all(client.client());
    let patch = serde_json::json!({ "metadata": { "labels": { k: v } } });
    api.patch(ns, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map(|_| ())
        .map_err(self::api(format!("labelling namespace {ns} {k}={v}")))
}

/// Sets (`Some`) or removes (`None`) a label of the productpage Service.
async fn label_productpage(
    client: &GuardedClient,
    key: &str,
    value: Option<&str>,
) -> Result<(), StepError> {
    let services: Api<Service> = Api::namespaced(client.client(), APPS_NAMESPACE);
    let patch = serde_json::json!({ "metadata": { "labels": { key: value } } });
    services
        .patch(
            "productpage",
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await
        .map(|_| ())
        .map_err(api(format!(
            "labelling service productpage {key}={value:?}"
        )))
}

/// "L7 processing" step 1, the era's way: the Gateway API CRDs where the era needs them, the
/// era's waypoint declaration, and the Service label that attaches it (1.22+).
pub async fn declare_waypoint(
    client: &GuardedClient,
    facts: &EraFacts,
    local_crds: Option<&Path>,
    timeout: Duration,
) -> Result<(), StepError> {
    let wp = &facts.waypoint;
    crate::gateway_api::install(client, wp.gateway_api_crds, local_crds, timeout).await?;
    apply::apply_path(client, &crate::fixtures::path(wp.fixture), APPS_NAMESPACE).await?;
    if let Some((k, v)) = wp.service_label {
        label_productpage(client, k, Some(v)).await?;
    }
    Ok(())
}

/// Undoes [`declare_waypoint`] and waits until the waypoint Deployment is gone, so the other
/// sections see the cluster as they expect.
pub async fn remove_waypoint(
    client: &GuardedClient,
    facts: &EraFacts,
    timeout: Duration,
) -> Result<(), StepError> {
    let wp = &facts.waypoint;
    if let Some((k, _)) = wp.service_label {
        label_productpage(client, k, None).await?;
    }
    let text = crate::fixtures::read(wp.fixture).map_err(|source| ApplyError::Read {
        path: wp.fixture.into(),
        source,
    })?;
    apply::delete_text(client, wp.fixture, &text, APPS_NAMESPACE, timeout).await?;
    let deployments: Api<Deployment> = Api::namespaced(client.client(), APPS_NAMESPACE);
    let what = format!("waypoint deployment {} to be gone", wp.deployment);
    until(&what, timeout, || {
        let deployments = deployments.clone();
        async move {
            match deployments.get_opt(wp.deployment).await {
                Ok(None) => Probe::Ready(()),
                Ok(Some(_)) => Probe::NotYet("still there".into()),
                Err(e) => Probe::NotYet(crate::errors::chain(&e)),
            }
        }
    })
    .await?;
    Ok(())
}

/// "Installing a service mesh addon" step 1: `kubectl apply -f ./istio/samples/addons`, then
/// `kubectl rollout status deployment/kiali -n istio-system`.
pub async fn install_addons(
    client: &GuardedClient,
    release: &IstioRelease,
    facts: &EraFacts,
    timeout: Duration,
) -> Result<(), StepError> {
    let dir = release.sample("addons")?;
    let ns = facts.istio_namespace;
    apply::apply_path(client, &dir, ns).await?;
    pods::wait_deployment(client, ns, "kiali", timeout).await?;
    Ok(())
}
