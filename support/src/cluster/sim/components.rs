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

/// etcd serves only TLS and only to clients with a certificate of the sim's CA (kube-apiserver),
/// on its client and its peer port alike; no separate metrics listener (`--listen-metrics-urls`
/// unset: `/metrics` and `/health` are on the client port, behind the same certificate check),
/// no pprof.
pub fn etcd(p: &Ports, f: &Files) -> Vec<String> {
    let client = format!("https://127.0.0.1:{}", p.etcd_client);
    let peer = format!("https://127.0.0.1:{}", p.etcd_peer);
    let (cert, key, ca) = (s(f.cert), s(f.key), s(f.ca));
    vec![
        "--name=node0".into(),
        format!("--data-dir={}", s(&f.state.join("etcd"))),
        format!("--listen-client-urls={client}"),
        format!("--advertise-client-urls={client}"),
        format!("--cert-file={cert}"),
        format!("--key-file={key}"),
        "--client-cert-auth=true".into(),
        format!("--trusted-ca-file={ca}"),
        format!("--listen-peer-urls={peer}"),
        format!("--initial-advertise-peer-urls={peer}"),
        format!("--initial-cluster=node0={peer}"),
        format!("--peer-cert-file={cert}"),
        format!("--peer-key-file={key}"),
        "--peer-client-cert-auth=true".into(),
        format!("--peer-trusted-ca-file={ca}"),
        "--enable-pprof=false".into(),
        "--unsafe-no-fsync=true".into(),
        "--auto-compaction-retention=1".into(),
        "--quota-backend-bytes=8589934592".into(),
    ]
}

pub fn kube_apiserver(p: &Ports, f: &Files) -> Vec<String> {
    vec![
        format!("--etcd-servers=https://127.0.0.1:{}", p.etcd_client),
        format!("--etcd-cafile={}", s(f.ca)),
        format!("--etcd-certfile={}", s(f.cert)),
        format!("--etcd-keyfile={}", s(f.key)),
        "--etcd-prefix=/registry".into(),
        "--bind-address=127.0.0.1".into(),
        "--advertise-address=127.0.0.1".into(),
        format!("--secure-port={}", p.apiserver),
        format!("--cert-dir={}", s(&f.state.join("apiserver-certs"))),
        format!("--tls-cert-file={}", s(f.cert)),
        format!("--tls-private-key-file={}", s(f.key)),
        format!("--client-ca-file={}", s(f.ca)),
        // Not even /version, /healthz or discovery without a credential.
        "--anonymous-auth=false".into(),
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

/// Flags of a component that talks to the API server and serves nothing: its secure port (health
/// and metrics, which nothing of the suite reads) is off (`--secure-port=0`, "don't serve HTTPS
/// at all", k8s.io/apiserver SecureServingOptions).
fn client_only(f: &Files) -> Vec<String> {
    vec![
        format!("--kubeconfig={}", s(f.kubeconfig)),
        "--secure-port=0".into(),
        "--leader-elect=false".into(),
    ]
}

pub fn kube_controller_manager(f: &Files) -> Vec<String> {
    let mut args = client_only(f);
    args.extend([
        format!("--service-account-private-key-file={}", s(f.key)),
        format!("--root-ca-file={}", s(f.ca)),
        "--use-service-account-credentials=false".into(),
    ]);
    args
}

pub fn kube_scheduler(f: &Files) -> Vec<String> {
    client_only(f)
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
