//! The `sim` provider: a real control plane without docker. etcd, kube-apiserver,
//! kube-controller-manager and kube-scheduler run as local processes on loopback ports chosen at
//! run time, kwok plays the kubelet of three nodes named like the kind cluster's (pods go Running,
//! logs/exec/port-forward are served from local files and programs). Built from Go modules by
//! `fixtures/sim/build.sh`.
//!
//! What it proves: everything the suite does through the API (server-side apply of the release's
//! manifests, `istioctl install` and its waits, DaemonSets scheduling one pod per node through the
//! real controllers, labels, the context guard, exec/logs/port-forward through kube-rs's protocol
//! code). What it cannot: images, networking, ztunnel, istio-cni, traffic. Admission webhooks are
//! off (nothing answers at the Services' addresses), as in kwok's own tooling.
//!
//! Flags follow kwokctl's binary runtime (kubernetes-sigs/kwok pkg/kwokctl/components) and
//! controller-runtime's envtest; see shared notes `sim-cluster.md`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::api::core::v1::Node;
use kube::Api;
use kube::api::{Patch, PatchParams};

use super::guard::{self, GuardError};
use super::{Cluster, ClusterError};
use crate::k8s::wait::{Probe, WaitError, nodes_ready, until};
use crate::process::{Owned, ProcessError, spawn_owned, tail};

/// Binaries `fixtures/sim/build.sh` puts in `target/sim/bin`.
pub const BINARIES: &[&str] = &[
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kwok",
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
    #[error("creating node {node}: {reason}")]
    Node { node: String, reason: String },
}

impl From<SimError> for ClusterError {
    fn from(e: SimError) -> Self {
        ClusterError::Config {
            path: "sim".into(),
            reason: e.to_string(),
        }
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SimError + '_ {
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
        for b in BINARIES {
            let p = dir.join(b);
            if !p.is_file() {
                return Err(SimError::MissingBinary {
                    path: p.display().to_string(),
                });
            }
        }
        for s in STAGES {
            let p = dir.join("kwok-stages").join(s);
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

    fn bin(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// Loopback ports of the components.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    pub etcd_client: u16,
    pub etcd_peer: u16,
    pub apiserver: u16,
    pub controller_manager: u16,
    pub scheduler: u16,
    pub kwok: u16,
}

impl Ports {
    /// Ports free right now (the OS picks them).
    pub fn free() -> Result<Self, SimError> {
        let mut held = Vec::new();
        let mut next = || -> Result<u16, SimError> {
            let l = TcpListener::bind("127.0.0.1:0").map_err(io(Path::new("127.0.0.1:0")))?;
            let port = l.local_addr().map_err(io(Path::new("127.0.0.1:0")))?.port();
            held.push(l); // keep it bound until all are chosen, so no two are the same
            Ok(port)
        };
        Ok(Ports {
            etcd_client: next()?,
            etcd_peer: next()?,
            apiserver: next()?,
            controller_manager: next()?,
            scheduler: next()?,
            kwok: next()?,
        })
    }

    fn check_free(&self) -> Result<(), SimError> {
        let named = [
            ("etcd", self.etcd_client),
            ("etcd peer", self.etcd_peer),
            ("kube-apiserver", self.apiserver),
            ("kube-controller-manager", self.controller_manager),
            ("kube-scheduler", self.scheduler),
            ("kwok", self.kwok),
        ];
        for (component, port) in named {
            if TcpListener::bind(("127.0.0.1", port)).is_err() {
                return Err(SimError::PortInUse {
                    component: component.into(),
                    port,
                });
            }
        }
        Ok(())
    }
}

/// How to start a sim cluster.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Cluster name: the kube context is `sim-<name>`.
    pub name: String,
    /// State (etcd data, certificates, logs, kubeconfig), wiped at start.
    pub dir: PathBuf,
    pub node_names: Vec<String>,
    pub ports: Ports,
    /// Bound on each readiness wait.
    pub timeout: Duration,
    /// Extra kwok resources (ClusterLogs, ClusterExec, ClusterPortForward), YAML.
    pub kwok_config: Option<String>,
    /// Environment for kwok itself. kwok runs `exec` commands as local processes looked up on its
    /// own PATH: the suite sets PATH to a directory holding only its replay program.
    pub kwok_env: Vec<(String, String)>,
}

/// A running sim cluster; every process stops when this is dropped.
pub struct SimCluster {
    pub cluster: Cluster,
    pub dir: PathBuf,
    pub processes: Vec<Owned>,
}

impl SimCluster {
    /// Pids of the running components, for diagnostics and tests.
    pub fn pids(&self) -> Vec<(String, u32)> {
        self.processes
            .iter()
            .map(|p| (p.name.clone(), p.pid()))
            .collect()
    }
}

/// The context name of a sim cluster.
pub fn context(name: &str) -> String {
    format!("sim-{name}")
}

struct Pki {
    ca_pem: String,
    cert_pem: String,
    key_pem: String,
    /// The admin key's public half: kube-apiserver reads service-account verification keys from
    /// public keys or PKCS#1/SEC1 keys, not from the PKCS#8 file rcgen writes.
    public_pem: String,
}

/// One CA and one admin certificate (CN admin, O system:masters) that serves TLS, authenticates
/// clients and signs service-account tokens: kwokctl's minimal PKI (pkg/kwokctl/pki/pki.go).
fn pki() -> Result<Pki, SimError> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
        KeyPair, KeyUsagePurpose,
    };
    let e = |e: rcgen::Error| SimError::Pki(e.to_string());
    let ca_key = KeyPair::generate().map_err(e)?;
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(e)?;
    ca.distinguished_name
        .push(DnType::CommonName, "ambient-sim-ca");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key).map_err(e)?;
    let sans: Vec<String> = [
        "127.0.0.1",
        "::1",
        "localhost",
        "10.96.0.1",
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
    ]
    .map(String::from)
    .into();
    let key = KeyPair::generate().map_err(e)?;
    let mut admin = CertificateParams::new(sans).map_err(e)?;
    admin.distinguished_name.push(DnType::CommonName, "admin");
    admin
        .distinguished_name
        .push(DnType::OrganizationName, "system:masters");
    admin.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    admin.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    let issuer = Issuer::new(ca, &ca_key);
    let cert = admin.signed_by(&key, &issuer).map_err(e)?;
    Ok(Pki {
        ca_pem: ca_cert.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        public_pem: key.public_key_pem(),
    })
}

fn b64(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn kubeconfig(name: &str, port: u16, pki: &Pki) -> String {
    let ctx = context(name);
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: {ctx}\n  cluster:\n    server: https://127.0.0.1:{port}\n    certificate-authority-data: {}\ncontexts:\n- name: {ctx}\n  context:\n    cluster: {ctx}\n    user: {ctx}\ncurrent-context: {ctx}\nusers:\n- name: {ctx}\n  user:\n    client-certificate-data: {}\n    client-key-data: {}\n",
        b64(&pki.ca_pem),
        b64(&pki.cert_pem),
        b64(&pki.key_pem)
    )
}

/// Kills what a previous run left behind (a test process killed with SIGKILL cannot clean up;
/// PR_SET_PDEATHSIG normally takes the components with it, this is the second line of defence).
pub fn reap_leftovers(dir: &Path, bins: &SimBinaries) -> Vec<u32> {
    let Ok(text) = std::fs::read_to_string(dir.join("pids")) else {
        return Vec::new();
    };
    let mut reaped = Vec::new();
    for pid in text.lines().filter_map(|l| l.trim().parse::<u32>().ok()) {
        let ours = std::fs::read_link(format!("/proc/{pid}/exe"))
            .is_ok_and(|exe| exe.starts_with(&bins.dir));
        if ours {
            // SAFETY: kill(2) on a pid whose executable is one of our sim binaries.
            unsafe {
                libc::kill(pid as i32, libc::SIGKILL);
            }
            reaped.push(pid);
        }
    }
    reaped
}

/// Starts the control plane, creates the nodes, and waits until they are Ready.
pub async fn start(opts: &SimOptions, bins: &SimBinaries) -> Result<SimCluster, SimError> {
    let dir = &opts.dir;
    reap_leftovers(dir, bins);
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(io(dir))?;
    }
    std::fs::create_dir_all(dir.join("logs")).map_err(io(dir))?;
    opts.ports.check_free()?;
    let p = opts.ports;
    let pki = pki()?;
    let write = |name: &str, text: &str| -> Result<PathBuf, SimError> {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(io(&path))?;
        Ok(path)
    };
    let ca = write("ca.crt", &pki.ca_pem)?;
    let crt = write("admin.crt", &pki.cert_pem)?;
    let key = write("admin.key", &pki.key_pem)?;
    let public = write("admin.pub", &pki.public_pem)?;
    let kubeconfig_text = kubeconfig(&opts.name, p.apiserver, &pki);
    let kubeconfig_path = write(&format!("{}.kubeconfig", opts.name), &kubeconfig_text)?;
    let s = |p: &Path| p.display().to_string();
    let mut processes: Vec<Owned> = Vec::new();
    let launch = |processes: &mut Vec<Owned>,
                  name: &str,
                  args: Vec<String>,
                  env: &[(String, String)]|
     -> Result<(), SimError> {
        let log = dir.join("logs").join(format!("{name}.log"));
        let owned = spawn_owned(name, &bins.bin(name), &args, env, &log)?;
        processes.push(owned);
        let pids: String = processes.iter().map(|p| format!("{}\n", p.pid())).collect();
        std::fs::write(dir.join("pids"), pids).map_err(io(dir))
    };

    crate::progress::say(format!("sim: starting etcd on 127.0.0.1:{}", p.etcd_client));
    let etcd_client = format!("http://127.0.0.1:{}", p.etcd_client);
    let etcd_peer = format!("http://127.0.0.1:{}", p.etcd_peer);
    launch(
        &mut processes,
        "etcd",
        vec![
            "--name=node0".into(),
            format!("--data-dir={}", s(&dir.join("etcd"))),
            format!("--listen-client-urls={etcd_client}"),
            format!("--advertise-client-urls={etcd_client}"),
            format!("--listen-peer-urls={etcd_peer}"),
            format!("--initial-advertise-peer-urls={etcd_peer}"),
            format!("--initial-cluster=node0={etcd_peer}"),
            "--unsafe-no-fsync=true".into(),
            "--auto-compaction-retention=1".into(),
            "--quota-backend-bytes=8589934592".into(),
        ],
        &[],
    )?;

    crate::progress::say(format!(
        "sim: starting kube-apiserver on 127.0.0.1:{}",
        p.apiserver
    ));
    launch(
        &mut processes,
        "kube-apiserver",
        vec![
            format!("--etcd-servers={etcd_client}"),
            "--etcd-prefix=/registry".into(),
            "--bind-address=127.0.0.1".into(),
            "--advertise-address=127.0.0.1".into(),
            format!("--secure-port={}", p.apiserver),
            format!("--cert-dir={}", s(&dir.join("apiserver-certs"))),
            format!("--tls-cert-file={}", s(&crt)),
            format!("--tls-private-key-file={}", s(&key)),
            format!("--client-ca-file={}", s(&ca)),
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local".into(),
            format!("--service-account-key-file={}", s(&public)),
            format!("--service-account-signing-key-file={}", s(&key)),
            "--service-cluster-ip-range=10.96.0.0/16".into(),
            "--authorization-mode=Node,RBAC".into(),
            "--allow-privileged=true".into(),
            // Nothing answers at a Service's address: webhooks could only time out.
            "--disable-admission-plugins=MutatingAdmissionWebhook,ValidatingAdmissionWebhook"
                .into(),
            // The lease reconciler refuses a loopback advertise address (kwokctl does the same).
            "--endpoint-reconciler-type=none".into(),
        ],
        &[],
    )?;
    let approved = guard::approve_sim(&kubeconfig_text, &opts.name)?;
    let context = approved.context().to_string();
    let client = approved.connect().await?;
    {
        let kube = client.client();
        let processes = &mut processes;
        let result = until("kube-apiserver to answer", opts.timeout, || {
            let kube = kube.clone();
            let exited: Option<(String, String, PathBuf)> = processes
                .iter_mut()
                .find_map(|p| p.exited().map(|st| (p.name.clone(), st, p.log.clone())));
            async move {
                if let Some((component, status, log)) = exited {
                    return Probe::Hopeless(format!("{component}|{status}|{}", log.display()));
                }
                match kube.apiserver_version().await {
                    Ok(v) => Probe::Ready(v),
                    Err(e) => Probe::NotYet(e.to_string()),
                }
            }
        })
        .await;
        match result {
            Ok(v) => crate::progress::say(format!("sim: kube-apiserver {} answers", v.git_version)),
            Err(WaitError::Hopeless { reason, .. }) => {
                let mut parts = reason.splitn(3, '|');
                let (component, status, log) = (
                    parts.next().unwrap_or_default(),
                    parts.next().unwrap_or_default(),
                    parts.next().unwrap_or_default(),
                );
                let text = std::fs::read_to_string(log).unwrap_or_default();
                return Err(SimError::Exited {
                    component: component.into(),
                    status: status.into(),
                    log: log.into(),
                    tail: tail(&text, 15),
                });
            }
            Err(e) => {
                let log = dir.join("logs/kube-apiserver.log");
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                return Err(SimError::NotReady {
                    component: "kube-apiserver".into(),
                    reason: e.to_string(),
                    log: s(&log),
                    tail: tail(&text, 15),
                });
            }
        }
    }

    let kc = s(&kubeconfig_path);
    let served = |port: u16| -> Vec<String> {
        vec![
            format!("--kubeconfig={kc}"),
            format!("--authentication-kubeconfig={kc}"),
            format!("--authorization-kubeconfig={kc}"),
            "--bind-address=127.0.0.1".into(),
            format!("--secure-port={port}"),
            "--leader-elect=false".into(),
        ]
    };
    let mut kcm = served(p.controller_manager);
    kcm.extend([
        format!("--cert-dir={}", s(&dir.join("kcm-certs"))),
        format!("--service-account-private-key-file={}", s(&key)),
        format!("--root-ca-file={}", s(&ca)),
        "--use-service-account-credentials=false".into(),
    ]);
    launch(&mut processes, "kube-controller-manager", kcm, &[])?;
    let mut scheduler = served(p.scheduler);
    scheduler.push(format!("--cert-dir={}", s(&dir.join("scheduler-certs"))));
    launch(&mut processes, "kube-scheduler", scheduler, &[])?;

    let mut kwok = vec![
        format!("--kubeconfig={kc}"),
        "--manage-all-nodes=true".into(),
        "--cidr=10.244.0.0/16".into(),
        "--node-ip=127.0.0.1".into(),
        // The API server reaches kwok's kubelet API through the node's Hostname address.
        "--node-name=localhost".into(),
        format!("--node-port={}", p.kwok),
        format!("--server-address=127.0.0.1:{}", p.kwok),
    ];
    for stage in STAGES {
        kwok.push("-c".into());
        kwok.push(s(&bins.dir.join("kwok-stages").join(stage)));
    }
    if let Some(extra) = &opts.kwok_config {
        let path = write("kwok-resources.yaml", extra)?;
        kwok.push("-c".into());
        kwok.push(s(&path));
    }
    launch(&mut processes, "kwok", kwok, &opts.kwok_env)?;

    for (i, node) in opts.node_names.iter().enumerate() {
        create_node(&client, node, i == 0).await?;
    }
    let cluster = Cluster {
        name: opts.name.clone(),
        kubeconfig_path,
        context,
        client,
        node_names: opts.node_names.clone(),
    };
    let nodes = nodes_ready(&cluster.client, opts.node_names.len(), opts.timeout).await;
    if let Err(e) = nodes {
        let exited: Vec<String> = processes
            .iter_mut()
            .filter_map(|p| {
                p.exited()
                    .map(|st| format!("{} ({st}) log {}", p.name, p.log.display()))
            })
            .collect();
        let log = dir.join("logs/kwok.log");
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        return Err(SimError::NotReady {
            component: "nodes (kwok)".into(),
            reason: format!("{e}; exited: {exited:?}"),
            log: s(&log),
            tail: tail(&text, 15),
        });
    }
    crate::progress::say(format!("sim: {} nodes Ready", opts.node_names.len()));
    Ok(SimCluster {
        cluster,
        dir: dir.clone(),
        processes,
    })
}

/// A Node named like kind's, with the labels Istio's DaemonSets select on
/// (`kubernetes.io/os=linux`) and kind's control-plane taint on the first.
async fn create_node(
    client: &super::GuardedClient,
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
            reason: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_alphabet() {
        assert_eq!(b64(""), "");
        assert_eq!(b64("f"), "Zg==");
        assert_eq!(b64("fo"), "Zm8=");
        assert_eq!(b64("foo"), "Zm9v");
        assert_eq!(b64("foobar"), "Zm9vYmFy");
    }

    #[test]
    fn certificates_are_generated() {
        let pki = pki().unwrap();
        assert!(pki.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(pki.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(pki.key_pem.contains("PRIVATE KEY"));
    }

    #[test]
    fn a_port_in_use_is_named() {
        let held = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut ports = Ports::free().unwrap();
        ports.scheduler = held.local_addr().unwrap().port();
        let err = ports.check_free().unwrap_err();
        assert!(
            err.to_string().contains("(wanted for kube-scheduler)"),
            "{err}"
        );
    }

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
