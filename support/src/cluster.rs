//! The cluster the tutorial runs on: created or reused, and reachable only through the guard.

pub mod existing;
pub mod guard;
pub mod k3s;
pub mod kind;
pub mod ownership;
pub mod provider;
pub mod sim;

use std::path::PathBuf;
use std::time::Duration;

pub use guard::{GuardError, GuardedClient};

use crate::istio::IstioRelease;
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
    #[error(transparent)]
    NotOurs(#[from] ownership::NotOurs),
    #[error(transparent)]
    Sim(Box<sim::SimError>),
}

/// A cluster ready for the tutorial, and whatever keeps it alive: the sim cluster's processes
/// stop, the k3s container is removed, when this is dropped (or the process ends). A kind cluster
/// is kept or deleted at exit as `AMBIENT_KEEP_CLUSTER` says; an existing one is never touched.
pub struct Running {
    pub cluster: Cluster,
    /// Whether kwok serves `exec` (sim only; always true elsewhere).
    pub exec_served: bool,
    _keep: Keep,
}

enum Keep {
    Nothing,
    Sim(Box<sim::SimCluster>),
    /// The nextest run's sim cluster, held by a process of its own (`sim::run`).
    SimRun(Box<sim::run::RunCluster>),
    /// Dropping it removes the container.
    K3s {
        _container: Box<k3s::K3sCluster>,
    },
}

/// The one entry point from settings to a running cluster, whichever the provider: creates,
/// reuses, starts or connects. (`crate::doctor::require` checks the provider's prerequisites
/// first.)
pub async fn start(settings: &Settings, tools: &Tools) -> Result<Running, ClusterError> {
    settings.prepare_dirs().map_err(|e| ClusterError::Config {
        path: e.var.into(),
        reason: e.to_string(),
    })?;
    use crate::settings::Provider;
    let (cluster, exec_served, keep) = match settings.provider {
        Provider::Kind => {
            let cluster = ensure_kind(settings, tools).await?;
            delete_at_exit(settings, tools);
            (cluster, true, Keep::Nothing)
        }
        Provider::Sim => match sim::run::run_id() {
            // Under nextest, one cluster for the whole run, held by a process of its own.
            Some(run) => {
                let run = sim::run::cluster(settings, &run).await?;
                (
                    run.cluster.clone(),
                    run.exec_served,
                    Keep::SimRun(Box::new(run)),
                )
            }
            None => {
                let sim = sim::start_for_settings(settings).await?;
                (
                    sim.cluster.clone(),
                    sim.exec_served,
                    Keep::Sim(Box::new(sim)),
                )
            }
        },
        Provider::K3s => {
            let k3s = k3s::start(settings).await?;
            (
                k3s.cluster.clone(),
                true,
                Keep::K3s {
                    _container: Box::new(k3s),
                },
            )
        }
        // Never deleted: the suite did not create it.
        Provider::Existing => (existing::connect(settings).await?, true, Keep::Nothing),
    };
    Ok(Running {
        cluster,
        exec_served,
        _keep: keep,
    })
}

impl Running {
    /// Pids of the processes that run the cluster here (sim), for tests and diagnostics.
    pub fn local_pids(&self) -> Vec<(String, u32)> {
        match &self._keep {
            Keep::Sim(sim) => sim.pids(),
            Keep::Nothing | Keep::SimRun(_) | Keep::K3s { .. } => Vec::new(),
        }
    }

    /// What the provider does once `istioctl install` has succeeded. On sim: starts the release's
    /// istiod (`bin/pilot-discovery`) as a local process, owned by the cluster (a second call
    /// does nothing while it runs). Elsewhere nothing: istiod runs in the cluster.
    pub async fn after_install(&self, release: &IstioRelease) -> Result<(), ClusterError> {
        match &self._keep {
            Keep::Sim(sim) => {
                sim.start_istiod(&sim::istiod::binary(&release.root))
                    .await?;
                Ok(())
            }
            // Under nextest the run's holder starts it and owns it.
            Keep::SimRun(run) => {
                run.start_istiod(&sim::istiod::binary(&release.root))
                    .await?;
                Ok(())
            }
            Keep::Nothing | Keep::K3s { .. } => Ok(()),
        }
    }

    /// Where a local istiod's `/ready` and `/debug/...` answer (sim, once started).
    pub fn local_istiod_http(&self) -> Option<std::net::SocketAddr> {
        match &self._keep {
            Keep::Sim(sim) => sim.istiod_http(),
            Keep::SimRun(run) => run.istiod_http(),
            Keep::Nothing | Keep::K3s { .. } => None,
        }
    }
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
    let state_dir = |source| ClusterError::Write {
        path: settings.state_dir.display().to_string(),
        source,
    };
    crate::settings::create_dir(&settings.state_dir, true).map_err(state_dir)?;
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
        // Mark it as ours before anything else can fail: only marked clusters are ever deleted.
        let id = kind::control_plane_id(tools, &name).await?;
        ownership::mark(&settings.state_dir, &name, &id)?;
        true
    };
    let kubeconfig = kind.kubeconfig(&name).await?;
    let approved = guard::approve_kind(&kubeconfig, &name)?;
    let kubeconfig_path = settings.state_dir.join(format!("{name}.kubeconfig"));
    write_private(&kubeconfig_path, &kubeconfig)?;
    Ok(PreparedKind {
        created,
        kubeconfig_path,
        approved,
        node_names: config.node_names_for(&name),
    })
}

/// Deletes the kind cluster of these settings if it exists and this suite created it (the
/// explicit entry point CI uses). Refuses for any other provider: sim and k3s clusters end with
/// the test process, existing clusters are never deleted.
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
    let name = &settings.cluster_name;
    if !kind.clusters().await?.contains(name) {
        crate::progress::say(format!("no kind cluster {name:?}: nothing to delete"));
        ownership::forget(&settings.state_dir, name);
        return Ok(());
    }
    let id = kind::control_plane_id(tools, name).await?;
    ownership::check(&settings.state_dir, name, &id)?;
    crate::progress::say(format!(
        "deleting kind cluster {name:?} (created by this suite)"
    ));
    kind.delete(name).await?;
    ownership::forget(&settings.state_dir, name);
    Ok(())
}

pub(crate) fn write_private(path: &std::path::Path, text: &str) -> Result<(), ClusterError> {
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

/// Deletes the kind cluster when the test process exits (`AMBIENT_KEEP_CLUSTER=false`), if this
/// suite created it (its ownership marker matches the cluster): libtest has no "after all tests"
/// hook, but it ends with `exit`, which runs `atexit` handlers.
pub fn delete_at_exit(settings: &Settings, tools: &Tools) {
    use std::sync::Mutex;
    struct Target {
        kind: PathBuf,
        docker: PathBuf,
        state_dir: PathBuf,
        name: String,
    }
    static TARGET: Mutex<Option<Target>> = Mutex::new(None);
    extern "C" fn delete() {
        let target = TARGET.lock().ok().and_then(|mut t| t.take());
        if let Some(t) = target {
            match kind::control_plane_id_blocking(&t.docker, &t.name)
                .map_err(|e| e.to_string())
                .and_then(|id| {
                    ownership::check(&t.state_dir, &t.name, &id).map_err(|e| e.to_string())
                }) {
                Ok(()) => {
                    crate::progress::say(format!(
                        "deleting kind cluster {:?} (AMBIENT_KEEP_CLUSTER=false)",
                        t.name
                    ));
                    let _ = std::process::Command::new(&t.kind)
                        .args(["delete", "cluster", "--name", &t.name])
                        .status();
                    ownership::forget(&t.state_dir, &t.name);
                }
                Err(why) => crate::progress::say(format!(
                    "keeping kind cluster {:?} although AMBIENT_KEEP_CLUSTER=false: {why}",
                    t.name
                )),
            }
        }
    }
    if settings.keep_cluster {
        return;
    }
    // Under nextest every test is a process: deleting at each one's exit would create and delete
    // the cluster once a test.
    if let Some(run) = crate::claims::current_nextest_run_id() {
        crate::progress::say(format!(
            "keeping kind cluster {:?} although AMBIENT_KEEP_CLUSTER=false: under nextest (run \
             {run}) every test is a process of its own; delete it after the run with \
             `ambient-spec delete-cluster`",
            settings.cluster_name
        ));
        return;
    }
    let (Ok(kind), Ok(docker)) = (tools.find("kind"), tools.find("docker")) else {
        return;
    };
    let mut target = TARGET.lock().unwrap_or_else(|e| e.into_inner());
    let new = Target {
        kind,
        docker,
        state_dir: settings.state_dir.clone(),
        name: settings.cluster_name.clone(),
    };
    if target.replace(new).is_none() {
        // SAFETY: registers a plain function; it runs once at process exit.
        unsafe {
            libc::atexit(delete);
        }
    }
}
