//! The floor: istio.io's `tests/util/verify.sh`, whose comparisons a page's hand-written
//! `test.sh` chooses among. Same inputs, same answers, but for one rule made stricter (below).
//!
//! Every function first drops `\r` and trailing whitespace of each line of the output (verify.sh
//! pipes the output through `sed 's/[[:space:]]*$//'`).

use super::names::{generated, is_age};
use super::{Comparison, Difference};

fn clean(text: &str) -> Vec<String> {
    text.split('\n')
        .map(|l| l.replace('\r', "").trim_end().to_string())
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .skip_while(String::is_empty)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect()
}

/// `_verify_like`: the same number of lines, the same number of whitespace-separated tokens on
/// each line, and tokens equal except where
/// - both are elapsed times (`12m`, `2d3h`, `27s`);
/// - the expected token is an IPv4 address and the seen one an IPv4 address, `<none>` or
///   `<pending>`;
/// - both are the same generated name (`istiod-6f9c757686-kw5z4` / `istiod-5d4f6b9c8d-x7q2z`:
///   same base, pod-template-hash and 5-character suffix drawn from Kubernetes' alphabets).
///   verify.sh accepts any two tokens whose common prefix starts with `word-`, so it takes
///   `istio-ingressgateway` for `istio-egressgateway`; this does not;
/// - the expected token is `...` (any one token).
pub fn like(expected: &str, seen: &str) -> Comparison {
    let e = clean(expected);
    let s = clean(seen);
    if e.len() != s.len() {
        return Comparison::Differs(vec![Difference::new(
            "number of lines",
            format!("{} lines", e.len()),
            format!("{} lines", s.len()),
        )]);
    }
    let mut differences = Vec::new();
    for (n, (el, sl)) in e.iter().zip(&s).enumerate() {
        if el.trim() == sl.trim() {
            continue;
        }
        let et: Vec<&str> = el.split_whitespace().collect();
        let st: Vec<&str> = sl.split_whitespace().collect();
        let tokens_like = et.len() == st.len() && et.iter().zip(&st).all(|(e, s)| token_like(e, s));
        if !tokens_like {
            differences.push(Difference::new(
                format!("line {}", n + 1),
                el.trim(),
                sl.trim(),
            ));
        }
    }
    Comparison::from_differences(differences)
}

/// One token of [`like`].
pub fn token_like(expected: &str, seen: &str) -> bool {
    expected == seen
        || expected == "..."
        || (is_age(expected) && is_age(seen) && !expected.starts_with('<'))
        || (is_ipv4(expected) && (is_ipv4(seen) || seen == "<none>" || seen == "<pending>"))
        || {
            let (e, s) = (generated(expected), generated(seen));
            (e.hash || e.suffix) && e.like(&s)
        }
}

fn is_ipv4(token: &str) -> bool {
    token.parse::<std::net::Ipv4Addr>().is_ok()
}

/// `_verify_elided`: the expected lines, cut at each line that is only `...`, appear in the
/// output as contiguous runs, in any order and anywhere (verify.sh tests each run as a
/// substring). No normalization beyond the line cleaning.
pub fn elided(expected: &str, seen: &str) -> Comparison {
    let out = clean(seen).join("\n");
    let mut differences = Vec::new();
    let mut run: Vec<&str> = Vec::new();
    let lines: Vec<&str> = expected.lines().collect();
    let mut check = |run: &mut Vec<&str>| {
        if !run.is_empty() {
            let joined = run.join("\n");
            if !out.contains(&joined) {
                differences.push(Difference::new("lines not in the output", joined, ""));
            }
            run.clear();
        }
    };
    for line in &lines {
        if line.trim() == "..." {
            check(&mut run);
        } else {
            run.push(line);
        }
    }
    check(&mut run);
    Comparison::from_differences(differences)
}

/// `_verify_lines`: each expected line `+ text` needs a line of the output containing `text`;
/// each `- text` needs none to contain it; other lines are ignored. No normalization.
pub fn lines(expected: &str, seen: &str) -> Comparison {
    let out = seen.replace('\r', "");
    let mut differences = Vec::new();
    for line in expected.lines() {
        if let Some(want) = line.strip_prefix("+ ") {
            if !out.contains(want) {
                differences.push(Difference::new("a line containing", want, ""));
            }
        } else if let Some(unwanted) = line.strip_prefix("- ")
            && let Some(found) = out.lines().find(|l| l.contains(unwanted))
        {
            differences.push(Difference::new("no line containing", unwanted, found));
        }
    }
    Comparison::from_differences(differences)
}

/// `_verify_first_line`: the first line of the output equals the first expected line (both
/// trimmed of `\r` and trailing whitespace).
pub fn first_line(expected: &str, seen: &str) -> Comparison {
    let e = expected.lines().next().unwrap_or_default().trim_end();
    let s = seen.lines().next().unwrap_or_default().replace('\r', "");
    let s = s.trim_end();
    if e == s {
        Comparison::Matches
    } else {
        Comparison::Differs(vec![Difference::new("first line", e, s)])
    }
}

/// `_verify_failure`: the command exited with a status other than 0 (a command killed by a
/// signal or a timeout has no status and does not count as the documented failure).
pub fn failure(exit_code: Option<i32>) -> Comparison {
    match exit_code {
        Some(code) if code != 0 => Comparison::Matches,
        Some(code) => Comparison::Differs(vec![Difference::new(
            "exit status",
            "a non-zero exit status",
            code.to_string(),
        )]),
        None => Comparison::Differs(vec![Difference::new(
            "exit status",
            "a non-zero exit status",
            "no exit status (killed)",
        )]),
    }
}
