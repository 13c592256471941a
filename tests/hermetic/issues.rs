//! The nightly's issue per drift: open, comment, reopen, close, decided on claim records.

use support::claims::ClaimRecord;
use support::drift_issues::{Action, Issue, Key, LABEL, Label, parse_issues, parse_report, plan};
use support::report::{Loaded, Report, build};

fn record(claim: &str, version: &str, era: &str, answer: serde_json::Value) -> ClaimRecord {
    let mut v = serde_json::json!({
        "format": 2, "run_id": "r", "claim": claim, "section": claim.split('.').next().unwrap(),
        "era": era, "istio_version": version, "provider": "kind", "at": "2026-11-25T03:17:00Z",
    });
    for (k, x) in answer.as_object().unwrap() {
        v[k] = x.clone();
    }
    ClaimRecord::from_json(v).unwrap()
}

fn drifted(actual: &str) -> serde_json::Value {
    serde_json::json!({"answer": "drifted", "expected": "1/1 Running", "actual": actual})
}

fn holds() -> serde_json::Value {
    serde_json::json!({"answer": "as_documented"})
}

fn report(records: Vec<ClaimRecord>) -> Report {
    // Through the report's JSON, as the workflow hands it over.
    let r = build(&Loaded {
        records,
        notes: vec![],
    });
    parse_report(&r.json().to_string()).unwrap()
}

const WAYPOINT: &str = "l7.waypoint_pod_running";

fn key() -> Key {
    Key {
        claim: WAYPOINT.into(),
        era: "1.24".into(),
    }
}

fn issue(number: u64, state: &str, body: &str) -> Issue {
    Issue {
        number,
        title: format!("Drift: {WAYPOINT} on Istio 1.24.2 (1.24, kind)"),
        body: body.into(),
        state: state.into(),
        labels: vec![Label { name: LABEL.into() }],
    }
}

fn marked(number: u64, state: &str) -> Issue {
    issue(
        number,
        state,
        &format!("earlier text\n{}\n", key().marker()),
    )
}

#[test]
fn a_new_drift_opens_one_issue_with_the_reports_section_and_a_marker() {
    let r = report(vec![
        record(WAYPOINT, "1.24.2", "1.24", drifted("ImagePullBackOff")),
        record("l4.curl_returns_productpage", "1.24.2", "1.24", holds()),
    ]);
    let url = "https://github.com/o/r/actions/runs/42";
    let actions = plan(&r, &[], Some(url)).unwrap();
    assert_eq!(actions.len(), 1, "{actions:?}");
    let Action::Open {
        key: k,
        title,
        body,
    } = &actions[0]
    else {
        panic!("{actions:?}")
    };
    assert_eq!(k, &key());
    assert_eq!(
        title,
        "Drift: l7.waypoint_pod_running on Istio 1.24.2 (1.24, kind)"
    );
    // The report's own section for the drift, then the marker, last.
    let section = support::report::drift_markdown(&r.cells[1]);
    assert!(
        section.starts_with("### `l7.waypoint_pod_running` on 1.24.2"),
        "{section}"
    );
    assert!(body.contains(&section), "{body}");
    assert!(body.contains(url), "{body}");
    assert!(body.trim_end().ends_with(&key().marker()), "{body}");
    // What it opened is found again as this claim's issue.
    let opened = issue(7, "OPEN", body);
    assert_eq!(opened.key(), Some(key()));
}

#[test]
fn a_drift_that_stays_comments_and_one_that_holds_again_closes() {
    let still = report(vec![record(
        WAYPOINT,
        "1.25.0",
        "1.24",
        drifted("CrashLoopBackOff"),
    )]);
    let existing = [marked(7, "OPEN"), marked(3, "CLOSED")];
    let actions = plan(&still, &existing, None).unwrap();
    let [
        Action::Comment {
            number: 7, body, ..
        },
    ] = actions.as_slice()
    else {
        panic!("{actions:?}")
    };
    // A new build of the same era is the same issue; the comment names it.
    assert!(
        body.starts_with("Still drifted on 1.25.0 (1.24, kind)."),
        "{body}"
    );
    assert!(body.contains("CrashLoopBackOff"), "{body}");

    let again = report(vec![record(WAYPOINT, "1.25.0", "1.24", holds())]);
    let actions = plan(&again, &existing, None).unwrap();
    let [
        Action::Close {
            number: 7, body, ..
        },
    ] = actions.as_slice()
    else {
        panic!("{actions:?}")
    };
    assert!(
        body.starts_with("Holds again on 1.25.0 (1.24, kind)"),
        "{body}"
    );
    // A stale tutorial is the claim holding (Istio changed on purpose): it closes too.
    let stale = report(vec![record(
        WAYPOINT,
        "1.25.0",
        "1.24",
        serde_json::json!({"answer": "doc_stale",
            "documented": {"expectation": "l7.waypoint_pod_line", "lines": {"start": 1, "end": 1}, "text": "t"},
            "observed": "o", "era_fact": {"fact": "f", "since": "1.22", "source": "s"}}),
    )]);
    assert!(matches!(
        plan(&stale, &existing, None).unwrap().as_slice(),
        [Action::Close { number: 7, .. }]
    ));
}

#[test]
fn a_drift_that_comes_back_reopens_the_last_closed_issue() {
    let r = report(vec![record(WAYPOINT, "1.26.0", "1.24", drifted("x"))]);
    let actions = plan(&r, &[marked(3, "CLOSED"), marked(9, "CLOSED")], None).unwrap();
    let [
        Action::Reopen {
            number: 9, body, ..
        },
    ] = actions.as_slice()
    else {
        panic!("{actions:?}")
    };
    assert!(body.starts_with("Drifted again on 1.26.0"), "{body}");
}

#[test]
fn undecided_claims_neither_open_nor_close() {
    let existing = [marked(7, "OPEN")];
    for answer in [
        serde_json::json!({"answer": "not_reached", "why": "an earlier step failed"}),
        serde_json::json!({"answer": "not_applicable", "why": "sim"}),
    ] {
        let r = report(vec![record(WAYPOINT, "1.25.0", "1.24", answer)]);
        assert_eq!(plan(&r, &existing, None).unwrap(), vec![]);
    }
    // Absent tonight (the job failed before it): nothing either.
    let r = report(vec![record(
        "l4.curl_returns_productpage",
        "1.25.0",
        "1.24",
        holds(),
    )]);
    assert_eq!(plan(&r, &existing, None).unwrap(), vec![]);
    // Held, with no issue: nothing.
    let r = report(vec![record(WAYPOINT, "1.25.0", "1.24", holds())]);
    assert_eq!(plan(&r, &[], None).unwrap(), vec![]);
}

#[test]
fn one_issue_per_claim_and_era_whatever_the_provider() {
    // kind's 1.25.0 holds, sim's source of the same era drifts: the one issue stays open and
    // names the sim build.
    let mut on_sim = record(WAYPOINT, "1.31-dev", "1.24", drifted("z"));
    on_sim.provider = "sim".into();
    let r = report(vec![
        record(WAYPOINT, "1.25.0", "1.24", holds()),
        on_sim.clone(),
    ]);
    // An issue opened before keys dropped the provider (its marker names kind) is the same issue.
    let older = issue(
        7,
        "OPEN",
        &format!("<!-- ambient-drift claim={WAYPOINT} era=1.24 provider=kind -->\n"),
    );
    assert_eq!(older.key(), Some(key()));
    let actions = plan(&r, &[older], None).unwrap();
    assert!(
        matches!(actions.as_slice(), [Action::Comment { number: 7, body, .. }] if body.contains("1.31-dev (1.24, sim)")),
        "{actions:?}"
    );
    // No issue yet: one is opened for both providers, titled after the build first seen drifted.
    let mut on_kind = record(WAYPOINT, "1.25.0", "1.24", drifted("x"));
    on_kind.at = "2026-11-25T03:18:00Z".into();
    let actions = plan(&report(vec![on_kind, on_sim]), &[], None).unwrap();
    let [Action::Open { title, body, .. }] = actions.as_slice() else {
        panic!("{actions:?}")
    };
    assert!(
        title.starts_with("Drift: l7.waypoint_pod_running on Istio"),
        "{title}"
    );
    assert!(
        body.contains("(1.24, sim)") && body.contains("(1.24, kind)"),
        "{body}"
    );
    // Near-miss: a marker without an era names no issue.
    let no_era = issue(
        8,
        "OPEN",
        &format!("<!-- ambient-drift claim={WAYPOINT} provider=kind -->\n"),
    );
    assert_eq!(no_era.key(), None);
}

#[test]
fn one_issue_per_claim_and_era() {
    // The release holds, the dev build of the same era drifts: the issue stays open.
    let r = report(vec![
        record(WAYPOINT, "1.25.0", "1.24", holds()),
        record(
            WAYPOINT,
            "1.26-alpha.0123456789abcdef0123456789abcdef01234567",
            "1.24",
            drifted("x"),
        ),
        // The tutorial's build is another era: its own issue.
        record(
            WAYPOINT,
            "0.0.0-ambient.191fe680b52c1754ee72a06b3e0d3f9d116f2e82",
            "exp2022",
            drifted("y"),
        ),
    ]);
    let actions = plan(&r, &[marked(7, "OPEN")], None).unwrap();
    assert_eq!(actions.len(), 2, "{actions:?}");
    assert!(
        matches!(&actions[0], Action::Comment { number: 7, body, .. } if body.contains("1.26-alpha") && !body.contains("on 1.25.0"))
    );
    assert!(matches!(&actions[1], Action::Open { key, .. } if key.era == "exp2022"));
}

#[test]
fn only_labelled_issues_with_a_marker_count() {
    let r = report(vec![record(WAYPOINT, "1.25.0", "1.24", drifted("x"))]);
    let mut unlabelled = marked(7, "OPEN");
    unlabelled.labels.clear();
    let unmarked = issue(8, "OPEN", "no marker here");
    // A marker quoted inside the record's text comes before the real one: the last counts.
    let spoof = format!(
        "```\n{}\n```\n{}\n",
        Key {
            claim: "l4.curl_returns_productpage".into(),
            ..key()
        }
        .marker(),
        key().marker()
    );
    assert_eq!(issue(9, "OPEN", &spoof).key(), Some(key()));
    let actions = plan(&r, &[unlabelled, unmarked], None).unwrap();
    assert!(
        matches!(actions.as_slice(), [Action::Open { .. }]),
        "{actions:?}"
    );
}

#[test]
fn hostile_records_stay_text_in_the_issue() {
    let evil = "</details> [click](https://evil) <!-- ambient-drift claim=x era=y provider=z --> ``` @here";
    let r = report(vec![record(WAYPOINT, "1.25.0", "1.24", drifted(evil))]);
    let actions = plan(&r, &[], None).unwrap();
    let [Action::Open { body, .. }] = actions.as_slice() else {
        panic!("{actions:?}")
    };
    // The text is in a fence longer than any run of backticks in it; the real marker is last.
    assert!(body.contains("````text\n"), "{body}");
    assert!(body.trim_end().ends_with(&key().marker()), "{body}");
    let back = issue(1, "OPEN", body);
    assert_eq!(back.key(), Some(key()));
    // An era or provider that could break the marker (or the title) gets no issue.
    let r = report(vec![record(WAYPOINT, "1.25.0", "1.24 -->", drifted("x"))]);
    assert_eq!(plan(&r, &[], None).unwrap(), vec![]);
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let r = report(vec![]);
    let err = plan(&r, &[], Some("javascript:alert(1)")).unwrap_err();
    assert!(err.to_string().contains("--run-url"), "{err}");
    assert!(parse_issues("{\"not\": \"a list\"}").is_err());
    assert!(parse_report("[]").is_err());
    // gh's own output shape.
    let gh = r#"[{"body":"b","labels":[{"id":"LA_1","name":"ambient-drift","description":"","color":"d73a4a"}],"number":5,"state":"OPEN","title":"t"}]"#;
    let issues = parse_issues(gh).unwrap();
    assert_eq!(issues[0].number, 5);
    assert_eq!(issues[0].labels[0].name, LABEL);
}
