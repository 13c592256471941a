//! The drift report over recorded claim files, and doc sync on a small tutorial-shaped document.

use std::path::PathBuf;

use support::docsync::{Documented, How, Performed, compare, extract};
use support::report::{ReportError, build, load};

fn claims(name: &str) -> PathBuf {
    support::fixtures::path(&format!("claims/{name}"))
}

#[test]
fn the_report_is_a_claim_by_build_table_with_the_drifts_explained() {
    let (a, b) = (claims("nightly-2022.jsonl"), claims("nightly-1.24.jsonl"));
    let report = build(&load(&[&a, &b]).unwrap());
    assert_eq!(report.builds.len(), 2);
    assert_eq!(report.drifted, 2);
    let md = report.markdown();
    // The superseded record of the same claim and build does not count: the newest one does.
    assert!(md.contains("| `l4.sleep_ztunnel_logs_outbound` — sleep's ztunnel logs the outbound connection, no waypoint | holds | **DRIFTED** |"), "{md}");
    assert!(
        md.contains(
            "### `l7.waypoint_pod_running` on 0.0.0-ambient.191fe680b52c1754ee72a06b3e0d3f9d116f2e82 (exp2022, kind)"
        ),
        "{md}"
    );
    insta::assert_snapshot!(md);
    let json = report.json();
    assert_eq!(json["drifted"], 2);
    assert_eq!(
        json["builds"][0]["istio_version"],
        "0.0.0-ambient.191fe680b52c1754ee72a06b3e0d3f9d116f2e82"
    );
}

#[test]
fn an_empty_file_is_a_note_not_an_error() {
    let e = claims("empty.jsonl");
    let report = build(&load(&[&e]).unwrap());
    let md = report.markdown();
    assert!(
        md.contains("No claim records.") && md.contains("empty.jsonl: no records"),
        "{md}"
    );
}

#[test]
fn a_truncated_last_line_is_skipped_with_a_note() {
    let t = claims("truncated.jsonl");
    let loaded = load(&[&t]).unwrap();
    assert_eq!(loaded.records.len(), 1);
    assert!(
        loaded.notes[0].ends_with("truncated.jsonl:2: ignored a truncated last line"),
        "{:?}",
        loaded.notes
    );
}

#[test]
fn a_newer_record_format_is_refused_with_what_to_do() {
    let n = claims("newer-format.jsonl");
    let err = load(&[&n]).unwrap_err();
    assert!(
        matches!(
            err,
            ReportError::NewerFormat {
                line: 2,
                found: 3,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("update the suite"), "{err}");
}

#[test]
fn a_garbled_line_names_file_and_line() {
    let g = claims("garbled.jsonl");
    let err = load(&[&g]).unwrap_err().to_string();
    assert!(err.contains("garbled.jsonl:1: not a claim record"), "{err}");
    let missing = claims("no-such.jsonl");
    assert!(load(&[&missing]).is_err());
}

#[test]
fn only_an_unfinished_last_line_counts_as_truncated() {
    // The truncated file's first record, then a garbled line: ended by a newline it is a
    // garbled record (the writer finished it), not one cut short; in the middle, always.
    let truncated = std::fs::read_to_string(claims("truncated.jsonl")).unwrap();
    let first = truncated.lines().next().unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (name, text, line) in [
        ("ended.jsonl", format!("{first}\n{{\"claim\": \n"), 2),
        ("middle.jsonl", format!("{{\"claim\": \n{first}"), 1),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let err = load(&[&path]).unwrap_err();
        assert!(
            matches!(err, ReportError::Malformed { line: l, .. } if l == line),
            "{name}: {err}"
        );
    }
}

#[test]
fn a_field_is_cut_on_a_character_and_controls_never_reach_the_page() {
    use support::report::md::{MAX_FIELD, text};
    // Cut at the limit, or just before a character the limit would split.
    let ascii = "a".repeat(MAX_FIELD + 10);
    let kept = text(&ascii);
    assert!(kept.starts_with(&"a".repeat(MAX_FIELD)), "kept");
    assert!(
        kept.ends_with(&format!("{}… (10 bytes cut)", "a".repeat(10))),
        "{}",
        &kept[MAX_FIELD - 20..]
    );
    let straddling = format!("{}é{}", "a".repeat(MAX_FIELD - 1), "b".repeat(9));
    let kept = text(&straddling);
    assert!(
        kept.ends_with(&format!("{}… (11 bytes cut)", "a".repeat(5))),
        "{}",
        &kept[MAX_FIELD - 20..]
    );
    // Terminal escapes and bells are dropped; what could start Markdown is escaped.
    assert_eq!(text("red \u{1b}[31mX\u{7}"), "red \\[31mX");
}

#[test]
fn the_headline_counts_each_answer_from_the_newest_record_of_each_claim() {
    let headline = |path: &std::path::Path| build(&load(&[path]).unwrap()).headline();
    let sim = claims("nextest-1.31-sim.jsonl");
    let expected = "1.31-dev (1.24, sim): 1 documented statements are stale, 1 drifted (2 as documented, 1 not applicable, 1 not reached).";
    assert_eq!(headline(&sim), expected);
    // The same records in the opposite order: still the newest record of each claim.
    let text = std::fs::read_to_string(&sim).unwrap();
    let reversed: Vec<&str> = text.lines().rev().collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reversed.jsonl");
    std::fs::write(&path, reversed.join("\n") + "\n").unwrap();
    assert_eq!(headline(&path), expected);
    // Format-1 records count as held, and say so.
    assert_eq!(
        headline(&claims("nightly-1.24.jsonl")),
        "1.24.2 (1.24, kind): 0 documented statements are stale, 1 drifted (0 as documented, 0 not applicable, 0 not reached, 16 held in format-1 records)."
    );
}

/// A small document shaped like the tutorial (headings, bash blocks holding commands and output,
/// a heredoc), written for this test.
const DOC: &str = r#"# Demo

## Setup
```bash
kind create cluster --name demo
```

### Install
```bash
istioctl install --set profile=minimal -y
```
It prints:
```bash
✔ Istio core installed
NAME   READY
```

## Use
```bash
kubectl apply -f - <<EOF
apiVersion: v1
kind: Namespace
metadata:
  name: demo
EOF
kubectl exec deploy/client -- \
  curl -s http://server/
```
"#;

const REGISTRY: &[Performed] = &[
    Performed {
        command: "kind create cluster --name demo",
        by: "t",
        how: How::Same,
    },
    Performed {
        command: "istioctl install --set profile=demo -y",
        by: "t",
        how: How::Same,
    },
    Performed {
        command: "kubectl apply -f - <<EOF apiVersion: v1 kind: Namespace metadata: name: demo EOF",
        by: "t",
        how: How::Same,
    },
    Performed {
        command: "kubectl delete namespace demo",
        by: "t",
        how: How::Differently("teardown"),
    },
];

#[test]
fn doc_commands_are_extracted_without_their_output() {
    let commands: Vec<String> = extract(DOC)
        .into_iter()
        .map(|d: Documented| format!("[{}] {}", d.section, d.command))
        .collect();
    assert_eq!(
        commands,
        [
            "[Setup] kind create cluster --name demo",
            "[Install] istioctl install --set profile=minimal -y",
            "[Use] kubectl apply -f - <<EOF apiVersion: v1 kind: Namespace metadata: name: demo EOF",
            "[Use] kubectl exec deploy/client -- curl -s http://server/",
        ]
    );
}

#[test]
fn a_minor_heading_does_not_name_the_section() {
    // `#####` and `######` headings are notes inside a section (the tutorial's sections are
    // `##` to `####`), not sections of their own.
    let doc = "## Install\n\n##### Note\n\n```bash\nistioctl install -y\n```\n\n#### Verify\n\n```bash\nkubectl get pods\n```\n";
    let sections: Vec<String> = extract(doc)
        .into_iter()
        .map(|d| d.section.to_string())
        .collect();
    assert_eq!(sections, ["Install", "Verify"]);
}

#[test]
fn a_changed_command_is_the_same_step_with_most_of_its_words() {
    let performed = |command: &'static str| Performed {
        command,
        by: "test",
        how: How::Same,
    };
    let documented = |command: &str| Documented {
        section: "Use".into(),
        command: command.into(),
    };
    let registry = [performed("kubectl apply -f a.yaml")];
    // Three words of eight shared (0.375): another command, not a changed one.
    let far = compare(
        &[documented("kubectl apply -f x.yaml -n foo --server-side")],
        &registry,
    );
    assert!(far.changed.is_empty(), "{}", far.render());
    assert_eq!(far.not_performed.len(), 1);
    assert_eq!(far.no_longer_documented, ["kubectl apply -f a.yaml"]);
    // Three of five (0.6): the same step, changed.
    let near = compare(&[documented("kubectl apply -f b.yaml")], &registry);
    assert_eq!(near.changed.len(), 1, "{}", near.render());
    // Another step (tool and subcommand) is never a change of this one, however alike.
    let other_step = compare(&[documented("kubectl delete -f a.yaml")], &registry);
    assert!(other_step.changed.is_empty(), "{}", other_step.render());
    // In sync only when nothing is added, removed or changed.
    let same = compare(&[documented("kubectl apply -f a.yaml")], &registry);
    assert_eq!(same.matched, 1);
    assert!(same.in_sync());
    assert!(!far.in_sync() && !near.in_sync());
    let only_removed = compare(&[], &registry);
    assert!(only_removed.not_performed.is_empty() && only_removed.changed.is_empty());
    assert!(!only_removed.in_sync());
    let only_added = compare(&[documented("kind create cluster")], &[]);
    assert!(!only_added.in_sync());
}

#[test]
fn doc_sync_finds_an_added_a_removed_and_a_changed_command() {
    let sync = compare(&extract(DOC), REGISTRY);
    assert_eq!(sync.matched, 2);
    assert_eq!(sync.not_performed.len(), 1);
    assert_eq!(
        sync.not_performed[0].command,
        "kubectl exec deploy/client -- curl -s http://server/"
    );
    assert_eq!(sync.changed.len(), 1);
    assert_eq!(
        sync.changed[0].0.command,
        "istioctl install --set profile=minimal -y"
    );
    assert_eq!(sync.changed[0].1, "istioctl install --set profile=demo -y");
    assert_eq!(sync.no_longer_documented, ["kubectl delete namespace demo"]);
    assert!(!sync.in_sync());
    let text = sync.render();
    assert!(
        text.contains("ADDED   [Use]")
            && text.contains("CHANGED [Install]")
            && text.contains("REMOVED kubectl delete"),
        "{text}"
    );
}

#[test]
fn the_suites_registry_has_one_entry_per_command() {
    let mut commands: Vec<&str> = support::docsync::PERFORMED
        .iter()
        .map(|p| p.command)
        .collect();
    commands.sort();
    let before = commands.len();
    commands.dedup();
    assert_eq!(before, commands.len());
}

/// Records written to break the report: a version with `|` and a newline, an `actual` holding a
/// code fence and a heading, HTML in a claim id, a claim this suite does not know.
fn hostile_records() -> String {
    let record = |claim: &str, version: &str, verdict: serde_json::Value| {
        let mut r = serde_json::json!({
            "format": 1, "run_id": "r", "claim": claim, "section": "l4", "era": "1.24",
            "istio_version": version, "provider": "kind", "at": "2026-11-20T03:00:00Z",
        });
        r.as_object_mut()
            .unwrap()
            .extend(verdict.as_object().unwrap().clone());
        r.to_string()
    };
    let drifted = |actual: &str| serde_json::json!({ "verdict": "drifted", "expected": "x", "actual": actual });
    [
        record(
            "l4.sleep_ztunnel_logs_outbound",
            "1.24.2 | evil\n## Injected heading",
            drifted("````\n```\n# Owned\n<script>alert(1)</script>\n```"),
        ),
        record(
            "<img src=x onerror=alert(1)>",
            "1.24.2",
            drifted("|a|b|\n---\n[click](javascript:alert(1))"),
        ),
        record("l4.retired_claim", "1.24.2", drifted("seen")),
    ]
    .join("\n")
        + "\n"
}

#[test]
fn hostile_records_cannot_break_the_report_or_inject_into_a_job_summary() {
    use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("claims.jsonl");
    std::fs::write(&path, hostile_records()).unwrap();
    let report = build(&load(&[&path]).unwrap());
    let md = report.markdown();
    // Unknown claims are shown, not only counted.
    assert_eq!(report.drifted, 3, "{md}");
    assert!(md.contains("Claims this suite does not know"), "{md}");
    assert!(md.contains("l4.retired\\_claim"), "{md}");
    // Parsed as GitHub renders it: our headings only, no HTML, every table row one cell per build.
    let mut headings = Vec::new();
    let mut heading: Option<String> = None;
    let mut row_cells = Vec::new();
    let mut cells = 0;
    for event in Parser::new_ext(&md, Options::ENABLE_TABLES) {
        match event {
            Event::Html(h) | Event::InlineHtml(h) => panic!("HTML reached the output: {h}\n{md}"),
            Event::Start(Tag::Link { .. } | Tag::Image { .. }) => {
                panic!("a link was injected\n{md}")
            }
            Event::Start(Tag::Heading { level, .. }) => {
                assert!(level >= HeadingLevel::H1);
                heading = Some(String::new());
            }
            Event::End(TagEnd::Heading(_)) => headings.push(heading.take().unwrap()),
            Event::Text(t) | Event::Code(t) => {
                if let Some(h) = heading.as_mut() {
                    h.push_str(&t)
                }
            }
            Event::Start(Tag::TableCell) => cells += 1,
            Event::End(TagEnd::TableRow | TagEnd::TableHead) => {
                row_cells.push(cells);
                cells = 0;
            }
            _ => {}
        }
    }
    let expected_headings = [
        "Tutorial drift report",
        "Claims",
        "What drifted",
        "l4.sleep_ztunnel_logs_outbound on 1.24.2 | evil ## Injected heading (1.24, kind)",
        "<img src=x onerror=alert(1)> on 1.24.2 (1.24, kind)",
        "l4.retired_claim on 1.24.2 (1.24, kind)",
    ];
    assert_eq!(headings, expected_headings, "{md}");
    let columns = 1 + report.builds.len();
    assert!(
        row_cells.iter().all(|c| *c == columns),
        "{row_cells:?}\n{md}"
    );
    // The fenced texts come back verbatim.
    assert!(md.contains("# Owned\n<script>alert(1)</script>"), "{md}");
}

#[test]
fn a_file_that_is_not_utf8_names_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("claims.jsonl");
    let good = std::fs::read_to_string(claims("nightly-1.24.jsonl")).unwrap();
    let first = good.lines().next().unwrap();
    let mut bytes = format!("{first}\n{first}\n").into_bytes();
    bytes.extend_from_slice(b"{\"claim\": \"\xff\"}\n");
    std::fs::write(&path, bytes).unwrap();
    let err = load(&[&path]).unwrap_err().to_string();
    assert!(err.contains("claims.jsonl:3: not UTF-8"), "{err}");
    // The byte is counted from the start of the file: two lines, then `{"claim": "` (11 bytes).
    let byte = 2 * (first.len() + 1) + 11;
    assert!(err.contains(&format!("(byte {byte} of the file)")), "{err}");
}

#[test]
fn doc_sync_is_linear_in_the_size_of_the_document() {
    // 80,000 commands took a minute when each was compared with every other. Eight times the
    // commands must cost about eight times the processor time, not sixty-four (`crate::timing`):
    // that search (each command looked for among those already read, put back) measured 40
    // times and fails; the linear code 9 to 10 times. (It passed the old test, 40,000 commands
    // within 5 s of wall time, in 3.3 s.)
    let doc = |commands: usize| {
        let mut doc = String::from("# Big\n\n## Steps\n```bash\n");
        for i in 0..commands {
            doc.push_str(&format!("kubectl apply -f https://example.com/{i}.yaml\n"));
        }
        doc.push_str("```\n");
        doc
    };
    let sync_of = |doc: &str| {
        let documented = extract(doc);
        let sync = compare(&documented, support::docsync::PERFORMED);
        (
            documented.len(),
            sync.not_performed.len() + sync.changed.len(),
        )
    };
    let (small, large) = (doc(2_000), doc(16_000));
    let counts = crate::timing::assert_linear(
        "doc sync of 2,000 commands, then 16,000",
        8,
        || sync_of(&small),
        || sync_of(&large),
    );
    assert_eq!(counts, (2_000, 2_000));
}

#[test]
fn a_page_run_as_written_is_its_own_part_of_the_report_with_its_lines() {
    // Records of `tests/tutorial/document.rs` (ids `doc.l<line>.<section>.<command|output>`)
    // beside an id no part of the suite defines.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("claims.jsonl");
    let record = |claim: &str, answer: serde_json::Value| {
        let mut r = serde_json::json!({
            "format": 2, "run_id": "r", "claim": claim, "section": "document", "era": "1.24",
            "istio_version": "1.31-dev", "provider": "sim", "at": "2026-12-06T00:00:00Z",
        });
        r.as_object_mut()
            .unwrap()
            .extend(answer.as_object().unwrap().clone());
        r.to_string() + "\n"
    };
    let drift = serde_json::json!({"answer": "drifted", "expected": "exit 0", "actual": "exit 1"});
    let text = [
        record(
            "doc.l00064.download_and_install.command",
            serde_json::json!({"answer": "as_documented"}),
        ),
        record(
            "doc.l00113.deploy_the_sample_application.command",
            drift.clone(),
        ),
        // Near misses: not a line number, not a step kind.
        record("doc.lxx.deploy.command", drift.clone()),
        record("doc.l00070.deploy.verdict", drift),
    ]
    .concat();
    std::fs::write(&path, text).unwrap();
    let md = build(&load(&[&path]).unwrap()).markdown();
    let page = md.find("| **The page, run as written** |").expect(&md);
    let unknown = md
        .find("| **Claims this suite does not know** |")
        .expect(&md);
    assert!(page < unknown, "{md}");
    let row = |id: &str| {
        md.find(&format!("| {} |", id.replace('_', "\\_")))
            .expect(id)
    };
    for id in [
        "doc.l00064.download_and_install.command",
        "doc.l00113.deploy_the_sample_application.command",
    ] {
        assert!((page..unknown).contains(&row(id)), "{id}: {md}");
    }
    for id in ["doc.lxx.deploy.command", "doc.l00070.deploy.verdict"] {
        assert!(row(id) > unknown, "{id}: {md}");
    }
    assert!(
        md.contains("Tutorial section: the page, run as written (command at line 113)"),
        "{md}"
    );
    assert!(
        md.contains("Tutorial section: not a claim of this suite"),
        "{md}"
    );
}

#[test]
fn a_claim_a_build_did_not_record_says_so_and_a_claim_no_build_recorded_is_no_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("claims.jsonl");
    let record = |claim: &str, version: &str| {
        serde_json::json!({
            "format": 2, "run_id": version, "claim": claim, "section": "l7", "era": "1.24",
            "istio_version": version, "provider": "sim", "at": "2026-12-06T00:00:00Z",
            "answer": "as_documented",
        })
        .to_string()
            + "\n"
    };
    let text = [
        record("l7.waypoint_pod_named", "1.30.0"),
        record("l7.waypoint_pod_named", "1.31-dev"),
        record("l7.curl_returns_productpage", "1.31-dev"),
    ]
    .concat();
    std::fs::write(&path, text).unwrap();
    let md = build(&load(&[&path]).unwrap()).markdown();
    let row = |name: &str| {
        md.lines()
            .find(|l| l.starts_with(&format!("| `{name}`")))
            .map(str::to_string)
    };
    let curl = row("l7.curl_returns_productpage").expect(&md);
    assert!(curl.contains("| no record |"), "{curl}");
    assert!(!curl.contains("not reached"), "{curl}");
    assert!(row("l7.waypoint_pod_named").is_some(), "{md}");
    // Kiali: no build recorded any of its claims.
    assert_eq!(row("kiali.graph_shows_traffic"), None, "{md}");
    assert!(!md.contains("| **Kiali dashboard** |"), "{md}");
}
