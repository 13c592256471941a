//! What differs between Istio versions, as data: the single source of truth.
//!
//! Each fact carries its source in a comment. `[V]` = read in the named file at that tag;
//! `[I]` = inferred or from third-party material, not verified in Istio's own source.
//! Abbreviations: `EXP` = istio/istio@191fe680b52c1754ee72a06b3e0d3f9d116f2e82 (the tutorial's
//! experimental build, branch experimental-ambient, 2022-09-06); `<tag>` = istio/istio at that tag;
//! `blog2022` = istio/istio.io content/en/blog/2022/get-started-ambient/index.md.
//!
//! `EXP` is also where a fact of the tutorial's own build was read. `Z@<tag>` = istio/ztunnel at
//! that tag; `GW@<tag>` = kubernetes-sigs/gateway-api at that tag.
//!
//! Tests never compare versions themselves: they ask [`facts_for`] (a release's facts: its era's,
//! corrected where a patch release changed something inside the era) or [`facts`] (an era's) and
//! read the answer.

use std::fmt;

/// The tutorial's pinned experimental build (the URL in its "Installation" step 1).
pub const TUTORIAL_BUILD: &str = "0.0.0-ambient.191fe680b52c1754ee72a06b3e0d3f9d116f2e82";

/// A break point in how ambient mode looks from the outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum Era {
    /// The 2022 experimental build: Envoy-based ztunnel, node-level redirection, waypoint per
    /// service account declared as a v1alpha2 Gateway of class `istio-mesh`.
    Experimental2022,
    /// 1.18 – 1.20: first releases with ambient (alpha). Rust ztunnel without structured access
    /// log, node-level redirection, `istioctl x waypoint apply`. (1.18.x: ztunnel without a node
    /// selector, see [`facts_for`].)
    Alpha1_18,
    /// 1.21: in-pod redirection (istio-cni `in pod mode - adding pod ...`), still no access log.
    InPod1_21,
    /// 1.22: beta. Structured ztunnel access log, Gateway API v1 waypoints attached with
    /// `istio.io/use-waypoint`. 1.22.0–1.22.1: workload, namespace and service values unquoted
    /// (identity, direction and duration already quoted), istio-cni `in pod mode`; from 1.22.2 the
    /// log formats are 1.23's (see [`facts_for`]).
    Beta1_22,
    /// 1.23: access-log string values quoted and istio-cni `adding pod to the mesh` (both since
    /// 1.22.2); new in 1.23.0: `istioctl waypoint` at the root (1.23.0 istioctl/cmd/root.go:203),
    /// install lines with icons and "enjoy Istio without sidecars!".
    Quoted1_23,
    /// 1.24 and later (GA): the operator rewrite (install lines from
    /// operator/pkg/component/component.go), no "Made this installation the default" line.
    Ga1_24,
}

impl Era {
    pub const ALL: [Era; 6] = [
        Era::Experimental2022,
        Era::Alpha1_18,
        Era::InPod1_21,
        Era::Beta1_22,
        Era::Quoted1_23,
        Era::Ga1_24,
    ];

    /// A short stable name, used in claim records and snapshot suffixes.
    pub fn id(self) -> &'static str {
        match self {
            Era::Experimental2022 => "exp2022",
            Era::Alpha1_18 => "1.18",
            Era::InPod1_21 => "1.21",
            Era::Beta1_22 => "1.22",
            Era::Quoted1_23 => "1.23",
            Era::Ga1_24 => "1.24",
        }
    }
}

impl fmt::Display for Era {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// A parsed Istio version string.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IstioVersion {
    pub raw: String,
    pub major: u32,
    pub minor: u32,
    pub kind: VersionKind,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum VersionKind {
    /// `1.24.2`, `1.25.0-rc.0`
    Release { patch: u32, pre: Option<String> },
    /// `1.25-alpha.<40 hex>` or `1.25-dev.<40 hex>`: a build from Istio's dev-build bucket.
    DevBuild { sha: String },
    /// `0.0.0-ambient.<40 hex>`: the experimental-ambient branch of 2022.
    ExperimentalAmbient { sha: String },
    /// `1.31-dev`: built from source at no published build (the `sim` provider's istioctl, stamped
    /// from the Istio module's VERSION file).
    Source,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    #[error(
        "{raw:?} is not an Istio version: expected a release like 1.24.2 (or 1.25.0-rc.0), a dev \
         build id like 1.25-alpha.<40 hex digits>, or {TUTORIAL_BUILD}"
    )]
    Unparseable { raw: String },
    #[error(
        "Istio {raw} has no ambient mode: the first release with ambient is 1.18.0 \
         (istio/istio.io content/en/news/releases/1.18.x/announcing-1.18)"
    )]
    BeforeAmbient { raw: String },
}

impl IstioVersion {
    pub fn parse(raw: &str) -> Result<Self, VersionError> {
        let raw = raw.trim();
        let bad = || VersionError::Unparseable {
            raw: raw.to_string(),
        };
        let is_sha = |s: &str| s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit());
        if let Some(sha) = raw.strip_prefix("0.0.0-ambient.") {
            if !is_sha(sha) {
                return Err(bad());
            }
            return Ok(IstioVersion {
                raw: raw.to_string(),
                major: 0,
                minor: 0,
                kind: VersionKind::ExperimentalAmbient {
                    sha: sha.to_string(),
                },
            });
        }
        let (numbers, rest) = match raw.split_once('-') {
            Some((n, r)) => (n, Some(r)),
            None => (raw, None),
        };
        let parts: Vec<&str> = numbers.split('.').collect();
        let num = |s: &str| -> Result<u32, VersionError> {
            if s.is_empty() || s.len() > 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            s.parse().map_err(|_| bad())
        };
        let version = match (parts.as_slice(), rest) {
            ([major, minor], Some("dev")) => IstioVersion {
                raw: raw.to_string(),
                major: num(major)?,
                minor: num(minor)?,
                kind: VersionKind::Source,
            },
            ([major, minor], Some(rest)) => {
                let (channel, sha) = rest.split_once('.').ok_or_else(bad)?;
                if !matches!(channel, "alpha" | "dev") || !is_sha(sha) {
                    return Err(bad());
                }
                IstioVersion {
                    raw: raw.to_string(),
                    major: num(major)?,
                    minor: num(minor)?,
                    kind: VersionKind::DevBuild {
                        sha: sha.to_string(),
                    },
                }
            }
            ([major, minor, patch], pre) => {
                if let Some(pre) = pre {
                    let (label, n) = pre.split_once('.').ok_or_else(bad)?;
                    if !matches!(label, "alpha" | "beta" | "rc") {
                        return Err(bad());
                    }
                    num(n)?;
                }
                IstioVersion {
                    raw: raw.to_string(),
                    major: num(major)?,
                    minor: num(minor)?,
                    kind: VersionKind::Release {
                        patch: num(patch)?,
                        pre: pre.map(str::to_string),
                    },
                }
            }
            _ => return Err(bad()),
        };
        if version.major != 1 {
            return Err(bad());
        }
        if version.minor < 18 {
            return Err(VersionError::BeforeAmbient {
                raw: raw.to_string(),
            });
        }
        Ok(version)
    }

    /// The era this version belongs to. Versions newer than any known era map to the newest.
    pub fn era(&self) -> Era {
        if matches!(self.kind, VersionKind::ExperimentalAmbient { .. }) {
            return Era::Experimental2022;
        }
        match self.minor {
            ..=20 => Era::Alpha1_18,
            21 => Era::InPod1_21,
            22 => Era::Beta1_22,
            23 => Era::Quoted1_23,
            _ => Era::Ga1_24,
        }
    }
}

/// Parses a version string and returns its era.
pub fn era_of(version: &str) -> Result<Era, VersionError> {
    IstioVersion::parse(version).map(|v| v.era())
}

/// How a ztunnel writes a connection to its log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum AccessLogFormat {
    /// Envoy text access log with a listener-name suffix (EXP
    /// pilot/pkg/networking/ambientgen/ztunnelgen.go EnvoyTextLogFormat) [V].
    EnvoyText,
    /// Rust ztunnel 1.18 – 1.21: no access log; tracing lines such as
    /// `INFO outbound{id=..}: ztunnel::proxy::outbound: proxy to .. using HBONE via .. type Direct`
    /// (istio/ztunnel@1.18.0 src/proxy/outbound.rs) [V].
    RustTracing,
    /// 1.22.0–1.22.1: `<ts>\tinfo\taccess\tconnection complete\tsrc.addr=.. direction="outbound" ..`;
    /// src.workload, src.namespace, dst.service, dst.workload, dst.namespace unquoted (Display),
    /// src/dst.identity, direction, duration and error quoted (Debug of a string)
    /// (Z@1.22.0 src/proxy/metrics.rs:521-543, src/telemetry.rs:157-175) [V].
    IstioAccessUnquoted,
    /// 1.22.2+: same keys, every string value quoted (Z@1.22.2, backport 9b00957b of #1095
    /// "access logs: consistently quote fields"; Z@1.23.0 src/proxy/metrics.rs:495-521;
    /// Z@1.30.3 :731-753) [V].
    IstioAccessQuoted,
    /// 1.22+ with `--log_as_json` (`{"scope":"access","message":"connection complete",...}`),
    /// e.g. istio/istio#53942 [V].
    IstioAccessJson,
}

impl AccessLogFormat {
    /// The suffix of the stored snapshots of lines in this format: the first era that printed it
    /// (the quoted format is 1.22.2's through 1.30's, eras 1.23 and 1.24 included).
    pub fn snapshot_suffix(self) -> &'static str {
        match self {
            AccessLogFormat::EnvoyText => "exp2022",
            AccessLogFormat::RustTracing => "1.18",
            AccessLogFormat::IstioAccessUnquoted => "1.22",
            AccessLogFormat::IstioAccessQuoted => "1.23",
            AccessLogFormat::IstioAccessJson => "json",
        }
    }

    /// A line of this format as its snapshot stores it: structured access lines by their shape
    /// ([`crate::snapshot::access_line_shape`]), the others with the common redactions.
    pub fn snapshot_text(self, line: &str) -> String {
        match self {
            AccessLogFormat::IstioAccessUnquoted | AccessLogFormat::IstioAccessQuoted => {
                crate::snapshot::access_line_shape(line)
            }
            _ => crate::snapshot::redact(line),
        }
    }
}

/// How istio-cni announces that a pod joined the ambient mesh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum EnrollmentLogFormat {
    /// `Adding route for <pod>/<ns>: [...]` (EXP, 1.18.0, 1.20.0 cni/pkg/ambient/net.go) [V].
    NodeRoute,
    /// `in pod mode - adding pod <ns>/<pod> to ztunnel`, scope `ambient` (1.21.0–1.22.1:
    /// 1.21.0 cni/pkg/nodeagent/net.go:36,161; 1.22.0 :36,139) [V].
    InPodAddingPod,
    /// `adding pod to the mesh` with `ns=<ns> name=<pod>`, scope `cni-agent` (1.22.2
    /// cni/pkg/nodeagent/net.go:136-137, server.go:38; 1.23.0 net.go:119-120; 1.30.3
    /// net_linux.go:114-115) [V].
    AddingPodToMesh,
}

/// How the productpage waypoint is declared, per era.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WaypointFacts {
    /// The fixture applied to declare it (under `fixtures/`).
    pub fixture: &'static str,
    /// Gateway API version of the Gateway object.
    pub gateway_api_version: &'static str,
    pub gateway_class: &'static str,
    pub gateway_name: &'static str,
    /// Name of the Deployment istiod creates for the waypoint.
    pub deployment: &'static str,
    /// The service account whose SPIFFE identity the waypoint presents, when the era's access
    /// log names it.
    pub identity_service_account: Option<&'static str>,
    /// A label istiod needs on the productpage Service to route through the waypoint
    /// (`istio.io/use-waypoint`, 1.22+), if any.
    pub service_label: Option<(&'static str, &'static str)>,
    /// Where the Gateway API CRDs come from.
    pub gateway_api_crds: GatewayApiCrds,
    /// The status conditions istiod writes on the Gateway once it has deployed the waypoint: each
    /// must be `True` for the declaration to have worked.
    pub conditions: &'static [&'static str],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum GatewayApiCrds {
    /// istioctl installs them (EXP only: manifests/charts/base/crds/gateway-api-crds.yaml,
    /// v1alpha2 from gateway-api v0.4.0) [V].
    InstalledByIstioctl,
    /// The user installs them: `standard-install.yaml` of this gateway-api release (the
    /// `sigs.k8s.io/gateway-api` version in the Istio release's go.mod, or the release it is
    /// equivalent to where go.mod pins a pseudo-version: [`gateway_api_release`]) [V go.mod; the
    /// asset name from gateway-api RELEASE.md and hack/build-install-yaml.sh].
    Release(&'static str),
}

impl GatewayApiCrds {
    /// The release asset to apply, if the suite must install the CRDs itself.
    pub fn url(self) -> Option<String> {
        match self {
            GatewayApiCrds::InstalledByIstioctl => None,
            GatewayApiCrds::Release(v) => Some(format!(
                "https://github.com/kubernetes-sigs/gateway-api/releases/download/{v}/standard-install.yaml"
            )),
        }
    }
}

/// Everything the suite needs to know about one era.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EraFacts {
    pub era: Era,
    /// Component lines printed by `istioctl install --set profile=ambient -y`, in doc order
    /// (completion order may vary, so the suite compares them as a set).
    pub install_lines: &'static [&'static str],
    /// Snapshot suffix for text that only changes where `install_lines` changes.
    pub install_variant: &'static str,
    /// Does the ambient profile install `istio-ingressgateway` (and its autoscaler)?
    pub ingress_gateway: bool,
    /// Extra flags `istioctl install` needs in this era, each with its source.
    pub install_extra_flags: &'static [&'static str],
    pub istio_namespace: &'static str,
    pub ztunnel_daemonset: &'static str,
    pub ztunnel_label: (&'static str, &'static str),
    pub ztunnel_container: &'static str,
    /// The ztunnel DaemonSet's node selector (`None`: it has none).
    pub ztunnel_node_selector: Option<(&'static str, &'static str)>,
    pub access_log: AccessLogFormat,
    pub cni_daemonset: &'static str,
    pub cni_label: (&'static str, &'static str),
    pub cni_container: &'static str,
    /// The istio-cni DaemonSet's node selector.
    pub cni_node_selector: Option<(&'static str, &'static str)>,
    pub enrollment_log: EnrollmentLogFormat,
    pub enrollment_label: (&'static str, &'static str),
    pub waypoint: WaypointFacts,
}

// Install lines. EXP: blog2022 shows exactly these five; ztunnel is part of the Istiod component
// (EXP manifests/charts/istio-control/istio-discovery/templates/ambient.yaml) [V].
const INSTALL_LINES_2022: &[&str] = &[
    "✔ Istio core installed",
    "✔ Istiod installed",
    "✔ Ingress gateways installed",
    "✔ CNI installed",
    "✔ Installation complete",
];
// 1.18 – 1.22.x: operator/pkg/util/progress/progress.go:125 `✔ %s installed`, names from
// operator/pkg/name/name.go (1.18.0:141-151, 1.22.0:116-126); the ambient profile disables the
// ingress gateway (manifests/profiles/ambient.yaml, 1.18.0:22-24, 1.22.0:9-11) [V].
const INSTALL_LINES_1_18: &[&str] = &[
    "✔ Istio core installed",
    "✔ Istiod installed",
    "✔ CNI installed",
    "✔ Ztunnel installed",
    "✔ Installation complete",
];
// 1.23+: `✔ %s installed %s` with icons (1.23.0 operator/pkg/name/name.go:89
// IstioComponentIcons, progress.go:124-130, commit a0fe030e04d; 1.24.0–1.30.3
// operator/pkg/component/component.go Icons, progress.go:125-131) [V].
const INSTALL_LINES_ICONS: &[&str] = &[
    "✔ Istio core installed ⛵️",
    "✔ Istiod installed 🧠",
    "✔ CNI installed 🪢",
    "✔ Ztunnel installed 🔒",
    "✔ Installation complete",
];

const WAYPOINT_2022: WaypointFacts = WaypointFacts {
    // blog2022 and the tutorial: v1alpha2 Gateway `productpage`, class `istio-mesh`, annotation
    // `istio.io/service-account: bookinfo-productpage`; Deployment `<sa>-waypoint-proxy`
    // (EXP pilot/pkg/ambient/controller/waypoint_controller.go, istio-discovery/files/waypoint.yaml) [V].
    fixture: "waypoint/exp2022.yaml",
    gateway_api_version: "gateway.networking.k8s.io/v1alpha2",
    gateway_class: "istio-mesh",
    gateway_name: "productpage",
    deployment: "bookinfo-productpage-waypoint-proxy",
    // The tutorial's L7 line: `..._to_server_waypoint_proxy_spiffe://cluster.local/ns/default/sa/bookinfo-productpage` [V].
    identity_service_account: Some("bookinfo-productpage"),
    service_label: None,
    gateway_api_crds: GatewayApiCrds::InstalledByIstioctl,
    // `Ready=True`, "Deployed waypoint proxy to ..." (blog2022 "Deploy the waypoint proxy";
    // fixtures/recorded/waypoint-status-2022.yaml) [V].
    conditions: &["Ready"],
};

const WAYPOINT_1_18: WaypointFacts = WaypointFacts {
    // `istioctl x waypoint apply --service-account bookinfo-productpage` writes a v1beta1 Gateway
    // named after the SA, class `istio-waypoint`, annotation `istio.io/for-service-account`
    // (1.18.0 istioctl/cmd/waypoint.go, pkg/config/constants/constants.go:156,164) [V];
    // Deployment `<gateway>-<class>` (pilot/pkg/config/kube/gateway getDefaultName) [V].
    fixture: "waypoint/1.18.yaml",
    gateway_api_version: "gateway.networking.k8s.io/v1beta1",
    gateway_class: "istio-waypoint",
    gateway_name: "bookinfo-productpage",
    deployment: "bookinfo-productpage-istio-waypoint",
    // The 1.18 – 1.21 log line names the waypoint's address, not its identity
    // (`... type ToServerWaypoint`) [V ztunnel 1.18 src/proxy/outbound.rs].
    identity_service_account: None,
    service_label: None,
    // 1.18's: go.mod of 1.18.0 pins v0.6.2 [V]; 1.19–1.21 differ ([`gateway_api_release`]).
    gateway_api_crds: GatewayApiCrds::Release("v0.6.2"),
    // `Accepted` ("Resource accepted") and `Programmed` ("Resource programmed, assigned to
    // service(s) <gateway>-istio-waypoint...:15008"): pilot/pkg/config/kube/gateway conditions.go
    // setProgrammedCondition; the 1.18-era ambient getting-started page (istio/istio.io
    // content/en/docs/ops/ambient/getting-started, `istioctl x waypoint apply`, 2023-02) shows
    // `Programmed=True` on `bookinfo-productpage` [V for Programmed; Accepted: GEP-1364's pair, I].
    conditions: &["Accepted", "Programmed"],
};

const WAYPOINT_1_22: WaypointFacts = WaypointFacts {
    // 1.22+: per-service-account waypoints are gone (1.22 upgrade notes "New ambient mode waypoint
    // attachment method"); a v1 Gateway of class `istio-waypoint` with label
    // `istio.io/waypoint-for: service` and an HBONE listener on 15008, attached by labelling the
    // Service `istio.io/use-waypoint=<gateway>` (1.22.0 istioctl/pkg/waypoint/waypoint.go,
    // constants.go:176,206,209) [V]. Deployment = gateway name (deploymentcontroller.go:167
    // disableNameSuffix) [V]. Named `productpage-waypoint`, not after the app's SA, so the
    // waypoint's service account never collides with bookinfo's.
    fixture: "waypoint/1.22.yaml",
    gateway_api_version: "gateway.networking.k8s.io/v1",
    gateway_class: "istio-waypoint",
    gateway_name: "productpage-waypoint",
    deployment: "productpage-waypoint",
    // The waypoint runs as a service account named after the Gateway: the
    // `gateway.istio.io/service-account` annotation, else the Gateway's name (1.22.0
    // deploymentcontroller.go:383, files/waypoint.yaml:2-4,75; 1.30.3
    // gatewaycommon/deploymentcontroller.go:429, waypoint.yaml:90) [V].
    identity_service_account: Some("productpage-waypoint"),
    service_label: Some(("istio.io/use-waypoint", "productpage-waypoint")),
    // go.mod of 1.22.0: sigs.k8s.io/gateway-api v1.1.0 [V].
    gateway_api_crds: GatewayApiCrds::Release("v1.1.0"),
    // Accepted and Programmed, both True on the sim run of 1.31-dev
    // (fixtures/objects/captured/1.31-dev/default-gateways.json) [V].
    conditions: &["Accepted", "Programmed"],
};

const fn common(era: Era) -> EraFacts {
    EraFacts {
        era,
        install_lines: INSTALL_LINES_1_18,
        install_variant: "1.18",
        ingress_gateway: false,
        install_extra_flags: &[],
        // DaemonSet `ztunnel` in istio-system, pod label `app=ztunnel`, container `istio-proxy`
        // in every era (EXP templates/ambient.yaml; <tag>:manifests/charts/ztunnel/templates/
        // daemonset.yaml at 1.18.0 … 1.30.3) [V].
        istio_namespace: "istio-system",
        ztunnel_daemonset: "ztunnel",
        ztunnel_label: ("app", "ztunnel"),
        ztunnel_container: "istio-proxy",
        // manifests/charts/ztunnel/templates/daemonset.yaml: `nodeSelector: kubernetes.io/os:
        // linux` from 1.19.0 (:30-31, commit 6ce18804fea #46078; 1.24.0 :41-42; 1.30.3 :42-43;
        // seen on the sim run of 1.31-dev) [V]; absent in 1.18.x ([`facts_for`]).
        ztunnel_node_selector: Some(("kubernetes.io/os", "linux")),
        access_log: AccessLogFormat::RustTracing,
        // DaemonSet `istio-cni-node`, label `k8s-app=istio-cni-node`, container `install-cni`
        // (manifests/charts/istio-cni/templates/daemonset.yaml at EXP, 1.18.0, 1.22.0, 1.24.0,
        // 1.30.3) [V].
        cni_daemonset: "istio-cni-node",
        cni_label: ("k8s-app", "istio-cni-node"),
        cni_container: "install-cni",
        // manifests/charts/istio-cni/templates/daemonset.yaml (EXP:45-46, 1.18.0–1.23.0:46-47,
        // 1.24.0:50-51, 1.30.3:73-74) [V]; the tutorial's listing shows it too.
        cni_node_selector: Some(("kubernetes.io/os", "linux")),
        enrollment_log: EnrollmentLogFormat::NodeRoute,
        // `istio.io/dataplane-mode=ambient` in every era (EXP podutil.go; constants.go
        // DataplaneModeAmbient at 1.18.0/1.22.0/1.24.0/1.30.3) [V].
        enrollment_label: ("istio.io/dataplane-mode", "ambient"),
        waypoint: WAYPOINT_1_18,
    }
}

/// The facts of one era.
pub const fn facts(era: Era) -> EraFacts {
    let mut f = common(era);
    match era {
        Era::Experimental2022 => {
            f.install_lines = INSTALL_LINES_2022;
            f.install_variant = "exp2022";
            // The ambient profile inherits the default ingress gateway (EXP
            // manifests/profiles/ambient.yaml has no override; blog2022 lists
            // `istio-ingressgateway` and its HPA) [V].
            f.ingress_gateway = true;
            // ztunnel was rendered by the istiod chart without a node selector (EXP
            // istio-discovery/templates/ambient.yaml; the tutorial's listing shows `<none>`) [V].
            f.ztunnel_node_selector = None;
            f.access_log = AccessLogFormat::EnvoyText;
            f.waypoint = WAYPOINT_2022;
        }
        Era::Alpha1_18 => {}
        Era::InPod1_21 => {
            f.enrollment_log = EnrollmentLogFormat::InPodAddingPod;
        }
        Era::Beta1_22 => {
            f.access_log = AccessLogFormat::IstioAccessUnquoted;
            f.enrollment_log = EnrollmentLogFormat::InPodAddingPod;
            f.waypoint = WAYPOINT_1_22;
        }
        Era::Quoted1_23 => {
            f.install_lines = INSTALL_LINES_ICONS;
            // Its post-install text differs from 1.24's ("Made this installation the default for
            // cluster-wide operations.", 1.23.0 install.go:213) [V].
            f.install_variant = "1.23";
            f.access_log = AccessLogFormat::IstioAccessQuoted;
            f.enrollment_log = EnrollmentLogFormat::AddingPodToMesh;
            f.waypoint = WAYPOINT_1_22;
            // go.mod of 1.23.0:113: v1.1.0 [V].
            f.waypoint.gateway_api_crds = GatewayApiCrds::Release("v1.1.0");
        }
        Era::Ga1_24 => {
            f.install_lines = INSTALL_LINES_ICONS;
            f.install_variant = "1.24";
            f.access_log = AccessLogFormat::IstioAccessQuoted;
            f.enrollment_log = EnrollmentLogFormat::AddingPodToMesh;
            f.waypoint = WAYPOINT_1_22;
            // go.mod of 1.24.0:108: v1.2.0 [V]; later releases differ ([`gateway_api_release`]).
            f.waypoint.gateway_api_crds = GatewayApiCrds::Release("v1.2.0");
        }
    }
    f
}

/// The facts of one Istio version: its era's, corrected where a patch release changed something
/// inside the era, and with the Gateway API CRDs of that release. A build without a patch number
/// (a dev build, a source build) gets the facts of its minor's `.0`.
pub fn facts_for(v: &IstioVersion) -> EraFacts {
    let mut f = facts(v.era());
    if matches!(v.kind, VersionKind::ExperimentalAmbient { .. }) {
        return f;
    }
    let patch = match &v.kind {
        VersionKind::Release { patch, .. } => *patch,
        _ => 0,
    };
    // ztunnel's chart had no node selector before 1.19.0 (1.18.0
    // manifests/charts/ztunnel/templates/daemonset.yaml:29-36; never backported) [V].
    if v.minor == 18 {
        f.ztunnel_node_selector = None;
    }
    // 1.22.2 shipped ztunnel 1.22.2 (istio.deps 085565a8) with every access-log string quoted,
    // and istio-cni's `adding pod to the mesh` in scope `cni-agent` (commits b210c2b2e33,
    // bce4b605eea, both in tag 1.22.2) [V].
    if v.minor == 22 && patch >= 2 {
        f.access_log = AccessLogFormat::IstioAccessQuoted;
        f.enrollment_log = EnrollmentLogFormat::AddingPodToMesh;
    }
    if let GatewayApiCrds::Release(_) = f.waypoint.gateway_api_crds {
        f.waypoint.gateway_api_crds = GatewayApiCrds::Release(gateway_api_release(v.minor, patch));
    }
    f
}

/// The gateway-api release whose `standard-install.yaml` an Istio release's waypoints need: the
/// `sigs.k8s.io/gateway-api` version in that release's go.mod, or, where go.mod pins a
/// pseudo-version (no release has it, its URL would 404), the release it equals in the CRDs.
/// Newer minors than the table knows get the newest row.
///
/// Two cautions from gateway-api itself: v0.6.2 and v0.8.0 bundle a validating webhook
/// (`failurePolicy: Fail`, GW@v0.6.2 config/webhook/admission_webhook.yaml:13) that must run before
/// a Gateway is accepted; v1.5.x ships the ValidatingAdmissionPolicy
/// `safe-upgrades.gateway.networking.k8s.io`, which refuses installing an older bundle over it.
pub const fn gateway_api_release(minor: u32, patch: u32) -> &'static str {
    match (minor, patch) {
        // 1.18.0 go.mod:105 [V].
        (..=18, _) => "v0.6.2",
        // 1.19.0 pins v0.8.0-rc1.0.20230816004229 (contained in v0.8.0, same served versions);
        // 1.19.1+ go.mod: v0.8.0 [V].
        (19, _) => "v0.8.0",
        // 1.20.0 go.mod:123 v1.0.0; 1.20.1+ pin v1.0.1-0.20231102234152, whose config/crd/standard
        // is v1.0.0's byte for byte; 1.21.x pin v1.0.1-0.20240112015229 (no v1.0.1 tag exists,
        // same served versions v1, v1beta1) [V].
        (20 | 21, _) => "v1.0.0",
        // 1.22.0 go.mod:121, 1.23.0 go.mod:113 [V].
        (22 | 23, _) => "v1.1.0",
        // 1.24.0 go.mod:108 v1.2.0; 1.24.2 pins v1.2.1-0.20241120211254 (v1.2.1 but for the
        // bundle-version annotation); 1.24.3+ and 1.25.0 go.mod:107 v1.2.1 [V].
        (24, 0..=1) => "v1.2.0",
        (24 | 25, _) => "v1.2.1",
        // 1.26.0 pins v1.3.0-rc.1.0.20250404104637 (v1.3.0 but for the annotation); 1.26.1+ and
        // 1.27.0 go.mod:109 v1.3.0 [V].
        (26 | 27, _) => "v1.3.0",
        // 1.28.0 go.mod:109 v1.4.0, v1.4.1 from 1.28.7; 1.29.0 go.mod:110 v1.4.0, v1.4.1 from
        // 1.29.3 [V].
        (28, 0..=6) | (29, 0..=2) => "v1.4.0",
        (28 | 29, _) => "v1.4.1",
        // 1.30.0 and 1.30.3 go.mod:112 [V].
        _ => "v1.5.1",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tutorial_build_is_the_2022_era() {
        assert_eq!(era_of(TUTORIAL_BUILD), Ok(Era::Experimental2022));
    }

    #[test]
    fn releases_map_to_their_break_points() {
        let cases = [
            ("1.18.0", Era::Alpha1_18),
            ("1.20.8", Era::Alpha1_18),
            ("1.21.0", Era::InPod1_21),
            ("1.22.3", Era::Beta1_22),
            ("1.23.0", Era::Quoted1_23),
            ("1.24.2", Era::Ga1_24),
            ("1.30.3", Era::Ga1_24),
            ("1.31.0-rc.0", Era::Ga1_24),
            ("1.99.0", Era::Ga1_24),
            (
                "1.25-alpha.0123456789abcdef0123456789abcdef01234567",
                Era::Ga1_24,
            ),
        ];
        for (v, era) in cases {
            assert_eq!(era_of(v), Ok(era), "{v}");
        }
    }

    #[test]
    fn bad_versions_are_named_errors() {
        for v in [
            "",
            "latest",
            "1.24",
            "1.24.x",
            "v1.24.2",
            "1.24.2-foo.1",
            "2.0.0",
            "0.0.0-ambient.zz",
        ] {
            let err = era_of(v).unwrap_err();
            assert!(
                matches!(err, VersionError::Unparseable { .. }),
                "{v}: {err}"
            );
            assert!(
                err.to_string().contains("1.24.2"),
                "error says what is accepted: {err}"
            );
        }
        assert!(matches!(
            era_of("1.17.2"),
            Err(VersionError::BeforeAmbient { .. })
        ));
    }

    #[test]
    fn only_the_2022_era_installs_an_ingress_gateway() {
        for era in Era::ALL {
            let f = facts(era);
            assert_eq!(f.ingress_gateway, era == Era::Experimental2022, "{era}");
            let has_line = f
                .install_lines
                .iter()
                .any(|l| l.contains("Ingress gateways"));
            assert_eq!(has_line, f.ingress_gateway, "{era}");
            assert_eq!(f.ztunnel_container, "istio-proxy");
        }
    }

    #[test]
    fn gateway_api_crds_come_from_a_release_after_2022() {
        assert_eq!(
            facts(Era::Experimental2022).waypoint.gateway_api_crds.url(),
            None
        );
        let url = facts(Era::Ga1_24).waypoint.gateway_api_crds.url().unwrap();
        assert!(url.ends_with("/v1.2.0/standard-install.yaml"), "{url}");
    }

    fn of(v: &str) -> EraFacts {
        facts_for(&IstioVersion::parse(v).unwrap())
    }

    fn crds(v: &str) -> &'static str {
        match of(v).waypoint.gateway_api_crds {
            GatewayApiCrds::Release(r) => r,
            GatewayApiCrds::InstalledByIstioctl => "by istioctl",
        }
    }

    #[test]
    fn each_release_gets_the_gateway_api_crds_of_its_own_go_mod() {
        let cases = [
            ("1.18.0", "v0.6.2"),
            ("1.18.7", "v0.6.2"),
            ("1.19.0", "v0.8.0"),
            ("1.20.0", "v1.0.0"),
            ("1.21.6", "v1.0.0"),
            ("1.22.0", "v1.1.0"),
            ("1.23.3", "v1.1.0"),
            ("1.24.0", "v1.2.0"),
            ("1.24.1", "v1.2.0"),
            ("1.24.2", "v1.2.1"),
            ("1.25.0", "v1.2.1"),
            ("1.26.0", "v1.3.0"),
            ("1.27.5", "v1.3.0"),
            ("1.28.6", "v1.4.0"),
            ("1.28.7", "v1.4.1"),
            ("1.29.2", "v1.4.0"),
            ("1.29.3", "v1.4.1"),
            ("1.30.0", "v1.5.1"),
            ("1.30.3", "v1.5.1"),
            ("1.31-dev", "v1.5.1"),
            (TUTORIAL_BUILD, "by istioctl"),
        ];
        for (v, want) in cases {
            assert_eq!(crds(v), want, "{v}");
        }
        // No row is a pseudo-version (no release carries one: its URL would 404).
        for minor in 18..=40 {
            for patch in 0..=12 {
                let r = gateway_api_release(minor, patch);
                assert!(
                    r.starts_with('v') && !r.contains('-'),
                    "1.{minor}.{patch}: {r}"
                );
            }
        }
    }

    #[test]
    fn patch_releases_that_changed_a_fact_inside_their_era() {
        // ztunnel has a node selector from 1.19.0.
        assert_eq!(of("1.18.7").ztunnel_node_selector, None);
        assert_eq!(
            of("1.19.0").ztunnel_node_selector,
            Some(("kubernetes.io/os", "linux"))
        );
        assert_eq!(of("1.18.7").era, Era::Alpha1_18);
        // 1.22.2 quotes every access-log string and logs `adding pod to the mesh`.
        for (v, log, cni) in [
            (
                "1.22.0",
                AccessLogFormat::IstioAccessUnquoted,
                EnrollmentLogFormat::InPodAddingPod,
            ),
            (
                "1.22.1",
                AccessLogFormat::IstioAccessUnquoted,
                EnrollmentLogFormat::InPodAddingPod,
            ),
            (
                "1.22.2",
                AccessLogFormat::IstioAccessQuoted,
                EnrollmentLogFormat::AddingPodToMesh,
            ),
            (
                "1.22.8",
                AccessLogFormat::IstioAccessQuoted,
                EnrollmentLogFormat::AddingPodToMesh,
            ),
            (
                "1.22-dev",
                AccessLogFormat::IstioAccessUnquoted,
                EnrollmentLogFormat::InPodAddingPod,
            ),
        ] {
            let f = of(v);
            assert_eq!(
                (f.era, f.access_log, f.enrollment_log),
                (Era::Beta1_22, log, cni),
                "{v}"
            );
        }
        // Icons in the install lines from 1.23.0, not 1.24.
        assert_eq!(of("1.22.8").install_lines, INSTALL_LINES_1_18);
        assert_eq!(of("1.23.0").install_lines, INSTALL_LINES_ICONS);
        assert_eq!(of("1.23.0").install_variant, "1.23");
        // The tutorial's own build is exactly its era.
        assert_eq!(of(TUTORIAL_BUILD), facts(Era::Experimental2022));
    }

    #[test]
    fn provenance_names_the_release_that_changed_the_fact() {
        let since = |v: &str, fact| provenance(&of(v), fact).since;
        assert_eq!(
            since("1.18.0", Fact::ZtunnelNodeSelector),
            "the 2022 build and 1.18.x"
        );
        assert_eq!(since("1.30.3", Fact::ZtunnelNodeSelector), "1.19");
        assert_eq!(since("1.22.1", Fact::AccessLog), "1.22.0");
        assert_eq!(since("1.22.2", Fact::AccessLog), "1.22.2");
        assert_eq!(since("1.30.3", Fact::EnrollmentLog), "1.22.2");
        assert_eq!(since("1.21.0", Fact::EnrollmentLog), "1.21");
        assert_eq!(since("1.23.0", Fact::InstallLines), "1.23");
        assert_eq!(since("1.22.0", Fact::InstallLines), "1.18");
        assert_eq!(since(TUTORIAL_BUILD, Fact::InstallLines), "the 2022 build");
        assert!(
            provenance(&of("1.24.0"), Fact::InstallLines)
                .source
                .contains("component.go")
        );
        assert!(
            provenance(&of("1.23.0"), Fact::InstallLines)
                .source
                .contains("name.go")
        );
    }

    #[test]
    fn waypoint_facts_name_the_release_and_the_source_of_their_era() {
        let at = |v: &str| facts_for(&IstioVersion::parse(v).unwrap());
        for (v, since, declared_in, named_in) in [
            (
                TUTORIAL_BUILD,
                "the 2022 build",
                "waypoint_controller.go",
                "<sa>-waypoint-proxy",
            ),
            (
                "1.18.0",
                "1.18",
                "istioctl/cmd/waypoint.go",
                "getDefaultName",
            ),
            (
                "1.21.0",
                "1.18",
                "istioctl/cmd/waypoint.go",
                "getDefaultName",
            ),
            ("1.22.0", "1.22", "istioctl/pkg/waypoint", "classinfo.go"),
            ("1.30.3", "1.22", "istioctl/pkg/waypoint", "classinfo.go"),
        ] {
            let f = at(v);
            let declaration = provenance(&f, Fact::WaypointDeclaration);
            let deployment = provenance(&f, Fact::WaypointDeployment);
            let identity = provenance(&f, Fact::WaypointIdentity);
            assert_eq!(
                (
                    declaration.since.as_str(),
                    deployment.since.as_str(),
                    identity.since.as_str()
                ),
                (since, since, since),
                "{v}"
            );
            assert!(
                declaration.source.contains(declared_in),
                "{v}: {}",
                declaration.source
            );
            assert!(
                deployment.source.contains(named_in),
                "{v}: {}",
                deployment.source
            );
        }
    }

    #[test]
    fn each_era_has_the_stable_name_records_and_snapshots_use() {
        let names: Vec<(&str, String)> = Era::ALL.iter().map(|e| (e.id(), e.to_string())).collect();
        assert_eq!(
            names,
            [
                ("exp2022", "exp2022".to_string()),
                ("1.18", "1.18".into()),
                ("1.21", "1.21".into()),
                ("1.22", "1.22".into()),
                ("1.23", "1.23".into()),
                ("1.24", "1.24".into()),
            ]
        );
    }

    #[test]
    fn near_miss_version_strings_are_refused() {
        let sha = "0123456789abcdef0123456789abcdef01234567";
        let not_hex = "0123456789abcdef0123456789abcdef0123456z";
        for raw in [
            "0.0.0-ambient.0123456".to_string(),
            format!("0.0.0-ambient.{not_hex}"),
            format!("1.25-alpha.{not_hex}"),
            "1.25-alpha.0123456".into(),
            format!("1.25-beta.{sha}"),
            "1..2".into(),
            "1.1234567.0".into(),
            "1.2x.0".into(),
        ] {
            assert!(
                matches!(
                    IstioVersion::parse(&raw),
                    Err(VersionError::Unparseable { .. })
                ),
                "{raw}"
            );
        }
        // Six digits is still a number; a dev build with a full sha is a build.
        assert_eq!(IstioVersion::parse("1.123456.0").unwrap().minor, 123456);
        assert!(IstioVersion::parse(&format!("1.25-alpha.{sha}")).is_ok());
        assert!(IstioVersion::parse(&format!("0.0.0-ambient.{sha}")).is_ok());
    }
}

/// A fact that differs between eras, for explaining why an observation differs from the
/// tutorial (a stale tutorial names the fact, its source and since which version).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fact {
    InstallLines,
    IngressGateway,
    ZtunnelNodeSelector,
    CniNodeSelector,
    EnrollmentLog,
    AccessLog,
    WaypointDeclaration,
    WaypointDeployment,
    WaypointIdentity,
}

/// What the Istio of `f` does for `fact`, since which version, and where that is written.
pub fn provenance(f: &EraFacts, fact: Fact) -> crate::claims::EraFact {
    let era = f.era;
    let (what, since, source): (String, &str, &str) = match fact {
        Fact::InstallLines => (
            format!("istioctl install prints {}", f.install_lines.join(" / ")),
            if f.install_lines == INSTALL_LINES_ICONS {
                "1.23"
            } else if era >= Era::Alpha1_18 {
                "1.18"
            } else {
                "the 2022 build"
            },
            if era >= Era::Ga1_24 {
                "istio/istio operator/pkg/component/component.go Icons, operator/pkg/util/progress/progress.go (1.24.0; same at 1.30.3)"
            } else if f.install_lines == INSTALL_LINES_ICONS {
                "istio/istio operator/pkg/name/name.go IstioComponentIcons, operator/pkg/util/progress/progress.go (1.23.0)"
            } else {
                "istio/istio operator/pkg/util/progress/progress.go; manifests/profiles/ambient.yaml (1.18.0)"
            },
        ),
        Fact::IngressGateway => (
            format!(
                "the ambient profile {} an istio-ingressgateway",
                if f.ingress_gateway {
                    "installs"
                } else {
                    "does not install"
                }
            ),
            if f.ingress_gateway {
                "the 2022 build"
            } else {
                "1.18"
            },
            "istio/istio manifests/profiles/ambient.yaml (1.18.0: ingress gateway disabled)",
        ),
        Fact::ZtunnelNodeSelector => (
            format!(
                "the ztunnel DaemonSet selects {}",
                f.ztunnel_node_selector
                    .map_or("<none>".to_string(), |(k, v)| format!("{k}={v}"))
            ),
            if f.ztunnel_node_selector.is_some() {
                "1.19"
            } else {
                "the 2022 build and 1.18.x"
            },
            "istio/istio manifests/charts/ztunnel/templates/daemonset.yaml (1.19.0:30-31, commit 6ce18804fea; absent in 1.18.x and in EXP's istio-discovery/templates/ambient.yaml)",
        ),
        Fact::CniNodeSelector => (
            format!(
                "the istio-cni DaemonSet selects {}",
                f.cni_node_selector
                    .map_or("<none>".to_string(), |(k, v)| format!("{k}={v}"))
            ),
            "the 2022 build",
            "istio/istio manifests/charts/istio-cni/templates/daemonset.yaml (EXP:45-46, 1.18.0-1.23.0:46-47, 1.24.0:50-51, 1.30.3:73-74)",
        ),
        Fact::EnrollmentLog => (
            format!(
                "istio-cni announces a pod joining the mesh as {:?}",
                f.enrollment_log
            ),
            match f.enrollment_log {
                EnrollmentLogFormat::NodeRoute => "the 2022 build",
                EnrollmentLogFormat::InPodAddingPod => "1.21",
                EnrollmentLogFormat::AddingPodToMesh => "1.22.2",
            },
            match f.enrollment_log {
                EnrollmentLogFormat::NodeRoute => {
                    "istio/istio cni/pkg/ambient/net.go (EXP, 1.18.0, 1.20.0)"
                }
                EnrollmentLogFormat::InPodAddingPod => {
                    "istio/istio cni/pkg/nodeagent/net.go (1.21.0 to 1.22.1)"
                }
                EnrollmentLogFormat::AddingPodToMesh => {
                    "istio/istio cni/pkg/nodeagent/net.go, net_linux.go (1.22.2 to 1.30.3)"
                }
            },
        ),
        Fact::AccessLog => (
            format!("ztunnel logs connections as {:?}", f.access_log),
            match f.access_log {
                AccessLogFormat::EnvoyText => "the 2022 build",
                AccessLogFormat::RustTracing => "1.18",
                AccessLogFormat::IstioAccessUnquoted => "1.22.0",
                AccessLogFormat::IstioAccessQuoted | AccessLogFormat::IstioAccessJson => "1.22.2",
            },
            match f.access_log {
                AccessLogFormat::EnvoyText => {
                    "istio/istio pilot/pkg/networking/ambientgen/ztunnelgen.go (EXP)"
                }
                AccessLogFormat::RustTracing => "istio/ztunnel src/proxy/outbound.rs (1.18.0)",
                AccessLogFormat::IstioAccessUnquoted => {
                    "istio/ztunnel src/proxy/metrics.rs (1.22.0 to 1.22.1)"
                }
                AccessLogFormat::IstioAccessQuoted | AccessLogFormat::IstioAccessJson => {
                    "istio/ztunnel src/proxy/metrics.rs (1.22.2, 1.23.0; same at 1.30.3)"
                }
            },
        ),
        Fact::WaypointDeclaration => (
            format!(
                "a waypoint is a {} Gateway of class {}",
                f.waypoint.gateway_api_version, f.waypoint.gateway_class
            ),
            match era {
                Era::Experimental2022 => "the 2022 build",
                Era::Alpha1_18 | Era::InPod1_21 => "1.18",
                _ => "1.22",
            },
            match era {
                Era::Experimental2022 => {
                    "istio/istio pilot/pkg/ambient/controller/waypoint_controller.go (EXP)"
                }
                Era::Alpha1_18 | Era::InPod1_21 => {
                    "istio/istio istioctl/cmd/waypoint.go (1.18.0); gateway-api v0.8.0 stopped serving v1alpha2 Gateways"
                }
                _ => {
                    "istio/istio istioctl/pkg/waypoint/waypoint.go (1.22.0); 1.22 upgrade notes \"New ambient mode waypoint attachment method\""
                }
            },
        ),
        Fact::WaypointDeployment => (
            format!(
                "istiod names the waypoint Deployment {}",
                f.waypoint.deployment
            ),
            match era {
                Era::Experimental2022 => "the 2022 build",
                Era::Alpha1_18 | Era::InPod1_21 => "1.18",
                _ => "1.22",
            },
            match era {
                Era::Experimental2022 => {
                    "istio/istio istio-discovery/files/waypoint.yaml (EXP: <sa>-waypoint-proxy)"
                }
                Era::Alpha1_18 | Era::InPod1_21 => {
                    "istio/istio pilot/pkg/config/kube/gateway getDefaultName (<gateway>-<class>)"
                }
                _ => {
                    "istio/istio pilot/pkg/config/kube/gatewaycommon/classinfo.go (waypoints: DisableNameSuffix); seen on the sim run of 1.31-dev"
                }
            },
        ),
        Fact::WaypointIdentity => (
            format!(
                "the waypoint presents the identity of service account {}",
                f.waypoint
                    .identity_service_account
                    .unwrap_or("(not in the log)")
            ),
            match era {
                Era::Experimental2022 => "the 2022 build",
                Era::Alpha1_18 | Era::InPod1_21 => "1.18",
                _ => "1.22",
            },
            "istio/istio manifests/charts/istio-control/istio-discovery/files/waypoint.yaml (serviceAccountName)",
        ),
    };
    crate::claims::EraFact {
        fact: what,
        since: since.to_string(),
        source: source.to_string(),
    }
}
