//! Line-by-line conversion of log text to JSON objects (the `ambient-spec logs` command).

use std::io::{BufRead, Write};

use serde_json::{Value, json};

/// One JSON object for one line: `{"line": n, "record": "access"|"enrollment", ...}` or
/// `{"line": n, "error": "..."}`. Blank lines produce nothing.
pub fn line_to_json(number: usize, line: &str) -> Option<Value> {
    if line.trim().is_empty() {
        return None;
    }
    let tagged = |kind: &str, record: Value| {
        let mut obj = json!({ "line": number, "record": kind });
        if let (Some(o), Value::Object(fields)) = (obj.as_object_mut(), record) {
            o.extend(fields);
        }
        obj
    };
    let not_access = match super::parse_access(line) {
        Ok(r) => {
            return Some(tagged(
                "access",
                serde_json::to_value(r).unwrap_or(Value::Null),
            ));
        }
        Err(e) => e,
    };
    match super::parse_enrollment(line) {
        Ok(e) => Some(tagged(
            "enrollment",
            serde_json::to_value(e).unwrap_or(Value::Null),
        )),
        Err(_) => Some(json!({ "line": number, "error": not_access.to_string() })),
    }
}

/// Reads lines from `input` (invalid UTF-8 is replaced, never fatal) and writes JSON lines.
pub fn convert(mut input: impl BufRead, mut output: impl Write) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut number = 0;
    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        number += 1;
        let line = String::from_utf8_lossy(&buf);
        if let Some(value) = line_to_json(number, &line) {
            writeln!(output, "{value}")?;
        }
    }
    output.flush()
}
