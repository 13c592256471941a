//! The `ambient-spec` binary as a user runs it.

use std::io::Write;
use std::process::{Command, Stdio};

fn run(args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ambient-spec"))
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
