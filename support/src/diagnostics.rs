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
    let mut bundle = Bundle::create(artifacts, label);
    bundle.write(
        "context.txt",
        context.iter().map(|(k, v)| format!("{k}: {v}\n")).collect(),
    );
    bundle.nodes(client).await;
    let mut containers = Vec::new();
    for ns in NAMESPACES {
        containers.extend(bundle.pods(client, ns).await);
        bundle.events(client, ns).await;
    }
    for (ns, pod, container) in containers {
        bundle.log(client, &ns, &pod, &container).await;
    }
    bundle.finish()
}

/// A diagnostics directory being written, and what could not be collected.
struct Bundle {
    dir: PathBuf,
    errors: Vec<String>,
}

impl Bundle {
    fn create(artifacts: &Path, label: &str) -> Self {
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
        Bundle { dir, errors }
    }

    fn write(&mut self, name: &str, text: String) {
        if let Err(e) = std::fs::write(self.dir.join(name), text) {
            self.errors.push(format!("{name}: {e}"));
        }
    }

    async fn nodes(&mut self, client: &GuardedClient) {
        let nodes: Api<Node> = Api::all(client.client());
        match nodes.list(&ListParams::default()).await {
            Ok(l) => self.write(
                "nodes.json",
                serde_json::to_string_pretty(&l.items).unwrap_or_default(),
            ),
            Err(e) => self.write("nodes.error.txt", crate::errors::chain(&e)),
        }
    }

    /// Writes the namespace's pods; returns their containers, whose logs come next.
    async fn pods(&mut self, client: &GuardedClient, ns: &str) -> Vec<(String, String, String)> {
        let pods: Api<Pod> = Api::namespaced(client.client(), ns);
        let list = match pods.list(&ListParams::default()).await {
            Ok(l) => l,
            Err(e) => {
                self.write(&format!("{ns}.pods.error.txt"), crate::errors::chain(&e));
                return Vec::new();
            }
        };
        self.write(
            &format!("{ns}.pods.json"),
            serde_json::to_string_pretty(&list.items).unwrap_or_default(),
        );
        list.items
            .iter()
            .flat_map(|p| {
                let name = p.metadata.name.clone().unwrap_or_default();
                p.spec
                    .iter()
                    .flat_map(|s| s.containers.iter())
                    .map(move |c| (ns.to_string(), name.clone(), c.name.clone()))
            })
            .collect()
    }

    async fn events(&mut self, client: &GuardedClient, ns: &str) {
        let events: Api<Event> = Api::namespaced(client.client(), ns);
        match events.list(&ListParams::default()).await {
            Ok(l) => {
                let lines: String = l.items.iter().map(event_line).collect();
                self.write(&format!("{ns}.events.txt"), lines);
            }
            Err(e) => self.write(&format!("{ns}.events.error.txt"), crate::errors::chain(&e)),
        }
    }

    async fn log(&mut self, client: &GuardedClient, ns: &str, pod: &str, container: &str) {
        let pods: Api<Pod> = Api::namespaced(client.client(), ns);
        let params = LogParams {
            container: Some(container.to_string()),
            tail_lines: Some(500),
            ..LogParams::default()
        };
        let text = pods
            .logs(pod, &params)
            .await
            .unwrap_or_else(|e| format!("(no log: {})\n", crate::errors::chain(&e)));
        self.write(&format!("logs/{ns}.{pod}.{container}.log"), text);
    }

    fn finish(self) -> PathBuf {
        if !self.errors.is_empty() {
            let _ = std::fs::write(self.dir.join("errors.txt"), self.errors.join("\n"));
        }
        self.dir
    }
}

fn event_line(e: &Event) -> String {
    format!(
        "{} {} {}/{}: {} {}\n",
        e.type_.as_deref().unwrap_or("-"),
        e.reason.as_deref().unwrap_or("-"),
        e.involved_object.kind.as_deref().unwrap_or("-"),
        e.involved_object.name.as_deref().unwrap_or("-"),
        e.message.as_deref().unwrap_or("").trim(),
        e.count.map(|c| format!("(x{c})")).unwrap_or_default()
    )
}
