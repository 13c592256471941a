//! Errors shown whole: every error's cause chain, on one line for messages and verdicts, or as
//! `Caused by:` lines for a failing test (as cargo's test support prints them).

use std::error::Error;

/// `error: cause: cause ...` on one line, skipping a cause whose text its parent already says.
pub fn chain(e: &(dyn Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        let text = inner.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = inner.source();
    }
    out
}

/// The error, then one `Caused by:` block per cause.
pub fn report(e: &(dyn Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    let mut first = true;
    while let Some(inner) = source {
        if first {
            out.push_str("\n\nCaused by:");
            first = false;
        }
        out.push_str(&format!("\n    {inner}"));
        source = inner.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("connecting to https://127.0.0.1:1")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn the_cause_is_shown() {
        let e = Outer(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "Connection refused",
        ));
        assert_eq!(
            chain(&e),
            "connecting to https://127.0.0.1:1: Connection refused"
        );
        assert_eq!(
            report(&e),
            "connecting to https://127.0.0.1:1\n\nCaused by:\n    Connection refused"
        );
    }
}
