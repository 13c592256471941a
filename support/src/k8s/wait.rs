//! One way to wait: poll with backoff (backon) or watch (kube-runtime), always bounded by a
//! timeout whose error names what it waited for and the last state it saw; fail fast when the
//! probe knows the wait is hopeless.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use k8s_openapi::api::core::v1::Node;
use kube::Api;
use kube::api::ListParams;

use super::conditions::node_ready;
use crate::k8s::GuardedClient;

#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    #[error("timed out after {timeout:?} waiting for {what}; last seen: {last}")]
    Timeout {
        what: String,
        timeout: Duration,
        last: String,
    },
    #[error("stopped waiting for {what}: {reason}")]
    Hopeless { what: String, reason: String },
}

/// What a probe saw.
#[derive(Debug)]
pub enum Probe<T> {
    Ready(T),
    /// Not yet; the text describes the state seen (shown if the wait times out).
    NotYet(String),
    /// It will not get ready by waiting; stop now with this reason.
    Hopeless(String),
}

enum Retry {
    NotYet,
    Hopeless(String),
}

/// The backoff between probes: 200 ms doubling to 5 s, with jitter.
pub fn backoff() -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(200))
        .with_max_delay(Duration::from_secs(5))
        .with_factor(2.0)
        .with_jitter()
        .without_max_times()
}

/// Calls `probe` with backoff until it is ready, hopeless, or `timeout` has passed.
pub async fn until<T, F, Fut>(what: &str, timeout: Duration, mut probe: F) -> Result<T, WaitError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Probe<T>>,
{
    let last = Arc::new(Mutex::new(String::from("nothing yet")));
    let seen = last.clone();
    // A spinner on a terminal; plain lines elsewhere once the wait is long (`crate::progress`).
    let progress = crate::progress::wait(what, timeout);
    let shown = &progress;
    let attempt = move || {
        let fut = probe();
        let seen = seen.clone();
        async move {
            match fut.await {
                Probe::Ready(t) => Ok(t),
                Probe::NotYet(state) => {
                    shown.seen(&state);
                    *seen.lock().unwrap_or_else(|e| e.into_inner()) = state;
                    Err(Retry::NotYet)
                }
                Probe::Hopeless(reason) => Err(Retry::Hopeless(reason)),
            }
        }
    };
    let retried = attempt
        .retry(backoff())
        .sleep(tokio::time::sleep)
        .when(|e| matches!(e, Retry::NotYet));
    let last_seen = || last.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let result = match tokio::time::timeout(timeout, retried).await {
        Ok(Ok(t)) => Ok(t),
        Ok(Err(Retry::Hopeless(reason))) => Err(WaitError::Hopeless {
            what: what.to_string(),
            reason,
        }),
        Ok(Err(Retry::NotYet)) | Err(_) => Err(WaitError::Timeout {
            what: what.to_string(),
            timeout,
            last: last_seen(),
        }),
    };
    progress.finish(match &result {
        Ok(_) => "ready",
        Err(WaitError::Hopeless { .. }) => "stopped (hopeless)",
        Err(WaitError::Timeout { .. }) => "timed out",
    });
    result
}

/// Waits until `expected` nodes exist and all are Ready.
pub async fn nodes_ready(
    client: &GuardedClient,
    expected: usize,
    timeout: Duration,
) -> Result<Vec<Node>, WaitError> {
    let nodes: Api<Node> = Api::all(client.client());
    until(&format!("{expected} Ready nodes"), timeout, || {
        let nodes = nodes.clone();
        async move {
            match nodes.list(&ListParams::default()).await {
                Err(e) => Probe::NotYet(format!("listing nodes failed: {e}")),
                Ok(list) => {
                    let ready = list.items.iter().filter(|n| node_ready(n)).count();
                    if list.items.len() >= expected && ready == list.items.len() {
                        Probe::Ready(list.items)
                    } else {
                        Probe::NotYet(format!("{} nodes, {ready} Ready", list.items.len()))
                    }
                }
            }
        }
    })
    .await
}
