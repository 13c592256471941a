//! The claims' dispatch. A step says what it observed at which documented expectation (an
//! [`Observation`]); every claim of the table (`crate::claims::CLAIMS`) anchored there whose
//! kind takes that observation is decided by its kind's judge ([`decide`]), once per reference;
//! and [`settle`] turns a claim's answer into the one recorded: not applicable where the page
//! does not make the statement or the provider cannot decide it, a drift where its snapshot
//! differs. Every function here is pure, so the hermetic tier and cargo-mutants reach what the
//! cluster tier records.

use k8s_openapi::api::apps::v1::{DaemonSet, ReplicaSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Pod, Service};

use crate::answers::{self, Decided, Refs};
use crate::claims::{Answer, CLAIMS, Claim, Component, Decide, Listed, Via};
use crate::cluster::provider::ProviderFacts;
use crate::judge::{From, KialiGraph, Traffic};
use crate::logs::AccessRecord;
use crate::observe::Judgement;
use crate::snapshot::Compared;
use crate::tutorial::expectations::Expectations;

/// What a step observed, of a kind some claims' judges read.
#[derive(Debug, Clone)]
pub enum Observation {
    /// Pods, as `kubectl get pod` lists them.
    Pods(Vec<Pod>),
    /// A ztunnel's log lines, with the connection the tutorial makes (its addresses; its waypoint,
    /// where one is deployed).
    ZtunnelLog {
        lines: Vec<(String, AccessRecord)>,
        traffic: Traffic,
    },
    /// What curl printed (with the suite's `-w` status marker).
    Curl { stdout: String },
    /// A component's DaemonSet once ready, the pods its label selects, and the cluster's nodes.
    DaemonSet {
        component: Component,
        daemonset: Box<DaemonSet>,
        pods: Vec<Pod>,
        nodes: Vec<String>,
    },
    /// Kiali's answer to a graph request.
    Graph(KialiGraph),
    /// URLs the tutorial fetches, each with the HTTP status a request for it got (or why there
    /// was none).
    Urls(Vec<(String, Result<u16, String>)>),
    /// Objects a `kubectl get all` lists, as far as the step read them (ReplicaSets: each
    /// Deployment's current one).
    Listing(Listing),
}

/// The objects of a namespace's listing that a step read.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    pub services: Vec<Service>,
    pub replicasets: Vec<ReplicaSet>,
    pub autoscalers: Vec<HorizontalPodAutoscaler>,
}

impl Listing {
    fn named<'l, K: kube::Resource>(objects: &'l [K], name: &str) -> Option<&'l K> {
        objects
            .iter()
            .find(|o| o.meta().name.as_deref() == Some(name))
    }

    /// The ReplicaSet of Deployment `owner`.
    fn of_deployment(&self, owner: &str) -> Option<&ReplicaSet> {
        self.replicasets.iter().find(|rs| {
            rs.metadata
                .owner_references
                .iter()
                .flatten()
                .any(|o| o.kind == "Deployment" && o.name == owner)
        })
    }
}

/// The kinds of [`Observation`]: what a step says it will observe, before it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Pods,
    ZtunnelLog,
    Curl,
    Listing,
    DaemonSet(Component),
    Graph,
    Urls,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::Pods,
        Kind::ZtunnelLog,
        Kind::Curl,
        Kind::Listing,
        Kind::DaemonSet(Component::Ztunnel),
        Kind::DaemonSet(Component::IstioCni),
        Kind::Graph,
        Kind::Urls,
    ];
}

impl Observation {
    pub fn kind(&self) -> Kind {
        match self {
            Observation::Pods(_) => Kind::Pods,
            Observation::ZtunnelLog { .. } => Kind::ZtunnelLog,
            Observation::Curl { .. } => Kind::Curl,
            Observation::Listing(_) => Kind::Listing,
            Observation::DaemonSet { component, .. } => Kind::DaemonSet(*component),
            Observation::Graph(_) => Kind::Graph,
            Observation::Urls(_) => Kind::Urls,
        }
    }
}

/// Whether a claim's kind reads an observation of this kind.
pub fn takes(decide: Decide, kind: Kind) -> bool {
    matches!(
        (decide, kind),
        (Decide::PodNamed(_) | Decide::PodLine(_), Kind::Pods)
            | (
                Decide::Outbound { .. } | Decide::Inbound { .. },
                Kind::ZtunnelLog
            )
            | (Decide::CurlPage, Kind::Curl)
            | (Decide::ListedObject { .. }, Kind::Listing)
            | (Decide::GraphEdge { .. }, Kind::Graph)
            | (Decide::UrlsServe, Kind::Urls)
    ) || matches!(
        (decide, kind),
        (Decide::PerNode(c) | Decide::NodeSelector(c), Kind::DaemonSet(k)) if c == k
    )
}

/// The claims an observation of `kind` at the documented expectation `at` decides: those
/// anchored there whose kind takes it, in tutorial order.
pub fn claims_at(at: &str, kind: Kind) -> impl Iterator<Item = &'static Claim> + '_ {
    CLAIMS
        .iter()
        .filter(move |c| c.anchors.contains(&at) && takes(c.decide, kind))
}

/// A claim's answer on an observation, by its kind, against the expectation it refines (its
/// first anchor), with the text it rests on.
pub fn decide(claim: &Claim, refs: &Refs, o: &Observation) -> Decided {
    let at = claim.anchors.first().copied().unwrap_or_default();
    match (claim.decide, o) {
        (Decide::PodNamed(row), Observation::Pods(pods)) => answers::pod_named(refs, at, row, pods),
        (Decide::PodLine(row), Observation::Pods(pods)) => answers::pod_line(refs, at, row, pods),
        (Decide::Outbound { via, .. }, Observation::ZtunnelLog { lines, traffic }) => {
            match on_path(traffic, via) {
                Ok(t) => answers::logged(refs, at, lines, &t, crate::judge::outbound_logged),
                Err(answer) => Decided::bare(*answer),
            }
        }
        (Decide::Inbound { via, .. }, Observation::ZtunnelLog { lines, traffic }) => {
            let from = match via {
                Via::Direct => From::Client,
                Via::Waypoint => From::Waypoint,
            };
            match on_path(traffic, via) {
                Ok(t) => answers::logged(refs, at, lines, &t, |r, t| {
                    crate::judge::inbound_logged(r, t, from)
                }),
                Err(answer) => Decided::bare(*answer),
            }
        }
        (Decide::CurlPage, Observation::Curl { stdout }) => {
            Decided::bare(answers::curl_page(refs, at, stdout))
        }
        (Decide::ListedObject { row, object }, Observation::Listing(l)) => {
            Decided::bare(match object {
                Listed::Service => {
                    answers::listed_service(refs, at, row, Listing::named(&l.services, row))
                }
                Listed::ReplicaSet => {
                    answers::listed_replicaset(refs, at, row, l.of_deployment(row))
                }
                Listed::Autoscaler => {
                    answers::listed_autoscaler(refs, at, row, Listing::named(&l.autoscalers, row))
                }
            })
        }
        (
            Decide::PerNode(c),
            Observation::DaemonSet {
                component,
                daemonset,
                pods,
                nodes,
            },
        ) if c == *component => {
            Decided::bare(answers::one_pod_per_node(refs, c, daemonset, pods, nodes))
        }
        (
            Decide::NodeSelector(c),
            Observation::DaemonSet {
                component,
                daemonset,
                ..
            },
        ) if c == *component => Decided::bare(answers::node_selector(refs, c, daemonset)),
        (Decide::GraphEdge { from, to, shown }, Observation::Graph(graph)) => {
            Decided::bare(answers::graph_edge(refs, at, (from, to), shown, graph))
        }
        (Decide::UrlsServe, Observation::Urls(statuses)) => {
            Decided::bare(answers::urls_serve(refs, claim.anchors, statuses))
        }
        (kind, o) => Decided::bare(Answer::NotReached {
            why: format!(
                "claim {} ({kind:?}) is not decided by an observation of {:?}: its step reports \
                 another kind",
                claim.name(),
                o.kind()
            ),
        }),
    }
}

/// The connection as the claim's path has it: straight (no waypoint expected, whatever the
/// step knows of one) or through the waypoint (one the step found).
fn on_path(traffic: &Traffic, via: Via) -> Result<std::borrow::Cow<'_, Traffic>, Box<Answer>> {
    use std::borrow::Cow;
    match (via, &traffic.waypoint) {
        (Via::Direct, None) | (Via::Waypoint, Some(_)) => Ok(Cow::Borrowed(traffic)),
        (Via::Direct, Some(_)) => Ok(Cow::Owned(Traffic {
            waypoint: None,
            ..traffic.clone()
        })),
        (Via::Waypoint, None) => Err(Box::new(Answer::NotReached {
            why: "the step observed no waypoint to expect on the connection's path".into(),
        })),
    }
}

/// The claims an observation decided, each with its answer; or why nothing could be observed.
#[derive(Debug, Clone)]
pub struct Decisions {
    pub decided: Result<Vec<(&'static Claim, Decided)>, String>,
    /// Every claim among them that the page documents and the provider decides holds: waiting
    /// longer would change none that matters here.
    settled: bool,
}

/// Decides every claim an observation at `at` decides ([`claims_at`]).
pub fn decide_all(at: &str, o: &Observation, refs: &Refs, provider: &ProviderFacts) -> Decisions {
    let decided: Vec<(&'static Claim, Decided)> = claims_at(at, o.kind())
        .map(|c| (c, decide(c, refs, o)))
        .collect();
    let settled = decided
        .iter()
        .all(|(c, d)| !documents(refs.doc, c) || !provider.decides(c.plane) || d.answer.settled());
    Decisions {
        decided: Ok(decided),
        settled,
    }
}

/// What an observation that failed (`why`: the error and its causes) decides at `at`: each
/// claim there of its kind drifts from its statement, with the error (what the tutorial shows
/// did not come to be: a DaemonSet never ready, an object never there).
pub fn not_observed(
    at: &str,
    kind: Kind,
    refs: &Refs,
    why: &str,
) -> Vec<(&'static Claim, Decided)> {
    claims_at(at, kind)
        .map(|c| {
            let first = c.anchors.first().copied().unwrap_or(at);
            let answer = answers::not_observed(refs, first, c.statement, why);
            (c, Decided::bare(answer))
        })
        .collect()
}

impl Judgement for Decisions {
    fn settled(&self) -> bool {
        self.decided.is_ok() && self.settled
    }

    fn describe(&self) -> String {
        match &self.decided {
            Ok(all) => all
                .iter()
                .map(|(c, d)| format!("{}: {}", c.name(), d.answer.describe()))
                .collect::<Vec<_>>()
                .join("\n"),
            Err(why) => why.clone(),
        }
    }

    fn unobserved(why: String) -> Self {
        Decisions {
            decided: Err(why),
            settled: false,
        }
    }
}

/// Whether the page documents any of the claim's anchors (makes its statement at all).
pub fn documents(doc: &Expectations, claim: &Claim) -> bool {
    claim.anchors.iter().any(|a| doc.get(a).is_some())
}

/// A claim whose statement the page does not make (none of its anchors documented: another page
/// as `AMBIENT_TUTORIAL`) is not applicable, with why; `page` names the page.
pub fn undocumented(doc: &Expectations, page: &std::path::Path, claim: &Claim) -> Option<Answer> {
    (!documents(doc, claim)).then(|| Answer::NotApplicable {
        why: format!(
            "the tutorial {} documents none of {}: it does not make this statement",
            page.display(),
            claim.anchors.join(", ")
        ),
    })
}

/// Whether a claim's observation is held against its stored snapshot here: only where the
/// provider decides the claim (a replayed observation is never compared nor written).
pub fn compares_snapshot(claim: &Claim, provider: &ProviderFacts) -> bool {
    provider.decides(claim.plane)
}

/// The answer recorded for a claim, from its kind's answer:
/// - a page that does not make the statement: not applicable ([`undocumented`]);
/// - a provider that cannot decide the claim's plane (sim: no data plane): not applicable, with
///   what was observed;
/// - else the answer, with its snapshot as part of it (`answers::against_snapshot`: an answer
///   that holds on an observation that differs from the stored snapshot is a drift; a missing
///   snapshot changes nothing).
pub fn settle(
    claim: &Claim,
    provider: &ProviderFacts,
    doc: &Expectations,
    page: &std::path::Path,
    decided: Decided,
    snapshot: Option<&Compared>,
) -> Answer {
    if let Some(answer) = undocumented(doc, page, claim) {
        return answer;
    }
    if !provider.decides(claim.plane) {
        let evidence = decided
            .evidence
            .map(|e| format!("; {e}"))
            .unwrap_or_default();
        return Answer::NotApplicable {
            why: format!(
                "{}: cannot decide a {:?}-plane claim (observed: {}{evidence})",
                provider.provider.id(),
                claim.plane,
                decided.answer.describe()
            ),
        };
    }
    match snapshot {
        Some(compared) => answers::against_snapshot(decided.answer, compared),
        None => decided.answer,
    }
}
