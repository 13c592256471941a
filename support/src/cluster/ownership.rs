//! Which kind clusters the suite created, so that it deletes those and nothing else.
//!
//! At creation the suite writes a marker `<state>/kind-<name>.owner` naming the cluster's
//! control-plane container id (`docker inspect`); before deleting, the cluster must have a marker
//! and the same container. A cluster that existed before the suite ran has no marker; one deleted
//! and re-created by someone else has another container id. Both are refused, saying why.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
#[error(
    "refusing to delete kind cluster {name:?}: {reason}. Delete it yourself if you mean to: \
     kind delete cluster --name {name}"
)]
pub struct NotOurs {
    pub name: String,
    pub reason: String,
}

const HEADER: &str = "# created by the ambient tutorial suite; deleted only if this matches";

pub fn marker_path(state_dir: &Path, name: &str) -> PathBuf {
    state_dir.join(format!("kind-{name}.owner"))
}

/// Records that the suite created cluster `name`, whose control-plane container is `container`.
pub fn mark(state_dir: &Path, name: &str, container: &str) -> Result<(), super::ClusterError> {
    let text = format!(
        "{HEADER}\ncluster={name}\ncontrol-plane-container={container}\ncreated={}\n",
        k8s_openapi::jiff::Timestamp::now()
    );
    super::write_private(&marker_path(state_dir, name), &text)
}

/// `Ok` when cluster `name`, whose control-plane container is now `container`, is the one the
/// suite created.
pub fn check(state_dir: &Path, name: &str, container: &str) -> Result<(), NotOurs> {
    let path = marker_path(state_dir, name);
    let refuse = |reason: String| NotOurs {
        name: name.to_string(),
        reason,
    };
    let text = std::fs::read_to_string(&path).map_err(|_| {
        refuse(format!(
            "the suite did not create it (no ownership marker at {})",
            path.display()
        ))
    })?;
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .map(str::trim)
    };
    if field("cluster") != Some(name) {
        return Err(refuse(format!("{} is not a marker for it", path.display())));
    }
    match field("control-plane-container") {
        Some(recorded) if !recorded.is_empty() && recorded == container.trim() => Ok(()),
        Some(recorded) => Err(refuse(format!(
            "it is not the cluster the suite created: its control-plane container is {}, the \
             suite created {} ({})",
            short(container),
            short(recorded),
            path.display()
        ))),
        None => Err(refuse(format!("{} names no container", path.display()))),
    }
}

fn short(id: &str) -> &str {
    let id = id.trim();
    &id[..id.len().min(12)]
}

/// Forgets the marker of a deleted (or vanished) cluster.
pub fn forget(state_dir: &Path, name: &str) {
    let _ = std::fs::remove_file(marker_path(state_dir, name));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_marked_container_is_ours() {
        let dir = tempfile::tempdir().unwrap();
        let err = check(dir.path(), "ambient", "abc").unwrap_err().to_string();
        assert!(err.contains("the suite did not create it"), "{err}");
        assert!(err.contains("kind delete cluster --name ambient"), "{err}");
        mark(dir.path(), "ambient", "abc123").unwrap();
        assert!(check(dir.path(), "ambient", "abc123\n").is_ok());
        let err = check(dir.path(), "ambient", "fff999")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not the cluster the suite created"), "{err}");
        forget(dir.path(), "ambient");
        assert!(check(dir.path(), "ambient", "abc123").is_err());
    }
}
