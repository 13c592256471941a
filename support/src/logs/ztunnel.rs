//! ztunnel connection lines of every era, read into one [`AccessRecord`].
//!
//! Formats (see [`AccessLogFormat`] for their sources): the 2022 Envoy text access log, the
//! Rust ztunnel's tracing lines of 1.18 – 1.21, and the structured `access` lines of 1.22+
//! (tab-separated text, or JSON with `--log_as_json`).

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;

use super::Line;
use super::fields::{is_timestamp, next_word, skip_whitespace, skip_word};
pub use crate::eras::AccessLogFormat;

mod envoy;
mod structured;
mod tracing;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Inbound,
    Outbound,
}

/// One side of a connection; every field is optional because no format has them all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Endpoint {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workload: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
}

/// The waypoint a connection was sent to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Waypoint {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workload: Option<String>,
}

/// A connection as ztunnel logged it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessRecord {
    pub format: AccessLogFormat,
    pub timestamp: String,
    /// What the line says happened: `connection complete`, `capture outbound (no waypoint
    /// proxy)`, `proxy to`, ...
    pub event: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direction: Option<Direction>,
    pub src: Endpoint,
    pub dst: Endpoint,
    /// `Some` when the line shows the connection going to a waypoint; `None` when it shows it
    /// did not or cannot tell (see [`AccessRecord::waypoint_known`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waypoint: Option<Waypoint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_sent: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_recv: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl AccessRecord {
    /// Whether this line tells if a waypoint was on the path (an outbound line that says so).
    pub fn waypoint_known(&self) -> bool {
        self.waypoint.is_some()
            || self.event.contains("(no waypoint proxy)")
            || self.event.starts_with("proxy to")
            || self.event == "proxying to"
            || (matches!(
                self.format,
                AccessLogFormat::IstioAccessQuoted
                    | AccessLogFormat::IstioAccessUnquoted
                    | AccessLogFormat::IstioAccessJson
            ) && self.direction == Some(Direction::Outbound)
                && self.dst.addr.is_some())
    }
}

/// Why a line is not a ztunnel connection record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NotAccessLog {
    #[error("empty line")]
    Empty,
    #[error("not in any ztunnel log format")]
    UnknownFormat,
    /// A well-formed ztunnel line that reports something other than a connection.
    #[error("a ztunnel {format:?} line, but not a connection: {message}")]
    OtherMessage {
        format: AccessLogFormat,
        message: String,
    },
}

/// An [`AccessRecord`] that borrows from its line where it can: what `ambient-spec logs` writes
/// without copying. [`AccessView::into_owned`] gives the record.
#[derive(Debug, Clone)]
pub(crate) struct AccessView<'a> {
    pub format: AccessLogFormat,
    pub timestamp: Cow<'a, str>,
    pub event: Cow<'a, str>,
    pub direction: Option<Direction>,
    pub src: EndpointView<'a>,
    pub dst: EndpointView<'a>,
    pub waypoint: Option<WaypointView<'a>>,
    pub bytes_sent: Option<u64>,
    pub bytes_recv: Option<u64>,
    pub duration: Option<Cow<'a, str>>,
    pub error: Option<Cow<'a, str>>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct EndpointView<'a> {
    pub addr: Option<Cow<'a, str>>,
    pub workload: Option<Cow<'a, str>>,
    pub namespace: Option<Cow<'a, str>>,
    pub identity: Option<Cow<'a, str>>,
    pub service: Option<Cow<'a, str>>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct WaypointView<'a> {
    pub identity: Option<Cow<'a, str>>,
    pub addr: Option<Cow<'a, str>>,
    pub workload: Option<Cow<'a, str>>,
}

fn owned(s: Option<Cow<'_, str>>) -> Option<String> {
    s.map(Cow::into_owned)
}

impl<'a> AccessView<'a> {
    /// A record with what every format has; the rest is filled in by the reader.
    pub fn new(format: AccessLogFormat, timestamp: impl Into<Cow<'a, str>>) -> Self {
        AccessView {
            format,
            timestamp: timestamp.into(),
            event: Cow::Borrowed(""),
            direction: None,
            src: EndpointView::default(),
            dst: EndpointView::default(),
            waypoint: None,
            bytes_sent: None,
            bytes_recv: None,
            duration: None,
            error: None,
        }
    }

    pub fn into_owned(self) -> AccessRecord {
        AccessRecord {
            format: self.format,
            timestamp: self.timestamp.into_owned(),
            event: self.event.into_owned(),
            direction: self.direction,
            src: self.src.into_owned(),
            dst: self.dst.into_owned(),
            waypoint: self.waypoint.map(|w| Waypoint {
                identity: owned(w.identity),
                addr: owned(w.addr),
                workload: owned(w.workload),
            }),
            bytes_sent: self.bytes_sent,
            bytes_recv: self.bytes_recv,
            duration: owned(self.duration),
            error: owned(self.error),
        }
    }
}

impl EndpointView<'_> {
    fn into_owned(self) -> Endpoint {
        Endpoint {
            addr: owned(self.addr),
            workload: owned(self.workload),
            namespace: owned(self.namespace),
            identity: owned(self.identity),
            service: owned(self.service),
        }
    }
}

/// A [`NotAccessLog`] that borrows its message from the line.
#[derive(Debug, Clone)]
pub(crate) enum NotAccessView<'a> {
    Empty,
    UnknownFormat,
    OtherMessage {
        format: AccessLogFormat,
        message: MessageView<'a>,
    },
}

/// The message of a ztunnel line that is not a connection.
#[derive(Debug, Clone)]
pub(crate) enum MessageView<'a> {
    Text(Cow<'a, str>),
    /// The words of this text, joined by single spaces.
    Words(&'a str),
}

impl MessageView<'_> {
    /// The message in pieces, in order (words and the spaces between them).
    pub fn for_each_piece(&self, mut piece: impl FnMut(&str)) {
        match self {
            MessageView::Text(t) => piece(t),
            MessageView::Words(text) => {
                // Words already one space apart go out as one piece.
                let mut run: Option<(usize, usize)> = None;
                let mut at = skip_whitespace(text, 0);
                while at < text.len() {
                    let end = skip_word(text, at);
                    run = match run {
                        Some((start, last)) if at == last + 1 && text.as_bytes()[last] == b' ' => {
                            Some((start, end))
                        }
                        Some((start, last)) => {
                            piece(&text[start..last]);
                            piece(" ");
                            Some((at, end))
                        }
                        None => Some((at, end)),
                    };
                    at = skip_whitespace(text, end);
                }
                if let Some((start, last)) = run {
                    piece(&text[start..last]);
                }
            }
        }
    }
}

impl NotAccessView<'_> {
    pub fn into_owned(self) -> NotAccessLog {
        match self {
            NotAccessView::Empty => NotAccessLog::Empty,
            NotAccessView::UnknownFormat => NotAccessLog::UnknownFormat,
            NotAccessView::OtherMessage { format, message } => {
                let mut text = String::new();
                message.for_each_piece(|p| text.push_str(p));
                NotAccessLog::OtherMessage {
                    format,
                    message: text,
                }
            }
        }
    }
}

/// Reads one ztunnel log line.
pub fn parse_access(line: &str) -> Result<AccessRecord, NotAccessLog> {
    read(&Line::new(line))
        .map(AccessView::into_owned)
        .map_err(NotAccessView::into_owned)
}

/// Reads a line as a connection record, borrowing from it. The format is told by the first
/// bytes: `[` the 2022 Envoy log, `{` JSON, a timestamp then a level the text formats.
pub(crate) fn read<'a>(line: &'a Line<'_>) -> Result<AccessView<'a>, NotAccessView<'a>> {
    match line {
        Line::Empty => Err(NotAccessView::Empty),
        Line::Json(value) => structured::json(value.as_ref().ok_or(NotAccessView::UnknownFormat)?),
        Line::Text(text) if text.starts_with('[') => envoy::read(text),
        Line::Text(text) => timestamped(text),
    }
}

/// `<timestamp> <level> ...`: the 1.22+ text access log, the 1.18 – 1.21 tracing lines, or
/// another message of a structured ztunnel.
fn timestamped(line: &str) -> Result<AccessView<'_>, NotAccessView<'_>> {
    let timestamp_end = skip_word(line, 0);
    let timestamp = &line[..timestamp_end];
    if !is_timestamp(timestamp) {
        return Err(NotAccessView::UnknownFormat);
    }
    let Some((level, level_end)) = next_word(line, timestamp_end) else {
        return Err(NotAccessView::UnknownFormat);
    };
    // The level is followed by whitespace: the line is trimmed, so words follow too.
    let rest = skip_whitespace(line, level_end);
    if rest == level_end {
        return Err(NotAccessView::UnknownFormat);
    }
    let rest = &line[rest..];
    match level {
        "info" | "warn" | "error" | "debug" | "trace" => {
            if level != "trace"
                && let Some(record) = structured::text(timestamp, level, rest)
            {
                return Ok(record);
            }
            // Everything after the level: `<target> <message> <fields>`.
            Err(NotAccessView::OtherMessage {
                format: AccessLogFormat::IstioAccessQuoted,
                message: MessageView::Words(rest),
            })
        }
        "TRACE" | "DEBUG" | "INFO" | "WARN" | "ERROR" => tracing::read(timestamp, level, rest),
        _ => Err(NotAccessView::UnknownFormat),
    }
}

impl fmt::Display for AccessRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = |e: &Endpoint| {
            e.workload
                .clone()
                .or_else(|| e.identity.clone())
                .or_else(|| e.service.clone())
                .or_else(|| e.addr.clone())
                .unwrap_or_else(|| "?".to_string())
        };
        let dir = match self.direction {
            Some(Direction::Inbound) => "inbound",
            Some(Direction::Outbound) => "outbound",
            None => "?",
        };
        write!(
            f,
            "{dir} {} -> {} ({})",
            side(&self.src),
            side(&self.dst),
            self.event
        )?;
        if let Some(w) = &self.waypoint {
            write!(
                f,
                " via waypoint {}",
                w.identity.as_deref().or(w.addr.as_deref()).unwrap_or("?")
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_garbage_are_typed() {
        assert_eq!(parse_access(""), Err(NotAccessLog::Empty));
        assert_eq!(parse_access("   \r\n"), Err(NotAccessLog::Empty));
        assert_eq!(
            parse_access("hello world"),
            Err(NotAccessLog::UnknownFormat)
        );
        assert_eq!(
            parse_access("[not a time] x"),
            Err(NotAccessLog::UnknownFormat)
        );
        assert_eq!(
            parse_access("{\"level\":1}"),
            Err(NotAccessLog::UnknownFormat)
        );
    }

    #[test]
    fn words_one_space_apart_go_out_as_one_piece() {
        let mut pieces = Vec::new();
        MessageView::Words("  a b  c d\te ").for_each_piece(|p| pieces.push(p.to_string()));
        assert_eq!(pieces, ["a b", " ", "c d", " ", "e"]);
    }

    #[test]
    fn kubectl_prefix_is_ignored() {
        let line = "[pod/ztunnel-5qpn7/istio-proxy] 2024-07-23T14:21:03.450051Z\tinfo\taccess\tconnection complete\tsrc.addr=10.12.0.8:37522 direction=\"outbound\"";
        let r = parse_access(line).unwrap();
        assert_eq!(r.src.addr.as_deref(), Some("10.12.0.8:37522"));
        assert_eq!(r.direction, Some(Direction::Outbound));
    }
}
