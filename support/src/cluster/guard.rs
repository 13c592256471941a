//! The context guard: the only way to obtain a client the suite may change a cluster with.
//!
//! A cluster may be changed when it is the kind cluster of this run (context `kind-<name>`, API
//! server on this machine) or when its context is named explicitly in `AMBIENT_KUBE_CONTEXT`.
//! Anything else is refused before the first write, so labelling `default` on somebody's
//! production cluster cannot happen by accident.

use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::settings::{CLUSTER_NAME, KUBE_CONTEXT};

#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    #[error(
        "refusing to change the cluster of kube context {context:?}: {reason}. The suite only \
         changes the kind cluster it manages (context kind-${CLUSTER_NAME}) or a context named \
         explicitly in {KUBE_CONTEXT}"
    )]
    Refused { context: String, reason: String },
    #[error("kubeconfig: {0}")]
    Kubeconfig(String),
    #[error("connecting to kube context {context:?}: {reason}")]
    Connect { context: String, reason: String },
}

/// A kubeconfig and context that passed the guard.
#[derive(Debug, Clone)]
pub struct Approved {
    kubeconfig: Kubeconfig,
    context: String,
}

/// A client for an approved context. Every function that changes a cluster takes one.
#[derive(Clone)]
pub struct GuardedClient {
    client: kube::Client,
    context: String,
}

impl GuardedClient {
    pub fn client(&self) -> kube::Client {
        self.client.clone()
    }

    pub fn context(&self) -> &str {
        &self.context
    }
}

impl Approved {
    pub fn context(&self) -> &str {
        &self.context
    }

    pub async fn connect(self) -> Result<GuardedClient, GuardError> {
        let options = KubeConfigOptions {
            context: Some(self.context.clone()),
            ..KubeConfigOptions::default()
        };
        let connect = |e: &dyn std::fmt::Display| GuardError::Connect {
            context: self.context.clone(),
            reason: e.to_string(),
        };
        let config = kube::Config::from_custom_kubeconfig(self.kubeconfig.clone(), &options)
            .await
            .map_err(|e| connect(&e))?;
        let client = kube::Client::try_from(config).map_err(|e| connect(&e))?;
        Ok(GuardedClient {
            client,
            context: self.context,
        })
    }
}

fn parse(yaml: &str) -> Result<Kubeconfig, GuardError> {
    Kubeconfig::from_yaml(yaml).map_err(|e| GuardError::Kubeconfig(e.to_string()))
}

fn server_of(kubeconfig: &Kubeconfig, context: &str) -> Option<String> {
    let ctx = kubeconfig
        .contexts
        .iter()
        .find(|c| c.name == context)?
        .context
        .as_ref()?;
    let cluster = kubeconfig
        .clusters
        .iter()
        .find(|c| c.name == ctx.cluster)?
        .cluster
        .as_ref()?;
    cluster.server.clone()
}

/// `true` for `https://127.0.0.1:port`, `https://localhost:port`, `https://[::1]:port`.
pub fn is_loopback_server(server: &str) -> bool {
    let rest = server.split_once("://").map_or(server, |(_, r)| r);
    let host = if let Some(v6) = rest.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        rest.split([':', '/']).next().unwrap_or_default()
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Approves the kubeconfig `kind get kubeconfig --name <cluster>` printed: its current context
/// must be `kind-<cluster>` and its API server on this machine.
pub fn approve_kind(kubeconfig_yaml: &str, cluster: &str) -> Result<Approved, GuardError> {
    let kubeconfig = parse(kubeconfig_yaml)?;
    let expected = format!("kind-{cluster}");
    let current = kubeconfig.current_context.clone().unwrap_or_default();
    if current != expected {
        return Err(GuardError::Refused {
            context: current,
            reason: format!("this run manages {expected}"),
        });
    }
    let server = server_of(&kubeconfig, &current).ok_or_else(|| {
        GuardError::Kubeconfig(format!("context {current:?} has no cluster server"))
    })?;
    if !is_loopback_server(&server) {
        return Err(GuardError::Refused {
            context: current,
            reason: format!("its API server {server} is not on this machine, where kind serves it"),
        });
    }
    Ok(Approved {
        kubeconfig,
        context: current,
    })
}

/// Approves the kubeconfig of a cluster this run started on this machine (sim, k3s): its current
/// context must be `expected` and its API server on this machine.
pub fn approve_local(kubeconfig_yaml: &str, expected: &str) -> Result<Approved, GuardError> {
    let kubeconfig = parse(kubeconfig_yaml)?;
    let current = kubeconfig.current_context.clone().unwrap_or_default();
    if current != expected {
        return Err(GuardError::Refused {
            context: current,
            reason: format!("this run manages {expected}"),
        });
    }
    match server_of(&kubeconfig, &current) {
        Some(server) if is_loopback_server(&server) => Ok(Approved {
            kubeconfig,
            context: current,
        }),
        other => Err(GuardError::Refused {
            context: current,
            reason: format!(
                "its API server {other:?} is not on this machine, where the suite started it"
            ),
        }),
    }
}

/// Approves the kubeconfig of a sim cluster this run started (context `sim-<name>`).
pub fn approve_sim(kubeconfig_yaml: &str, name: &str) -> Result<Approved, GuardError> {
    approve_local(kubeconfig_yaml, &super::sim::context(name))
}

/// Approves `context` of a user's kubeconfig only when it is the one named in
/// `AMBIENT_KUBE_CONTEXT` (`allowed`).
pub fn approve_named(
    kubeconfig_yaml: &str,
    context: &str,
    allowed: Option<&str>,
) -> Result<Approved, GuardError> {
    let kubeconfig = parse(kubeconfig_yaml)?;
    if allowed != Some(context) {
        return Err(GuardError::Refused {
            context: context.to_string(),
            reason: match allowed {
                None => format!("{KUBE_CONTEXT} is not set"),
                Some(a) => format!("{KUBE_CONTEXT} names {a:?}, not this context"),
            },
        });
    }
    if !kubeconfig.contexts.iter().any(|c| c.name == context) {
        return Err(GuardError::Kubeconfig(format!(
            "no context named {context:?}"
        )));
    }
    Ok(Approved {
        kubeconfig,
        context: context.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_servers() {
        assert!(is_loopback_server("https://127.0.0.1:36265"));
        assert!(is_loopback_server("https://localhost:6443"));
        assert!(is_loopback_server("https://[::1]:6443"));
        assert!(!is_loopback_server("https://10.0.0.1:6443"));
        assert!(!is_loopback_server("https://prod.example.com"));
        assert!(!is_loopback_server(""));
    }
}
