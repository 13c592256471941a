//! The command lines of the control-plane components. Flags follow kwokctl's binary runtime
//! (kubernetes-sigs/kwok pkg/kwokctl/components) and controller-runtime's envtest; see the shared
//! notes `sim-cluster.md`.

use std::path::Path;

use super::Ports;

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// Where a cluster keeps its private files.
pub struct Files<'a> {
    pub state: &'a Path,
    pub ca: &'a Path,
    pub cert: &'a Path,
    pub key: &'a Path,
    pub public_key: &'a Path,
    pub kubeconfig: &'a Path,
}

pub fn etcd(p: &Ports, f: &Files) -> Vec<String> {
    let client = format!("http://127.0.0.1:{}", p.etcd_client);
    let peer = format!("http://127.0.0.1:{}", p.etcd_peer);
    vec![
        "--name=node0".into(),
        format!("--data-dir={}", s(&f.state.join("etcd"))),
        format!("--listen-client-urls={client}"),
        format!("--advertise-client-urls={client}"),
        format!("--listen-peer-urls={peer}"),
        format!("--initial-advertise-peer-urls={peer}"),
        format!("--initial-cluster=node0={peer}"),
        "--unsafe-no-fsync=true".into(),
        "--auto-compaction-retention=1".into(),
        "--quota-backend-bytes=8589934592".into(),
    ]
}

pub fn kube_apiserver(p: &Ports, f: &Files) -> Vec<String> {
    vec![
        format!("--etcd-servers=http://127.0.0.1:{}", p.etcd_client),
        "--etcd-prefix=/registry".into(),
        "--bind-address=127.0.0.1".into(),
        "--advertise-address=127.0.0.1".into(),
        format!("--secure-port={}", p.apiserver),
        format!("--cert-dir={}", s(&f.state.join("apiserver-certs"))),
        format!("--tls-cert-file={}", s(f.cert)),
        format!("--tls-private-key-file={}", s(f.key)),
        format!("--client-ca-file={}", s(f.ca)),
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local".into(),
        format!("--service-account-key-file={}", s(f.public_key)),
        format!("--service-account-signing-key-file={}", s(f.key)),
        "--service-cluster-ip-range=10.96.0.0/16".into(),
        "--authorization-mode=Node,RBAC".into(),
        "--allow-privileged=true".into(),
        // Nothing answers at a Service's address: webhooks could only time out.
        "--disable-admission-plugins=MutatingAdmissionWebhook,ValidatingAdmissionWebhook".into(),
        // The lease reconciler refuses a loopback advertise address (kwokctl does the same).
        "--endpoint-reconciler-type=none".into(),
    ]
}

/// Flags of a component that serves on its own secure port and talks to the API server.
fn served(port: u16, f: &Files) -> Vec<String> {
    let kc = s(f.kubeconfig);
    vec![
        format!("--kubeconfig={kc}"),
        format!("--authentication-kubeconfig={kc}"),
        format!("--authorization-kubeconfig={kc}"),
        "--bind-address=127.0.0.1".into(),
        format!("--secure-port={port}"),
        "--leader-elect=false".into(),
    ]
}

pub fn kube_controller_manager(p: &Ports, f: &Files) -> Vec<String> {
    let mut args = served(p.controller_manager, f);
    args.extend([
        format!("--cert-dir={}", s(&f.state.join("kcm-certs"))),
        format!("--service-account-private-key-file={}", s(f.key)),
        format!("--root-ca-file={}", s(f.ca)),
        "--use-service-account-credentials=false".into(),
    ]);
    args
}

pub fn kube_scheduler(p: &Ports, f: &Files) -> Vec<String> {
    let mut args = served(p.scheduler, f);
    args.push(format!(
        "--cert-dir={}",
        s(&f.state.join("scheduler-certs"))
    ));
    args
}

/// kwok: manages every node, serves the kubelet API on its port, with the module's stages and
/// the replay resources as configuration files.
pub fn kwok(p: &Ports, f: &Files, configs: &[&Path]) -> Vec<String> {
    let mut args = vec![
        format!("--kubeconfig={}", s(f.kubeconfig)),
        "--manage-all-nodes=true".into(),
        "--cidr=10.244.0.0/16".into(),
        "--node-ip=127.0.0.1".into(),
        // The API server reaches kwok's kubelet API through the node's Hostname address.
        "--node-name=localhost".into(),
        format!("--node-port={}", p.kwok),
        format!("--server-address=127.0.0.1:{}", p.kwok),
        // Without leases the node-lifecycle controller finds every node silent after its grace
        // period (40 s) and marks every pod NotReady; kwok renews a lease per node only when
        // given a duration (its defaults apply to a KwokConfiguration file, not to flags).
        "--node-lease-duration-seconds=40".into(),
    ];
    for c in configs {
        args.push("-c".into());
        args.push(s(c));
    }
    args
}
