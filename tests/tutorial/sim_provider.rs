//! The `sim` provider's own tests: exec, logs and port-forward through the API server to kwok,
//! what kwok may execute, where secrets live, cleanup when the test process is killed, two runs
//! side by side, and the errors a user can meet. Needs the binaries of `bash
//! fixtures/sim/build.sh`, no docker. Every cluster here is named after `AMBIENT_CLUSTER_NAME`
//! and lives under `AMBIENT_STATE_DIR` / `AMBIENT_ARTIFACTS_DIR`, so two runs with different
//! names never meet.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::Api;
use serial_test::serial;
use support::cluster::sim::{self, SimBinaries, SimCluster, SimOptions, owner};
use support::k8s::wait::{Probe, until};
use support::k8s::{apply, pods};
use support::settings::Settings;

use crate::world::block_on;

/// The run's settings, forced to the sim provider.
fn settings() -> Settings {
    let mut s = Settings::from_env().unwrap_or_else(|e| panic!("{e}"));
    s.provider = support::settings::Provider::Sim;
    s
}

/// A cluster name of this run for one test: `<AMBIENT_CLUSTER_NAME>-<tag>`.
fn name(settings: &Settings, tag: &str) -> String {
    format!("{}-{tag}", settings.cluster_name)
}

fn bins() -> SimBinaries {
    SimBinaries::locate(&SimBinaries::default_dir()).unwrap_or_else(|e| panic!("{e}"))
}

fn start(settings: &Settings, tag: &str, forward_to: Option<u16>) -> SimCluster {
    let opts = SimOptions::for_settings(settings, &name(settings, tag), forward_to)
        .unwrap_or_else(|e| panic!("{e}"));
    block_on(sim::start(&opts, &bins())).unwrap_or_else(|e| panic!("{e}"))
}

fn alive(pid: u32) -> bool {
    owner::ProcessId::of(pid).is_some()
}

/// Also the helper of the tests below that need a child process: with AMBIENT_SIM_HOLD set it
/// prints the component pids and waits to be killed.
#[test]
#[ignore = "needs the sim binaries: bash fixtures/sim/build.sh"]
#[serial(sim)]
fn sim_cluster_starts_with_three_ready_nodes() {
    let hold = std::env::var_os("AMBIENT_SIM_HOLD").is_some();
    let settings = settings();
    let sim = start(&settings, "start", None);
    let nodes: Api<Node> = Api::all(sim.cluster.client.client());
    let list = block_on(nodes.list(&Default::default())).unwrap();
    let mut names: Vec<String> = list
        .items
        .iter()
        .filter_map(|n| n.metadata.name.clone())
        .collect();
    names.sort();
    let cluster = name(&settings, "start");
    assert_eq!(
        names,
        [
            format!("{cluster}-control-plane"),
            format!("{cluster}-worker"),
            format!("{cluster}-worker2")
        ]
    );
    assert!(list.items.iter().all(support::k8s::conditions::node_ready));
    // kwok renews a Lease per node, or the node-lifecycle controller marks every pod NotReady
    // once its grace period has passed.
    let leases: Api<k8s_openapi::api::coordination::v1::Lease> =
        Api::namespaced(sim.cluster.client.client(), "kube-node-lease");
    block_on(until(
        "a Lease for every node",
        Duration::from_secs(30),
        || {
            let leases = leases.clone();
            let names = names.clone();
            async move {
                match leases.list(&Default::default()).await {
                    Ok(l) => {
                        let held: Vec<String> = l
                            .items
                            .iter()
                            .filter_map(|x| x.metadata.name.clone())
                            .collect();
                        if names.iter().all(|n| held.contains(n)) {
                            Probe::Ready(())
                        } else {
                            Probe::NotYet(format!("leases: {held:?}"))
                        }
                    }
                    Err(e) => Probe::NotYet(e.to_string()),
                }
            }
        },
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sim.cluster.context, format!("sim-{cluster}"));
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

/// Runs `sim_cluster_starts_with_three_ready_nodes` in a child test process with `env`.
fn child(env: &[(&str, &str)], hold: bool) -> std::process::Child {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = std::process::Command::new(exe);
    cmd.args([
        "--exact",
        "sim_provider::sim_cluster_starts_with_three_ready_nodes",
        "--ignored",
        "--nocapture",
    ])
    .envs(env.iter().copied())
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped());
    if hold {
        cmd.env("AMBIENT_SIM_HOLD", "1");
    }
    cmd.spawn().unwrap()
}

fn wait_pids(helper: &mut std::process::Child) -> Vec<u32> {
    let stdout = BufReader::new(helper.stdout.take().unwrap());
    stdout
        .lines()
        .map_while(Result::ok)
        .find_map(|l| {
            l.strip_prefix("PIDS ").map(|rest| {
                rest.split_whitespace()
                    .filter_map(|p| p.parse().ok())
                    .collect()
            })
        })
        .expect("the helper started a cluster")
}

#[test]
#[ignore = "needs the sim binaries: bash fixtures/sim/build.sh"]
#[serial(sim)]
fn components_die_with_a_killed_test_process() {
    let settings = settings();
    let cluster = format!("{}-hold", settings.cluster_name);
    let mut helper = child(&[("AMBIENT_CLUSTER_NAME", &cluster)], true);
    let pids = wait_pids(&mut helper);
    assert_eq!(pids.len(), 5);
    assert!(pids.iter().all(|p| alive(*p)));
    // SIGKILL: no destructor runs in the helper.
    helper.kill().unwrap();
    helper.wait().unwrap();
    let gone = block_on(until(
        "the helper's components to die",
        Duration::from_secs(15),
        || {
            let pids = pids.clone();
            async move {
                let left: Vec<u32> = pids.into_iter().filter(|p| alive(*p)).collect();
                if left.is_empty() {
                    Probe::Ready(())
                } else {
                    Probe::NotYet(format!("alive: {left:?}"))
                }
            }
        },
    ));
    gone.unwrap_or_else(|e| panic!("{e}"));
}

#[test]
#[ignore = "needs the sim binaries: bash fixtures/sim/build.sh"]
#[serial(sim)]
fn two_runs_with_different_names_both_pass_and_one_name_is_never_shared() {
    let settings = settings();
    // Two whole test runs at the same time, as two users (or two CI jobs) would start them.
    let a = format!("{}-a", settings.cluster_name);
    let b = format!("{}-b", settings.cluster_name);
    let runs = [
        child(&[("AMBIENT_CLUSTER_NAME", &a)], false),
        child(&[("AMBIENT_CLUSTER_NAME", &b)], false),
    ];
    for run in runs {
        let out = run.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "a concurrent run failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The same name while its owner still runs it: refused, and the first run is untouched.
    let mut holder = child(&[("AMBIENT_CLUSTER_NAME", &a)], true);
    let pids = wait_pids(&mut holder);
    let mut second = settings.clone();
    second.cluster_name = a.clone();
    let opts = SimOptions::for_settings(&second, &format!("{a}-start"), None).unwrap();
    let err = block_on(sim::start(&opts, &bins()))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("is in use by process"), "{err}");
    assert!(
        pids.iter().all(|p| alive(*p)),
        "the first run was not harmed"
    );
    holder.kill().unwrap();
    holder.wait().unwrap();
}

/// Every file under `dir` whose content is a credential.
fn secrets_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(text) = std::fs::read_to_string(&p)
                && text.lines().any(|l| {
                    l.contains("PRIVATE KEY")
                        || l.contains("client-key-data")
                        || l.trim_start().starts_with("token:")
                })
            {
                found.push(p.display().to_string());
            }
        }
    }
    found
}

#[test]
#[ignore = "needs the sim binaries: bash fixtures/sim/build.sh"]
#[serial(sim)]
fn secrets_are_private_and_never_evidence() {
    use std::os::unix::fs::PermissionsExt;
    let settings = settings();
    let sim = start(&settings, "files", None);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&sim.state_dir), 0o700, "{}", sim.state_dir.display());
    let keys = secrets_under(&sim.state_dir);
    assert!(keys.len() >= 2, "the admin key and kubeconfig: {keys:?}");
    for file in &keys {
        assert_eq!(mode(Path::new(file)), 0o600, "{file}");
    }
    let evidence = secrets_under(&settings.artifacts_dir);
    assert!(evidence.is_empty(), "secrets in the evidence: {evidence:?}");
    // The component logs are evidence, and they are there.
    let logs = settings
        .artifacts_dir
        .join(format!("sim-{}", name(&settings, "files")))
        .join("logs/kube-apiserver.log");
    assert!(logs.is_file(), "{}", logs.display());
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
    let settings = settings();
    let sim = start(&settings, "io", Some(server_port));
    let c = &sim.cluster.client;
    let node = format!("{}-worker", name(&settings, "io"));
    block_on(async {
        apply::apply_path(c, &support::fixtures::path("apps/sleep.yaml"), "default")
            .await
            .unwrap();
        pods::wait_deployment(c, "default", "sleep", Duration::from_secs(60))
            .await
            .unwrap();
        let pod =
            pods::pick_running(pods::of_deployment(c, "default", "sleep").await.unwrap()).unwrap();
        let pod_name = pods::name_of(&pod).to_string();
        let exec = |argv: &'static [&'static str]| {
            pods::exec(c, "default", &pod_name, None, argv, Duration::from_secs(30))
        };
        // kwok may execute the replay program and nothing else: not a shell, not an absolute
        // path, whatever is on the machine (the kernel refuses; see support::jail).
        for refused in [
            &["sh", "-c", "id"][..],
            &["/usr/bin/id"],
            &["/bin/sh", "-c", "id"],
        ] {
            let out = exec(refused).await;
            assert!(
                out.as_ref()
                    .map_or(true, |o| !o.success() && !o.stdout.contains("uid=")),
                "{refused:?} ran: {out:?}"
            );
        }
        let replayed = exec(&["echo-args", "hello", "world"]).await;
        if sim.exec_served {
            assert_eq!(replayed.unwrap().stdout, "replayed: hello world\n");
        } else {
            assert!(replayed.map_or(true, |o| !o.success()), "no exec at all");
        }
        // logs serve the recorded file.
        let recorded = sim::replay::recorded("ztunnel-access-1.22.log").join("\n");
        let ztunnel = serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": { "name": "ztunnel-replay", "namespace": "istio-system" },
            "spec": {
                "nodeName": node,
                "containers": [{ "name": "istio-proxy", "image": "istio/ztunnel" }],
                "tolerations": [{ "operator": "Exists" }],
            },
        });
        let ns = serde_json::json!({ "apiVersion": "v1", "kind": "Namespace", "metadata": { "name": "istio-system" } });
        for object in [ns, ztunnel] {
            apply::apply_text(c, "test", &object.to_string(), "default")
                .await
                .unwrap();
        }
        let api: Api<Pod> = Api::namespaced(c.client(), "istio-system");
        until(
            "the replay ztunnel pod to run",
            Duration::from_secs(60),
            || {
                let api = api.clone();
                async move {
                    match api.get("ztunnel-replay").await {
                        Ok(p) if support::k8s::conditions::pod_ready(&p) => Probe::Ready(()),
                        other => Probe::NotYet(format!(
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
        let forward = pods::port_forward(c, "default", &pod_name, 20001)
            .await
            .unwrap();
        let http =
            support::tls::http_client(Duration::from_secs(5), Duration::from_secs(30)).unwrap();
        let body = http
            .get(format!("http://{}/", forward.local))
            .send()
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
    let settings = settings();
    let cluster = name(&settings, "err");
    // A missing binary.
    let empty = tempfile::tempdir().unwrap();
    let err = SimBinaries::locate(empty.path()).unwrap_err().to_string();
    assert!(err.contains("is missing: build the sim binaries"), "{err}");
    // A port in use.
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut opts = SimOptions::for_settings(&settings, &cluster, None).unwrap();
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
        for b in sim::BINARIES {
            std::os::unix::fs::symlink(real.dir.join(b), dir.path().join(b)).unwrap();
        }
        std::os::unix::fs::symlink(real.dir.join("kwok-stages"), dir.path().join("kwok-stages"))
            .unwrap();
        std::fs::remove_file(dir.path().join("kube-apiserver")).unwrap();
        let fake = dir.path().join("kube-apiserver");
        std::fs::write(&fake, format!("#!/bin/sh\n{body}\n")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut opts = SimOptions::for_settings(&settings, &cluster, None).unwrap();
        opts.timeout = Duration::from_secs(3);
        let err = block_on(sim::start(&opts, &SimBinaries::locate(dir.path()).unwrap()))
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains(expected), "{err}");
    }
}
