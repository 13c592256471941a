//! The drift report: claim records of one or more runs. It leads with the document: per build, how
//! many documented statements are stale and how many drifted; then where the tutorial is stale
//! (its lines, its text verbatim, what was observed, the era fact and its source); a table of
//! claims (rows, in tutorial order, grouped by section) × Istio builds (columns); the details of
//! every drift; and a JSON summary with the same.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::claims::{Answer, CLAIMS, ClaimRecord, RECORD_FORMAT, Section};
use crate::workflow_commands::neutralize;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}: not UTF-8 text (byte {byte} of the file)")]
    NotUtf8 {
        path: String,
        line: usize,
        byte: usize,
    },
    #[error("{path}:{line}: not a claim record: {reason}")]
    Malformed {
        path: String,
        line: usize,
        reason: String,
    },
    #[error(
        "{path}:{line}: record format {found} is newer than this report understands ({RECORD_FORMAT}): \
         update the suite (git pull) and run the report again"
    )]
    NewerFormat {
        path: String,
        line: usize,
        found: u64,
    },
}

/// Most builds (columns) and claims this suite does not know (rows) the Markdown table shows:
/// the table is claims × builds, so without a bound a file of n records of distinct claims and
/// builds would print n² cells. The JSON summary has every cell.
pub const MAX_TABLE_BUILDS: usize = 30;
pub const MAX_TABLE_UNKNOWN: usize = 100;

/// Records read from files, and what was skipped.
#[derive(Debug, Default)]
pub struct Loaded {
    pub records: Vec<ClaimRecord>,
    /// Notes for the reader: empty files, a truncated last line (a run killed mid-write).
    pub notes: Vec<String>,
}

/// Longest text of a record's answer kept when records are read (what was seen, expected, why):
/// the report shows 8 KiB of a field and JUnit 64 KiB, so a huge line costs its size once, not
/// once per copy the report makes. A replacement block longer than this is dropped (a patch
/// cannot apply half of it).
pub const MAX_RECORD_TEXT: usize = 1 << 20;
/// Longest id, version, era, provider, time or path a record may hold.
const MAX_RECORD_NAME: usize = 4 << 10;

/// Cuts `s` to [`MAX_RECORD_TEXT`] with a note; how many bytes were cut.
fn cut_text(s: &mut String) -> usize {
    if s.len() <= MAX_RECORD_TEXT {
        return 0;
    }
    let end = md::prefix(s, MAX_RECORD_TEXT).len();
    let cut = s.len() - end;
    s.truncate(end);
    s.push_str(&format!("… ({cut} bytes cut when read)"));
    s.shrink_to_fit();
    cut
}

/// Cuts the answer's texts; how many bytes were cut.
fn cut_answer(answer: &mut Answer) -> usize {
    match answer {
        Answer::DocStale {
            documented,
            observed,
            era,
            replacement,
        } => {
            let mut cut = cut_text(&mut documented.text)
                + cut_text(observed)
                + cut_text(&mut era.fact)
                + cut_text(&mut era.since)
                + cut_text(&mut era.source);
            if replacement
                .as_ref()
                .is_some_and(|r| r.len() > MAX_RECORD_TEXT)
            {
                cut += replacement.take().map_or(0, |r| r.len());
            }
            cut
        }
        Answer::Drifted {
            expected,
            actual,
            era_expected,
            documented,
        } => {
            cut_text(expected)
                + cut_text(actual)
                + era_expected.as_mut().map_or(0, cut_text)
                + documented.as_mut().map_or(0, |d| cut_text(&mut d.text))
        }
        Answer::NotApplicable { why } | Answer::NotReached { why } => cut_text(why),
        Answer::AsDocumented | Answer::Holds => 0,
    }
}

/// The record format of a line, read without copying the rest of it.
#[derive(Deserialize)]
struct FormatOf {
    #[serde(default)]
    format: Option<serde_json::Value>,
}

/// Reads JSON-lines claim files. A last line cut off mid-write is skipped with a note; any other
/// unreadable line, or a record of a newer format, is an error naming file and line. Files are
/// read a line at a time and each line parsed once into its record, so a huge line costs about
/// its size, not several times it.
pub fn load(paths: &[&Path]) -> Result<Loaded, ReportError> {
    use std::io::BufRead;
    let mut loaded = Loaded::default();
    for path in paths {
        let shown = path.display().to_string();
        let read_error = |source| ReportError::Read {
            path: shown.clone(),
            source,
        };
        let file = std::fs::File::open(path).map_err(read_error)?;
        let mut reader = std::io::BufReader::new(file);
        let mut buf = Vec::new();
        let mut offset = 0usize;
        let mut number = 0usize;
        let mut any = false;
        loop {
            buf.clear();
            let n = reader.read_until(b'\n', &mut buf).map_err(read_error)?;
            if n == 0 {
                break;
            }
            number += 1;
            let complete = buf.last() == Some(&b'\n');
            let line = std::str::from_utf8(&buf).map_err(|e| ReportError::NotUtf8 {
                path: shown.clone(),
                line: number,
                byte: offset + e.valid_up_to(),
            })?;
            offset += n;
            if line.trim().is_empty() {
                continue;
            }
            any = true;
            let malformed = |e: serde_json::Error| ReportError::Malformed {
                path: shown.clone(),
                line: number,
                reason: neutralize(&e.to_string()).into_owned(),
            };
            let format = match serde_json::from_str::<FormatOf>(line) {
                Ok(f) => f.format.as_ref().and_then(|f| f.as_u64()).unwrap_or(0),
                Err(e) if e.is_eof() && !complete => {
                    loaded
                        .notes
                        .push(format!("{shown}:{number}: ignored a truncated last line"));
                    continue;
                }
                Err(e) => return Err(malformed(e)),
            };
            if format > u64::from(RECORD_FORMAT) {
                return Err(ReportError::NewerFormat {
                    path: shown,
                    line: number,
                    found: format,
                });
            }
            let record = if format == 1 {
                // Format 1 is converted from its own shape (rare: records of old runs).
                serde_json::from_str(line).and_then(ClaimRecord::from_json)
            } else {
                serde_json::from_str::<ClaimRecord>(line)
            };
            let mut record = record.map_err(malformed)?;
            let names = [
                &record.run_id,
                &record.claim,
                &record.era,
                &record.istio_version,
                &record.provider,
                &record.at,
            ];
            if let Some(long) = names
                .into_iter()
                .chain(record.tutorial.as_ref())
                .chain(record.nextest_run_id.as_ref())
                .find(|n| n.len() > MAX_RECORD_NAME)
            {
                return Err(ReportError::Malformed {
                    path: shown,
                    line: number,
                    reason: format!(
                        "a name of {} bytes (ids, versions, times and paths are at most {MAX_RECORD_NAME})",
                        long.len()
                    ),
                });
            }
            let cut = cut_answer(&mut record.answer);
            if cut > 0 {
                loaded.notes.push(format!(
                    "{shown}:{number}: {cut} bytes of the record's text cut (a field keeps {MAX_RECORD_TEXT} bytes)"
                ));
            }
            loaded.records.push(record);
        }
        if !any {
            loaded.notes.push(format!("{shown}: no records"));
        }
    }
    Ok(loaded)
}

/// One column: an Istio build on a provider.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Build {
    pub istio_version: String,
    pub era: String,
    pub provider: String,
}

impl Build {
    /// The column heading, escaped for Markdown.
    pub fn label(&self) -> String {
        md::text(&format!(
            "{} ({}, {})",
            self.istio_version, self.era, self.provider
        ))
    }
}

/// Markdown that stays what it says whatever the records contain: a job summary may append it.
pub mod md {
    /// Longest text kept of one field; the rest is cut with a note (a record cannot flood a page).
    pub const MAX_FIELD: usize = 8 << 10;

    /// The longest prefix of `s` of at most `max` bytes that ends on a character.
    pub fn prefix(s: &str, max: usize) -> &str {
        if s.len() <= max {
            return s;
        }
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        &s[..end]
    }

    /// [`fenced`] of `s` redacted (`crate::snapshot::redact`): only what is shown is redacted
    /// (with a margin, so a value at the edge is redacted whole), so a huge field costs no copy
    /// of itself.
    pub fn fenced_redacted(s: &str) -> String {
        let head = prefix(s, MAX_FIELD + 1024);
        let redacted = crate::snapshot::redact(head);
        if head.len() == s.len() {
            return fenced(&redacted);
        }
        let shown = prefix(&redacted, MAX_FIELD);
        fence(&format!("{shown}… ({} bytes cut)", s.len() - shown.len()))
    }

    fn cut(s: &str) -> std::borrow::Cow<'_, str> {
        if s.len() <= MAX_FIELD {
            return s.into();
        }
        let mut end = MAX_FIELD;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}… ({} bytes cut)", &s[..end], s.len() - end).into()
    }

    /// Characters that can start Markdown or HTML inside a line: table columns, code spans,
    /// emphasis, links and images, HTML tags and entities, escapes.
    const SPECIAL: &[char] = &[
        '\\', '`', '*', '_', '[', ']', '<', '>', '|', '!', '~', '&', '#',
    ];

    /// Inline text (a table cell, a heading): on one line, with every character in [`SPECIAL`]
    /// backslash-escaped (CommonMark makes escaped punctuation literal), so no value can end a
    /// table cell, open a code span, a link or an HTML tag, or start a heading.
    pub fn text(s: &str) -> String {
        let s = cut(s);
        let mut out = String::with_capacity(s.len() + 8);
        for c in s.chars() {
            match c {
                '\n' | '\r' | '\t' => out.push(' '),
                c if c.is_control() => {}
                // A zero-width space after `@`: no record mentions (notifies) anyone where
                // GitHub renders the text (an issue, a job summary).
                '@' => out.push_str("@\u{200b}"),
                c if SPECIAL.contains(&c) => {
                    out.push('\\');
                    out.push(c);
                }
                c => out.push(c),
            }
        }
        out
    }

    /// A fenced code block holding `s` verbatim: the fence is longer than any run of backticks
    /// in `s`, so nothing inside can close it.
    pub fn fenced(s: &str) -> String {
        fence(&cut(s))
    }

    fn fence(s: &str) -> String {
        let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
        let fence = "`".repeat(longest.max(2) + 1);
        let body: String = s
            .chars()
            .filter(|c| *c == '\n' || !c.is_control())
            .collect();
        format!("{fence}text\n{}\n{fence}\n", body.trim_end_matches('\n'))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cell {
    pub claim: String,
    pub build: Build,
    #[serde(flatten)]
    pub answer: Answer,
}

/// What one build's records say about the document.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Counts {
    pub as_documented: usize,
    pub doc_stale: usize,
    pub drifted: usize,
    pub not_applicable: usize,
    pub not_reached: usize,
    /// Format-1 records: held, before the suite told the document from the era.
    pub holds: usize,
}

/// The report: the newest record per claim and build.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub builds: Vec<Build>,
    /// Per build, in the order of `builds`.
    pub counts: Vec<Counts>,
    pub cells: Vec<Cell>,
    pub notes: Vec<String>,
    pub drifted: usize,
    pub doc_stale: usize,
}

pub fn build(loaded: &Loaded) -> Report {
    let mut newest: BTreeMap<(String, Build), &ClaimRecord> = BTreeMap::new();
    for r in &loaded.records {
        let build = Build {
            istio_version: r.istio_version.clone(),
            era: r.era.clone(),
            provider: r.provider.clone(),
        };
        let key = (r.claim.clone(), build);
        match newest.get(&key) {
            Some(old) if old.at >= r.at => {}
            _ => {
                newest.insert(key, r);
            }
        }
    }
    let mut builds: Vec<Build> = newest.keys().map(|(_, b)| b.clone()).collect();
    builds.sort();
    builds.dedup();
    let cells: Vec<Cell> = newest
        .iter()
        .map(|((claim, build), r)| Cell {
            claim: claim.clone(),
            build: build.clone(),
            answer: r.answer.clone(),
        })
        .collect();
    // One pass over the cells (they are sorted by claim, then build: a build's index by search).
    let mut counts = vec![Counts::default(); builds.len()];
    for cell in &cells {
        let Ok(i) = builds.binary_search(&cell.build) else {
            continue;
        };
        let c = &mut counts[i];
        match cell.answer {
            Answer::AsDocumented => c.as_documented += 1,
            Answer::DocStale { .. } => c.doc_stale += 1,
            Answer::Drifted { .. } => c.drifted += 1,
            Answer::NotApplicable { .. } => c.not_applicable += 1,
            Answer::NotReached { .. } => c.not_reached += 1,
            Answer::Holds => c.holds += 1,
        }
    }
    Report {
        drifted: counts.iter().map(|c| c.drifted).sum(),
        doc_stale: counts.iter().map(|c| c.doc_stale).sum(),
        builds,
        counts,
        cells,
        notes: loaded.notes.clone(),
    }
}

/// A claim id as shown: a code span for the suite's own ids, escaped text for any other.
fn claim_label(id: &str) -> String {
    match crate::claims::claim(id) {
        Some(c) => format!("`{}`", c.name()),
        None => md::text(id),
    }
}

fn mark(a: Option<&Answer>) -> &'static str {
    match a {
        Some(Answer::AsDocumented) => "as documented",
        Some(Answer::Holds) => "holds",
        Some(Answer::DocStale { .. }) => "doc stale",
        Some(Answer::Drifted { .. }) => "**DRIFTED**",
        Some(Answer::NotApplicable { .. }) => "n/a",
        Some(Answer::NotReached { .. }) => "not reached",
        // Not the same as not reached: the build has no record of that claim.
        None => "no record",
    }
}

/// A drifted cell's part of the report's "What drifted" section (a `###` heading, the tutorial
/// section, what was expected and what was seen, redacted and escaped); empty for any other
/// answer.
pub fn drift_markdown(cell: &Cell) -> String {
    let Answer::Drifted {
        expected,
        actual,
        era_expected,
        documented,
    } = &cell.answer
    else {
        return String::new();
    };
    let section = match crate::claims::claim(&cell.claim) {
        Some(c) => c.section.title().to_string(),
        None => match page_step(&cell.claim) {
            Some((line, what)) => format!("the page, run as written ({what} at line {line})"),
            None => "not a claim of this suite (records of another version?)".to_string(),
        },
    };
    let mut out = format!(
        "### {} on {}\n\nTutorial section: {section}{}\n\nExpected:\n{}Actual:\n{}",
        claim_label(&cell.claim),
        cell.build.label(),
        documented
            .as_ref()
            .map(|d| format!(" ({})", md::text(&d.lines.to_string())))
            .unwrap_or_default(),
        md::fenced_redacted(expected),
        md::fenced_redacted(actual)
    );
    if let Some(e) = era_expected {
        out.push_str(&format!(
            "What this Istio's era would show:\n{}",
            md::fenced_redacted(e)
        ));
    }
    out
}

/// The line and kind (`command` / `output`) of a step of a page run as written, from its id
/// (`doc.l<line>.<section>.<command|output>`, `crate::document`); `None` for any other id.
fn page_step(id: &str) -> Option<(usize, &str)> {
    let rest = id.strip_prefix("doc.l")?;
    let (line, rest) = rest.split_once('.')?;
    let what = rest.rsplit('.').next()?;
    let line = line.parse().ok()?;
    matches!(what, "command" | "output").then_some((line, what))
}

impl Report {
    /// Claim ids in the records that this suite does not define, in first-seen order.
    pub fn unknown_claims(&self) -> Vec<String> {
        let mut seen = std::collections::HashSet::new();
        let mut out: Vec<String> = Vec::new();
        for c in &self.cells {
            if crate::claims::claim(&c.claim).is_none() && seen.insert(c.claim.as_str()) {
                out.push(c.claim.clone());
            }
        }
        out
    }

    /// Every cell's answer by claim and build: one lookup per cell of the table.
    fn index(&self) -> HashMap<(&str, &Build), &Answer> {
        self.cells
            .iter()
            .map(|c| ((c.claim.as_str(), &c.build), &c.answer))
            .collect()
    }

    /// Cells in tutorial order (then claims this suite does not know, in first-seen order).
    fn in_order(&self) -> Vec<&Cell> {
        let mut unknown_rank: HashMap<&str, usize> = HashMap::new();
        for c in &self.cells {
            if crate::claims::claim(&c.claim).is_none() {
                let next = unknown_rank.len();
                unknown_rank.entry(c.claim.as_str()).or_insert(next);
            }
        }
        let rank = |cell: &Cell| match CLAIMS.iter().position(|c| c.name() == cell.claim) {
            Some(i) => (0, i),
            None => (1, unknown_rank[cell.claim.as_str()]),
        };
        let mut cells: Vec<(usize, usize, &Cell)> = self
            .cells
            .iter()
            .map(|c| {
                let (a, b) = rank(c);
                (a, b, c)
            })
            .collect();
        // Stable: within a claim, the cells keep their order (by build).
        cells.sort_by_key(|(a, b, _)| (*a, *b));
        cells.into_iter().map(|(_, _, c)| c).collect()
    }

    /// One line per build: how many documented statements are stale and how many drifted. No
    /// line is a workflow command, whatever the records say (`.ci/run` prints it to the log).
    pub fn headline(&self) -> String {
        neutralize(&self.headline_text()).into_owned()
    }

    fn headline_text(&self) -> String {
        if self.builds.is_empty() {
            return "No claim records.".into();
        }
        self.builds
            .iter()
            .zip(&self.counts)
            .map(|(b, c)| {
                let mut line = format!(
                    "{}: {} documented statements are stale, {} drifted ({} as documented, {} not applicable, {} not reached",
                    b.label(),
                    c.doc_stale,
                    c.drifted,
                    c.as_documented,
                    c.not_applicable,
                    c.not_reached
                );
                if c.holds > 0 {
                    line.push_str(&format!(", {} held in format-1 records", c.holds));
                }
                line.push_str(").");
                line
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The Markdown report; no line of it is a workflow command, whatever the records say.
    pub fn markdown(&self) -> String {
        neutralize(&self.markdown_text()).into_owned()
    }

    fn markdown_text(&self) -> String {
        let mut out = String::from("# Tutorial drift report\n\n");
        if self.builds.is_empty() {
            out.push_str("No claim records.\n");
        } else {
            for line in self.headline_text().lines() {
                out.push_str(&format!("- {line}\n"));
            }
            out.push('\n');
            self.stale_section(&mut out);
            self.table(&mut out);
            self.drift_section(&mut out);
        }
        if !self.notes.is_empty() {
            out.push_str("\n## Notes\n\n");
            for n in &self.notes {
                out.push_str(&format!("- {}\n", md::text(n)));
            }
        }
        out
    }

    fn stale_section(&self, out: &mut String) {
        let stale: Vec<&Cell> = self
            .in_order()
            .into_iter()
            .filter(|c| matches!(c.answer, Answer::DocStale { .. }))
            .collect();
        if stale.is_empty() {
            return;
        }
        out.push_str("## Where the tutorial is stale\n");
        for cell in stale {
            let Answer::DocStale {
                documented,
                observed,
                era,
                ..
            } = &cell.answer
            else {
                continue;
            };
            out.push_str(&format!(
                "\n### {} ({}) on {}\n\nThe tutorial says ({}):\n{}Observed:\n{}This Istio: {} (since {}; source: {}).\n",
                md::text(&documented.lines.to_string()),
                claim_label(&cell.claim),
                cell.build.label(),
                md::text(&documented.expectation),
                md::fenced(&documented.text),
                md::fenced_redacted(observed),
                md::text(&era.fact),
                md::text(&era.since),
                md::text(&era.source),
            ));
        }
        out.push('\n');
    }

    fn table(&self, out: &mut String) {
        let index = self.index();
        let builds = &self.builds[..self.builds.len().min(MAX_TABLE_BUILDS)];
        let unknown = self.unknown_claims();
        let shown_unknown = &unknown[..unknown.len().min(MAX_TABLE_UNKNOWN)];
        out.push_str("## Claims\n\n");
        if builds.len() < self.builds.len() || shown_unknown.len() < unknown.len() {
            out.push_str(&format!(
                "The table shows {} of {} builds and {} of {} claims this suite does not know; \
                 the JSON summary (`--json`) has every cell.\n\n",
                builds.len(),
                self.builds.len(),
                shown_unknown.len(),
                unknown.len()
            ));
        }
        out.push_str("| claim |");
        for b in builds {
            out.push_str(&format!(" {} |", b.label()));
        }
        out.push_str("\n|---|");
        out.push_str(&"---|".repeat(builds.len()));
        out.push('\n');
        let row = |out: &mut String, id: &str| {
            for b in builds {
                out.push(' ');
                out.push_str(mark(index.get(&(id, b)).copied()));
                out.push_str(" |");
            }
            out.push('\n');
        };
        let mut section: Option<Section> = None;
        // A claim no shown build recorded (a page run as written alone, say) is no row: the
        // table would only say "no record" across.
        let recorded = |id: &str| builds.iter().any(|b| index.contains_key(&(id, b)));
        for claim in CLAIMS.iter().filter(|c| recorded(c.name())) {
            if section != Some(claim.section) {
                section = Some(claim.section);
                out.push_str(&format!(
                    "| **{}** |{}\n",
                    claim.section.title(),
                    " |".repeat(builds.len())
                ));
            }
            out.push_str(&format!(
                "| `{}` — {} |",
                claim.name(),
                md::text(claim.statement)
            ));
            row(out, claim.name());
        }
        // A page run as written (`crate::document`'s `doc.*` ids, in page order), then ids no
        // part of this suite defines.
        let (steps, others): (Vec<&String>, Vec<&String>) =
            shown_unknown.iter().partition(|id| page_step(id).is_some());
        for (title, ids) in [
            ("The page, run as written", steps),
            ("Claims this suite does not know", others),
        ] {
            if ids.is_empty() {
                continue;
            }
            out.push_str(&format!("| **{title}** |{}\n", " |".repeat(builds.len())));
            for id in ids {
                out.push_str(&format!("| {} |", md::text(id)));
                row(out, id);
            }
        }
    }

    fn drift_section(&self, out: &mut String) {
        let drifts: Vec<&Cell> = self
            .in_order()
            .into_iter()
            .filter(|c| matches!(c.answer, Answer::Drifted { .. }))
            .collect();
        if drifts.is_empty() {
            return;
        }
        out.push_str("\n## What drifted\n");
        for cell in drifts {
            out.push('\n');
            out.push_str(&drift_markdown(cell));
        }
    }

    /// The JSON summary: every cell, the counts per build, the stale statements.
    pub fn json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}
