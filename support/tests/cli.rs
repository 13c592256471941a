//! The `ambient-spec` binary as a user runs it.

use std::io::Write;
use std::process::{Command, Stdio};

fn run(args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    run_in(std::path::Path::new("."), args, stdin)
}

fn run_in(dir: &std::path::Path, args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ambient-spec"))
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ambient-spec starts");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn logs_writes_one_json_object_per_line_and_survives_bad_lines() {
    let input = b"garbage\n\n[2022-11-29T19:43:56.477Z] \"- - HTTP/2\" 0 - - - \"-\" 241 1968 91918 - \"-\" \"-\" \"-\" \"-\" \"-\" - - 10.244.2.4:15008 10.244.1.2:39660 - - capture inbound listener\n\xff\xfe\n2025-04-14T06:25:20.167997Z\tinfo\tcni-agent\tadding pod to the mesh\tns=default name=sleep-x";
    let (code, stdout, stderr) = run(&["logs"], input);
    assert_eq!(code, 0, "{stderr}");
    let objects: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objects.len(), 4, "{stdout}");
    assert_eq!(objects[0]["error"], "not in any ztunnel log format");
    assert_eq!(objects[1]["record"], "access");
    assert_eq!(objects[1]["direction"], "inbound");
    assert_eq!(objects[1]["line"], 3);
    assert!(objects[2]["error"].is_string());
    assert_eq!(objects[3]["record"], "enrollment");
    assert_eq!(objects[3]["pod"], "sleep-x");
}

#[test]
fn unknown_subcommand_is_a_usage_error() {
    let (code, _, stderr) = run(&["frobnicate"], b"");
    assert_eq!(code, 2);
    assert!(stderr.contains("Usage"), "{stderr}");
}

fn fixture(name: &str) -> String {
    format!("{}/../fixtures/claims/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn junit_writes_one_case_per_claim_and_build_and_refuses_bad_records() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("junit.xml");
    let out_arg = out.display().to_string();
    let records = fixture("nightly-2022.jsonl");
    let (code, _, stderr) = run(&["junit", "--out", &out_arg, &records], b"");
    assert_eq!(code, 0, "{stderr}");
    let xml = std::fs::read_to_string(&out).unwrap();
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert_eq!(xml.matches("<testcase ").count(), 17, "{xml}");
    assert_eq!(xml.matches("<failure ").count(), 1, "{xml}");
    assert_eq!(xml.matches("<error ").count(), 3, "{xml}");
    // A bare file name: written in the working directory, whole, and nothing else left there.
    let (code, _, stderr) = run_in(dir.path(), &["junit", "--out", "here.xml", &records], b"");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("here.xml")).unwrap(),
        xml
    );
    let mut left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["here.xml", "junit.xml"]);
    // A garbled record: the file and line, no XML written, a failing exit.
    let bad = dir.path().join("bad.xml");
    let bad_arg = bad.display().to_string();
    let (code, _, stderr) = run(
        &["junit", "--out", &bad_arg, &fixture("garbled.jsonl")],
        b"",
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("garbled.jsonl:1: not a claim record"),
        "{stderr}"
    );
    assert!(!bad.exists());
}

#[test]
fn drift_issues_prints_the_plan_and_names_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("drift.json");
    let report_arg = report.display().to_string();
    let (code, _, stderr) = run(
        &[
            "report",
            "--json",
            &report_arg,
            &fixture("nightly-2022.jsonl"),
        ],
        b"",
    );
    assert_eq!(code, 0, "{stderr}");
    let issues = dir.path().join("issues.json");
    let issues_arg = issues.display().to_string();
    std::fs::write(&issues, "[]").unwrap();
    let url = "https://github.com/o/r/actions/runs/7";
    let args = [
        "drift-issues",
        "--report",
        &report_arg,
        "--issues",
        &issues_arg,
        "--run-url",
        url,
    ];
    let (code, stdout, stderr) = run(&args, b"");
    assert_eq!(code, 0, "{stderr}");
    let plan: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(plan.as_array().unwrap().len(), 1, "{stdout}");
    assert_eq!(plan[0]["action"], "open");
    assert_eq!(plan[0]["key"]["claim"], "l7.waypoint_pod_running");
    assert!(plan[0]["body"].as_str().unwrap().contains(url));
    // Not gh's output: named, and a failing exit.
    std::fs::write(&issues, "{\"number\": 1}").unwrap();
    let (code, stdout, stderr) = run(&args, b"");
    assert_eq!((code, stdout.as_str()), (1, ""));
    assert!(stderr.contains("not `gh issue list --json"), "{stderr}");
}

#[test]
fn headline_prints_no_workflow_command_whatever_the_records_say() {
    // `.ci/run` prints the headline to the CI log: a record whose version is a workflow command
    // (`::error ...::`, or the older `##[...]` anywhere in a line) must print as text.
    let dir = tempfile::tempdir().unwrap();
    let records = dir.path().join("claims.jsonl");
    let mut lines = String::new();
    for (version, provider) in [
        ("::error title=pwned::from a record", "sim"),
        ("1.24.2", "kind ##[add-mask]x"),
    ] {
        lines.push_str(
            &serde_json::json!({
                "format": 2, "run_id": "r", "claim": "l4.curl_returns_productpage",
                "section": "l4", "era": "1.24", "istio_version": version, "provider": provider,
                "at": "2026-12-06T00:00:00Z", "answer": "as_documented",
            })
            .to_string(),
        );
        lines.push('\n');
    }
    std::fs::write(&records, lines).unwrap();
    let (code, stdout, stderr) = run(&["headline", &records.display().to_string()], b"");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    for line in stdout.split(['\n', '\r']) {
        assert!(
            !line.trim_start().starts_with("::") && !line.contains("##["),
            "a workflow command: {line:?}"
        );
    }
    assert!(stdout.contains("error title=pwned"), "still said: {stdout}");
}

#[test]
fn timeline_writes_the_svg_and_prints_the_table_and_a_missing_file_is_named() {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/claims/");
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("timeline.svg");
    let files = [
        "sim-2026-08-eed52ebb66ad.jsonl",
        "sim-2026-04-b01690e6db7d.jsonl",
    ]
    .map(|f| format!("{fixtures}{f}"));
    let (code, stdout, stderr) = run(
        &[
            "timeline",
            "--svg",
            svg.to_str().unwrap(),
            &files[0],
            &files[1],
        ],
        b"",
    );
    assert_eq!(code, 0, "{stderr}");
    // Every claim of the table is a row, recorded in these builds or not.
    let rows = format!("{} claims x 2 builds", support::claims::CLAIMS.len());
    assert!(stdout.contains(&rows), "{stdout}");
    let april = stdout.find("1.31-dev b01690e6db7d 2026-04-23").unwrap();
    let august = stdout.find("1.31-dev eed52ebb66ad 2026-08-27").unwrap();
    assert!(april < august, "{stdout}");
    let drawn = std::fs::read_to_string(&svg).unwrap();
    assert!(drawn.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(drawn.trim_end().ends_with("</svg>"));
    assert!(!drawn.contains("<script"));
    let (code, _, stderr) = run(&["timeline", &format!("{fixtures}no-such.jsonl")], b"");
    assert_eq!(code, 1);
    assert!(stderr.contains("no-such.jsonl"), "{stderr}");
}
