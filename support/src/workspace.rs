//! Where the suite's own files are: the workspace root and the reference copy of the tutorial.
//! Its own module so that settings and the tutorial reader both use it without using each other.

use std::path::{Path, PathBuf};

/// The suite's reference copy of the tutorial (verbatim; see fixtures/tutorial/SOURCE.md),
/// relative to the workspace root.
pub const REFERENCE_TUTORIAL: &str = "fixtures/tutorial/ambient-tutorial.md";

/// The workspace root (the directory holding the top-level Cargo.toml).
pub fn root() -> PathBuf {
    // support/ lives one level below the workspace root.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("support crate sits inside the workspace")
        .to_path_buf()
}
