//! The drift timeline (`support::timeline`, `ambient-spec timeline`): claims × builds from real
//! records (the kind nightlies' fixtures and the sim runs over two Istio sources of 2026), with the
//! near-misses: builds given in the wrong order, a claim missing from one run, two sources of one
//! label told apart by commit date.

use support::claims::ClaimRecord;
use support::timeline::{Mark, Timeline};

fn load(names: &[&str]) -> Vec<ClaimRecord> {
    let paths: Vec<std::path::PathBuf> = names
        .iter()
        .map(|n| support::fixtures::path(&format!("claims/{n}")))
        .collect();
    let refs: Vec<&std::path::Path> = paths.iter().map(|p| p.as_path()).collect();
    support::report::load(&refs).unwrap().records
}

fn column(t: &Timeline, label_start: &str) -> usize {
    t.builds
        .iter()
        .position(|b| b.label().starts_with(label_start))
        .unwrap_or_else(|| panic!("no build {label_start} in {:?}", t.builds))
}

fn row(t: &Timeline, claim: &str) -> usize {
    t.rows
        .iter()
        .position(|r| r.claim == claim)
        .unwrap_or_else(|| panic!("no row {claim}"))
}

fn cell(t: &Timeline, claim: &str, build: &str) -> (Mark, bool) {
    let c = t.cells[row(t, claim)][column(t, build)];
    (c.mark, c.changed)
}

/// A record as the recorder writes it, with the fields the timeline reads.
fn record(
    claim: &str,
    version: &str,
    commit: Option<(&str, &str)>,
    at: &str,
    answer: &str,
) -> ClaimRecord {
    let mut v = serde_json::json!({
        "format": 2, "run_id": "r", "claim": claim, "section": claim.split('.').next().unwrap(),
        "era": "1.24", "istio_version": version, "provider": "sim", "at": at, "answer": answer,
    });
    if answer == "not_reached" || answer == "not_applicable" {
        v["why"] = "x".into();
    }
    if answer == "drifted" {
        v["expected"] = "e".into();
        v["actual"] = "a".into();
    }
    if answer == "doc_stale" {
        v["documented"] =
            serde_json::json!({"expectation": "x", "lines": {"start": 1, "end": 1}, "text": "t"});
        v["observed"] = "o".into();
        v["era_fact"] = serde_json::json!({"fact": "f", "since": "1.22", "source": "s"});
    }
    if let Some((commit, date)) = commit {
        v["istio_commit"] = commit.into();
        v["istio_commit_date"] = date.into();
    }
    ClaimRecord::from_json(v).unwrap()
}

#[test]
fn the_kind_nightlies_become_columns_in_version_order_whatever_the_file_order() {
    let forward = Timeline::from_records(&load(&["nightly-2022.jsonl", "nightly-1.24.jsonl"]));
    // Near-miss: the same runs given newest first draw the same picture.
    let backward = Timeline::from_records(&load(&["nightly-1.24.jsonl", "nightly-2022.jsonl"]));
    assert_eq!(forward, backward);
    let labels: Vec<String> = forward.builds.iter().map(|b| b.label()).collect();
    assert_eq!(
        labels,
        [
            "0.0.0-ambient.191fe680b52c (exp2022, kind)",
            "1.24.2 (1.24, kind)"
        ]
    );
    // Rows: every claim of the suite, in tutorial order.
    let names: Vec<&str> = forward.rows.iter().map(|r| r.claim.as_str()).collect();
    let tutorial: Vec<&str> = support::claims::CLAIMS.iter().map(|c| c.name()).collect();
    assert_eq!(names, tutorial);
    // The 2022 build: the waypoint pod drifted; 1.24.2: it holds again (changed here), while
    // sleep's ztunnel line, as documented on 2022, drifted on 1.24.2 (changed here).
    assert_eq!(
        cell(&forward, "l7.waypoint_pod_running", "0.0.0"),
        (Mark::Drifted, false)
    );
    assert_eq!(
        cell(&forward, "l7.waypoint_pod_running", "1.24.2"),
        (Mark::AsDocumented, true)
    );
    assert_eq!(
        cell(&forward, "l4.sleep_ztunnel_logs_outbound", "0.0.0"),
        (Mark::AsDocumented, false)
    );
    assert_eq!(
        cell(&forward, "l4.sleep_ztunnel_logs_outbound", "1.24.2"),
        (Mark::Drifted, true)
    );
    // Not reached on 2022, as documented on 1.24.2: not a change (not reached decides nothing).
    assert_eq!(
        cell(&forward, "l7.curl_returns_productpage", "0.0.0"),
        (Mark::NotReached, false)
    );
    assert_eq!(
        cell(&forward, "l7.curl_returns_productpage", "1.24.2"),
        (Mark::AsDocumented, false)
    );
    // A claim neither nightly recorded: no record, not "not reached".
    assert_eq!(
        cell(&forward, "kiali.graph_shows_traffic", "1.24.2"),
        (Mark::NoRecord, false)
    );
    // The superseded 1.24.2 record (r0, holds) lost to the newer one of the same build (r2).
    let text = forward.text();
    assert!(text.contains("1.24.2 (1.24, kind)"), "{text}");
    // Only claims this suite checks: no note about unknown ones.
    assert!(!text.contains("not one this suite checks"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("l4.sleep_ztunnel_logs_outbound") && l.ends_with("=   D*")),
        "{text}"
    );
}

#[test]
fn two_sources_of_one_label_are_two_columns_ordered_by_commit_date() {
    let april = Some(("b01690e6db7d", "2026-04-23T20:55:19Z"));
    let august = Some(("eed52ebb66ad", "2026-08-27T12:45:20Z"));
    let claim = "installation.istioctl_prints_component_lines";
    // August first in the input, and its commit sorts before April's by name: only the date
    // puts April left.
    let late = Some(("0aaaaaaaaaaa", "2026-08-27T12:45:20Z"));
    let records = vec![
        record(claim, "1.31-dev", august, "2026-12-06T12:00:00Z", "drifted"),
        record(
            claim,
            "1.31-dev",
            april,
            "2026-12-06T11:00:00Z",
            "as_documented",
        ),
        record(
            claim,
            "1.31-dev",
            late,
            "2026-12-06T13:00:00Z",
            "as_documented",
        ),
        record(
            "installation.istiod_available",
            "1.31-dev",
            april,
            "2026-12-06T11:00:00Z",
            "as_documented",
        ),
    ];
    let t = Timeline::from_records(&records);
    let commits: Vec<&str> = t
        .builds
        .iter()
        .map(|b| b.istio_commit.as_deref().unwrap())
        .collect();
    // Same date: by provider, then commit.
    assert_eq!(commits, ["b01690e6db7d", "0aaaaaaaaaaa", "eed52ebb66ad"]);
    assert_eq!(
        cell(&t, claim, "1.31-dev b01690e6db7d"),
        (Mark::AsDocumented, false)
    );
    assert_eq!(
        cell(&t, claim, "1.31-dev 0aaaaaaaaaaa"),
        (Mark::AsDocumented, false)
    );
    assert_eq!(
        cell(&t, claim, "1.31-dev eed52ebb66ad"),
        (Mark::Drifted, true)
    );
    // The claim August's run did not record: no record there, and it is no change.
    assert_eq!(
        cell(&t, "installation.istiod_available", "1.31-dev eed52ebb66ad"),
        (Mark::NoRecord, false)
    );
    assert_eq!(
        t.builds[0].label(),
        "1.31-dev b01690e6db7d 2026-04-23 (1.24, sim)"
    );
}

#[test]
fn a_flap_is_marked_at_each_change_and_undecided_answers_in_between_are_not() {
    let claim = "l7.waypoint_declared";
    let build = |n: u32| format!("1.{n}.0");
    let answers = [
        "as_documented",
        "drifted",
        "not_applicable",
        "drifted",
        "as_documented",
    ];
    let records: Vec<ClaimRecord> = answers
        .iter()
        .enumerate()
        .rev()
        .map(|(i, a)| {
            record(
                claim,
                &build(24 + i as u32),
                None,
                "2026-12-06T00:00:00Z",
                a,
            )
        })
        .collect();
    let t = Timeline::from_records(&records);
    let r = row(&t, claim);
    let marks: Vec<(Mark, bool)> = t.cells[r].iter().map(|c| (c.mark, c.changed)).collect();
    assert_eq!(
        marks,
        [
            (Mark::AsDocumented, false),
            (Mark::Drifted, true),
            (Mark::NotApplicable, false),
            // Drifted before the n/a build too: no change.
            (Mark::Drifted, false),
            (Mark::AsDocumented, true),
        ]
    );
    // 1.28.0 after 1.27.0 (numbers, not text: 1.100 would come after 1.99 as well).
    assert_eq!(t.builds[4].istio_version, "1.28.0");
    let svg = t.svg();
    assert_eq!(svg.matches("(changed here)</title>").count(), 2, "{svg}");
    assert!(!svg.contains("<script"), "{svg}");
}

#[test]
fn an_unknown_claim_and_markup_in_a_label_are_shown_safely() {
    let records = vec![record(
        "l7.<b>new</b>_claim",
        "1.31-dev",
        Some(("<x>&", "2026-08-27T12:45:20Z")),
        "2026-12-06T00:00:00Z",
        "as_documented",
    )];
    let t = Timeline::from_records(&records);
    let last = t.rows.last().unwrap();
    assert!(!last.known);
    let svg = t.svg();
    assert!(svg.contains("l7.&lt;b&gt;new&lt;/b&gt;_claim ?"), "{svg}");
    assert!(!svg.contains("<b>"), "{svg}");
    assert!(t.text().contains("not one this suite checks"));
}

const APRIL: &str = "sim-2026-04-b01690e6db7d.jsonl";
const AUGUST: &str = "sim-2026-08-eed52ebb66ad.jsonl";

#[test]
fn the_sim_runs_over_two_sources_of_2026_follow_the_kind_nightlies() {
    // Given newest first and interleaved: the columns come out by version, then commit date.
    let t = Timeline::from_records(&load(&[
        AUGUST,
        "nightly-1.24.jsonl",
        APRIL,
        "nightly-2022.jsonl",
    ]));
    let labels: Vec<String> = t.builds.iter().map(|b| b.label()).collect();
    assert_eq!(
        labels,
        [
            "0.0.0-ambient.191fe680b52c (exp2022, kind)",
            "1.24.2 (1.24, kind)",
            "1.31-dev b01690e6db7d 2026-04-23 (1.24, sim)",
            "1.31-dev eed52ebb66ad 2026-08-27 (1.24, sim)",
        ]
    );
    let marks = |claim: &str| -> Vec<(Mark, bool)> {
        t.cells[row(&t, claim)]
            .iter()
            .map(|c| (c.mark, c.changed))
            .collect()
    };
    use Mark::*;
    // The install output: as documented on kind, stale from the April source on (marked there
    // only: August says the same).
    assert_eq!(
        marks("installation.istioctl_prints_component_lines"),
        [
            (AsDocumented, false),
            (AsDocumented, false),
            (DocStale, true),
            (DocStale, false)
        ]
    );
    // The waypoint pod: drifted in 2022, held on 1.24.2, stale on both 2026 sources.
    assert_eq!(
        marks("l7.waypoint_pod_running"),
        [
            (Drifted, false),
            (AsDocumented, true),
            (DocStale, true),
            (DocStale, false)
        ]
    );
    // A data-plane claim on sim is n/a, and n/a after a drift is no change.
    assert_eq!(
        marks("l4.sleep_ztunnel_logs_outbound"),
        [
            (AsDocumented, false),
            (Drifted, true),
            (NotApplicable, false),
            (NotApplicable, false)
        ]
    );
    // Claims the kind fixtures never recorded: no record there; first decided on sim, unmarked.
    assert_eq!(
        marks("installation.istio_cni_node_selector"),
        [
            (NoRecord, false),
            (NoRecord, false),
            (AsDocumented, false),
            (AsDocumented, false)
        ]
    );
    // April and August answer every claim alike (the evidence that nothing the tutorial
    // documents changed between these two commits): no mark in the last column.
    assert!(t.cells.iter().all(|r| !r[3].changed));
    assert!(t.cells.iter().all(|r| r[2].mark == r[3].mark));
}

#[test]
fn a_claim_missing_from_one_run_is_no_record_not_a_change() {
    let mut records = load(&[APRIL, AUGUST]);
    let claim = "installation.ingress_gateway_as_era_says";
    records.retain(|r| !(r.claim == claim && r.istio_commit.as_deref() == Some("b01690e6db7d")));
    let t = Timeline::from_records(&records);
    assert_eq!(
        cell(&t, claim, "1.31-dev b01690e6db7d"),
        (Mark::NoRecord, false)
    );
    // August's doc stale is the first decided answer: no change marked.
    assert_eq!(
        cell(&t, claim, "1.31-dev eed52ebb66ad"),
        (Mark::DocStale, false)
    );
    let text = t.text();
    let line = text
        .lines()
        .find(|l| l.starts_with(claim))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.ends_with(".   S "), "{line:?}");
    let svg = t.svg();
    assert!(
        svg.contains(&format!(
            "<title>{claim} on 1.31-dev b01690e6db7d 2026-04-23 (1.24, sim): no record</title>"
        )),
        "{svg}"
    );
}

#[test]
fn records_name_the_istio_commit_and_older_records_still_read() {
    let dir = tempfile::tempdir().unwrap();
    let recorder = support::recorder::Recorder::new(dir.path(), "1.24", "1.31-dev", "sim")
        .with_istio_commit("b01690e6db7d", Some("2026-04-23T20:55:19Z"));
    let written = recorder
        .record(
            support::claims::ClaimId::InstallationIstiodAvailable,
            &support::claims::Answer::AsDocumented,
        )
        .unwrap();
    let line = std::fs::read_to_string(dir.path().join("claims.jsonl")).unwrap();
    let value: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    assert_eq!(value["istio_commit"], "b01690e6db7d");
    assert_eq!(value["istio_commit_date"], "2026-04-23T20:55:19Z");
    assert_eq!(ClaimRecord::from_json(value).unwrap(), written);
    // A record written before these fields existed (the nextest fixture) reads, without them.
    let old = load(&["nextest-1.31-sim.jsonl"]);
    assert!(!old.is_empty());
    assert!(
        old.iter()
            .all(|r| r.istio_commit.is_none() && r.istio_commit_date.is_none())
    );
    // And a recorder told nothing writes neither field.
    let plain = support::recorder::Recorder::new(dir.path(), "1.24", "1.24.2", "kind")
        .record(
            support::claims::ClaimId::InstallationIstiodAvailable,
            &support::claims::Answer::AsDocumented,
        )
        .unwrap();
    let text = serde_json::to_string(&plain).unwrap();
    assert!(!text.contains("istio_commit"), "{text}");
}

/// The picture as reviewed (the SVG rendered and looked at): every mark, a change, an unknown
/// claim wider than the known ones, three builds. Any change to the layout shows here.
#[test]
fn the_text_table_and_the_svg_as_reviewed() {
    let unknown = "l7.a_claim_of_a_newer_suite_version";
    let at = "2026-12-06T00:00:00Z";
    let records = vec![
        record(
            "installation.istiod_available",
            "1.22.0",
            None,
            at,
            "as_documented",
        ),
        record(
            "installation.istiod_available",
            "1.24.2",
            None,
            at,
            "drifted",
        ),
        record(
            "installation.istiod_available",
            "1.31-dev",
            None,
            at,
            "doc_stale",
        ),
        record("l7.waypoint_declared", "1.22.0", None, at, "drifted"),
        record("l7.waypoint_declared", "1.24.2", None, at, "not_applicable"),
        record("l7.waypoint_declared", "1.31-dev", None, at, "not_reached"),
        record(unknown, "1.24.2", None, at, "as_documented"),
    ];
    let mut t = Timeline::from_records(&records);
    // Only the rows of the records (the suite's other claims are rows of no record).
    let keep: Vec<bool> = t
        .rows
        .iter()
        .map(|r| records.iter().any(|x| x.claim == r.claim))
        .collect();
    let mut k = keep.iter();
    t.rows.retain(|_| *k.next().unwrap());
    let mut k = keep.iter();
    t.cells.retain(|_| *k.next().unwrap());
    assert_eq!(t.rows.len(), 3);
    insta::assert_snapshot!("timeline_text", t.text());
    insta::assert_snapshot!("timeline_svg", t.svg());
}

/// Many builds: the picture grows to hold the grid and the last slanted label (reviewed too).
#[test]
fn a_wide_timeline_is_as_wide_as_its_grid_and_last_label() {
    let claim = "installation.istiod_available";
    let answers = ["as_documented", "drifted", "doc_stale"];
    let records: Vec<ClaimRecord> = (0..30)
        .map(|n| {
            record(
                claim,
                &format!("1.{}.0", 18 + n),
                None,
                "2026-12-06T00:00:00Z",
                answers[n % 3],
            )
        })
        .collect();
    let mut t = Timeline::from_records(&records);
    let keep = row(&t, claim);
    t.rows = vec![t.rows[keep].clone()];
    t.cells = vec![t.cells[keep].clone()];
    insta::assert_snapshot!("timeline_wide_svg", t.svg());
}
