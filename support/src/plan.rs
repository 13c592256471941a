//! The plan of a tutorial page (`ambient-spec plan`): the page as the suite will run it, in
//! order. Every command (performed by which test, or run as written), every output shown (which
//! comparator judges it, by the kind of output), every outcome comment, the documented
//! expectations the suite's claims read and those claims, what is not applicable on the provider
//! and why, and what the reader did not understand and why.
//!
//! Built once over the read page: time linear in it (a sort by line aside).

use std::collections::HashMap;

use serde::Serialize;

use crate::claims::{CLAIMS, Claim};
use crate::cluster::provider::{ProviderFacts, facts};
use crate::docsync::{How, PERFORMED};
use crate::settings::Provider;
use crate::tutorial::expectations::{self, Expectations};
use crate::tutorial::markdown::{Heading, Lines};
use crate::tutorial::script::{self, Command, Expect, NoReadableBlock, Script, Step};

/// What an entry of the plan is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A comment stating the outcome of the next command.
    Should,
    Command,
    Output,
    /// A comment that states no outcome.
    Comment,
    /// A documented expectation a claim of the suite reads.
    Expectation,
    NotUnderstood,
    /// A claim of the suite the page documents nothing for.
    Claim,
}

/// One entry.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub kind: Kind,
    /// `[first, last]`, 1-based and inclusive; `null` for a claim the page documents nothing for.
    #[serde(serialize_with = "lines_pair")]
    pub lines: Option<Lines>,
    /// The heading it is under (in JSON, its first 80 characters: a long heading is not
    /// repeated whole on every line).
    #[serde(serialize_with = "short_heading")]
    pub heading: Heading,
    /// The command on one line, the output's first line, the comment, the expectation's id.
    pub text: String,
    /// What the suite will do with it.
    pub does: String,
    /// For an output: the kind of output, which names its comparator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparator: Option<&'static str>,
    /// For an output: the lines of the command it belongs to.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "lines_pair")]
    pub of_command: Option<Lines>,
    /// Documented expectations read from these lines.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expectations: Vec<String>,
    /// The suite's claims anchored to them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub claims: Vec<&'static str>,
    /// Why it is not applicable on this provider (or on this page).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_applicable: Option<String>,
    /// Why the reader did not understand it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    /// For what was not understood: how many blocks or lines, for the same reason, with nothing
    /// read between them, this entry stands for.
    #[serde(skip_serializing_if = "is_zero_or_one")]
    pub blocks: usize,
    /// The block's language and attributes.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub lang: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attrs: Vec<(String, String)>,
}

fn is_zero_or_one(n: &usize) -> bool {
    *n <= 1
}

fn lines_pair<S: serde::Serializer>(lines: &Option<Lines>, s: S) -> Result<S::Ok, S::Error> {
    match lines {
        Some(l) => [l.start, l.end].serialize(s),
        None => s.serialize_none(),
    }
}

fn short_heading<S: serde::Serializer>(h: &Heading, s: S) -> Result<S::Ok, S::Error> {
    const MAX: usize = 80;
    match h.char_indices().nth(MAX) {
        None => s.serialize_str(h),
        Some((i, _)) => s.serialize_str(&format!("{}…", &h[..i])),
    }
}

impl Entry {
    fn new(kind: Kind, lines: Lines, heading: &Heading, text: String) -> Self {
        Entry {
            kind,
            lines: Some(lines),
            heading: heading.clone(),
            text,
            does: String::new(),
            comparator: None,
            of_command: None,
            expectations: Vec::new(),
            claims: Vec::new(),
            not_applicable: None,
            why: None,
            blocks: 0,
            lang: String::new(),
            attrs: Vec::new(),
        }
    }
}

/// Whether `next` starts after `prev` ends (an unread block merges only into one before it).
fn follows(prev: Lines, next: Lines) -> bool {
    prev.end < next.start
}

/// Whether a sorted list of lines holds one strictly between `after` and `before`.
fn has_between(sorted: &[usize], after: usize, before: usize) -> bool {
    let i = sorted.partition_point(|l| *l <= after);
    sorted.get(i).is_some_and(|l| *l < before)
}

/// The plan of one page.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub provider: &'static str,
    pub entries: Vec<Entry>,
}

/// Counts of what the plan holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub commands: usize,
    pub outputs: usize,
    pub outcome_comments: usize,
    pub expectations: usize,
    pub not_understood: usize,
    pub claims_not_documented: usize,
}

impl Plan {
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for e in &self.entries {
            match e.kind {
                Kind::Command => c.commands += 1,
                Kind::Output => c.outputs += 1,
                Kind::Should => c.outcome_comments += 1,
                Kind::Expectation => c.expectations += 1,
                Kind::NotUnderstood => c.not_understood += e.blocks.max(1),
                Kind::Claim => c.claims_not_documented += 1,
                Kind::Comment => {}
            }
        }
        c
    }

    /// One JSON object a line.
    pub fn json_lines(&self) -> String {
        let mut out = String::new();
        for e in &self.entries {
            out.push_str(&serde_json::to_string(e).expect("a plan entry serializes"));
            out.push('\n');
        }
        out
    }

    /// For people: one entry a paragraph.
    pub fn render(&self) -> String {
        let c = self.counts();
        let mut out = format!(
            "plan on {}: {} commands, {} outputs, {} outcome comments, {} documented expectations, {} not understood\n\n",
            self.provider,
            c.commands,
            c.outputs,
            c.outcome_comments,
            c.expectations,
            c.not_understood
        );
        for e in &self.entries {
            let lines = e
                .lines
                .map_or_else(|| "(no lines)".to_string(), |l| l.to_string());
            let kind = serde_json::to_value(e.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            out.push_str(&format!("{lines:<14} {kind:<14} {}\n", first_line(&e.text)));
            if !e.does.is_empty() {
                out.push_str(&format!("{:15}→ {}\n", "", e.does));
            }
            if !e.claims.is_empty() {
                out.push_str(&format!("{:15}  claims: {}\n", "", e.claims.join(", ")));
            }
            if let Some(na) = &e.not_applicable {
                out.push_str(&format!("{:15}  not applicable: {na}\n", ""));
            }
            if let Some(why) = &e.why {
                let times = if e.blocks > 1 {
                    format!(" ({} of them)", e.blocks)
                } else {
                    String::new()
                };
                out.push_str(&format!("{:15}  not understood{times}: {why}\n", ""));
            }
        }
        out
    }
}

fn first_line(s: &str) -> String {
    let mut lines = s.lines();
    let first = lines.next().unwrap_or_default().to_string();
    if lines.next().is_some() {
        format!("{first} …")
    } else {
        first
    }
}

/// Why a command cannot be carried out as written on this provider, if it cannot.
fn command_not_applicable(c: &Command, f: &ProviderFacts) -> Option<String> {
    let line = c.line();
    let words: Vec<&str> = line.split_whitespace().collect();
    let provider = f.provider.id();
    if words.first() == Some(&"kind") && f.provider != Provider::Kind {
        return Some(format!(
            "on {provider} the provider makes the cluster, not kind"
        ));
    }
    let needs_network = line.contains("https://")
        || c.shortcodes.iter().any(|s| s == "github_file")
        || (words.first() == Some(&"curl")
            && line.contains("http://")
            && !line.contains("localhost"));
    if needs_network && !f.network {
        return Some(format!("needs the internet, which {provider} has not"));
    }
    let data = ["exec", "port-forward", "logs"];
    let needs_data = (words.first() == Some(&"kubectl")
        && words.iter().skip(1).any(|w| data.contains(w)))
        || (words.first().is_some_and(|w| w.ends_with("istioctl"))
            && words.get(1) == Some(&"dashboard"))
        || line.contains("localhost:");
    if needs_data && !f.data_plane {
        return Some(format!(
            "needs a data plane (pods that run, traffic), which {provider} has not"
        ));
    }
    None
}

fn claim_not_applicable(c: &Claim, f: &ProviderFacts) -> Option<String> {
    (!f.decides(c.plane)).then(|| {
        format!(
            "{} is decided by {}, not {}",
            c.name(),
            c.plane.decided_by(),
            f.provider.id()
        )
    })
}

/// The plan of a page's text on `provider`; a page without one readable block is an error that
/// says so.
pub fn plan(text: &str, provider: Provider) -> Result<Plan, NoReadableBlock> {
    let script = script::read(text);
    script.require_steps()?;
    let expectations = expectations::from_script(text, &script);
    Ok(build(&script, &expectations, provider))
}

/// The plan of a page already read.
pub fn build(script: &Script, expectations: &Expectations, provider: Provider) -> Plan {
    let f = facts(provider);
    let performed: HashMap<String, &crate::docsync::Performed> = PERFORMED
        .iter()
        .map(|p| (script::normalize(p.command), p))
        .collect();
    let mut by_anchor: HashMap<&str, Vec<&'static Claim>> = HashMap::new();
    for c in CLAIMS {
        for a in c.anchors {
            by_anchor.entry(a).or_default().push(c);
        }
    }
    // Expectations by their first line, to name those an output's lines hold.
    let mut documented: Vec<&expectations::Documented> = expectations.documented.iter().collect();
    documented.sort_by_key(|d| d.lines.start);
    let within = |lines: Lines| -> Vec<String> {
        let from = documented.partition_point(|d| d.lines.start < lines.start);
        documented[from..]
            .iter()
            .take_while(|d| d.lines.start <= lines.end)
            .filter(|d| d.lines.end <= lines.end)
            .map(|d| d.id.clone())
            .collect()
    };
    let mut entries = Vec::new();
    for step in &script.steps {
        match step {
            Step::Command(c) => {
                if let Some(o) = &c.outcome {
                    let mut e = Entry::new(Kind::Should, o.lines, &c.block.heading, o.text.clone());
                    e.does = format!(
                        "the next command (line {}) should {}: judged by the output shown with it, \
                         else by its exit status",
                        c.lines.start,
                        match o.expects {
                            Expect::Success => "succeed",
                            Expect::Failure => "fail",
                        }
                    );
                    e.comparator = Some("outcome comment");
                    entries.push(e);
                }
                let line = c.line();
                let mut e = Entry::new(Kind::Command, c.lines, &c.block.heading, line.clone());
                e.does = match performed.get(&line) {
                    Some(p) => match p.how {
                        How::Same => format!("performed by {}, as documented", p.by),
                        How::Differently(how) => format!("performed by {}: {how}", p.by),
                    },
                    None => "run as written".to_string(),
                };
                if !c.release_files.is_empty() {
                    e.does.push_str(&format!(
                        " (files of the Istio release: {})",
                        c.release_files.join(", ")
                    ));
                }
                if !c.shortcodes.is_empty() {
                    e.does.push_str(&format!(
                        " (site shortcodes to fill in: {})",
                        c.shortcodes.join(", ")
                    ));
                }
                e.not_applicable = command_not_applicable(c, &f);
                e.lang = c.block.lang.clone();
                e.attrs = c.block.attrs.clone();
                entries.push(e);
            }
            Step::Output(o) => {
                let mut e = Entry::new(
                    Kind::Output,
                    o.lines,
                    &o.block.heading,
                    o.text.trim_end().to_string(),
                );
                let name = o.kind.name();
                e.comparator = Some(name);
                e.of_command = o.command.and_then(|i| script.steps.get(i)).map(Step::lines);
                e.does = format!("compare with what the command prints, as {name}");
                e.lang = o.block.lang.clone();
                e.attrs = o.block.attrs.clone();
                entries.push(e);
            }
            Step::Comment(c) => {
                let mut e = Entry::new(Kind::Comment, c.lines, &c.block.heading, c.text.clone());
                e.does = "nothing: a comment that states no outcome".into();
                entries.push(e);
            }
        }
    }
    // Outputs name the expectations read from them.
    for e in entries.iter_mut().filter(|e| e.kind == Kind::Output) {
        if let Some(lines) = e.lines {
            e.expectations = within(lines);
            if e.expectations.is_empty() {
                e.does.push_str("; no claim of the suite reads it");
            }
        }
    }
    for d in &expectations.documented {
        let mut e = Entry::new(Kind::Expectation, d.lines, &d.heading, d.id.clone());
        let claims = by_anchor.get(d.id.as_str()).cloned().unwrap_or_default();
        e.expectations = vec![d.id.clone()];
        e.claims = claims.iter().map(|c| c.name()).collect();
        e.does = if claims.is_empty() {
            match crate::claims::UNCHECKED.iter().find(|(id, _)| *id == d.id) {
                Some((_, why)) => format!("no claim: {why}"),
                None => "no claim of the suite reads it".to_string(),
            }
        } else {
            "judged by the claims below, against the era table and what the cluster shows".into()
        };
        let na: Vec<String> = claims
            .iter()
            .filter_map(|c| claim_not_applicable(c, &f))
            .collect();
        if !na.is_empty() {
            e.not_applicable = Some(na.join("; "));
        }
        entries.push(e);
    }
    // Blocks not understood for the same reason with nothing read between them are one entry
    // (30,000 empty blocks are one line of the plan, not 30,000).
    let mut read_at: Vec<usize> = entries
        .iter()
        .filter_map(|e| e.lines.map(|l| l.start))
        .collect();
    read_at.sort_unstable();
    let mut open: Option<Entry> = None;
    for u in &script.not_understood {
        if let Some(prev) = open.as_mut()
            && let Some(prev_lines) = prev.lines.as_mut()
            && prev.why.as_deref() == Some(u.why.as_str())
            && follows(*prev_lines, u.lines)
            && !has_between(&read_at, prev_lines.end, u.lines.start)
        {
            prev_lines.end = u.lines.end;
            prev.blocks += 1;
            continue;
        }
        entries.extend(open.take());
        let mut e = Entry::new(Kind::NotUnderstood, u.lines, &u.heading, String::new());
        e.why = Some(u.why.clone());
        e.does = "nothing: the reader did not understand it".into();
        e.blocks = 1;
        open = Some(e);
    }
    entries.extend(open.take());
    entries.sort_by_key(|e| (e.lines.map_or(usize::MAX, |l| l.start), e.kind));
    // Claims whose statement the page does not make.
    for c in CLAIMS {
        if c.anchors.iter().all(|a| expectations.get(a).is_none()) {
            let mut e = Entry::new(
                Kind::Claim,
                Lines::one(0),
                &Heading::default(),
                c.name().to_string(),
            );
            e.lines = None;
            e.claims = vec![c.name()];
            e.not_applicable = Some(format!(
                "the page documents none of {}",
                c.anchors.join(", ")
            ));
            e.does = "record it not applicable".into();
            entries.push(e);
        }
    }
    Plan {
        provider: f.provider.id(),
        entries,
    }
}
