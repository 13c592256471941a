//! The evidence check: before the nightly uploads `AMBIENT_ARTIFACTS_DIR`, every file under it
//! is read for what a credential looks like in the forms the suite's tools write them: PEM
//! private keys, kubeconfig credentials (`client-key-data`, `client-certificate-data`, `token:`,
//! an auth provider's `access-token:`), a Secret's `tls.key` (YAML or JSON), a JSON `"token":`,
//! an HTTP `Bearer` credential. Gzip files are read decompressed (gzip inside gzip too). What
//! is found is named by file, line and form, never quoted.
//!
//! Files are read a line at a time, a line in pieces of at most [`PIECE`] bytes with an overlap
//! longer than any form, so memory is bounded whatever the file.

use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

use regex::bytes::Regex;

/// Longest piece of a line looked at at once.
pub const PIECE: usize = 1 << 20;
/// Bytes of a piece carried into the next one of the same line: longer than any form's match.
const OVERLAP: usize = 256;
/// Gzip inside gzip is read this deep; deeper is a finding (nothing the suite writes is).
const MAX_GZIP_DEPTH: usize = 3;

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("{path}: {source} (the check cannot vouch for what it cannot read: fix or remove it)")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// One credential-looking thing: where, and which form (never the text itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub path: PathBuf,
    /// 1-based, in the file as read (decompressed for gzip).
    pub line: usize,
    pub form: &'static str,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.path.display(), self.line, self.form)
    }
}

struct Forms {
    /// Anywhere in a line.
    anywhere: Vec<(&'static str, Regex)>,
    /// At the start of a line (after indentation or a YAML list dash).
    line_start: Vec<(&'static str, Regex)>,
}

fn forms() -> &'static Forms {
    static FORMS: std::sync::OnceLock<Forms> = std::sync::OnceLock::new();
    FORMS.get_or_init(|| {
        let re = |s: &str| Regex::new(s).expect("a valid pattern");
        Forms {
            anywhere: vec![
                ("a PEM private key", re(r"PRIVATE KEY")),
                ("kubeconfig client-key-data", re(r"client-key-data")),
                (
                    "kubeconfig client-certificate-data",
                    re(r"client-certificate-data"),
                ),
                ("a JSON \"token\" field", re(r#""token"\s*:"#)),
                ("a Secret's tls.key", re(r#""?tls\.key"?\s*:"#)),
                (
                    "an auth provider's access-token",
                    re(r#""?access[-_]token"?\s*:"#),
                ),
                (
                    "an HTTP Bearer credential",
                    re(r"Bearer\s+[A-Za-z0-9._~+/-]{16,}"),
                ),
            ],
            line_start: vec![("a YAML token: field", re(r#"\A[\s-]*token\s*:"#))],
        }
    })
}

/// Every file under `dir` (symbolic links are not followed: a link is a finding, as the upload
/// would follow it), read for credentials.
pub fn scan_dir(dir: &Path) -> Result<Vec<Finding>, ScanError> {
    let mut findings = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(path) = pending.pop() {
        let io = |source| ScanError::Read {
            path: path.display().to_string(),
            source,
        };
        let meta = std::fs::symlink_metadata(&path).map_err(io)?;
        if meta.file_type().is_symlink() {
            findings.push(Finding {
                path: path.clone(),
                line: 0,
                form: "a symbolic link (the upload would follow it)",
            });
        } else if meta.is_dir() {
            let mut entries = Vec::new();
            for entry in std::fs::read_dir(&path).map_err(io)? {
                entries.push(entry.map_err(io)?.path());
            }
            entries.sort();
            pending.extend(entries.into_iter().rev());
        } else if meta.is_file() {
            let file = std::fs::File::open(&path).map_err(io)?;
            scan(&path, Box::new(file), 0, &mut findings).map_err(io)?;
        }
    }
    Ok(findings)
}

/// Reads `input` (the content of `path`), decompressing gzip, and adds what it finds.
pub fn scan(
    path: &Path,
    input: Box<dyn Read + '_>,
    depth: usize,
    findings: &mut Vec<Finding>,
) -> std::io::Result<()> {
    let mut reader = std::io::BufReader::new(input);
    if reader.fill_buf()?.starts_with(&[0x1f, 0x8b]) {
        if depth >= MAX_GZIP_DEPTH {
            findings.push(Finding {
                path: path.to_path_buf(),
                line: 0,
                form: "gzip nested deeper than the check reads",
            });
            return Ok(());
        }
        let decoder = flate2::bufread::MultiGzDecoder::new(reader);
        return scan(path, Box::new(decoder), depth + 1, findings);
    }
    let forms = forms();
    let mut piece: Vec<u8> = Vec::with_capacity(8 << 10);
    let mut line = 1usize;
    let mut at_line_start = true;
    // Findings of this line start here (a form is named once per line).
    let mut this_line = findings.len();
    loop {
        // Keep the overlap of the previous piece of the same line.
        if at_line_start {
            piece.clear();
        } else {
            let keep = piece.len().min(OVERLAP);
            piece.drain(..piece.len() - keep);
        }
        let start = piece.len();
        let read = (&mut reader)
            .take(PIECE as u64)
            .read_until(b'\n', &mut piece)?;
        if read == 0 {
            return Ok(());
        }
        let mut found = |form: &'static str| {
            if !findings[this_line..].iter().any(|f| f.form == form) {
                findings.push(Finding {
                    path: path.to_path_buf(),
                    line,
                    form,
                });
            }
        };
        for (form, re) in &forms.anywhere {
            if re.is_match(&piece) {
                found(form);
            }
        }
        if at_line_start {
            for (form, re) in &forms.line_start {
                if re.is_match(&piece[start..]) {
                    found(form);
                }
            }
        }
        at_line_start = piece.last() == Some(&b'\n');
        if at_line_start {
            line += 1;
            this_line = findings.len();
        }
    }
}
