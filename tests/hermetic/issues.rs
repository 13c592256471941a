//! The nightly's issue per drift: open, comment, reopen, close, decided on claim records.

use support::claims::ClaimRecord;
use support::drift_issues::{
    Action, Issue, Key, LABEL, Label, MAX_OPEN, parse_issues, parse_report, to_json,
};
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
/// The build line of the issues below: opened for 1.24.2 on kind.
const LINE: &str = "1.24.2/kind";

fn key() -> Key {
    Key {
        claim: WAYPOINT.into(),
    }
}

fn plan(
    report: &Report,
    existing: &[Issue],
    run_url: Option<&str>,
) -> Result<Vec<Action>, support::drift_issues::PlanError> {
    support::drift_issues::plan(report, existing, run_url, MAX_OPEN)
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
        &format!("earlier text\n{}\n", key().marker(LINE)),
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
    assert!(body.trim_end().ends_with(&key().marker(LINE)), "{body}");
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

    // Holds on the line it was opened for: closed.
    let again = report(vec![record(WAYPOINT, "1.24.2", "1.24", holds())]);
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
        body.starts_with("Holds again on 1.24.2 (1.24, kind)"),
        "{body}"
    );
    // The near miss: 1.24.3 holds while 1.24.2 did not run. 1.24.2 may still drift: the issue
    // stays open, and the summary says why.
    let other_line = report(vec![record(WAYPOINT, "1.24.3", "1.24", holds())]);
    let actions = plan(&other_line, &existing, None).unwrap();
    let [Action::Summary { body }] = actions.as_slice() else {
        panic!("{actions:?}")
    };
    assert!(
        body.contains("#7") && body.contains("opened for 1.24.2/kind, which did not run"),
        "{body}"
    );
    // The same release on another provider is another line too.
    let mut on_sim = record(WAYPOINT, "1.24.2", "1.24", holds());
    on_sim.provider = "sim".into();
    assert!(
        !plan(&report(vec![on_sim]), &existing, None)
            .unwrap()
            .iter()
            .any(|a| matches!(a, Action::Close { .. }))
    );
    // A stale tutorial is the claim holding (Istio changed on purpose): it closes too.
    let stale = report(vec![record(
        WAYPOINT,
        "1.24.2",
        "1.24",
        serde_json::json!({"answer": "doc_stale",
            "documented": {"expectation": "l7.waypoint_pod_line", "lines": {"start": 1, "end": 1}, "text": "t"},
            "observed": "o", "era_fact": {"fact": "f", "since": "1.22", "source": "s"}}),
    )]);
    assert!(matches!(
        plan(&stale, &existing, None).unwrap().as_slice(),
        [Action::Close { number: 7, .. }]
    ));
    // Dev builds of one minor are one line: tonight's dev build closes last night's issue.
    let dev = |sha: char| format!("1.26-alpha.{}", sha.to_string().repeat(40));
    // Opened for last night's dev build (1.26-alpha.aaa…), closed by tonight's.
    let dev_issue = issue(11, "OPEN", &key().marker("1.26-dev/kind"));
    let r = report(vec![record(WAYPOINT, &dev('b'), "1.24", holds())]);
    assert!(matches!(
        plan(&r, &[dev_issue], None).unwrap().as_slice(),
        [Action::Close { number: 11, .. }]
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
        let r = report(vec![record(WAYPOINT, "1.24.2", "1.24", answer)]);
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
fn one_issue_per_claim_whatever_the_builds_and_eras() {
    // The release holds, the dev build drifts, the tutorial's build (another era) drifts: one
    // comment on the claim's issue, naming both drifts, and nothing opened.
    let r = report(vec![
        record(WAYPOINT, "1.25.0", "1.24", holds()),
        record(
            WAYPOINT,
            "1.26-alpha.0123456789abcdef0123456789abcdef01234567",
            "1.24",
            drifted("x"),
        ),
        record(
            WAYPOINT,
            "0.0.0-ambient.191fe680b52c1754ee72a06b3e0d3f9d116f2e82",
            "exp2022",
            drifted("y"),
        ),
    ]);
    let actions = plan(&r, &[marked(7, "OPEN")], None).unwrap();
    let [
        Action::Comment {
            number: 7, body, ..
        },
    ] = actions.as_slice()
    else {
        panic!("{actions:?}")
    };
    assert!(
        body.contains("1.26-alpha")
            && body.contains("0.0.0-ambient")
            && !body.contains("on 1.25.0"),
        "{body}"
    );
}

#[test]
fn a_night_opens_at_most_its_limit_and_summarizes_the_rest() {
    // Every claim drifted on 40 era values: once 1,240 issues; now one per claim, at most
    // MAX_OPEN of them opened, the rest listed.
    let mut records = Vec::new();
    for c in support::claims::CLAIMS {
        for era in 0..40 {
            records.push(record(c.name(), "1.24.2", &format!("e{era}"), drifted("x")));
        }
    }
    let r = report(records);
    let actions = plan(&r, &[], None).unwrap();
    let opened = actions
        .iter()
        .filter(|a| matches!(a, Action::Open { .. }))
        .count();
    assert_eq!(opened, MAX_OPEN);
    let [.., Action::Summary { body }] = actions.as_slice() else {
        panic!("{actions:?}")
    };
    let rest = support::claims::CLAIMS.len() - MAX_OPEN;
    assert!(
        body.starts_with(&format!("{rest} more drifted claim(s)")),
        "{body}"
    );
    assert_eq!(body.matches("\n- `").count(), rest, "{body}");
    assert_eq!(actions.len(), MAX_OPEN + 1);
    // Comments on open issues are not limited; reopening is.
    let existing: Vec<Issue> = support::claims::CLAIMS
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let k = Key {
                claim: c.name().into(),
            };
            issue(
                i as u64 + 1,
                if i < 10 { "OPEN" } else { "CLOSED" },
                &k.marker(LINE),
            )
        })
        .collect();
    let actions = support::drift_issues::plan(&r, &existing, None, 2).unwrap();
    let count = |f: fn(&Action) -> bool| actions.iter().filter(|a| f(a)).count();
    assert_eq!(count(|a| matches!(a, Action::Comment { .. })), 10);
    assert_eq!(count(|a| matches!(a, Action::Reopen { .. })), 2);
    assert_eq!(count(|a| matches!(a, Action::Open { .. })), 0);
    assert_eq!(count(|a| matches!(a, Action::Summary { .. })), 1);
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
        }
        .marker(LINE),
        key().marker(LINE)
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
    let evil = "</details> [click](https://evil) <!-- ambient-drift claim=x line=y --> ``` @here";
    let r = report(vec![record(WAYPOINT, "1.24.2", "1.24", drifted(evil))]);
    let actions = plan(&r, &[], None).unwrap();
    let [Action::Open { body, .. }] = actions.as_slice() else {
        panic!("{actions:?}")
    };
    // The text is in a fence longer than any run of backticks in it (GitHub mentions no one in
    // code); the real marker is last.
    assert!(body.contains("````text\n"), "{body}");
    assert!(body.trim_end().ends_with(&key().marker(LINE)), "{body}");
    let back = issue(1, "OPEN", body);
    assert_eq!(back.key(), Some(key()));
    // A version, era or provider that could break the marker or mention someone gets no issue.
    for (version, era, provider) in [
        ("1.24.2", "1.24 -->", "kind"),
        ("1.24.2 @org/team", "1.24", "kind"),
        ("1.24.2", "1.24", "@here"),
        ("1.24.2", "1.24", "kind/x"),
    ] {
        let mut r = record(WAYPOINT, version, era, drifted("x"));
        r.provider = provider.into();
        assert_eq!(
            plan(&report(vec![r]), &[], None).unwrap(),
            vec![],
            "{version} {era} {provider}"
        );
    }
    // Where record text is Markdown (a cell, a heading), `@` mentions no one and Markdown is text.
    let label = support::report::md::text("@here [x](https://evil) #1");
    assert_eq!(label, "@\u{200b}here \\[x\\](https://evil) \\#1");
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let r = report(vec![]);
    let err = plan(&r, &[], Some("javascript:alert(1)")).unwrap_err();
    assert!(err.to_string().contains("--run-url"), "{err}");
    // Near misses of a run URL: nothing after the scheme, a space, Markdown, a query.
    for bad in [
        "https://",
        "https://github.com/o/r/actions/runs/1 x",
        "https://github.com/o/r/actions/runs/1)[x](y",
        "https://github.com/o/r?x=1",
    ] {
        assert!(plan(&r, &[], Some(bad)).is_err(), "{bad}");
    }
    assert!(plan(&r, &[], Some("https://github.com/o/r/actions/runs/1")).is_ok());
    assert!(parse_issues("{\"not\": \"a list\"}").is_err());
    assert!(parse_report("[]").is_err());
    // gh's own output shape.
    let gh = r#"[{"body":"b","labels":[{"id":"LA_1","name":"ambient-drift","description":"","color":"d73a4a"}],"number":5,"state":"OPEN","title":"t"}]"#;
    let issues = parse_issues(gh).unwrap();
    assert_eq!(issues[0].number, 5);
    assert_eq!(issues[0].labels[0].name, LABEL);
}

#[test]
fn the_plan_is_the_json_the_workflow_reads() {
    let r = report(vec![record(
        WAYPOINT,
        "1.24.2",
        "1.24",
        drifted("ImagePullBackOff"),
    )]);
    let actions = plan(&r, &[marked(9, "CLOSED")], None).unwrap();
    // nightly.yml reads `.action`, `.number`, `.title`, `.body` and `.key.claim` of each.
    let json: serde_json::Value = serde_json::from_str(&to_json(&actions)).unwrap();
    let [one] = json.as_array().unwrap().as_slice() else {
        panic!("{json}")
    };
    assert_eq!(one["action"], "reopen", "{json}");
    assert_eq!(one["number"], 9, "{json}");
    assert_eq!(one["key"]["claim"], WAYPOINT, "{json}");
    assert!(
        one["body"].as_str().unwrap().contains("ImagePullBackOff"),
        "{json}"
    );
    assert_eq!(to_json(&[]), "[]");
}
