//! No reader panics, whatever it is fed: arbitrary text, and real lines cut or corrupted anywhere.

use proptest::prelude::*;
use support::fixtures::recorded_lines;
use support::logs::json::line_to_json;
use support::logs::{parse_access, parse_enrollment};
use support::snapshot::redact;

fn real_lines() -> Vec<String> {
    [
        "ztunnel-envoy-2022.log",
        "ztunnel-tracing-1.18.log",
        "ztunnel-access-1.22.log",
        "istio-cni.log",
    ]
    .iter()
    .flat_map(|f| recorded_lines(f).unwrap())
    .map(|l| l.text)
    .collect()
}

fn read_everything(s: &str) {
    let _ = parse_access(s);
    let _ = parse_enrollment(s);
    let _ = line_to_json(1, s);
    let _ = redact(s);
}

/// 64 cases for the quick `cargo test`; `PROPTEST_CASES` (the nightly's 4096) for the long search.
fn config() -> ProptestConfig {
    let cases = match std::env::var_os("PROPTEST_CASES") {
        Some(_) => ProptestConfig::default().cases,
        None => 64,
    };
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_text_never_panics(s in any::<String>()) {
        read_everything(&s);
    }

    #[test]
    fn log_shaped_text_never_panics(s in r#"(\[|\{|[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{8,15}Z)[ \t]?(info|INFO|access|ztunnel::proxy::outbound: |"|=|\{|\}|:|[a-z.]{1,8}=|"[^"]{0,5}|[ \t]|[0-9./:-]{1,12}|é|\\){0,40}"#) {
        read_everything(&s);
    }

    #[test]
    fn any_bytes_convert_to_one_json_object_per_line(bytes in prop::collection::vec(
        prop_oneof![Just(b'\n'), Just(b'\r'), Just(b' '), Just(b'{'), Just(0xff), any::<u8>()],
        0..300,
    )) {
        let mut out = Vec::new();
        support::logs::json::convert(&bytes[..], &mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        let mut last = 0;
        for line in out.lines() {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            let number = value["line"].as_u64().unwrap();
            prop_assert!(number > last, "line numbers increase: {} after {}", number, last);
            last = number;
        }
        let lines = bytes.split(|&b| b == b'\n').count() - usize::from(bytes.ends_with(b"\n"));
        prop_assert!(last as usize <= lines);
    }

    #[test]
    fn real_lines_cut_anywhere_never_panic(index in any::<prop::sample::Index>(), cut in any::<prop::sample::Index>(), junk in "[\\PC]{0,3}") {
        let lines = real_lines();
        let line = &lines[index.index(lines.len())];
        let mut at = cut.index(line.len() + 1);
        while !line.is_char_boundary(at) { at -= 1; }
        read_everything(&line[..at]);
        read_everything(&format!("{}{junk}{}", &line[..at], &line[at..]));
    }
}
