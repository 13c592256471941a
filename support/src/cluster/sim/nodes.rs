//! The sim cluster's Nodes: named like kind's, labelled as Istio's DaemonSets require.

use k8s_openapi::api::core::v1::Node;
use kube::Api;
use kube::api::{Patch, PatchParams};

use super::SimError;
use crate::cluster::GuardedClient;

/// A Node named like kind's, with the labels Istio's DaemonSets select on
/// (`kubernetes.io/os=linux`) and kind's control-plane taint on the first.
pub async fn create(
    client: &GuardedClient,
    name: &str,
    control_plane: bool,
) -> Result<(), SimError> {
    let arch = match std::env::consts::ARCH {
        "aarch64" => "arm64",
        _ => "amd64",
    };
    let mut node = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": arch,
                "kubernetes.io/hostname": name,
                "type": "kwok",
            },
            "annotations": { "kwok.x-k8s.io/node": "fake" },
        },
    });
    if control_plane {
        node["metadata"]["labels"]["node-role.kubernetes.io/control-plane"] = "".into();
        node["spec"] = serde_json::json!({
            "taints": [{ "key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule" }]
        });
    }
    let nodes: Api<Node> = Api::all(client.client());
    nodes
        .patch(
            name,
            &PatchParams::apply(crate::k8s::apply::FIELD_MANAGER).force(),
            &Patch::Apply(&node),
        )
        .await
        .map(|_| ())
        .map_err(|e| SimError::Node {
            node: name.into(),
            reason: crate::errors::chain(&e),
        })
}
