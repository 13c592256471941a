//! Documented claims: stable ids in tutorial order, verdicts, and the JSON-lines records the drift
//! report reads.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Sections of the tutorial, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    Installation,
    DemoApps,
    L4,
    L7,
    Kiali,
}

impl Section {
    pub fn title(self) -> &'static str {
        match self {
            Section::Installation => "Installation",
            Section::DemoApps => "Deploying the demo apps",
            Section::L4 => "L4 processing in ambient mode",
            Section::L7 => "L7 processing in ambient mode",
            Section::Kiali => "Kiali dashboard",
        }
    }
}

/// One thing the tutorial says should be there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    pub id: &'static str,
    pub section: Section,
    /// What the tutorial says, in a few words (not its prose).
    pub statement: &'static str,
    /// Only a real data plane (images, ztunnel, istio-cni, istiod acting, traffic) can decide it;
    /// the `sim` provider records it as not applicable.
    pub needs_data_plane: bool,
}

macro_rules! claims {
    ($($id:literal, $section:ident, $plane:ident, $statement:literal;)*) => {
        /// Every claim the suite checks, in tutorial order.
        pub const CLAIMS: &[Claim] = &[$(Claim {
            id: $id,
            section: Section::$section,
            statement: $statement,
            needs_data_plane: claims!(@plane $plane),
        }),*];
    };
    (@plane data) => { true };
    (@plane control) => { false };
}

claims! {
    "installation.istioctl_prints_component_lines", Installation, control, "istioctl install prints one ✔ line per component";
    "installation.istiod_available", Installation, control, "istiod runs in istio-system";
    "installation.ztunnel_one_pod_per_node", Installation, control, "one ztunnel per node";
    "installation.istio_cni_one_pod_per_node", Installation, control, "one istio-cni-node per node";
    "installation.three_ztunnels_on_three_nodes", Installation, control, "three ambient proxies on the three-node cluster";
    "installation.ingress_gateway_as_era_says", Installation, control, "istio-ingressgateway and its autoscaler run";
    "demo_apps.bookinfo_available", DemoApps, control, "the Bookinfo deployments run";
    "demo_apps.clients_available", DemoApps, control, "sleep and notsleep run";
    "demo_apps.pods_enrolled", DemoApps, data, "istio-cni adds each app pod to the ambient mesh";
    "demo_apps.no_sidecars", DemoApps, data, "app pods run without a sidecar";
    "l4.curl_returns_productpage", L4, data, "curl from sleep returns the product page";
    "l4.sleep_ztunnel_logs_outbound", L4, data, "sleep's ztunnel logs the outbound connection, no waypoint";
    "l4.productpage_ztunnel_logs_inbound", L4, data, "productpage's ztunnel logs the inbound connection";
    "l7.waypoint_declared", L7, control, "the productpage waypoint is accepted";
    "l7.waypoint_pod_running", L7, data, "the waypoint pod is Running";
    "l7.curl_returns_productpage", L7, data, "curl from sleep still returns the product page";
    "l7.sleep_ztunnel_logs_to_waypoint", L7, data, "sleep's ztunnel sends the connection to the server waypoint";
    "l7.productpage_ztunnel_logs_inbound", L7, data, "productpage's ztunnel logs the inbound connection";
    "kiali.rollout_completes", Kiali, control, "samples/addons apply and kiali rolls out";
    "kiali.dashboard_reachable", Kiali, data, "istioctl dashboard kiali serves the dashboard";
    "kiali.graph_shows_traffic", Kiali, data, "the graph shows traffic from sleep to productpage";
}

/// Looks a claim up by id.
pub fn claim(id: &str) -> Option<&'static Claim> {
    CLAIMS.iter().find(|c| c.id == id)
}

/// The outcome of checking one claim.
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

/// The record format version; the report refuses records of a newer one.
pub const RECORD_FORMAT: u32 = 1;

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
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// Appends claim records of one run to `<artifacts>/claims.jsonl`.
#[derive(Debug, Clone)]
pub struct Recorder {
    pub path: PathBuf,
    pub run_id: String,
    pub era: String,
    pub istio_version: String,
    pub provider: String,
}

impl Recorder {
    pub fn new(artifacts: &Path, era: &str, istio_version: &str, provider: &str) -> Self {
        let run_id = format!(
            "{}-{}",
            k8s_openapi::jiff::Timestamp::now().as_second(),
            std::process::id()
        );
        Recorder {
            path: artifacts.join("claims.jsonl"),
            run_id,
            era: era.into(),
            istio_version: istio_version.into(),
            provider: provider.into(),
        }
    }

    pub fn record(&self, claim_id: &str, verdict: &Verdict) -> std::io::Result<ClaimRecord> {
        let claim = claim(claim_id).ok_or_else(|| {
            std::io::Error::other(format!("unknown claim id {claim_id:?}: add it to CLAIMS"))
        })?;
        let record = ClaimRecord {
            format: RECORD_FORMAT,
            run_id: self.run_id.clone(),
            claim: claim.id.into(),
            section: claim.section,
            era: self.era.clone(),
            istio_version: self.istio_version.clone(),
            provider: self.provider.clone(),
            at: k8s_openapi::jiff::Timestamp::now().to_string(),
            verdict: verdict.clone(),
        };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut line = serde_json::to_string(&record).map_err(std::io::Error::other)?;
        line.push('\n');
        // One write of one line in append mode: concurrent tests do not interleave records.
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        f.write_all(line.as_bytes())?;
        Ok(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_ids_are_unique_and_name_their_section() {
        let mut ids: Vec<&str> = CLAIMS.iter().map(|c| c.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), CLAIMS.len());
        for c in CLAIMS {
            let prefix = c.id.split('.').next().unwrap();
            let section = serde_json::to_value(c.section).unwrap();
            assert_eq!(section, prefix, "{}", c.id);
        }
    }
}
