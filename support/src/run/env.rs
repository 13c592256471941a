//! Where a documented command runs: the run's private directory and an allow-listed
//! environment.
//!
//! Layout under the run's state directory:
//! - `home/`: `HOME` (so `~/.kube/config`, `~/.istioctl` are the run's, empty);
//! - `tmp/`: `TMPDIR`;
//! - `work/`: the working directory, a view of the Istio release in use: one link per entry of
//!   the release root (`samples`, `manifests`, `tools`, …), `istio` and `istio-<version>` linking
//!   to `work/` itself (the document's own unpacked copy, whatever it called it), and `bin/` with
//!   links to the run's pinned `kubectl` and `istioctl`, first on `PATH`.
//!
//! `@path@` markers (istio.io's snippet syntax for a file of the release, which its snip.py
//! turns into a path relative to the release root) become absolute paths under `work/`, so they
//! still name the release after a documented `cd`.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

use super::RunError;
use crate::process::Tools;

/// The kube clients a documented command reaches by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinnedTools {
    /// On sim: built from the same `k8s.io/kubernetes` module as the apiserver; on kind: the
    /// release matching the cluster, checksum-verified ([`super::kubectl`]).
    pub kubectl: PathBuf,
    /// The istioctl of the Istio release in use.
    pub istioctl: PathBuf,
}

/// What a run directory is made from.
#[derive(Debug, Clone)]
pub struct RunSetup<'a> {
    /// The run's private state directory (created if missing, mode 0700).
    pub state: &'a Path,
    /// The kubeconfig of the suite's cluster (and only it).
    pub kubeconfig: &'a Path,
    pub tools: &'a PinnedTools,
    /// The unpacked Istio release (`None` when only an istioctl binary is pinned).
    pub release_root: Option<&'a Path>,
    /// The release's version, as its directory is named (`1.24.2` → `istio-1.24.2`).
    pub release_version: &'a str,
    /// Variables passed through from this process if set (proxies); everything else is fixed.
    pub pass_through: &'a [(String, String)],
}

/// Variables a documented command may see beyond the fixed ones, when this process has them:
/// the proxies a download in the document needs.
pub const PASS_THROUGH: &[&str] = &[
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
];

/// The pass-through variables `lookup` knows (e.g. `|k| std::env::var(k).ok()`).
pub fn pass_through(lookup: impl Fn(&str) -> Option<String>) -> Vec<(String, String)> {
    PASS_THROUGH
        .iter()
        .filter_map(|k| lookup(k).map(|v| (k.to_string(), v)))
        .collect()
}

/// System directories after the run's `bin/` on `PATH`.
const SYSTEM_PATH: &[&str] = &["/usr/local/bin", "/usr/bin", "/bin"];

/// A prepared run directory.
#[derive(Debug, Clone)]
pub struct RunDir {
    work: PathBuf,
    home: PathBuf,
    tmp: PathBuf,
    kubeconfig: PathBuf,
    pass_through: Vec<(String, String)>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RunError + '_ {
    move |source| RunError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Replaces a link (or creates it): preparing twice gives the same directory.
fn link(target: &Path, at: &Path) -> Result<(), RunError> {
    if at.symlink_metadata().is_ok() {
        std::fs::remove_file(at).map_err(io(at))?;
    }
    std::os::unix::fs::symlink(target, at).map_err(io(at))
}

impl RunDir {
    /// Creates (or refreshes) the layout under `setup.state`.
    pub fn prepare(setup: &RunSetup<'_>) -> Result<Self, RunError> {
        for (what, path) in [
            ("kubectl", &setup.tools.kubectl),
            ("istioctl", &setup.tools.istioctl),
        ] {
            if !is_executable(path) {
                return Err(RunError::Tool {
                    what,
                    path: path.clone(),
                    hint: "pin it first (sim: fixtures/sim/build.sh builds kubectl; kind: the suite downloads the release matching the cluster)",
                });
            }
        }
        let state = setup.state;
        crate::settings::create_dir(state, true).map_err(io(state))?;
        let work = state.join("work");
        let home = state.join("home");
        let tmp = state.join("tmp");
        let bin = work.join("bin");
        for dir in [&work, &home, &tmp] {
            crate::settings::create_dir(dir, true).map_err(io(dir))?;
        }
        if bin.symlink_metadata().is_ok_and(|m| m.is_symlink()) {
            std::fs::remove_file(&bin).map_err(io(&bin))?;
        }
        crate::settings::create_dir(&bin, true).map_err(io(&bin))?;
        link(&setup.tools.kubectl, &bin.join("kubectl"))?;
        link(&setup.tools.istioctl, &bin.join("istioctl"))?;
        if let Some(root) = setup.release_root {
            for entry in std::fs::read_dir(root).map_err(io(root))? {
                let entry = entry.map_err(io(root))?;
                let name = entry.file_name();
                if name == "bin" {
                    continue;
                }
                link(&entry.path(), &work.join(&name))?;
            }
        }
        link(Path::new("."), &work.join("istio"))?;
        if !setup.release_version.is_empty()
            && !setup.release_version.contains('/')
            && setup.release_version != ".."
        {
            link(
                Path::new("."),
                &work.join(format!("istio-{}", setup.release_version)),
            )?;
        }
        Ok(RunDir {
            work,
            home,
            tmp,
            kubeconfig: setup.kubeconfig.to_path_buf(),
            pass_through: setup
                .pass_through
                .iter()
                .filter(|(k, _)| PASS_THROUGH.contains(&k.as_str()))
                .cloned()
                .collect(),
        })
    }

    /// The working directory of every command.
    pub fn work(&self) -> &Path {
        &self.work
    }

    pub fn home(&self) -> &Path {
        &self.home
    }

    /// Where [`super::Runner::run_carrying`] has a command write the values it carries: in the
    /// run's private state, beside `tmp/`, not in the output that is compared.
    pub fn carried_file(&self) -> PathBuf {
        self.tmp.with_file_name("carried")
    }

    /// The run's `bin/`, first on `PATH`.
    pub fn bin(&self) -> PathBuf {
        self.work.join("bin")
    }

    /// The search path of every command: the run's `bin/`, then the system's.
    pub fn tools(&self) -> Tools {
        let bin = self.bin();
        let mut dirs: Vec<&Path> = vec![&bin];
        dirs.extend(SYSTEM_PATH.iter().map(Path::new));
        Tools::with_path(&dirs)
    }

    /// The whole environment of a command, built from nothing: `PATH`, `HOME`, `KUBECONFIG`,
    /// `TMPDIR`, a UTF-8 locale, and the [`PASS_THROUGH`] variables this process had.
    pub fn environment(&self) -> Vec<(String, String)> {
        let mut path = vec![self.bin().display().to_string()];
        path.extend(SYSTEM_PATH.iter().map(|s| s.to_string()));
        let mut vars = vec![
            ("PATH".to_string(), path.join(":")),
            ("HOME".to_string(), self.home.display().to_string()),
            (
                "KUBECONFIG".to_string(),
                self.kubeconfig.display().to_string(),
            ),
            ("TMPDIR".to_string(), self.tmp.display().to_string()),
            ("LANG".to_string(), "C.UTF-8".to_string()),
        ];
        vars.extend(self.pass_through.iter().cloned());
        vars
    }

    /// `@samples/x.yaml@` → `<work>/samples/x.yaml` (a marker with `..` is left as written).
    pub fn resolve_markers(&self, text: &str) -> String {
        static MARKER: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"(^|[^A-Za-z0-9])@([A-Za-z0-9_./-]+)@").expect("valid regex")
        });
        let work = self.work.display().to_string();
        MARKER
            .replace_all(text, |c: &regex::Captures<'_>| {
                let path = &c[2];
                if path.split('/').any(|p| p == "..") {
                    c[0].to_string()
                } else {
                    format!("{}{work}/{}", &c[1], path.trim_start_matches("./"))
                }
            })
            .into_owned()
    }
}
