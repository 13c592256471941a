//! The tutorial document: an input of the suite. Its fenced blocks and prose are read into
//! documented expectations (`expectations`), each anchored to its section and lines; a claim's
//! documented expectation comes from there, never from a constant, so editing the document moves
//! the expectation with it.

pub mod expectations;
pub mod listing;
pub mod markdown;

use std::path::Path;

use expectations::Expectations;

/// The suite's reference copy of the tutorial (verbatim; see fixtures/tutorial/SOURCE.md).
pub const REFERENCE: &str = "fixtures/tutorial/ambient-tutorial.md";

/// A tutorial read for a run.
#[derive(Debug, Clone)]
pub struct Tutorial {
    pub path: std::path::PathBuf,
    pub text: String,
    pub expectations: Expectations,
}

#[derive(Debug, thiserror::Error)]
pub enum TutorialError {
    #[error("reading the tutorial {path} (AMBIENT_TUTORIAL)")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the tutorial {path} holds no documented expectation the suite recognizes: is it the \
         ambient tutorial? (AMBIENT_TUTORIAL)"
    )]
    Empty { path: String },
}

impl Tutorial {
    pub fn load(path: &Path) -> Result<Self, TutorialError> {
        let text = std::fs::read_to_string(path).map_err(|source| TutorialError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let expectations = expectations::extract(&text);
        if expectations.documented.is_empty() {
            return Err(TutorialError::Empty {
                path: path.display().to_string(),
            });
        }
        Ok(Tutorial {
            path: path.to_path_buf(),
            text,
            expectations,
        })
    }

    /// The suite's reference copy.
    pub fn reference() -> Result<Self, TutorialError> {
        Self::load(&crate::settings::workspace_root().join(REFERENCE))
    }
}
