//! istioctl and the release's `samples/` directory, from each source the settings allow.
//!
//! URL patterns (each checked in a real source):
//! - the tutorial's build: `https://storage.googleapis.com/istio-build/dev/<id>/istio-<id>-linux-amd64.tar.gz`
//!   (the tutorial's "Installation" step 1);
//! - dev builds: `<dev>/latest` holds the newest build id, archives as above (istio/istio.io
//!   docs `curl https://storage.googleapis.com/istio-build/dev/latest`; istio/tools perf scripts);
//! - releases: `https://github.com/istio/istio/releases/download/<v>/istio-<v>-linux-<arch>.tar.gz`
//!   with `<archive>.sha256` beside it, `<sha256>  <file name>` (istio/istio#8885 added the files,
//!   #16922 reads them as `curl -sL "${URL}.sha256" | cut -d ' ' -f1`).
//!
//! Archives are streamed to a temporary file, verified, unpacked with the tar and flate2 crates
//! into a temporary directory, and only then renamed into the cache: a partial or corrupt download
//! never leaves a cache entry.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::StreamExt;
use sha2::{Digest, Sha256};

use crate::eras::{IstioVersion, TUTORIAL_BUILD, VersionKind};
use crate::process::{ProcessError, Tools};
use crate::progress;
use crate::settings::IstioSource;

/// Where archives are downloaded from (tests point these at a local server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    pub dev: String,
    pub release: String,
}

impl Default for Endpoints {
    fn default() -> Self {
        Endpoints {
            dev: "https://storage.googleapis.com/istio-build/dev".to_string(),
            release: "https://github.com/istio/istio/releases/download".to_string(),
        }
    }
}

/// An unpacked Istio release (or a local istioctl).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IstioRelease {
    /// The version or build id, as Istio names it.
    pub version: String,
    pub root: PathBuf,
    pub istioctl: PathBuf,
    /// The release's `samples/` (absent when only an istioctl binary was given).
    pub samples: Option<PathBuf>,
}

impl IstioRelease {
    /// A file under `samples/`, e.g. `bookinfo/platform/kube/bookinfo.yaml`.
    pub fn sample(&self, relative: &str) -> Result<PathBuf, AcquireError> {
        let dir = self.samples.as_ref().ok_or_else(|| AcquireError::Layout {
            path: self.root.display().to_string(),
            reason: "no samples/ directory: point AMBIENT_ISTIO at an unpacked release, not a lone istioctl".into(),
        })?;
        let p = dir.join(relative);
        if p.exists() {
            Ok(p)
        } else {
            Err(AcquireError::Layout {
                path: p.display().to_string(),
                reason: format!("Istio {} has no samples/{relative}", self.version),
            })
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AcquireError {
    #[error("downloading Istio {version}: {url} answered HTTP {status}{}", if *status == 404 { " (no such release or build: check AMBIENT_ISTIO)" } else { "" })]
    Http {
        version: String,
        url: String,
        status: u16,
    },
    #[error("downloading Istio {version} from {url}: {reason}")]
    Network {
        version: String,
        url: String,
        reason: String,
    },
    #[error(
        "checksum mismatch for {url}: published {expected}, downloaded {actual}; nothing was cached"
    )]
    Checksum {
        url: String,
        expected: String,
        actual: String,
    },
    #[error(
        "Istio {version}: no checksum at {url}, and releases always publish one; refusing an unverified archive"
    )]
    ChecksumMissing { version: String, url: String },
    #[error("{url}: not a usable checksum file: {reason}")]
    ChecksumFile { url: String, reason: String },
    #[error("{url}: not a readable Istio archive ({reason}); nothing was cached")]
    Archive { url: String, reason: String },
    #[error("{path}: {reason}")]
    Layout { path: String, reason: String },
    #[error("Istio publishes linux archives for amd64 and arm64, not for {arch}")]
    UnsupportedArch { arch: String },
    #[error(
        "the tutorial's build {TUTORIAL_BUILD} exists for linux-amd64 only, this machine is {arch}: set AMBIENT_ISTIO to a release such as 1.24.2"
    )]
    TutorialArch { arch: String },
    #[error("{url} should name the newest dev build but says {body:?}")]
    DevIndex { url: String, body: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Process(#[from] ProcessError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> AcquireError + '_ {
    move |source| AcquireError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The Istio archive architecture of this machine.
pub fn istio_arch(machine: &str) -> Result<&'static str, AcquireError> {
    match machine {
        "x86_64" | "amd64" => Ok("amd64"),
        "aarch64" | "arm64" => Ok("arm64"),
        other => Err(AcquireError::UnsupportedArch {
            arch: other.to_string(),
        }),
    }
}

enum ChecksumPolicy {
    /// Releases: a missing `.sha256` is an error.
    Required,
    /// Dev builds: verify when the bucket has one, say so when it has not.
    IfPublished,
}

/// Downloads, verifies, unpacks and caches Istio releases.
#[derive(Debug, Clone)]
pub struct Acquirer {
    pub endpoints: Endpoints,
    pub cache_dir: PathBuf,
    pub machine: String,
    pub tools: Tools,
    pub timeout: Duration,
}

impl Acquirer {
    pub fn new(cache_dir: PathBuf, tools: Tools) -> Self {
        Acquirer {
            endpoints: Endpoints::default(),
            cache_dir,
            machine: std::env::consts::ARCH.to_string(),
            tools,
            timeout: Duration::from_secs(600),
        }
    }

    fn http(&self) -> Result<reqwest::Client, AcquireError> {
        crate::tls::install_crypto_provider();
        reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(20))
            .read_timeout(Duration::from_secs(60))
            .user_agent("ambient-tutorial-suite")
            .build()
            .map_err(|e| AcquireError::Network {
                version: String::new(),
                url: String::new(),
                reason: e.to_string(),
            })
    }

    /// GET `url`; any status but success is [`AcquireError::Http`] naming the URL and version.
    async fn get(
        &self,
        url: &str,
        version: &str,
        timeout: Duration,
    ) -> Result<reqwest::Response, AcquireError> {
        let resp = self
            .http()?
            .get(url)
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| AcquireError::Network {
                version: version.into(),
                url: url.into(),
                reason: crate::errors::chain(&e),
            })?;
        if !resp.status().is_success() {
            return Err(AcquireError::Http {
                version: version.into(),
                url: url.into(),
                status: resp.status().as_u16(),
            });
        }
        Ok(resp)
    }

    /// Resolves `source` to an unpacked release, downloading it only if it is not cached.
    pub async fn acquire(&self, source: &IstioSource) -> Result<IstioRelease, AcquireError> {
        let arch = istio_arch(&self.machine)?;
        match source {
            IstioSource::Local(path) => self.local(path).await,
            IstioSource::Tutorial => {
                if arch != "amd64" {
                    return Err(AcquireError::TutorialArch {
                        arch: arch.to_string(),
                    });
                }
                let url = format!(
                    "{}/{TUTORIAL_BUILD}/istio-{TUTORIAL_BUILD}-linux-amd64.tar.gz",
                    self.endpoints.dev
                );
                self.cached_or_download(TUTORIAL_BUILD, &url, ChecksumPolicy::IfPublished)
                    .await
            }
            IstioSource::DevBuild(v) => self.dev(&v.raw, arch).await,
            IstioSource::LatestDev => {
                let id = self.latest_dev().await?;
                self.dev(&id, arch).await
            }
            IstioSource::Release(v) => {
                let url = format!(
                    "{}/{}/istio-{}-linux-{arch}.tar.gz",
                    self.endpoints.release, v.raw, v.raw
                );
                self.cached_or_download(&v.raw, &url, ChecksumPolicy::Required)
                    .await
            }
        }
    }

    async fn dev(&self, id: &str, arch: &str) -> Result<IstioRelease, AcquireError> {
        let url = format!("{}/{id}/istio-{id}-linux-{arch}.tar.gz", self.endpoints.dev);
        self.cached_or_download(id, &url, ChecksumPolicy::IfPublished)
            .await
    }

    /// The newest dev build id from the dev-build index.
    pub async fn latest_dev(&self) -> Result<String, AcquireError> {
        let url = format!("{}/latest", self.endpoints.dev);
        let body = self.get_text(&url, "latest-dev").await?;
        let id = body.trim().to_string();
        match IstioVersion::parse(&id) {
            Ok(v) if matches!(v.kind, VersionKind::DevBuild { .. }) => Ok(id),
            _ => Err(AcquireError::DevIndex {
                url,
                body: body.chars().take(120).collect(),
            }),
        }
    }

    async fn get_text(&self, url: &str, version: &str) -> Result<String, AcquireError> {
        let net = |e: reqwest::Error| AcquireError::Network {
            version: version.into(),
            url: url.into(),
            reason: e.to_string(),
        };
        let resp = self.get(url, version, Duration::from_secs(60)).await?;
        resp.text().await.map_err(net)
    }

    fn entry(&self, version: &str) -> PathBuf {
        self.cache_dir.join(version)
    }

    async fn cached_or_download(
        &self,
        version: &str,
        url: &str,
        policy: ChecksumPolicy,
    ) -> Result<IstioRelease, AcquireError> {
        let entry = self.entry(version);
        if entry.join(".complete").exists() {
            progress::say(format!(
                "Istio {version}: using the cached copy in {}",
                entry.display()
            ));
            return release_at(version, &entry);
        }
        std::fs::create_dir_all(&self.cache_dir).map_err(io(&self.cache_dir))?;
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".partial-{version}-"))
            .tempdir_in(&self.cache_dir)
            .map_err(io(&self.cache_dir))?;
        let archive = tmp.path().join("istio.tar.gz");
        let digest = self.download(version, url, &archive).await?;
        let checksum_url = format!("{url}.sha256");
        match self.published_checksum(version, &checksum_url).await? {
            Some(expected) if expected != digest => {
                return Err(AcquireError::Checksum {
                    url: url.into(),
                    expected,
                    actual: digest,
                });
            }
            Some(_) => progress::say(format!(
                "Istio {version}: sha256 {digest} matches {checksum_url}"
            )),
            None => match policy {
                ChecksumPolicy::Required => {
                    return Err(AcquireError::ChecksumMissing {
                        version: version.into(),
                        url: checksum_url,
                    });
                }
                ChecksumPolicy::IfPublished => {
                    progress::say(format!(
                        "Istio {version}: no checksum published for this build; sha256 is {digest}"
                    ));
                }
            },
        }
        let unpacked = tmp.path().join("unpacked");
        unpack(&archive, &unpacked).map_err(|reason| AcquireError::Archive {
            url: url.into(),
            reason,
        })?;
        let top = single_top_dir(&unpacked).map_err(|reason| AcquireError::Archive {
            url: url.into(),
            reason,
        })?;
        // Validate before publishing the cache entry.
        release_at(version, &top)?;
        std::fs::write(top.join(".complete"), format!("{digest}  {url}\n")).map_err(io(&top))?;
        if entry.exists() {
            std::fs::remove_dir_all(&entry).map_err(io(&entry))?; // a stale incomplete entry
        }
        std::fs::rename(&top, &entry).map_err(io(&entry))?;
        release_at(version, &entry)
    }

    async fn published_checksum(
        &self,
        version: &str,
        url: &str,
    ) -> Result<Option<String>, AcquireError> {
        let text = match self.get_text(url, version).await {
            Ok(t) => t,
            Err(AcquireError::Http { status: 404, .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let first = text
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if first.len() == 64 && first.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(Some(first))
        } else {
            Err(AcquireError::ChecksumFile {
                url: url.into(),
                reason: "expected 64 hex digits first".into(),
            })
        }
    }

    /// Streams `url` into `to`, returning the sha256 of what was received.
    async fn download(&self, version: &str, url: &str, to: &Path) -> Result<String, AcquireError> {
        let net = |e: reqwest::Error| AcquireError::Network {
            version: version.into(),
            url: url.into(),
            reason: crate::errors::chain(&e),
        };
        progress::say(format!("downloading Istio {version} from {url}"));
        let resp = self.get(url, version, self.timeout).await?;
        let total = resp.content_length();
        let mut file = std::fs::File::create(to).map_err(io(to))?;
        let mut hasher = Sha256::new();
        let mut received: u64 = 0;
        let mut shown = progress::download(&format!("Istio {version}"), total);
        let mut body = resp.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(net)?;
            hasher.update(&chunk);
            file.write_all(&chunk).map_err(io(to))?;
            received += chunk.len() as u64;
            shown.advance(chunk.len() as u64);
        }
        if let Some(t) = total
            && received != t
        {
            return Err(AcquireError::Network {
                version: version.into(),
                url: url.into(),
                reason: format!("connection closed after {received} of {t} bytes"),
            });
        }
        file.sync_all().map_err(io(to))?;
        shown.finish();
        Ok(hex(&hasher.finalize()))
    }

    /// An istioctl binary or an unpacked release directory on this machine.
    async fn local(&self, path: &Path) -> Result<IstioRelease, AcquireError> {
        let root = local_root(path);
        let istioctl = if path.is_dir() {
            path.join("bin").join("istioctl")
        } else {
            path.to_path_buf()
        };
        let istioctl_str = istioctl.display().to_string();
        self.tools.find(&istioctl_str).map_err(|_| AcquireError::Layout {
            path: istioctl_str.clone(),
            reason: "not an executable istioctl (AMBIENT_ISTIO must name istioctl or an unpacked release)".into(),
        })?;
        let out = self
            .tools
            .command(&istioctl_str)
            .args(["version", "--remote=false"])
            .timeout(Duration::from_secs(30))
            .run()
            .await?;
        let version = version_in(&out.stdout).map_err(|reason| AcquireError::Layout {
            path: istioctl_str.clone(),
            reason: format!("`istioctl version --remote=false`: {reason}"),
        })?;
        let samples = Some(root.join("samples")).filter(|s| s.is_dir());
        Ok(IstioRelease {
            version,
            root,
            istioctl,
            samples,
        })
    }
}

/// The release directory of a local `AMBIENT_ISTIO`: the directory itself, or for an istioctl
/// binary the directory above its `bin/` (else the binary's own directory).
pub fn local_root(path: &Path) -> PathBuf {
    if path.is_dir() {
        return path.to_path_buf();
    }
    let bin_dir = path.parent().unwrap_or(Path::new("."));
    if bin_dir.file_name().is_some_and(|n| n == "bin") {
        bin_dir.parent().unwrap_or(bin_dir).to_path_buf()
    } else {
        bin_dir.to_path_buf()
    }
}

/// Finds an Istio version in `istioctl version` output (`1.24.2`, `client version: 1.24.2`, ...).
/// A version the suite cannot use (before ambient, another major) is named with why; output
/// with nothing like a version says so.
pub fn version_in(text: &str) -> Result<String, String> {
    let mut first_problem = None;
    let tokens = text
        .split(|c: char| c.is_whitespace() || c == '"' || c == ',')
        .filter(|t| t.starts_with(|c: char| c.is_ascii_digit()) && t.contains('.'));
    for t in tokens {
        match IstioVersion::parse(t) {
            Ok(_) => return Ok(t.to_string()),
            Err(e) => {
                first_problem.get_or_insert(match e {
                    crate::eras::VersionError::BeforeAmbient { .. } => e.to_string(),
                    _ => format!("it printed version {t}, which the suite cannot use: {e}"),
                });
            }
        }
    }
    Err(first_problem.unwrap_or_else(|| {
        format!(
            "printed no Istio version: {:?}",
            text.trim().chars().take(200).collect::<String>()
        )
    }))
}

fn release_at(version: &str, root: &Path) -> Result<IstioRelease, AcquireError> {
    let istioctl = root.join("bin").join("istioctl");
    if !istioctl.is_file() {
        return Err(AcquireError::Layout {
            path: root.display().to_string(),
            reason: "no bin/istioctl in the release".into(),
        });
    }
    let samples = Some(root.join("samples")).filter(|s| s.is_dir());
    Ok(IstioRelease {
        version: version.to_string(),
        root: root.to_path_buf(),
        istioctl,
        samples,
    })
}

fn unpack(archive: &Path, into: &Path) -> Result<(), String> {
    let file = std::fs::File::open(archive).map_err(|e| e.to_string())?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(std::io::BufReader::new(file)));
    tar.set_preserve_permissions(true);
    // `unpack` refuses entries that would land outside `into` (`..`, absolute paths).
    tar.unpack(into).map_err(|e| e.to_string())
}

fn single_top_dir(dir: &Path) -> Result<PathBuf, String> {
    let entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    match entries.as_slice() {
        [only] if only.is_dir() => Ok(only.clone()),
        _ => Err(format!(
            "expected one top-level directory, found {} entries",
            entries.len()
        )),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
