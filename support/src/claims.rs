//! Documented claims: typed ids in tutorial order, each anchored to the documented expectations
//! it checks; the three answers a claim gets per build (as documented, doc stale, drifted); and
//! the JSON-lines records the drift report reads (written by `crate::recorder`).

use serde::{Deserialize, Serialize};

use crate::tutorial::markdown::Lines;

/// Sections of the tutorial, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    Installation,
    DemoApps,
    L4,
    L7,
    Kiali,
    /// A page run as written (`crate::document`): its commands and shown outputs, by line.
    Document,
}

impl Section {
    pub fn title(self) -> &'static str {
        match self {
            Section::Installation => "Installation",
            Section::DemoApps => "Deploying the demo apps",
            Section::L4 => "L4 processing in ambient mode",
            Section::L7 => "L7 processing in ambient mode",
            Section::Kiali => "Kiali dashboard",
            Section::Document => "The page, run as written",
        }
    }
}

/// What is needed to decide a claim. A provider that lacks it records the claim as not
/// applicable, with what was observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Plane {
    /// The API server and the Kubernetes controllers.
    Control,
    /// Istio's control plane acting on the cluster (istiod's controllers).
    Istiod,
    /// Images, networking, ztunnel, istio-cni, traffic; and a pod's readiness, which only a
    /// running container decides (kwok marks pods Running and ready with nothing running).
    Data,
    /// The internet (the URLs the tutorial fetches).
    Network,
}

/// One thing the tutorial says should be there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    pub id: ClaimId,
    pub section: Section,
    /// What the tutorial says, in a few words (not its prose).
    pub statement: &'static str,
    pub plane: Plane,
    /// The documented expectations (ids from `crate::tutorial::expectations`) it checks; the
    /// first is the one its kind reads ([`Decide`]; [`Decide::UrlsServe`] reads each).
    pub anchors: &'static [&'static str],
    /// What decides it (`crate::registry::decide`).
    pub decide: Decide,
}

/// What decides a claim: a kind of statement with its parameters. A step reports what it
/// observed at a documented expectation, and every claim anchored there whose kind takes that
/// observation is decided by its kind's judge (`crate::registry`): a new statement of a known
/// kind is one row of the table below.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decide {
    /// Decided by its section through its own answer in `crate::answers`, on an observation no
    /// other claim reads (a DaemonSet per node, an install's output, a declaration's conditions).
    Custom,
    /// A pod of a listing, by NAME alone: one pod of the Deployment the documented row names (or
    /// the era's, where it renames it). The name is the controllers' decision, not a container's.
    PodNamed(PodRow),
    /// A pod of a listing, its NAME, READY, STATUS and RESTARTS as the documented row shows them.
    PodLine(PodRow),
    /// The client's ztunnel logged its outbound connection, straight to the service or to the
    /// waypoint; `snapshot` names the stored shape of the line that shows it.
    Outbound {
        via: Via,
        snapshot: Option<&'static str>,
    },
    /// The server's ztunnel logged the inbound connection, from the client or from the waypoint.
    Inbound {
        via: Via,
        snapshot: Option<&'static str>,
    },
    /// curl's reply: HTTP 200 and the product page's title.
    CurlPage,
    /// An object of a `kubectl get all` listing, its fields as the documented row shows them.
    ListedObject { row: &'static str, object: Listed },
    /// "One per node": every node runs exactly one ready pod of the component's DaemonSet, with
    /// the RESTARTS the listing shows.
    PerNode(Component),
    /// The NODE SELECTOR column of the component's DaemonSet row.
    NodeSelector(Component),
    /// Every URL its anchors document serves (HTTP 2xx).
    UrlsServe,
    /// Kiali's graph shows the edge `from → to` (`shown`), or no such edge.
    GraphEdge {
        from: &'static str,
        to: &'static str,
        shown: bool,
    },
}

/// Istio's per-node components, each a DaemonSet of the listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Component {
    Ztunnel,
    IstioCni,
}

/// The kinds of object a listing shows, as far as claims read their fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listed {
    /// TYPE and PORT(S).
    Service,
    /// DESIRED, CURRENT and READY of the Deployment's current ReplicaSet.
    ReplicaSet,
    /// REFERENCE, TARGETS (the CPU target), MINPODS and MAXPODS.
    Autoscaler,
}

impl Decide {
    /// The kind in a few words, for the README's table.
    pub fn describe(self) -> &'static str {
        match self {
            Decide::Custom => "its own answer",
            Decide::PodNamed(_) => "a listed pod, by name",
            Decide::PodLine(_) => "a listed pod's line",
            Decide::Outbound { .. } => "an outbound ztunnel line",
            Decide::Inbound { .. } => "an inbound ztunnel line",
            Decide::CurlPage => "curl's page",
            Decide::ListedObject { .. } => "a listed object's fields",
            Decide::PerNode(_) => "a DaemonSet, one pod per node",
            Decide::NodeSelector(_) => "a DaemonSet's node selector",
            Decide::GraphEdge { .. } => "an edge of Kiali's graph",
            Decide::UrlsServe => "URLs that serve",
        }
    }

    /// The stored snapshot of what the claim's observation rests on, where its kind keeps one
    /// (`tutorial__<section>__<name>@<format>.snap`).
    pub fn snapshot(self) -> Option<&'static str> {
        match self {
            Decide::Outbound { snapshot, .. } | Decide::Inbound { snapshot, .. } => snapshot,
            _ => None,
        }
    }
}

/// Which documented pod row a pod kind reads, and who names the pod in the era.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PodRow {
    /// The row's base name in a listing (`istiod` of `pod/istiod-<hash>-<suffix>`); `None` where
    /// the expectation is one pod line.
    pub row: Option<&'static str>,
    pub era: EraName,
}

/// The name the era gives what the document names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EraName {
    /// The document's name, in every era.
    Documented,
    /// The waypoint's Deployment (`crate::eras::WaypointFacts::deployment`).
    WaypointDeployment,
}

/// How a connection goes between the client and the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// Straight (L4).
    Direct,
    /// Through the server's waypoint (L7).
    Waypoint,
}

impl Claim {
    pub fn name(&self) -> &'static str {
        self.id.name()
    }
}

macro_rules! claims {
    ($($variant:ident = $name:literal, $section:ident, $plane:ident, [$($anchor:literal),*], $statement:literal, $decide:expr;)*) => {
        /// Every claim's id: a test can only name a claim that exists.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum ClaimId { $($variant),* }

        impl ClaimId {
            /// The stable name used in records, reports, snapshots and JUnit.
            pub fn name(self) -> &'static str {
                match self { $(ClaimId::$variant => $name),* }
            }
        }

        /// Every claim the suite checks, in tutorial order.
        pub const CLAIMS: &[Claim] = &[$(Claim {
            id: ClaimId::$variant,
            section: Section::$section,
            statement: $statement,
            plane: Plane::$plane,
            anchors: &[$($anchor),*],
            decide: $decide,
        }),*];
    };
}

// The kinds by their short names: a row of the table reads as its statement.
use Decide::{
    CurlPage, Custom, GraphEdge, Inbound, ListedObject, NodeSelector, Outbound, PerNode, PodLine,
    PodNamed, UrlsServe,
};

claims! {
    InstallationIstioArchiveAvailable = "installation.istio_archive_available", Installation, Network,
        ["installation.archive_url"], "the tutorial's archive URL serves its istioctl build", UrlsServe;
    InstallationIstioctlPrintsComponentLines = "installation.istioctl_prints_component_lines", Installation, Control,
        ["installation.install_output"], "istioctl install prints one ✔ line per component", Custom;
    InstallationIstiodAvailable = "installation.istiod_available", Installation, Data,
        ["installation.get_all.pod", "installation.get_all.deployment"], "istiod runs in istio-system, 1/1 ready", Custom;
    InstallationIstiodPodNamed = "installation.istiod_pod_named", Installation, Control,
        ["installation.get_all.pod"], "istiod's pod is named after its Deployment", PodNamed(PodRow { row: Some("istiod"), era: EraName::Documented });
    InstallationZtunnelOnePodPerNode = "installation.ztunnel_one_pod_per_node", Installation, Data,
        ["installation.get_all.pod", "installation.get_all.daemonset"], "one ztunnel per node", PerNode(Component::Ztunnel);
    InstallationIstioCniOnePodPerNode = "installation.istio_cni_one_pod_per_node", Installation, Data,
        ["installation.get_all.pod", "installation.get_all.daemonset"], "one istio-cni-node per node", PerNode(Component::IstioCni);
    InstallationIstioCniNodeSelector = "installation.istio_cni_node_selector", Installation, Control,
        ["installation.get_all.daemonset"], "the istio-cni-node DaemonSet selects kubernetes.io/os=linux", NodeSelector(Component::IstioCni);
    InstallationZtunnelNodeSelector = "installation.ztunnel_node_selector", Installation, Control,
        ["installation.get_all.daemonset"], "the ztunnel DaemonSet has the node selector shown", NodeSelector(Component::Ztunnel);
    InstallationIstiodService = "installation.istiod_service", Installation, Control,
        ["installation.get_all.service"], "service istiod is a ClusterIP on 15010, 15012, 443 and 15014", ListedObject { row: "istiod", object: Listed::Service };
    InstallationIngressGatewayAsEraSays = "installation.ingress_gateway_as_era_says", Installation, Control,
        ["installation.get_all.pod", "installation.get_all.service", "installation.get_all.deployment",
         "installation.get_all.replicaset", "installation.get_all.horizontalpodautoscaler"],
        "istio-ingressgateway: pod, LoadBalancer service, deployment, replicaset and autoscaler", Custom;
    InstallationIstiodReplicaset = "installation.istiod_replicaset", Installation, Control,
        ["installation.get_all.replicaset"], "istiod's ReplicaSet: 1 desired, 1 current, 1 ready", ListedObject { row: "istiod", object: Listed::ReplicaSet };
    InstallationIstiodAutoscaler = "installation.istiod_autoscaler", Installation, Control,
        ["installation.get_all.horizontalpodautoscaler"], "istiod's autoscaler: 1 to 5 replicas at 80% CPU", ListedObject { row: "istiod", object: Listed::Autoscaler };
    InstallationThreeZtunnelsOnThreeNodes = "installation.three_ztunnels_on_three_nodes", Installation, Data,
        ["installation.per_node_proxies"], "three ambient proxies on the three-node cluster", Custom;
    InstallationListedProxiesOnePerNode = "installation.listed_proxies_one_per_node", Installation, Data,
        ["installation.per_node_proxies"], "the pods listed as the ambient proxies run one per node", Custom;
    DemoAppsClientManifestsAvailable = "demo_apps.client_manifests_available", DemoApps, Network,
        ["demo_apps.sleep_manifest_url", "demo_apps.notsleep_manifest_url"], "the sleep and notsleep manifest URLs serve", UrlsServe;
    DemoAppsBookinfoAvailable = "demo_apps.bookinfo_available", DemoApps, Data,
        ["demo_apps.wait_for_pods"], "the Bookinfo deployments run", Custom;
    DemoAppsBookinfoGatewayApplied = "demo_apps.bookinfo_gateway_applied", DemoApps, Control,
        ["demo_apps.bookinfo_gateway"], "the Bookinfo gateway's objects are in the cluster", Custom;
    DemoAppsClientsAvailable = "demo_apps.clients_available", DemoApps, Data,
        ["demo_apps.wait_for_pods"], "sleep and notsleep run", Custom;
    DemoAppsPodsEnrolled = "demo_apps.pods_enrolled", DemoApps, Data,
        ["demo_apps.cni_routes"], "istio-cni adds each app pod to the ambient mesh", Custom;
    DemoAppsNoSidecars = "demo_apps.no_sidecars", DemoApps, Data,
        ["installation.non_ambient"], "app pods run without a sidecar, even pods created after the label", Custom;
    L4CurlReturnsProductpage = "l4.curl_returns_productpage", L4, Data,
        ["l4.curl_index_page"], "curl from sleep returns the product page", CurlPage;
    L4SleepZtunnelLogsOutbound = "l4.sleep_ztunnel_logs_outbound", L4, Data,
        ["l4.sleep_ztunnel_line"], "sleep's ztunnel logs the outbound connection, no waypoint", Outbound { via: Via::Direct, snapshot: Some("sleeps_ztunnel_logs_the_outbound_connection") };
    L4ProductpageZtunnelLogsInbound = "l4.productpage_ztunnel_logs_inbound", L4, Data,
        ["l4.productpage_ztunnel_line"], "productpage's ztunnel logs the inbound connection from sleep", Inbound { via: Via::Direct, snapshot: Some("productpages_ztunnel_logs_the_inbound_connection") };
    L7WaypointDeclared = "l7.waypoint_declared", L7, Istiod,
        ["l7.waypoint_declaration"], "the productpage waypoint declaration is accepted and acted on", Custom;
    L7WaypointPodNamed = "l7.waypoint_pod_named", L7, Istiod,
        ["l7.waypoint_pod_line"], "the waypoint's pod is named after the Deployment istiod makes for it", PodNamed(PodRow { row: None, era: EraName::WaypointDeployment });
    L7WaypointPodRunning = "l7.waypoint_pod_running", L7, Data,
        ["l7.waypoint_pod_line"], "the waypoint pod is Running, 1/1 ready", PodLine(PodRow { row: None, era: EraName::WaypointDeployment });
    L7CurlReturnsProductpage = "l7.curl_returns_productpage", L7, Data,
        ["l7.curl_index_page"], "curl from sleep still returns the product page", CurlPage;
    L7SleepZtunnelLogsToWaypoint = "l7.sleep_ztunnel_logs_to_waypoint", L7, Data,
        ["l7.sleep_ztunnel_line"], "sleep's ztunnel sends the connection to the server waypoint", Outbound { via: Via::Waypoint, snapshot: Some("sleep_ztunnel_to_waypoint") };
    L7ProductpageZtunnelLogsInbound = "l7.productpage_ztunnel_logs_inbound", L7, Data,
        ["l7.productpage_ztunnel_line"], "productpage's ztunnel logs the inbound connection from the waypoint", Inbound { via: Via::Waypoint, snapshot: None };
    KialiRolloutCompletes = "kiali.rollout_completes", Kiali, Data,
        ["kiali.addons", "kiali.rollout"], "samples/addons apply and kiali rolls out", Custom;
    KialiDashboardReachable = "kiali.dashboard_reachable", Kiali, Data,
        ["kiali.dashboard"], "istioctl dashboard kiali serves the dashboard", Custom;
    KialiGraphEmptyBeforeTraffic = "kiali.graph_empty_before_traffic", Kiali, Data,
        ["kiali.graph_may_be_empty"], "without a request in the past minute the graph shows no traffic", GraphEdge { from: "sleep", to: "productpage", shown: false };
    KialiGraphShowsTraffic = "kiali.graph_shows_traffic", Kiali, Data,
        ["kiali.graph_shows_traffic"], "the graph shows traffic from sleep to productpage", GraphEdge { from: "sleep", to: "productpage", shown: true };
}

/// Documented expectations no claim checks, each with the reason.
pub const UNCHECKED: &[(&str, &str)] = &[(
    "requirements.kind_config",
    "the suite creates its kind cluster from fixtures/kind/ambient.yaml; a hermetic test keeps that \
     file equal to this block, so a cluster claim would only re-read it",
)];

impl Plane {
    /// Who can decide a claim of this plane, for people.
    pub fn decided_by(self) -> &'static str {
        match self {
            Plane::Control => "any cluster (sim too)",
            Plane::Istiod => "a cluster where istiod acts (sim too)",
            Plane::Data => "a data plane (kind, k3s, existing)",
            Plane::Network => "a run with internet (not sim)",
        }
    }
}

/// The claims as a Markdown table, in tutorial order: the list the README shows (a hermetic test
/// keeps the README's copy equal to this).
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| claim | section | what the tutorial says | checked against | judged as | decided by |\n|---|---|---|---|---|---|\n",
    );
    for c in CLAIMS {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} |\n",
            c.name(),
            c.section.title(),
            c.statement,
            c.anchors
                .iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", "),
            c.decide.describe(),
            c.plane.decided_by()
        ));
    }
    for (id, why) in UNCHECKED {
        out.push_str(&format!(
            "| (none) | | `{id}` is not checked: {why} | | | |\n"
        ));
    }
    out
}

/// Looks a claim up by its name.
pub fn claim(name: &str) -> Option<&'static Claim> {
    CLAIMS.iter().find(|c| c.name() == name)
}

/// Looks a claim up by id. The macro writes the enum and the list from one table, in one order,
/// so an id's discriminant is its index.
pub fn of(id: ClaimId) -> &'static Claim {
    &CLAIMS[id as usize]
}

/// A single-reference verdict: what a judge says about an observation against one expectation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    Holds,
    Drifted {
        expected: String,
        actual: String,
    },
    /// The claim does not apply here (era or topology), with the reason.
    NotApplicable {
        why: String,
    },
    /// The suite could not observe it (an earlier step failed, or the provider cannot observe it).
    NotReached {
        why: String,
    },
}

impl Verdict {
    pub fn drifted(expected: impl Into<String>, actual: impl Into<String>) -> Self {
        Verdict::Drifted {
            expected: expected.into(),
            actual: actual.into(),
        }
    }

    pub fn holds_if(ok: bool, expected: impl Into<String>, actual: impl Into<String>) -> Self {
        if ok {
            Verdict::Holds
        } else {
            Verdict::drifted(expected, actual)
        }
    }

    pub fn is_failure(&self) -> bool {
        matches!(self, Verdict::Drifted { .. } | Verdict::NotReached { .. })
    }
}

/// Where a documented expectation is in the tutorial, and its text verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    /// The expectation's id (`installation.install_output`).
    pub expectation: String,
    pub lines: Lines,
    pub text: String,
}

/// A fact of the era (`crate::eras`) that explains why an observation differs from the tutorial.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EraFact {
    /// What this Istio does, in words.
    pub fact: String,
    /// Since which version.
    pub since: String,
    /// Where that is written.
    pub source: String,
}

/// The answer a claim gets on one build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum Answer {
    /// What was observed matches the tutorial.
    AsDocumented,
    /// Differs from the tutorial, and is what this Istio is known to do: the tutorial is stale.
    DocStale {
        documented: Anchor,
        /// What was observed (as the judge described it).
        observed: String,
        /// (`era_fact`: a record's `era` names the run's era.)
        #[serde(rename = "era_fact")]
        era: EraFact,
        /// The observed text that could replace the documented block verbatim (for `docpatch`),
        /// when the suite saw it whole.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        replacement: Option<String>,
    },
    /// Matches neither the tutorial nor what this Istio is known to do.
    Drifted {
        expected: String,
        actual: String,
        /// What the era would have made of it, where it differs from the tutorial.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        era_expected: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        documented: Option<Anchor>,
    },
    NotApplicable {
        why: String,
    },
    NotReached {
        why: String,
    },
    /// A record of format 1, before the suite told the document from the era.
    Holds,
}

impl Answer {
    /// Whether this answer fails its test: a drift or a claim not reached always; a stale
    /// tutorial only in strict docs mode (`AMBIENT_DOCS=strict`).
    pub fn is_failure(&self, strict_docs: bool) -> bool {
        match self {
            Answer::Drifted { .. } | Answer::NotReached { .. } => true,
            Answer::DocStale { .. } => strict_docs,
            _ => false,
        }
    }

    /// The answer in a few words and its details, for messages.
    pub fn describe(&self) -> String {
        match self {
            Answer::AsDocumented => "as documented".into(),
            Answer::Holds => "holds".into(),
            Answer::DocStale {
                documented,
                observed,
                era,
                ..
            } => format!(
                "the tutorial is stale here ({} {}):\n{}\nobserved: {observed}\nthis Istio: {} (since {}; {})",
                documented.expectation,
                documented.lines,
                documented.text,
                era.fact,
                era.since,
                era.source
            ),
            Answer::Drifted {
                expected,
                actual,
                era_expected,
                ..
            } => {
                let mut s = format!("expected: {expected}\nactual:   {actual}");
                if let Some(e) = era_expected {
                    s.push_str(&format!("\nthis Istio's era expects: {e}"));
                }
                s
            }
            Answer::NotApplicable { why } => format!("not applicable: {why}"),
            Answer::NotReached { why } => format!("not reached: {why}"),
        }
    }
}

/// The record format version; the report refuses records of a newer one.
/// 1: single-reference verdicts (`verdict`); 2: answers (`answer`).
pub const RECORD_FORMAT: u32 = 2;

/// One line of `claims.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimRecord {
    pub format: u32,
    pub run_id: String,
    pub claim: String,
    pub section: Section,
    pub era: String,
    pub istio_version: String,
    pub provider: String,
    pub at: String,
    /// The tutorial the run read its expectations from (absent in format 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tutorial: Option<String>,
    /// The `cargo nextest run` this record's test process belonged to (`NEXTEST_RUN_ID`): under
    /// nextest every test is a process with its own `run_id`, and this groups them into one run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nextest_run_id: Option<String>,
    /// The Istio commit the run's build came from (a source built by `fixtures/sim/build.sh`,
    /// a dev build's id), so two builds of the same label (`1.31-dev`) are told apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub istio_commit: Option<String>,
    /// That commit's time (RFC 3339, UTC), where known: it orders builds of one label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub istio_commit_date: Option<String>,
    #[serde(flatten)]
    pub answer: Answer,
}

impl ClaimRecord {
    /// The run this record belongs to: the nextest run when there was one, else the test process
    /// (`run_id`). The per-run JUnit file holds the records of one session.
    pub fn session(&self) -> &str {
        self.nextest_run_id.as_deref().unwrap_or(&self.run_id)
    }

    /// Reads a record of any format this suite knows.
    pub fn from_json(value: serde_json::Value) -> Result<Self, serde_json::Error> {
        if value.get("format").and_then(|f| f.as_u64()) == Some(1) {
            let v1: RecordV1 = serde_json::from_value(value)?;
            return Ok(v1.into());
        }
        serde_json::from_value(value)
    }
}

/// Format 1: a single-reference verdict.
#[derive(Deserialize)]
struct RecordV1 {
    run_id: String,
    claim: String,
    section: Section,
    era: String,
    istio_version: String,
    provider: String,
    at: String,
    #[serde(flatten)]
    verdict: Verdict,
}

impl From<RecordV1> for ClaimRecord {
    fn from(v: RecordV1) -> Self {
        ClaimRecord {
            format: 1,
            run_id: v.run_id,
            claim: v.claim,
            section: v.section,
            era: v.era,
            istio_version: v.istio_version,
            provider: v.provider,
            at: v.at,
            tutorial: None,
            nextest_run_id: None,
            istio_commit: None,
            istio_commit_date: None,
            answer: match v.verdict {
                Verdict::Holds => Answer::Holds,
                Verdict::Drifted { expected, actual } => Answer::Drifted {
                    expected,
                    actual,
                    era_expected: None,
                    documented: None,
                },
                Verdict::NotApplicable { why } => Answer::NotApplicable { why },
                Verdict::NotReached { why } => Answer::NotReached { why },
            },
        }
    }
}

/// The environment variable nextest sets to the same UUID in every test process of one run.
pub const NEXTEST_RUN_ID: &str = "NEXTEST_RUN_ID";

/// The nextest run this process is a test of: `NEXTEST_RUN_ID`, if it looks like nextest's (a
/// UUID); anything else is not a nextest run.
pub fn current_nextest_run_id() -> Option<String> {
    nextest_run_id(std::env::var_os(NEXTEST_RUN_ID))
}

fn nextest_run_id(value: Option<std::ffi::OsString>) -> Option<String> {
    let v = value?.into_string().ok()?;
    let ok =
        !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    ok.then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_names_are_unique_and_name_their_section() {
        let mut names: Vec<&str> = CLAIMS.iter().map(|c| c.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), CLAIMS.len());
        for c in CLAIMS {
            let prefix = c.name().split('.').next().unwrap();
            let section = serde_json::to_value(c.section).unwrap();
            assert_eq!(section, prefix, "{}", c.name());
            assert_eq!(of(c.id).name(), c.name());
            assert!(!c.anchors.is_empty(), "{} is anchored to nothing", c.name());
        }
    }

    #[test]
    fn strict_docs_mode_makes_a_stale_tutorial_fail() {
        let stale = Answer::DocStale {
            documented: Anchor {
                expectation: "x".into(),
                lines: Lines { start: 1, end: 1 },
                text: "t".into(),
            },
            observed: "o".into(),
            era: EraFact {
                fact: "f".into(),
                since: "1.24".into(),
                source: "s".into(),
            },
            replacement: None,
        };
        assert!(!stale.is_failure(false));
        assert!(stale.is_failure(true));
        assert!(!Answer::AsDocumented.is_failure(true));
        assert!(Answer::NotReached { why: "x".into() }.is_failure(false));
    }

    #[test]
    fn only_a_uuid_like_nextest_run_id_names_a_session() {
        let id = "1f79aa0d-4ec8-4a5c-aa83-5e8dc2f36573";
        assert_eq!(nextest_run_id(Some(id.into())), Some(id.to_string()));
        assert_eq!(nextest_run_id(None), None);
        assert_eq!(nextest_run_id(Some("".into())), None);
        assert_eq!(nextest_run_id(Some("../../etc".into())), None);
    }

    #[test]
    fn the_session_is_the_nextest_run_of_this_process_if_any() {
        // Under `cargo test` the variable is unset; nextest sets a UUID for the run.
        match std::env::var_os(NEXTEST_RUN_ID) {
            None => assert_eq!(current_nextest_run_id(), None),
            Some(v) => assert_eq!(current_nextest_run_id(), v.into_string().ok()),
        }
    }

    #[test]
    fn a_process_run_by_nextest_reads_its_run_id() {
        // This test binary again, for the test above alone, as nextest would start it.
        let id = "1f79aa0d-4ec8-4a5c-aa83-5e8dc2f36573";
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "claims::tests::the_session_is_the_nextest_run_of_this_process_if_any",
            ])
            .env(NEXTEST_RUN_ID, id)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        // It ran, exactly that one test, and it passed.
        assert!(out.status.success(), "{stdout}");
        assert!(stdout.contains("1 passed"), "{stdout}");
    }
}
