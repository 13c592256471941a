//! Every knob of the suite: environment variables, read in one place and validated once.
//!
//! A bad value is a [`SettingsError`] naming the variable, the value and the accepted forms.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::eras::{IstioVersion, TUTORIAL_BUILD};

pub const ISTIO: &str = "AMBIENT_ISTIO";
pub const CLUSTER_NAME: &str = "AMBIENT_CLUSTER_NAME";
pub const KEEP_CLUSTER: &str = "AMBIENT_KEEP_CLUSTER";
pub const TIMEOUT_SCALE: &str = "AMBIENT_TIMEOUT_SCALE";
pub const ARTIFACTS_DIR: &str = "AMBIENT_ARTIFACTS_DIR";
pub const CACHE_DIR: &str = "AMBIENT_CACHE_DIR";
pub const KUBE_CONTEXT: &str = "AMBIENT_KUBE_CONTEXT";
pub const PROVIDER: &str = "AMBIENT_PROVIDER";
pub const GATEWAY_API_CRDS: &str = "AMBIENT_GATEWAY_API_CRDS";
pub const STATE_DIR: &str = "AMBIENT_STATE_DIR";
pub const TUTORIAL: &str = "AMBIENT_TUTORIAL";
pub const DOCS: &str = "AMBIENT_DOCS";
pub const SIM_ISTIO: &str = "AMBIENT_SIM_ISTIO";

/// Variables the suite's own tests set for a child test process; not user settings.
pub const INTERNAL: &[&str] = &["AMBIENT_SIM_HOLD", "AMBIENT_SIM_RUN_HOLDER"];

/// Every variable, with its accepted forms and default: the README's table is this list.
pub const VARIABLES: &[(&str, &str, &str)] = &[
    (
        PROVIDER,
        "`kind` (the tutorial's 3-node cluster), `sim` (a local control plane with kwok nodes, no docker), `k3s` (one container, docker only), `existing` (needs AMBIENT_KUBE_CONTEXT)",
        "`kind`",
    ),
    (
        ISTIO,
        "`tutorial`, a release (`1.24.2`), `latest-dev`, a dev build id, or a path to istioctl / an unpacked release",
        "`tutorial`",
    ),
    (
        CLUSTER_NAME,
        "a kind cluster name (lowercase letters, digits, `-`)",
        "`ambient`",
    ),
    (
        KEEP_CLUSTER,
        "`true` / `false` (also `1`/`0`, `yes`/`no`)",
        "`true`",
    ),
    (
        TIMEOUT_SCALE,
        "a number from 0.1 to 100 that multiplies every wait",
        "`1`",
    ),
    (
        ARTIFACTS_DIR,
        "a directory for claim records, snapshots of failures, diagnostics",
        "`target/ambient/artifacts`",
    ),
    (
        CACHE_DIR,
        "a directory for downloaded Istio releases",
        "`target/ambient/cache`",
    ),
    (
        STATE_DIR,
        "a private directory (created 0700) for kubeconfigs, keys and cluster state; never part of the evidence",
        "`target/ambient/state`",
    ),
    (
        GATEWAY_API_CRDS,
        "a file or directory of Gateway API CRDs to apply instead of downloading the era's release",
        "unset (sim: `target/sim/gateway-api-crds`)",
    ),
    (
        KUBE_CONTEXT,
        "the context of your kubeconfig the suite may change (with `AMBIENT_PROVIDER=existing`; never deleted)",
        "unset",
    ),
    (
        TUTORIAL,
        "the tutorial's Markdown to read the documented expectations from (e.g. your edited copy)",
        "`fixtures/tutorial/ambient-tutorial.md`",
    ),
    (
        DOCS,
        "`lenient` (a stale tutorial is reported, and fails only on the tutorial's own build) or `strict` (a stale tutorial fails its test on every build)",
        "`lenient`",
    ),
    (
        SIM_ISTIO,
        "with `AMBIENT_PROVIDER=sim`: the istio.io/istio module version (or `newest`) of an Istio source `fixtures/sim/build.sh` built into `target/sim/istio-sources/`",
        "unset (the pinned source, `target/sim/istio`)",
    ),
];

pub const DEFAULT_CLUSTER_NAME: &str = "ambient";

/// What runs the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// The tutorial's kind cluster (docker needed).
    Kind,
    /// etcd, kube-apiserver, controllers and kwok nodes as local processes (no docker, no data
    /// plane); built by `fixtures/sim/build.sh`.
    Sim,
    /// A single-node k3s in a container started by the suite (testcontainers), removed at exit.
    K3s,
    /// A cluster the user already has, named by `AMBIENT_KUBE_CONTEXT`; never deleted.
    Existing,
}

impl Provider {
    pub fn id(self) -> &'static str {
        match self {
            Provider::Kind => "kind",
            Provider::Sim => "sim",
            Provider::K3s => "k3s",
            Provider::Existing => "existing",
        }
    }
}

/// Where istioctl and the release's `samples/` come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IstioSource {
    /// The tutorial's pinned experimental build, from the URL the tutorial uses.
    Tutorial,
    /// A release from the official release archive, verified against its `.sha256`.
    Release(IstioVersion),
    /// The newest build in Istio's dev-build index, resolved at run time.
    LatestDev,
    /// One dev build by id.
    DevBuild(IstioVersion),
    /// An istioctl binary or an unpacked release directory already on this machine.
    Local(PathBuf),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub provider: Provider,
    pub istio: IstioSource,
    pub cluster_name: String,
    pub keep_cluster: bool,
    pub timeout_scale: f64,
    /// Evidence: claim records, diagnostics, logs, istioctl output. Safe to upload.
    pub artifacts_dir: PathBuf,
    pub cache_dir: PathBuf,
    /// Secrets and cluster state (kubeconfigs, keys, etcd data, ownership markers): private,
    /// never uploaded.
    pub state_dir: PathBuf,
    /// A context of the user's kubeconfig the suite may change; `None` = only its own kind cluster.
    pub kube_context: Option<String>,
    /// Local Gateway API CRDs (file or directory) to apply instead of downloading them.
    pub gateway_api_crds: Option<PathBuf>,
    /// The tutorial the documented expectations come from.
    pub tutorial: PathBuf,
    /// `AMBIENT_DOCS=strict`: a stale tutorial fails its test on every build.
    pub strict_docs: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {var}={value:?}: {reason}; accepted: {accepted}")]
pub struct SettingsError {
    pub var: &'static str,
    pub value: String,
    pub reason: String,
    pub accepted: &'static str,
}

fn accepted(var: &str) -> &'static str {
    VARIABLES
        .iter()
        .find(|(name, ..)| *name == var)
        .map(|(_, forms, _)| *forms)
        .unwrap_or("see README")
}

fn invalid(var: &'static str, value: &str, reason: impl Into<String>) -> SettingsError {
    SettingsError {
        var,
        value: value.to_string(),
        reason: reason.into(),
        accepted: accepted(var),
    }
}

impl Settings {
    /// Reads the process environment. `workspace` anchors the defaults under `target/`.
    ///
    /// Every `AMBIENT_*` variable that is set is either valid or an error: a value that is not
    /// UTF-8 or blank, or a name the suite does not know (a typo), stops the run instead of being
    /// ignored.
    pub fn from_env() -> Result<Self, SettingsError> {
        check_environment(std::env::vars_os())?;
        Self::from_lookup(|name| std::env::var(name).ok(), &workspace_root())
    }

    /// Reads settings through `lookup` (tests pass a map instead of mutating the environment).
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        workspace: &Path,
    ) -> Result<Self, SettingsError> {
        // A blank value is an error, not "unset": `AMBIENT_ISTIO=$(failed lookup)` must not run
        // the tutorial's build in its place.
        for (name, ..) in VARIABLES {
            if let Some(v) = lookup(name)
                && v.trim().is_empty()
            {
                return Err(invalid(
                    name,
                    &v,
                    format!("blank: give it a value, or unset it (`unset {name}`) for the default"),
                ));
            }
        }
        let get = |name: &str| lookup(name);
        let provider = get(PROVIDER).map_or(Ok(Provider::Kind), |v| parse_provider(&v))?;
        // sim: an Istio source fixtures/sim/build.sh built, chosen by module version.
        let sim_source = match get(SIM_ISTIO) {
            Some(v) => Some(parse_sim_istio(
                &v,
                provider,
                get(ISTIO).is_some(),
                workspace,
            )?),
            None => None,
        };
        let istio = match (get(ISTIO), &sim_source) {
            (Some(v), _) => parse_istio(&v)?,
            (None, Some(dir)) => IstioSource::Local(dir.clone()),
            // sim has no internet: the istioctl and samples/ that fixtures/sim/build.sh built.
            (None, None) if provider == Provider::Sim => {
                IstioSource::Local(workspace.join("target/sim/istio"))
            }
            (None, None) => IstioSource::Tutorial,
        };
        let kube_context = get(KUBE_CONTEXT).map(|v| v.trim().to_string());
        if provider == Provider::Existing && kube_context.is_none() {
            return Err(invalid(
                PROVIDER,
                "existing",
                format!("an existing cluster needs {KUBE_CONTEXT} naming its context"),
            ));
        }
        let target = workspace.join("target").join("ambient");
        let dir = |var: &'static str, default: &str| match get(var) {
            None => Ok(target.join(default)),
            Some(v) => parse_dir(var, &v, workspace),
        };
        Ok(Settings {
            provider,
            istio,
            cluster_name: get(CLUSTER_NAME)
                .map_or(Ok(DEFAULT_CLUSTER_NAME.into()), |v| parse_cluster_name(&v))?,
            keep_cluster: get(KEEP_CLUSTER).map_or(Ok(true), |v| parse_bool(KEEP_CLUSTER, &v))?,
            timeout_scale: get(TIMEOUT_SCALE).map_or(Ok(1.0), |v| parse_scale(&v))?,
            artifacts_dir: dir(ARTIFACTS_DIR, "artifacts")?,
            cache_dir: dir(CACHE_DIR, "cache")?,
            state_dir: dir(STATE_DIR, "state")?,
            kube_context,
            gateway_api_crds: match get(GATEWAY_API_CRDS) {
                Some(v) => Some(parse_existing_path(GATEWAY_API_CRDS, &v, workspace)?),
                // sim: the CRDs fixtures/sim/build.sh copied from the gateway-api module that
                // the chosen Istio source requires.
                None if provider == Provider::Sim => Some(match &sim_source {
                    Some(dir) => dir.join("gateway-api-crds"),
                    None => workspace.join("target/sim/gateway-api-crds"),
                }),
                None => None,
            },
            tutorial: match get(TUTORIAL) {
                Some(v) => parse_existing_path(TUTORIAL, &v, workspace)?,
                None => workspace.join(crate::workspace::REFERENCE_TUTORIAL),
            },
            strict_docs: match get(DOCS).as_deref().map(str::trim) {
                None | Some("lenient") => false,
                Some("strict") => true,
                Some(other) => return Err(invalid(DOCS, other, "not a docs mode")),
            },
        })
    }

    /// A wait of `base`, scaled by `AMBIENT_TIMEOUT_SCALE`.
    pub fn timeout(&self, base: Duration) -> Duration {
        base.mul_f64(self.timeout_scale)
    }

    /// Creates the artifacts directory and the private state directory (0700), naming the
    /// variable that chose a directory that cannot be created.
    pub fn prepare_dirs(&self) -> Result<(), SettingsError> {
        for (var, dir, private) in [
            (ARTIFACTS_DIR, &self.artifacts_dir, false),
            (STATE_DIR, &self.state_dir, true),
        ] {
            let shown = dir.display().to_string();
            create_dir(dir, private)
                .map_err(|e| invalid(var, &shown, format!("cannot create it: {e}")))?;
        }
        Ok(())
    }

    /// The kubeconfig context kind gives this cluster.
    pub fn kind_context(&self) -> String {
        format!("kind-{}", self.cluster_name)
    }
}

/// Creates `dir` and its parents; a private one is 0700 (and made so if it exists with looser
/// permissions), because it holds keys.
pub fn create_dir(dir: &Path, private: bool) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    if private {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        let mode = std::fs::metadata(dir)?.permissions().mode() & 0o777;
        if mode != 0o700 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(())
    } else {
        std::fs::create_dir_all(dir)
    }
}

/// Refuses `AMBIENT_*` variables that are set but unusable: not UTF-8, or unknown.
pub fn check_environment(
    vars: impl IntoIterator<Item = (std::ffi::OsString, std::ffi::OsString)>,
) -> Result<(), SettingsError> {
    let known = |name: &str| VARIABLES.iter().any(|(v, ..)| *v == name) || INTERNAL.contains(&name);
    for (name, value) in vars {
        let name_text = name.to_string_lossy();
        if !name_text.starts_with("AMBIENT_") {
            continue;
        }
        let Some(name) = name.to_str() else {
            return Err(unknown_variable(&name_text));
        };
        if !known(name) {
            return Err(unknown_variable(name));
        }
        if value.to_str().is_none() {
            let var = VARIABLES
                .iter()
                .map(|(v, ..)| *v)
                .chain(INTERNAL.iter().copied())
                .find(|v| *v == name)
                .unwrap_or("AMBIENT_*");
            return Err(invalid(
                var,
                &value.to_string_lossy(),
                "not valid UTF-8 (the suite never treats such a value as unset)",
            ));
        }
    }
    Ok(())
}

fn unknown_variable(name: &str) -> SettingsError {
    let names: Vec<&str> = VARIABLES.iter().map(|(v, ..)| *v).collect();
    SettingsError {
        var: "AMBIENT_*",
        value: name.to_string(),
        reason: "the suite knows no such variable (a typo?)".into(),
        accepted: KNOWN_NAMES.get_or_init(|| names.join(", ")),
    }
}

static KNOWN_NAMES: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn parse_provider(v: &str) -> Result<Provider, SettingsError> {
    match v.trim() {
        "kind" => Ok(Provider::Kind),
        "sim" => Ok(Provider::Sim),
        "k3s" => Ok(Provider::K3s),
        "existing" => Ok(Provider::Existing),
        other => Err(invalid(PROVIDER, other, "not a provider")),
    }
}

/// A directory setting: relative paths are under the workspace; an existing file is refused.
fn parse_dir(var: &'static str, v: &str, workspace: &Path) -> Result<PathBuf, SettingsError> {
    let p = PathBuf::from(v);
    if p.is_file() {
        return Err(invalid(var, v, "this is a file, not a directory"));
    }
    Ok(if p.is_absolute() {
        p
    } else {
        workspace.join(p)
    })
}

/// A path setting that must exist (relative paths are under the workspace).
fn parse_existing_path(
    var: &'static str,
    v: &str,
    workspace: &Path,
) -> Result<PathBuf, SettingsError> {
    let p = PathBuf::from(v.trim());
    let p = if p.is_absolute() {
        p
    } else {
        workspace.join(p)
    };
    if !p.exists() {
        return Err(invalid(var, v, "no such file or directory"));
    }
    Ok(p)
}

fn parse_istio(v: &str) -> Result<IstioSource, SettingsError> {
    let v = v.trim();
    if v == "tutorial" || v == TUTORIAL_BUILD {
        return Ok(IstioSource::Tutorial);
    }
    if v == "latest-dev" {
        return Ok(IstioSource::LatestDev);
    }
    if v.contains('/') || v.starts_with('.') || v.starts_with('~') {
        let path = PathBuf::from(v);
        if !path.exists() {
            return Err(invalid(ISTIO, v, "no such file or directory"));
        }
        return Ok(IstioSource::Local(path));
    }
    let version = IstioVersion::parse(v).map_err(|e| invalid(ISTIO, v, e.to_string()))?;
    Ok(match version.kind {
        crate::eras::VersionKind::Release { .. } => IstioSource::Release(version),
        crate::eras::VersionKind::Source => {
            return Err(invalid(
                ISTIO,
                v,
                "a build from source has no download; give the path of its istioctl",
            ));
        }
        _ => IstioSource::DevBuild(version),
    })
}

/// `AMBIENT_SIM_ISTIO`: the directory of a built Istio source (its `SOURCE` label present).
fn parse_sim_istio(
    v: &str,
    provider: Provider,
    istio_set: bool,
    workspace: &Path,
) -> Result<PathBuf, SettingsError> {
    use crate::istio::source::{LABEL_FILE, SOURCES_DIR};
    let v = v.trim();
    if provider != Provider::Sim {
        return Err(invalid(
            SIM_ISTIO,
            v,
            format!("only the sim provider builds Istio from source: set {PROVIDER}=sim"),
        ));
    }
    if istio_set {
        return Err(invalid(
            SIM_ISTIO,
            v,
            format!("{ISTIO} chooses the Istio too: unset one of them"),
        ));
    }
    // A directory name under target/sim/istio-sources, never a path out of it.
    let name_ok = !v.is_empty()
        && v.len() <= 100
        && !v.starts_with('.')
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'+');
    if !name_ok {
        return Err(invalid(SIM_ISTIO, v, "not a module version"));
    }
    let dir = workspace.join(SOURCES_DIR).join(v);
    if !dir.join(LABEL_FILE).is_file() {
        return Err(invalid(
            SIM_ISTIO,
            v,
            format!(
                "not built ({} has no {LABEL_FILE}): run `ISTIO_MODULE_VERSION={v} bash fixtures/sim/build.sh istio`",
                dir.display()
            ),
        ));
    }
    Ok(dir)
}

fn parse_cluster_name(v: &str) -> Result<String, SettingsError> {
    let ok = !v.is_empty()
        && v.len() <= 50
        && v.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !v.starts_with('-')
        && !v.ends_with('-');
    if ok {
        Ok(v.to_string())
    } else {
        Err(invalid(CLUSTER_NAME, v, "not a valid kind cluster name"))
    }
}

fn parse_bool(var: &'static str, v: &str) -> Result<bool, SettingsError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" => Ok(false),
        _ => Err(invalid(var, v, "not a boolean")),
    }
}

fn parse_scale(v: &str) -> Result<f64, SettingsError> {
    let scale: f64 = v
        .trim()
        .parse()
        .map_err(|_| invalid(TIMEOUT_SCALE, v, "not a number"))?;
    if !(0.1..=100.0).contains(&scale) {
        return Err(invalid(TIMEOUT_SCALE, v, "out of range"));
    }
    Ok(scale)
}

/// The workspace root (the directory holding the top-level Cargo.toml).
pub fn workspace_root() -> PathBuf {
    crate::workspace::root()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned(), Path::new("/ws"))
    }

    #[test]
    fn defaults_are_the_tutorial() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.provider, Provider::Kind);
        assert_eq!(s.istio, IstioSource::Tutorial);
        assert_eq!(s.cluster_name, "ambient");
        assert_eq!(s.kind_context(), "kind-ambient");
        assert_eq!(s.kube_context, None);
        assert!(s.keep_cluster);
        assert_eq!(s.timeout(Duration::from_secs(10)), Duration::from_secs(10));
        assert_eq!(s.artifacts_dir, Path::new("/ws/target/ambient/artifacts"));
        assert_eq!(s.cache_dir, Path::new("/ws/target/ambient/cache"));
        assert_eq!(s.state_dir, Path::new("/ws/target/ambient/state"));
        assert_eq!(
            s.tutorial,
            Path::new("/ws/fixtures/tutorial/ambient-tutorial.md")
        );
        assert!(!s.strict_docs);
    }

    #[test]
    fn the_tutorial_and_the_docs_mode_are_settings() {
        let s = settings(&[(TUTORIAL, "Cargo.toml"), (DOCS, "strict")]);
        let err = s.unwrap_err();
        assert_eq!(
            err.var, TUTORIAL,
            "a relative path is under the workspace /ws: {err}"
        );
        let me = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
        let s = settings(&[(TUTORIAL, me), (DOCS, "strict")]).unwrap();
        assert_eq!(s.tutorial, Path::new(me));
        assert!(s.strict_docs);
        assert_eq!(settings(&[(DOCS, "loose")]).unwrap_err().var, DOCS);
    }

    #[test]
    fn every_istio_form_is_accepted() {
        assert_eq!(
            settings(&[(ISTIO, "tutorial")]).unwrap().istio,
            IstioSource::Tutorial
        );
        assert_eq!(
            settings(&[(ISTIO, TUTORIAL_BUILD)]).unwrap().istio,
            IstioSource::Tutorial
        );
        assert_eq!(
            settings(&[(ISTIO, "latest-dev")]).unwrap().istio,
            IstioSource::LatestDev
        );
        assert!(
            matches!(settings(&[(ISTIO, "1.24.2")]).unwrap().istio, IstioSource::Release(v) if v.raw == "1.24.2")
        );
        let dev = "1.25-alpha.0123456789abcdef0123456789abcdef01234567";
        assert!(
            matches!(settings(&[(ISTIO, dev)]).unwrap().istio, IstioSource::DevBuild(v) if v.raw == dev)
        );
        let dir = env!("CARGO_MANIFEST_DIR");
        assert_eq!(
            settings(&[(ISTIO, dir)]).unwrap().istio,
            IstioSource::Local(dir.into())
        );
        // A blank value is an error naming the variable (a failed `$(...)` is not a choice).
        for name in VARIABLES.iter().map(|(name, ..)| *name) {
            for blank in ["", " ", "\t\n"] {
                let e = settings(&[(name, blank)]).unwrap_err();
                assert_eq!(e.var, name);
                assert!(e.to_string().contains("blank"), "{e}");
                assert!(e.to_string().contains(&format!("unset {name}")), "{e}");
            }
        }
        // The near miss: unset is the default.
        assert_eq!(settings(&[]).unwrap().istio, IstioSource::Tutorial);
    }

    #[test]
    fn every_bad_value_names_its_variable() {
        let cases = [
            (ISTIO, "latest"),
            (ISTIO, "1.17.0"),
            (ISTIO, "1.31-dev"),
            (PROVIDER, "docker"),
            (ISTIO, "/does/not/exist"),
            (CLUSTER_NAME, "Ambient"),
            (CLUSTER_NAME, "-x"),
            (CLUSTER_NAME, "a_b"),
            (KEEP_CLUSTER, "maybe"),
            (TIMEOUT_SCALE, "fast"),
            (TIMEOUT_SCALE, "0"),
            (TIMEOUT_SCALE, "1000"),
            (TIMEOUT_SCALE, "NaN"),
            (DOCS, "yes"),
            (TUTORIAL, "/no/such/tutorial.md"),
            (
                ARTIFACTS_DIR,
                concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"),
            ),
        ];
        for (var, value) in cases {
            let err = settings(&[(var, value)]).unwrap_err();
            assert_eq!(err.var, var);
            let text = err.to_string();
            assert!(text.starts_with(&format!("invalid {var}=")), "{text}");
            assert!(text.contains("accepted:"), "{text}");
        }
    }

    #[test]
    fn every_provider_is_selectable_and_existing_needs_a_context() {
        assert_eq!(
            settings(&[(PROVIDER, "kind")]).unwrap().provider,
            Provider::Kind
        );
        assert_eq!(
            settings(&[(PROVIDER, "k3s")]).unwrap().provider,
            Provider::K3s
        );
        let err = settings(&[(PROVIDER, "existing")]).unwrap_err();
        assert!(
            err.to_string().contains("needs AMBIENT_KUBE_CONTEXT"),
            "{err}"
        );
        let s = settings(&[(PROVIDER, "existing"), (KUBE_CONTEXT, "ci-cluster")]).unwrap();
        assert_eq!(
            (s.provider, s.kube_context.as_deref()),
            (Provider::Existing, Some("ci-cluster"))
        );
    }

    #[test]
    fn sim_defaults_to_the_istioctl_it_built() {
        let s = settings(&[(PROVIDER, "sim")]).unwrap();
        assert_eq!(s.provider, Provider::Sim);
        assert_eq!(s.istio, IstioSource::Local("/ws/target/sim/istio".into()));
    }

    #[test]
    fn sim_istio_selects_a_built_source_and_refuses_the_near_misses() {
        let ws = tempfile::tempdir().unwrap();
        let version = "v0.0.0-20260423205519-b01690e6db7d";
        let dir = ws.path().join("target/sim/istio-sources").join(version);
        std::fs::create_dir_all(&dir).unwrap();
        let get = |pairs: &[(&str, &str)]| {
            let map: HashMap<String, String> = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            Settings::from_lookup(|k| map.get(k).cloned(), ws.path())
        };
        let sim = [(PROVIDER, "sim"), (SIM_ISTIO, version)];
        // Built but unlabelled (an unfinished build): refused, naming the command that builds it.
        let err = get(&sim).unwrap_err();
        assert_eq!(err.var, SIM_ISTIO);
        assert!(
            err.reason.contains(
                "ISTIO_MODULE_VERSION=v0.0.0-20260423205519-b01690e6db7d bash fixtures/sim/build.sh"
            ),
            "{err}"
        );
        std::fs::write(dir.join("SOURCE"), "ISTIO_COMMIT=b01690e6db7d\n").unwrap();
        let s = get(&sim).unwrap();
        assert_eq!(s.istio, IstioSource::Local(dir.clone()));
        assert_eq!(s.gateway_api_crds, Some(dir.join("gateway-api-crds")));
        for (pairs, says) in [
            (
                &[(SIM_ISTIO, "v0.0.0-20260423205519-b01690e6db7d")][..],
                "AMBIENT_PROVIDER=sim",
            ),
            (
                &[
                    (PROVIDER, "sim"),
                    (ISTIO, "1.24.2"),
                    (SIM_ISTIO, "v0.0.0-20260423205519-b01690e6db7d"),
                ][..],
                "unset one",
            ),
            (
                &[(PROVIDER, "sim"), (SIM_ISTIO, "../../etc")][..],
                "not a module version",
            ),
            (
                &[
                    (PROVIDER, "sim"),
                    (SIM_ISTIO, "v0.0.0-20990101000000-000000000000"),
                ][..],
                "not built",
            ),
        ] {
            let err = get(pairs).unwrap_err();
            assert_eq!(err.var, SIM_ISTIO, "{pairs:?}");
            assert!(err.reason.contains(says), "{pairs:?}: {err}");
        }
    }

    #[test]
    fn a_value_that_is_not_utf8_is_an_error_never_unset() {
        use std::ffi::OsString;
        use std::os::unix::ffi::OsStringExt;
        for (var, value) in [
            (PROVIDER, &b"sim\xff"[..]),
            (KEEP_CLUSTER, &b"false\xff"[..]),
        ] {
            let env = [(OsString::from(var), OsString::from_vec(value.to_vec()))];
            let err = check_environment(env).unwrap_err();
            assert_eq!(err.var, var);
            assert!(err.to_string().contains("not valid UTF-8"), "{err}");
        }
        let fine = [(OsString::from(PROVIDER), OsString::from("sim"))];
        assert_eq!(check_environment(fine), Ok(()));
    }

    #[test]
    fn an_unknown_ambient_variable_is_a_typo_not_ignored() {
        use std::ffi::OsString;
        let env = [
            (OsString::from("PATH"), OsString::from("/bin")),
            (OsString::from("AMBIENT_PROVDER"), OsString::from("sim")),
        ];
        let err = check_environment(env).unwrap_err().to_string();
        assert!(err.contains("AMBIENT_PROVDER"), "{err}");
        assert!(
            err.contains("AMBIENT_PROVIDER"),
            "the known names are listed: {err}"
        );
        let internal = [(OsString::from("AMBIENT_SIM_HOLD"), OsString::from("1"))];
        assert_eq!(check_environment(internal), Ok(()));
    }

    #[test]
    fn directories_that_cannot_be_created_name_their_variable() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("a-file");
        std::fs::write(&file, "x").unwrap();
        let mut s = settings(&[]).unwrap();
        s.artifacts_dir = file.join("below");
        s.state_dir = tmp.path().join("state");
        let err = s.prepare_dirs().unwrap_err();
        assert_eq!(err.var, ARTIFACTS_DIR);
        assert!(err.to_string().contains("cannot create it"), "{err}");
        s.artifacts_dir = tmp.path().join("artifacts");
        s.prepare_dirs().unwrap();
        let mode = std::fs::metadata(&s.state_dir)
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o700, "the state directory holds keys");
        // A state directory left open by someone is closed again.
        std::fs::set_permissions(&s.state_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        s.prepare_dirs().unwrap();
        let mode = std::fs::metadata(&s.state_dir)
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o700);
    }

    #[test]
    fn good_values_are_read() {
        let s = settings(&[
            (CLUSTER_NAME, "ambient-ci-2"),
            (KEEP_CLUSTER, "No"),
            (TIMEOUT_SCALE, "2.5"),
            (ARTIFACTS_DIR, "out/a"),
            (CACHE_DIR, "/tmp/c"),
        ])
        .unwrap();
        assert_eq!(s.cluster_name, "ambient-ci-2");
        assert!(!s.keep_cluster);
        assert_eq!(s.timeout(Duration::from_secs(2)), Duration::from_secs(5));
        assert_eq!(s.artifacts_dir, Path::new("/ws/out/a"));
        assert_eq!(s.cache_dir, Path::new("/tmp/c"));
    }
}
