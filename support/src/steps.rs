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

/// The Bookinfo gateway sample the tutorial applies.
pub const BOOKINFO_GATEWAY: &str = "bookinfo/networking/bookinfo-gateway.yaml";

/// "Deploying the demo apps" step 1: Bookinfo and its gateway from the release's samples, sleep
/// and notsleep (the suite's copies of the tutorial's manifests).
pub async fn apply_apps(client: &GuardedClient, release: &IstioRelease) -> Result<(), StepError> {
    for sample in ["bookinfo/platform/kube/bookinfo.yaml", BOOKINFO_GATEWAY] {
        apply::apply_path(client, &release.sample(sample)?, APPS_NAMESPACE).await?;
    }
    for fixture in ["apps/sleep.yaml", "apps/notsleep.yaml"] {
        apply::apply_path(client, &crate::fixtures::path(fixture), APPS_NAMESPACE).await?;
    }
    Ok(())
}

/// "You need to wait until all pods are running": each deployment available (bounded).
pub async fn wait_available(
    client: &GuardedClient,
    deployments: &[&str],
    timeout: Duration,
) -> Result<(), StepError> {
    for d in deployments {
        pods::wait_deployment(client, APPS_NAMESPACE, d, timeout).await?;
    }
    Ok(())
}

/// "Deploying the demo apps" step 2: `kubectl label namespace default
/// istio.io/dataplane-mode=ambient` (the era's label).
pub async fn enroll_apps(client: &GuardedClient, facts: &EraFacts) -> Result<(), StepError> {
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

/// Applies a declaration and reads what the cluster did with it: the API server's refusal, or
/// the conditions a controller wrote on it (waiting, bounded, for one that is `True`).
pub async fn declare(
    client: &GuardedClient,
    origin: &str,
    yaml: &str,
    timeout: Duration,
) -> crate::judge::DeclarationOutcome {
    let objects = crate::manifests::parse(origin, yaml).unwrap_or_default();
    let what = objects
        .first()
        .map(|o| {
            let t = o.types.clone().unwrap_or_default();
            format!(
                "{} {} {}",
                t.api_version,
                t.kind,
                o.metadata.name.clone().unwrap_or_default()
            )
        })
        .unwrap_or_else(|| format!("the declaration of {origin}"));
    let mut outcome = crate::judge::DeclarationOutcome {
        what,
        refused: None,
        conditions: Vec::new(),
    };
    let applied = match apply::apply_text(client, origin, yaml, APPS_NAMESPACE).await {
        Ok(mut a) if !a.is_empty() => a.remove(0),
        Ok(_) => {
            outcome.refused = Some("nothing to apply".into());
            return outcome;
        }
        Err(e) => {
            outcome.refused = Some(crate::errors::chain(&e));
            return outcome;
        }
    };
    let Ok(api) = apply::api_for(client, &applied, APPS_NAMESPACE).await else {
        return outcome;
    };
    let name = applied.metadata.name.clone().unwrap_or_default();
    let last = std::sync::Mutex::new(Vec::new());
    let what = format!("a controller to act on {}", outcome.what);
    let _ = until(&what, timeout, || {
        let (api, name, last) = (api.clone(), name.clone(), &last);
        async move {
            match api.get_opt(&name).await {
                Ok(Some(o)) => {
                    let conditions = crate::judge::conditions_of(&o.data);
                    let acted = crate::judge::acted_on(&conditions);
                    *last.lock().unwrap_or_else(|e| e.into_inner()) = conditions;
                    if acted {
                        Probe::Ready(())
                    } else {
                        Probe::NotYet("no True condition yet".into())
                    }
                }
                Ok(None) => Probe::NotYet("gone".into()),
                Err(e) => Probe::NotYet(crate::errors::chain(&e)),
            }
        }
    })
    .await;
    outcome.conditions = last.into_inner().unwrap_or_else(|e| e.into_inner());
    outcome
}

/// Deletes what a declaration declared (missing objects and kinds the cluster does not serve are
/// fine), bounded.
pub async fn undeclare(
    client: &GuardedClient,
    origin: &str,
    yaml: &str,
    timeout: Duration,
) -> Result<(), StepError> {
    apply::delete_text(client, origin, yaml, APPS_NAMESPACE, timeout).await?;
    Ok(())
}

/// Replaces a deployment's pods with new ones (as `kubectl rollout restart` does: a template
/// annotation), and waits until it is available again.
pub async fn restart(
    client: &GuardedClient,
    deployment: &str,
    timeout: Duration,
) -> Result<(), StepError> {
    let api: Api<Deployment> = Api::namespaced(client.client(), APPS_NAMESPACE);
    let now = k8s_openapi::jiff::Timestamp::now().to_string();
    let patch = serde_json::json!({ "spec": { "template": { "metadata": { "annotations": {
        "ambient-tutorial-suite/restarted-at": now } } } } });
    api.patch(deployment, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(self::api(format!("restarting deployment {deployment}")))?;
    pods::wait_deployment(client, APPS_NAMESPACE, deployment, timeout).await?;
    Ok(())
}
