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
use crate::k8s::conditions::{all_true, conditions_of, rollout_complete};
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

/// "Deploying the demo apps" step 1: Bookinfo from the release's samples, sleep and notsleep
/// (the suite's copies of the tutorial's manifests). The Bookinfo gateway is applied by its own
/// claim ([`apply_bookinfo_gateway`]): nothing else needs it, and its apply's outcome is what
/// that claim observes.
pub async fn apply_apps(client: &GuardedClient, release: &IstioRelease) -> Result<(), StepError> {
    let bookinfo = "bookinfo/platform/kube/bookinfo.yaml";
    apply::apply_path(client, &release.sample(bookinfo)?, APPS_NAMESPACE).await?;
    for fixture in ["apps/sleep.yaml", "apps/notsleep.yaml"] {
        apply::apply_path(client, &crate::fixtures::path(fixture), APPS_NAMESPACE).await?;
    }
    Ok(())
}

/// `kubectl apply -f samples/bookinfo/networking/bookinfo-gateway.yaml`: `Ok` with the `kind
/// name` of each object the API server took, or the error (a kind it does not serve, a refusal).
/// A sample the release lacks is [`StepError::Release`].
pub async fn apply_bookinfo_gateway(
    client: &GuardedClient,
    release: &IstioRelease,
) -> Result<Result<Vec<String>, String>, StepError> {
    let path = release.sample(BOOKINFO_GATEWAY)?;
    Ok(apply::apply_path(client, &path, APPS_NAMESPACE)
        .await
        .map(|applied| {
            applied
                .iter()
                .map(|o| {
                    let kind = o.types.as_ref().map(|t| t.kind.as_str()).unwrap_or("?");
                    format!("{kind} {}", o.metadata.name.as_deref().unwrap_or_default())
                })
                .collect()
        })
        .map_err(|e| crate::errors::chain(&e)))
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

/// What the cluster did with a declaration: the API server's answer, then the status conditions
/// the controller wrote (bounded wait).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclarationOutcome {
    /// `apiVersion kind name` of what was declared.
    pub what: String,
    /// The API server refused it (not served, invalid), with its words.
    pub refused: Option<String>,
    /// `(type, status, reason, message)` of each condition, as written.
    pub conditions: Vec<crate::k8s::conditions::Condition>,
}

/// Applies a declaration and reads what the cluster did with it: the API server's refusal, or
/// the conditions a controller wrote on it (waiting, bounded, until each of `required` is
/// `True`).
pub async fn declare(
    client: &GuardedClient,
    origin: &str,
    yaml: &str,
    required: &[&str],
    timeout: Duration,
) -> DeclarationOutcome {
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
    let mut outcome = DeclarationOutcome {
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
                    let conditions = conditions_of(&o.data);
                    let acted = all_true(&conditions, required);
                    *last.lock().unwrap_or_else(|e| e.into_inner()) = conditions;
                    match acted {
                        Ok(()) => Probe::Ready(()),
                        Err(not) => Probe::NotYet(format!("not yet: {}", not.join(", "))),
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

/// A Deployment's pods replaced after the namespace label (`kubectl rollout restart`): the
/// template annotation the restart set, and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restarted {
    pub deployment: String,
    pub annotation: (String, String),
}

/// The template annotation [`restart`] sets (what `kubectl rollout restart` sets is
/// `kubectl.kubernetes.io/restartedAt`; the suite's own key says who did it).
pub const RESTARTED_AT: &str = "ambient-tutorial-suite/restarted-at";

/// Replaces a deployment's pods with new ones (as `kubectl rollout restart` does: a template
/// annotation), and waits until the rollout is complete as `kubectl rollout status` says
/// ([`rollout_complete`]) and no pod without the new annotation is left, terminating ones
/// included. Returns what identifies the new pods.
pub async fn restart(
    client: &GuardedClient,
    deployment: &str,
    timeout: Duration,
) -> Result<Restarted, StepError> {
    let api: Api<Deployment> = Api::namespaced(client.client(), APPS_NAMESPACE);
    let now = k8s_openapi::jiff::Timestamp::now().to_string();
    let patch = serde_json::json!({ "spec": { "template": { "metadata": { "annotations": {
        RESTARTED_AT: now } } } } });
    api.patch(deployment, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(self::api(format!("restarting deployment {deployment}")))?;
    let what = format!("deployment {APPS_NAMESPACE}/{deployment} to finish its restart");
    until(&what, timeout, || {
        let (api, now) = (api.clone(), &now);
        async move {
            let d = match api.get(deployment).await {
                Ok(d) => d,
                Err(e) => return Probe::NotYet(crate::errors::chain(&e)),
            };
            if let Err(state) = rollout_complete(&d) {
                return Probe::NotYet(state);
            }
            let pods = match pods::of_deployment(client, APPS_NAMESPACE, deployment).await {
                Ok(p) => p,
                Err(e) => return Probe::NotYet(crate::errors::chain(&e)),
            };
            let old: Vec<&str> = pods
                .iter()
                .filter(|p| {
                    p.metadata
                        .annotations
                        .as_ref()
                        .and_then(|a| a.get(RESTARTED_AT))
                        != Some(now)
                })
                .map(pods::name_of)
                .collect();
            if old.is_empty() {
                Probe::Ready(())
            } else {
                Probe::NotYet(format!(
                    "pods from before the restart left: {}",
                    old.join(", ")
                ))
            }
        }
    })
    .await?;
    Ok(Restarted {
        deployment: deployment.into(),
        annotation: (RESTARTED_AT.into(), now),
    })
}
