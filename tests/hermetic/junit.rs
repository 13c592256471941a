//! JUnit XML from claim records: one case per claim and build, the verdicts mapped as dashboards
//! read them, the per-run file the recorder keeps beside `claims.jsonl`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus};
use support::claims::{Anchor, Answer, ClaimId, ClaimRecord, EraFact};
use support::junit;
use support::recorder::Recorder;
use support::report::{build, load};
use support::tutorial::markdown::Lines;

fn claims(name: &str) -> PathBuf {
    support::fixtures::path(&format!("claims/{name}"))
}

fn parse(xml: &str) -> Report {
    Report::deserialize_from_str(xml).unwrap_or_else(|e| panic!("{e}\n{xml}"))
}

fn cases(report: &Report) -> Vec<(&str, &TestCase)> {
    report
        .test_suites
        .iter()
        .flat_map(|s| s.test_cases.iter().map(move |c| (s.name.as_str(), c)))
        .collect()
}

fn property<'c>(case: &'c TestCase, name: &str) -> Option<&'c str> {
    case.properties
        .iter()
        .find(|p| p.name.as_str() == name)
        .map(|p| p.value.as_str())
}

fn kind(status: &TestCaseStatus) -> &'static str {
    match status {
        TestCaseStatus::Success { .. } => "passed",
        TestCaseStatus::NonSuccess {
            kind: NonSuccessKind::Failure,
            ..
        } => "failure",
        TestCaseStatus::NonSuccess {
            kind: NonSuccessKind::Error,
            ..
        } => "error",
        TestCaseStatus::Skipped { .. } => "skipped",
    }
}

/// What each answer becomes.
fn expected_kind(answer: &Answer, strict: bool) -> &'static str {
    match answer {
        Answer::AsDocumented | Answer::Holds => "passed",
        Answer::DocStale { .. } if strict => "failure",
        Answer::DocStale { .. } => "passed",
        Answer::Drifted { .. } => "failure",
        Answer::NotReached { .. } => "error",
        Answer::NotApplicable { .. } => "skipped",
    }
}

/// Every case is one cell of the drift report (claim × build, the newest record), and every cell
/// one case, with the answer mapped.
fn assert_cases_are_the_report_cells(records: &[ClaimRecord], strict: bool) -> Report {
    let xml = junit::render(records, strict).unwrap();
    let report = parse(&xml);
    let drift = build(&support::report::Loaded {
        records: records.to_vec(),
        notes: vec![],
    });
    let got: Vec<(String, String, &str)> = cases(&report)
        .iter()
        .map(|(_, c)| {
            (
                c.name.as_str().to_string(),
                c.classname.as_ref().unwrap().as_str().to_string(),
                kind(&c.status),
            )
        })
        .collect();
    let mut want: Vec<(String, String, &str)> = drift
        .cells
        .iter()
        .map(|cell| {
            (
                cell.claim.clone(),
                junit::build_label(&cell.build),
                expected_kind(&cell.answer, strict),
            )
        })
        .collect();
    let mut sorted = got.clone();
    sorted.sort();
    want.sort();
    assert_eq!(sorted, want, "{xml}");
    assert_eq!(report.tests, got.len());
    report
}

#[test]
fn the_nightly_records_are_one_case_per_claim_and_build() {
    let (a, b) = (claims("nightly-2022.jsonl"), claims("nightly-1.24.jsonl"));
    let loaded = load(&[&a, &b]).unwrap();
    let report = assert_cases_are_the_report_cells(&loaded.records, false);
    // Two builds: a suite per section and build, named so.
    assert!(
        report
            .test_suites
            .iter()
            .any(|s| s.name.as_str() == "L7 processing in ambient mode on 0.0.0-ambient.191fe680b52c1754ee72a06b3e0d3f9d116f2e82 (exp2022, kind)"),
        "{:?}",
        report.test_suites.iter().map(|s| s.name.as_str()).collect::<Vec<_>>()
    );
    // The drift is a failure carrying what was expected and what was seen.
    let (_, waypoint) = cases(&report)
        .into_iter()
        .find(|(_, c)| c.name.as_str() == "l7.waypoint_pod_running")
        .unwrap();
    let TestCaseStatus::NonSuccess {
        kind: NonSuccessKind::Failure,
        message,
        ty,
        description,
        ..
    } = &waypoint.status
    else {
        panic!("{:?}", waypoint.status)
    };
    assert_eq!(ty.as_ref().unwrap().as_str(), "drifted");
    assert!(
        message
            .as_ref()
            .unwrap()
            .as_str()
            .starts_with("expected: deployment bookinfo-productpage-waypoint-proxy available; actual: stopped waiting"),
        "{message:?}"
    );
    let details = description.as_ref().unwrap().as_str();
    assert!(details.contains("ImagePullBackOff"), "{details}");
    assert_eq!(property(waypoint, "era"), Some("exp2022"));
    assert_eq!(property(waypoint, "provider"), Some("kind"));
    assert_eq!(property(waypoint, "answer"), Some("drifted"));
    // Not reached is an error.
    assert_eq!(report.errors, 3);
    assert_eq!(report.failures, 2);
}

#[test]
fn one_run_is_one_case_per_record_in_tutorial_order() {
    let a = claims("nightly-2022.jsonl");
    let loaded = load(&[&a]).unwrap();
    let xml = junit::render(&loaded.records, false).unwrap();
    let report = parse(&xml);
    let names: Vec<&str> = cases(&report)
        .iter()
        .map(|(_, c)| c.name.as_str())
        .collect();
    let recorded: Vec<&str> = loaded.records.iter().map(|r| r.claim.as_str()).collect();
    assert_eq!(names.len(), recorded.len());
    assert_eq!(
        names.iter().copied().collect::<BTreeSet<_>>(),
        recorded.iter().copied().collect::<BTreeSet<_>>()
    );
    let order: Vec<usize> = names
        .iter()
        .map(|n| {
            support::claims::CLAIMS
                .iter()
                .position(|c| c.name() == *n)
                .unwrap()
        })
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{names:?}");
    // One build: the suites are the sections, with the build as properties.
    let suites: Vec<&str> = report.test_suites.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(suites[0], "Installation", "{suites:?}");
    let props: Vec<(&str, &str)> = report.test_suites[0]
        .properties
        .iter()
        .map(|p| (p.name.as_str(), p.value.as_str()))
        .collect();
    assert!(props.contains(&("era", "exp2022")), "{props:?}");
}

#[test]
fn every_answer_kind_of_a_nextest_run_maps_as_dashboards_read_it() {
    let f = claims("nextest-1.31-sim.jsonl");
    let loaded = load(&[&f]).unwrap();
    let session = "5b0c8f1e-2d4a-4c6e-9f3b-7a1d2e3c4b5a";
    // The per-run file holds the nextest run's records only (three test processes), not the
    // older run's.
    let text = std::fs::read_to_string(&f).unwrap();
    let mine = junit::session_records(&text, session);
    assert_eq!(mine.len(), loaded.records.len() - 1);
    assert!(mine.iter().all(|r| r.session() == session));
    for strict in [false, true] {
        let report = assert_cases_are_the_report_cells(&mine, strict);
        let all = cases(&report);
        let case = |name: &str| all.iter().find(|(_, c)| c.name.as_str() == name).unwrap().1;
        // doc stale: passes, says so in a property and shows the stale lines and the era fact.
        let stale = case("installation.istioctl_prints_component_lines");
        assert_eq!(property(stale, "answer"), Some("doc_stale"));
        if strict {
            let TestCaseStatus::NonSuccess { message, .. } = &stale.status else {
                panic!("{:?}", stale.status)
            };
            assert!(
                message
                    .as_ref()
                    .unwrap()
                    .as_str()
                    .contains("AMBIENT_DOCS=strict"),
                "{message:?}"
            );
        } else {
            let out = stale.system_out.as_ref().unwrap().as_str();
            assert!(
                out.contains("installation.install_output lines 54-58"),
                "{out}"
            );
            assert!(out.contains("✔ Ingress gateways installed"), "{out}");
            assert!(
                out.contains("the ambient profile installs ztunnel and no ingress gateway (since 1.22; istio.io/latest/docs/ambient/install/istioctl/)"),
                "{out}"
            );
        }
        // not applicable: skipped, with why.
        let na = case("demo_apps.client_manifests_available");
        let TestCaseStatus::Skipped { message, .. } = &na.status else {
            panic!("{:?}", na.status)
        };
        assert!(
            message
                .as_ref()
                .unwrap()
                .as_str()
                .starts_with("sim: cannot decide")
        );
        // The apps fixture's claim, recorded by two test processes: not reached, then as
        // documented: one passing case with the first as a flaky run.
        let apps = case("demo_apps.bookinfo_available");
        assert_eq!(property(apps, "records"), Some("2"));
        let TestCaseStatus::Success { flaky_runs } = &apps.status else {
            panic!("{:?}", apps.status)
        };
        assert_eq!(flaky_runs.len(), 1);
        assert_eq!(flaky_runs[0].kind, NonSuccessKind::Error);
        // The drift keeps its text whole (XML escaping is the writer's).
        let drift = case("l7.waypoint_pod_running");
        let TestCaseStatus::NonSuccess { description, .. } = &drift.status else {
            panic!("{:?}", drift.status)
        };
        let d = description.as_ref().unwrap().as_str();
        assert!(d.contains("no pod <waypoint> & \"quotes\""), "{d}");
        assert!(d.contains("this Istio's era expects: a Deployment"), "{d}");
        assert_eq!(property(drift, "nextest_run_id"), Some(session));
    }
    // Outside the run, the older run's record is superseded, as in the report.
    let report = assert_cases_are_the_report_cells(&loaded.records, false);
    let istiod = cases(&report)
        .into_iter()
        .find(|(_, c)| c.name.as_str() == "installation.istiod_available")
        .unwrap()
        .1;
    assert_eq!(kind(&istiod.status), "passed");
}

fn stale() -> Answer {
    Answer::DocStale {
        documented: Anchor {
            expectation: "l4.sleep_ztunnel_line".into(),
            lines: Lines {
                start: 120,
                end: 121,
            },
            text: "[2022-…] inbound".into(),
        },
        observed: "src.addr=10.0.0.1".into(),
        era: EraFact {
            fact: "ztunnel logs structured access lines".into(),
            since: "1.22".into(),
            source: "istio/ztunnel".into(),
        },
        replacement: None,
    }
}

/// Every answer kind, as the recorder writes it.
fn every_answer() -> Vec<(ClaimId, Answer)> {
    vec![
        (ClaimId::InstallationIstiodAvailable, Answer::AsDocumented),
        (ClaimId::L4SleepZtunnelLogsOutbound, stale()),
        (
            ClaimId::L7WaypointPodRunning,
            Answer::Drifted {
                expected: "1/1 Running".into(),
                actual: "ImagePullBackOff".into(),
                era_expected: None,
                documented: None,
            },
        ),
        (
            ClaimId::KialiDashboardReachable,
            Answer::NotApplicable {
                why: "sim: no data plane".into(),
            },
        ),
        (
            ClaimId::KialiGraphShowsTraffic,
            Answer::NotReached {
                why: "the dashboard did not start".into(),
            },
        ),
    ]
}

#[test]
fn the_recorder_keeps_junit_xml_beside_the_records_of_its_run() {
    let dir = tempfile::tempdir().unwrap();
    // An older run in the same file, and a line the suite cannot read: neither reaches this
    // run's JUnit file, and neither stops it.
    let older = Recorder::new(dir.path(), "1.24", "1.24.2", "kind");
    older
        .record(ClaimId::InstallationIstiodAvailable, &Answer::AsDocumented)
        .unwrap();
    let records = dir.path().join("claims.jsonl");
    let mut text = std::fs::read_to_string(&records).unwrap();
    text.push_str("{\"format\": 9, \"garbled\n");
    std::fs::write(&records, text).unwrap();

    let mut recorder = Recorder::new(dir.path(), "1.24", "1.31-dev", "sim").with_strict_docs(true);
    recorder.run_id = "this-run".into();
    recorder.nextest_run_id = None;
    for (id, answer) in every_answer() {
        recorder.record(id, &answer).unwrap();
        // After every record the file is whole and holds this run's records so far.
        let xml = std::fs::read_to_string(recorder.junit_path()).unwrap();
        parse(&xml);
    }
    assert_eq!(recorder.junit_path(), dir.path().join("junit.xml"));
    let xml = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    let report = parse(&xml);
    let got: Vec<(String, &str)> = cases(&report)
        .iter()
        .map(|(_, c)| (c.name.as_str().to_string(), kind(&c.status)))
        .collect();
    let want: Vec<(String, &str)> = every_answer()
        .iter()
        .map(|(id, a)| (id.name().to_string(), expected_kind(a, true)))
        .collect();
    assert_eq!(got, want, "{xml}");
    assert!(
        cases(&report)
            .iter()
            .all(|(_, c)| property(c, "istio_version") == Some("1.31-dev")
                && property(c, "run_id") == Some("this-run")),
        "{xml}"
    );
    assert_eq!(
        (report.tests, report.failures, report.errors, report.skipped),
        (5, 2, 1, 1)
    );
    // The per-run file is a test report nextest and dashboards name as such.
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(
        xml.contains("<testsuites name=\"ambient-tutorial\""),
        "{xml}"
    );
}

#[test]
fn test_processes_of_one_nextest_run_share_one_complete_junit_file() {
    let dir = tempfile::tempdir().unwrap();
    let session = "0a1b2c3d-0000-4000-8000-000000000001";
    let recorder = |pid: &str| {
        let mut r = Recorder::new(dir.path(), "1.24", "1.31-dev", "sim");
        r.run_id = pid.into();
        r.nextest_run_id = Some(session.into());
        r
    };
    let claims: Vec<ClaimId> = support::claims::CLAIMS.iter().map(|c| c.id).collect();
    let (a, b) = (recorder("p1"), recorder("p2"));
    // Two processes recording at once (threads here: the lock is per open file, as between
    // processes): the last JUnit file written holds every record of both.
    std::thread::scope(|s| {
        for (r, half) in [(&a, 0), (&b, 1)] {
            let claims = &claims;
            s.spawn(move || {
                for id in claims.iter().skip(half).step_by(2) {
                    r.record(*id, &Answer::AsDocumented).unwrap();
                }
            });
        }
    });
    let xml = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    let report = parse(&xml);
    assert_eq!(report.tests, claims.len(), "{xml}");
    let runs: BTreeSet<&str> = cases(&report)
        .iter()
        .filter_map(|(_, c)| property(c, "run_id"))
        .collect();
    assert_eq!(runs, BTreeSet::from(["p1", "p2"]));
}

fn record_at(claim: &str, at: &str, answer: &str) -> ClaimRecord {
    let mut v = serde_json::json!({
        "format": 2, "run_id": "r", "claim": claim, "section": claim.split('.').next().unwrap(),
        "era": "1.24", "istio_version": "1.24.2", "provider": "kind", "at": at, "answer": answer,
    });
    if answer == "drifted" {
        v["expected"] = "e".into();
        v["actual"] = "a".into();
    }
    ClaimRecord::from_json(v).unwrap()
}

#[test]
fn the_newest_record_decides_a_case_ties_go_to_the_first_read_and_cases_keep_tutorial_order() {
    const AT: &str = "2026-11-25T03:17:00Z";
    // Every claim, given in reverse tutorial order (the tutorial's order is not the names').
    let mut records: Vec<ClaimRecord> = support::claims::CLAIMS
        .iter()
        .rev()
        .map(|c| record_at(c.name(), AT, "as_documented"))
        .collect();
    let (newer, tie) = ("l7.waypoint_declared", "l4.curl_returns_productpage");
    // A newer drift read before an older pass; a tie read drift first.
    records.insert(0, record_at(newer, "2026-11-25T04:00:00Z", "drifted"));
    records.insert(0, record_at(tie, AT, "drifted"));
    let xml = junit::render(&records, false).unwrap();
    let report = parse(&xml);
    let names: Vec<&str> = cases(&report)
        .iter()
        .map(|(_, c)| c.name.as_str())
        .collect();
    let tutorial: Vec<&str> = support::claims::CLAIMS.iter().map(|c| c.name()).collect();
    assert_eq!(names, tutorial);
    let status = |name: &str| {
        let (_, c) = cases(&report)
            .into_iter()
            .find(|(_, c)| c.name.as_str() == name)
            .unwrap();
        kind(&c.status)
    };
    assert_eq!(status(newer), "failure");
    assert_eq!(status(tie), "failure");
    assert_eq!(status("installation.istiod_available"), "passed");
    // Each case carries its record's time; nothing was replaced, so no such property.
    assert!(xml.contains("timestamp=\"2026-11-25T03:17:00"), "{xml}");
    assert!(!xml.contains("xml_replaced_characters"), "{xml}");
}
