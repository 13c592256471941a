//! Records are files anyone can hand to `ambient-spec` (an artifact of another job, a file in a
//! pull request): each test here feeds one that attacks a writer (the docs patch, the printed
//! headline and report, the JUnit file, the drift issues) and shows the attack does not get
//! through, beside proof that the attack itself is real.

use std::path::Path;

use support::claims::{Anchor, Answer, ClaimId, ClaimRecord, EraFact, RECORD_FORMAT, of};
use support::eras::{Fact, IstioVersion, facts_for, provenance};
use support::fixtures;
use support::tutorial::markdown::Lines;

fn seed() -> String {
    fixtures::read("tutorial/ambient-tutorial.md").unwrap()
}

fn record(id: ClaimId, istio: &str, answer: Answer) -> ClaimRecord {
    let claim = of(id);
    ClaimRecord {
        format: RECORD_FORMAT,
        run_id: "hostile".into(),
        claim: claim.name().into(),
        section: claim.section,
        era: "1.24".into(),
        istio_version: istio.into(),
        provider: "sim".into(),
        at: "2026-12-06T00:00:00Z".into(),
        tutorial: None,
        nextest_run_id: None,
        istio_commit: None,
        istio_commit_date: None,
        answer,
    }
}

/// A stale record of `id` on lines `start..=end` of the seed tutorial, with their text.
fn stale(id: ClaimId, start: usize, end: usize, era: EraFact, new: Option<&str>) -> ClaimRecord {
    let text = seed()
        .lines()
        .skip(start - 1)
        .take(end + 1 - start)
        .collect::<Vec<_>>()
        .join("\n");
    record(
        id,
        "1.31-dev",
        Answer::DocStale {
            documented: Anchor {
                expectation: of(id).anchors[0].into(),
                lines: Lines { start, end },
                text,
            },
            observed: "seen".into(),
            era,
            replacement: new.map(str::to_string),
        },
    )
}

fn suite_fact(fact: Fact) -> EraFact {
    provenance(&facts_for(&IstioVersion::parse("1.31-dev").unwrap()), fact)
}

/// A patch that creates `PWNED.txt` when `git apply` reads it.
const PWNED_PATCH: &str = "diff --git a/PWNED.txt b/PWNED.txt\nnew file mode 100644\n--- /dev/null\n+++ b/PWNED.txt\n@@ -0,0 +1 @@\n+pwned\n";

struct Repo(tempfile::TempDir);

impl Repo {
    fn new() -> Repo {
        let repo = Repo(tempfile::tempdir().unwrap());
        std::fs::write(repo.path().join("tutorial.md"), seed()).unwrap();
        assert!(repo.git(&["init", "-q"]).status.success());
        repo
    }
    fn path(&self) -> &Path {
        self.0.path()
    }
    fn git(&self, args: &[&str]) -> std::process::Output {
        std::process::Command::new("git")
            .args(args)
            .current_dir(self.path())
            .output()
            .unwrap()
    }
    fn apply(&self, patch: &str) -> std::process::Output {
        std::fs::write(self.path().join("fix.patch"), patch).unwrap();
        self.git(&["apply", "fix.patch"])
    }
    fn pwned(&self) -> bool {
        self.path().join("PWNED.txt").exists()
    }
}

#[test]
fn a_record_cannot_smuggle_a_file_into_the_docs_patch() {
    // The attack is real: git applies a header that holds a diff.
    let proof = Repo::new();
    let applied = proof.apply(&format!(
        "Some header\n  - note: x\n{PWNED_PATCH} since 1.24\n"
    ));
    assert!(applied.status.success(), "{applied:?}");
    assert!(proof.pwned());

    // Records carrying it: in the era fact (a note of the header), in the claim id, in the
    // expectation, in the Istio version, beside one honest stale block the patch rewrites.
    let mut fact = suite_fact(Fact::ZtunnelNodeSelector);
    fact.fact = format!("x\n{PWNED_PATCH}");
    let in_fact = stale(ClaimId::InstallationZtunnelNodeSelector, 3, 3, fact, None);
    let mut in_claim = in_fact.clone();
    in_claim.claim = format!("installation.x\n{PWNED_PATCH}");
    in_claim.answer = stale(
        ClaimId::InstallationZtunnelNodeSelector,
        3,
        3,
        suite_fact(Fact::ZtunnelNodeSelector),
        None,
    )
    .answer;
    let mut in_expectation = stale(
        ClaimId::InstallationIstioCniNodeSelector,
        3,
        3,
        suite_fact(Fact::ZtunnelNodeSelector),
        None,
    );
    if let Answer::DocStale { documented, .. } = &mut in_expectation.answer {
        documented.expectation = format!("x\n{PWNED_PATCH}");
    }
    let honest = stale(
        ClaimId::InstallationIstioctlPrintsComponentLines,
        5,
        5,
        suite_fact(Fact::InstallLines),
        Some(&format!("rewritten\n{PWNED_PATCH}")),
    );
    let records = [&in_fact, &in_claim, &in_expectation, &honest];
    let patch = support::docpatch::build(&seed(), "tutorial.md", &records).unwrap();
    let rendered = patch.render(&format!("1.31-dev\n{PWNED_PATCH}"));
    assert_eq!(patch.replaced, 1, "{rendered}");
    assert_eq!(
        rendered
            .lines()
            .filter(|l| l.starts_with("diff --git"))
            .count(),
        1,
        "only the patch's own diff: {rendered}"
    );
    assert!(
        !rendered.lines().any(|l| l.starts_with("--- /dev/null")),
        "{rendered}"
    );
    // What the records said is counted, not quoted.
    assert!(
        rendered.contains("2 stale record(s) of claims or expectations"),
        "{rendered}"
    );
    assert!(
        rendered.contains("1 stale record(s) whose era fact"),
        "{rendered}"
    );
    assert!(
        rendered.contains("(a version this suite cannot read)"),
        "{rendered}"
    );
    let repo = Repo::new();
    let applied = repo.apply(&rendered);
    assert!(
        applied.status.success(),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );
    assert!(!repo.pwned(), "{rendered}");
    // The observed text is the new block, line for line, PWNED's lines included as text.
    let patched = std::fs::read_to_string(repo.path().join("tutorial.md")).unwrap();
    assert!(
        patched.contains("rewritten\ndiff --git a/PWNED.txt"),
        "{patched}"
    );
}

#[test]
fn lines_outside_the_tutorial_are_an_error_naming_the_record() {
    let total = seed().lines().count();
    let honest = stale(
        ClaimId::InstallationZtunnelNodeSelector,
        3,
        3,
        suite_fact(Fact::ZtunnelNodeSelector),
        Some("new"),
    );
    assert!(
        support::docpatch::build(&seed(), "t.md", &[&honest]).is_ok(),
        "the near miss: lines inside the tutorial"
    );
    let last = stale(
        ClaimId::InstallationZtunnelNodeSelector,
        total,
        total,
        suite_fact(Fact::ZtunnelNodeSelector),
        Some("new"),
    );
    assert!(support::docpatch::build(&seed(), "t.md", &[&last]).is_ok());
    for (start, end) in [
        (0, 3),
        (4, 3),
        (total, total + 1),
        (total + 1, total + 1),
        (usize::MAX, usize::MAX),
        (1, usize::MAX),
    ] {
        let mut r = honest.clone();
        if let Answer::DocStale { documented, .. } = &mut r.answer {
            documented.lines = Lines { start, end };
        }
        let e = support::docpatch::build(&seed(), "t.md", &[&r]).unwrap_err();
        let said = e.to_string();
        assert!(
            said.contains("installation.ztunnel_node_selector")
                && said.contains("1.31-dev")
                && said.contains(&format!("{start}..={end}")),
            "{said}"
        );
    }
}

fn commands_in(text: &str) -> Vec<&str> {
    text.split(['\n', '\r'])
        .filter(|l| support::workflow_commands::is_command(l))
        .collect()
}

#[test]
fn no_record_prints_a_workflow_command() {
    let hostile = "::error title=pwned::a record wrote this";
    let old = "##[add-mask]whatever";
    let mut records = Vec::new();
    for (istio, era, provider) in [
        (hostile, "1.24", "sim"),
        ("1.24.2", old, "kind"),
        ("1.24.3", "1.24", "x\r::warning::y"),
    ] {
        let mut r = record(
            ClaimId::L4CurlReturnsProductpage,
            istio,
            Answer::Drifted {
                expected: format!("{hostile}\n{old}"),
                actual: format!("  {hostile}\r{old}"),
                era_expected: None,
                documented: None,
            },
        );
        r.era = era.into();
        r.provider = provider.into();
        records.push(r);
    }
    let mut unknown = records[0].clone();
    unknown.claim = format!("{hostile}\n{old}");
    records.push(unknown);
    let loaded = support::report::Loaded {
        records,
        notes: vec![format!("{hostile}\n{old}")],
    };
    let report = support::report::build(&loaded);
    // The near miss: the text that went in is made of commands.
    assert!(support::workflow_commands::is_command(hostile));
    assert!(support::workflow_commands::is_command(old));
    let headline = report.headline();
    assert_eq!(headline.lines().count(), 3, "{headline}");
    assert!(commands_in(&headline).is_empty(), "{headline}");
    assert!(headline.contains("\\::error title=pwned"), "{headline}");
    let markdown = report.markdown();
    assert!(commands_in(&markdown).is_empty(), "{markdown}");
    // A line of a claims file that is not a record: the error quotes none as a command.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("claims.jsonl");
    std::fs::write(&path, format!("{{\"format\": \"{old}\"}}\n")).unwrap();
    let error = support::report::load(&[&path]).unwrap_err().to_string();
    assert!(error.contains("add-mask"), "{error}");
    assert!(commands_in(&error).is_empty(), "{error}");
}

/// Records of `n` distinct claims this suite does not know, each on a build of its own.
fn distinct_claims_and_builds(n: usize) -> Vec<ClaimRecord> {
    (0..n)
        .map(|i| {
            let mut r = record(
                ClaimId::L4CurlReturnsProductpage,
                &format!("1.{}.0", 24 + i),
                Answer::Drifted {
                    expected: "e".into(),
                    actual: "a".into(),
                    era_expected: None,
                    documented: None,
                },
            );
            r.claim = format!("x.claim_{i}");
            r
        })
        .collect()
}

/// `records`, each edited by `edit`.
fn edited(records: Vec<ClaimRecord>, edit: impl Fn(&mut ClaimRecord)) -> Vec<ClaimRecord> {
    records
        .into_iter()
        .map(|mut r| {
            edit(&mut r);
            r
        })
        .collect()
}

#[test]
fn the_table_says_it_is_cut_when_either_its_builds_or_its_unknown_claims_are() {
    use support::report::{MAX_TABLE_BUILDS, MAX_TABLE_UNKNOWN};
    let markdown = |records: Vec<ClaimRecord>| {
        support::report::build(&support::report::Loaded {
            records,
            notes: vec![],
        })
        .markdown()
    };
    let says_cut = |md: &str| md.contains("The table shows ");
    // Builds over the limit, claims within it (each build records the same claim).
    let builds = edited(distinct_claims_and_builds(MAX_TABLE_BUILDS + 1), |r| {
        r.claim = "x.claim".into()
    });
    let md = markdown(builds);
    assert!(
        md.contains(&format!(
            "The table shows {MAX_TABLE_BUILDS} of {} builds and 1 of 1 claims",
            MAX_TABLE_BUILDS + 1
        )),
        "{}",
        &md[..1_000.min(md.len())]
    );
    // Unknown claims over the limit, on one build.
    let claims = edited(distinct_claims_and_builds(MAX_TABLE_UNKNOWN + 1), |r| {
        r.istio_version = "1.24.0".into()
    });
    let md = markdown(claims);
    assert!(
        md.contains(&format!(
            "The table shows 1 of 1 builds and {MAX_TABLE_UNKNOWN} of {} claims",
            MAX_TABLE_UNKNOWN + 1
        )),
        "{}",
        &md[..1_000.min(md.len())]
    );
    // The near miss: both at their limits, nothing cut and nothing said.
    let both: Vec<ClaimRecord> = distinct_claims_and_builds(MAX_TABLE_BUILDS);
    assert!(!says_cut(&markdown(both)));
}

#[test]
fn the_report_is_linear_in_records_and_bounded_in_claims_times_builds() {
    // 3,000 records of distinct claims and builds took 268 s and printed 128 MB of Markdown when
    // every table cell searched every record (and the table had a cell per claim × build); 1,000
    // took 10 s. Linear work on 3,000 takes well under a second even in a debug build.
    let loaded = support::report::Loaded {
        records: distinct_claims_and_builds(3_000),
        notes: vec![],
    };
    let ((report, markdown, json), elapsed) = crate::timing::cpu_time(|| {
        let report = support::report::build(&loaded);
        let markdown = report.markdown();
        let json = report.json();
        (report, markdown, json)
    });
    assert_eq!(report.cells.len(), 3_000);
    assert_eq!(json["cells"].as_array().map(Vec::len), Some(3_000));
    assert_eq!(report.drifted, 3_000);
    // Every drift is in the report; the table shows a bounded part and says so.
    assert_eq!(markdown.matches("\n### ").count(), 3_000);
    assert!(
        markdown.contains(&format!(
            "The table shows {} of 3000 builds and {} of 3000 claims",
            support::report::MAX_TABLE_BUILDS,
            support::report::MAX_TABLE_UNKNOWN
        )),
        "{}",
        &markdown[..2_000]
    );
    assert!(markdown.len() < 2 << 20, "{} bytes", markdown.len());
    assert!(elapsed < std::time::Duration::from_secs(5), "{elapsed:?}");
}

#[test]
fn the_junit_file_is_linear_in_records() {
    // Each case searched every record for its reruns (20,000 records of 10,000 claims in one run:
    // 200 million comparisons). Eight times the records must cost about eight times the
    // processor time, not sixty-four (`crate::timing`). Each claim has a rerun in this run and
    // records of 16 older runs: those are no case and no rerun, so they cost a linear pass little
    // beside rendering, and a search per case through every record much more. That search
    // (the code before the fix, put back) measured 21–23 times; the linear code 9–10 times.
    let run_of = |claims: usize| {
        let mut records = Vec::with_capacity(claims * (OLDER_RUNS + 2));
        for (i, mut r) in distinct_claims_and_builds(claims).into_iter().enumerate() {
            r.istio_version = "1.24.2".into();
            for run in 0..OLDER_RUNS {
                let mut older = r.clone();
                older.run_id = format!("older-{run}");
                older.at = format!("2026-12-05T00:{:02}:{:02}Z", run / 60, run % 60);
                records.push(older);
            }
            let mut rerun = r.clone();
            rerun.at = "2026-12-06T00:00:01Z".into();
            records.extend([r, rerun]);
            assert_eq!(records.len(), (i + 1) * (OLDER_RUNS + 2));
        }
        records
    };
    let (small, large) = (run_of(SMALL_RUN), run_of(8 * SMALL_RUN));
    let render = |records: &[ClaimRecord]| support::junit::render(records, false).unwrap();
    let xml = crate::timing::assert_linear(
        "rendering the JUnit file",
        8,
        || render(&small),
        || render(&large),
    );
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), SMALL_RUN);
    // Each case carries its earlier record of this run as a rerun, and nothing of older runs.
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name("rerunFailure"))
            .count(),
        SMALL_RUN
    );
}

/// Claims in the smaller run of the JUnit linearity test, and older runs of each claim.
const SMALL_RUN: usize = 150;
const OLDER_RUNS: usize = 16;

#[test]
fn the_junit_file_is_xml_whatever_a_record_holds() {
    let forbidden = "a\u{0}b\u{1}c\u{b}\u{c}\u{1f}d\u{fffe}e\u{ffff}f";
    let allowed = "tab\tlf\ncr\r<&>\"' \u{fffd} \u{10000} \u{d7ff} \u{e000}";
    let mut r = record(
        ClaimId::L4CurlReturnsProductpage,
        &format!("1.24.2{forbidden}"),
        Answer::Drifted {
            expected: format!("{forbidden}{allowed}"),
            actual: forbidden.into(),
            era_expected: Some(forbidden.into()),
            documented: None,
        },
    );
    r.claim = format!("x{forbidden}");
    r.run_id = forbidden.into();
    r.tutorial = Some(forbidden.into());
    let mut skipped = record(
        ClaimId::L7WaypointDeclared,
        "1.24.2",
        Answer::NotApplicable {
            why: forbidden.into(),
        },
    );
    skipped.provider = format!("sim{forbidden}");
    let xml = support::junit::render(&[r, skipped], false).unwrap();
    // The near miss: the records' text as it is, in XML, is refused by an XML reader.
    assert!(roxmltree::Document::parse(&format!("<a>{forbidden}</a>")).is_err());
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml:?}"));
    let replaced: usize = doc
        .descendants()
        .filter(|n| {
            n.has_tag_name("property") && n.attribute("name") == Some("xml_replaced_characters")
        })
        .map(|n| n.attribute("value").unwrap().parse::<usize>().unwrap())
        .sum();
    // Nine forbidden characters in each of: claim, version (classname, property), run_id,
    // tutorial, expected, actual, era_expected (message and details); the other build's provider.
    assert!(replaced >= 9 * 8, "{replaced}\n{xml}");
    let text: String = doc
        .descendants()
        .filter_map(|n| n.text())
        .chain(
            doc.descendants()
                .flat_map(|n| n.attributes().map(|a| a.value())),
        )
        .collect();
    assert!(!text.chars().any(|c| matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')));
    assert!(text.contains("a\u{fffd}b\u{fffd}c"), "{text}");
    assert!(
        text.contains("\u{10000} \u{d7ff} \u{e000}"),
        "allowed text stays: {text}"
    );
}

#[test]
fn a_huge_field_is_read_once_and_cut_and_a_huge_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("claims.jsonl");
    let huge = "y".repeat(3 << 20);
    let mut r = record(
        ClaimId::L4CurlReturnsProductpage,
        "1.24.2",
        Answer::Drifted {
            expected: "e".into(),
            actual: huge.clone(),
            era_expected: None,
            documented: None,
        },
    );
    let line = serde_json::to_string(&r).unwrap();
    std::fs::write(&path, format!("{line}\n")).unwrap();
    let loaded = support::report::load(&[&path]).unwrap();
    let Answer::Drifted { actual, .. } = &loaded.records[0].answer else {
        panic!("{:?}", loaded.records[0].answer)
    };
    let kept = support::report::MAX_RECORD_TEXT;
    assert!(
        actual.starts_with(&huge[..kept]) && actual.len() < kept + 64,
        "{}",
        actual.len()
    );
    assert!(actual.ends_with(&format!("({} bytes cut when read)", huge.len() - kept)));
    assert_eq!(loaded.notes.len(), 1, "{:?}", loaded.notes);
    // The report shows its 8 KiB, with how much was cut.
    let markdown = support::report::build(&loaded).markdown();
    assert!(markdown.len() < 64 << 10, "{}", markdown.len());
    assert!(markdown.contains("bytes cut)"), "{}", &markdown[..1000]);
    // The near miss: a field at the limit is kept whole.
    if let Answer::Drifted { actual, .. } = &mut r.answer {
        *actual = "y".repeat(kept);
    }
    std::fs::write(&path, format!("{}\n", serde_json::to_string(&r).unwrap())).unwrap();
    let loaded = support::report::load(&[&path]).unwrap();
    assert!(loaded.notes.is_empty(), "{:?}", loaded.notes);
    // An id, version or time is short: a huge one is not a record of the suite. The near miss:
    // one of exactly 4 KiB is read.
    r.istio_version = "1".repeat(4 << 10);
    std::fs::write(&path, format!("{}\n", serde_json::to_string(&r).unwrap())).unwrap();
    assert!(support::report::load(&[&path]).is_ok());
    r.istio_version = "1".repeat(5 << 10);
    std::fs::write(&path, format!("{}\n", serde_json::to_string(&r).unwrap())).unwrap();
    let e = support::report::load(&[&path]).unwrap_err().to_string();
    assert!(
        e.contains("claims.jsonl:1") && e.contains("a name of 5120 bytes"),
        "{e}"
    );
}

#[test]
fn a_patch_printed_with_commands_in_it_is_guarded_and_still_applies() {
    let honest = stale(
        ClaimId::InstallationIstioctlPrintsComponentLines,
        5,
        5,
        suite_fact(Fact::InstallLines),
        Some("##[error]from a record\n::warning::also"),
    );
    let patch = support::docpatch::build(&seed(), "tutorial.md", &[&honest]).unwrap();
    let rendered = patch.render("1.31-dev");
    // The near miss: the patch itself holds a command (an added line is the record's text).
    assert!(!commands_in(&rendered).is_empty());
    let printed = support::workflow_commands::guard(&rendered);
    let lines: Vec<&str> = printed.lines().collect();
    let token = lines[0].strip_prefix("::stop-commands::").unwrap();
    assert_eq!(lines.last().copied(), Some(format!("::{token}::").as_str()));
    assert!(!rendered.contains(token));
    // What the runner reads as commands: the stop and the resume, nothing between.
    let commands = commands_in(&printed);
    assert_eq!(commands.len(), 2 + commands_in(&rendered).len());
    let repo = Repo::new();
    let applied = repo.apply(&printed);
    assert!(
        applied.status.success(),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );
    let patched = std::fs::read_to_string(repo.path().join("tutorial.md")).unwrap();
    assert!(patched.contains("##[error]from a record"));
    assert!(!patched.contains(token));
}

#[test]
fn every_text_of_a_record_is_cut_when_read_and_the_note_counts_each_byte_cut() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("claims.jsonl");
    let kept = support::report::MAX_RECORD_TEXT;
    let over = |n: usize| "z".repeat(kept + n);
    let load = |r: &ClaimRecord| {
        std::fs::write(&path, format!("{}\n", serde_json::to_string(r).unwrap())).unwrap();
        support::report::load(&[&path]).unwrap()
    };
    let cut_note = |bytes: usize| format!("claims.jsonl:1: {bytes} bytes of the record's text cut");
    let stale = record(
        ClaimId::L4CurlReturnsProductpage,
        "1.24.2",
        Answer::DocStale {
            documented: Anchor {
                expectation: "l4.curl_index_page".into(),
                lines: Lines { start: 1, end: 1 },
                text: over(1),
            },
            observed: over(2),
            era: EraFact {
                fact: over(4),
                since: over(8),
                source: over(16),
            },
            replacement: Some(over(32)),
        },
    );
    let loaded = load(&stale);
    // Each text keeps its first bytes and says how many were cut; a replacement too long to
    // apply whole is dropped, all of it counted.
    assert_eq!(loaded.notes.len(), 1, "{:?}", loaded.notes);
    let total = 1 + 2 + 4 + 8 + 16 + (kept + 32);
    assert!(
        loaded.notes[0].contains(&cut_note(total)),
        "{:?}",
        loaded.notes
    );
    let Answer::DocStale {
        documented,
        observed,
        era,
        replacement,
    } = &loaded.records[0].answer
    else {
        panic!("{:?}", loaded.records[0].answer)
    };
    for (text, cut) in [
        (&documented.text, 1),
        (observed, 2),
        (&era.fact, 4),
        (&era.since, 8),
        (&era.source, 16),
    ] {
        assert!(
            text.ends_with(&format!("({cut} bytes cut when read)")),
            "{cut}"
        );
    }
    assert_eq!(replacement, &None);
    // The near miss: a replacement of exactly the limit is kept, and nothing is noted.
    let mut at_limit = stale.clone();
    if let Answer::DocStale {
        documented,
        observed,
        era,
        replacement,
    } = &mut at_limit.answer
    {
        for text in [
            &mut documented.text,
            observed,
            &mut era.fact,
            &mut era.since,
            &mut era.source,
        ] {
            text.truncate(8);
        }
        *replacement = Some("r".repeat(kept));
    }
    let loaded = load(&at_limit);
    assert!(loaded.notes.is_empty(), "{:?}", loaded.notes);
    assert!(matches!(
        &loaded.records[0].answer,
        Answer::DocStale { replacement: Some(r), .. } if r.len() == kept
    ));
    // A drift's texts, the era's expectation and the documented block included.
    let drifted = record(
        ClaimId::L4CurlReturnsProductpage,
        "1.24.2",
        Answer::Drifted {
            expected: over(64),
            actual: over(128),
            era_expected: Some(over(256)),
            documented: Some(Anchor {
                expectation: "l4.curl_index_page".into(),
                lines: Lines { start: 1, end: 1 },
                text: over(512),
            }),
        },
    );
    let loaded = load(&drifted);
    assert!(
        loaded.notes[0].contains(&cut_note(64 + 128 + 256 + 512)),
        "{:?}",
        loaded.notes
    );
}

#[test]
fn a_field_is_shown_to_its_limit_on_a_char_and_redacting_it_costs_no_more_for_a_larger_one() {
    use support::report::md::{MAX_FIELD, fenced_redacted};
    // A four-byte char across the limit: the field is cut before it, never inside it.
    let mut field = "a".repeat(MAX_FIELD - 2);
    field.push('\u{1F600}');
    field.push_str(&"b".repeat(2000));
    let shown = fenced_redacted(&field);
    let cut = field.len() - (MAX_FIELD - 2);
    assert!(
        shown.contains(&format!("{}… ({cut} bytes cut)", "a".repeat(64))),
        "{}",
        &shown[shown.len() - 200..]
    );
    assert!(!shown.contains('\u{1F600}'));
    // The near miss: a field a little over the limit shows the limit exactly.
    let plain = "c".repeat(MAX_FIELD + 500);
    let shown = fenced_redacted(&plain);
    assert!(shown.contains(&format!("{}… (500 bytes cut)", "c".repeat(MAX_FIELD))));
    // Only what is shown is redacted: sixty-four times the field costs about the same.
    let small = "d ".repeat(512 << 10);
    let large = "d ".repeat(32 << 20);
    crate::timing::linear(
        "redacting a shown field",
        4,
        || fenced_redacted(&small),
        || fenced_redacted(&large),
    )
    .unwrap();
}
