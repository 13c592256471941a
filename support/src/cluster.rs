//! The cluster the tutorial runs on: created or reused, and reachable only through the guard.

pub mod existing;
pub mod guard;
pub mod k3s;
pub mod kind;
pub mod provider;
pub mod sim;

use std::path::PathBuf;
use std::time::Duration;

pub use guard::{GuardError, GuardedClient};

use crate::process::{ProcessError, Tools};
use crate::settings::Settings;

/// A cluster the suite may change.
#[derive(Clone)]
pub struct Cluster {
    pub name: String,
    /// The kubeconfig written for this cluster (istioctl gets it with `--kubeconfig`).
    pub kubeconfig_path: PathBuf,
    pub context: String,
    pub client: GuardedClient,
    /// Node names, in the order kind creates them.
    pub node_names: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(transparent)]
    Process(#[from] ProcessError),
    #[error(transparent)]
    Guard(#[from] GuardError),
    #[error("{path}: {reason}")]
    Config { path: String, reason: String },
    #[error("writing {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Wait(#[from] crate::k8s::wait::WaitError),
}

/// Creates the tutorial's kind cluster if none of that name exists, reuses it otherwise, and
/// waits until every node is Ready.
pub async fn ensure_kind(settings: &Settings, tools: &Tools) -> Result<Cluster, ClusterError> {
    let prepared = prepare_kind(settings, tools).await?;
    let context = prepared.approved.context().to_string();
    let client = prepared.approved.connect().await?;
    let timeout = settings.timeout(Duration::from_secs(180));
    crate::k8s::wait::nodes_ready(&client, prepared.node_names.len(), timeout).await?;
    Ok(Cluster {
        name: settings.cluster_name.clone(),
        kubeconfig_path: prepared.kubeconfig_path,
        context,
        client,
        node_names: prepared.node_names,
    })
}

/// The part of [`ensure_kind`] that needs only the `kind` command: create or reuse, write the
/// cluster's own kubeconfig, and pass the guard.
pub struct PreparedKind {
    pub created: bool,
    pub kubeconfig_path: PathBuf,
    pub approved: guard::Approved,
    pub node_names: Vec<String>,
}

pub async fn prepare_kind(
    settings: &Settings,
    tools: &Tools,
) -> Result<PreparedKind, ClusterError> {
    let kind = kind::KindCli::new(tools.clone());
    let config_path = crate::fixtures::path("kind/ambient.yaml");
    let config_error = |reason: String| ClusterError::Config {
        path: config_path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(&config_path).map_err(|e| config_error(e.to_string()))?;
    let config = kind::KindConfig::parse(&text).map_err(|e| config_error(e.to_string()))?;
    let name = settings.cluster_name.clone();
    let created = if kind.clusters().await?.contains(&name) {
        crate::progress::say(format!("reusing kind cluster {name:?}"));
        false
    } else {
        crate::progress::say(format!(
            "creating kind cluster {name:?} ({} nodes); this takes a few minutes",
            config.nodes.len()
        ));
        kind.create(
            &name,
            &config_path,
            settings.timeout(Duration::from_secs(300)),
        )
        .await?;
        true
    };
    let kubeconfig = kind.kubeconfig(&name).await?;
    let approved = guard::approve_kind(&kubeconfig, &name)?;
    std::fs::create_dir_all(&settings.artifacts_dir).map_err(|source| ClusterError::Write {
        path: settings.artifacts_dir.display().to_string(),
        source,
    })?;
    let kubeconfig_path = settings.artifacts_dir.join(format!("{name}.kubeconfig"));
    write_private(&kubeconfig_path, &kubeconfig)?;
    Ok(PreparedKind {
        created,
        kubeconfig_path,
        approved,
        node_names: config.node_names_for(&name),
    })
}

/// Deletes the kind cluster of these settings, if it exists (the explicit entry point CI uses).
/// Refuses for any other provider: the suite deletes only clusters it creates with kind (sim and
/// k3s clusters end with the test process, existing clusters are never deleted).
pub async fn delete_kind(settings: &Settings, tools: &Tools) -> Result<(), ClusterError> {
    if settings.provider != crate::settings::Provider::Kind {
        return Err(ClusterError::Config {
            path: crate::settings::PROVIDER.into(),
            reason: format!(
                "delete-cluster deletes the suite's kind cluster only; AMBIENT_PROVIDER is {}",
                settings.provider.id()
            ),
        });
    }
    let kind = kind::KindCli::new(tools.clone());
    if kind.clusters().await?.contains(&settings.cluster_name) {
        crate::progress::say(format!("deleting kind cluster {:?}", settings.cluster_name));
        kind.delete(&settings.cluster_name).await?;
    }
    Ok(())
}

fn write_private(path: &std::path::Path, text: &str) -> Result<(), ClusterError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let err = |source| ClusterError::Write {
        path: path.display().to_string(),
        source,
    };
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(err)?;
    f.write_all(text.as_bytes()).map_err(err)
}

/// Deletes the kind cluster when the test process exits (`AMBIENT_KEEP_CLUSTER=false`): libtest
/// has no "after all tests" hook, but it ends with `exit`, which runs `atexit` handlers.
pub fn delete_at_exit(settings: &Settings, tools: &Tools) {
    use std::sync::Mutex;
    static TARGET: Mutex<Option<(PathBuf, String)>> = Mutex::new(None);
    extern "C" fn delete() {
        let target = TARGET.lock().ok().and_then(|mut t| t.take());
        if let Some((kind, name)) = target {
            crate::progress::say(format!(
                "deleting kind cluster {name:?} (AMBIENT_KEEP_CLUSTER=false)"
            ));
            let _ = std::process::Command::new(kind)
                .args(["delete", "cluster", "--name", &name])
                .status();
        }
    }
    if settings.keep_cluster {
        return;
    }
    let Ok(kind) = tools.find("kind") else { return };
    let mut target = TARGET.lock().unwrap_or_else(|e| e.into_inner());
    if target
        .replace((kind, settings.cluster_name.clone()))
        .is_none()
    {
        // SAFETY: registers a plain function; it runs once at process exit.
        unsafe {
            libc::atexit(delete);
        }
    }
}
