//! What kwok serves for the data-plane half on sim: the recorded logs of `fixtures/recorded/` as
//! the ztunnel and istio-cni containers' logs, the replay program for `kubectl exec`, and a local
//! address for port-forward (kubernetes-sigs/kwok site docs: logs-, exec- and
//! port-forward-configuration).

use std::path::{Path, PathBuf};

use super::{SimError, io};

/// The replay directory of one cluster (inside its private state directory).
#[derive(Debug, Clone)]
pub struct Replay {
    pub dir: PathBuf,
    /// Holds only copies of the replay program, named after what they stand in for.
    pub bin: PathBuf,
}

/// Names the replay program answers to (fixtures/sim/replay/main.go).
pub const PROGRAMS: &[&str] = &["curl", "echo-args", "sleep"];

/// The recorded real lines of a `fixtures/recorded` file, without comments.
pub fn recorded(file: &str) -> Vec<String> {
    crate::fixtures::recorded_lines(file)
        .unwrap_or_default()
        .into_iter()
        .map(|l| l.text)
        .collect()
}

/// Writes the replay directory: the recorded logs in the CRI log format kwok serves (`<time>
/// stdout F <line>`) and a copy of the static replay program per name in [`PROGRAMS`].
pub fn write(dir: &Path, replay_program: &Path) -> Result<Replay, SimError> {
    use std::os::unix::fs::PermissionsExt;
    crate::settings::create_dir(dir, true).map_err(io(dir))?;
    for (recording, cri) in [
        ("ztunnel-access-1.22.log", "ztunnel.cri.log"),
        ("istio-cni.log", "istio-cni.cri.log"),
    ] {
        let now = k8s_openapi::jiff::Timestamp::now();
        let text: String = recorded(recording)
            .iter()
            .map(|l| format!("{now} stdout F {l}\n"))
            .collect();
        let path = dir.join(cri);
        std::fs::write(&path, text).map_err(io(&path))?;
    }
    let bin = dir.join("bin");
    crate::settings::create_dir(&bin, true).map_err(io(&bin))?;
    for name in PROGRAMS {
        let p = bin.join(name);
        std::fs::copy(replay_program, &p).map_err(io(&p))?;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o700)).map_err(io(&p))?;
    }
    Ok(Replay {
        dir: dir.to_path_buf(),
        bin,
    })
}

/// kwok resources: ztunnel and istio-cni containers serve recorded logs; `exec` (when `exec` is
/// true) runs in the replay directory; ports 20001 (Kiali) and 8080 forward to `forward_to`.
pub fn kwok_resources(replay: &Replay, exec: bool, forward_to: Option<u16>) -> String {
    let file = |f: &str| replay.dir.join(f).display().to_string();
    let mut yaml = format!(
        r#"apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterLogs
metadata:
  name: ztunnel-recorded
spec:
  selector:
    matchNamespaces: [istio-system]
  logs:
  - containers: [istio-proxy]
    logsFile: {ztunnel}
    follow: false
  - containers: [install-cni]
    logsFile: {cni}
    follow: false
"#,
        ztunnel = file("ztunnel.cri.log"),
        cni = file("istio-cni.cri.log"),
    );
    if exec {
        yaml.push_str(&format!(
            r#"---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterExec
metadata:
  name: replay-only
spec:
  execs:
  - local:
      workDir: {work}
"#,
            work = replay.dir.display(),
        ));
    }
    if let Some(port) = forward_to {
        yaml.push_str(&format!(
            r#"---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterPortForward
metadata:
  name: local-forward
spec:
  forwards:
  - ports: [20001, 8080]
    target:
      port: {port}
      address: 127.0.0.1
"#
        ));
    }
    yaml
}
