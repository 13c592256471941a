//! istiod (`pilot-discovery discovery`) as a local process against the sim cluster, so Istio's
//! control plane really acts on it: it reads the mesh config `istioctl install` wrote, creates
//! its GatewayClasses, turns a waypoint Gateway into a Deployment, Service and ServiceAccount and
//! writes the Gateway's status, attaches Services to waypoints, runs its CA (root Secret, the
//! `istio-ca-root-cert` ConfigMaps), and serves its debug endpoints (`/debug/ambientz`, ...).
//! Started after `istioctl install` (it needs the `istio` and `istio-sidecar-injector`
//! ConfigMaps and the CRDs the install creates; against an empty cluster it waits forever).
//!
//! How it runs (flags and environment mirror the chart's istiod Deployment): an argv vector, an
//! environment built from nothing (so a stray `KUBECONFIG` or `PILOT_*` of the user's shell never
//! reaches it), `--kubeconfig` and `KUBECONFIG` both the sim kubeconfig, `POD_NAME` (its
//! leader-election identity) unique per run, no `/debug/...` on its HTTP port
//! (`ENABLE_DEBUG_ON_HTTP=false`: istiod serves it to any loopback client without asking who),
//! every listener on 127.0.0.1, of the run's network namespace when there is one (the HTTP and webhook
//! ports chosen free and checked, gRPC, secure gRPC, monitoring and ControlZ on port 0, which the
//! kernel picks: a ControlZ port in use is not even fatal to istiod, it only logs), a fresh
//! private working directory (`./etc/istio/config/mesh` and `./etc/cacerts` absent there: it
//! watches the `istio` ConfigMap and generates its own CA; it writes nothing there), its log
//! beside the other components'. Like them it dies with the test process (PR_SET_PDEATHSIG) and
//! is recorded in the cluster's `pids` file for a later run to reap.
//!
//! Two decisions:
//! - **The kwok `istiod` pod stays.** The install's Deployment still creates it and kwok reports
//!   it Running and Ready: it is the placeholder `istioctl install`'s waits and the "istiod is
//!   available" claim see. It runs nothing and takes no lock; the local process is the one that
//!   acts. (Disabling the install's pilot component would also drop the mesh ConfigMap and the
//!   injector ConfigMap that holds the waypoint template.)
//! - **Admission webhooks stay off.** kube-apiserver runs without the webhook admission plugins
//!   (nothing answers at a Service's address on sim), and the webhook configurations the install
//!   writes keep pointing at the `istiod` Service. The tutorial needs neither injection (ambient)
//!   nor validation; pointing them at the local istiod would need URL client configs and
//!   `ISTIOD_CUSTOM_HOST`, and a stopped istiod would then block pod writes in labelled
//!   namespaces (the injector's failure policy is Fail). `VALIDATION_WEBHOOK_CONFIG_NAME` is set
//!   empty so istiod's validation controller does not retry "webhook is not ready" forever; it
//!   still patches the injector's caBundle, which changes nothing while the plugin is off.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::netns::PrivateNet;
use super::{SimError, io, ports};
use crate::k8s::wait::{Probe, until};
use crate::process::{Owned, OwnedSetup, spawn_owned_with, tail};

/// The component's name: in the `pids` file, in errors, and its log `istiod.log`.
pub const COMPONENT: &str = "istiod";
/// The namespace istiod serves (the install's).
pub const NAMESPACE: &str = "istio-system";

/// Where a release keeps pilot-discovery (`fixtures/sim/build.sh` builds it into
/// `target/sim/istio/bin`, beside istioctl).
pub fn binary(release_root: &Path) -> PathBuf {
    release_root.join("bin").join("pilot-discovery")
}

/// How to start istiod.
#[derive(Debug, Clone)]
pub struct IstiodOptions {
    pub binary: PathBuf,
    pub kubeconfig: PathBuf,
    /// `POD_NAME`: istiod's leader-election identity, unique per run.
    pub pod_name: String,
    /// Its working directory: created fresh (0700), wiped first.
    pub work_dir: PathBuf,
    pub log: PathBuf,
    /// `--httpAddr`: `/ready` and `/debug/...`.
    pub http_port: u16,
    /// `--httpsAddr`: the webhook server (unused while webhooks are off, but it always listens).
    pub https_port: u16,
    /// Bound on the readiness wait.
    pub timeout: Duration,
}

impl IstiodOptions {
    /// Options with two free ports chosen now.
    pub fn new(
        binary: PathBuf,
        kubeconfig: PathBuf,
        pod_name: String,
        work_dir: PathBuf,
        log: PathBuf,
        timeout: Duration,
    ) -> Result<Self, SimError> {
        let [http_port, https_port] = ports::free_ports()?;
        Ok(IstiodOptions {
            binary,
            kubeconfig,
            pod_name,
            work_dir,
            log,
            http_port,
            https_port,
            timeout,
        })
    }

    /// The command line after the program.
    pub fn args(&self) -> Vec<String> {
        vec![
            "discovery".into(),
            format!("--kubeconfig={}", self.kubeconfig.display()),
            format!("--httpAddr=127.0.0.1:{}", self.http_port),
            format!("--httpsAddr=127.0.0.1:{}", self.https_port),
            // Every listener defaults to every interface: each is set, and port 0 lets the
            // kernel choose where nobody reads the port back.
            "--grpcAddr=127.0.0.1:0".into(),
            "--secureGRPCAddr=127.0.0.1:0".into(),
            "--monitoringAddr=127.0.0.1:0".into(),
            "--ctrlz_port=0".into(),
            "--ctrlz_address=127.0.0.1".into(),
            "--domain=cluster.local".into(),
            "--keepaliveMaxServerConnectionAge=30m".into(),
            "--log_output_level=default:info".into(),
        ]
    }

    /// The whole environment (nothing is inherited).
    pub fn env(&self) -> Vec<(String, String)> {
        let kubeconfig = self.kubeconfig.display().to_string();
        let home = self.work_dir.display().to_string();
        [
            ("POD_NAMESPACE", NAMESPACE),
            ("POD_NAME", &self.pod_name),
            ("SERVICE_ACCOUNT", "istiod"),
            ("REVISION", "default"),
            ("CLUSTER_ID", "Kubernetes"),
            ("PILOT_CERT_PROVIDER", "istiod"),
            ("CA_TRUSTED_NODE_ACCOUNTS", "istio-system/ztunnel"),
            // Without it istiod creates no `istio-waypoint` class and ignores waypoints.
            ("PILOT_ENABLE_AMBIENT", "true"),
            ("PILOT_ENABLE_ANALYSIS", "false"),
            // Webhooks are off on sim: no validation controller waiting for one forever.
            ("VALIDATION_WEBHOOK_CONFIG_NAME", ""),
            // No /debug/... on the HTTP port: istiod serves it to any loopback client unasked
            // (pilot/pkg/xds/debug.go, allowAuthenticatedOrLocalhost), which on this machine is
            // any local user. Nothing of the suite reads it.
            ("ENABLE_DEBUG_ON_HTTP", "false"),
            // Never the user's kubeconfig, whatever the flag parsing does.
            ("KUBECONFIG", &kubeconfig),
            // Anything that looks in $HOME looks in the scratch directory.
            ("HOME", &home),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// The ports it will listen on that must be free, each with what it is for.
    fn named_ports(&self) -> [(&'static str, u16); 2] {
        [
            ("istiod --httpAddr (/ready, /debug)", self.http_port),
            ("istiod --httpsAddr (webhooks)", self.https_port),
        ]
    }
}

/// A running istiod; killed when dropped.
pub struct Istiod {
    process: Owned,
    /// Where `/ready` and `/debug/...` answer.
    pub http: SocketAddr,
    /// From the start to the first `/ready` 200.
    pub ready_in: Duration,
}

impl Istiod {
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    pub fn log(&self) -> &Path {
        &self.process.log
    }

    /// `Some(status)` if it has exited.
    pub fn exited(&mut self) -> Option<String> {
        self.process.exited()
    }

    pub(super) fn owned(&self) -> &Owned {
        &self.process
    }
}

/// Starts istiod and waits (bounded by `opts.timeout`) until `/ready` answers 200; stops at once,
/// with the log's tail, if it exits.
pub async fn start(opts: &IstiodOptions, net: Option<&PrivateNet>) -> Result<Istiod, SimError> {
    if !opts.binary.is_file() {
        return Err(SimError::MissingBinary {
            path: opts.binary.display().to_string(),
        });
    }
    ports::check_free(&opts.named_ports())?;
    let dir = &opts.work_dir;
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(io(dir))?;
    }
    crate::settings::create_dir(dir, true).map_err(io(dir))?;
    let env = opts.env();
    let started = Instant::now();
    let mut process = spawn_owned_with(
        COMPONENT,
        &opts.binary,
        &opts.args(),
        &opts.log,
        OwnedSetup {
            env: &env,
            clear_env: true,
            cwd: Some(dir),
            jail: None,
            netns: net.map(PrivateNet::fd),
        },
    )?;
    let http = SocketAddr::from(([127, 0, 0, 1], opts.http_port));
    let mut exited = None;
    let what = format!("istiod to answer 200 on http://{http}/ready");
    let ready = until(&what, opts.timeout, || {
        let gone = process.exited();
        let hopeless = gone.is_some();
        if gone.is_some() {
            exited = gone;
        }
        // A local request: it answers or is refused within milliseconds.
        let status = (!hopeless).then(|| http_status(net, http, "/ready"));
        async move {
            match status {
                None => Probe::Hopeless("istiod exited".into()),
                Some(Ok(200)) => Probe::Ready(()),
                Some(Ok(code)) => Probe::NotYet(format!("HTTP {code}")),
                Some(Err(e)) => Probe::NotYet(crate::errors::chain(&e)),
            }
        }
    })
    .await;
    let log_tail = || tail(&std::fs::read_to_string(&opts.log).unwrap_or_default(), 15);
    match (ready, exited) {
        (Ok(()), _) => Ok(Istiod {
            process,
            http,
            ready_in: started.elapsed(),
        }),
        (Err(_), Some(status)) => Err(SimError::Exited {
            component: COMPONENT.into(),
            status,
            log: opts.log.display().to_string(),
            tail: log_tail(),
        }),
        // Dropping the process on the way out kills it.
        (Err(e), None) => Err(SimError::NotReady {
            component: COMPONENT.into(),
            reason: e.to_string(),
            log: opts.log.display().to_string(),
            tail: log_tail(),
        }),
    }
}

/// The status of `GET http://<addr><path>` where istiod listens: inside `net` if given, else on
/// the machine's loopback.
pub fn http_status(
    net: Option<&PrivateNet>,
    addr: SocketAddr,
    path: &str,
) -> Result<u16, SimError> {
    let asked = |source| SimError::Io {
        path: format!("http://{addr}{path}"),
        source,
    };
    match net {
        Some(net) => net.http_status(addr, path).map_err(asked),
        None => PrivateNet::http_status_here(addr, path).map_err(asked),
    }
}

/// The lines of an istiod log that report trouble with the cluster connection: level `error` or
/// `fatal` (Istio's format: `<time>\t<level>\t[<scope>\t]<message>`, or cobra's `Error: ...` when
/// it exits), and about reaching or using the API server: a failed list or watch, a dial, TLS or
/// credentials failure, the kube client or kubeconfig, a timeout talking to it.
///
/// Not counted, because they are not about the connection and a healthy run writes them:
/// - `watch error in cluster <id>: failed to list *v1.GRPCRoute: the server could not find the
///   requested resource (get grpcroutes.gateway.networking.k8s.io)`: istiod starts an informer
///   for a Gateway API kind the moment its CRD appears, and the API server answers 404 until the
///   CRD is established (about once per CRD right after the CRDs are applied). Only that exact
///   message for the `gateway.networking.k8s.io` group is excused;
/// - `error handling default/<gateway>, retrying (retry count: 1): apply failed: ... Operation
///   cannot be fulfilled on deployments.apps "<name>": the object has been modified`: an
///   optimistic-concurrency conflict (HTTP 409) while creating a waypoint Deployment, retried at
///   once (about once per waypoint). It matches none of the connection patterns.
pub fn connection_errors(log: &str) -> Vec<&str> {
    use std::sync::LazyLock;
    static CONNECTION: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(
            r"(?i)failed to (?:list|watch)|watch error|connection refused|connection reset|dial tcp|i/o timeout|no route to host|tls handshake|x509|certificate|unauthorized|forbidden|provide credentials|deadline exceeded|client\.timeout|kube client|kube config|kubeconfig|api ?server|http2: client connection lost|unexpected eof|broken pipe|leader ?election lost|error retrieving resource lock",
        )
        .expect("valid regex")
    });
    static CRD_NOT_YET_SERVED: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(
            r"^watch error in cluster [^:\s]+: failed to list \*v1(?:alpha\d|beta\d)?\.[A-Za-z]+: the server could not find the requested resource \(get [a-z]+\.gateway\.networking\.k8s\.io\)$",
        )
        .expect("valid regex")
    });
    log.lines()
        .filter(|line| {
            let Some(message) = error_message(line) else {
                return false;
            };
            CONNECTION.is_match(message) && !CRD_NOT_YET_SERVED.is_match(message)
        })
        .collect()
}

/// The message of an error-level line (without time, level, scope and trailing `key=value`
/// fields), or `None` for any other line.
fn error_message(line: &str) -> Option<&str> {
    if let Some(rest) = line.strip_prefix("Error: ") {
        return Some(rest); // cobra, as istiod exits
    }
    let mut fields = line.split('\t');
    let _time = fields.next()?;
    let level = fields.next()?;
    if level != "error" && level != "fatal" {
        return None;
    }
    // The scope, if any, is one bare word before the message.
    let first = fields.next()?;
    let is_scope = !first.is_empty()
        && first
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    let message = if is_scope {
        fields.next().unwrap_or(first)
    } else {
        first
    };
    Some(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The recorded lines whose `# source:` contains `group`.
    fn group(group: &str) -> Vec<String> {
        let lines: Vec<String> = crate::fixtures::recorded_lines("istiod-1.31-dev.log")
            .unwrap()
            .into_iter()
            .filter(|l| l.source.contains(group))
            .map(|l| l.text)
            .collect();
        assert!(!lines.is_empty(), "no recorded lines for {group:?}");
        lines
    }

    fn counted(lines: &[String]) -> Vec<String> {
        connection_errors(&lines.join("\n"))
            .into_iter()
            .map(String::from)
            .collect()
    }

    #[test]
    fn a_healthy_runs_error_lines_are_not_connection_errors() {
        let healthy = group("healthy run");
        // The near misses are there: a failed list of a CRD not yet served, a conflict.
        let crd = "failed to list *v1.GRPCRoute: the server could not find the requested resource";
        assert!(healthy.iter().any(|l| l.contains(crd)));
        assert!(
            healthy
                .iter()
                .any(|l| l.contains("the object has been modified"))
        );
        assert_eq!(counted(&healthy), Vec::<String>::new());
        let old_validation = group("without VALIDATION_WEBHOOK_CONFIG_NAME");
        assert_eq!(counted(&old_validation), Vec::<String>::new());
    }

    #[test]
    fn a_lost_api_server_is_counted_and_its_aftermath_at_info_level_is_not() {
        let lost = group("kube-apiserver was stopped");
        let expected: Vec<String> = lost
            .iter()
            .filter(|l| l.contains("\terror\tklog\terror retrieving resource lock"))
            .cloned()
            .collect();
        assert_eq!(expected.len(), 4);
        assert!(
            expected
                .iter()
                .any(|l| l.ends_with("connect: connection refused"))
        );
        assert_eq!(counted(&lost), expected);
    }

    #[test]
    fn a_kube_client_that_cannot_start_is_counted_and_a_port_in_use_is_not() {
        let failures = group("research runs");
        let found = counted(&failures);
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(
            found
                .iter()
                .all(|l| l.contains("error initializing kube client")),
            "{found:#?}"
        );
    }

    #[test]
    fn only_the_exact_crd_not_yet_served_line_is_excused() {
        let real = "2026-11-26T00:41:58.127059Z\terror\twatch error in cluster Kubernetes: failed to list *v1.GRPCRoute: the server could not find the requested resource (get grpcroutes.gateway.networking.k8s.io)";
        assert!(connection_errors(real).is_empty());
        let near_misses = [
            // A core resource, not a Gateway API CRD.
            real.replace("*v1.GRPCRoute", "*v1.ConfigMap")
                .replace("grpcroutes.gateway.networking.k8s.io", "configmaps"),
            // The same list, failing on the connection.
            real.replace(
                "the server could not find the requested resource (get grpcroutes.gateway.networking.k8s.io)",
                "Get \"https://127.0.0.1:33057/apis/gateway.networking.k8s.io/v1/grpcroutes\": dial tcp 127.0.0.1:33057: connect: connection refused",
            ),
            // Something after the excused message.
            format!("{real}: unexpected EOF"),
            // Fatal, with a scope.
            real.replace("\terror\t", "\tfatal\tkube\t")
                .replace("*v1.GRPCRoute", "*v1.Pod")
                .replace("grpcroutes.gateway.networking.k8s.io", "pods"),
        ];
        for line in &near_misses {
            assert_eq!(connection_errors(line), [line.as_str()], "{line}");
        }
        // The same words below error level are not counted.
        let info = real
            .replace("\terror\t", "\tinfo\t")
            .replace("*v1.GRPCRoute", "*v1.Pod");
        assert!(connection_errors(&info).is_empty());
    }

    #[test]
    fn every_listener_is_on_loopback_and_nothing_is_inherited() {
        let opts = IstiodOptions {
            binary: "/r/bin/pilot-discovery".into(),
            kubeconfig: "/state/sim-x/x.kubeconfig".into(),
            pod_name: "istiod-local-x-1".into(),
            work_dir: "/state/sim-x/istiod".into(),
            log: "/artifacts/sim-x/logs/istiod.log".into(),
            http_port: 1001,
            https_port: 1002,
            timeout: Duration::from_secs(1),
        };
        let args = opts.args();
        for flag in [
            "--httpAddr=",
            "--httpsAddr=",
            "--grpcAddr=",
            "--secureGRPCAddr=",
            "--monitoringAddr=",
            "--ctrlz_address=",
        ] {
            let value = args
                .iter()
                .find_map(|a| a.strip_prefix(flag))
                .unwrap_or_else(|| panic!("{flag} is not set: {args:?}"));
            assert!(value.starts_with("127.0.0.1"), "{flag}{value}");
        }
        assert!(args.contains(&"--httpAddr=127.0.0.1:1001".to_string()));
        assert!(args.contains(&"--kubeconfig=/state/sim-x/x.kubeconfig".to_string()));
        let env = opts.env();
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("KUBECONFIG"), Some("/state/sim-x/x.kubeconfig"));
        assert_eq!(get("POD_NAME"), Some("istiod-local-x-1"));
        assert_eq!(get("VALIDATION_WEBHOOK_CONFIG_NAME"), Some(""));
        assert_eq!(get("PILOT_ENABLE_AMBIENT"), Some("true"));
        assert_eq!(get("ENABLE_DEBUG_ON_HTTP"), Some("false"), "no open /debug");
        assert_eq!(get("PATH"), None, "the environment is built, not inherited");
    }
}
