//! An Istio source built by `fixtures/sim/build.sh`: one directory per istio.io/istio module
//! version under `target/sim/istio-sources/`, labelled by its `SOURCE` file (module version, the
//! VERSION file's label, commit, commit date), so builds of the same label are told apart.

use std::path::{Path, PathBuf};

/// Where build.sh puts the sources, under the workspace.
pub const SOURCES_DIR: &str = "target/sim/istio-sources";
/// The label file build.sh writes last (a directory without it is an unfinished build).
pub const LABEL_FILE: &str = "SOURCE";

/// What a built source says it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLabel {
    /// `v0.0.0-20260827124520-eed52ebb66ad`
    pub module_version: String,
    /// `1.31-dev`: the VERSION file with `-dev`, as Istio's Makefile labels a build of master.
    pub version_label: String,
    /// The commit (the pseudo-version's 12 hex digits).
    pub commit: String,
    /// The commit's time, RFC 3339 UTC (from the pseudo-version).
    pub commit_date: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SourceLabelError {
    #[error(
        "{path}: {source}; build it with `ISTIO_MODULE_VERSION=<module version> bash fixtures/sim/build.sh istio`"
    )]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path}: no {key}= line (written by an older fixtures/sim/build.sh?); rebuild it with \
         `ISTIO_MODULE_VERSION=<module version> bash fixtures/sim/build.sh istio`"
    )]
    Missing { path: PathBuf, key: &'static str },
}

impl SourceLabel {
    /// The label of the source in `release_root`, or `None` when it has no label file (a release
    /// not built by build.sh).
    pub fn find(release_root: &Path) -> Result<Option<Self>, SourceLabelError> {
        let path = release_root.join(LABEL_FILE);
        if !path.is_file() {
            return Ok(None);
        }
        Self::read(&path).map(Some)
    }

    /// Reads a label file: `KEY=value` lines; the first 4 KiB is plenty (a bigger file is not ours).
    pub fn read(path: &Path) -> Result<Self, SourceLabelError> {
        use std::io::Read;
        let mut text = String::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(4096).read_to_string(&mut text))
            .map_err(|source| SourceLabelError::Read {
                path: path.into(),
                source,
            })?;
        Self::parse(&text).map_err(|key| SourceLabelError::Missing {
            path: path.into(),
            key,
        })
    }

    /// Parses the label's text; the error is the first key missing.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let get = |key: &'static str| {
            text.lines()
                .filter_map(|l| l.split_once('='))
                .find(|(k, _)| k.trim() == key)
                .map(|(_, v)| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .ok_or(key)
        };
        Ok(SourceLabel {
            module_version: get("ISTIO_MODULE_VERSION")?,
            version_label: get("ISTIO_VERSION_LABEL")?,
            commit: get("ISTIO_COMMIT")?,
            commit_date: get("ISTIO_COMMIT_DATE")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_names_module_commit_and_date_and_a_missing_key_is_named() {
        let text = "ISTIO_MODULE_VERSION=v0.0.0-20260423205519-b01690e6db7d\nISTIO_VERSION_LABEL=1.31-dev\n\
                    ISTIO_COMMIT=b01690e6db7d\nISTIO_COMMIT_DATE=2026-04-23T20:55:19Z\n";
        let label = SourceLabel::parse(text).unwrap();
        assert_eq!(label.commit, "b01690e6db7d");
        assert_eq!(label.commit_date, "2026-04-23T20:55:19Z");
        assert_eq!(label.version_label, "1.31-dev");
        let without_date = text.replace(
            "ISTIO_COMMIT_DATE=2026-04-23T20:55:19Z",
            "ISTIO_COMMIT_DATE=",
        );
        assert_eq!(SourceLabel::parse(&without_date), Err("ISTIO_COMMIT_DATE"));
    }
}
