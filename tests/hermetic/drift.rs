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
                found: 2,
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
