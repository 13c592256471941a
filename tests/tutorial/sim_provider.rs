//! The `sim` provider as the tutorial uses it, and the tests of the provider itself: exec, logs
//! and port-forward through the API server to kwok, cleanup when the test process is killed, and
//! the errors a user can meet. Needs the binaries of `bash fixtures/sim/build.sh`, no docker.

use std::path::{Path, PathBuf};
use std::time::Duration;

use support::cluster::sim::{self, Ports, SimBinaries, SimCluster, SimOptions};
use support::settings::Settings;

/// kwok resources: ztunnel and istio-cni containers serve recorded logs of their era; `exec`
/// runs the suite's replay program (only it is on kwok's PATH); port 20001 (Kiali) forwards to
/// `forward_to` (kubernetes-sigs/kwok site docs: logs-, exec- and port-forward-configuration).
pub fn kwok_resources(replay_dir: &Path, forward_to: Option<u16>) -> String {
    let recorded = |f: &str| replay_dir.join(f).display().to_string();
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
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterExec
metadata:
  name: replay-only
spec:
  execs:
  - local:
      workDir: {work}
"#,
        ztunnel = recorded("ztunnel.cri.log"),
        cni = recorded("istio-cni.cri.log"),
        work = replay_dir.display(),
    );
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

/// The recorded real lines of a `fixtures/recorded` file, without comments.
pub fn recorded(file: &str) -> Vec<String> {
    support::fixtures::recorded_lines(file)
        .unwrap_or_default()
        .into_iter()
        .map(|l| l.text)
        .collect()
}

/// The replay directory: the recorded logs in the CRI log format kwok serves (`<time> stdout F
/// <line>`); `bin/curl` stands in for curl inside a kwok pod and says there is no data plane;
/// `bin/echo-args` prints its arguments (for the exec test). Nothing else is on kwok's PATH.
pub fn write_replay(dir: &Path) -> std::io::Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir)?;
    for (recording, cri) in [
        ("ztunnel-access-1.22.log", "ztunnel.cri.log"),
        ("istio-cni.log", "istio-cni.cri.log"),
    ] {
        let now = k8s_openapi::jiff::Timestamp::now();
        let text: String = recorded(recording)
            .iter()
            .map(|l| format!("{now} stdout F {l}\n"))
            .collect();
        std::fs::write(dir.join(cri), text)?;
    }
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin)?;
    let scripts = [
        (
            "curl",
            "#!/bin/sh\necho \"sim: no data plane; curl $* was not sent\"\n",
        ),
        (
            "echo-args",
            "#!/bin/sh\nprintf 'replayed:'\nprintf ' %s' \"$@\"\nprintf '\\n'\n",
        ),
    ];
    for (name, body) in scripts {
        let p = bin.join(name);
        std::fs::write(&p, body)?;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(bin)
}

pub fn options(
    settings: &Settings,
    name: &str,
    forward_to: Option<u16>,
) -> Result<SimOptions, String> {
    let dir = settings.artifacts_dir.join(format!("sim-{name}"));
    let replay = settings.artifacts_dir.join(format!("sim-{name}-replay"));
    let bin = write_replay(&replay).map_err(|e| format!("{}: {e}", replay.display()))?;
    let config_text = support::fixtures::read("kind/ambient.yaml").map_err(|e| e.to_string())?;
    let config =
        support::cluster::kind::KindConfig::parse(&config_text).map_err(|e| e.to_string())?;
    Ok(SimOptions {
        name: name.to_string(),
        dir,
        node_names: config.node_names_for(name),
        ports: Ports::free().map_err(|e| e.to_string())?,
        timeout: settings.timeout(Duration::from_secs(120)),
        kwok_config: Some(kwok_resources(&replay, forward_to)),
        kwok_env: vec![("PATH".into(), bin.display().to_string())],
    })
}

/// Starts the sim cluster the tutorial sections run on.
pub async fn start_for_tutorial(settings: &Settings) -> Result<SimCluster, String> {
    let bins = SimBinaries::locate(&SimBinaries::default_dir()).map_err(|e| e.to_string())?;
    let opts = options(settings, &settings.cluster_name, None)?;
    sim::start(&opts, &bins).await.map_err(|e| e.to_string())
}

// ---- tests of the provider itself ------------------------------------------------------------

use std::io::{BufRead, BufReader};

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::Api;
use serial_test::serial;
use support::k8s::{apply, pods};

use crate::world::block_on;

fn test_settings(tag: &str) -> Settings {
    let dir = support::settings::workspace_root()
        .join("target/ambient/sim-tests")
        .join(tag);
    let map = std::collections::HashMap::from([
        ("AMBIENT_PROVIDER".to_string(), "sim".to_string()),
        (
            "AMBIENT_ARTIFACTS_DIR".to_string(),
            dir.display().to_string(),
        ),
    ]);
    Settings::from_lookup(
        |k| map.get(k).cloned(),
        &support::settings::workspace_root(),
    )
    .unwrap()
}

fn bins() -> SimBinaries {
    SimBinaries::locate(&SimBinaries::default_dir()).unwrap_or_else(|e| panic!("{e}"))
}

fn alive(pid: u32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.split_whitespace()
        .nth(2)
        .is_some_and(|state| state != "Z")
}

/// Also the helper of `components_die_with_a_killed_test_process`: with AMBIENT_SIM_HOLD set it
/// prints the component pids and waits to be killed.
#[test]
#[ignore = "needs the sim binaries: bash fixtures/sim/build.sh"]
#[serial(sim)]
fn sim_cluster_starts_with_three_ready_nodes() {
    let hold = std::env::var_os("AMBIENT_SIM_HOLD").is_some();
    let settings = test_settings(if hold { "hold" } else { "start" });
    let opts = options(&settings, "simtest", None).unwrap();
    let sim = block_on(sim::start(&opts, &bins())).unwrap_or_else(|e| panic!("{e}"));
    let nodes: Api<Node> = Api::all(sim.cluster.client.client());
    let list = block_on(nodes.list(&Default::default())).unwrap();
    let mut names: Vec<String> = list
        .items
        .iter()
        .filter_map(|n| n.metadata.name.clone())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["simtest-control-plane", "simtest-worker", "simtest-worker2"]
    );
    assert!(list.items.iter().all(support::k8s::conditions::node_ready));
    assert_eq!(sim.cluster.context, "sim-simtest");
    let pids: Vec<u32> = sim.pids().iter().map(|(_, p)| *p).collect();
    assert_eq!(pids.len(), 5, "{:?}", sim.pids());
    if hold {
        println!(
            "PIDS {}",
            pids.iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(" ")
        );
        loop {
            std::thread::park();
        }
    }
    drop(sim);
    for pid in pids {
        assert!(!alive(pid), "component {pid} outlived its cluster");
    }
}

#[test]
#[ignore = "needs the sim binaries: bash fixtures/sim/build.sh"]
#[serial(sim)]
fn components_die_with_a_killed_test_process() {
    let exe = std::env::current_exe().unwrap();
    let mut helper = std::process::Command::new(exe)
        .args([
            "--exact",
            "sim_provider::sim_cluster_starts_with_three_ready_nodes",
            "--ignored",
            "--nocapture",
        ])
        .env("AMBIENT_SIM_HOLD", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(helper.stdout.take().unwrap());
    let pids: Vec<u32> = stdout
        .lines()
        .map_while(Result::ok)
        .find_map(|l| {
            l.strip_prefix("PIDS ").map(|rest| {
                rest.split_whitespace()
                    .filter_map(|p| p.parse().ok())
                    .collect()
            })
        })
        .expect("the helper started a cluster");
    assert_eq!(pids.len(), 5);
    assert!(pids.iter().all(|p| alive(*p)));
    // SIGKILL: no destructor runs in the helper.
    helper.kill().unwrap();
    helper.wait().unwrap();
    let gone = block_on(support::k8s::wait::until(
        "the helper's components to die",
        Duration::from_secs(15),
        || {
            let pids = pids.clone();
            async move {
                let left: Vec<u32> = pids.into_iter().filter(|p| alive(*p)).collect();
                if left.is_empty() {
                    support::k8s::wait::Probe::Ready(())
                } else {
                    support::k8s::wait::Probe::NotYet(format!("alive: {left:?}"))
                }
            }
        },
    ));
    gone.unwrap_or_else(|e| panic!("{e}"));
}

#[test]
#[ignore = "needs the sim binaries: bash fixtures/sim/build.sh"]
#[serial(sim)]
fn exec_logs_and_port_forward_go_through_the_api_server() {
    // A local server for port-forward to reach.
    let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let server_port = server.local_addr().unwrap().port();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for mut conn in server.incoming().flatten() {
            let mut buf = [0u8; 1024];
            let _ = conn.read(&mut buf);
            let _ = conn.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nConnection: close\r\n\r\nlocal server\n",
            );
        }
    });
    let settings = test_settings("io");
    let opts = options(&settings, "simio", Some(server_port)).unwrap();
    let sim = block_on(sim::start(&opts, &bins())).unwrap_or_else(|e| panic!("{e}"));
    let c = &sim.cluster.client;
    block_on(async {
        apply::apply_path(c, &support::fixtures::path("apps/sleep.yaml"), "default")
            .await
            .unwrap();
        pods::wait_deployment(c, "default", "sleep", Duration::from_secs(60))
            .await
            .unwrap();
        let pod =
            pods::pick_running(pods::of_deployment(c, "default", "sleep").await.unwrap()).unwrap();
        let name = pods::name_of(&pod).to_string();
        // exec runs the suite's replay program, found on kwok's restricted PATH...
        let out = pods::exec(
            c,
            "default",
            &name,
            None,
            &["echo-args", "hello", "world"],
            Duration::from_secs(30),
        )
        .await
        .unwrap();
        assert_eq!(out.stdout, "replayed: hello world\n", "{out:?}");
        // ... and nothing else.
        let refused = pods::exec(
            c,
            "default",
            &name,
            None,
            &["sh", "-c", "id"],
            Duration::from_secs(30),
        )
        .await;
        assert!(
            refused
                .as_ref()
                .map_or(true, |o| !o.success() && o.stdout.is_empty()),
            "{refused:?}"
        );
        // logs serve the recorded file.
        let recorded = recorded("ztunnel-access-1.22.log").join("\n");
        let mut ztunnel = serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": { "name": "ztunnel-replay", "namespace": "istio-system" },
            "spec": { "nodeName": "simio-worker", "containers": [{ "name": "istio-proxy", "image": "istio/ztunnel" }] },
        });
        ztunnel["spec"]["tolerations"] = serde_json::json!([{ "operator": "Exists" }]);
        let ns = serde_json::json!({ "apiVersion": "v1", "kind": "Namespace", "metadata": { "name": "istio-system" } });
        apply::apply_text(c, "test", &serde_json::to_string(&ns).unwrap(), "default")
            .await
            .unwrap();
        apply::apply_text(
            c,
            "test",
            &serde_json::to_string(&ztunnel).unwrap(),
            "default",
        )
        .await
        .unwrap();
        let api: Api<Pod> = Api::namespaced(c.client(), "istio-system");
        support::k8s::wait::until(
            "the replay ztunnel pod to run",
            Duration::from_secs(60),
            || {
                let api = api.clone();
                async move {
                    match api.get("ztunnel-replay").await {
                        Ok(p) if support::k8s::conditions::pod_ready(&p) => {
                            support::k8s::wait::Probe::Ready(())
                        }
                        other => support::k8s::wait::Probe::NotYet(format!(
                            "{:?}",
                            other.map(|p| p.status.and_then(|s| s.phase))
                        )),
                    }
                }
            },
        )
        .await
        .unwrap();
        let log = pods::logs(c, "istio-system", "ztunnel-replay", "istio-proxy")
            .await
            .unwrap();
        assert_eq!(log.trim_end(), recorded.trim_end());
        // port-forward reaches the local server.
        let forward = pods::port_forward(c, "default", &name, 20001)
            .await
            .unwrap();
        let _ = rustls::crypto::ring::default_provider().install_default();
        let body = reqwest::get(format!("http://{}/", forward.local))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(body, "local server\n");
    });
}

#[test]
#[ignore = "needs the sim binaries: bash fixtures/sim/build.sh"]
#[serial(sim)]
fn startup_failures_are_named() {
    let real = bins();
    let settings = test_settings("errors");
    // A missing binary.
    let empty = tempfile::tempdir().unwrap();
    let err = SimBinaries::locate(empty.path()).unwrap_err().to_string();
    assert!(err.contains("is missing: build the sim binaries"), "{err}");
    // A port in use.
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut opts = options(&settings, "simerr", None).unwrap();
    opts.ports.apiserver = held.local_addr().unwrap().port();
    let err = block_on(sim::start(&opts, &real))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("(wanted for kube-apiserver)"), "{err}");
    // An apiserver that never answers, and one that exits at once.
    for (body, expected) in [
        ("sleep 600", "kube-apiserver did not become ready"),
        (
            "echo 'bad flag' >&2; exit 3",
            "kube-apiserver exited (exit status 3)",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        for b in support::cluster::sim::BINARIES {
            std::os::unix::fs::symlink(real.dir.join(b), dir.path().join(b)).unwrap();
        }
        std::os::unix::fs::symlink(real.dir.join("kwok-stages"), dir.path().join("kwok-stages"))
            .unwrap();
        std::fs::remove_file(dir.path().join("kube-apiserver")).unwrap();
        let fake = dir.path().join("kube-apiserver");
        std::fs::write(&fake, format!("#!/bin/sh\n{body}\n")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut opts = options(&settings, "simerr", None).unwrap();
        opts.timeout = Duration::from_secs(3);
        let err = block_on(sim::start(&opts, &SimBinaries::locate(dir.path()).unwrap()))
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains(expected), "{err}");
    }
}
