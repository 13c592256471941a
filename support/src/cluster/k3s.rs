//! The `k3s` provider: a single-node k3s in one container (testcontainers-modules' K3s), started by
//! the suite and removed when the test process ends.

use std::path::Path;

use testcontainers::core::ContainerRequest;
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, ImageExt};
use testcontainers_modules::k3s::{K3s, KUBE_SECURE_PORT};

use super::guard;
use super::{Cluster, ClusterError};
use crate::settings::Settings;

/// The container the suite starts: testcontainers-modules' K3s image (`rancher/k3s`, its pinned
/// tag), privileged with the host's user namespace as k3s needs (the module's own tests do the
/// same), the kubeconfig directory mounted from `conf_dir`.
pub fn request(conf_dir: &Path) -> ContainerRequest<K3s> {
    K3s::default()
        .with_conf_mount(conf_dir)
        .with_privileged(true)
        .with_userns_mode("host")
}

/// The context name of a k3s cluster.
pub fn context(name: &str) -> String {
    format!("k3s-{name}")
}

/// Rewrites the kubeconfig k3s writes (`server: https://127.0.0.1:6443`, context `default`) to the
/// mapped host port and this run's context name.
pub fn rewrite_kubeconfig(k3s_yaml: &str, host_port: u16, name: &str) -> String {
    k3s_yaml
        .replace(
            "https://127.0.0.1:6443",
            &format!("https://127.0.0.1:{host_port}"),
        )
        .replace(": default", &format!(": {}", context(name)))
}

/// A running k3s cluster; the container is removed at process exit.
pub struct K3sCluster {
    pub cluster: Cluster,
    pub container: ContainerAsync<K3s>,
}

pub async fn start(settings: &Settings) -> Result<K3sCluster, ClusterError> {
    let name = &settings.cluster_name;
    // k3s writes its admin kubeconfig here: private state, never evidence.
    let conf_dir = settings.state_dir.join(format!("k3s-{name}"));
    crate::settings::create_dir(&conf_dir, true).map_err(|source| ClusterError::Write {
        path: conf_dir.display().to_string(),
        source,
    })?;
    let err = |e: &dyn std::fmt::Display| ClusterError::Config {
        path: "k3s".into(),
        reason: e.to_string(),
    };
    crate::progress::say("k3s: starting a single-node k3s container");
    let container = request(&conf_dir).start().await.map_err(|e| err(&e))?;
    remove_at_exit(container.id());
    let port = container
        .get_host_port_ipv4(KUBE_SECURE_PORT)
        .await
        .map_err(|e| err(&e))?;
    let yaml = container.image().read_kube_config().map_err(|e| err(&e))?;
    let kubeconfig = rewrite_kubeconfig(&yaml, port, name);
    let kubeconfig_path = settings.state_dir.join(format!("{name}.k3s.kubeconfig"));
    super::write_private(&kubeconfig_path, &kubeconfig)?;
    let approved = guard::approve_local("of the k3s container", &kubeconfig, &context(name))?;
    let context = approved.context().to_string();
    let client = approved.connect().await?;
    let timeout = settings.timeout(std::time::Duration::from_secs(180));
    let nodes = crate::k8s::wait::nodes_ready(&client, 1, timeout).await?;
    let node_names = nodes
        .iter()
        .filter_map(|n| n.metadata.name.clone())
        .collect();
    Ok(K3sCluster {
        cluster: Cluster {
            name: name.clone(),
            kubeconfig_path,
            context,
            client,
            node_names,
        },
        container,
    })
}

fn remove_at_exit(id: &str) {
    use std::sync::Mutex;
    static IDS: Mutex<Vec<String>> = Mutex::new(Vec::new());
    extern "C" fn remove() {
        let ids = IDS
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default();
        for id in ids {
            let _ = std::process::Command::new("docker")
                .args(["rm", "-f", "-v", &id])
                .status();
        }
    }
    let mut ids = IDS.lock().unwrap_or_else(|e| e.into_inner());
    if ids.is_empty() {
        // SAFETY: registers a plain function; it runs once at process exit.
        unsafe {
            libc::atexit(remove);
        }
    }
    ids.push(id.to_string());
}
