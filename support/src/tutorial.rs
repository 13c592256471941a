//! The tutorial document: an input of the suite. Its code blocks are read into steps (`script`:
//! commands, outputs, outcome comments, whatever the page's format), and steps and prose into
//! documented expectations (`expectations`), each anchored to its section and lines; a claim's
//! documented expectation comes from there, never from a constant, so editing the document moves
//! the expectation with it.

pub mod expectations;
pub mod listing;
pub mod markdown;
pub mod script;

use std::path::Path;

use expectations::Expectations;
use script::Script;

/// The suite's reference copy of the tutorial (verbatim; see fixtures/tutorial/SOURCE.md).
pub use crate::workspace::REFERENCE_TUTORIAL as REFERENCE;

/// A tutorial read for a run.
#[derive(Debug, Clone)]
pub struct Tutorial {
    pub path: std::path::PathBuf,
    pub text: String,
    /// Its steps: every command and output it shows.
    pub script: Script,
    /// What the suite's claims read from it (a page may document none of them: each claim it
    /// does not document is then not applicable, with why).
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
    #[error("the tutorial {path} has {why} (AMBIENT_TUTORIAL)")]
    NoReadableBlock {
        path: String,
        why: script::NoReadableBlock,
    },
}

impl Tutorial {
    /// Reads a tutorial page of any shape the reader knows; a page without one readable block
    /// is an error that says so.
    pub fn load(path: &Path) -> Result<Self, TutorialError> {
        let text = std::fs::read_to_string(path).map_err(|source| TutorialError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::read(path, text)
    }

    /// Reads a tutorial's text (`path` names it in errors).
    pub fn read(path: &Path, text: String) -> Result<Self, TutorialError> {
        let script = script::read(&text);
        script
            .require_steps()
            .map_err(|why| TutorialError::NoReadableBlock {
                path: path.display().to_string(),
                why,
            })?;
        let expectations = expectations::from_script(&text, &script);
        Ok(Tutorial {
            path: path.to_path_buf(),
            text,
            script,
            expectations,
        })
    }

    /// The suite's reference copy.
    pub fn reference() -> Result<Self, TutorialError> {
        Self::load(&crate::workspace::root().join(REFERENCE))
    }
}
