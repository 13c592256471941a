//! A provider's verified local copy of what a documented command fetches from the network.
//!
//! A page installs the Gateway API CRDs with `kubectl kustomize "github.com/kubernetes-sigs/
//! gateway-api/config/crd/experimental?ref=<version>"`: kustomize clones that repository at that
//! ref and builds the kustomization in that directory. A provider without a route to GitHub
//! (sim) may still hold exactly those files: the Go module `sigs.k8s.io/gateway-api` at the
//! same version is the repository at that tag (a root module's zip holds every file of the tree
//! but nested modules), extracted by Go into its module cache and checked against `go.sum`.
//! Here that copy is checked again ([`go_module`]: the module's `h1:` hash, computed as
//! `golang.org/x/mod/sumdb/dirhash.Hash1` does, against the line of the `go.sum` that pinned
//! it), and a command that fetches from it has only that source replaced by the local
//! directory ([`substitute`]); everything else of the command runs as written. A copy for
//! another version, or a directory the copy does not hold (another channel), replaces nothing.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::words;

/// A local tree that is, file for file, a repository at one ref.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalCopy {
    /// `github.com/<owner>/<name>`, as kustomize's remote syntax names it.
    pub repo: String,
    /// The tag (`v1.6.0`).
    pub reference: String,
    pub root: PathBuf,
    /// How it was verified, for the answer that says the provider used it.
    pub verified: String,
}

/// A remote kustomization: `github.com/<owner>/<name>[.git][/|//]<path>?ref=<ref>`, with or
/// without `https://`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    pub repo: String,
    pub path: String,
    pub reference: String,
}

/// Reads kustomize's remote form; `None` for anything else (a local path, another host, no
/// `ref`, a path that climbs out with `..`).
pub fn remote(word: &str) -> Option<Remote> {
    let rest = word
        .strip_prefix("https://")
        .or_else(|| word.strip_prefix("git::https://"))
        .unwrap_or(word);
    let (location, query) = rest.split_once('?')?;
    let reference = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("ref="))?
        .to_string();
    let mut parts = location.splitn(4, '/');
    let host = parts.next()?;
    let owner = parts.next()?;
    let name = parts.next()?.trim_end_matches(".git");
    if host != "github.com" || owner.is_empty() || name.is_empty() {
        return None;
    }
    let path = parts
        .next()
        .unwrap_or("")
        .trim_start_matches('/')
        .to_string();
    if reference.is_empty() || path.split('/').any(|p| p == "..") {
        return None;
    }
    Some(Remote {
        repo: format!("{host}/{owner}/{name}"),
        path,
        reference,
    })
}

/// What [`substitute`] replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Substituted {
    /// The remote as written.
    pub remote: String,
    /// The local directory that stands for it.
    pub local: PathBuf,
    pub verified: String,
}

/// Characters a local path may hold to replace a remote word inside or outside quotes.
fn plain_path(p: &str) -> bool {
    !p.is_empty()
        && p.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-@+".contains(&b))
}

/// `text` with the remote of each `kubectl kustomize <remote>` (or `kustomize build <remote>`)
/// that a copy holds replaced by the copy's directory, and what was replaced; `None` when no
/// remote of the text is held by a copy (same repository, same ref, the directory exists with
/// its `kustomization.yaml`).
pub fn substitute(text: &str, copies: &[LocalCopy]) -> Option<(String, Vec<Substituted>)> {
    let script = words::parse(text).ok()?;
    let mut done: Vec<Substituted> = Vec::new();
    for sc in &script.commands {
        let target = match sc.program() {
            Some("kubectl") if sc.words.get(1).map(String::as_str) == Some("kustomize") => {
                sc.words.get(2)
            }
            Some("kustomize") if sc.words.get(1).map(String::as_str) == Some("build") => {
                sc.words.get(2)
            }
            _ => None,
        };
        let Some(word) = target else { continue };
        let Some(r) = remote(word) else { continue };
        let Some(copy) = copies
            .iter()
            .find(|c| c.repo == r.repo && c.reference == r.reference)
        else {
            continue;
        };
        let local = copy.root.join(&r.path);
        let shown = local.display().to_string();
        if !local.join("kustomization.yaml").is_file() || !plain_path(&shown) {
            continue;
        }
        if !done.iter().any(|d| d.remote == *word) {
            done.push(Substituted {
                remote: word.clone(),
                local,
                verified: copy.verified.clone(),
            });
        }
    }
    if done.is_empty() {
        return None;
    }
    let mut out = text.to_string();
    for d in &done {
        out = out.replace(&d.remote, &d.local.display().to_string());
    }
    Some((out, done))
}

/// Errors finding or verifying a local copy.
#[derive(Debug, thiserror::Error)]
pub enum LocalCopyError {
    #[error(
        "reading {path}: {source}; build the provider's copies first (sim: fixtures/sim/build.sh)"
    )]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{go_sum} has no `{module} {version} h1:` line: the copy cannot be verified; rebuild with fixtures/sim/build.sh"
    )]
    NotPinned {
        go_sum: PathBuf,
        module: String,
        version: String,
    },
    #[error(
        "{dir} does not hash to the go.sum line ({computed} computed, {pinned} pinned): the module cache was changed; run `go clean -modcache` and rebuild"
    )]
    Mismatch {
        dir: PathBuf,
        computed: String,
        pinned: String,
    },
    #[error("{dir} is larger than {limit} bytes: not a module copy to hash")]
    TooLarge { dir: PathBuf, limit: u64 },
    #[error("{0}")]
    Other(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> LocalCopyError + '_ {
    move |source| LocalCopyError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The repositories behind Go vanity module paths the suite uses (`sigs.k8s.io` serves
/// `go-import` meta tags pointing at `github.com/kubernetes-sigs`).
const MODULE_REPOS: &[(&str, &str)] = &[(
    "sigs.k8s.io/gateway-api",
    "github.com/kubernetes-sigs/gateway-api",
)];

/// The Go module cache: `GOMODCACHE`, else `<first GOPATH>/pkg/mod`, else `~/go/pkg/mod`.
pub fn go_module_cache(lookup: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let set = |k: &str| lookup(k).filter(|v| !v.is_empty());
    if let Some(v) = set("GOMODCACHE") {
        return Some(PathBuf::from(v));
    }
    if let Some(v) = set("GOPATH") {
        return v
            .split(':')
            .next()
            .map(|p| Path::new(p).join("pkg").join("mod"));
    }
    set("HOME").map(|h| Path::new(&h).join("go").join("pkg").join("mod"))
}

/// The most a module copy may weigh to be hashed.
const MODULE_LIMIT: u64 = 256 << 20;

/// The module `module@version` in `modcache`, verified against its `h1:` line in `go_sum`, as
/// a copy of the repository it was published from.
pub fn go_module(
    module: &str,
    version: &str,
    go_sum: &Path,
    modcache: &Path,
) -> Result<LocalCopy, LocalCopyError> {
    let repo = MODULE_REPOS
        .iter()
        .find(|(m, _)| *m == module)
        .map(|(_, r)| r.to_string())
        .ok_or_else(|| {
            LocalCopyError::Other(format!(
                "no repository known for the Go module {module}: add it to MODULE_REPOS"
            ))
        })?;
    if module.bytes().any(|b| b.is_ascii_uppercase()) || version.contains('/') {
        return Err(LocalCopyError::Other(format!(
            "{module}@{version}: an escaped module path is not supported"
        )));
    }
    let sums = std::fs::read_to_string(go_sum).map_err(io(go_sum))?;
    let pinned = sums
        .lines()
        .find_map(|l| {
            let mut w = l.split_whitespace();
            (w.next() == Some(module) && w.next() == Some(version))
                .then(|| w.next())
                .flatten()
        })
        .ok_or_else(|| LocalCopyError::NotPinned {
            go_sum: go_sum.to_path_buf(),
            module: module.into(),
            version: version.into(),
        })?
        .to_string();
    let dir = modcache.join(format!("{module}@{version}"));
    let computed = hash1(&dir, &format!("{module}@{version}"))?;
    if computed != pinned {
        return Err(LocalCopyError::Mismatch {
            dir,
            computed,
            pinned,
        });
    }
    Ok(LocalCopy {
        repo,
        reference: version.to_string(),
        verified: format!(
            "the Go module {module}@{version} in {}, hashing to {pinned} as pinned by {}",
            modcache.display(),
            go_sum.display()
        ),
        root: dir,
    })
}

/// `golang.org/x/mod/sumdb/dirhash.HashDir(dir, prefix, Hash1)`: for every regular file, in
/// sorted order of `prefix/relative/path`, a line `<sha256 hex>  <name>\n`; the sha256 of those
/// lines, base64, after `h1:`.
pub fn hash1(dir: &Path, prefix: &str) -> Result<String, LocalCopyError> {
    hash1_within(dir, prefix, MODULE_LIMIT)
}

/// [`hash1`] of a directory of at most `limit` bytes of files (more is an error, read no further).
fn hash1_within(dir: &Path, prefix: &str, limit: u64) -> Result<String, LocalCopyError> {
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    let mut total = 0u64;
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).map_err(io(&d))? {
            let entry = entry.map_err(io(&d))?;
            let path = entry.path();
            let kind = entry.file_type().map_err(io(&path))?;
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() {
                total += entry.metadata().map_err(io(&path))?.len();
                if total > limit {
                    return Err(LocalCopyError::TooLarge {
                        dir: dir.to_path_buf(),
                        limit,
                    });
                }
                let rel = path.strip_prefix(dir).unwrap_or(&path);
                let rel: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                files.push((format!("{prefix}/{}", rel.join("/")), path));
            } else {
                return Err(LocalCopyError::Other(format!(
                    "{} is not a regular file: a module copy holds only files",
                    path.display()
                )));
            }
        }
    }
    files.sort();
    let mut summary = Sha256::new();
    for (name, path) in &files {
        if name.contains('\n') {
            return Err(LocalCopyError::Other(format!(
                "{name:?}: a file name with a newline cannot be hashed"
            )));
        }
        let bytes = std::fs::read(path).map_err(io(path))?;
        summary.update(format!("{}  {name}\n", hex(&Sha256::digest(&bytes))));
    }
    Ok(format!("h1:{}", base64(&summary.finalize())))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Standard base64 with padding (RFC 4648 §4), as Go's `base64.StdEncoding`.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The `gateway.networking.k8s.io/bundle-version` and `…/channel` every CRD file of `dir`
/// states (one version and one channel, or an error saying which files disagree).
pub fn gateway_api_bundle(dir: &Path) -> Result<(String, String), LocalCopyError> {
    let mut found: Option<(String, String, PathBuf)> = None;
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    entries.sort();
    for path in entries {
        let text = std::fs::read_to_string(&path).map_err(io(&path))?;
        let annotation = |key: &str| {
            text.lines().find_map(|l| {
                l.trim()
                    .strip_prefix(key)
                    .and_then(|r| r.strip_prefix(':'))
                    .map(|v| v.trim().trim_matches('"').to_string())
            })
        };
        let (Some(version), Some(channel)) = (
            annotation("gateway.networking.k8s.io/bundle-version"),
            annotation("gateway.networking.k8s.io/channel"),
        ) else {
            continue;
        };
        match &found {
            None => found = Some((version, channel, path)),
            Some((v, c, first)) if (v, c) != (&version, &channel) => {
                return Err(LocalCopyError::Other(format!(
                    "{} says Gateway API {v} ({c}) and {} says {version} ({channel}): one copy holds one bundle",
                    first.display(),
                    path.display()
                )));
            }
            Some(_) => {}
        }
    }
    found.map(|(v, c, _)| (v, c)).ok_or_else(|| {
        LocalCopyError::Other(format!(
            "{} holds no Gateway API CRD with a bundle-version annotation",
            dir.display()
        ))
    })
}

/// The sim provider's copy of the Gateway API repository: `fixtures/sim/build.sh` copied the
/// standard channel of the `sigs.k8s.io/gateway-api` module Istio's go.mod requires into
/// `crds` (the sim default `target/sim/gateway-api-crds`); that module, verified against
/// `go_sum` (`fixtures/sim/istio/go.sum`) in the module cache, is the whole repository at that
/// tag, every channel. Its standard files must be those of `crds`, byte for byte. Returns the
/// Gateway API version and the copy.
pub fn sim_gateway_api(
    crds: &Path,
    go_sum: &Path,
    modcache: &Path,
) -> Result<(String, LocalCopy), LocalCopyError> {
    let (version, _) = gateway_api_bundle(crds)?;
    let copy = go_module("sigs.k8s.io/gateway-api", &version, go_sum, modcache)?;
    let standard = copy.root.join("config/crd/standard");
    for entry in std::fs::read_dir(crds).map_err(io(crds))? {
        let path = entry.map_err(io(crds))?.path();
        let Some(name) = path.file_name() else {
            continue;
        };
        let theirs = standard.join(name);
        let (a, b) = (
            std::fs::read(&path).map_err(io(&path))?,
            std::fs::read(&theirs).map_err(io(&theirs))?,
        );
        if a != b {
            return Err(LocalCopyError::Other(format!(
                "{} differs from {}: the sim copy is not this module's",
                path.display(),
                theirs.display()
            )));
        }
    }
    Ok((version, copy))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kustomize_remotes_are_read_and_other_words_are_not() {
        let r = remote("github.com/kubernetes-sigs/gateway-api/config/crd/experimental?ref=v1.6.0")
            .expect("a remote");
        assert_eq!(r.repo, "github.com/kubernetes-sigs/gateway-api");
        assert_eq!(r.path, "config/crd/experimental");
        assert_eq!(r.reference, "v1.6.0");
        let r = remote("https://github.com/kubernetes-sigs/gateway-api.git//config/crd?ref=v1.2.0")
            .expect("a remote");
        assert_eq!(
            (r.repo.as_str(), r.path.as_str(), r.reference.as_str()),
            (
                "github.com/kubernetes-sigs/gateway-api",
                "config/crd",
                "v1.2.0"
            )
        );
        for not in [
            "github.com/kubernetes-sigs/gateway-api/config/crd",
            "gitlab.com/a/b/c?ref=v1",
            "./config/crd?ref=v1",
            "github.com/a/b/../../etc?ref=v1",
            "github.com/a/b/c?ref=",
            "github.com/a?ref=v1",
            "github.com//gateway-api?ref=v1",
            "github.com/o/?ref=v1",
            "github.com/o/.git?ref=v1",
        ] {
            assert_eq!(remote(not), None, "{not}");
        }
    }

    fn copy_with(dir: &Path, reference: &str) -> LocalCopy {
        LocalCopy {
            repo: "github.com/kubernetes-sigs/gateway-api".into(),
            reference: reference.into(),
            root: dir.to_path_buf(),
            verified: "test".into(),
        }
    }

    #[test]
    fn only_the_same_repository_ref_and_a_directory_the_copy_holds_are_replaced() {
        let tmp = tempfile::tempdir().unwrap();
        let exp = tmp.path().join("config/crd/experimental");
        std::fs::create_dir_all(&exp).unwrap();
        std::fs::write(exp.join("kustomization.yaml"), "resources: []\n").unwrap();
        let text = "kubectl get crd gateways.gateway.networking.k8s.io &> /dev/null || \\\n  { kubectl kustomize \"github.com/kubernetes-sigs/gateway-api/config/crd/experimental?ref=v1.6.0\" | kubectl apply -f -; }";
        let (out, done) = substitute(text, &[copy_with(tmp.path(), "v1.6.0")]).expect("held");
        assert_eq!(done.len(), 1);
        assert!(
            out.contains(&format!("kubectl kustomize \"{}\"", exp.display())),
            "{out}"
        );
        assert!(out.starts_with("kubectl get crd gateways"), "{out}");
        assert!(out.ends_with("| kubectl apply -f -; }"), "{out}");
        // Near misses: another ref, another channel the copy lacks, another repository.
        assert_eq!(substitute(text, &[copy_with(tmp.path(), "v1.5.1")]), None);
        let standard = text.replace("experimental", "standard");
        assert_eq!(
            substitute(&standard, &[copy_with(tmp.path(), "v1.6.0")]),
            None
        );
        let other = text.replace("kubernetes-sigs/gateway-api", "someone/gateway-api");
        assert_eq!(substitute(&other, &[copy_with(tmp.path(), "v1.6.0")]), None);
        // A copy whose path could not stand in the command as one word replaces nothing.
        let spaced = tempfile::tempdir().unwrap();
        let odd = spaced.path().join("a b");
        std::fs::create_dir_all(odd.join("config/crd/experimental")).unwrap();
        std::fs::write(
            odd.join("config/crd/experimental/kustomization.yaml"),
            "resources: []\n",
        )
        .unwrap();
        assert_eq!(substitute(text, &[copy_with(&odd, "v1.6.0")]), None);
        // The remote only as an argument of another program is not a fetch.
        let echo = "echo github.com/kubernetes-sigs/gateway-api/config/crd/experimental?ref=v1.6.0";
        assert_eq!(substitute(echo, &[copy_with(tmp.path(), "v1.6.0")]), None);
        // `kustomize build` fetches too; other subcommands of either program do not.
        let remote = "github.com/kubernetes-sigs/gateway-api/config/crd/experimental?ref=v1.6.0";
        let held = |text: &str| substitute(text, &[copy_with(tmp.path(), "v1.6.0")]);
        let (out, _) = held(&format!("kustomize build {remote} | kubectl apply -f -")).unwrap();
        assert!(
            out.starts_with(&format!("kustomize build {}", exp.display())),
            "{out}"
        );
        for other in ["kubectl describe", "kustomize edit", "kubectl get"] {
            assert_eq!(held(&format!("{other} {remote}")), None, "{other}");
        }
        // One remote fetched twice is one substitution.
        let (_, done) = held(&format!(
            "kubectl kustomize {remote}; kubectl kustomize {remote}"
        ))
        .unwrap();
        assert_eq!(done.len(), 1);
    }

    #[test]
    fn base64_is_rfc_4648() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), want, "{input}");
        }
    }

    #[test]
    fn a_module_copy_is_verified_by_its_go_sum_line_and_a_changed_file_is_caught() {
        let tmp = tempfile::tempdir().unwrap();
        let module = tmp.path().join("sigs.k8s.io/gateway-api@v9.9.9");
        std::fs::create_dir_all(module.join("config/crd")).unwrap();
        std::fs::write(module.join("go.mod"), "module sigs.k8s.io/gateway-api\n").unwrap();
        std::fs::write(module.join("config/crd/a.yaml"), "kind: A\n").unwrap();
        // The value Go's dirhash gives: sha256 of the two lines below, base64.
        let lines = format!(
            "{}  sigs.k8s.io/gateway-api@v9.9.9/config/crd/a.yaml\n{}  sigs.k8s.io/gateway-api@v9.9.9/go.mod\n",
            hex(&Sha256::digest(b"kind: A\n")),
            hex(&Sha256::digest(b"module sigs.k8s.io/gateway-api\n"))
        );
        let want = format!("h1:{}", base64(&Sha256::digest(lines.as_bytes())));
        assert_eq!(
            hash1(&module, "sigs.k8s.io/gateway-api@v9.9.9").unwrap(),
            want
        );
        let go_sum = tmp.path().join("go.sum");
        std::fs::write(
            &go_sum,
            format!("sigs.k8s.io/gateway-api v9.9.9/go.mod h1:x=\nsigs.k8s.io/gateway-api v9.9.9 {want}\n"),
        )
        .unwrap();
        let copy = go_module("sigs.k8s.io/gateway-api", "v9.9.9", &go_sum, tmp.path()).unwrap();
        assert_eq!(copy.repo, "github.com/kubernetes-sigs/gateway-api");
        assert_eq!(copy.root, module);
        // Near misses: a changed file, a version go.sum does not pin, an unknown module.
        std::fs::write(module.join("config/crd/a.yaml"), "kind: B\n").unwrap();
        assert!(matches!(
            go_module("sigs.k8s.io/gateway-api", "v9.9.9", &go_sum, tmp.path()),
            Err(LocalCopyError::Mismatch { .. })
        ));
        assert!(matches!(
            go_module("sigs.k8s.io/gateway-api", "v9.9.8", &go_sum, tmp.path()),
            Err(LocalCopyError::NotPinned { .. })
        ));
        assert!(go_module("example.com/x", "v9.9.9", &go_sum, tmp.path()).is_err());
        // A version with a path in it: refused before go.sum is read.
        let escaped = go_module("sigs.k8s.io/gateway-api", "v9.9.9/x", &go_sum, tmp.path());
        assert!(
            matches!(&escaped, Err(e) if e.to_string().contains("escaped module path")),
            "{escaped:?}"
        );
    }

    #[test]
    fn a_module_copy_over_its_size_limit_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("d")).unwrap();
        std::fs::write(tmp.path().join("a"), "1234").unwrap();
        std::fs::write(tmp.path().join("d/b"), "123456").unwrap();
        // 10 bytes of files: within 10, not within 9.
        assert!(hash1_within(tmp.path(), "m@v", 10).is_ok());
        assert!(matches!(
            hash1_within(tmp.path(), "m@v", 9),
            Err(LocalCopyError::TooLarge { limit: 9, .. })
        ));
        assert!(matches!(
            hash1_within(tmp.path(), "m@v", 3),
            Err(LocalCopyError::TooLarge { .. })
        ));
    }

    #[test]
    fn the_module_cache_follows_go_env() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(
            go_module_cache(env(&[("GOMODCACHE", "/m"), ("GOPATH", "/g")])),
            Some(PathBuf::from("/m"))
        );
        assert_eq!(
            go_module_cache(env(&[("GOPATH", "/g:/h"), ("HOME", "/root")])),
            Some(PathBuf::from("/g/pkg/mod"))
        );
        assert_eq!(
            go_module_cache(env(&[("HOME", "/root")])),
            Some(PathBuf::from("/root/go/pkg/mod"))
        );
        assert_eq!(go_module_cache(env(&[])), None);
    }

    #[test]
    fn a_bundle_is_one_version_and_one_channel() {
        let tmp = tempfile::tempdir().unwrap();
        let crd = |v: &str, c: &str| {
            format!(
                "metadata:\n  annotations:\n    gateway.networking.k8s.io/bundle-version: {v}\n    gateway.networking.k8s.io/channel: {c}\n"
            )
        };
        std::fs::write(tmp.path().join("a.yaml"), crd("v1.6.0", "standard")).unwrap();
        std::fs::write(tmp.path().join("b.yaml"), crd("v1.6.0", "standard")).unwrap();
        assert_eq!(
            gateway_api_bundle(tmp.path()).unwrap(),
            ("v1.6.0".to_string(), "standard".to_string())
        );
        std::fs::write(tmp.path().join("c.yaml"), crd("v1.5.1", "standard")).unwrap();
        assert!(gateway_api_bundle(tmp.path()).is_err());
        let empty = tempfile::tempdir().unwrap();
        assert!(gateway_api_bundle(empty.path()).is_err());
    }

    #[test]
    #[ignore = "needs what fixtures/sim/build.sh leaves: target/sim and the Go module cache"]
    fn the_sim_copy_verifies_against_the_real_go_sum() {
        let crds = crate::workspace::root().join("target/sim/gateway-api-crds");
        let go_sum = crate::workspace::root().join("fixtures/sim/istio/go.sum");
        let cache = go_module_cache(|k| std::env::var(k).ok()).expect("a Go module cache");
        let (version, copy) = sim_gateway_api(&crds, &go_sum, &cache).expect("verifies");
        assert!(version.starts_with('v'), "{version}");
        assert!(
            copy.root
                .join("config/crd/experimental/kustomization.yaml")
                .is_file()
        );
    }
}
