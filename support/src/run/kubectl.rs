//! The kubectl a documented command reaches on kind (and k3s, existing): the release matching
//! the cluster's server version, downloaded once and verified against its published checksum.
//!
//! Kubernetes publishes `https://dl.k8s.io/release/<v>/bin/linux/<arch>/kubectl` with
//! `kubectl.sha256` beside it, a file holding only the hex digest (kubernetes.io "Install and Set
//! Up kubectl on Linux": `echo "$(cat kubectl.sha256)  kubectl" | sha256sum --check`). On sim the
//! kubectl is built from the same `k8s.io/kubernetes` module as the apiserver instead (see
//! README, "Running the document (foundations)").

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::StreamExt;
use sha2::{Digest, Sha256};

/// Where kubectl releases are published (tests point this at a local server).
pub const RELEASES: &str = "https://dl.k8s.io/release";

#[derive(Debug, thiserror::Error)]
pub enum KubectlError {
    #[error(
        "{version:?} is not a Kubernetes release version (vMAJOR.MINOR.PATCH); the cluster's server version should give one"
    )]
    Version { version: String },
    #[error("kubectl releases exist for linux amd64 and arm64, not for {arch}")]
    Arch { arch: String },
    #[error("downloading {url}: {reason}; check the network or pin kubectl by hand")]
    Network { url: String, reason: String },
    #[error("{url} answered HTTP {status}")]
    Http { url: String, status: u16 },
    #[error("{url}: not a checksum file (expected 64 hex digits); refusing an unverified kubectl")]
    ChecksumFile { url: String },
    #[error(
        "checksum mismatch for {url}: published {expected}, downloaded {actual}; nothing was cached"
    )]
    Checksum {
        url: String,
        expected: String,
        actual: String,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The release to pin for a server's `gitVersion`: `v1.33.1+k3s1` → `v1.33.1`.
pub fn release_for_server(git_version: &str) -> Result<String, KubectlError> {
    let bad = || KubectlError::Version {
        version: git_version.to_string(),
    };
    let core = git_version.split('+').next().unwrap_or_default();
    let digits = core.strip_prefix('v').ok_or_else(bad)?;
    let (numbers, pre) = match digits.split_once('-') {
        Some((n, p)) => (n, Some(p)),
        None => (digits, None),
    };
    let parts: Vec<&str> = numbers.split('.').collect();
    let numeric = |s: &&str| !s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit());
    if parts.len() != 3 || !parts.iter().all(numeric) {
        return Err(bad());
    }
    if let Some(p) = pre
        && (p.is_empty()
            || !p
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-'))
    {
        return Err(bad());
    }
    Ok(core.to_string())
}

/// kubectl's name for this machine's architecture.
pub fn arch(machine: &str) -> Result<&'static str, KubectlError> {
    match machine {
        "x86_64" | "amd64" => Ok("amd64"),
        "aarch64" | "arm64" => Ok("arm64"),
        other => Err(KubectlError::Arch {
            arch: other.to_string(),
        }),
    }
}

/// The binary's URL; its checksum is at `<url>.sha256`.
pub fn release_url(base: &str, version: &str, arch: &str) -> String {
    format!("{base}/{version}/bin/linux/{arch}/kubectl")
}

/// The digest a `kubectl.sha256` file publishes.
pub fn published_digest(url: &str, text: &str) -> Result<String, KubectlError> {
    let first = text
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if first.len() == 64 && first.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(first)
    } else {
        Err(KubectlError::ChecksumFile {
            url: url.to_string(),
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KubectlError + '_ {
    move |source| KubectlError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// `<cache>/kubectl-<version>-<arch>/kubectl`, downloaded and verified if not there yet. The
/// binary is written to a temporary file, verified, made executable and only then renamed into
/// place: a partial or corrupt download never leaves a cache entry.
pub async fn acquire(
    base: &str,
    cache: &Path,
    version: &str,
    arch: &str,
) -> Result<PathBuf, KubectlError> {
    let version = release_for_server(version)?;
    let dir = cache.join(format!("kubectl-{version}-{arch}"));
    let binary = dir.join("kubectl");
    if binary.is_file() {
        return Ok(binary);
    }
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let url = release_url(base, &version, arch);
    // A kubectl binary is about 60 MB: ten minutes bound the slowest download worth waiting for.
    let client = crate::tls::http_client(Duration::from_secs(20), Duration::from_secs(600))
        .map_err(|e| KubectlError::Network {
            url: url.clone(),
            reason: crate::errors::chain(&e),
        })?;
    let get = |url: String| {
        let client = client.clone();
        async move {
            let net = |e: reqwest::Error| KubectlError::Network {
                url: url.clone(),
                reason: crate::errors::chain(&e),
            };
            let resp = client.get(&url).send().await.map_err(net)?;
            if !resp.status().is_success() {
                return Err(KubectlError::Http {
                    url: url.clone(),
                    status: resp.status().as_u16(),
                });
            }
            Ok(resp)
        }
    };
    let sha_url = format!("{url}.sha256");
    let sha_text = get(sha_url.clone())
        .await?
        .text()
        .await
        .map_err(|e| KubectlError::Network {
            url: sha_url.clone(),
            reason: crate::errors::chain(&e),
        })?;
    let expected = published_digest(&sha_url, &sha_text)?;
    let mut tmp = tempfile::NamedTempFile::new_in(&dir).map_err(io(&dir))?;
    let mut hasher = Sha256::new();
    let mut body = get(url.clone()).await?.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| KubectlError::Network {
            url: url.clone(),
            reason: crate::errors::chain(&e),
        })?;
        hasher.update(&chunk);
        tmp.write_all(&chunk).map_err(io(tmp.path()))?;
    }
    let actual = hex(&hasher.finalize());
    if actual != expected {
        return Err(KubectlError::Checksum {
            url,
            expected,
            actual,
        });
    }
    {
        use std::os::unix::fs::PermissionsExt;
        let file = tmp.as_file();
        file.sync_all().map_err(io(&binary))?;
        file.set_permissions(std::fs::Permissions::from_mode(0o755))
            .map_err(io(&binary))?;
    }
    tmp.persist(&binary).map_err(|e| KubectlError::Io {
        path: binary.clone(),
        source: e.error,
    })?;
    Ok(binary)
}
