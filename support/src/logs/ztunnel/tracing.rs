//! The Rust ztunnel of 1.18 – 1.21: no access log, but tracing lines that name connections, e.g.
//! `INFO outbound{id=..}: ztunnel::proxy::outbound: proxy to .. using HBONE via .. type Direct`.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

use super::{AccessLogFormat, AccessView, Direction, MessageView, NotAccessView, WaypointView};
use crate::logs::fields::{key_values, skip_whitespace, skip_word};

/// `<spans> <target>: <message>` after `<timestamp> <LEVEL>`.
pub(super) fn read<'a>(
    timestamp: &'a str,
    level: &str,
    rest: &'a str,
) -> Result<AccessView<'a>, NotAccessView<'a>> {
    let (spans, target, message) = split(rest).ok_or(NotAccessView::UnknownFormat)?;
    let message = message.trim();
    let mut record = AccessView::new(AccessLogFormat::RustTracing, timestamp);
    let other = || NotAccessView::OtherMessage {
        format: AccessLogFormat::RustTracing,
        message: MessageView::Text(Cow::Borrowed(message)),
    };
    let read = match target {
        "ztunnel::proxy::outbound" => outbound(message, &mut record),
        "ztunnel::proxy::inbound" => inbound(spans, message, &mut record),
        "ztunnel::proxy::inbound_passthrough" => inbound_passthrough(message, &mut record),
        _ => None,
    };
    read.ok_or_else(other)?;
    if level == "ERROR" && record.error.is_none() {
        record.error = Some(Cow::Borrowed("error"));
    }
    Ok(record)
}

/// Splits `name{k=v ..}: ... ztunnel::a::b: message` into the spans, the target and the message;
/// `None` if the text is not so.
fn split(rest: &str) -> Option<(&str, &str, &str)> {
    let b = rest.as_bytes();
    let mut at = 0;
    // Spans: `[A-Za-z_]+{...}:` each, whitespace after the colon optional.
    loop {
        let name = b[at..]
            .iter()
            .take_while(|c| c.is_ascii_alphabetic() || **c == b'_')
            .count();
        if name == 0 || b.get(at + name) != Some(&b'{') {
            break;
        }
        let open = at + name;
        let close = open + b[open..].iter().position(|&c| c == b'}')?;
        if b.get(close + 1) != Some(&b':') {
            return None;
        }
        at = skip_whitespace(rest, close + 2);
    }
    // Target: `ztunnel(::[A-Za-z0-9_]+)*`, then a colon and whitespace.
    if !rest[at..].starts_with("ztunnel") {
        return None;
    }
    let mut end = at + "ztunnel".len();
    while b[end..].starts_with(b"::") {
        let ident = b[end + 2..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
            .count();
        if ident == 0 {
            break;
        }
        end += 2 + ident;
    }
    if b.get(end) != Some(&b':') {
        return None;
    }
    let message_at = skip_whitespace(rest, end + 1);
    let message = &rest[message_at..];
    if message_at == end + 1 || message.as_bytes().contains(&b'\n') {
        return None;
    }
    Some((&rest[..at], &rest[at..end], message))
}

/// The first `key` among the `{...}` of the spans.
fn span_field<'a>(spans: &'a str, key: &str) -> Option<Cow<'a, str>> {
    let mut rest = spans;
    while let Some(open) = rest.find('{') {
        let close = open + rest[open..].find('}')?;
        if let Some((_, v)) = key_values(&rest[open + 1..close]).find(|(k, _)| *k == key) {
            return Some(v);
        }
        // On from the span's `}` (no `{`): the next span's `{` is the next one found.
        rest = &rest[close..];
    }
    None
}

/// The text after `prefix` up to the next whitespace (at least one char).
fn word_after<'a>(message: &'a str, prefix: &str) -> Option<(&'a str, &'a str)> {
    let rest = message.strip_prefix(prefix)?;
    let end = skip_word(rest, 0);
    (end > 0).then(|| (&rest[..end], &rest[end..]))
}

fn outbound<'a>(message: &'a str, record: &mut AccessView<'a>) -> Option<()> {
    record.direction = Some(Direction::Outbound);
    if let Some((to, rest)) = word_after(message, "proxy to ")
        && let Some((via, rest)) = word_after(rest, " using HBONE via ")
        && let Some(kind) = rest.strip_prefix(" type ").map(word_chars)
        && !kind.is_empty()
    {
        record.event = Cow::Borrowed("proxy to");
        record.dst.addr = Some(Cow::Borrowed(to));
        if kind == "ToServerWaypoint" {
            record.waypoint = Some(WaypointView {
                addr: Some(Cow::Borrowed(via)),
                ..WaypointView::default()
            });
        }
    } else if let Some((to, rest)) = word_after(message, "proxying to ")
        && rest.starts_with(" using node local fast path")
    {
        record.event = Cow::Borrowed("proxying to");
        record.dst.addr = Some(Cow::Borrowed(to));
    } else if message.starts_with("complete") || message.starts_with("failed") {
        record.event = Cow::Borrowed(&message[..skip_word(message, 0)]);
        for (k, v) in key_values(message) {
            match k {
                "dur" if record.duration.is_none() => record.duration = Some(v),
                "err" if record.error.is_none() => record.error = Some(v),
                _ => {}
            }
        }
    } else {
        return None;
    }
    Some(())
}

fn inbound<'a>(spans: &'a str, message: &'a str, record: &mut AccessView<'a>) -> Option<()> {
    record.direction = Some(Direction::Inbound);
    record.src.addr = span_field(spans, "peer_ip");
    record.src.identity = span_field(spans, "peer_id");
    if let Some((to, _)) = word_after(message, "got CONNECT request to ") {
        record.event = Cow::Borrowed("got CONNECT request");
        record.dst.addr = Some(Cow::Borrowed(to));
    } else if let Some((conn, _)) = word_after(message, "RBAC rejected conn=") {
        record.event = Cow::Borrowed("RBAC rejected");
        record.error = Some(Cow::Borrowed("RBAC rejected"));
        if let Some((_, to)) = conn.rsplit_once("->") {
            record.dst.addr = Some(Cow::Borrowed(to));
        }
    } else {
        return None;
    }
    Some(())
}

fn inbound_passthrough<'a>(message: &'a str, record: &mut AccessView<'a>) -> Option<()> {
    let event = ["accepted connection", "connection complete"]
        .into_iter()
        .find(|e| message.starts_with(e))?;
    record.event = Cow::Borrowed(event);
    record.direction = Some(Direction::Inbound);
    for (k, v) in key_values(message) {
        match k {
            "source" if record.src.addr.is_none() => record.src.addr = Some(v),
            "destination" if record.dst.addr.is_none() => record.dst.addr = Some(v),
            _ => {}
        }
    }
    Some(())
}

/// The leading run of word chars (the regex `\w`: Unicode letters, marks, digits, connectors).
fn word_chars(s: &str) -> &str {
    static WORD: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\w").expect("valid regex"));
    let end = s
        .char_indices()
        .find(|&(i, c)| {
            let word = if c.is_ascii() {
                c.is_ascii_alphanumeric() || c == '_'
            } else {
                WORD.is_match(&s[i..])
            };
            !word
        })
        .map_or(s.len(), |(i, _)| i);
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROXY_TO: &str = "2023-08-14T09:33:25.226403Z  INFO outbound{id=9d99723a61c9496532d34acec5c77126}: ztunnel::proxy::outbound: proxy to 10.240.1.11:80 using HBONE via 10.240.1.11:15008 type Direct";

    #[test]
    fn the_message_follows_the_spans_apart_from_them_on_one_line() {
        let r = crate::logs::parse_access(PROXY_TO).unwrap();
        assert_eq!(r.dst.addr.as_deref(), Some("10.240.1.11:80"));
        for bad in [
            PROXY_TO.replace("outbound: proxy", "outbound:proxy"),
            PROXY_TO.replace(" type Direct", "\ntype Direct"),
            // No address after `proxy to`.
            PROXY_TO.replace("proxy to 10.240.1.11:80 using", "proxy to  using"),
        ] {
            let read = crate::logs::parse_access(&bad);
            assert!(
                read.as_ref().map_or(true, |r| r.event != "proxy to"),
                "{bad:?}: {read:?}"
            );
        }
    }

    #[test]
    fn the_first_duration_and_error_of_a_line_are_read() {
        let line = PROXY_TO.replace(
            "proxy to 10.240.1.11:80 using HBONE via 10.240.1.11:15008 type Direct",
            "failed dur=1ms err=first dur=2ms err=second",
        );
        let r = crate::logs::parse_access(&line).unwrap();
        assert_eq!(
            (r.duration.as_deref(), r.error.as_deref()),
            (Some("1ms"), Some("first"))
        );
    }

    #[test]
    fn the_first_source_and_destination_of_a_passthrough_line_are_read() {
        let line = PROXY_TO.replace(
            "outbound{id=9d99723a61c9496532d34acec5c77126}: ztunnel::proxy::outbound: proxy to 10.240.1.11:80 using HBONE via 10.240.1.11:15008 type Direct",
            "ztunnel::proxy::inbound_passthrough: connection complete source=10.0.0.1:1 destination=10.0.0.2:2 source=10.0.0.3:3 destination=10.0.0.4:4",
        );
        let r = crate::logs::parse_access(&line).unwrap();
        assert_eq!(
            (r.src.addr.as_deref(), r.dst.addr.as_deref()),
            (Some("10.0.0.1:1"), Some("10.0.0.2:2"))
        );
    }

    #[test]
    fn span_fields_are_read_from_any_span() {
        assert_eq!(
            span_field(
                "inbound{id=1}:conn{peer_ip=10.0.0.1 peer_id=spiffe://x}",
                "peer_ip"
            )
            .as_deref(),
            Some("10.0.0.1")
        );
        assert_eq!(span_field("a{x=1}:b{y=2}", "x").as_deref(), Some("1"));
        assert_eq!(span_field("a{x=1}:b{y=2}", "y").as_deref(), Some("2"));
        assert_eq!(span_field("a{x=1}:b{y=2}", "z"), None);
        assert_eq!(span_field("a{x=1", "x"), None);
        assert_eq!(span_field("a{}:b{y=2}", "y").as_deref(), Some("2"));
    }

    #[test]
    fn word_chars_are_the_regexes_word_chars() {
        let word = Regex::new(r"^\w+").unwrap();
        let mut s = String::with_capacity(9);
        for c in (0..=0x10ffff).filter_map(char::from_u32) {
            s.clear();
            s.extend([c, c, '!']);
            let expected = word.find(&s).map_or("", |m| m.as_str());
            assert_eq!(word_chars(&s), expected, "{c:?}");
        }
    }
}
