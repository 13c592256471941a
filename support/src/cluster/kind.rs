//! kind: the cluster configuration the tutorial uses, and the `kind` command line.
//!
//! Commands used (kind v0.20+ CLI, sigs.k8s.io/kind pkg/cmd/kind): `kind version`, `kind get
//! clusters`, `kind create cluster --name N --config F --wait D`, `kind get kubeconfig --name N`,
//! `kind delete cluster --name N`, `kind export logs DIR --name N`. The kubeconfig context of
//! cluster N is `kind-N`.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::process::{ProcessError, Tools};

/// A kind cluster configuration (`kind.x-k8s.io/v1alpha4`), the fields the suite reads.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KindConfig {
    pub kind: String,
    pub api_version: String,
    pub name: String,
    pub nodes: Vec<KindNode>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindNode {
    pub role: NodeRole,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeRole {
    ControlPlane,
    Worker,
}

impl KindConfig {
    pub fn parse(text: &str) -> Result<Self, serde_norway::Error> {
        serde_norway::from_str(text)
    }

    /// The node names kind gives: `<name>-control-plane`, `<name>-worker`, `<name>-worker2`, ...
    pub fn node_names(&self) -> Vec<String> {
        self.node_names_for(&self.name)
    }

    /// The node names when the cluster is created under another name (`kind create --name`).
    pub fn node_names_for(&self, cluster: &str) -> Vec<String> {
        let (mut control, mut worker) = (0, 0);
        self.nodes
            .iter()
            .map(|n| {
                let (role, count) = match n.role {
                    NodeRole::ControlPlane => ("control-plane", &mut control),
                    NodeRole::Worker => ("worker", &mut worker),
                };
                *count += 1;
                let suffix = if *count == 1 {
                    String::new()
                } else {
                    count.to_string()
                };
                format!("{cluster}-{role}{suffix}")
            })
            .collect()
    }
}

/// The `kind` command line.
#[derive(Debug, Clone)]
pub struct KindCli {
    tools: Tools,
}

impl KindCli {
    pub fn new(tools: Tools) -> Self {
        KindCli { tools }
    }

    pub async fn version(&self) -> Result<String, ProcessError> {
        let out = self
            .tools
            .command("kind")
            .arg("version")
            .timeout(Duration::from_secs(20))
            .run()
            .await?;
        Ok(out.stdout.trim().to_string())
    }

    /// Names of existing kind clusters (`kind get clusters`; with none, kind prints a notice on
    /// stderr and nothing on stdout).
    pub async fn clusters(&self) -> Result<Vec<String>, ProcessError> {
        let out = self
            .tools
            .command("kind")
            .args(["get", "clusters"])
            .timeout(Duration::from_secs(30))
            .run()
            .await?;
        Ok(out
            .stdout
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect())
    }

    pub async fn create(
        &self,
        name: &str,
        config: &Path,
        wait: Duration,
    ) -> Result<(), ProcessError> {
        self.tools
            .command("kind")
            .args(["create", "cluster", "--name", name, "--config"])
            .arg(config)
            .arg("--wait")
            .arg(format!("{}s", wait.as_secs().max(1)))
            // kind's own --wait covers the control plane; pulling the node image comes on top.
            .timeout(wait + Duration::from_secs(600))
            .echo()
            .run()
            .await
            .map(|_| ())
    }

    pub async fn kubeconfig(&self, name: &str) -> Result<String, ProcessError> {
        let out = self
            .tools
            .command("kind")
            .args(["get", "kubeconfig", "--name", name])
            .timeout(Duration::from_secs(30))
            .run()
            .await?;
        Ok(out.stdout)
    }

    pub async fn delete(&self, name: &str) -> Result<(), ProcessError> {
        self.tools
            .command("kind")
            .args(["delete", "cluster", "--name", name])
            .timeout(Duration::from_secs(180))
            .echo()
            .run()
            .await
            .map(|_| ())
    }

    pub async fn export_logs(&self, name: &str, dir: &Path) -> Result<(), ProcessError> {
        self.tools
            .command("kind")
            .args(["export", "logs"])
            .arg(dir)
            .args(["--name", name])
            .timeout(Duration::from_secs(180))
            .run()
            .await
            .map(|_| ())
    }
}

/// The control-plane node container of kind cluster `name` (kind names node containers after the
/// cluster: `<name>-control-plane`, the node names the suite waits for).
pub fn control_plane_container(name: &str) -> String {
    format!("{name}-control-plane")
}

/// The id of that container (`docker inspect --format {{.Id}}`), the cluster's identity for the
/// ownership marker.
pub async fn control_plane_id(tools: &Tools, name: &str) -> Result<String, ProcessError> {
    let out = tools
        .command("docker")
        .args(["inspect", "--format", "{{.Id}}"])
        .arg(control_plane_container(name))
        .timeout(Duration::from_secs(30))
        .run()
        .await?;
    Ok(out.stdout.trim().to_string())
}

/// [`control_plane_id`] without a runtime, for the exit handler.
pub fn control_plane_id_blocking(docker: &Path, name: &str) -> Result<String, String> {
    let out = std::process::Command::new(docker)
        .args(["inspect", "--format", "{{.Id}}"])
        .arg(control_plane_container(name))
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("docker inspect: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "docker inspect {}: {}",
            control_plane_container(name),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}
