//! Two references per claim: what was observed is judged against the tutorial's documented
//! expectation and, where it differs, against what this Istio's era is known to do
//! (`crate::eras`):
//!
//! | observation matches   | answer          |
//! |-----------------------|-----------------|
//! | the document          | as documented   |
//! | the era, not the doc  | doc stale (with the era fact, its source, since when) |
//! | neither               | drifted         |
//!
//! On the tutorial's pinned build the two references are one: any difference is a drift. Every
//! function here is pure (observation in, answer out), so the hermetic tier replays recorded
//! observations through the same code the cluster tier runs.

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Pod, Service};

use crate::claims::{Anchor, Answer, EraName, PodRow, Verdict};
use crate::eras::{
    Era, EraFacts, Fact, IstioVersion, TUTORIAL_BUILD, facts, facts_for, provenance,
};
use crate::judge::{self, DeclarationOutcome, From, IngressGatewayParts, Traffic};
use crate::logs::AccessRecord;
use crate::snapshot::Compared;
use crate::tutorial::expectations::{Documented, Expectations, Expected};
use crate::tutorial::listing::{Row, Table};

/// The two references of one run.
#[derive(Debug, Clone)]
pub struct Refs<'a> {
    pub doc: &'a Expectations,
    pub era: Era,
    pub facts: EraFacts,
    /// The run is on the tutorial's own build: the document and the era are one reference.
    pub pinned: bool,
}

impl<'a> Refs<'a> {
    /// The references of a run of `istio_version` (of `era`): the release's own facts where the
    /// version parses ([`facts_for`]), else the era's.
    pub fn new(doc: &'a Expectations, istio_version: &str, era: Era) -> Self {
        let facts = match IstioVersion::parse(istio_version) {
            Ok(v) if v.era() == era => facts_for(&v),
            _ => facts(era),
        };
        Refs {
            doc,
            era,
            facts,
            pinned: istio_version == TUTORIAL_BUILD,
        }
    }
}

/// A claim's answer with the observed text it rests on: the line or row that decided it, as its
/// snapshot stores it (none where nothing was matched), so the snapshot needs no second run of
/// the judge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decided {
    pub answer: Answer,
    pub evidence: Option<String>,
}

impl Decided {
    /// An answer that rests on no matched text.
    pub fn bare(answer: Answer) -> Self {
        Decided {
            answer,
            evidence: None,
        }
    }
}

fn anchor(d: &Documented) -> Anchor {
    Anchor {
        expectation: d.id.clone(),
        lines: d.lines,
        text: d.text.clone(),
    }
}

/// The era's side of a comparison: its verdict and the fact that explains it.
pub struct EraSide {
    pub verdict: Verdict,
    /// The facts that explain it (more than one where the era changed several things the claim
    /// reads, e.g. a ztunnel line's format and the waypoint identity it names).
    pub facts: Vec<Fact>,
    /// The observed text that could replace the documented block.
    pub replacement: Option<String>,
}

/// Combines the document's verdict with the era's. `era` is `None` where the era expects what
/// the document says (a difference is then a drift).
///
/// The era is read even when the document holds: where this Istio is known to differ from the
/// tutorial, an observation that matches the tutorial but not this Istio's own behaviour is a
/// regression of this Istio (its own object with one thing broken), a drift, never "as
/// documented".
pub fn combine(
    refs: &Refs,
    documented: &Documented,
    doc: Verdict,
    era: impl FnOnce() -> Option<EraSide>,
) -> Answer {
    match doc {
        Verdict::Holds => {
            if refs.pinned {
                return Answer::AsDocumented;
            }
            match era() {
                Some(EraSide {
                    verdict: Verdict::Drifted { expected, actual },
                    ..
                }) => Answer::Drifted {
                    expected: format!("{expected} (as this Istio does; the tutorial's differs)"),
                    actual,
                    era_expected: Some(expected),
                    documented: Some(anchor(documented)),
                },
                _ => Answer::AsDocumented,
            }
        }
        Verdict::NotApplicable { why } => Answer::NotApplicable { why },
        Verdict::NotReached { why } => Answer::NotReached { why },
        Verdict::Drifted { expected, actual } => {
            let drifted = |era_expected| Answer::Drifted {
                expected: expected.clone(),
                actual: actual.clone(),
                era_expected,
                documented: Some(anchor(documented)),
            };
            if refs.pinned {
                return drifted(None);
            }
            match era() {
                Some(EraSide {
                    verdict: Verdict::Holds,
                    facts,
                    replacement,
                }) => Answer::DocStale {
                    documented: anchor(documented),
                    observed: actual.clone(),
                    era: provenance_of(&refs.facts, &facts),
                    replacement,
                },
                Some(EraSide {
                    verdict: Verdict::Drifted { expected: e, .. },
                    ..
                }) => drifted(Some(e)),
                _ => drifted(None),
            }
        }
    }
}

/// The provenance of one or more facts, as one: what each says, since when and where, joined.
pub fn provenance_of(f: &EraFacts, facts: &[Fact]) -> crate::claims::EraFact {
    let each: Vec<crate::claims::EraFact> = facts.iter().map(|x| provenance(f, *x)).collect();
    let join = |g: fn(&crate::claims::EraFact) -> &str| {
        let mut parts: Vec<&str> = each.iter().map(g).collect();
        parts.dedup();
        parts.join("; ")
    };
    crate::claims::EraFact {
        fact: join(|e| &e.fact),
        since: join(|e| &e.since),
        source: join(|e| &e.source),
    }
}

/// Puts a claim's stored snapshot into its answer: an answer that holds (as documented, or a
/// known change of this Istio) whose observation differs from the snapshot is a drift, with both
/// texts. A missing snapshot, or an answer that does not hold, leaves the answer as it is; a
/// snapshot that could not be read leaves the claim not reached, with why.
pub fn against_snapshot(answer: Answer, compared: &Compared) -> Answer {
    if let Compared::Unreadable { why } = compared {
        return Answer::NotReached { why: why.clone() };
    }
    let Compared::Differs {
        path,
        stored,
        observed,
    } = compared
    else {
        return answer;
    };
    let documented = match &answer {
        Answer::AsDocumented | Answer::Holds => None,
        Answer::DocStale { documented, .. } => Some(documented.clone()),
        _ => return answer,
    };
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    Answer::Drifted {
        expected: format!("the stored snapshot {name}:\n{stored}"),
        actual: format!("observed (redacted as the snapshot is):\n{observed}"),
        era_expected: None,
        documented,
    }
}

/// Finds the claim's documented expectation; a tutorial that no longer documents it makes the
/// claim not applicable (doc sync names the removal).
fn documented<'d>(refs: &Refs<'d>, id: &str) -> Result<&'d Documented, Box<Answer>> {
    refs.doc.get(id).ok_or_else(|| {
        Box::new(Answer::NotApplicable {
            why: format!("the tutorial documents no {id} (edited? see ambient-spec docsync)"),
        })
    })
}

fn unreadable(d: &Documented, what: &str) -> Answer {
    Answer::NotApplicable {
        why: format!(
            "the tutorial's {} ({}) does not show {what} in a form the suite reads",
            d.id, d.lines
        ),
    }
}

/// A failed observation: a drift from what the tutorial says, with the error and its causes.
pub fn unobserved(
    refs: &Refs,
    id: &str,
    expected: &str,
    e: &(dyn std::error::Error + 'static),
) -> Answer {
    not_observed(refs, id, expected, &crate::errors::chain(e))
}

/// A failed observation, by why (the error and its causes, in words): a drift from what the
/// tutorial says.
pub fn not_observed(refs: &Refs, id: &str, expected: &str, why: &str) -> Answer {
    Answer::Drifted {
        expected: expected.into(),
        actual: why.into(),
        era_expected: None,
        documented: refs.doc.get(id).map(anchor),
    }
}

macro_rules! try_doc {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(answer) => return *answer,
        }
    };
}

fn table(d: &Documented) -> Option<&Table> {
    match &d.expected {
        Expected::Listing { table } | Expected::PerNode { table, .. } => Some(table),
        _ => None,
    }
}

fn row<'d>(d: &'d Documented, base: &str) -> Option<&'d Row> {
    table(d)?.named(base).into_iter().next()
}

/// "Installation" step 1: the archive URL the tutorial downloads still serves. `status` is the
/// HTTP status of a request for it (or why there was none).
pub fn archive_available(refs: &Refs, status: &Result<u16, String>) -> Answer {
    url_answer(refs, "installation.archive_url", status)
}

/// The sleep and notsleep manifests the tutorial applies from GitHub still serve.
pub fn manifests_available(refs: &Refs, statuses: &[(String, Result<u16, String>)]) -> Answer {
    let ids = [
        "demo_apps.sleep_manifest_url",
        "demo_apps.notsleep_manifest_url",
    ];
    urls_serve(refs, &ids, statuses)
}

/// Each URL the expectations `ids` document serves (HTTP 2xx): `statuses` holds what a request
/// for each URL probed got (or why there was none); a documented URL not probed drifts.
pub fn urls_serve(refs: &Refs, ids: &[&str], statuses: &[(String, Result<u16, String>)]) -> Answer {
    for id in ids {
        let d = try_doc!(documented(refs, id));
        let Expected::Url { url } = &d.expected else {
            return unreadable(d, "a URL");
        };
        let status = statuses
            .iter()
            .find(|(u, _)| u == url)
            .map(|(_, s)| s.clone())
            .unwrap_or_else(|| Err(format!("{url} was not probed")));
        let answer = url_answer(refs, id, &status);
        if answer != Answer::AsDocumented {
            return answer;
        }
    }
    Answer::AsDocumented
}

fn url_answer(refs: &Refs, id: &str, status: &Result<u16, String>) -> Answer {
    let d = try_doc!(documented(refs, id));
    let Expected::Url { url } = &d.expected else {
        return unreadable(d, "a URL");
    };
    let verdict = match status {
        Ok(code) => Verdict::holds_if(
            (200..300).contains(code),
            format!("{url} serves (HTTP 2xx)"),
            format!("{url}: HTTP {code}"),
        ),
        Err(e) => Verdict::drifted(format!("{url} serves (HTTP 2xx)"), format!("{url}: {e}")),
    };
    combine(refs, d, verdict, || None)
}

/// "Installation" step 4: the `✔` lines istioctl printed (compared as a set: istioctl prints them
/// in completion order).
pub fn install_lines(refs: &Refs, printed: &[String]) -> Answer {
    let d = try_doc!(documented(refs, "installation.install_output"));
    let Expected::InstallOutput { lines } = &d.expected else {
        return unreadable(d, "install lines");
    };
    let doc_lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let doc = judge::install_lines(&doc_lines, printed);
    combine(refs, d, doc, || {
        Some(EraSide {
            verdict: judge::install_lines(refs.facts.install_lines, printed),
            facts: vec![Fact::InstallLines],
            replacement: Some(printed.join("\n")),
        })
    })
}

/// `deployment.apps/istiod 1/1` and `pod/istiod-… 1/1 Running 0`: the Deployment's READY, then
/// its pod's READY, STATUS and RESTARTS as the listing's pod row shows them.
pub fn istiod_available(refs: &Refs, istiod: &Deployment, pods: &[Pod]) -> Answer {
    let d = try_doc!(documented(refs, "installation.get_all.deployment"));
    let Some(ready) = row(d, "istiod").and_then(|r| r.get("READY")) else {
        return unreadable(d, "deployment istiod");
    };
    let listed_pod = refs
        .doc
        .get("installation.get_all.pod")
        .and_then(|p| row(p, "istiod"))
        .and_then(pod_columns);
    let Some(columns) = listed_pod else {
        return unreadable(d, "pod istiod-<hash>-<suffix>");
    };
    let available = judge::deployment_ready(istiod, ready);
    let verdict = if available.is_failure() {
        available
    } else {
        judge::pod_line(pods, "istiod", columns)
    };
    combine(refs, d, verdict, || None)
}

/// The RESTARTS the listing shows for the pods of `base` (`istio-cni-node`, `ztunnel`), in the
/// table `id`.
fn documented_restarts<'d>(refs: &Refs<'d>, id: &str, base: &str) -> Option<&'d str> {
    let d = refs.doc.get(id)?;
    let rows = table(d)?.named(base);
    rows.first()?.get("RESTARTS")
}

/// One ready pod per node, and each with the RESTARTS the listing shows (`0`).
fn per_node_with_restarts(
    ds: &DaemonSet,
    pods: &[Pod],
    nodes: &[String],
    restarts: &str,
) -> Verdict {
    let per_node = judge::one_pod_per_node(ds, pods, nodes);
    if per_node.is_failure() {
        return per_node;
    }
    judge::restarts(pods, restarts)
}

pub use crate::claims::Component;

/// The DaemonSet of a component in the era.
fn component_daemonset(c: Component, f: &EraFacts) -> &'static str {
    match c {
        Component::Ztunnel => f.ztunnel_daemonset,
        Component::IstioCni => f.cni_daemonset,
    }
}

/// "One per node": the listing shows one ready pod of the DaemonSet per node of its cluster;
/// here every node runs exactly one ready pod of it.
pub fn one_pod_per_node(
    refs: &Refs,
    component: Component,
    ds: &DaemonSet,
    pods: &[Pod],
    nodes: &[String],
) -> Answer {
    let d = try_doc!(documented(refs, "installation.get_all.daemonset"));
    let name = component_daemonset(component, &refs.facts);
    if row(d, name).is_none() {
        return unreadable(d, &format!("daemonset {name}"));
    }
    let Some(restarts) = documented_restarts(refs, "installation.get_all.pod", name) else {
        return unreadable(d, &format!("the RESTARTS of the pods of {name}"));
    };
    combine(
        refs,
        d,
        per_node_with_restarts(ds, pods, nodes, restarts),
        || None,
    )
}

/// The NODE SELECTOR column of the DaemonSet's row.
pub fn node_selector(refs: &Refs, component: Component, ds: &DaemonSet) -> Answer {
    let d = try_doc!(documented(refs, "installation.get_all.daemonset"));
    let name = component_daemonset(component, &refs.facts);
    let Some(selector) = row(d, name).and_then(|r| r.get("NODE SELECTOR")) else {
        return unreadable(d, &format!("the node selector of daemonset {name}"));
    };
    let doc = judge::node_selector(ds, selector);
    let era = match component {
        Component::Ztunnel => refs.facts.ztunnel_node_selector,
        Component::IstioCni => refs.facts.cni_node_selector,
    };
    let era_text = era.map_or("<none>".to_string(), |(k, v)| format!("{k}={v}"));
    let fact = match component {
        Component::Ztunnel => Fact::ZtunnelNodeSelector,
        Component::IstioCni => Fact::CniNodeSelector,
    };
    combine(refs, d, doc, || {
        Some(EraSide {
            verdict: judge::node_selector(ds, &era_text),
            facts: vec![fact],
            replacement: None,
        })
    })
}

/// `service/istiod ClusterIP … 15010/TCP,15012/TCP,443/TCP,15014/TCP`.
pub fn istiod_service(refs: &Refs, svc: Option<&Service>) -> Answer {
    listed_service(refs, "installation.get_all.service", "istiod", svc)
}

/// A listed Service (the row `name` of the table `id`): its TYPE and PORT(S).
pub fn listed_service(refs: &Refs, id: &str, name: &str, svc: Option<&Service>) -> Answer {
    let d = try_doc!(documented(refs, id));
    let Some(r) = row(d, name) else {
        return unreadable(d, &format!("service {name}"));
    };
    let (Some(type_), Some(ports)) = (r.get("TYPE"), r.get("PORT(S)")) else {
        return unreadable(d, &format!("the type and ports of service {name}"));
    };
    combine(
        refs,
        d,
        judge::service(svc, name, type_, &judge::ports_of(ports)),
        || None,
    )
}

/// The istio-ingressgateway's objects, where they were found: each row the tutorial lists.
#[derive(Debug, Clone, Copy, Default)]
pub struct IngressGatewayObjects<'a> {
    pub service: Option<&'a Service>,
    pub autoscaler: Option<&'a HorizontalPodAutoscaler>,
    pub deployment: Option<&'a Deployment>,
    /// The Deployment's current ReplicaSet.
    pub replicaset: Option<&'a ReplicaSet>,
    /// The Deployment's pods.
    pub pods: &'a [Pod],
}

/// The tutorial lists an istio-ingressgateway pod, service, deployment, replicaset and autoscaler:
/// all of them or none is there, and where they are, the Service has the listed type and ports
/// and the autoscaler the listed range and CPU target. The answer is anchored to every row that
/// lists one (the lines from the first to the last, the rows' text).
pub fn ingress_gateway(
    refs: &Refs,
    found: IngressGatewayParts,
    objects: IngressGatewayObjects,
) -> Answer {
    let tables = [
        "installation.get_all.pod",
        "installation.get_all.service",
        "installation.get_all.deployment",
        "installation.get_all.replicaset",
        "installation.get_all.horizontalpodautoscaler",
    ];
    let deployments = try_doc!(documented(refs, "installation.get_all.deployment"));
    let rows: Vec<&Row> = tables
        .iter()
        .filter_map(|id| refs.doc.get(id))
        .filter_map(table)
        .flat_map(|t| t.named("istio-ingressgateway"))
        .collect();
    let listed = row(deployments, "istio-ingressgateway").is_some();
    let d = match (rows.first(), rows.last()) {
        (Some(first), Some(last)) => Documented {
            id: "installation.get_all (istio-ingressgateway)".into(),
            lines: crate::tutorial::markdown::Lines {
                start: first.line,
                end: last.line,
            },
            text: rows
                .iter()
                .filter_map(|r| refs.doc.text_line(r.line))
                .collect::<Vec<_>>()
                .join("\n"),
            ..deployments.clone()
        },
        _ => deployments.clone(),
    };
    let d = &d;
    let presence = judge::ingress_gateway(found, listed);
    let doc = if presence == Verdict::Holds && listed {
        ingress_gateway_as_listed(refs, objects)
    } else {
        presence
    };
    combine(refs, d, doc, || {
        Some(EraSide {
            verdict: judge::ingress_gateway(found, refs.facts.ingress_gateway),
            facts: vec![Fact::IngressGateway],
            replacement: None,
        })
    })
}

/// Every listed row of the ingress gateway, read: its pod (READY, STATUS, RESTARTS), Service
/// (type, ports), Deployment (READY), ReplicaSet (desired, current, ready) and autoscaler (range,
/// CPU); the first that differs is the drift, and a row the suite cannot read makes the whole
/// not applicable.
fn ingress_gateway_as_listed(refs: &Refs, objects: IngressGatewayObjects) -> Verdict {
    const NAME: &str = "istio-ingressgateway";
    let listed = |id: &str| refs.doc.get(id).and_then(|d| row(d, NAME));
    let pod = listed("installation.get_all.pod")
        .and_then(pod_columns)
        .map(|columns| judge::pod_line(objects.pods, NAME, columns));
    let service = listed("installation.get_all.service").and_then(|r| {
        Some(judge::service(
            objects.service,
            NAME,
            r.get("TYPE")?,
            &judge::ports_of(r.get("PORT(S)")?),
        ))
    });
    let deployment = listed("installation.get_all.deployment")
        .and_then(|r| r.get("READY"))
        .map(|ready| match objects.deployment {
            Some(d) => judge::deployment_ready(d, ready),
            None => Verdict::drifted(
                format!("deployment {NAME} READY {ready}"),
                format!("no deployment {NAME}"),
            ),
        });
    let replicaset = listed("installation.get_all.replicaset").and_then(|r| {
        let counts = (
            count(r, "DESIRED")?,
            count(r, "CURRENT")?,
            count(r, "READY")?,
        );
        Some(judge::replicaset(objects.replicaset, NAME, counts))
    });
    let autoscaler = listed("installation.get_all.horizontalpodautoscaler")
        .and_then(documented_autoscaler)
        .map(|(target, min, max, cpu)| {
            judge::autoscaler(objects.autoscaler, &target, min, max, cpu)
        });
    let checks = [pod, service, deployment, replicaset, autoscaler];
    if checks.iter().any(Option::is_none) {
        return Verdict::NotApplicable {
            why: "the tutorial's rows of istio-ingressgateway are not in a form the suite reads"
                .into(),
        };
    }
    checks
        .into_iter()
        .flatten()
        .find(Verdict::is_failure)
        .unwrap_or(Verdict::Holds)
}

/// `Deployment/<target> <unknown>/80% 1 5 1`: (target, min, max, CPU %).
fn documented_autoscaler(r: &Row) -> Option<(String, i32, i32, i32)> {
    let target = r.get("REFERENCE")?.strip_prefix("Deployment/")?.to_string();
    let cpu = r
        .get("TARGETS")?
        .rsplit_once('/')?
        .1
        .trim_end_matches('%')
        .parse()
        .ok()?;
    Some((target, count(r, "MINPODS")?, count(r, "MAXPODS")?, cpu))
}

fn count(r: &Row, column: &str) -> Option<i32> {
    r.get(column)?.parse().ok()
}

/// `replicaset.apps/istiod-<hash> 1 1 1`.
pub fn istiod_replicaset(refs: &Refs, rs: Option<&ReplicaSet>) -> Answer {
    listed_replicaset(refs, "installation.get_all.replicaset", "istiod", rs)
}

/// A listed ReplicaSet (the row of Deployment `owner` in the table `id`): DESIRED, CURRENT and
/// READY.
pub fn listed_replicaset(refs: &Refs, id: &str, owner: &str, rs: Option<&ReplicaSet>) -> Answer {
    let d = try_doc!(documented(refs, id));
    let counts = row(d, owner).and_then(|r| {
        Some((
            count(r, "DESIRED")?,
            count(r, "CURRENT")?,
            count(r, "READY")?,
        ))
    });
    let Some(counts) = counts else {
        return unreadable(d, &format!("replicaset {owner}-<hash>"));
    };
    combine(refs, d, judge::replicaset(rs, owner, counts), || None)
}

/// `horizontalpodautoscaler.autoscaling/istiod Deployment/istiod <unknown>/80% 1 5 1`.
pub fn istiod_autoscaler(refs: &Refs, hpa: Option<&HorizontalPodAutoscaler>) -> Answer {
    listed_autoscaler(
        refs,
        "installation.get_all.horizontalpodautoscaler",
        "istiod",
        hpa,
    )
}

/// A listed autoscaler (the row `name` of the table `id`): its target, range and CPU target.
pub fn listed_autoscaler(
    refs: &Refs,
    id: &str,
    name: &str,
    hpa: Option<&HorizontalPodAutoscaler>,
) -> Answer {
    let d = try_doc!(documented(refs, id));
    let Some((target, min, max, cpu)) = row(d, name).and_then(documented_autoscaler) else {
        return unreadable(d, &format!("the autoscaler of {name}"));
    };
    combine(
        refs,
        d,
        judge::autoscaler(hpa, &target, min, max, cpu),
        || None,
    )
}

/// "the 3 ambient proxies running, one for each node": three ready ztunnels on the three nodes
/// (the per-node proxies are the ztunnels; see the errata about the pods the tutorial lists).
pub fn three_on_three(
    refs: &Refs,
    topology_nodes: Option<usize>,
    nodes: usize,
    ready_ztunnels: usize,
) -> Answer {
    let d = try_doc!(documented(refs, "installation.per_node_proxies"));
    let documented_count = table(d).map_or(0, |t| t.rows.len());
    if documented_count != 3 {
        return unreadable(d, "three per-node proxies");
    }
    combine(
        refs,
        d,
        judge::three_on_three(topology_nodes, nodes, ready_ztunnels),
        || None,
    )
}

/// The pods the tutorial lists under "one for each node" (istio-cni-node) run one per node.
pub fn listed_proxies_one_per_node(
    refs: &Refs,
    ds: &DaemonSet,
    pods: &[Pod],
    nodes: &[String],
) -> Answer {
    let d = try_doc!(documented(refs, "installation.per_node_proxies"));
    let listed = table(d)
        .and_then(|t| t.rows.first())
        .map(|r| r.base_name().to_string());
    let Some(base) = listed else {
        return unreadable(d, "pods");
    };
    let ds_name = ds.metadata.name.as_deref().unwrap_or_default();
    if ds_name != base {
        return Answer::Drifted {
            expected: format!("daemonset {base} (the pods the tutorial lists)"),
            actual: format!("observed daemonset {ds_name}"),
            era_expected: None,
            documented: Some(anchor(d)),
        };
    }
    let Some(restarts) = documented_restarts(refs, "installation.per_node_proxies", &base) else {
        return unreadable(d, "the RESTARTS of the listed pods");
    };
    combine(
        refs,
        d,
        per_node_with_restarts(ds, pods, nodes, restarts),
        || None,
    )
}

/// "You need to wait until all pods are running": the deployments became available.
pub fn deployments_available(
    refs: &Refs,
    names: &[&str],
    available: &Result<(), String>,
) -> Answer {
    let d = try_doc!(documented(refs, "demo_apps.wait_for_pods"));
    let verdict = match available {
        Ok(()) => Verdict::Holds,
        Err(e) => Verdict::drifted(format!("deployments {names:?} available"), e.clone()),
    };
    combine(refs, d, verdict, || None)
}

/// `kubectl apply -f …/bookinfo-gateway.yaml`: the apply succeeded (`applied`: what the API
/// server took, or its error), and every object the manifest declares is then in the cluster,
/// read back from the API (`missing`: those it does not hold).
pub fn bookinfo_gateway(
    refs: &Refs,
    applied: &Result<Vec<String>, String>,
    missing: &[String],
) -> Answer {
    let d = try_doc!(documented(refs, "demo_apps.bookinfo_gateway"));
    let expected = "bookinfo-gateway.yaml applied, and every object it declares in the cluster";
    let verdict = match applied {
        Err(e) => Verdict::drifted(expected, format!("the apply failed: {e}")),
        Ok(objects) if objects.is_empty() => {
            Verdict::drifted(expected, "the apply took no object".to_string())
        }
        Ok(_) => Verdict::holds_if(
            missing.is_empty(),
            expected,
            format!("applied, but missing afterwards: {}", missing.join(", ")),
        ),
    };
    combine(refs, d, verdict, || None)
}

/// `kubectl logs <istio-cni-node> | grep route`: each app pod announced on its node, in the
/// tutorial's format (or the era's).
pub fn pods_enrolled(
    refs: &Refs,
    pods: &[judge::AppPod],
    by_node: &std::collections::BTreeMap<String, Vec<crate::logs::Enrollment>>,
) -> Answer {
    let d = try_doc!(documented(refs, "demo_apps.cni_routes"));
    let Expected::Enrollments { lines } = &d.expected else {
        return unreadable(d, "enrollment lines");
    };
    let Some(first) = lines.first() else {
        return unreadable(d, "enrollment lines");
    };
    let format = first.format;
    // The route the tutorial shows (`table 100 … dev istioin`); 1.18–1.20 route the same way
    // (cni/pkg/ambient/net.go, RouteTableInbound and InboundTun, 1.18.0 and 1.20.0).
    let route = match (&first.route_table, &first.route_device) {
        (Some(table), Some(device)) => Some(judge::NodeRoute { table, device }),
        _ if format == crate::eras::EnrollmentLogFormat::NodeRoute => {
            return unreadable(d, "the route's table and device");
        }
        _ => None,
    };
    combine(
        refs,
        d,
        judge::enrolled(pods, by_node, format, route),
        || {
            Some(EraSide {
                verdict: judge::enrolled(pods, by_node, refs.facts.enrollment_log, route),
                facts: vec![Fact::EnrollmentLog],
                replacement: None,
            })
        },
    )
}

/// In ambient mode no pod gets a sidecar, unlike the setup the tutorial compares with; among the
/// pods judged is one created after the namespace label (`restarted`).
pub fn no_sidecars(refs: &Refs, pods: &[Pod], restarted: &judge::Restarted) -> Answer {
    let d = try_doc!(documented(refs, "installation.non_ambient"));
    combine(refs, d, judge::no_sidecars(pods, restarted), || None)
}

/// "retrieve the index page": curl from sleep returns the product page.
pub fn curl_page(refs: &Refs, id: &str, stdout: &str) -> Answer {
    let d = try_doc!(documented(refs, id));
    combine(refs, d, judge::productpage_page(stdout), || None)
}

/// A documented ztunnel line, as an expectation: its format, its waypoint (if it names one).
fn documented_line<'d>(
    refs: &Refs<'d>,
    id: &str,
) -> Result<(&'d Documented, &'d AccessRecord), Box<Answer>> {
    let d = documented(refs, id)?;
    match &d.expected {
        Expected::ZtunnelLine { record, .. } => Ok((d, record)),
        _ => Err(Box::new(unreadable(d, "a ztunnel line"))),
    }
}

/// The connection as the document shows it: its format, its waypoint's identity.
fn as_documented(t: &Traffic, record: &AccessRecord) -> Traffic {
    let mut t = t.clone();
    t.format = Some(record.format);
    if let (Some(w), Some(doc_wp)) = (t.waypoint.as_mut(), record.waypoint.as_ref()) {
        w.identity = doc_wp.identity.clone();
    }
    t
}

/// The connection as the era logs it.
fn as_era(refs: &Refs, t: &Traffic) -> Traffic {
    let mut t = t.clone();
    t.format = Some(refs.facts.access_log);
    if let Some(w) = t.waypoint.as_mut() {
        w.identity = refs
            .facts
            .waypoint
            .identity_service_account
            .map(|sa| format!("spiffe://cluster.local/ns/default/sa/{sa}"));
    }
    t
}

/// The era's facts that explain why a line the era's way holds where the document's does not:
/// the log format ([`Fact::AccessLog`]) where judging it the document's way fails for the
/// format, the waypoint's identity ([`Fact::WaypointIdentity`]) where it fails for the identity.
fn line_facts(
    refs: &Refs,
    traffic: &Traffic,
    record: &AccessRecord,
    holds: impl Fn(&Traffic) -> bool,
) -> Vec<Fact> {
    let era = as_era(refs, traffic);
    let mut facts = Vec::new();
    // The era's format with the document's identity: fails only where the identity matters.
    let documented = as_documented(traffic, record);
    let mut doc_identity = era.clone();
    if let (Some(w), Some(d)) = (doc_identity.waypoint.as_mut(), documented.waypoint) {
        w.identity = d.identity;
    }
    let identity_matters = era.waypoint.is_some() && !holds(&doc_identity);
    // The document's format with the era's identity: fails only where the format matters.
    let mut doc_format = era.clone();
    doc_format.format = Some(record.format);
    let format_matters = !holds(&doc_format) || !identity_matters;
    if format_matters {
        facts.push(Fact::AccessLog);
    }
    if identity_matters {
        facts.push(Fact::WaypointIdentity);
    }
    facts
}

/// sleep's ztunnel logged the outbound connection (L4: no waypoint; L7: to the waypoint).
pub fn outbound_logged(
    refs: &Refs,
    id: &str,
    lines: &[(String, AccessRecord)],
    traffic: &Traffic,
) -> Answer {
    logged(refs, id, lines, traffic, judge::outbound_logged).answer
}

/// productpage's ztunnel logged the inbound connection (L4: from sleep; L7: from the waypoint).
pub fn inbound_logged(
    refs: &Refs,
    id: &str,
    lines: &[(String, AccessRecord)],
    traffic: &Traffic,
    from: From,
) -> Answer {
    logged(refs, id, lines, traffic, |r, t| {
        judge::inbound_logged(r, t, from)
    })
    .answer
}

/// A ztunnel line judged against both references, with the line that decided it (as its
/// snapshot stores it) as evidence. The judge runs once per reference; the facts that explain a
/// stale document (two more runs, [`line_facts`]) only where the document's is stale.
pub fn logged(
    refs: &Refs,
    id: &str,
    lines: &[(String, AccessRecord)],
    traffic: &Traffic,
    judge: impl Fn(&[AccessRecord], &Traffic) -> (Verdict, Option<usize>),
) -> Decided {
    let (d, record) = match documented_line(refs, id) {
        Ok(found) => found,
        Err(answer) => return Decided::bare(*answer),
    };
    let records = judge::with_outcomes(lines);
    let (doc, doc_hit) = judge(&records, &as_documented(traffic, record));
    let doc_failed = doc.is_failure();
    let mut era_hit = None;
    let answer = combine(refs, d, doc, || {
        let (verdict, hit) = judge(&records, &as_era(refs, traffic));
        era_hit = hit;
        let facts = if doc_failed && verdict == Verdict::Holds {
            line_facts(refs, traffic, record, |t| {
                judge(&records, t).0 == Verdict::Holds
            })
        } else {
            Vec::new()
        };
        Some(EraSide {
            verdict,
            facts,
            replacement: hit.map(|i| lines[i].0.clone()),
        })
    });
    let hit = match answer {
        Answer::AsDocumented => doc_hit,
        Answer::DocStale { .. } => era_hit,
        _ => None,
    };
    let evidence = hit
        .and_then(|i| lines.get(i))
        .map(|(line, _)| refs.facts.access_log.snapshot_text(line));
    Decided { answer, evidence }
}

/// L7 step 1: what the cluster did with the tutorial's own declaration (judged by the conditions
/// the tutorial's build writes), then with the era's (by the era's).
pub fn waypoint_declared(
    refs: &Refs,
    tutorials: &DeclarationOutcome,
    eras: Option<&DeclarationOutcome>,
    era_yaml: &str,
) -> Answer {
    let d = try_doc!(documented(refs, "l7.waypoint_declaration"));
    let documented_conditions = facts(crate::eras::Era::Experimental2022)
        .waypoint
        .conditions;
    let doc = judge::declaration_acted_on(tutorials, documented_conditions);
    combine(refs, d, doc, || {
        eras.map(|o| EraSide {
            verdict: judge::declaration_acted_on(o, refs.facts.waypoint.conditions),
            facts: vec![Fact::WaypointDeclaration],
            replacement: Some(format!("kubectl apply -f - <<EOF\n{}EOF", era_yaml)),
        })
    })
}

/// The READY, STATUS and RESTARTS of a documented pod row.
fn pod_columns(row: &Row) -> Option<judge::PodColumns<'_>> {
    Some(judge::PodColumns {
        ready: row.get("READY")?,
        status: row.get("STATUS")?,
        restarts: row.get("RESTARTS")?,
    })
}

/// `kubectl get pod | grep waypoint`: the waypoint's pod, named as the tutorial shows, with its
/// READY, STATUS and RESTARTS.
pub fn waypoint_pod(refs: &Refs, waypoint_pods: &[Pod]) -> Answer {
    let row = PodRow {
        row: None,
        era: EraName::WaypointDeployment,
    };
    pod_line(refs, "l7.waypoint_pod_line", row, waypoint_pods).answer
}

/// The control plane's half of the waypoint pod line: the pod's NAME, which istiod decides (the
/// Deployment it makes for the waypoint). Decidable where no container runs (sim), unlike the
/// READY, STATUS and RESTARTS columns ([`waypoint_pod`]).
pub fn waypoint_pod_named(refs: &Refs, waypoint_pods: &[Pod]) -> Answer {
    let row = PodRow {
        row: None,
        era: EraName::WaypointDeployment,
    };
    pod_named(refs, "l7.waypoint_pod_line", row, waypoint_pods).answer
}

/// The documented pod row `pod` reads in the expectation `id`: its one pod line, or the row of
/// its listing named `pod.row`.
fn pod_row(d: &Documented, pod: PodRow) -> Option<&Row> {
    match (&d.expected, pod.row) {
        (Expected::PodLine { row }, None) => Some(row),
        (_, Some(base)) => row(d, base),
        _ => None,
    }
}

/// The documented expectation `id` and the pod row `pod` reads in it.
fn documented_pod<'d>(
    refs: &Refs<'d>,
    id: &str,
    pod: PodRow,
) -> Result<(&'d Documented, &'d Row), Box<Answer>> {
    let d = documented(refs, id)?;
    match pod_row(d, pod) {
        Some(row) => Ok((d, row)),
        None => Err(Box::new(unreadable(d, "a pod line"))),
    }
}

/// The Deployment the era names for a documented pod's (none: the document's, in every era).
fn era_deployment(refs: &Refs, era: EraName) -> Option<&'static str> {
    match era {
        EraName::Documented => None,
        EraName::WaypointDeployment => Some(refs.facts.waypoint.deployment),
    }
}

/// A documented pod line: a pod of the row's Deployment with its READY, STATUS and RESTARTS (or
/// the era's Deployment, where it renames it). The evidence is the pod's line.
pub fn pod_line(refs: &Refs, id: &str, pod: PodRow, pods: &[Pod]) -> Decided {
    let (d, row) = match documented_pod(refs, id, pod) {
        Ok(found) => found,
        Err(answer) => return Decided::bare(*answer),
    };
    let Some(columns) = pod_columns(row) else {
        return Decided::bare(unreadable(d, "READY, STATUS and RESTARTS"));
    };
    let base = row.base_name();
    let doc = judge::pod_line(pods, base, columns);
    let era = era_deployment(refs, pod.era);
    let answer = combine(refs, d, doc, || {
        let era = era?;
        Some(EraSide {
            verdict: judge::pod_line(pods, era, columns),
            facts: vec![Fact::WaypointDeployment],
            replacement: era_pod_line(pods, era),
        })
    });
    let evidence = evidence_pod(&answer, pods, base, era);
    Decided { answer, evidence }
}

/// A documented pod by NAME alone: a pod of the row's Deployment (or the era's). The evidence is
/// the pod's line.
pub fn pod_named(refs: &Refs, id: &str, pod: PodRow, pods: &[Pod]) -> Decided {
    let (d, row) = match documented_pod(refs, id, pod) {
        Ok(found) => found,
        Err(answer) => return Decided::bare(*answer),
    };
    let base = row.base_name();
    let doc = judge::pod_named(pods, base);
    let era = era_deployment(refs, pod.era);
    let answer = combine(refs, d, doc, || {
        let era = era?;
        Some(EraSide {
            verdict: judge::pod_named(pods, era),
            facts: vec![Fact::WaypointDeployment],
            replacement: era_pod_line(pods, era),
        })
    });
    let evidence = evidence_pod(&answer, pods, base, era);
    Decided { answer, evidence }
}

/// The line of the pod an answer that holds rests on: the document's Deployment's, or the era's
/// where the document is stale.
fn evidence_pod(answer: &Answer, pods: &[Pod], base: &str, era: Option<&str>) -> Option<String> {
    let deployment = match answer {
        Answer::AsDocumented => base,
        Answer::DocStale { .. } => era?,
        _ => return None,
    };
    era_pod_line(pods, deployment).map(|l| crate::snapshot::redact(&l))
}

/// The line of the era's waypoint pod (its Deployment `era`), offered as the tutorial's new line.
fn era_pod_line(waypoint_pods: &[Pod], era: &str) -> Option<String> {
    waypoint_pods
        .iter()
        .find(|p| {
            crate::tutorial::listing::base_name(p.metadata.name.as_deref().unwrap_or_default())
                == era
        })
        .map(kubectl_pod_line)
}

/// A pod as `kubectl get pod` prints it (NAME READY STATUS RESTARTS AGE; the age as the
/// tutorial's, which no run reproduces).
pub fn kubectl_pod_line(p: &Pod) -> String {
    format!(
        "{}   {}     {}   {}          27s",
        p.metadata.name.as_deref().unwrap_or_default(),
        judge::ready_column(p),
        judge::status_column(p),
        judge::restarts_column(p)
    )
}

/// A documented step the suite performed (`kubectl apply -f ./istio/samples/addons`, the
/// rollout): it succeeded.
pub fn step(
    refs: &Refs,
    id: &str,
    done: &Result<(), crate::steps::StepError>,
    expected: &str,
) -> Answer {
    let d = try_doc!(documented(refs, id));
    combine(refs, d, judge::step(done, expected), || None)
}

/// `istioctl dashboard kiali` serves the dashboard.
pub fn dashboard(refs: &Refs, status: &Result<u16, String>) -> Answer {
    let d = try_doc!(documented(refs, "kiali.dashboard"));
    let verdict = match status {
        Ok(s) => Verdict::holds_if(
            *s == 200,
            "HTTP 200 from the dashboard",
            format!("HTTP {s}"),
        ),
        Err(e) => Verdict::drifted("istioctl dashboard kiali serves the dashboard", e.clone()),
    };
    combine(refs, d, verdict, || None)
}

/// "It could be that the graph does not show anything … no request in the past minute": with no
/// request for a minute, the last minute's graph has no sleep → productpage edge.
pub fn graph_empty(refs: &Refs, graph: &judge::KialiGraph) -> Answer {
    graph_edge(
        refs,
        "kiali.graph_may_be_empty",
        ("sleep", "productpage"),
        false,
        graph,
    )
}

/// "see the traffic flow": the graph shows sleep → productpage.
pub fn graph_traffic(refs: &Refs, graph: &judge::KialiGraph) -> Answer {
    graph_edge(
        refs,
        "kiali.graph_shows_traffic",
        ("sleep", "productpage"),
        true,
        graph,
    )
}

/// Kiali's graph has the edge `from → to` (`shown`), or has none.
pub fn graph_edge(
    refs: &Refs,
    id: &str,
    (from, to): (&str, &str),
    shown: bool,
    graph: &judge::KialiGraph,
) -> Answer {
    let d = try_doc!(documented(refs, id));
    let verdict = if shown {
        judge::graph_with_edge(graph, from, to)
    } else {
        judge::graph_without_edge(graph, from, to)
    };
    combine(refs, d, verdict, || None)
}
