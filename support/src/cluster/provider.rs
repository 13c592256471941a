//! What differs between cluster providers, as data: node count, install flags, whether the suite
//! may delete the cluster, whether a data plane runs.

use crate::settings::Provider;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProviderFacts {
    pub provider: Provider,
    /// Nodes the topology has; `None` = whatever the cluster has (read from the API).
    pub nodes: Option<usize>,
    /// Flags `istioctl install` needs on this platform, after the tutorial's own.
    pub install_flags: &'static [&'static str],
    /// Whether the suite may delete the cluster (never one it did not create).
    pub deletable: bool,
    /// Whether images run and traffic flows (sim: no).
    pub data_plane: bool,
    /// Whether Istio's control plane acts on the cluster (sim: yes, istiod runs as a local
    /// process; its kwok pod is a placeholder).
    pub istiod: bool,
    /// Whether the internet is there (the URLs the tutorial fetches; sim: no).
    pub network: bool,
}

impl ProviderFacts {
    /// Whether this provider can decide a claim of `plane`.
    pub fn decides(&self, plane: crate::claims::Plane) -> bool {
        use crate::claims::Plane;
        match plane {
            Plane::Control => true,
            Plane::Istiod => self.istiod,
            Plane::Data => self.data_plane,
            Plane::Network => self.network,
        }
    }
}

/// K3s keeps the CNI configuration and binaries in its own directories; istio-cni must be told
/// (istio/istio.io content/en/docs/ambient/install/platform-prerequisites, "K3s", istioctl tab:
/// `--set values.cni.cniConfDir=/var/lib/rancher/k3s/agent/etc/cni/net.d --set
/// values.cni.cniBinDir=/var/lib/rancher/k3s/data/current/bin/`). The explicit paths work in every
/// era with ambient; `values.global.platform=k3s` only in newer ones.
pub const K3S_INSTALL_FLAGS: &[&str] = &[
    "--set",
    "values.cni.cniConfDir=/var/lib/rancher/k3s/agent/etc/cni/net.d",
    "--set",
    "values.cni.cniBinDir=/var/lib/rancher/k3s/data/current/bin/",
];

pub const fn facts(provider: Provider) -> ProviderFacts {
    match provider {
        Provider::Kind => ProviderFacts {
            provider,
            nodes: Some(3),
            install_flags: &[],
            deletable: true,
            data_plane: true,
            istiod: true,
            network: true,
        },
        Provider::Sim => ProviderFacts {
            provider,
            nodes: Some(3),
            install_flags: &[],
            deletable: true,
            data_plane: false,
            // pilot-discovery runs as a local process after `istioctl install` (sim/istiod.rs).
            istiod: true,
            network: false,
        },
        Provider::K3s => ProviderFacts {
            provider,
            nodes: Some(1),
            install_flags: K3S_INSTALL_FLAGS,
            deletable: true,
            data_plane: true,
            istiod: true,
            network: true,
        },
        Provider::Existing => ProviderFacts {
            provider,
            nodes: None,
            install_flags: &[],
            deletable: false,
            data_plane: true,
            istiod: true,
            network: true,
        },
    }
}
