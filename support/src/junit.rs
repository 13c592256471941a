//! JUnit XML from claim records, for CI dashboards: one test case per claim and build.
//!
//! - a test suite per section of the tutorial (per build when the records hold several), its
//!   properties the Istio build, era and provider;
//! - a test case per claim (name = claim id, classname = the build), with the same properties and
//!   the answer: `as_documented` and format-1 `holds` pass; `doc_stale` passes with the stale
//!   lines and the era fact in `system-out` and the property `answer=doc_stale` (with
//!   `AMBIENT_DOCS=strict` it fails, as its test does); `drifted` is a failure carrying what was
//!   expected and what was seen; `not_reached` is an error; `not_applicable` is skipped, with why.
//!
//! Which record is the case: the newest of its claim and build, the rule of the drift report
//! (`crate::report`), so the JUnit file and the report never disagree. Earlier records of the same
//! claim and build in the same run (under nextest every test process records the apps fixture's
//! claims again) that did not pass are kept as the case's reruns: a flaky claim shows as flaky.

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Seek, Write};
use std::path::Path;
use std::time::Duration;

use quick_junit::{
    NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestRerun, TestSuite,
};

use crate::claims::{Answer, CLAIMS, ClaimRecord, Section};
use crate::report::Build;

/// The file name beside `claims.jsonl`.
pub const FILE_NAME: &str = "junit.xml";

/// Longest failure message (an attribute, shown on one line by dashboards).
const MAX_MESSAGE: usize = 1 << 10;
/// Longest text node (failure details, `system-out`).
const MAX_TEXT: usize = 64 << 10;

#[derive(Debug, thiserror::Error)]
pub enum JunitError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("writing JUnit XML: {0}")]
    Serialize(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> JunitError + '_ {
    move |source| JunitError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn build_of(r: &ClaimRecord) -> Build {
    Build {
        istio_version: r.istio_version.clone(),
        era: r.era.clone(),
        provider: r.provider.clone(),
    }
}

/// A build as JUnit shows it (plain text: XML escaping is quick-junit's).
pub fn build_label(b: &Build) -> String {
    format!("{} ({}, {})", b.istio_version, b.era, b.provider)
}

/// The answer's name in records (`as_documented`, `doc_stale`, ...).
pub fn answer_name(a: &Answer) -> &'static str {
    match a {
        Answer::AsDocumented => "as_documented",
        Answer::DocStale { .. } => "doc_stale",
        Answer::Drifted { .. } => "drifted",
        Answer::NotApplicable { .. } => "not_applicable",
        Answer::NotReached { .. } => "not_reached",
        Answer::Holds => "holds",
    }
}

fn cut(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes cut)", &s[..end], s.len() - end)
}

/// Characters XML 1.0 forbids (its `Char` production: tab, LF, CR, U+0020–U+D7FF,
/// U+E000–U+FFFD, U+10000 and up; a Rust string holds no surrogate): records can hold them, an XML
/// reader refuses the whole file for one.
fn forbidden_in_xml(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
}

/// Replaces what XML forbids with U+FFFD and counts it (per suite: the count is its property
/// `xml_replaced_characters`).
#[derive(Default)]
struct XmlText {
    replaced: usize,
}

impl XmlText {
    fn clean(&mut self, s: &str) -> String {
        if !s.chars().any(forbidden_in_xml) {
            return s.to_string();
        }
        s.chars()
            .map(|c| {
                if forbidden_in_xml(c) {
                    self.replaced += 1;
                    char::REPLACEMENT_CHARACTER
                } else {
                    c
                }
            })
            .collect()
    }
}

fn one_line(s: &str) -> String {
    cut(
        &s.split_whitespace().collect::<Vec<_>>().join(" "),
        MAX_MESSAGE,
    )
}

/// What a non-passing answer carries: kind, type, message, details. `None` when it passes.
fn non_success(answer: &Answer, strict_docs: bool) -> Option<(NonSuccessKind, String, String)> {
    match answer {
        Answer::Drifted {
            expected, actual, ..
        } => Some((
            NonSuccessKind::Failure,
            one_line(&format!("expected: {expected}; actual: {actual}")),
            answer.describe(),
        )),
        Answer::NotReached { why } => Some((NonSuccessKind::Error, one_line(why), why.clone())),
        Answer::DocStale { documented, .. } if strict_docs => Some((
            NonSuccessKind::Failure,
            one_line(&format!(
                "the tutorial is stale ({} {}; AMBIENT_DOCS=strict)",
                documented.expectation, documented.lines
            )),
            answer.describe(),
        )),
        _ => None,
    }
}

fn timestamp(at: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::parse_from_rfc3339(at).ok()
}

/// One test case: `record` decides it; `earlier` are the other records of its claim and build in
/// the same run, oldest first. Every text from a record goes through `xml`.
fn case(
    record: &ClaimRecord,
    earlier: &[&ClaimRecord],
    strict_docs: bool,
    xml: &mut XmlText,
) -> TestCase {
    let answer = &record.answer;
    let mut status = match (answer, non_success(answer, strict_docs)) {
        (_, Some((kind, message, details))) => {
            let mut s = TestCaseStatus::non_success(kind);
            s.set_type(answer_name(answer))
                .set_message(xml.clean(&message))
                .set_description(xml.clean(&cut(&details, MAX_TEXT)));
            s
        }
        (Answer::NotApplicable { why }, None) => {
            let mut s = TestCaseStatus::skipped();
            s.set_type("not_applicable")
                .set_message(xml.clean(&one_line(why)));
            s
        }
        _ => TestCaseStatus::success(),
    };
    for e in earlier {
        if let Some((kind, message, details)) = non_success(&e.answer, strict_docs) {
            let mut rerun = TestRerun::new(kind);
            rerun
                .set_type(answer_name(&e.answer))
                .set_message(xml.clean(&message))
                .set_description(xml.clean(&cut(&details, MAX_TEXT)));
            if let Some(t) = timestamp(&e.at) {
                rerun.set_timestamp(t);
            }
            status.add_rerun(rerun);
        }
    }
    let mut case = TestCase::new(xml.clean(&record.claim), status);
    case.set_classname(xml.clean(&build_label(&build_of(record))))
        .set_time(Duration::ZERO);
    if let Some(t) = timestamp(&record.at) {
        case.set_timestamp(t);
    }
    let mut properties = vec![
        Property::new("istio_version", xml.clean(&record.istio_version)),
        Property::new("era", xml.clean(&record.era)),
        Property::new("provider", xml.clean(&record.provider)),
        Property::new("answer", answer_name(answer)),
        Property::new("run_id", xml.clean(&record.run_id)),
    ];
    if let Some(id) = &record.nextest_run_id {
        properties.push(Property::new("nextest_run_id", xml.clean(id)));
    }
    if let Some(t) = &record.tutorial {
        properties.push(Property::new("tutorial", xml.clean(t)));
    }
    if !earlier.is_empty() {
        properties.push(Property::new(
            "records",
            (earlier.len() + 1).to_string().as_str(),
        ));
    }
    case.add_properties(properties);
    if let Answer::DocStale { .. } = answer {
        // Dashboards show a passing case's output: the stale lines and the era fact.
        case.set_system_out(xml.clean(&cut(&answer.describe(), MAX_TEXT)));
    }
    case
}

/// The JUnit report of `records`: one case per claim and build (see the module's doc).
pub fn report(records: &[ClaimRecord], strict_docs: bool) -> Report {
    // The newest record per claim and build (ties: the first read), as the drift report does.
    let mut newest: BTreeMap<(Build, String), usize> = BTreeMap::new();
    for (i, r) in records.iter().enumerate() {
        let key = (build_of(r), r.claim.clone());
        match newest.get(&key) {
            Some(&old) if records[old].at >= r.at => {}
            _ => {
                newest.insert(key, i);
            }
        }
    }
    let order = |claim: &str| {
        CLAIMS
            .iter()
            .position(|c| c.name() == claim)
            .unwrap_or(CLAIMS.len())
    };
    // Suites: per build (sorted), per section in tutorial order; cases in tutorial order, then
    // claims this suite does not know in the order first read.
    let mut suites: BTreeMap<(Build, Section), Vec<usize>> = BTreeMap::new();
    for ((build, _), &i) in &newest {
        suites
            .entry((build.clone(), records[i].section))
            .or_default()
            .push(i);
    }
    let several_builds = newest
        .keys()
        .map(|(b, _)| b)
        .collect::<std::collections::BTreeSet<_>>()
        .len()
        > 1;
    // The records of each claim and build per session: a case's reruns are its group's other
    // records (one pass, not a scan of every record per case).
    let mut groups: HashMap<(&Build, &str, &str), Vec<usize>> = HashMap::new();
    let builds: BTreeMap<Build, ()> = newest.keys().map(|(b, _)| (b.clone(), ())).collect();
    for (i, r) in records.iter().enumerate() {
        if let Some((b, ())) = builds.get_key_value(&build_of(r)) {
            groups
                .entry((b, r.claim.as_str(), r.session()))
                .or_default()
                .push(i);
        }
    }
    let mut report = Report::new("ambient-tutorial");
    if let Some(first) = records.iter().filter_map(|r| timestamp(&r.at)).min() {
        report.set_timestamp(first);
    }
    report.set_time(Duration::ZERO);
    for ((build, section), mut cases) in suites {
        cases.sort_by_key(|&i| (order(&records[i].claim), i));
        let mut xml = XmlText::default();
        let name = if several_builds {
            format!("{} on {}", section.title(), xml.clean(&build_label(&build)))
        } else {
            section.title().to_string()
        };
        let mut suite = TestSuite::new(name);
        suite.set_time(Duration::ZERO).add_properties([
            Property::new("istio_version", xml.clean(&build.istio_version)),
            Property::new("era", xml.clean(&build.era)),
            Property::new("provider", xml.clean(&build.provider)),
        ]);
        for i in cases {
            let r = &records[i];
            let group = builds
                .get_key_value(&build)
                .and_then(|(b, ())| groups.get(&(b, r.claim.as_str(), r.session())));
            let mut earlier: Vec<&ClaimRecord> = group
                .into_iter()
                .flatten()
                .filter(|&&j| j != i)
                .map(|&j| &records[j])
                .collect();
            earlier.sort_by(|a, b| a.at.cmp(&b.at));
            suite.add_test_case(case(r, &earlier, strict_docs, &mut xml));
        }
        if xml.replaced > 0 {
            suite.add_property(Property::new(
                "xml_replaced_characters",
                xml.replaced.to_string().as_str(),
            ));
        }
        report.add_test_suite(suite);
    }
    report
}

/// The JUnit XML of `records`.
pub fn render(records: &[ClaimRecord], strict_docs: bool) -> Result<String, JunitError> {
    report(records, strict_docs)
        .to_string()
        .map_err(|e| JunitError::Serialize(crate::errors::chain(&e)))
}

/// The records of one session (see [`ClaimRecord::session`]) in a `claims.jsonl` text. Lines of
/// other runs are not read further, so a damaged or newer line of an older run never stops this
/// run's JUnit file.
pub fn session_records(text: &str, session: &str) -> Vec<ClaimRecord> {
    text.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|v| {
            let field = |name: &str| v.get(name).and_then(|s| s.as_str());
            field("nextest_run_id").or(field("run_id")) == Some(session)
        })
        .filter_map(|v| ClaimRecord::from_json(v).ok())
        .collect()
}

/// Writes `xml` to `path` whole: a temporary file in the same directory, renamed over it, so a
/// reader (or a run killed mid-write) never sees half a file.
pub fn write(path: &Path, xml: &str) -> Result<(), JunitError> {
    // A bare file name's parent is the empty path: the temporary file is then made in the
    // working directory, beside it.
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".junit-")
        .tempfile_in(dir)
        .map_err(io(dir))?;
    tmp.write_all(xml.as_bytes()).map_err(io(path))?;
    tmp.persist(path).map_err(|e| JunitError::Io {
        path: path.display().to_string(),
        source: e.error,
    })?;
    Ok(())
}

/// Rewrites `out` from the records of `session` in the (locked) records file `records`. Returns
/// how many records the session has.
pub(crate) fn rewrite_for_session(
    records: &mut std::fs::File,
    records_path: &Path,
    session: &str,
    strict_docs: bool,
    out: &Path,
) -> Result<usize, JunitError> {
    let mut bytes = Vec::new();
    records
        .rewind()
        .and_then(|()| records.read_to_end(&mut bytes))
        .map_err(io(records_path))?;
    let mine = session_records(&String::from_utf8_lossy(&bytes), session);
    write(out, &render(&mine, strict_docs)?)?;
    Ok(mine.len())
}

#[cfg(test)]
mod tests {
    use super::cut;

    #[test]
    fn a_text_is_cut_at_its_limit_on_a_char_boundary_and_says_how_much() {
        assert_eq!(cut("abc", 3), "abc");
        assert_eq!(cut("abcd", 3), "abc… (1 bytes cut)");
        // A two-byte char across the limit: cut before it.
        assert_eq!(cut("aé", 2), "a… (2 bytes cut)");
        assert_eq!(cut("aéb", 3), "aé… (1 bytes cut)");
    }
}
