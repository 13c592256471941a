//! The `sim` provider: a real control plane without docker. etcd, kube-apiserver,
//! kube-controller-manager and kube-scheduler run as local processes on loopback ports chosen at
//! run time, kwok plays the kubelet of three nodes named like the kind cluster's (pods go Running,
//! logs/exec/port-forward are served from local files and programs). Built from Go modules by
//! `fixtures/sim/build.sh`.
//!
//! After `istioctl install`, [`SimCluster::start_istiod`] runs the release's istiod
//! (`pilot-discovery`) as a local process too (see [`istiod`]): Istio's control plane acts on the
//! cluster, while the kwok `istiod` pod stays the placeholder the install's waits see.
//!
//! What it proves: everything the suite does through the API (server-side apply of the release's
//! manifests, `istioctl install` and its waits, DaemonSets scheduling one pod per node through the
//! real controllers, labels, the context guard, exec/logs/port-forward through kube-rs's protocol
//! code) and what istiod does through it (GatewayClasses, waypoint Deployments and Gateway status,
//! Service attachment, its CA). What it cannot: images, networking, ztunnel, istio-cni, traffic.
//! Admission webhooks are off (nothing answers at the Services' addresses), as in kwok's own
//! tooling.
//!
//! Where they listen: run as root, in a network namespace of the run's own ([`netns`]), the API
//! server's port relayed to the machine's loopback as the one door; etcd wants TLS client
//! certificates of the sim's CA, the API server a credential (no anonymous requests), the
//! controller manager and the scheduler serve nothing. The README's "Security" has the table.
//!
//! Files: the private state (certificates, kubeconfig, etcd data, replay programs, the `pids`
//! file) lives in `<state>/sim-<name>` (0700, files 0600); the component logs, which are
//! evidence, in `<artifacts>/sim-<name>/logs`.

mod components;
pub mod istiod;
pub mod netns;
pub mod nodes;
pub mod owner;
pub mod pki;
mod ports;
pub mod replay;
pub mod run;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub use ports::Ports;

use super::guard::{self, GuardError};
use super::{Cluster, ClusterError};
use crate::jail::{ExecJail, JailError};
use crate::k8s::wait::{Probe, WaitError, nodes_ready, until};
use crate::process::{Owned, ProcessError, spawn_owned_with, tail};
use crate::settings::Settings;
pub use istiod::{Istiod, IstiodOptions};

/// Binaries `fixtures/sim/build.sh` puts in `target/sim/bin`.
pub const BINARIES: &[&str] = &[
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kwok",
    "replay",
];
/// kwok stages copied from the kwok module's own `kustomize/stage/`.
pub const STAGES: &[&str] = &[
    "node-initialize.yaml",
    "node-heartbeat-with-lease.yaml",
    "pod-ready.yaml",
    "pod-complete.yaml",
    "pod-delete.yaml",
];

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("{path} is missing: build the sim binaries with `bash fixtures/sim/build.sh`")]
    MissingBinary { path: String },
    #[error("{component} exited ({status}) while starting; its log {log} ends with:\n{tail}")]
    Exited {
        component: String,
        status: String,
        log: String,
        tail: String,
    },
    #[error("{component} did not become ready: {reason}; its log {log} ends with:\n{tail}")]
    NotReady {
        component: String,
        reason: String,
        log: String,
        tail: String,
    },
    #[error("port {port} on 127.0.0.1 is already in use (wanted for {component})")]
    PortInUse { component: String, port: u16 },
    #[error(
        "sim cluster {name:?} is in use by process {owner} ({dir}): choose another \
         AMBIENT_CLUSTER_NAME for a second run at the same time"
    )]
    InUse {
        name: String,
        owner: u32,
        dir: String,
    },
    #[error("certificates: {0}")]
    Pki(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Process(#[from] ProcessError),
    #[error(transparent)]
    Guard(#[from] GuardError),
    #[error(transparent)]
    Wait(#[from] WaitError),
    #[error(transparent)]
    Jail(#[from] JailError),
    #[error(transparent)]
    Netns(#[from] netns::NetnsError),
    #[error("creating node {node}: {reason}")]
    Node { node: String, reason: String },
    #[error(
        "the nextest run's holder of the sim cluster could not {request}: {reason} (its log: {log})"
    )]
    Holder {
        request: String,
        reason: String,
        log: String,
    },
}

impl From<SimError> for ClusterError {
    fn from(e: SimError) -> Self {
        ClusterError::Sim(Box::new(e))
    }
}

pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SimError + '_ {
    move |source| SimError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Where the sim binaries are.
#[derive(Debug, Clone)]
pub struct SimBinaries {
    pub dir: PathBuf,
}

impl SimBinaries {
    pub fn default_dir() -> PathBuf {
        crate::settings::workspace_root().join("target/sim/bin")
    }

    /// Checks every binary and stage file is there.
    pub fn locate(dir: &Path) -> Result<Self, SimError> {
        let stages = STAGES.iter().map(|s| dir.join("kwok-stages").join(s));
        for p in BINARIES.iter().map(|b| dir.join(b)).chain(stages) {
            if !p.is_file() {
                return Err(SimError::MissingBinary {
                    path: p.display().to_string(),
                });
            }
        }
        Ok(SimBinaries {
            dir: dir.to_path_buf(),
        })
    }

    pub fn bin(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// How to start a sim cluster.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Cluster name: the kube context is `sim-<name>`.
    pub name: String,
    /// Private state (etcd data, certificates, kubeconfig, replay programs), wiped at start.
    pub state_dir: PathBuf,
    /// Component logs (evidence), wiped at start.
    pub logs_dir: PathBuf,
    pub node_names: Vec<String>,
    pub ports: Ports,
    /// Bound on each readiness wait.
    pub timeout: Duration,
    /// Where port-forwards to ports 20001 and 8080 of any pod go (a local server), if anywhere.
    pub forward_to: Option<u16>,
}

impl SimOptions {
    /// The options for cluster `name` under these settings: its directories under the state and
    /// artifacts directories, nodes named like the kind config's, free ports.
    pub fn for_settings(
        settings: &Settings,
        name: &str,
        forward_to: Option<u16>,
    ) -> Result<Self, SimError> {
        let config_path = crate::fixtures::path("kind/ambient.yaml");
        let text = std::fs::read_to_string(&config_path).map_err(io(&config_path))?;
        let config = super::kind::KindConfig::parse(&text).map_err(|e| SimError::Io {
            path: config_path.display().to_string(),
            source: std::io::Error::other(e.to_string()),
        })?;
        Ok(SimOptions {
            name: name.to_string(),
            state_dir: settings.state_dir.join(format!("sim-{name}")),
            logs_dir: settings
                .artifacts_dir
                .join(format!("sim-{name}"))
                .join("logs"),
            node_names: config.node_names_for(name),
            ports: Ports::free()?,
            timeout: settings.timeout(Duration::from_secs(120)),
            forward_to,
        })
    }
}

/// A running sim cluster; every process stops when this is dropped (istiod first).
pub struct SimCluster {
    pub cluster: Cluster,
    pub state_dir: PathBuf,
    /// istiod once [`SimCluster::start_istiod`] ran (declared before `processes`: dropped first).
    istiod: std::sync::Mutex<Option<Istiod>>,
    /// Held while istiod starts, so two callers never start two.
    istiod_starting: tokio::sync::Mutex<()>,
    pub processes: Vec<Owned>,
    /// Whether kwok serves `exec` (only with Landlock, which confines it to the replay program).
    pub exec_served: bool,
    logs_dir: PathBuf,
    timeout: Duration,
    /// The network namespace the servers listen in, and its relays (closed after the processes).
    net: Option<netns::PrivateNet>,
    /// The cluster's name, held until every process above has stopped (declared last).
    _name: owner::NameLock,
}

impl SimCluster {
    /// Pids of the running components (istiod too, once started), for diagnostics and tests.
    pub fn pids(&self) -> Vec<(String, u32)> {
        let istiod = self.istiod.lock().unwrap_or_else(|e| e.into_inner());
        self.processes
            .iter()
            .chain(istiod.as_ref().map(Istiod::owned))
            .map(|p| (p.name.clone(), p.pid()))
            .collect()
    }

    /// How istiod would start here with `binary`: the sim kubeconfig, free ports, a scratch
    /// directory in the private state, its log beside the other components'.
    pub fn istiod_options(&self, binary: &Path) -> Result<IstiodOptions, SimError> {
        IstiodOptions::new(
            binary.to_path_buf(),
            self.cluster.kubeconfig_path.clone(),
            format!("istiod-local-{}-{}", self.cluster.name, std::process::id()),
            self.state_dir.join("istiod"),
            self.logs_dir.join(format!("{}.log", istiod::COMPONENT)),
            self.timeout,
        )
    }

    /// Starts istiod from `binary` (a release's `bin/pilot-discovery`, [`istiod::binary`]) unless
    /// it runs already; returns whether it started one. Call it after `istioctl install`.
    pub async fn start_istiod(&self, binary: &Path) -> Result<bool, SimError> {
        self.start_istiod_with(self.istiod_options(binary)?).await
    }

    /// [`SimCluster::start_istiod`] with options of the caller's (tests: a port in use, a missing
    /// binary).
    pub async fn start_istiod_with(&self, opts: IstiodOptions) -> Result<bool, SimError> {
        let _one_at_a_time = self.istiod_starting.lock().await;
        if self.istiod_running() {
            return Ok(false);
        }
        let started = istiod::start(&opts, self.net.as_ref()).await?;
        crate::progress::say(format!(
            "sim: istiod ready on http://{} after {:.1}s (log {})",
            started.http,
            started.ready_in.as_secs_f64(),
            opts.log.display()
        ));
        let mut slot = self.istiod.lock().unwrap_or_else(|e| e.into_inner());
        *slot = Some(started);
        let components = self
            .processes
            .iter()
            .chain(slot.as_ref().map(Istiod::owned));
        write_pids(&self.state_dir, components)?;
        Ok(true)
    }

    /// Whether istiod runs; one that exited is forgotten (and said so), so it can start again.
    fn istiod_running(&self) -> bool {
        let mut slot = self.istiod.lock().unwrap_or_else(|e| e.into_inner());
        let Some(running) = slot.as_mut() else {
            return false;
        };
        match running.exited() {
            None => true,
            Some(status) => {
                crate::progress::say(format!(
                    "sim: istiod had exited ({status}; log {}); starting it again",
                    running.log().display()
                ));
                *slot = None;
                false
            }
        }
    }

    /// Whether the servers listen in a network namespace of the run's own (see [`netns`]).
    pub fn has_private_network(&self) -> bool {
        self.net.is_some()
    }

    /// The status of `GET <path>` on istiod's HTTP port, asked where istiod listens (inside the
    /// run's network namespace when there is one).
    pub fn istiod_get_status(&self, path: &str) -> Result<u16, SimError> {
        let addr = self.istiod_http().ok_or_else(|| SimError::Io {
            path: path.into(),
            source: std::io::Error::other("istiod does not run"),
        })?;
        istiod::http_status(self.net.as_ref(), addr, path)
    }

    /// Where istiod's `/ready` answers, once it runs (inside the run's network namespace when
    /// there is one).
    pub fn istiod_http(&self) -> Option<std::net::SocketAddr> {
        let istiod = self.istiod.lock().unwrap_or_else(|e| e.into_inner());
        istiod.as_ref().map(|i| i.http)
    }
}

/// Records the owner (this process) and `components` in `dir`'s `pids` file, for a later run to
/// reap if this one dies.
fn write_pids<'a>(dir: &Path, components: impl Iterator<Item = &'a Owned>) -> Result<(), SimError> {
    owner::Pids {
        owner: owner::ProcessId::current(),
        components: components
            .filter_map(|p| Some((p.name.clone(), owner::ProcessId::of(p.pid())?)))
            .collect(),
    }
    .write(dir)
}

/// The context name of a sim cluster.
pub fn context(name: &str) -> String {
    format!("sim-{name}")
}

/// The sim cluster the tutorial runs on (`AMBIENT_CLUSTER_NAME`, default `ambient`).
pub async fn start_for_settings(settings: &Settings) -> Result<SimCluster, SimError> {
    let bins = SimBinaries::locate(&SimBinaries::default_dir())?;
    let opts = SimOptions::for_settings(settings, &settings.cluster_name, None)?;
    start(&opts, &bins).await
}

fn write_private(path: &Path, text: &str) -> Result<PathBuf, SimError> {
    super::write_private(path, text).map_err(|e| SimError::Io {
        path: path.display().to_string(),
        source: std::io::Error::other(e.to_string()),
    })?;
    Ok(path.to_path_buf())
}

/// Copies `from` to `to`, executable by this user only.
fn private_copy(from: &Path, to: &Path) -> Result<PathBuf, SimError> {
    std::fs::copy(from, to).map_err(io(to))?;
    set_mode(to, 0o700)?;
    Ok(to.to_path_buf())
}

fn set_mode(path: &Path, mode: u32) -> Result<(), SimError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(io(path))
}

/// Appends `line` to a component's log (evidence of how it ran), before the component writes.
fn note_in_log(log: &Path, line: &str) -> Result<(), SimError> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(io(log))?;
    writeln!(file, "ambient-tutorial: {line}").map_err(io(log))
}

/// The launched components, recorded in the `pids` file as they start.
struct Launcher<'a> {
    opts: &'a SimOptions,
    bins: &'a SimBinaries,
    processes: Vec<Owned>,
    /// The namespace every component joins, if the run has one.
    netns: Option<std::os::fd::RawFd>,
}

impl Launcher<'_> {
    fn launch(
        &mut self,
        name: &str,
        args: Vec<String>,
        env: &[(String, String)],
        jail: Option<Arc<ExecJail>>,
    ) -> Result<(), SimError> {
        let program = self.bins.bin(name);
        self.launch_from(name, &program, args, env, jail)
    }

    /// [`Launcher::launch`] of `program` (a copy of the component's binary).
    fn launch_from(
        &mut self,
        name: &str,
        program: &Path,
        args: Vec<String>,
        env: &[(String, String)],
        jail: Option<Arc<ExecJail>>,
    ) -> Result<(), SimError> {
        let log = self.opts.logs_dir.join(format!("{name}.log"));
        // A copy just written (kwok's) may be "busy" for a moment: a process another thread forked
        // while the copy was open holds it until that process execs. Bounded: 40 tries, 2 s.
        let mut tries = 0;
        let owned = loop {
            let how = crate::process::OwnedSetup {
                env,
                clear_env: false,
                cwd: None,
                jail: jail.clone(),
                netns: self.netns,
            };
            match spawn_owned_with(name, program, &args, &log, how) {
                Err(ProcessError::Io { source, .. })
                    if source.raw_os_error() == Some(libc::ETXTBSY) && tries < 40 =>
                {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(50));
                }
                other => break other?,
            }
        };
        self.processes.push(owned);
        write_pids(&self.opts.state_dir, self.processes.iter())
    }

    /// The first component that exited, with its status and log.
    fn exited(&mut self) -> Option<(String, String, PathBuf)> {
        self.processes
            .iter_mut()
            .find_map(|p| p.exited().map(|st| (p.name.clone(), st, p.log.clone())))
    }
}

/// Starts the control plane, creates the nodes, and waits until they are Ready.
pub async fn start(opts: &SimOptions, bins: &SimBinaries) -> Result<SimCluster, SimError> {
    let state = &opts.state_dir;
    // First the name: of two starts at once, the loser stops here, before it wipes anything.
    let name_lock = owner::lock_name(state, &opts.name)?;
    let reaped = owner::reap_leftovers(state, &opts.name)?;
    if !reaped.is_empty() {
        crate::progress::say(format!(
            "sim: stopped {} leftover components of a dead run of {:?}",
            reaped.len(),
            opts.name
        ));
    }
    for dir in [state, &opts.logs_dir] {
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(io(dir))?;
        }
    }
    crate::settings::create_dir(state, true).map_err(io(state))?;
    crate::settings::create_dir(&opts.logs_dir, false).map_err(io(&opts.logs_dir))?;
    opts.ports.check_free()?;
    let p = opts.ports;
    let pki = pki::generate()?;
    let kubeconfig_text = pki::kubeconfig(&opts.name, p.apiserver, &pki);
    let files_owned = [
        write_private(&state.join("ca.crt"), &pki.ca_pem)?,
        write_private(&state.join("admin.crt"), &pki.cert_pem)?,
        write_private(&state.join("admin.key"), &pki.key_pem)?,
        write_private(&state.join("admin.pub"), &pki.public_pem)?,
        write_private(
            &state.join(format!("{}.kubeconfig", opts.name)),
            &kubeconfig_text,
        )?,
    ];
    let files = components::Files {
        state,
        ca: &files_owned[0],
        cert: &files_owned[1],
        key: &files_owned[2],
        public_key: &files_owned[3],
        kubeconfig: &files_owned[4],
    };
    // The servers' listeners go into a network namespace of this run; the API server's port is
    // the one door in. Without CAP_SYS_ADMIN they stay on the machine's loopback.
    let mut net = match netns::PrivateNet::create() {
        Ok(net) => {
            crate::progress::say(
                "sim: the servers listen in a network namespace of this run; only the API \
                 server's port is relayed to 127.0.0.1",
            );
            Some(net)
        }
        Err(netns::NetnsError::Unsupported(why)) => {
            crate::progress::say(format!("sim: {}", netns::NetnsError::Unsupported(why)));
            None
        }
        Err(e) => return Err(e.into()),
    };
    let mut launcher = Launcher {
        opts,
        bins,
        processes: Vec::new(),
        netns: net.as_ref().map(netns::PrivateNet::fd),
    };

    crate::progress::say(format!("sim: starting etcd on 127.0.0.1:{}", p.etcd_client));
    launcher.launch("etcd", components::etcd(&p, &files), &[], None)?;
    crate::progress::say(format!(
        "sim: starting kube-apiserver on 127.0.0.1:{}",
        p.apiserver
    ));
    launcher.launch(
        "kube-apiserver",
        components::kube_apiserver(&p, &files),
        &[],
        None,
    )?;
    if let Some(net) = net.as_mut() {
        net.expose(p.apiserver)?;
        if let Some(port) = opts.forward_to {
            net.reach_out(port)?;
        }
    }
    let origin = files.kubeconfig.display().to_string();
    let approved = guard::approve_local(&origin, &kubeconfig_text, &context(&opts.name))?;
    let context = approved.context().to_string();
    let client = approved.connect().await?;
    wait_for_apiserver(&mut launcher, &client, opts.timeout).await?;

    launcher.launch(
        "kube-controller-manager",
        components::kube_controller_manager(&files),
        &[],
        None,
    )?;
    launcher.launch(
        "kube-scheduler",
        components::kube_scheduler(&files),
        &[],
        None,
    )?;

    let replay = replay::write(&state.join("replay"), &bins.bin("replay"))?;
    // kwok runs `exec` commands as local processes: it may do so only inside a Landlock jail that
    // lets it execute nothing but the replay programs. The jail applies before kwok's own execve,
    // so it allows kwok too: a private copy, made non-executable as soon as kwok runs, so nothing
    // inside can start a second kwok. Without Landlock, kwok serves no exec at all.
    let kwok_copy = private_copy(&bins.bin("kwok"), &state.join("kwok"))?;
    let kwok_log = opts.logs_dir.join("kwok.log");
    let jail = match ExecJail::new(&[&kwok_copy, &replay.bin]) {
        Ok(j) => {
            let said = format!(
                "kwok runs in an exec jail ({}): it may execute only {}",
                crate::jail::describe(j.status),
                replay.bin.display()
            );
            note_in_log(&kwok_log, &said)?;
            crate::progress::say(format!("sim: {said}"));
            Some(Arc::new(j))
        }
        Err(JailError::Unsupported(why)) => {
            let said = format!(
                "kwok serves no exec: {why} (data-plane claims are not applicable on sim anyway)"
            );
            note_in_log(&kwok_log, &said)?;
            crate::progress::say(format!("sim: {said}"));
            None
        }
        Err(e) => return Err(e.into()),
    };
    let resources = write_private(
        &state.join("kwok-resources.yaml"),
        &replay::kwok_resources(&replay, jail.is_some(), opts.forward_to),
    )?;
    let stages: Vec<PathBuf> = STAGES
        .iter()
        .map(|s| bins.dir.join("kwok-stages").join(s))
        .collect();
    let mut configs: Vec<&Path> = stages.iter().map(PathBuf::as_path).collect();
    configs.push(&resources);
    let exec_served = jail.is_some();
    launcher.launch_from(
        "kwok",
        &kwok_copy,
        components::kwok(&p, &files, &configs),
        &[("PATH".into(), replay.bin.display().to_string())],
        jail,
    )?;
    // Spawning returned after kwok's execve: from now on nobody executes this copy again.
    set_mode(&kwok_copy, 0o600)?;

    for (i, node) in opts.node_names.iter().enumerate() {
        nodes::create(&client, node, i == 0).await?;
    }
    let kubeconfig_path = files.kubeconfig.to_path_buf();
    let cluster = Cluster {
        name: opts.name.clone(),
        kubeconfig_path,
        context,
        client,
        node_names: opts.node_names.clone(),
    };
    let nodes = nodes_ready(&cluster.client, opts.node_names.len(), opts.timeout).await;
    if let Err(e) = nodes {
        let exited: Vec<String> = launcher
            .processes
            .iter_mut()
            .filter_map(|p| {
                p.exited()
                    .map(|st| format!("{} ({st}) log {}", p.name, p.log.display()))
            })
            .collect();
        let log = opts.logs_dir.join("kwok.log");
        return Err(SimError::NotReady {
            component: "nodes (kwok)".into(),
            reason: format!("{e}; exited: {exited:?}"),
            log: log.display().to_string(),
            tail: tail(&std::fs::read_to_string(&log).unwrap_or_default(), 15),
        });
    }
    crate::progress::say(format!("sim: {} nodes Ready", opts.node_names.len()));
    Ok(SimCluster {
        cluster,
        state_dir: state.clone(),
        istiod: std::sync::Mutex::new(None),
        istiod_starting: tokio::sync::Mutex::new(()),
        processes: launcher.processes,
        exec_served,
        logs_dir: opts.logs_dir.clone(),
        timeout: opts.timeout,
        net,
        _name: name_lock,
    })
}

/// Waits until kube-apiserver answers; stops at once when a component exited.
async fn wait_for_apiserver(
    launcher: &mut Launcher<'_>,
    client: &super::GuardedClient,
    timeout: Duration,
) -> Result<(), SimError> {
    let kube = client.client();
    let exited = std::sync::Mutex::new(None);
    let result = until("kube-apiserver to answer", timeout, || {
        let kube = kube.clone();
        let gone = launcher.exited();
        let hopeless = gone.is_some();
        if gone.is_some() {
            *exited.lock().unwrap_or_else(|e| e.into_inner()) = gone;
        }
        async move {
            if hopeless {
                return Probe::Hopeless("a component exited".into());
            }
            match kube.apiserver_version().await {
                Ok(v) => Probe::Ready(v),
                Err(e) => Probe::NotYet(e.to_string()),
            }
        }
    })
    .await;
    let log_tail = |log: &Path| tail(&std::fs::read_to_string(log).unwrap_or_default(), 15);
    let exited = exited.into_inner().unwrap_or_else(|e| e.into_inner());
    match (result, exited) {
        (Ok(v), _) => {
            crate::progress::say(format!("sim: kube-apiserver {} answers", v.git_version));
            Ok(())
        }
        (Err(_), Some((component, status, log))) => Err(SimError::Exited {
            component,
            status,
            log: log.display().to_string(),
            tail: log_tail(&log),
        }),
        (Err(e), None) => {
            let log = launcher.opts.logs_dir.join("kube-apiserver.log");
            Err(SimError::NotReady {
                component: "kube-apiserver".into(),
                reason: e.to_string(),
                log: log.display().to_string(),
                tail: log_tail(&log),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_binaries_say_how_to_build_them() {
        let dir = tempfile::tempdir().unwrap();
        let err = SimBinaries::locate(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains(
                "/etcd is missing: build the sim binaries with `bash fixtures/sim/build.sh`"
            ),
            "{err}"
        );
    }
}
