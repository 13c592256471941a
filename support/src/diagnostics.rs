//! The evidence bundle written when a cluster test fails: pods, events and logs of
//! `istio-system` and `default`, the nodes, the istioctl version, the settings.

use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::{Event, Node, Pod};
use kube::Api;
use kube::api::{ListParams, LogParams};

use crate::k8s::GuardedClient;

/// Namespaces the bundle covers.
pub const NAMESPACES: &[&str] = &["istio-system", "default"];

/// Writes the bundle under `<artifacts>/diagnostics/<time>-<label>/` and returns its path. Parts
/// that cannot be collected are listed in `errors.txt`; collecting never fails the caller.
pub async fn collect(
    client: &GuardedClient,
    artifacts: &Path,
    label: &str,
    context: &[(&str, String)],
) -> PathBuf {
    let stamp = k8s_openapi::jiff::Timestamp::now()
        .strftime("%Y%m%dT%H%M%SZ")
        .to_string();
    let safe: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let dir = artifacts
        .join("diagnostics")
        .join(format!("{stamp}-{safe}"));
    let mut errors = Vec::new();
    if let Err(e) = std::fs::create_dir_all(dir.join("logs")) {
        errors.push(format!("creating {}: {e}", dir.display()));
    }
    let mut write = |name: &str, text: String| {
        if let Err(e) = std::fs::write(dir.join(name), text) {
            errors.push(format!("{name}: {e}"));
        }
    };
    let info: String = context.iter().map(|(k, v)| format!("{k}: {v}\n")).collect();
    write("context.txt", info);
    let nodes: Api<Node> = Api::all(client.client());
    match nodes.list(&ListParams::default()).await {
        Ok(l) => write(
            "nodes.json",
            serde_json::to_string_pretty(&l.items).unwrap_or_default(),
        ),
        Err(e) => write("nodes.error.txt", e.to_string()),
    }
    let mut log_jobs = Vec::new();
    for ns in NAMESPACES {
        let pods: Api<Pod> = Api::namespaced(client.client(), ns);
        match pods.list(&ListParams::default()).await {
            Ok(l) => {
                write(
                    &format!("{ns}.pods.json"),
                    serde_json::to_string_pretty(&l.items).unwrap_or_default(),
                );
                for p in &l.items {
                    let name = p.metadata.name.clone().unwrap_or_default();
                    for c in p.spec.iter().flat_map(|s| s.containers.iter()) {
                        log_jobs.push((ns.to_string(), name.clone(), c.name.clone()));
                    }
                }
            }
            Err(e) => write(&format!("{ns}.pods.error.txt"), e.to_string()),
        }
        let events: Api<Event> = Api::namespaced(client.client(), ns);
        match events.list(&ListParams::default()).await {
            Ok(l) => {
                let lines: String = l
                    .items
                    .iter()
                    .map(|e| {
                        format!(
                            "{} {} {}/{}: {} {}\n",
                            e.type_.as_deref().unwrap_or("-"),
                            e.reason.as_deref().unwrap_or("-"),
                            e.involved_object.kind.as_deref().unwrap_or("-"),
                            e.involved_object.name.as_deref().unwrap_or("-"),
                            e.message.as_deref().unwrap_or("").trim(),
                            e.count.map(|c| format!("(x{c})")).unwrap_or_default()
                        )
                    })
                    .collect();
                write(&format!("{ns}.events.txt"), lines);
            }
            Err(e) => write(&format!("{ns}.events.error.txt"), e.to_string()),
        }
    }
    for (ns, pod, container) in log_jobs {
        let pods: Api<Pod> = Api::namespaced(client.client(), &ns);
        let params = LogParams {
            container: Some(container.clone()),
            tail_lines: Some(500),
            ..LogParams::default()
        };
        let text = pods
            .logs(&pod, &params)
            .await
            .unwrap_or_else(|e| format!("(no log: {e})\n"));
        write(&format!("logs/{ns}.{pod}.{container}.log"), text);
    }
    if !errors.is_empty() {
        let _ = std::fs::write(dir.join("errors.txt"), errors.join("\n"));
    }
    dir
}
