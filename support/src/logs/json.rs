//! Line-by-line conversion of log text to JSON objects (the `ambient-spec logs` command).
//!
//! Records are written straight from the readers' borrowed views into a byte buffer, in the shape
//! `serde_json` gives the owned records (keys sorted, absent fields left out): `convert` must
//! write what it always wrote, only faster.

use serde_json::Value;

use super::Line;
use super::cni::{self, EnrollmentLogFormat, EnrollmentView};
use super::fields::swar;
use super::ztunnel::{
    self, AccessLogFormat, AccessView, Direction, EndpointView, NotAccessView, WaypointView,
};

mod chunks;

pub use chunks::convert;

/// One JSON object for one line: `{"line": n, "record": "access"|"enrollment", ...}` or
/// `{"line": n, "error": "..."}`. Blank lines produce nothing.
pub fn line_to_json(number: usize, line: &str) -> Option<Value> {
    let mut out = Vec::new();
    write_line(number, line, &mut out);
    // What was written is JSON by construction; `Null` would only say otherwise.
    (!out.is_empty()).then(|| serde_json::from_slice(&out).unwrap_or(Value::Null))
}

/// Appends the JSON object for one line and a newline to `out`; nothing for a blank line.
pub(crate) fn write_line(number: usize, line: &str, out: &mut Vec<u8>) {
    if line.trim().is_empty() {
        return;
    }
    // A line is mostly copied to the output: one reservation instead of several doublings.
    out.reserve(line.len() + 128);
    let line = Line::new(line);
    let not_access = match ztunnel::read(&line) {
        Ok(record) => return access(number, &record, out),
        Err(e) => e,
    };
    match cni::read(&line) {
        Ok(enrollment) => write_enrollment(number, &enrollment, out),
        Err(_) => error(number, &not_access, out),
    }
}

fn access(number: usize, r: &AccessView<'_>, out: &mut Vec<u8>) {
    let mut o = Object::open(out);
    o.opt_number("bytes_recv", r.bytes_recv);
    o.opt_number("bytes_sent", r.bytes_sent);
    o.opt_string("direction", r.direction.map(direction_name));
    o.key("dst");
    endpoint(&r.dst, o.out);
    o.opt_string("duration", r.duration.as_deref());
    o.opt_string("error", r.error.as_deref());
    o.string("event", &r.event);
    o.string("format", access_format_name(r.format));
    o.number("line", number as u64);
    o.string("record", "access");
    o.key("src");
    endpoint(&r.src, o.out);
    o.string("timestamp", &r.timestamp);
    if let Some(w) = &r.waypoint {
        o.key("waypoint");
        waypoint(w, o.out);
    }
    o.close();
    out.push(b'\n');
}

fn endpoint(e: &EndpointView<'_>, out: &mut Vec<u8>) {
    let mut o = Object::open(out);
    o.opt_string("addr", e.addr.as_deref());
    o.opt_string("identity", e.identity.as_deref());
    o.opt_string("namespace", e.namespace.as_deref());
    o.opt_string("service", e.service.as_deref());
    o.opt_string("workload", e.workload.as_deref());
    o.close();
}

fn waypoint(w: &WaypointView<'_>, out: &mut Vec<u8>) {
    let mut o = Object::open(out);
    o.opt_string("addr", w.addr.as_deref());
    o.opt_string("identity", w.identity.as_deref());
    o.opt_string("workload", w.workload.as_deref());
    o.close();
}

fn write_enrollment(number: usize, e: &EnrollmentView<'_>, out: &mut Vec<u8>) {
    let mut o = Object::open(out);
    o.string("format", enrollment_format_name(e.format));
    o.number("line", number as u64);
    o.string("namespace", &e.namespace);
    o.string("pod", &e.pod);
    o.opt_string("pod_ip", e.pod_ip.as_deref());
    o.string("record", "enrollment");
    o.opt_string("timestamp", e.timestamp.as_deref());
    o.close();
    out.push(b'\n');
}

/// `{"error": <why the line is not a connection>, "line": n}`: the text of [`NotAccessLog`].
///
/// [`NotAccessLog`]: super::NotAccessLog
fn error(number: usize, why: &NotAccessView<'_>, out: &mut Vec<u8>) {
    let mut o = Object::open(out);
    o.key("error");
    o.out.push(b'"');
    match why {
        NotAccessView::Empty => escape("empty line", o.out),
        NotAccessView::UnknownFormat => escape("not in any ztunnel log format", o.out),
        NotAccessView::OtherMessage { format, message } => {
            escape("a ztunnel ", o.out);
            escape(access_format_name(*format), o.out);
            escape(" line, but not a connection: ", o.out);
            message.for_each_piece(|piece| escape(piece, o.out));
        }
    }
    o.out.push(b'"');
    o.number("line", number as u64);
    o.close();
    out.push(b'\n');
}

/// The names `serde` and `Debug` give the variants.
fn access_format_name(format: AccessLogFormat) -> &'static str {
    match format {
        AccessLogFormat::EnvoyText => "EnvoyText",
        AccessLogFormat::RustTracing => "RustTracing",
        AccessLogFormat::IstioAccessUnquoted => "IstioAccessUnquoted",
        AccessLogFormat::IstioAccessQuoted => "IstioAccessQuoted",
        AccessLogFormat::IstioAccessJson => "IstioAccessJson",
    }
}

fn enrollment_format_name(format: EnrollmentLogFormat) -> &'static str {
    match format {
        EnrollmentLogFormat::NodeRoute => "NodeRoute",
        EnrollmentLogFormat::InPodAddingPod => "InPodAddingPod",
        EnrollmentLogFormat::AddingPodToMesh => "AddingPodToMesh",
    }
}

fn direction_name(direction: Direction) -> &'static str {
    match direction {
        Direction::Inbound => "inbound",
        Direction::Outbound => "outbound",
    }
}

/// A JSON object being written; keys are given in sorted order by the callers.
struct Object<'o> {
    out: &'o mut Vec<u8>,
    empty: bool,
}

impl<'o> Object<'o> {
    fn open(out: &'o mut Vec<u8>) -> Self {
        out.push(b'{');
        Object { out, empty: true }
    }

    /// Keys are plain ASCII words: no escaping needed.
    fn key(&mut self, key: &str) {
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    fn string(&mut self, key: &str, value: &str) {
        self.key(key);
        self.out.push(b'"');
        escape(value, self.out);
        self.out.push(b'"');
    }

    fn opt_string(&mut self, key: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.string(key, v);
        }
    }

    fn number(&mut self, key: &str, value: u64) {
        self.key(key);
        // Two digits at a time, from the right.
        const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
            2021222324252627282930313233343536373839\
            4041424344454647484950515253545556575859\
            6061626364656667686970717273747576777879\
            8081828384858687888990919293949596979899";
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        let mut n = value;
        while n >= 10 {
            let pair = usize::from((n % 100) as u8) * 2;
            n /= 100;
            at -= 2;
            digits[at..at + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
        }
        if at == digits.len() || n > 0 {
            at -= 1;
            digits[at] = b'0' + n as u8;
        }
        self.out.extend_from_slice(&digits[at..]);
    }

    fn opt_number(&mut self, key: &str, value: Option<u64>) {
        if let Some(v) = value {
            self.number(key, v);
        }
    }

    fn close(self) {
        self.out.push(b'}');
    }
}

/// The inside of a JSON string, escaped as `serde_json` escapes it: `"`, `\` and the control
/// characters below U+0020 (short forms where JSON has them, else `\u00xx`); the rest as is.
fn escape(s: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let b = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    loop {
        // Eight bytes at a time up to the next that needs escaping: most text has none.
        i = swar::find(b, i, |w| {
            swar::below(w, 0x20) | swar::equal(w, b'"') | swar::equal(w, b'\\')
        });
        let Some(&c) = b.get(i) else {
            break;
        };
        if c >= 0x20 && c != b'"' && c != b'\\' {
            i += 1;
            continue;
        }
        out.extend_from_slice(&b[start..i]);
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            _ => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(c >> 4)],
                HEX[usize::from(c & 0xf)],
            ]),
        }
        i += 1;
        start = i;
    }
    out.extend_from_slice(&b[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_escape_as_serde_json_does() {
        let all_ascii: String = (0u8..0x80).map(char::from).collect();
        for s in [all_ascii.as_str(), "é\u{7f}\u{2028}\"\\", ""] {
            let mut out = Vec::new();
            escape(s, &mut out);
            let expected = serde_json::to_string(s).unwrap();
            assert_eq!(format!("\"{}\"", String::from_utf8(out).unwrap()), expected);
        }
    }

    #[test]
    fn numbers_are_decimal() {
        for n in [0, 7, 10, 99, 100, 101, 4096, 65_535, 1_000_000, u64::MAX] {
            let mut out = Vec::new();
            Object::open(&mut out).number("n", n);
            assert_eq!(out, format!("{{\"n\":{n}").into_bytes());
        }
    }

    #[test]
    fn blank_lines_write_nothing() {
        for line in ["", "\n", " \t\r\n", "\u{3000}"] {
            assert_eq!(line_to_json(1, line), None, "{line:?}");
        }
        assert!(line_to_json(1, "\u{feff}").is_some());
    }
}
