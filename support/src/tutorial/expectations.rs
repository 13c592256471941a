//! Documented expectations: every output block and every statement the tutorial presents as what
//! you should see, read into typed values (install lines, kubectl tables, istio-cni and ztunnel
//! lines read with the suite's own log readers, the waypoint declaration, curl's answer, Kiali's
//! steps), each anchored to its section and lines.
//!
//! Blocks are recognized by the command they follow (an output block belongs to the last
//! command before it in its section) and, for prose, by what it says. An output block that
//! cannot be attached to an expectation is kept as `not understood`, never dropped.

use kube::api::DynamicObject;
use serde::Serialize;

use std::collections::HashMap;

use super::listing::{self, Table};
use super::markdown::{Block, Document, Heading, Lines, Source};
use super::script::{self, Script, Step};
use crate::logs::{AccessRecord, Enrollment, parse_access, parse_enrollment};

/// What one expectation says, typed.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Expected {
    /// The kind cluster the tutorial runs on (its `kind create cluster` heredoc).
    KindConfig { config: String },
    /// A URL the tutorial downloads or applies, which must still serve.
    Url { url: String },
    /// The `✔` lines `istioctl install` prints.
    InstallOutput { lines: Vec<String> },
    /// One table of `kubectl -n istio-system get all`.
    Listing { table: Table },
    /// Pods the tutorial lists as running one per node, and what it calls them.
    PerNode { table: Table, statement: String },
    /// What a mesh not in ambient mode would run instead (sidecars; gateways only).
    NonAmbient { table: Table, statement: String },
    /// A command the tutorial runs that must succeed (`kubectl apply -f <sample>`).
    Command { command: String },
    /// A statement in prose.
    Statement { text: String },
    /// istio-cni's lines announcing pods joining the mesh.
    Enrollments { lines: Vec<Enrollment> },
    /// A ztunnel log line, read with the suite's reader.
    ZtunnelLine {
        record: Box<AccessRecord>,
        raw: String,
    },
    /// A resource the tutorial declares inline (`kubectl apply -f - <<EOF`).
    Declaration {
        object: Box<DynamicObject>,
        yaml: String,
        /// The note that goes with it, if any.
        note: Option<String>,
    },
    /// A `kubectl get pod` line.
    PodLine { row: Box<listing::Row> },
}

/// One documented expectation.
#[derive(Debug, Clone, Serialize)]
pub struct Documented {
    /// Stable id (`installation.install_output`); claims anchor to it.
    pub id: String,
    /// The heading it is under.
    pub heading: Heading,
    pub lines: Lines,
    /// The tutorial's own text of those lines, verbatim.
    pub text: String,
    pub expected: Expected,
}

/// An output block the parser could not attach to any expectation.
#[derive(Debug, Clone, Serialize)]
pub struct NotUnderstood {
    pub heading: Heading,
    pub lines: Lines,
    pub text: String,
    pub why: String,
}

/// Everything the tutorial documents.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Expectations {
    pub documented: Vec<Documented>,
    pub not_understood: Vec<NotUnderstood>,
    /// The tutorial's text, to quote any of its lines verbatim.
    #[serde(skip)]
    pub source: Source,
}

impl Expectations {
    pub fn get(&self, id: &str) -> Option<&Documented> {
        self.documented.iter().find(|d| d.id == id)
    }

    /// Line `n` (1-based) of the tutorial, verbatim.
    pub fn text_line(&self, n: usize) -> Option<String> {
        self.source.line(n).map(str::to_string)
    }
}

/// The sections of the tutorial, by their headings (a section keeps its expectations' id prefix
/// whatever its heading's wording, as long as these words stay in it).
pub fn section_prefix(heading: &str) -> Option<&'static str> {
    let h = heading.to_ascii_lowercase();
    Some(if h.contains("requirement") {
        "requirements"
    } else if h.contains("installation") {
        "installation"
    } else if h.contains("demo app") {
        "demo_apps"
    } else if h.contains("l4") {
        "l4"
    } else if h.contains("l7") {
        "l7"
    } else if h.contains("kiali") || h.contains("addon") {
        "kiali"
    } else {
        return None;
    })
}

/// [`section_prefix`] once per heading of the page, not once per block under it (a long heading
/// over many blocks would make reading quadratic).
#[derive(Default)]
struct Sections {
    last: Option<(Heading, Option<&'static str>)>,
}

impl Sections {
    fn prefix(&mut self, heading: &Heading) -> Option<&'static str> {
        match &self.last {
            Some((h, prefix)) if h.is(heading) => *prefix,
            _ => {
                let prefix = section_prefix(heading);
                self.last = Some((heading.clone(), prefix));
                prefix
            }
        }
    }
}

/// What an output block follows.
struct Context<'a> {
    /// The command it shows the output of.
    commands: Vec<String>,
    prefix: Option<&'static str>,
    block: &'a Block,
}

impl Context<'_> {
    fn after(&self, start: &str) -> bool {
        self.commands
            .iter()
            .any(|c| c.starts_with(start) || c.contains(start))
    }
}

/// Reads the expectations of a tutorial's text.
pub fn extract(text: &str) -> Expectations {
    from_script(text, &script::read(text))
}

/// Reads the expectations of a tutorial whose steps are read: once over the steps and once over
/// the prose, each step quoting its own lines (time linear in the page).
pub fn from_script(text: &str, script: &Script) -> Expectations {
    let source = Source::new(text);
    let mut out = Expectations::default();
    let blocks: HashMap<usize, &Block> = script
        .document
        .blocks
        .iter()
        .map(|b| (b.lines.start, b))
        .collect();
    // Commands grouped by their block: a block's expectations (its URLs, its declaration) are
    // anchored to the whole block.
    let mut group: Vec<String> = Vec::new();
    let mut group_block: Option<&Block> = None;
    let mut sections = Sections::default();
    let flush = |sections: &mut Sections,
                 group: &mut Vec<String>,
                 block: Option<&Block>,
                 out: &mut Expectations| {
        if let Some(block) = block
            && !group.is_empty()
        {
            let prefix = sections.prefix(&block.heading);
            command_expectations(&source, block, prefix, group, out);
        }
        group.clear();
    };
    for step in &script.steps {
        match step {
            Step::Command(c) => {
                let block = blocks.get(&c.block.lines.start).copied();
                if block.map(|b| b.lines) != group_block.map(|b| b.lines) {
                    flush(&mut sections, &mut group, group_block, &mut out);
                    group_block = block;
                }
                group.push(c.line());
            }
            Step::Output(o) => {
                flush(&mut sections, &mut group, group_block, &mut out);
                group_block = None;
                let shown = Block {
                    heading: o.block.heading.clone(),
                    lines: o.lines,
                    content: o.text.clone(),
                    lead: o.lead.clone(),
                    ..Block::default()
                };
                let commands = match o.command.and_then(|i| script.steps.get(i)) {
                    Some(Step::Command(c)) => vec![c.line()],
                    _ => Vec::new(),
                };
                let ctx = Context {
                    commands,
                    prefix: sections.prefix(&shown.heading),
                    block: &shown,
                };
                match output_expectations(&source, &ctx) {
                    Ok(found) => out.documented.extend(found),
                    Err(why) => out.not_understood.push(NotUnderstood {
                        heading: shown.heading.clone(),
                        lines: shown.lines,
                        text: source.verbatim(shown.lines),
                        why,
                    }),
                }
            }
            Step::Comment(_) => {}
        }
    }
    flush(&mut sections, &mut group, group_block, &mut out);
    prose_expectations(&source, &script.document, &mut sections, &mut out);
    out.source = source;
    out
}

fn documented(
    source: &Source,
    id: String,
    heading: &Heading,
    lines: Lines,
    expected: Expected,
) -> Documented {
    Documented {
        id,
        heading: heading.clone(),
        lines,
        text: source.verbatim(lines),
        expected,
    }
}

/// Expectations a command block carries: the URLs it fetches, the resource it declares inline,
/// the samples it applies, the Kiali steps.
fn command_expectations(
    text: &Source,
    block: &Block,
    prefix: Option<&str>,
    commands: &[String],
    out: &mut Expectations,
) {
    let Some(prefix) = prefix else { return };
    let mut push = |id: String, expected| {
        out.documented
            .push(documented(text, id, &block.heading, block.lines, expected))
    };
    for c in commands {
        let words: Vec<&str> = c.split_whitespace().collect();
        if words.first() == Some(&"kind") && c.contains("<<") {
            let config = heredoc(&block.content).unwrap_or_default();
            push(
                format!("{prefix}.kind_config"),
                Expected::KindConfig { config },
            );
        } else if words.first() == Some(&"curl") && c.contains(".tar.gz") {
            let url = words
                .iter()
                .find(|w| w.starts_with("https://"))
                .unwrap_or(&"");
            push(
                format!("{prefix}.archive_url"),
                Expected::Url {
                    url: url.to_string(),
                },
            );
        } else if words.starts_with(&["kubectl", "apply", "-f"]) && words.len() > 3 {
            let target = words[3];
            if target.starts_with("https://") {
                let name = target
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .trim_end_matches(".yaml");
                push(
                    format!("{prefix}.{name}_manifest_url"),
                    Expected::Url {
                        url: target.to_string(),
                    },
                );
            } else if target.ends_with("bookinfo-gateway.yaml") {
                push(
                    format!("{prefix}.bookinfo_gateway"),
                    Expected::Command { command: c.clone() },
                );
            } else if target.ends_with("/addons") {
                push(
                    format!("{prefix}.addons"),
                    Expected::Command { command: c.clone() },
                );
            } else if target == "-" && c.contains("<<") {
                let yaml = heredoc(&block.content).unwrap_or_default();
                let objects = crate::manifests::parse("the tutorial", &yaml).unwrap_or_default();
                let mut objects = objects.into_iter();
                match (objects.next(), objects.next()) {
                    (Some(object), None) => push(
                        // A waypoint is declared as a Gateway; any other object is a declaration
                        // of its own kind, never misnamed as the waypoint's.
                        match object.types.as_ref().map(|t| t.kind.as_str()) {
                            Some("Gateway") => format!("{prefix}.waypoint_declaration"),
                            kind => format!(
                                "{prefix}.declaration.{}",
                                kind.unwrap_or("unknown").to_ascii_lowercase()
                            ),
                        },
                        Expected::Declaration {
                            object: Box::new(object),
                            yaml,
                            note: (!block.lead.is_empty()).then(|| block.lead.clone()),
                        },
                    ),
                    _ => out.not_understood.push(NotUnderstood {
                        heading: block.heading.clone(),
                        lines: block.lines,
                        text: text.verbatim(block.lines),
                        why: "an inline declaration that is not one Kubernetes object".into(),
                    }),
                }
            }
        } else if words.starts_with(&["kubectl", "rollout", "status"]) {
            push(
                format!("{prefix}.rollout"),
                Expected::Command { command: c.clone() },
            );
        } else if words.get(1) == Some(&"dashboard")
            && words.first().is_some_and(|w| w.ends_with("istioctl"))
        {
            push(
                format!("{prefix}.dashboard"),
                Expected::Command { command: c.clone() },
            );
        }
    }
}

/// The body of the first heredoc in a block (`cmd <<EOF` ... `EOF`), its lines as written (less
/// their common indentation).
pub fn heredoc(content: &str) -> Option<String> {
    let mut lines = content.lines();
    let opener = lines.find(|l| l.contains("<<"))?;
    let marker = opener
        .rsplit_once("<<")?
        .1
        .trim()
        .trim_matches(['\'', '"', '-']);
    let body: Vec<&str> = lines.take_while(|l| l.trim() != marker).collect();
    let indent = body
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    Some(
        body.iter()
            .map(|l| l.get(indent..).unwrap_or(l.trim_start()))
            .collect::<Vec<_>>()
            .join("\n")
            + "\n",
    )
}

/// Expectations an output block carries, by the command it follows.
fn output_expectations(text: &Source, ctx: &Context) -> Result<Vec<Documented>, String> {
    let block = ctx.block;
    let prefix = ctx
        .prefix
        .ok_or("output under a heading the suite does not know")?;
    let one = |id: String, expected| {
        Ok(vec![documented(
            text,
            id,
            &block.heading,
            block.lines,
            expected,
        )])
    };
    if ctx.after("istioctl install") {
        let lines: Vec<String> = block
            .content
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect();
        return one(
            format!("{prefix}.install_output"),
            Expected::InstallOutput { lines },
        );
    }
    if ctx.after("get all") {
        let tables = listing::parse(&block.content, block.lines.start, None);
        if tables.is_empty() {
            return Err("output after `get all` without a table".into());
        }
        let lead = block.lead.to_ascii_lowercase();
        if lead.contains("one for each node") || lead.contains("not running in ambient") {
            // Pod lines shown without their header.
            let headers = ["NAME", "READY", "STATUS", "RESTARTS", "AGE"];
            let mut tables = listing::parse(&block.content, block.lines.start, Some(&headers));
            let table = tables.remove(0);
            let statement = block.lead.clone();
            let (name, expected) = if lead.contains("one for each node") {
                ("per_node_proxies", Expected::PerNode { table, statement })
            } else {
                ("non_ambient", Expected::NonAmbient { table, statement })
            };
            return one(format!("{prefix}.{name}"), expected);
        }
        return Ok(listing::parse(&block.content, block.lines.start, None)
            .into_iter()
            .map(|t| {
                let kind = t.kind().split('.').next().unwrap_or_default().to_string();
                let lines = t.lines;
                documented(
                    text,
                    format!("{prefix}.get_all.{kind}"),
                    &block.heading,
                    lines,
                    Expected::Listing { table: t },
                )
            })
            .collect());
    }
    if ctx.after("grep route") || ctx.after("istio-cni") {
        let lines: Vec<Enrollment> = block
            .content
            .lines()
            .filter_map(|l| parse_enrollment(l).ok())
            .collect();
        if lines.is_empty() {
            return Err("istio-cni output with no line the enrollment reader understands".into());
        }
        return one(
            format!("{prefix}.cni_routes"),
            Expected::Enrollments { lines },
        );
    }
    if ctx.after("ztunnel") {
        let raw = block
            .content
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or_default();
        let record = parse_access(raw)
            .map_err(|e| format!("a ztunnel line the readers do not understand: {e}"))?;
        let role = match record.direction {
            Some(crate::logs::Direction::Inbound) => "productpage_ztunnel_line",
            Some(crate::logs::Direction::Outbound) => "sleep_ztunnel_line",
            None => return Err("a ztunnel line with no direction".into()),
        };
        return one(
            format!("{prefix}.{role}"),
            Expected::ZtunnelLine {
                record: Box::new(record),
                raw: raw.trim().to_string(),
            },
        );
    }
    if ctx.after("get pod") {
        let headers = ["NAME", "READY", "STATUS", "RESTARTS", "AGE"];
        let row = listing::parse(&block.content, block.lines.start, Some(&headers))
            .into_iter()
            .flat_map(|t| t.rows)
            .next()
            .ok_or("`get pod` output without a pod line")?;
        return one(
            format!("{prefix}.waypoint_pod_line"),
            Expected::PodLine { row: Box::new(row) },
        );
    }
    Err(format!(
        "output after `{}`, which the suite reads no expectation from",
        ctx.commands
            .last()
            .map(String::as_str)
            .unwrap_or("no command")
    ))
}

/// Statements in prose the suite checks, recognized by what they say.
const STATEMENTS: &[(&str, &str, &[&str])] = &[
    (
        "demo_apps",
        "wait_for_pods",
        &["wait until all pods are running"],
    ),
    ("l4", "curl_index_page", &["retrieve the index"]),
    ("l7", "curl_index_page", &["retrieve the index"]),
    (
        "kiali",
        "graph_may_be_empty",
        &["does not show anything", "past minute"],
    ),
    ("kiali", "graph_shows_traffic", &["see the traffic flow"]),
];

fn prose_expectations(
    text: &Source,
    doc: &Document,
    sections: &mut Sections,
    out: &mut Expectations,
) {
    let mut seen: std::collections::HashSet<String> =
        out.documented.iter().map(|d| d.id.clone()).collect();
    for p in &doc.prose {
        let Some(prefix) = sections.prefix(&p.heading) else {
            continue;
        };
        let said = p.text.to_ascii_lowercase();
        for (section, name, words) in STATEMENTS {
            if *section == prefix && words.iter().all(|w| said.contains(w)) {
                let id = format!("{prefix}.{name}");
                if seen.insert(id.clone()) {
                    out.documented.push(documented(
                        text,
                        id,
                        &p.heading,
                        p.lines,
                        Expected::Statement {
                            text: p.text.clone(),
                        },
                    ));
                }
            }
        }
    }
    out.documented.sort_by_key(|d| d.lines.start);
}
