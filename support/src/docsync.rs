//! Doc sync: the shell commands of the tutorial's fenced blocks, compared with the commands the
//! suite performs (the registry below, one entry per documented command, with the reason where the
//! suite performs it differently). It reports documented commands the suite does not perform,
//! performed commands the tutorial no longer shows, and commands that changed.

use crate::tutorial::script::normalize;

/// How the suite performs a documented command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    /// As documented (through kube-rs where the tutorial uses kubectl).
    Same,
    /// Differently, for this reason.
    Differently(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Performed {
    /// The documented command, whitespace-normalized (a heredoc includes its body).
    pub command: &'static str,
    /// The test that performs it.
    pub by: &'static str,
    pub how: How,
}

/// The tutorial's commands as the suite performs them.
pub const PERFORMED: &[Performed] = &[
    Performed {
        command: "kind create cluster --config=- <<EOF kind: Cluster apiVersion: kind.x-k8s.io/v1alpha4 name: ambient nodes: - role: control-plane - role: worker - role: worker EOF",
        by: "world::world (cluster::ensure_kind)",
        how: How::Differently(
            "the same config from fixtures/kind/ambient.yaml, reused when the cluster exists, with --wait",
        ),
    },
    Performed {
        command: "curl https://storage.googleapis.com/istio-build/dev/0.0.0-ambient.191fe680b52c1754ee72a06b3e0d3f9d116f2e82/istio-0.0.0-ambient.191fe680b52c1754ee72a06b3e0d3f9d116f2e82-linux-amd64.tar.gz --output istio.tar.gz",
        by: "world::world (istio::acquire)",
        how: How::Differently(
            "downloaded with reqwest, checksum-verified where published, cached by version",
        ),
    },
    Performed {
        command: "tar -xvf istio.tar.gz",
        by: "istio::acquire",
        how: How::Differently("unpacked with the tar and flate2 crates"),
    },
    Performed {
        command: "rm istio.tar.gz",
        by: "istio::acquire",
        how: How::Differently("the archive is a temporary file"),
    },
    Performed {
        command: "mkdir istio",
        by: "istio::acquire",
        how: How::Differently("the release stays in the cache as <version>/"),
    },
    Performed {
        command: "mv istio*/* istio",
        by: "istio::acquire",
        how: How::Differently("the release stays in the cache as <version>/"),
    },
    Performed {
        command: "./istio/bin/istioctl install --set profile=ambient -y",
        by: "installation::istioctl_prints_component_lines",
        how: How::Differently("the same, plus --kubeconfig/--context of the guarded cluster"),
    },
    Performed {
        command: "kubectl -n istio-system get all",
        by: "installation::*",
        how: How::Differently(
            "reads the DaemonSets, Deployments, autoscalers and pods through kube-rs",
        ),
    },
    Performed {
        command: "kubectl apply -f ./istio/samples/bookinfo/platform/kube/bookinfo.yaml",
        by: "world::apps",
        how: How::Same,
    },
    Performed {
        command: "kubectl apply -f ./istio/samples/bookinfo/networking/bookinfo-gateway.yaml",
        by: "world::apps",
        how: How::Same,
    },
    Performed {
        command: "kubectl apply -f https://raw.githubusercontent.com/linsun/sample-apps/main/sleep/sleep.yaml",
        by: "world::apps",
        how: How::Differently("an equivalent manifest kept in fixtures/apps/sleep.yaml"),
    },
    Performed {
        command: "kubectl apply -f https://raw.githubusercontent.com/linsun/sample-apps/main/sleep/notsleep.yaml",
        by: "world::apps",
        how: How::Differently("an equivalent manifest kept in fixtures/apps/notsleep.yaml"),
    },
    Performed {
        command: "kubectl label namespace default istio.io/dataplane-mode=ambient",
        by: "world::apps",
        how: How::Same,
    },
    Performed {
        command: "kubectl logs <istio-cni-node-id> -n istio-system|grep route",
        by: "demo_apps::each_app_pod_is_added_to_the_ambient_mesh",
        how: How::Differently(
            "the istio-cni pod on each app pod's node, its lines parsed in the era's format",
        ),
    },
    Performed {
        command: "kubectl exec deploy/sleep -- curl -s http://productpage:9080/",
        by: "l4, l7, kiali",
        how: How::Differently("the same exec, with -w to see the HTTP status"),
    },
    Performed {
        command: "kubectl -n istio-system logs <ztunnel_id> -cistio-proxy --tail 1",
        by: "l4, l7",
        how: How::Differently(
            "the ztunnel on the workload's node (spec.nodeName), its log since the curl",
        ),
    },
    Performed {
        command: "kubectl apply -f - <<EOF apiVersion: gateway.networking.k8s.io/v1alpha2 kind: Gateway metadata: name: productpage annotations: istio.io/service-account: bookinfo-productpage spec: gatewayClassName: istio-mesh EOF",
        by: "l7::l7_processing_through_the_productpage_waypoint",
        how: How::Differently(
            "the era's declaration from fixtures/waypoint/ (this one for the 2022 build)",
        ),
    },
    Performed {
        command: "kubectl get pod | grep waypoint",
        by: "l7::l7_processing_through_the_productpage_waypoint",
        how: How::Differently("waits for the era's waypoint Deployment to be available"),
    },
    Performed {
        command: "kubectl apply -f ./istio/samples/addons",
        by: "kiali::kiali_shows_the_traffic",
        how: How::Same,
    },
    Performed {
        command: "kubectl rollout status deployment/kiali -n istio-system",
        by: "kiali::kiali_shows_the_traffic",
        how: How::Differently(
            "a bounded wait on the Deployment that stops early on pods that cannot start",
        ),
    },
    Performed {
        command: "./istio/bin/istioctl dashboard kiali",
        by: "kiali::kiali_shows_the_traffic",
        how: How::Differently("with --browser=false: the printed URL is read and fetched"),
    },
];

/// A command found in the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Documented {
    /// The nearest heading above it.
    pub section: crate::tutorial::markdown::Heading,
    /// On one line (a heredoc includes its body), whitespace collapsed.
    pub command: String,
}

/// The commands of a page of any shape the tutorial reader knows (`crate::tutorial::script`),
/// each once, in order, with their section. Output shown with them is not a command.
pub fn extract(page: &str) -> Vec<Documented> {
    commands_of(&crate::tutorial::script::read(page))
}

/// The commands of a page already read.
pub fn commands_of(script: &crate::tutorial::script::Script) -> Vec<Documented> {
    let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    script
        .commands()
        .map(|c| Documented {
            section: c.block.heading.clone(),
            command: c.line(),
        })
        .filter(|d| seen.insert(d.command.clone()))
        .collect()
}

/// The commands of a page, or the reader's word that it holds no readable block (a page in a
/// format it cannot read would otherwise look like a page that deleted every command).
pub fn extract_checked(
    page: &str,
) -> Result<Vec<Documented>, crate::tutorial::script::NoReadableBlock> {
    let script = crate::tutorial::script::read(page);
    script.require_steps()?;
    Ok(commands_of(&script))
}

/// The outcome of a comparison.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sync {
    /// Documented, not performed (and not a changed form of a performed one).
    pub not_performed: Vec<Documented>,
    /// Performed (or in the other page), no longer documented.
    pub no_longer_documented: Vec<String>,
    /// (documented now, performed as) pairs that look like the same step, changed.
    pub changed: Vec<(Documented, String)>,
    /// Documented and performed.
    pub matched: usize,
}

fn tokens(s: &str) -> std::collections::BTreeSet<&str> {
    s.split_whitespace().collect()
}

/// Shared words over all words (Jaccard) of two token sets.
fn similarity(a: &std::collections::BTreeSet<&str>, b: &std::collections::BTreeSet<&str>) -> f64 {
    let both = a.intersection(b).count() as f64;
    let either = (a.len() + b.len()) as f64 - both;
    if either == 0.0 { 0.0 } else { both / either }
}

/// The first two words of a command (tool and subcommand): commands that share them are the same
/// step when they changed.
fn step_key(command: &str) -> String {
    command
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Compares documented commands with a registry. Linear in the number of documented commands:
/// exact matches are hash lookups; a changed command is looked for only among the unmatched
/// registry commands of the same step (tool and subcommand).
pub fn compare(documented: &[Documented], registry: &[Performed]) -> Sync {
    let commands: Vec<&str> = registry.iter().map(|p| p.command).collect();
    compare_commands(documented, &commands)
}

/// Compares the commands of two pages (`given` now, `reference` before), as [`compare`] does.
pub fn compare_pages(given: &[Documented], reference: &[Documented]) -> Sync {
    let commands: Vec<&str> = reference.iter().map(|d| d.command.as_str()).collect();
    compare_commands(given, &commands)
}

/// How many unmatched commands of the same step a documented command is compared with.
const CANDIDATES: usize = 32;

fn compare_commands(documented: &[Documented], reference: &[&str]) -> Sync {
    use std::collections::{HashMap, HashSet};
    let mut sync = Sync::default();
    let normalized: Vec<(String, &str)> = reference.iter().map(|c| (normalize(c), *c)).collect();
    let documented_set: HashSet<&str> = documented.iter().map(|d| d.command.as_str()).collect();
    let registry_set: HashSet<&str> = normalized.iter().map(|(n, _)| n.as_str()).collect();
    // Reference commands the document does not show, by step, in reference order, with their
    // words.
    type Unmatched<'a> = Vec<(std::collections::BTreeSet<&'a str>, &'a str)>;
    let mut unmatched: HashMap<String, Unmatched> = HashMap::new();
    for (n, raw) in &normalized {
        if !documented_set.contains(n.as_str()) {
            unmatched
                .entry(step_key(n))
                .or_default()
                .push((tokens(n), *raw));
        }
    }
    for d in documented {
        if registry_set.contains(d.command.as_str()) {
            sync.matched += 1;
            continue;
        }
        let candidates = unmatched.get_mut(&step_key(&d.command));
        let words = tokens(&d.command);
        // A changed step is looked for among the first few unmatched commands of its step only:
        // two long pages of look-alike commands must not compare every pair.
        let best = candidates.as_ref().and_then(|c| {
            c.iter()
                .take(CANDIDATES)
                .enumerate()
                .map(|(i, (n, _))| (similarity(&words, n), i))
                .filter(|(s, _)| *s >= 0.4)
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, i)| i)
        });
        match (candidates, best) {
            (Some(c), Some(i)) => {
                let (_, raw) = c.remove(i);
                sync.changed.push((d.clone(), raw.to_string()));
            }
            _ => sync.not_performed.push(d.clone()),
        }
    }
    // What is left, in reference order.
    let left: HashSet<&str> = unmatched.values().flatten().map(|(_, raw)| *raw).collect();
    sync.no_longer_documented = reference
        .iter()
        .filter(|c| left.contains(*c))
        .map(|c| c.to_string())
        .collect();
    sync
}

/// A heading as a report line names it: at most 80 characters (a report names a section once
/// per line, so a long heading must not be repeated whole).
fn short(heading: &str) -> std::borrow::Cow<'_, str> {
    const MAX: usize = 80;
    match heading.char_indices().nth(MAX) {
        None => heading.into(),
        Some((i, _)) => format!("{}…", &heading[..i]).into(),
    }
}

impl Sync {
    pub fn in_sync(&self) -> bool {
        self.not_performed.is_empty()
            && self.no_longer_documented.is_empty()
            && self.changed.is_empty()
    }

    /// Against the suite's registry.
    pub fn render(&self) -> String {
        self.render_with(&Wording {
            matched: "documented commands performed by the suite",
            added: "documented, but the suite does not perform it",
            changed: "the suite performs",
            removed: "the suite performs it, the tutorial no longer shows it",
        })
    }

    /// Against another page ([`compare_pages`]).
    pub fn render_pages(&self) -> String {
        self.render_with(&Wording {
            matched: "documented commands also in the other page",
            added: "documented, not in the other page",
            changed: "the other page shows",
            removed: "in the other page, this one no longer shows it",
        })
    }

    fn render_with(&self, w: &Wording) -> String {
        let mut out = format!("{} {}\n", self.matched, w.matched);
        for d in &self.not_performed {
            out.push_str(&format!(
                "ADDED   [{}] {}\n        {}\n",
                short(&d.section),
                d.command,
                w.added
            ));
        }
        for (d, was) in &self.changed {
            out.push_str(&format!(
                "CHANGED [{}] {}\n        {}: {was}\n",
                short(&d.section),
                d.command,
                w.changed
            ));
        }
        for p in &self.no_longer_documented {
            out.push_str(&format!("REMOVED {p}\n        {}\n", w.removed));
        }
        if self.in_sync() {
            out.push_str("in sync\n");
        }
        out
    }
}

/// How a command comparison names its two sides.
struct Wording {
    matched: &'static str,
    added: &'static str,
    changed: &'static str,
    removed: &'static str,
}

/// How a tutorial's documented expectations differ from the suite's reference copy's.
#[derive(Debug, Clone, Default)]
pub struct ExpectationSync {
    /// (reference, given) pairs whose text changed.
    pub edited: Vec<(ExpectationText, ExpectationText)>,
    /// In the given tutorial only.
    pub added: Vec<ExpectationText>,
    /// In the reference only.
    pub removed: Vec<ExpectationText>,
    /// Output blocks of the given tutorial the parser could not attach to any expectation.
    pub not_understood: Vec<crate::tutorial::expectations::NotUnderstood>,
    pub same: usize,
    /// Whether the other side is another page's outputs ([`compare_outputs`]), not the suite's
    /// reference copy's expectations.
    pub against_page: bool,
}

/// The part of a documented expectation doc sync shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectationText {
    pub id: String,
    pub heading: crate::tutorial::markdown::Heading,
    pub lines: crate::tutorial::markdown::Lines,
    pub text: String,
}

impl From<&crate::tutorial::expectations::Documented> for ExpectationText {
    fn from(d: &crate::tutorial::expectations::Documented) -> Self {
        ExpectationText {
            id: d.id.clone(),
            heading: d.heading.clone(),
            lines: d.lines,
            text: d.text.clone(),
        }
    }
}

/// Compares the expectations of a given tutorial with the reference copy's, by id (linear).
pub fn compare_expectations(
    given: &crate::tutorial::expectations::Expectations,
    reference: &crate::tutorial::expectations::Expectations,
) -> ExpectationSync {
    use std::collections::HashMap;
    let mut sync = ExpectationSync {
        not_understood: given.not_understood.clone(),
        ..ExpectationSync::default()
    };
    let by_id: HashMap<&str, &crate::tutorial::expectations::Documented> = reference
        .documented
        .iter()
        .map(|d| (d.id.as_str(), d))
        .collect();
    let given_ids: std::collections::HashSet<&str> =
        given.documented.iter().map(|d| d.id.as_str()).collect();
    for d in &given.documented {
        match by_id.get(d.id.as_str()) {
            // Lines may move with an edit elsewhere; the text is what the reader sees.
            Some(r) if normalize_block(&r.text) == normalize_block(&d.text) => sync.same += 1,
            Some(r) => sync.edited.push(((*r).into(), d.into())),
            None => sync.added.push(d.into()),
        }
    }
    sync.removed = reference
        .documented
        .iter()
        .filter(|d| !given_ids.contains(d.id.as_str()))
        .map(Into::into)
        .collect();
    sync
}

/// Compares the outputs two pages show (`given` now, `reference` before), each named by the
/// command it belongs to (and its rank among that command's outputs), by text (linear). What the
/// reader did not understand in `given` is listed as NOT UNDERSTOOD.
pub fn compare_outputs(
    given: &crate::tutorial::script::Script,
    reference: &crate::tutorial::script::Script,
) -> ExpectationSync {
    use crate::tutorial::script::Step;
    use std::collections::{HashMap, HashSet};
    fn named(s: &crate::tutorial::script::Script) -> Vec<ExpectationText> {
        let mut rank: HashMap<String, usize> = HashMap::new();
        s.outputs()
            .map(|o| {
                let command = match o.command.and_then(|i| s.steps.get(i)) {
                    Some(Step::Command(c)) => c.line(),
                    _ => String::new(),
                };
                let n = rank.entry(command.clone()).or_default();
                *n += 1;
                let id = if *n == 1 {
                    format!("output of `{command}`")
                } else {
                    format!("output {n} of `{command}`")
                };
                ExpectationText {
                    id,
                    heading: o.block.heading.clone(),
                    lines: o.lines,
                    text: o.text.trim_end().to_string(),
                }
            })
            .collect()
    }
    let mine = named(given);
    let theirs = named(reference);
    let mut sync = ExpectationSync {
        not_understood: given
            .not_understood
            .iter()
            .map(|u| crate::tutorial::expectations::NotUnderstood {
                heading: u.heading.clone(),
                lines: u.lines,
                text: String::new(),
                why: u.why.clone(),
            })
            .collect(),
        against_page: true,
        ..ExpectationSync::default()
    };
    let by_id: HashMap<&str, &ExpectationText> =
        theirs.iter().map(|t| (t.id.as_str(), t)).collect();
    let mine_ids: HashSet<&str> = mine.iter().map(|t| t.id.as_str()).collect();
    for t in &mine {
        match by_id.get(t.id.as_str()) {
            Some(r) if normalize_block(&r.text) == normalize_block(&t.text) => sync.same += 1,
            Some(r) => sync.edited.push(((*r).clone(), t.clone())),
            None => sync.added.push(t.clone()),
        }
    }
    sync.removed = theirs
        .iter()
        .filter(|t| !mine_ids.contains(t.id.as_str()))
        .cloned()
        .collect();
    sync
}

fn normalize_block(text: &str) -> String {
    text.lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
}

impl ExpectationSync {
    pub fn in_sync(&self) -> bool {
        self.edited.is_empty()
            && self.added.is_empty()
            && self.removed.is_empty()
            && self.not_understood.is_empty()
    }

    pub fn render(&self) -> String {
        let indent = |t: &str| {
            t.lines()
                .map(|l| format!("        | {l}\n"))
                .collect::<String>()
        };
        let (what, other) = if self.against_page {
            ("outputs shown", "the other page")
        } else {
            ("documented expectations", "the suite's reference copy")
        };
        let mut out = format!("{} {what} as in {other}\n", self.same);
        for (old, new) in &self.edited {
            out.push_str(&format!(
                "EDITED  [{}] {} ({}; {} in the reference)\n        was:\n{}        now:\n{}",
                short(&new.heading),
                new.lines,
                new.id,
                old.lines,
                indent(&old.text),
                indent(&new.text)
            ));
        }
        for d in &self.added {
            out.push_str(&format!(
                "ADDED   [{}] {} ({})\n{}",
                short(&d.heading),
                d.lines,
                d.id,
                indent(&d.text)
            ));
        }
        for d in &self.removed {
            out.push_str(&format!(
                "REMOVED [{}] {} ({}) of the reference\n{}",
                short(&d.heading),
                d.lines,
                d.id,
                indent(&d.text)
            ));
        }
        for n in &self.not_understood {
            out.push_str(&format!(
                "NOT UNDERSTOOD [{}] {}: {}\n{}",
                short(&n.heading),
                n.lines,
                n.why,
                indent(&n.text)
            ));
        }
        out
    }
}
