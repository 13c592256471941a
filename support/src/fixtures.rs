//! Files under `fixtures/`: located from the workspace root, never from the current directory.

use std::path::PathBuf;

use crate::settings::workspace_root;

/// The path of a fixture, e.g. `fixture("kind/ambient.yaml")`.
pub fn path(relative: &str) -> PathBuf {
    workspace_root().join("fixtures").join(relative)
}

/// Reads a fixture as text, with an error that names the file.
pub fn read(relative: &str) -> std::io::Result<String> {
    let p = path(relative);
    std::fs::read_to_string(&p)
        .map_err(|e| std::io::Error::new(e.kind(), format!("fixture {}: {e}", p.display())))
}

/// A real log line kept as test data, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedLine {
    pub file: String,
    pub line_number: usize,
    pub source: String,
    pub text: String,
}

/// Reads `fixtures/recorded/<name>`: lines starting with `# source:` name the source of the lines
/// below them; other `#` lines and blank lines are comments.
pub fn recorded_lines(name: &str) -> std::io::Result<Vec<RecordedLine>> {
    let text = read(&format!("recorded/{name}"))?;
    let mut source = String::new();
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if let Some(s) = line.strip_prefix("# source:") {
            source = s.trim().to_string();
        } else if !line.starts_with('#') && !line.trim().is_empty() {
            out.push(RecordedLine {
                file: name.to_string(),
                line_number: i + 1,
                source: source.clone(),
                text: line.to_string(),
            });
        }
    }
    Ok(out)
}
