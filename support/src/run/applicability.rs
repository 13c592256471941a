//! What a provider cannot perform: a table of command patterns, each with the providers it
//! applies to and why. A documented command that matches is recorded `not_applicable` with that
//! reason, never skipped silently; a command text is not applicable as a whole when any of its
//! simple commands matches (running the rest without it would not be the document's command).

use super::words::{Script, SimpleCommand};
use crate::settings::Provider;

/// A command pattern: the program, then words that must follow it (flags skipped), in order.
#[derive(Debug, Clone, Copy)]
pub enum Pattern {
    /// `program sub1 sub2 …` where the subcommands are the first positional words.
    Subcommand(&'static str, &'static [&'static str]),
    /// `kubectl logs …` naming a pod or workload whose name contains one of these.
    KubectlLogsOf(&'static [&'static str]),
    /// Any command of this program.
    Program(&'static str),
    /// A download of an Istio release archive (`curl`/`wget` of `istio-…tar.gz`, `downloadIstio`)
    /// or the unpacking and moving of one (`tar … istio…`, `mv istio*`, `mkdir istio`).
    IstioDownload,
    /// A command with a `<name>` placeholder the reader must fill in.
    Placeholder,
    /// `kubectl kustomize <remote>` / `kustomize build <remote>`: kustomize clones a repository
    /// ([`super::local_copy::remote`]). A provider's verified local copy replaces the remote
    /// before the table is read, so what still matches has no copy.
    RemoteKustomization,
    /// `curl`/`wget` of a URL into the cluster's workloads: a host that is an address, a
    /// variable (`$GATEWAY_URL`), `localhost`, or a name without a dot (`productpage:9080`).
    TrafficToWorkload,
    /// `kubectl apply|create|kustomize` of the Gateway API CRDs from kubernetes-sigs/gateway-api
    /// (a release's `standard-install.yaml`). istio.io's `kubectl kustomize …/config/crd?ref=…` is
    /// a remote kustomization: it runs from the provider's verified copy of that ref
    /// (`crate::run::local_copy`), or is not applicable by the rule before this one.
    GatewayApiCrds,
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub id: &'static str,
    pub pattern: Pattern,
    pub providers: &'static [Provider],
    pub reason: &'static str,
}

const ALL: &[Provider] = &[
    Provider::Kind,
    Provider::Sim,
    Provider::K3s,
    Provider::Existing,
];

/// The rule whose command the provider performs its own way (sim: the local Gateway API CRDs);
/// the page runner does that when a command is not applicable by it.
pub const SIM_GATEWAY_API_CRDS: &str = "sim_gateway_api_crds";

/// The table, first match wins.
pub const RULES: &[Rule] = &[
    Rule {
        id: "placeholder",
        pattern: Pattern::Placeholder,
        providers: ALL,
        reason: "the command has a <placeholder> the reader fills in by hand; bash would read it as a redirection",
    },
    Rule {
        id: "kind_cluster",
        pattern: Pattern::Subcommand("kind", &["create", "cluster"]),
        providers: ALL,
        reason: "creating the cluster is the provider's own step: the suite creates (kind) or is given (sim, k3s, existing) the cluster it runs on, named by AMBIENT_CLUSTER_NAME",
    },
    Rule {
        id: "kind_delete",
        pattern: Pattern::Subcommand("kind", &["delete"]),
        providers: ALL,
        reason: "removing the cluster is the provider's own step, done when the run ends",
    },
    Rule {
        id: "istio_download",
        pattern: Pattern::IstioDownload,
        providers: ALL,
        reason: "the Istio release is pinned by the suite (AMBIENT_ISTIO, checksum-verified); its istioctl and samples/ are linked into the run's working directory",
    },
    Rule {
        id: "docker",
        pattern: Pattern::Program("docker"),
        providers: &[Provider::Sim, Provider::K3s, Provider::Existing],
        reason: "the provider runs no docker the document's command could reach",
    },
    Rule {
        id: "sim_exec",
        pattern: Pattern::Subcommand("kubectl", &["exec"]),
        providers: &[Provider::Sim],
        reason: "sim has no data plane: kwok answers `kubectl exec` with a replay program, so traffic into a workload is replayed, not performed",
    },
    Rule {
        id: "sim_data_plane_logs",
        pattern: Pattern::KubectlLogsOf(&[
            "ztunnel",
            "istio-cni",
            "waypoint",
            "ingressgateway",
            "sleep",
            "productpage",
            "reviews",
            "ratings",
            "details",
        ]),
        providers: &[Provider::Sim],
        reason: "sim has no data plane: the logs of data-plane pods are replayed files, not what the pods did",
    },
    Rule {
        id: "sim_traffic",
        pattern: Pattern::TrafficToWorkload,
        providers: &[Provider::Sim],
        reason: "sim has no data plane: no gateway or workload answers traffic sent from this machine",
    },
    Rule {
        id: "sim_remote_kustomization",
        pattern: Pattern::RemoteKustomization,
        providers: &[Provider::Sim],
        reason: "the sim provider runs without the network: a remote kustomization runs only from a verified local copy of the same repository and ref, and the provider holds none for this one",
    },
    Rule {
        id: SIM_GATEWAY_API_CRDS,
        pattern: Pattern::GatewayApiCrds,
        providers: &[Provider::Sim],
        reason: "sim has no internet: the Gateway API CRDs are the provider's own step there, applied from the copy fixtures/sim/build.sh takes from the gateway-api module of the Istio source (AMBIENT_GATEWAY_API_CRDS)",
    },
    Rule {
        id: "sim_dashboard",
        pattern: Pattern::Subcommand("istioctl", &["dashboard"]),
        providers: &[Provider::Sim],
        reason: "sim has no pods behind a dashboard's port-forward (kwok nodes run no containers)",
    },
    Rule {
        id: "sim_port_forward",
        pattern: Pattern::Subcommand("kubectl", &["port-forward"]),
        providers: &[Provider::Sim],
        reason: "sim has no pods behind a port-forward (kwok nodes run no containers)",
    },
];

/// Why a command text cannot be performed on `provider`, if it cannot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotApplicable {
    pub rule: &'static str,
    /// The simple command that matched, its words joined by spaces.
    pub command: String,
    pub reason: &'static str,
}

/// The first rule of [`RULES`] that matches a simple command of `script` on `provider`.
pub fn check(script: &Script, provider: Provider) -> Option<NotApplicable> {
    RULES
        .iter()
        .filter(|rule| rule.providers.contains(&provider))
        .find_map(|rule| {
            if matches!(rule.pattern, Pattern::Placeholder) {
                return script.placeholders.first().map(|p| NotApplicable {
                    rule: rule.id,
                    command: p.clone(),
                    reason: rule.reason,
                });
            }
            script
                .commands
                .iter()
                .find(|c| matches(&rule.pattern, c))
                .map(|c| NotApplicable {
                    rule: rule.id,
                    command: c.words.join(" "),
                    reason: rule.reason,
                })
        })
}

/// kubectl and istioctl flags that take the next word as their value (`-n istio-system`).
const VALUE_FLAGS: &[&str] = &[
    "-n",
    "--namespace",
    "-c",
    "--container",
    "-l",
    "--selector",
    "-o",
    "--output",
    "-f",
    "--filename",
    "--tail",
    "--since",
    "--istioNamespace",
    "-r",
    "--revision",
];

/// The words after the program that are neither flags nor a flag's value.
fn positional(command: &SimpleCommand) -> impl Iterator<Item = &str> {
    let mut skip_next = false;
    command.words[1..].iter().filter_map(move |w| {
        if std::mem::take(&mut skip_next) {
            return None;
        }
        if w.starts_with('-') {
            skip_next = VALUE_FLAGS.contains(&w.as_str());
            return None;
        }
        Some(w.as_str())
    })
}

fn matches(pattern: &Pattern, command: &SimpleCommand) -> bool {
    let Some(program) = command.program() else {
        return false;
    };
    match *pattern {
        Pattern::Program(p) => program == p,
        Pattern::Subcommand(p, subs) => {
            program == p && {
                let mut words = positional(command);
                subs.iter().all(|s| words.next() == Some(s))
            }
        }
        Pattern::KubectlLogsOf(names) => {
            program == "kubectl"
                && positional(command).next() == Some("logs")
                && positional(command)
                    .skip(1)
                    .any(|w| names.iter().any(|n| w.contains(n)))
        }
        Pattern::IstioDownload => is_istio_download(program, command),
        Pattern::Placeholder => false,
        Pattern::RemoteKustomization => {
            let mut words = positional(command);
            let verb = words.next();
            let (Some(first), Some(target)) = (verb, words.next()) else {
                return false;
            };
            ((program == "kubectl" && first == "kustomize")
                || (program == "kustomize" && first == "build"))
                && super::local_copy::remote(target).is_some()
        }
        Pattern::TrafficToWorkload => {
            matches!(program, "curl" | "wget")
                && command.words[1..].iter().any(|w| is_workload_url(w))
        }
        Pattern::GatewayApiCrds => {
            program == "kubectl"
                && matches!(positional(command).next(), Some("apply" | "create"))
                && command.words[1..]
                    .iter()
                    .any(|w| w.contains("github.com/kubernetes-sigs/gateway-api/"))
        }
    }
}

fn is_istio_download(program: &str, command: &SimpleCommand) -> bool {
    let args = || command.words[1..].iter().map(String::as_str);
    let names_istio_archive = |w: &str| {
        let file = w.rsplit('/').next().unwrap_or(w);
        (file.starts_with("istio") && (file.ends_with(".tar.gz") || file.ends_with(".tgz")))
            || w.contains("istio.io/downloadIstio")
            || w.contains("git.io/getLatestIstio")
    };
    match program {
        "curl" | "wget" | "tar" => args().any(names_istio_archive),
        // `mkdir istio`, `mv istio*/* istio`, `rm istio.tar.gz`: the release's own layout.
        "rm" | "mkdir" | "mv" => {
            let paths: Vec<&str> = args().filter(|w| !w.starts_with('-')).collect();
            !paths.is_empty()
                && paths.iter().all(|w| {
                    let w = w.trim_start_matches("./");
                    w.starts_with("istio") && !w.contains("/samples")
                })
        }
        _ => false,
    }
}

/// A URL (or curl's bare `host[:port]/path`) whose host only the cluster's network answers.
fn is_workload_url(word: &str) -> bool {
    if word.starts_with('-') {
        return false;
    }
    let rest = word
        .strip_prefix("http://")
        .or_else(|| word.strip_prefix("https://"));
    let bare = rest.is_none();
    let rest = rest.unwrap_or(word);
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.split(':').next().unwrap_or_default(),
    };
    if host.is_empty() {
        return false;
    }
    if host.starts_with('$') || host == "localhost" || host.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    // A bare word is a service name only with a port or a path (`productpage:9080/`), so that
    // `curl -o out.txt` or a file argument is not taken for one.
    let service_like = host
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    service_like && (!bare || authority.contains(':') || rest.contains('/'))
}

/// Rules whose command is a step the provider performs itself, its own way (the cluster, the
/// pinned release, sim's copy of the Gateway API CRDs): not running the page's text leaves
/// nothing undone for later steps.
const PROVIDERS_OWN: &[&str] = &[
    "kind_cluster",
    "kind_delete",
    "istio_download",
    SIM_GATEWAY_API_CRDS,
];

/// Whether a rule of [`RULES`] names a step the provider performs itself.
pub fn is_providers_own_step(rule: &str) -> bool {
    PROVIDERS_OWN.contains(&rule)
}

/// Whether a simple command of `script` changes the cluster: kubectl's writing verbs, istioctl
/// installing, uninstalling, upgrading or applying/deleting a waypoint or a tag, helm's release
/// verbs. Reads (`get`, `wait`, `logs`, `exec`, `kustomize`, curl) do not; neither does `kind`,
/// whose cluster is the provider's.
pub fn changes_cluster(script: &Script) -> bool {
    script.commands.iter().any(|c| {
        let Some(program) = c.program() else {
            return false;
        };
        let words: Vec<&str> = positional(c).collect();
        let first = words.first().copied().unwrap_or("");
        match program {
            "kubectl" => {
                matches!(
                    first,
                    "apply"
                        | "create"
                        | "delete"
                        | "label"
                        | "annotate"
                        | "patch"
                        | "replace"
                        | "scale"
                        | "set"
                        | "edit"
                        | "taint"
                        | "drain"
                        | "cordon"
                        | "uncordon"
                        | "expose"
                        | "run"
                        | "autoscale"
                ) || (first == "rollout"
                    && matches!(
                        words.get(1).copied(),
                        Some("restart" | "undo" | "pause" | "resume")
                    ))
            }
            "istioctl" => {
                let rest: &[&str] = if matches!(first, "x" | "experimental") {
                    &words[1..]
                } else {
                    &words
                };
                matches!(
                    rest,
                    ["install" | "uninstall" | "upgrade", ..]
                        | ["waypoint", "apply" | "delete", ..]
                        | ["tag", "set" | "remove", ..]
                        | ["manifest", "install", ..]
                )
            }
            "helm" => matches!(
                first,
                "install" | "upgrade" | "uninstall" | "delete" | "rollback"
            ),
            _ => false,
        }
    })
}
