//! kind: the cluster configuration the tutorial uses.

use serde::Deserialize;

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
                format!("{}-{role}{suffix}", self.name)
            })
            .collect()
    }
}
