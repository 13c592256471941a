//! The `existing` provider: a cluster the user already has, named by context. The guard requires
//! the context in `AMBIENT_KUBE_CONTEXT`; the suite never deletes such a cluster.

use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::Node;
use kube::Api;

use super::guard;
use super::{Cluster, ClusterError};
use crate::settings::{KUBE_CONTEXT, Settings};

/// The kubeconfig files kubectl would read: every entry of `KUBECONFIG`, else `~/.kube/config`.
pub fn kubeconfig_paths(kubeconfig_env: Option<&str>, home: Option<&str>) -> Vec<PathBuf> {
    guard::kubeconfig_paths(
        kubeconfig_env.map(std::ffi::OsStr::new),
        home.map(Path::new),
    )
}

pub async fn connect(settings: &Settings) -> Result<Cluster, ClusterError> {
    let paths = guard::kubeconfig_paths(
        std::env::var_os("KUBECONFIG").as_deref(),
        std::env::var_os("HOME").as_deref().map(Path::new),
    );
    connect_with(settings, &paths).await
}

/// [`connect`] with the kubeconfig files given.
pub async fn connect_with(settings: &Settings, paths: &[PathBuf]) -> Result<Cluster, ClusterError> {
    let config_error = |reason: String| ClusterError::Config {
        path: "kubeconfig".into(),
        reason,
    };
    let context = settings.kube_context.clone().ok_or_else(|| {
        config_error(format!(
            "AMBIENT_PROVIDER=existing needs {KUBE_CONTEXT} naming the context to use"
        ))
    })?;
    if paths.is_empty() {
        return Err(config_error("no KUBECONFIG and no HOME".into()));
    }
    let origin = paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(":");
    let kubeconfig = guard::read_merged(paths)?;
    let approved = guard::approve_named(
        kubeconfig,
        &origin,
        &context,
        settings.kube_context.as_deref(),
    )?;
    let configured = approved.server().to_string();
    let server = guard::redacted_server(&configured);
    // istioctl gets one file: the merged view kubectl would use, kept private in the state dir.
    let merged_path = settings
        .state_dir
        .join(format!("existing-{}.kubeconfig", safe_name(&context)));
    let merged = serde_norway::to_string(approved.kubeconfig())
        .map_err(|e| config_error(format!("writing the merged kubeconfig: {e}")))?;
    crate::settings::create_dir(&settings.state_dir, true).map_err(|source| {
        ClusterError::Write {
            path: settings.state_dir.display().to_string(),
            source,
        }
    })?;
    super::write_private(&merged_path, &merged)?;
    let client = approved.connect().await?;
    let nodes: Api<Node> = Api::all(client.client());
    let list = nodes.list(&Default::default()).await.map_err(|e| {
        config_error(guard::without_password(
            &format!(
                "listing the nodes of {context} at {server}: {}",
                crate::errors::chain(&e)
            ),
            &configured,
        ))
    })?;
    let node_names = list
        .items
        .iter()
        .filter_map(|n| n.metadata.name.clone())
        .collect();
    Ok(Cluster {
        name: context.clone(),
        kubeconfig_path: merged_path,
        context,
        client,
        node_names,
    })
}

/// A context name as a file name (contexts may hold `/` and `:`, e.g. EKS ARNs).
fn safe_name(context: &str) -> String {
    context
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
