//! Pods: the ones behind a workload, the node-local agent of a pod, exec, logs, port-forward.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use kube::api::{AttachParams, ListParams, LogParams};
use tokio::io::AsyncReadExt;

use super::conditions::{daemonset_ready, deployment_available, pod_blocker};
use super::wait::{Probe, WaitError, until};
use crate::k8s::GuardedClient;

#[derive(Debug, thiserror::Error)]
pub enum PodError {
    #[error("{what}: {source}")]
    Api {
        what: String,
        #[source]
        source: kube::Error,
    },
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Wait(#[from] WaitError),
    #[error("port-forward to {pod}:{port}: {reason}")]
    PortForward {
        pod: String,
        port: u16,
        reason: String,
    },
}

fn api_err(what: impl Into<String>) -> impl FnOnce(kube::Error) -> PodError {
    let what = what.into();
    move |source| PodError::Api { what, source }
}

/// `app=v` style selector text from a label map.
pub fn selector(labels: &BTreeMap<String, String>) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Pods matching a label selector.
pub async fn list(
    client: &GuardedClient,
    ns: &str,
    label_selector: &str,
) -> Result<Vec<Pod>, PodError> {
    let pods: Api<Pod> = Api::namespaced(client.client(), ns);
    let list = pods
        .list(&ListParams::default().labels(label_selector))
        .await
        .map_err(api_err(format!("listing pods {label_selector} in {ns}")))?;
    Ok(list.items)
}

/// The pods of a Deployment (through its own selector).
pub async fn of_deployment(
    client: &GuardedClient,
    ns: &str,
    name: &str,
) -> Result<Vec<Pod>, PodError> {
    let api: Api<Deployment> = Api::namespaced(client.client(), ns);
    let d = api
        .get(name)
        .await
        .map_err(api_err(format!("getting deployment {ns}/{name}")))?;
    let labels = d
        .spec
        .and_then(|s| s.selector.match_labels)
        .unwrap_or_default();
    list(client, ns, &selector(&labels)).await
}

/// The pod matching `label_selector` in `ns` that runs on `node`: for the ztunnel or istio-cni
/// pod serving a workload (the tutorial finds it "by trial and error"; this reads `spec.nodeName`).
pub async fn on_node(
    client: &GuardedClient,
    ns: &str,
    label_selector: &str,
    node: &str,
) -> Result<Pod, PodError> {
    let pods: Api<Pod> = Api::namespaced(client.client(), ns);
    let params = ListParams::default()
        .labels(label_selector)
        .fields(&format!("spec.nodeName={node}"));
    let list = pods
        .list(&params)
        .await
        .map_err(api_err(format!("listing {label_selector} on {node}")))?;
    pick_running(list.items).ok_or_else(|| {
        PodError::NotFound(format!(
            "no running pod {label_selector} in {ns} on node {node}"
        ))
    })
}

/// The running pod among several (a DaemonSet may briefly have a terminating one beside it).
pub fn pick_running(pods: Vec<Pod>) -> Option<Pod> {
    pods.into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .find(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
}

/// The node a pod runs on.
pub fn node_of(pod: &Pod) -> Option<&str> {
    pod.spec.as_ref()?.node_name.as_deref()
}

pub fn name_of(pod: &Pod) -> &str {
    pod.metadata.name.as_deref().unwrap_or_default()
}

/// The pod's IP addresses.
pub fn ips_of(pod: &Pod) -> Vec<String> {
    pod.status
        .as_ref()
        .and_then(|s| s.pod_ips.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|ip| ip.ip)
        .collect()
}

/// Output of a command run in a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutput {
    pub stdout: String,
    pub stderr: String,
    /// `Success`, or the failure message the API reported (e.g. a non-zero exit code).
    pub status: Option<String>,
}

impl ExecOutput {
    pub fn success(&self) -> bool {
        self.status.as_deref().is_none_or(|s| s == "Success")
    }
}

/// Runs `argv` in a pod's container, like `kubectl exec <pod> -c <container> -- argv`.
pub async fn exec(
    client: &GuardedClient,
    ns: &str,
    pod: &str,
    container: Option<&str>,
    argv: &[&str],
    timeout: Duration,
) -> Result<ExecOutput, PodError> {
    let pods: Api<Pod> = Api::namespaced(client.client(), ns);
    let what = format!("exec in {ns}/{pod}: {}", argv.join(" "));
    let mut params = AttachParams::default()
        .stdout(true)
        .stderr(true)
        .stdin(false);
    if let Some(c) = container {
        params = params.container(c);
    }
    let run = async {
        let mut attached = pods
            .exec(pod, argv.to_vec(), &params)
            .await
            .map_err(api_err(what.clone()))?;
        let mut stdout = String::new();
        let mut stderr = String::new();
        let status = attached.take_status();
        let (mut out, mut err) = (attached.stdout(), attached.stderr());
        let read_out = async {
            if let Some(o) = out.as_mut() {
                let _ = o.read_to_string(&mut stdout).await;
            }
        };
        let read_err = async {
            if let Some(e) = err.as_mut() {
                let _ = e.read_to_string(&mut stderr).await;
            }
        };
        tokio::join!(read_out, read_err);
        let status = match status {
            Some(s) => s.await.map(|s| {
                let reason = s.status.clone().unwrap_or_default();
                if reason == "Success" {
                    reason
                } else {
                    format!("{reason}: {}", s.message.unwrap_or_default())
                }
            }),
            None => None,
        };
        let _ = attached.join().await;
        Ok(ExecOutput {
            stdout,
            stderr,
            status,
        })
    };
    tokio::time::timeout(timeout, run).await.map_err(|_| {
        PodError::Wait(WaitError::Timeout {
            what: what.clone(),
            timeout,
            last: "no exit".into(),
        })
    })?
}

/// A container's log since `since` (whole seconds), as text.
pub async fn logs_since(
    client: &GuardedClient,
    ns: &str,
    pod: &str,
    container: &str,
    since: Timestamp,
) -> Result<String, PodError> {
    read_logs(client, ns, pod, container, Some(since)).await
}

/// A container's whole current log.
pub async fn logs(
    client: &GuardedClient,
    ns: &str,
    pod: &str,
    container: &str,
) -> Result<String, PodError> {
    read_logs(client, ns, pod, container, None).await
}

async fn read_logs(
    client: &GuardedClient,
    ns: &str,
    pod: &str,
    container: &str,
    since: Option<Timestamp>,
) -> Result<String, PodError> {
    let pods: Api<Pod> = Api::namespaced(client.client(), ns);
    let params = LogParams {
        container: Some(container.into()),
        since_time: since,
        ..LogParams::default()
    };
    pods.logs(pod, &params)
        .await
        .map_err(api_err(format!("logs of {ns}/{pod} -c {container}")))
}

/// Waits until a Deployment is available; stops at once when one of its pods cannot start.
pub async fn wait_deployment(
    client: &GuardedClient,
    ns: &str,
    name: &str,
    timeout: Duration,
) -> Result<Deployment, PodError> {
    let what = format!("deployment {ns}/{name} to be available");
    let selector = |d: &Deployment| {
        d.spec
            .as_ref()
            .and_then(|s| s.selector.match_labels.clone())
    };
    wait_workload(
        client,
        ns,
        name,
        &what,
        timeout,
        deployment_available,
        selector,
    )
    .await
}

/// Waits until a DaemonSet is ready by Istio's rule; stops at once when one of its pods cannot start.
pub async fn wait_daemonset(
    client: &GuardedClient,
    ns: &str,
    name: &str,
    timeout: Duration,
) -> Result<DaemonSet, PodError> {
    let what = format!("daemonset {ns}/{name} to be ready on every node");
    let selector = |d: &DaemonSet| {
        d.spec
            .as_ref()
            .and_then(|s| s.selector.match_labels.clone())
    };
    wait_workload(client, ns, name, &what, timeout, daemonset_ready, selector).await
}

/// One wait for any workload: ready by `ready`, or hopeless as soon as a pod matched by its
/// selector cannot start.
async fn wait_workload<K>(
    client: &GuardedClient,
    ns: &str,
    name: &str,
    what: &str,
    timeout: Duration,
    ready: fn(&K) -> Result<(), String>,
    selector: impl Fn(&K) -> Option<BTreeMap<String, String>>,
) -> Result<K, PodError>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned,
{
    let api: Api<K> = Api::namespaced(client.client(), ns);
    let selector = &selector;
    Ok(until(what, timeout, || {
        let api = api.clone();
        async move {
            let object = match api.get_opt(name).await {
                Ok(Some(o)) => o,
                Ok(None) => return Probe::NotYet("not created yet".into()),
                Err(e) => return Probe::NotYet(e.to_string()),
            };
            match ready(&object) {
                Ok(()) => Probe::Ready(object),
                Err(state) => match blocker_of(client, ns, selector(&object)).await {
                    Some(reason) => Probe::Hopeless(reason),
                    None => Probe::NotYet(state),
                },
            }
        }
    })
    .await?)
}

async fn blocker_of(
    client: &GuardedClient,
    ns: &str,
    labels: Option<BTreeMap<String, String>>,
) -> Option<String> {
    let labels = labels?;
    let pods = list(client, ns, &selector(&labels)).await.ok()?;
    let now = k8s_openapi::jiff::Timestamp::now();
    pods.iter().find_map(|p| pod_blocker(p, now))
}

/// A local TCP port that forwards each connection to `port` of `pod` through the API server
/// (`kubectl port-forward`). The listener lives as long as the returned handle.
pub struct PortForward {
    pub local: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for PortForward {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn port_forward(
    client: &GuardedClient,
    ns: &str,
    pod: &str,
    port: u16,
) -> Result<PortForward, PodError> {
    let err = |reason: String| PodError::PortForward {
        pod: pod.to_string(),
        port,
        reason,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| err(e.to_string()))?;
    let local = listener.local_addr().map_err(|e| err(e.to_string()))?;
    let pods: Api<Pod> = Api::namespaced(client.client(), ns);
    let pod = pod.to_string();
    let task = tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let pods = pods.clone();
            let pod = pod.clone();
            tokio::spawn(async move {
                let Ok(mut forwarder) = pods.portforward(&pod, &[port]).await else {
                    return;
                };
                let Some(mut upstream) = forwarder.take_stream(port) else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut conn, &mut upstream).await;
                drop(upstream);
                let _ = forwarder.join().await;
            });
        }
    });
    Ok(PortForward { local, task })
}
