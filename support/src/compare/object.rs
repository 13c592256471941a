//! YAML and JSON objects: every field the document shows must be there with its value.
//!
//! - Documents are paired by `kind`, `metadata.namespace` and `metadata.name` (a seen `List`'s
//!   items count as documents; a single documented object against a single seen one is paired
//!   whatever their names).
//! - Fields the document does not show are ignored (a subset match).
//! - A list of objects that all carry `type` (`status.conditions`) is matched by `type`; one
//!   whose objects all carry `name` (containers, ports, listeners) by `name`; each documented
//!   element must be found. Any other list is a value: same length, element by element.
//! - Scalars are compared as typed (`1` is not `"1"`).
//! - Ignored even when shown, because the API server writes them per object and per change:
//!   `metadata.{creationTimestamp, resourceVersion, uid, generation, managedFields, selfLink}`,
//!   the `kubectl.kubernetes.io/last-applied-configuration` annotation, and any
//!   `lastTransitionTime`, `lastUpdateTime`, `lastProbeTime`, `lastHeartbeatTime`,
//!   `observedGeneration`.

use serde_json::Value;

use super::{Comparison, Difference, Side};

const VOLATILE_METADATA: &[&str] = &[
    "creationTimestamp",
    "resourceVersion",
    "uid",
    "generation",
    "managedFields",
    "selfLink",
];
const VOLATILE_ANYWHERE: &[&str] = &[
    "lastTransitionTime",
    "lastUpdateTime",
    "lastProbeTime",
    "lastHeartbeatTime",
    "observedGeneration",
];
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Reads every document of `text` (JSON, or YAML with `---` separators); `List` items are
/// flattened.
pub fn documents(text: &str) -> Result<Vec<Value>, String> {
    let trimmed = text.trim_start();
    let docs: Vec<Value> = if trimmed.starts_with('{') || trimmed.starts_with('[') {
        match serde_json::from_str::<Value>(trimmed) {
            Ok(Value::Array(items)) => items,
            Ok(v) => vec![v],
            Err(e) => return Err(format!("not JSON: {e}")),
        }
    } else {
        use serde::Deserialize;
        let mut docs = Vec::new();
        for doc in serde_norway::Deserializer::from_str(text) {
            match Value::deserialize(doc) {
                Ok(Value::Null) => {}
                Ok(v) => docs.push(v),
                Err(e) => return Err(format!("not YAML: {e}")),
            }
        }
        docs
    };
    let mut out = Vec::new();
    for doc in docs {
        match doc {
            Value::Object(mut map)
                if map
                    .get("kind")
                    .and_then(Value::as_str)
                    .is_some_and(|k| k.ends_with("List"))
                    && map.get("items").is_some_and(Value::is_array) =>
            {
                if let Some(Value::Array(items)) = map.remove("items") {
                    out.extend(items);
                }
            }
            other => out.push(other),
        }
    }
    Ok(out)
}

fn identity(v: &Value) -> (String, String, String) {
    let s = |p: &str| {
        v.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    (s("/kind"), s("/metadata/namespace"), s("/metadata/name"))
}

/// Compares the documented objects with the seen ones.
pub fn compare(expected: &str, seen: &str) -> Comparison {
    let e = match documents(expected) {
        Ok(d) if !d.is_empty() => d,
        Ok(_) => return Comparison::unreadable(Side::Expected, "no object documented"),
        Err(reason) => return Comparison::unreadable(Side::Expected, reason),
    };
    let s = match documents(seen) {
        Ok(d) => d,
        Err(reason) => return Comparison::unreadable(Side::Seen, reason),
    };
    let mut out = Vec::new();
    if e.len() == 1 && s.len() == 1 {
        subset("", &e[0], &s[0], &mut out);
        return Comparison::from_differences(out);
    }
    let index: std::collections::HashMap<_, usize> = s
        .iter()
        .enumerate()
        .map(|(i, v)| (identity(v), i))
        .rev()
        .collect();
    for doc in &e {
        let id = identity(doc);
        match index.get(&id) {
            Some(&i) => subset(&format!("{}/{}", id.0, id.2), doc, &s[i], &mut out),
            None => out.push(Difference::new(
                "object missing",
                format!("{} {}/{}", id.0, id.1, id.2),
                "",
            )),
        }
    }
    Comparison::from_differences(out)
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn short(v: &Value) -> String {
    let text = v.to_string();
    if text.len() > 200 {
        let cut = (0..=200)
            .rev()
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(0);
        format!("{}…", &text[..cut])
    } else {
        text
    }
}

fn ignored(path: &str, key: &str) -> bool {
    VOLATILE_ANYWHERE.contains(&key)
        || (path.ends_with("metadata") && VOLATILE_METADATA.contains(&key))
        || (path.ends_with("annotations") && key == LAST_APPLIED)
}

/// Every field of `expected` is in `seen` with an equal value (recursively).
fn subset(path: &str, expected: &Value, seen: &Value, out: &mut Vec<Difference>) {
    match (expected, seen) {
        (Value::Object(e), Value::Object(s)) => {
            for (key, ev) in e {
                if ignored(path, key) {
                    continue;
                }
                let p = join(path, key);
                match s.get(key) {
                    Some(sv) => subset(&p, ev, sv, out),
                    None => out.push(Difference::new(p, short(ev), "")),
                }
            }
        }
        (Value::Array(e), Value::Array(s)) => {
            if let Some(key) = ["type", "name"]
                .into_iter()
                .find(|k| keyed(e, k) && keyed(s, k))
            {
                let index: std::collections::HashMap<&str, &Value> = s
                    .iter()
                    .rev()
                    .filter_map(|v| Some((v.get(key)?.as_str()?, v)))
                    .collect();
                for ev in e {
                    let id = ev.get(key).and_then(Value::as_str).unwrap_or_default();
                    let p = format!("{path}[{key}={id}]");
                    match index.get(id) {
                        Some(sv) => subset(&p, ev, sv, out),
                        None => out.push(Difference::new(p, short(ev), "")),
                    }
                }
            } else if e.len() != s.len() {
                out.push(Difference::new(
                    format!("{path} (length)"),
                    short(expected),
                    short(seen),
                ));
            } else {
                for (i, (ev, sv)) in e.iter().zip(s).enumerate() {
                    subset(&format!("{path}[{i}]"), ev, sv, out);
                }
            }
        }
        (e, s) if e == s => {}
        (e, s) => out.push(Difference::new(path, short(e), short(s))),
    }
}

/// Every element is an object with a string `key`.
fn keyed(items: &[Value], key: &str) -> bool {
    !items.is_empty()
        && items
            .iter()
            .all(|v| v.get(key).is_some_and(Value::is_string))
}
