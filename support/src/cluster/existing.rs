//! The `existing` provider: a cluster the user already has, named by context. The guard requires
//! the context in `AMBIENT_KUBE_CONTEXT`; the suite never deletes such a cluster.

use std::path::PathBuf;

use k8s_openapi::api::core::v1::Node;
use kube::Api;

use super::guard;
use super::{Cluster, ClusterError};
use crate::settings::{KUBE_CONTEXT, Settings};

/// The kubeconfig file kubectl would read: the first entry of `KUBECONFIG`, else
/// `~/.kube/config`.
pub fn kubeconfig_path(kubeconfig_env: Option<&str>, home: Option<&str>) -> Option<PathBuf> {
    if let Some(list) = kubeconfig_env.filter(|v| !v.is_empty()) {
        return std::env::split_paths(list).next();
    }
    home.map(|h| PathBuf::from(h).join(".kube").join("config"))
}

pub async fn connect(settings: &Settings) -> Result<Cluster, ClusterError> {
    let config_error = |reason: String| ClusterError::Config {
        path: "kubeconfig".into(),
        reason,
    };
    let context = settings.kube_context.clone().ok_or_else(|| {
        config_error(format!(
            "AMBIENT_PROVIDER=existing needs {KUBE_CONTEXT} naming the context to use"
        ))
    })?;
    let path = kubeconfig_path(
        std::env::var("KUBECONFIG").ok().as_deref(),
        std::env::var("HOME").ok().as_deref(),
    )
    .ok_or_else(|| config_error("no KUBECONFIG and no HOME".into()))?;
    let text = std::fs::read_to_string(&path)
        .map_err(|e| config_error(format!("{}: {e}", path.display())))?;
    let approved = guard::approve_named(&text, &context, settings.kube_context.as_deref())?;
    let client = approved.connect().await?;
    let nodes: Api<Node> = Api::all(client.client());
    let list = nodes
        .list(&Default::default())
        .await
        .map_err(|e| config_error(format!("listing nodes of {context}: {e}")))?;
    let node_names = list
        .items
        .iter()
        .filter_map(|n| n.metadata.name.clone())
        .collect();
    Ok(Cluster {
        name: context.clone(),
        kubeconfig_path: path,
        context,
        client,
        node_names,
    })
}
