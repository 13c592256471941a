//! Prerequisites, checked before anything slow starts, for the provider chosen: docker, kind,
//! memory and inotify limits for kind; docker and memory for k3s; the built binaries for sim;
//! and, for every provider, an Istio archive for this machine's architecture.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::istio::acquire::istio_arch;
use crate::process::{ProcessError, Tools};
use crate::settings::{IstioSource, Provider, Settings};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    Warn,
    Fail,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: &'static str,
    pub status: Status,
    pub detail: String,
    /// What to do about a warning or failure.
    pub fix: Option<String>,
}

/// What the checks read; tests give a fake `/proc` and fake tools.
#[derive(Debug, Clone)]
pub struct Inputs {
    pub tools: Tools,
    pub proc_root: PathBuf,
    pub machine: String,
    pub istio: IstioSource,
    pub provider: Provider,
    /// Where the sim binaries are expected (`target/sim/bin`).
    pub sim_bin_dir: PathBuf,
}

impl Inputs {
    pub fn for_settings(settings: &Settings) -> Self {
        Inputs {
            tools: Tools::default(),
            proc_root: "/proc".into(),
            machine: std::env::consts::ARCH.into(),
            istio: settings.istio.clone(),
            provider: settings.provider,
            sim_bin_dir: crate::cluster::sim::SimBinaries::default_dir(),
        }
    }
}

/// kind's "known issues" page: three nodes plus Istio exhaust the default inotify limits.
pub const MIN_WATCHES: u64 = 524_288;
pub const MIN_INSTANCES: u64 = 512;
/// Three kind nodes, istiod, ztunnel, istio-cni, Bookinfo and Kiali, with some room.
pub const MIN_AVAILABLE_GIB: u64 = 6;
/// One k3s node with the same workloads.
pub const MIN_AVAILABLE_GIB_K3S: u64 = 2;

pub async fn run(inputs: &Inputs) -> Vec<Check> {
    let mut checks = Vec::new();
    match inputs.provider {
        Provider::Kind => {
            checks.push(docker(&inputs.tools).await);
            checks.push(kind(&inputs.tools).await);
            checks.push(memory(&inputs.proc_root, MIN_AVAILABLE_GIB));
            checks.push(inotify(&inputs.proc_root));
        }
        Provider::K3s => {
            checks.push(docker(&inputs.tools).await);
            checks.push(memory(&inputs.proc_root, MIN_AVAILABLE_GIB_K3S));
        }
        Provider::Sim => checks.push(sim_binaries(&inputs.sim_bin_dir, &inputs.istio)),
        Provider::Existing => {}
    }
    checks.push(arch(&inputs.machine, &inputs.istio));
    checks
}

/// The control plane's binaries, and the istiod sim runs after the install: the Istio release's
/// own `bin/pilot-discovery` (only a local build has one; `fixtures/sim/build.sh` makes it).
fn sim_binaries(dir: &Path, istio: &IstioSource) -> Check {
    use crate::cluster::sim::{SimBinaries, SimError, istiod};
    let name = "sim binaries";
    let IstioSource::Local(release) = istio else {
        return fail(
            name,
            "sim runs istiod from the Istio release's bin/pilot-discovery, and AMBIENT_ISTIO \
             does not name a local build"
                .into(),
            "unset AMBIENT_ISTIO (sim then uses target/sim/istio from bash fixtures/sim/build.sh)",
        );
    };
    let pilot = istiod::binary(&crate::istio::acquire::local_root(release));
    let located = SimBinaries::locate(dir).and_then(|_| {
        if pilot.is_file() {
            Ok(())
        } else {
            Err(SimError::MissingBinary {
                path: pilot.display().to_string(),
            })
        }
    });
    match located {
        Ok(()) => Check {
            name,
            status: Status::Ok,
            detail: format!("in {}; istiod {}", dir.display(), pilot.display()),
            fix: None,
        },
        Err(e) => fail(name, e.to_string(), "bash fixtures/sim/build.sh"),
    }
}

async fn docker(tools: &Tools) -> Check {
    let name = "docker";
    let out = tools
        .command("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .timeout(Duration::from_secs(20))
        .run()
        .await;
    match out {
        Ok(o) => Check {
            name,
            status: Status::Ok,
            detail: format!("server {}", o.stdout.trim()),
            fix: None,
        },
        Err(ProcessError::NotFound { .. }) => fail(
            name,
            "not found on PATH".into(),
            crate::process::install_hint("docker"),
        ),
        Err(e) => fail(
            name,
            e.to_string(),
            "start the Docker daemon (`sudo systemctl start docker`) and check `docker info`",
        ),
    }
}

async fn kind(tools: &Tools) -> Check {
    let name = "kind";
    match crate::cluster::kind::KindCli::new(tools.clone())
        .version()
        .await
    {
        Ok(v) => Check {
            name,
            status: Status::Ok,
            detail: v,
            fix: None,
        },
        Err(ProcessError::NotFound { .. }) => fail(
            name,
            "not found on PATH".into(),
            crate::process::install_hint("kind"),
        ),
        Err(e) => fail(name, e.to_string(), "check that `kind version` runs"),
    }
}

fn memory(proc_root: &Path, min_gib: u64) -> Check {
    let name = "memory";
    let text = std::fs::read_to_string(proc_root.join("meminfo")).unwrap_or_default();
    let available_kib = text
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse::<u64>().ok());
    match available_kib {
        None => Check {
            name,
            status: Status::Warn,
            detail: "cannot read MemAvailable".into(),
            fix: None,
        },
        Some(kib) => {
            let gib = kib as f64 / 1048576.0;
            if kib >= min_gib * 1048576 {
                Check {
                    name,
                    status: Status::Ok,
                    detail: format!("{gib:.1} GiB available"),
                    fix: None,
                }
            } else {
                Check {
                    name,
                    status: Status::Warn,
                    detail: format!(
                        "{gib:.1} GiB available, the tutorial cluster wants about {min_gib} GiB"
                    ),
                    fix: Some(
                        "close memory-hungry programs or give the Docker VM more memory".into(),
                    ),
                }
            }
        }
    }
}

fn inotify(proc_root: &Path) -> Check {
    let name = "inotify";
    let read = |f: &str| {
        std::fs::read_to_string(proc_root.join("sys/fs/inotify").join(f))
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
    };
    match (read("max_user_watches"), read("max_user_instances")) {
        (Some(w), Some(i)) if w >= MIN_WATCHES && i >= MIN_INSTANCES => Check {
            name,
            status: Status::Ok,
            detail: format!("max_user_watches {w}, max_user_instances {i}"),
            fix: None,
        },
        (w, i) => Check {
            name,
            status: Status::Warn,
            detail: format!(
                "max_user_watches {}, max_user_instances {} (kind + Istio need {MIN_WATCHES} and {MIN_INSTANCES})",
                w.map_or("unknown".into(), |v| v.to_string()),
                i.map_or("unknown".into(), |v| v.to_string())
            ),
            fix: Some(format!(
                "sudo sysctl fs.inotify.max_user_watches={MIN_WATCHES} fs.inotify.max_user_instances={MIN_INSTANCES}"
            )),
        },
    }
}

fn arch(machine: &str, istio: &IstioSource) -> Check {
    let name = "architecture";
    match istio_arch(machine) {
        Err(e) => fail(
            name,
            e.to_string(),
            "run the suite on linux/amd64 or linux/arm64",
        ),
        Ok("arm64") if matches!(istio, IstioSource::Tutorial) => fail(
            name,
            "the tutorial's 2022 build exists for linux-amd64 only".into(),
            "set AMBIENT_ISTIO to a release, e.g. AMBIENT_ISTIO=1.24.2",
        ),
        Ok(a) => Check {
            name,
            status: Status::Ok,
            detail: format!("linux-{a} archives exist"),
            fix: None,
        },
    }
}

fn fail(name: &'static str, detail: String, fix: &str) -> Check {
    Check {
        name,
        status: Status::Fail,
        detail,
        fix: Some(fix.to_string()),
    }
}

/// One line per check, and what to do where something is wrong.
pub fn render(checks: &[Check]) -> String {
    let mut out = String::new();
    for c in checks {
        let mark = match c.status {
            Status::Ok => "ok  ",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
        };
        out.push_str(&format!("{mark} {:<13} {}\n", c.name, c.detail));
        if let Some(fix) = &c.fix {
            out.push_str(&format!("     {:<13} fix: {fix}\n", ""));
        }
    }
    out
}

/// Prerequisites that are missing, with what to do about them.
#[derive(Debug, thiserror::Error)]
#[error("prerequisites missing for AMBIENT_PROVIDER={provider}:\n{report}")]
pub struct Missing {
    pub provider: &'static str,
    pub report: String,
}

/// Runs the checks for these settings; any failure is an error listing every check.
pub async fn require(settings: &Settings) -> Result<(), Missing> {
    let checks = run(&Inputs::for_settings(settings)).await;
    if has_failures(&checks) {
        return Err(Missing {
            provider: settings.provider.id(),
            report: render(&checks),
        });
    }
    Ok(())
}

pub fn has_failures(checks: &[Check]) -> bool {
    checks.iter().any(|c| c.status == Status::Fail)
}
