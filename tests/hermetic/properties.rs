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

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(s in any::<String>()) {
        read_everything(&s);
    }

    #[test]
    fn log_shaped_text_never_panics(s in r#"(\[|\{|[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{8,15}Z)[ \t]?(info|INFO|access|ztunnel::proxy::outbound: |"|=|\{|\}|:|[a-z.]{1,8}=|"[^"]{0,5}|[ \t]|[0-9./:-]{1,12}|é|\\){0,40}"#) {
        read_everything(&s);
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
