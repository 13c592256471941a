//! What the tutorial looks at, observed through the guarded client: curl from a client pod, the
//! ztunnel log of a workload's node since an instant, istio-cni's enrollments by node, a
//! waypoint's pods, the pods of the apps, Kiali's dashboard and graph ([`kiali`]). Every
//! observation is bounded by a timeout and fails with a typed error that keeps its cause.
//!
//! Observations only look; what they mean is decided by `crate::judge`. [`until_judged`] is the
//! one loop that repeats an observation until its judge holds or the deadline passes.

pub mod kiali;

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;
use kube::Api;

use crate::claims::Verdict;
use crate::eras::EraFacts;
use crate::judge::HTTP_CODE_MARKER;
use crate::k8s::GuardedClient;
use crate::k8s::pods::{self, PodError};
use crate::logs::{AccessRecord, Enrollment, parse_access, parse_enrollment};

#[derive(Debug, thiserror::Error)]
pub enum ObserveError {
    #[error(transparent)]
    Pod(#[from] PodError),
    #[error("no running pod of deployment {namespace}/{deployment}")]
    NoRunningPod {
        namespace: String,
        deployment: String,
    },
    #[error("pod {pod} is not scheduled on a node yet")]
    Unscheduled { pod: String },
    #[error("{what} did not answer within {timeout:?}")]
    Timeout { what: String, timeout: Duration },
    #[error(transparent)]
    Kiali(#[from] kiali::KialiError),
    #[error(transparent)]
    Step(Box<crate::steps::StepError>),
}

impl From<crate::steps::StepError> for ObserveError {
    fn from(e: crate::steps::StepError) -> Self {
        ObserveError::Step(Box::new(e))
    }
}

/// The one running pod of a deployment.
pub async fn running_pod(
    client: &GuardedClient,
    namespace: &str,
    deployment: &str,
) -> Result<Pod, ObserveError> {
    let found = pods::of_deployment(client, namespace, deployment).await?;
    pods::pick_running(found).ok_or_else(|| ObserveError::NoRunningPod {
        namespace: namespace.into(),
        deployment: deployment.into(),
    })
}

/// The running pod of each deployment, in the order given.
pub async fn running_pods(
    client: &GuardedClient,
    namespace: &str,
    deployments: &[&str],
) -> Result<Vec<Pod>, ObserveError> {
    let mut out = Vec::with_capacity(deployments.len());
    for d in deployments {
        out.push(running_pod(client, namespace, d).await?);
    }
    Ok(out)
}

/// What `kubectl exec deploy/<client> -- curl -s <url>` printed. The suite appends `-w` so the
/// HTTP status shows after the body (`[http_code=200]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurlReply {
    pub stdout: String,
    pub stderr: String,
}

/// Runs the tutorial's curl in the running pod of `deployment`.
pub async fn curl(
    client: &GuardedClient,
    namespace: &str,
    deployment: &str,
    url: &str,
    timeout: Duration,
) -> Result<CurlReply, ObserveError> {
    let pod = running_pod(client, namespace, deployment).await?;
    let write_out = format!("\n{HTTP_CODE_MARKER}%{{http_code}}]");
    let argv = ["curl", "-s", url, "-w", &write_out];
    let out = pods::exec(client, namespace, pods::name_of(&pod), None, &argv, timeout).await?;
    Ok(CurlReply {
        stdout: out.stdout,
        stderr: out.stderr,
    })
}

/// A ztunnel's log lines read as connection records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZtunnelLog {
    /// The node of the workload, and the ztunnel pod serving it.
    pub node: String,
    pub ztunnel: String,
    /// Each line the readers understood, with its record.
    pub lines: Vec<(String, AccessRecord)>,
}

impl ZtunnelLog {
    /// The records, each with the outcome of its connection where it is logged apart
    /// ([`crate::judge::with_outcomes`]).
    pub fn records(&self) -> Vec<AccessRecord> {
        crate::judge::with_outcomes(&self.lines)
    }

    /// The raw line a judge pointed at (the line to snapshot).
    pub fn line(&self, hit: Option<usize>) -> Option<&str> {
        hit.and_then(|i| self.lines.get(i)).map(|(l, _)| l.as_str())
    }
}

/// The node a running deployment's pod is on.
pub async fn node_of(
    client: &GuardedClient,
    namespace: &str,
    deployment: &str,
) -> Result<String, ObserveError> {
    let pod = running_pod(client, namespace, deployment).await?;
    pods::node_of(&pod)
        .map(str::to_string)
        .ok_or_else(|| ObserveError::Unscheduled {
            pod: pods::name_of(&pod).into(),
        })
}

/// The log since `since` of the ztunnel on the node of `deployment`'s pod (the tutorial finds it
/// "by trial and error"; this reads the pod's `spec.nodeName`).
pub async fn ztunnel_log_since(
    client: &GuardedClient,
    facts: &EraFacts,
    namespace: &str,
    deployment: &str,
    since: Timestamp,
) -> Result<ZtunnelLog, ObserveError> {
    let node = node_of(client, namespace, deployment).await?;
    let (k, v) = facts.ztunnel_label;
    let ns = facts.istio_namespace;
    let ztunnel = pods::on_node(client, ns, &format!("{k}={v}"), &node).await?;
    let name = pods::name_of(&ztunnel).to_string();
    let log = pods::logs_since(client, ns, &name, facts.ztunnel_container, since).await?;
    let lines = log
        .lines()
        .filter_map(|l| parse_access(l).ok().map(|r| (l.to_string(), r)))
        .collect();
    Ok(ZtunnelLog {
        node,
        ztunnel: name,
        lines,
    })
}

/// istio-cni's enrollment announcements, by node, read from the istio-cni pod of each node (a
/// node without one has no entry).
pub async fn cni_enrollments(
    client: &GuardedClient,
    facts: &EraFacts,
    nodes: &[String],
) -> Result<BTreeMap<String, Vec<Enrollment>>, ObserveError> {
    let (k, v) = facts.cni_label;
    let ns = facts.istio_namespace;
    let mut by_node = BTreeMap::new();
    for node in nodes {
        let cni = match pods::on_node(client, ns, &format!("{k}={v}"), node).await {
            Ok(p) => p,
            Err(PodError::NotFound(_)) => continue,
            Err(e) => return Err(e.into()),
        };
        let log = pods::logs(client, ns, pods::name_of(&cni), facts.cni_container).await?;
        by_node.insert(
            node.clone(),
            log.lines()
                .filter_map(|l| parse_enrollment(l).ok())
                .collect(),
        );
    }
    Ok(by_node)
}

/// The pods of a waypoint Deployment and their addresses.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WaypointPods {
    pub names: Vec<String>,
    pub ips: Vec<String>,
}

pub async fn waypoint_pods(
    client: &GuardedClient,
    namespace: &str,
    deployment: &str,
) -> Result<WaypointPods, ObserveError> {
    let found = pods::of_deployment(client, namespace, deployment).await?;
    Ok(WaypointPods {
        names: found.iter().map(|p| pods::name_of(p).to_string()).collect(),
        ips: found.iter().flat_map(pods::ips_of).collect(),
    })
}

/// A DaemonSet once ready by Istio's rule, with the pods its label selects.
#[derive(Debug, Clone)]
pub struct DaemonSetPods {
    pub daemonset: DaemonSet,
    pub pods: Vec<Pod>,
}

/// Waits (bounded) for a DaemonSet to be ready by Istio's rule, then lists the pods of `label`.
pub async fn ready_daemonset(
    client: &GuardedClient,
    namespace: &str,
    name: &str,
    (k, v): (&str, &str),
    timeout: Duration,
) -> Result<DaemonSetPods, ObserveError> {
    let daemonset = pods::wait_daemonset(client, namespace, name, timeout).await?;
    let pods = pods::list(client, namespace, &format!("{k}={v}")).await?;
    Ok(DaemonSetPods { daemonset, pods })
}

/// The tutorial's `istio-ingressgateway` Deployment, Service and autoscaler, as found, with the
/// Deployment's current ReplicaSet and its pods.
#[derive(Debug, Clone, Default)]
pub struct IngressGateway {
    pub deployment: Option<Deployment>,
    pub service: Option<k8s_openapi::api::core::v1::Service>,
    pub autoscaler: Option<HorizontalPodAutoscaler>,
    pub replicaset: Option<k8s_openapi::api::apps::v1::ReplicaSet>,
    pub pods: Vec<Pod>,
}

/// The ReplicaSet of a Deployment's current revision: owned by it, with the most replicas.
async fn current_replicaset(
    client: &GuardedClient,
    namespace: &str,
    deployment: &str,
) -> Result<Option<k8s_openapi::api::apps::v1::ReplicaSet>, PodError> {
    use k8s_openapi::api::apps::v1::ReplicaSet;
    let sets = Api::<ReplicaSet>::namespaced(client.client(), namespace)
        .list(&kube::api::ListParams::default())
        .await
        .map_err(|source| PodError::Api {
            what: format!("listing replicasets of {namespace}/{deployment}"),
            source,
        })?;
    Ok(sets
        .items
        .into_iter()
        .filter(|rs| {
            rs.metadata
                .owner_references
                .iter()
                .flatten()
                .any(|o| o.kind == "Deployment" && o.name == deployment)
        })
        .max_by_key(|rs| rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0)))
}

/// Reads the ingress gateway's objects; with `wait_available`, first waits (bounded) for the
/// Deployment to be available.
pub async fn ingress_gateway(
    client: &GuardedClient,
    namespace: &str,
    wait_available: Option<Duration>,
) -> Result<IngressGateway, ObserveError> {
    const NAME: &str = "istio-ingressgateway";
    if let Some(timeout) = wait_available {
        pods::wait_deployment(client, namespace, NAME, timeout).await?;
    }
    let get = |what: &str| format!("getting {what} {namespace}/{NAME}");
    let deployment = Api::<Deployment>::namespaced(client.client(), namespace)
        .get_opt(NAME)
        .await
        .map_err(|source| PodError::Api {
            what: get("deployment"),
            source,
        })?;
    let autoscaler = Api::<HorizontalPodAutoscaler>::namespaced(client.client(), namespace)
        .get_opt(NAME)
        .await
        .map_err(|source| PodError::Api {
            what: get("autoscaler"),
            source,
        })?;
    let service =
        Api::<k8s_openapi::api::core::v1::Service>::namespaced(client.client(), namespace)
            .get_opt(NAME)
            .await
            .map_err(|source| PodError::Api {
                what: get("service"),
                source,
            })?;
    let (replicaset, pods) = match &deployment {
        Some(_) => (
            current_replicaset(client, namespace, NAME).await?,
            pods::of_deployment(client, namespace, NAME).await?,
        ),
        None => (None, Vec::new()),
    };
    Ok(IngressGateway {
        deployment,
        service,
        autoscaler,
        replicaset,
        pods,
    })
}

/// The productpage page curl returned through the tutorial's client, then the log since just
/// before it of the ztunnel on the node of `logged_by`'s pod.
pub async fn curl_then_ztunnel_log(
    client: &GuardedClient,
    facts: &EraFacts,
    url: &str,
    logged_by: &str,
    timeout: Duration,
) -> Result<ZtunnelLog, ObserveError> {
    let start = Timestamp::now() - Duration::from_secs(2);
    curl_then_ztunnel_log_since(client, facts, url, logged_by, start, timeout).await
}

/// Like [`curl_then_ztunnel_log`], with the log read since `since`: a caller that repeats it
/// with one `since` judges every request it made, not only the last one's.
pub async fn curl_then_ztunnel_log_since(
    client: &GuardedClient,
    facts: &EraFacts,
    url: &str,
    logged_by: &str,
    since: Timestamp,
    timeout: Duration,
) -> Result<ZtunnelLog, ObserveError> {
    // The curl's own answer is another claim's; here it only makes the traffic.
    let _ = curl(
        client,
        crate::steps::APPS_NAMESPACE,
        crate::steps::CLIENT,
        url,
        timeout,
    )
    .await;
    ztunnel_log_since(
        client,
        facts,
        crate::steps::APPS_NAMESPACE,
        logged_by,
        since,
    )
    .await
}

/// istiod's objects the tutorial lists: its Service, current ReplicaSet and autoscaler.
#[derive(Debug, Clone, Default)]
pub struct IstiodObjects {
    pub service: Option<k8s_openapi::api::core::v1::Service>,
    pub replicaset: Option<k8s_openapi::api::apps::v1::ReplicaSet>,
    pub autoscaler: Option<HorizontalPodAutoscaler>,
}

pub async fn istiod_objects(
    client: &GuardedClient,
    namespace: &str,
) -> Result<IstiodObjects, ObserveError> {
    use k8s_openapi::api::core::v1::Service;
    let api_err = |what: &str| {
        let what = format!("getting {what} {namespace}/istiod");
        move |source| PodError::Api { what, source }
    };
    let service = Api::<Service>::namespaced(client.client(), namespace)
        .get_opt("istiod")
        .await
        .map_err(api_err("service"))?;
    let autoscaler = Api::<HorizontalPodAutoscaler>::namespaced(client.client(), namespace)
        .get_opt("istiod")
        .await
        .map_err(api_err("autoscaler"))?;
    let replicaset = current_replicaset(client, namespace, "istiod").await?;
    Ok(IstiodObjects {
        service,
        replicaset,
        autoscaler,
    })
}

/// The objects of a manifest that the cluster does not hold (`kind name` each).
pub async fn missing_objects(
    client: &GuardedClient,
    manifest: &std::path::Path,
    namespace: &str,
) -> Result<Vec<String>, ObserveError> {
    let text = std::fs::read_to_string(manifest).map_err(|e| {
        ObserveError::Pod(PodError::NotFound(format!("{}: {e}", manifest.display())))
    })?;
    let objects = crate::manifests::parse(&manifest.display().to_string(), &text)
        .map_err(|e| ObserveError::Pod(PodError::NotFound(crate::errors::chain(&e))))?;
    let mut missing = Vec::new();
    for o in objects {
        let kind = o.types.as_ref().map(|t| t.kind.clone()).unwrap_or_default();
        let name = o.metadata.name.clone().unwrap_or_default();
        let found = match crate::k8s::apply::api_for(client, &o, namespace).await {
            Ok(api) => api.get_opt(&name).await.ok().flatten().is_some(),
            Err(_) => false,
        };
        if !found {
            missing.push(format!("{kind} {name}"));
        }
    }
    Ok(missing)
}

/// `kubectl get pod | grep waypoint`: the pods of `namespace` whose names hold `waypoint`.
pub async fn pods_named_like(
    client: &GuardedClient,
    namespace: &str,
    word: &str,
) -> Result<Vec<Pod>, ObserveError> {
    let all = pods::list(client, namespace, "").await?;
    Ok(all
        .into_iter()
        .filter(|p| pods::name_of(p).contains(word))
        .collect())
}

/// The connection the tutorial makes (sleep → productpage), with this cluster's addresses: the
/// productpage pod's, sleep's and the ztunnel on sleep's node's (the 2022 ztunnel tunnels from
/// its own address). The format is left to the reference it is judged against.
pub async fn tutorial_traffic(
    client: &GuardedClient,
    facts: &EraFacts,
    waypoint: Option<crate::judge::WaypointExpectation>,
) -> Result<crate::judge::Traffic, ObserveError> {
    let ns = crate::steps::APPS_NAMESPACE;
    let productpage = running_pod(client, ns, "productpage-v1").await?;
    let sleep = running_pod(client, ns, crate::steps::CLIENT).await?;
    let mut client_ips = pods::ips_of(&sleep);
    if let Some(node) = pods::node_of(&sleep) {
        let (k, v) = facts.ztunnel_label;
        let label = format!("{k}={v}");
        if let Ok(z) = pods::on_node(client, facts.istio_namespace, &label, node).await {
            client_ips.extend(pods::ips_of(&z));
        }
    }
    Ok(crate::judge::Traffic {
        client_sa: crate::steps::CLIENT.into(),
        client_ips,
        service_host: "productpage.default.svc.cluster.local".into(),
        server_ips: pods::ips_of(&productpage),
        waypoint,
        format: None,
    })
}

/// What a judge returns, for [`until_judged`]: a single-reference [`Verdict`] or a claim's
/// [`crate::claims::Answer`].
pub trait Judgement: Clone {
    /// Whether it is final: waiting longer would not change a claim that holds.
    fn settled(&self) -> bool;
    fn describe(&self) -> String;
    /// Nothing could be observed.
    fn unobserved(why: String) -> Self;
}

impl Judgement for Verdict {
    fn settled(&self) -> bool {
        *self == Verdict::Holds
    }

    fn describe(&self) -> String {
        describe(self)
    }

    fn unobserved(why: String) -> Self {
        Verdict::NotReached { why }
    }
}

impl Judgement for crate::claims::Answer {
    fn settled(&self) -> bool {
        matches!(
            self,
            crate::claims::Answer::AsDocumented | crate::claims::Answer::DocStale { .. }
        )
    }

    fn describe(&self) -> String {
        crate::claims::Answer::describe(self)
    }

    fn unobserved(why: String) -> Self {
        crate::claims::Answer::NotReached { why }
    }
}

/// The outcome of [`until_judged`]: the judge's last judgement, as the judge wrote it, and the
/// observation it judged (none when nothing could be observed).
#[derive(Debug, Clone)]
pub struct Judged<O, V> {
    pub verdict: V,
    pub observed: Option<O>,
    /// How many times the world was observed.
    pub attempts: u32,
}

/// Observes until the judge's answer is settled (a claim that holds) or `timeout` has passed (the
/// suite's one bounded wait, `crate::k8s::wait::until`). Keeps the last observation and the
/// judge's last structured answer; an observation that failed every time is a `NotReached`
/// answer naming the error and its causes.
pub async fn until_judged<O, E, F, Fut, J, V>(
    what: &str,
    timeout: Duration,
    mut observe: F,
    judge: J,
) -> Judged<O, V>
where
    E: std::error::Error + 'static,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<O, E>>,
    J: Fn(&O) -> V,
    V: Judgement,
{
    use crate::k8s::wait::{Probe, until};
    use std::sync::Mutex;
    let last: Mutex<Option<(V, Option<O>)>> = Mutex::new(None);
    let attempts = Mutex::new(0u32);
    let outcome = until(what, timeout, || {
        let attempt = observe();
        let (last, attempts, judge) = (&last, &attempts, &judge);
        async move {
            *attempts.lock().unwrap_or_else(|e| e.into_inner()) += 1;
            let result = attempt.await;
            let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
            match result {
                Ok(observed) => {
                    let verdict = judge(&observed);
                    if verdict.settled() {
                        return Probe::Ready((verdict, observed));
                    }
                    let state = verdict.describe();
                    *last = Some((verdict, Some(observed)));
                    Probe::NotYet(state)
                }
                Err(e) => {
                    let why = format!("could not observe: {}", crate::errors::chain(&e));
                    // A judged observation stays the answer; an error replaces only an error.
                    if !matches!(*last, Some((_, Some(_)))) {
                        *last = Some((V::unobserved(why.clone()), None));
                    }
                    Probe::NotYet(why)
                }
            }
        }
    })
    .await;
    let attempts = attempts.into_inner().unwrap_or_else(|e| e.into_inner());
    match outcome {
        Ok((verdict, observed)) => Judged {
            verdict,
            observed: Some(observed),
            attempts,
        },
        Err(timeout_error) => {
            let last = last.into_inner().unwrap_or_else(|e| e.into_inner());
            let (verdict, observed) =
                last.unwrap_or_else(|| (V::unobserved(timeout_error.to_string()), None));
            Judged {
                verdict,
                observed,
                attempts,
            }
        }
    }
}

/// A verdict in words, for progress and wait messages.
pub fn describe(v: &Verdict) -> String {
    match v {
        Verdict::Holds => "holds".into(),
        Verdict::Drifted { expected, actual } => {
            format!("expected: {expected}\nactual:   {actual}")
        }
        Verdict::NotApplicable { why } => format!("not applicable: {why}"),
        Verdict::NotReached { why } => format!("not reached: {why}"),
    }
}

/// Whether `url` still serves: the HTTP status of a HEAD request (a GET when the server refuses
/// HEAD), bounded by `timeout`.
pub async fn probe_url(url: &str, timeout: Duration) -> Result<u16, String> {
    let http = crate::tls::http_client(Duration::from_secs(20), timeout)
        .map_err(|e| crate::errors::chain(&e))?;
    let head = http
        .head(url)
        .send()
        .await
        .map_err(|e| crate::errors::chain(&e))?;
    let status = head.status().as_u16();
    if status == 405 || status == 403 {
        let get = http
            .get(url)
            .send()
            .await
            .map_err(|e| crate::errors::chain(&e))?;
        return Ok(get.status().as_u16());
    }
    Ok(status)
}
