//! HTTP status lines (`HTTP/1.1 200 OK`) and HTML page titles (`<title>Simple Bookstore
//! App</title>`).

use super::{Comparison, Difference, Side};

/// A status line: `HTTP/1.1 200 OK`, `HTTP/2 403`, curl -v's `< HTTP/1.1 200 OK`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusLine {
    pub version: String,
    pub code: u16,
    /// Empty when the line has none (HTTP/2 has no reason phrase).
    pub reason: String,
}

/// Reads `line` as a status line.
pub fn status_line(line: &str) -> Option<StatusLine> {
    let line = line.trim().trim_start_matches("< ").trim();
    let rest = line.strip_prefix("HTTP/")?;
    let (version, rest) = rest.split_once(' ')?;
    let rest = rest.trim_start();
    let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
    if code.len() != 3 {
        return None;
    }
    Some(StatusLine {
        version: version.to_string(),
        code: code.parse().ok()?,
        reason: reason.trim().to_string(),
    })
}

/// `_verify_first_line` for HTTP: the first status line of the output against the documented
/// one. Compared: the status code, and the reason phrase when both lines have one.
/// Normalized: the protocol version (`HTTP/1.1` vs `HTTP/2` is the client's negotiation, not the
/// server's answer), `\r`, a `< ` prefix (curl -v). Redirects followed by curl print several
/// status lines: the first is compared, as verify.sh does.
pub fn first_line(expected: &str, seen: &str) -> Comparison {
    let Some(e) = expected.lines().find_map(status_line) else {
        return Comparison::unreadable(Side::Expected, "no HTTP status line documented");
    };
    let Some(s) = seen.lines().find_map(status_line) else {
        return Comparison::Differs(vec![Difference::new(
            "HTTP status line",
            format!("HTTP/{} {} {}", e.version, e.code, e.reason)
                .trim_end()
                .to_string(),
            "",
        )]);
    };
    let reason_differs = !e.reason.is_empty() && !s.reason.is_empty() && e.reason != s.reason;
    if e.code == s.code && !reason_differs {
        Comparison::Matches
    } else {
        Comparison::Differs(vec![Difference::new(
            "HTTP status",
            format!("{} {}", e.code, e.reason).trim_end().to_string(),
            format!("{} {}", s.code, s.reason).trim_end().to_string(),
        )])
    }
}

/// The text of the first `<title>` element (tag case ignored, whitespace collapsed).
pub fn title_of(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    let open = lower.find("<title")?;
    let body = open + lower[open..].find('>')? + 1;
    let close = body + lower[body..].find("</title")?;
    Some(
        html[body..close]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// The documented `<title>` against the page's. Normalized: whitespace inside the title
/// collapsed, tag case. The text itself is compared exactly.
pub fn title(expected: &str, seen: &str) -> Comparison {
    let Some(e) = title_of(expected) else {
        return Comparison::unreadable(Side::Expected, "no <title> documented");
    };
    match title_of(seen) {
        Some(s) if s == e => Comparison::Matches,
        Some(s) => Comparison::Differs(vec![Difference::new("<title>", e, s)]),
        None => Comparison::Differs(vec![Difference::new("<title>", e, "")]),
    }
}
