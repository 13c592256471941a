//! The `sim` provider's own tests: exec, logs and port-forward through the API server to kwok,
//! what kwok may execute, where secrets live, istiod as a local process acting on the cluster,
//! cleanup when the test process is killed, two runs side by side, and the errors a user can
//! meet. Needs the binaries of `bash
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
        hold_for_the_parent(&sim);
    }
    drop(sim);
    for pid in pids {
        assert!(!alive(pid), "component {pid} outlived its cluster");
    }
}

/// In a helper child process: prints `PIDS name=pid ...` for the parent test, then waits to be
/// killed.
fn hold_for_the_parent(sim: &SimCluster) -> ! {
    let pids: Vec<String> = sim
        .pids()
        .iter()
        .map(|(name, pid)| format!("{name}={pid}"))
        .collect();
    println!("PIDS {}", pids.join(" "));
    loop {
        std::thread::park();
    }
}

/// The test that holds a plain cluster in a child process.
const HOLD_CLUSTER: &str = "sim_provider::sim_cluster_starts_with_three_ready_nodes";
/// The test that holds a cluster with Istio installed and istiod running.
const HOLD_ISTIOD: &str = "sim_provider::istiod_runs_after_install_and_acts_on_the_cluster";

/// Runs the test `exact` (one of the `HOLD_*`) in a child test process with `env`.
fn child(exact: &str, env: &[(&str, &str)], hold: bool) -> std::process::Child {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = std::process::Command::new(exe);
    cmd.args(["--exact", exact, "--ignored", "--nocapture"])
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    if hold {
        cmd.env("AMBIENT_SIM_HOLD", "1");
    }
    cmd.spawn().unwrap()
}

/// The helper's components, `(name, pid)`, once its cluster runs.
fn wait_pids(helper: &mut std::process::Child) -> Vec<(String, u32)> {
    let stdout = BufReader::new(helper.stdout.take().unwrap());
    stdout
        .lines()
        .map_while(Result::ok)
        .find_map(|l| {
            l.strip_prefix("PIDS ").map(|rest| {
                rest.split_whitespace()
                    .filter_map(|p| {
                        let (name, pid) = p.split_once('=')?;
                        Some((name.to_string(), pid.parse().ok()?))
                    })
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
    // The helper installs Istio and runs istiod: it must die too.
    let mut helper = child(HOLD_ISTIOD, &[("AMBIENT_CLUSTER_NAME", &cluster)], true);
    let named = wait_pids(&mut helper);
    let names: Vec<&str> = named.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "etcd",
            "kube-apiserver",
            "kube-controller-manager",
            "kube-scheduler",
            "kwok",
            "istiod"
        ]
    );
    let pids: Vec<u32> = named.iter().map(|(_, p)| *p).collect();
    assert!(pids.iter().all(|p| alive(*p)));
    let istiod = pids[5];
    let comm = std::fs::read_to_string(format!("/proc/{istiod}/comm")).unwrap_or_default();
    assert!(comm.starts_with("pilot-discover"), "istiod runs: {comm:?}");
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
        child(HOLD_CLUSTER, &[("AMBIENT_CLUSTER_NAME", &a)], false),
        child(HOLD_CLUSTER, &[("AMBIENT_CLUSTER_NAME", &b)], false),
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
    let mut holder = child(HOLD_CLUSTER, &[("AMBIENT_CLUSTER_NAME", &a)], true);
    let pids: Vec<u32> = wait_pids(&mut holder).into_iter().map(|(_, p)| p).collect();
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

/// Two starts of one name at the same moment: one wins, the other is refused with the winner's
/// pid before it touches anything (never a crash quoting the winner's component logs).
#[test]
#[ignore = "needs the sim binaries: bash fixtures/sim/build.sh"]
#[serial(sim)]
fn two_starts_of_one_name_at_once_one_wins_and_the_other_is_refused_with_its_pid() {
    let settings = settings();
    let cluster = format!("{}-race", settings.cluster_name);
    let env = [("AMBIENT_CLUSTER_NAME", cluster.as_str())];
    let mut runs = vec![
        child(HOLD_CLUSTER, &env, true),
        child(HOLD_CLUSTER, &env, true),
    ];
    let loser_at = block_on(until(
        "one of two same-name starts to give up",
        settings.timeout(Duration::from_secs(120)),
        || {
            let exited = runs
                .iter_mut()
                .position(|r| r.try_wait().ok().flatten().is_some());
            async move {
                match exited {
                    Some(i) => Probe::Ready(i),
                    None => Probe::NotYet("both still run".into()),
                }
            }
        },
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let loser = runs.remove(loser_at);
    let mut winner = runs.pop().unwrap();
    let out = loser.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains(&format!("is in use by process {}", winner.id())),
        "refused with the winner's pid ({}):\n{said}",
        winner.id()
    );
    for crash in ["exited (", "did not become ready", "ends with:"] {
        assert!(!said.contains(crash), "{crash:?} in:\n{said}");
    }
    let pids: Vec<u32> = wait_pids(&mut winner).into_iter().map(|(_, p)| p).collect();
    assert_eq!(pids.len(), 5);
    assert!(pids.iter().all(|p| alive(*p)), "the winner runs untouched");
    winner.kill().unwrap();
    winner.wait().unwrap();
}

/// Every process below `pid` (its children, theirs, ...), from `/proc/<pid>/task/*/children`.
fn descendants(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let mut stack = vec![pid];
    while let Some(p) = stack.pop() {
        let tasks = std::fs::read_dir(format!("/proc/{p}/task"))
            .into_iter()
            .flatten();
        for task in tasks.flatten() {
            let children =
                std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
            for child in children.split_whitespace().filter_map(|c| c.parse().ok()) {
                found.push(child);
                stack.push(child);
            }
        }
    }
    found
}

/// A client of the cluster another process of this test holds (its kubeconfig in the private
/// state directory, as any process of the suite's user can read it).
fn client_of(settings: &Settings, name: &str) -> support::cluster::GuardedClient {
    let kubeconfig = settings
        .state_dir
        .join(format!("sim-{name}"))
        .join(format!("{name}.kubeconfig"));
    let text = std::fs::read_to_string(&kubeconfig).unwrap();
    block_on(async {
        support::cluster::guard::approve_local(
            &kubeconfig.display().to_string(),
            &text,
            &sim::context(name),
        )?
        .connect()
        .await
    })
    .unwrap_or_else(|e| panic!("{e}"))
}

/// Whatever kwok starts inside the exec jail ends with the run: SIGKILL of the test process that
/// owns the cluster leaves no process behind, not even one an exec session is still waiting on.
#[test]
#[ignore = "needs the sim binaries: bash fixtures/sim/build.sh"]
#[serial(sim)]
fn nothing_started_in_the_exec_jail_outlives_a_killed_test_process() {
    let status = support::jail::kernel_status();
    if !matches!(status, support::jail::LandlockStatus::Available { .. }) {
        eprintln!(
            "SKIPPED: kwok serves no exec without Landlock: {}",
            support::jail::describe(status)
        );
        return;
    }
    let settings = settings();
    let cluster = format!("{}-jail", settings.cluster_name);
    let mut helper = child(HOLD_CLUSTER, &[("AMBIENT_CLUSTER_NAME", &cluster)], true);
    let named = wait_pids(&mut helper);
    let kwok = named
        .iter()
        .find_map(|(n, p)| (n == "kwok").then_some(*p))
        .unwrap_or_else(|| panic!("kwok is among the components: {named:?}"));
    let c = client_of(&settings, &format!("{cluster}-start"));
    let pod_name = block_on(async {
        apply::apply_path(&c, &support::fixtures::path("apps/sleep.yaml"), "default")
            .await
            .unwrap();
        pods::wait_deployment(&c, "default", "sleep", Duration::from_secs(60))
            .await
            .unwrap();
        let pods = pods::of_deployment(&c, "default", "sleep").await.unwrap();
        pods::name_of(&pods::pick_running(pods).unwrap()).to_string()
    });
    // Not joined: the session ends when its cluster does, or at its own timeout.
    let _session = std::thread::spawn(move || {
        block_on(pods::exec(
            &c,
            "default",
            &pod_name,
            None,
            &["sleep", "600"],
            Duration::from_secs(120),
        ))
    });
    let jailed = block_on(until(
        "kwok to run the replay program `sleep`",
        Duration::from_secs(30),
        || {
            let below = descendants(kwok);
            async move {
                let sleeping: Vec<u32> = below
                    .into_iter()
                    .filter(|p| {
                        std::fs::read_to_string(format!("/proc/{p}/comm"))
                            .is_ok_and(|c| c.trim() == "sleep")
                    })
                    .collect();
                if sleeping.is_empty() {
                    Probe::NotYet("no sleep below kwok".into())
                } else {
                    Probe::Ready(sleeping)
                }
            }
        },
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let mut everything: Vec<u32> = named.iter().map(|(_, p)| *p).collect();
    everything.extend(descendants(kwok));
    everything.extend(jailed);
    helper.kill().unwrap();
    helper.wait().unwrap();
    block_on(until(
        "every component and every process started in the jail to end",
        Duration::from_secs(15),
        || {
            let left: Vec<u32> = everything.iter().copied().filter(|p| alive(*p)).collect();
            async move {
                if left.is_empty() {
                    Probe::Ready(())
                } else {
                    Probe::NotYet(format!("alive: {left:?}"))
                }
            }
        },
    ))
    .unwrap_or_else(|e| panic!("{e}"));
}

/// Runs `curl` as another local user (nobody: `setpriv --reuid=65534 --regid=65534
/// --clear-groups`), inside the network namespace of process `inside` if given (entered as root,
/// before the user changes): the HTTP status it got, `000` when there was no HTTP answer.
fn curl_as_nobody(inside: Option<u32>, args: &[&str]) -> String {
    let mut argv: Vec<String> = Vec::new();
    if let Some(pid) = inside {
        argv.extend(["nsenter".into(), format!("--net=/proc/{pid}/ns/net")]);
    }
    argv.extend(
        [
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "curl",
        ]
        .map(String::from),
    );
    argv.extend(["-s", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}"].map(String::from));
    argv.extend(args.iter().map(|a| a.to_string()));
    let out = std::process::Command::new(&argv[0])
        .args(&argv[1..])
        .output()
        .unwrap_or_else(|e| panic!("{argv:?}: {e}"));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// What another local user can reach: nothing of the cluster without a credential. From the
/// machine's loopback only the API server answers (and refuses anonymous requests); etcd and
/// kwok are in the run's network namespace, and etcd there wants a client certificate of the
/// sim's CA (asked from inside, as nobody, it refuses; with the certificate it answers, so the
/// probe does reach it).
#[test]
#[ignore = "needs the sim binaries: bash fixtures/sim/build.sh"]
#[serial(sim)]
fn another_local_user_reaches_nothing_of_the_cluster_without_a_credential() {
    let uid = std::process::Command::new("id").arg("-u").output().unwrap();
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        eprintln!("SKIPPED: acting as another local user needs root (setpriv --reuid=65534)");
        return;
    }
    for tool in ["setpriv", "nsenter", "curl"] {
        let found = support::process::Tools::default().find(tool);
        assert!(found.is_ok(), "{tool} is needed to attack as another user");
    }
    let settings = settings();
    let opts = SimOptions::for_settings(&settings, &name(&settings, "doors"), None).unwrap();
    let sim = block_on(sim::start(&opts, &bins())).unwrap_or_else(|e| panic!("{e}"));
    assert!(sim.has_private_network(), "root gets a network namespace");
    let pid = |component: &str| {
        sim.pids()
            .into_iter()
            .find_map(|(n, p)| (n == component).then_some(p))
            .unwrap()
    };
    let p = opts.ports;
    let range = r#"{"key":"AA==","range_end":"AA=="}"#;
    let etcd_http = format!("http://127.0.0.1:{}/v3/kv/range", p.etcd_client);
    let etcd_https = format!("https://127.0.0.1:{}/v3/kv/range", p.etcd_client);
    // From the machine's loopback: no answer at all from etcd or kwok.
    for url in [&etcd_http, &etcd_https] {
        let got = curl_as_nobody(None, &["-k", "-XPOST", url, "-d", range]);
        assert_eq!(got, "000", "etcd answered {url}");
    }
    let pod = "default/x/sleep";
    let kwok_urls = [
        format!("http://127.0.0.1:{}/containerLogs/{pod}", p.kwok),
        format!("https://127.0.0.1:{}/containerLogs/{pod}", p.kwok),
        format!(
            "https://127.0.0.1:{}/exec/{pod}?command=echo-args&output=1",
            p.kwok
        ),
    ];
    let websocket = [
        "-H",
        "Connection: Upgrade",
        "-H",
        "Upgrade: websocket",
        "-H",
        "Sec-WebSocket-Version: 13",
        "-H",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "-H",
        "Sec-WebSocket-Protocol: v4.channel.k8s.io",
    ];
    for url in &kwok_urls {
        let mut args = vec!["-k"];
        args.extend(websocket);
        args.push(url);
        assert_eq!(curl_as_nobody(None, &args), "000", "kwok answered {url}");
    }
    // The one door: the API server, which wants a credential.
    let secrets = format!(
        "https://127.0.0.1:{}/api/v1/namespaces/kube-system/secrets",
        p.apiserver
    );
    assert_eq!(curl_as_nobody(None, &["-k", &secrets]), "401");
    // Inside the run's namespace (which only root can enter): etcd wants a client certificate.
    let inside = Some(pid("etcd"));
    let no_cert = curl_as_nobody(inside, &["-k", "-XPOST", &etcd_https, "-d", range]);
    assert_eq!(
        no_cert, "000",
        "etcd answered TLS without a client certificate"
    );
    let plain = curl_as_nobody(inside, &["-XPOST", &etcd_http, "-d", range]);
    assert_ne!(plain, "200", "etcd answered plain HTTP");
    // Its metrics and health (on the client port) and its peer port alike.
    for url in [
        format!("https://127.0.0.1:{}/metrics", p.etcd_client),
        format!("https://127.0.0.1:{}/health", p.etcd_client),
        format!("https://127.0.0.1:{}/members", p.etcd_peer),
    ] {
        assert_eq!(
            curl_as_nobody(inside, &["-k", &url]),
            "000",
            "etcd answered {url}"
        );
    }
    // The near misses: inside, kwok does answer (the namespace is its only protection; exec is
    // confined by the jail), and etcd answers the same request made with the sim's client
    // certificate.
    let logs = format!("http://127.0.0.1:{}/containerLogs/{pod}", p.kwok);
    assert_ne!(curl_as_nobody(inside, &[&logs]), "000", "kwok inside");
    let state = &sim.state_dir;
    let file = |f: &str| state.join(f).display().to_string();
    let with_cert = std::process::Command::new("nsenter")
        .arg(format!("--net=/proc/{}/ns/net", pid("etcd")))
        .args([
            "curl",
            "-s",
            "-m",
            "5",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
        ])
        .args(["--cacert", &file("ca.crt"), "--cert", &file("admin.crt")])
        .args([
            "--key",
            &file("admin.key"),
            "-XPOST",
            &etcd_https,
            "-d",
            range,
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&with_cert.stdout).trim(), "200");
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
        // Nor kwok itself (a second kwok would run with the admin kubeconfig and a config of the
        // caller's choice): not its private copy, not the built binary, not /proc/self/exe.
        let kwok_copy = sim.state_dir.join("kwok").display().to_string();
        let built = bins()
            .bin("kwok")
            .canonicalize()
            .unwrap()
            .display()
            .to_string();
        for program in [kwok_copy.as_str(), built.as_str(), "/proc/self/exe"] {
            let argv = [program, "--help"];
            let out = pods::exec(
                c,
                "default",
                &pod_name,
                None,
                &argv,
                Duration::from_secs(30),
            )
            .await;
            assert!(
                out.as_ref().map_or(true, |o| !o.success()
                    && !o.stdout.contains("--manage-all-nodes")
                    && !o.stderr.contains("--manage-all-nodes")),
                "{argv:?} ran: {out:?}"
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

/// The Istio that `fixtures/sim/build.sh` built (istioctl, samples/, pilot-discovery).
fn sim_release(settings: &Settings) -> support::istio::IstioRelease {
    let root = support::settings::workspace_root().join("target/sim/istio");
    let acquirer = support::istio::Acquirer::new(
        settings.cache_dir.clone(),
        support::process::Tools::default(),
    );
    block_on(acquirer.acquire(&support::settings::IstioSource::Local(root)))
        .unwrap_or_else(|e| panic!("{}", support::errors::report(&e)))
}

/// A fresh cluster `tag` with Istio installed by the real `istioctl install` and istiod started
/// the way the tutorial's fixture starts it (`Running::after_install` on sim).
fn installed_with_istiod(
    settings: &Settings,
    tag: &str,
) -> (SimCluster, support::istio::IstioRelease) {
    let sim = start(settings, tag, None);
    let release = sim_release(settings);
    let era = support::eras::IstioVersion::parse(&release.version)
        .unwrap()
        .era();
    block_on(support::istio::install(
        &release,
        &sim.cluster,
        &support::eras::facts(era),
        support::cluster::provider::facts(support::settings::Provider::Sim).install_flags,
        &support::process::Tools::default(),
        settings.timeout(Duration::from_secs(300)),
    ))
    .unwrap_or_else(|e| panic!("{}", support::errors::report(&e)));
    let binary = sim::istiod::binary(&release.root);
    let started = block_on(sim.start_istiod(&binary)).unwrap_or_else(|e| panic!("{e}"));
    assert!(started, "the first call starts istiod");
    (sim, release)
}

/// A Gateway API object's resource (`gateway.networking.k8s.io/v1`).
fn gateway_api(kind: &str, plural: &str) -> kube::discovery::ApiResource {
    let gvk = kube::api::GroupVersionKind::gvk("gateway.networking.k8s.io", "v1", kind);
    kube::discovery::ApiResource::from_gvk_with_plural(&gvk, plural)
}

/// The status of condition `type` of a Gateway API object, if written.
fn condition(object: &kube::api::DynamicObject, type_: &str) -> Option<String> {
    object.data["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
        .and_then(|c| c["status"].as_str().map(String::from))
}

/// istiod runs for real after `istioctl install`: `/ready` and a debug endpoint answer, it acts on
/// the cluster (GatewayClass, the waypoint's Deployment, the Gateway's Programmed status, none of
/// which anything else on sim writes), it is recorded for reaping, a second start does nothing,
/// and its log has no error about the cluster connection. Also the helper of
/// `components_die_with_a_killed_test_process` (AMBIENT_SIM_HOLD: holds after istiod is ready).
#[test]
#[ignore = "needs the sim binaries: bash fixtures/sim/build.sh"]
#[serial(sim)]
fn istiod_runs_after_install_and_acts_on_the_cluster() {
    use k8s_openapi::api::apps::v1::Deployment;
    use kube::api::DynamicObject;
    let settings = settings();
    let (sim, release) = installed_with_istiod(&settings, "istiod");
    if std::env::var_os("AMBIENT_SIM_HOLD").is_some() {
        hold_for_the_parent(&sim);
    }
    let addr = sim.istiod_http().expect("istiod runs");
    let pids = sim.pids();
    let istiod_pid = pids
        .iter()
        .find_map(|(n, p)| (n == "istiod").then_some(*p))
        .unwrap_or_else(|| panic!("istiod is among the components: {pids:?}"));
    // Idempotent: a second start (another fixture, a second test) keeps the one that runs.
    let binary = sim::istiod::binary(&release.root);
    assert!(!block_on(sim.start_istiod(&binary)).unwrap());
    assert_eq!(sim.pids().len(), 6, "{:?}", sim.pids());
    // Recorded for a later run to reap, with its start time.
    let recorded = std::fs::read_to_string(sim.state_dir.join("pids")).unwrap();
    let entry = owner::Pids::parse(&recorded)
        .components
        .into_iter()
        .find(|(n, _)| n == "istiod");
    assert_eq!(entry.map(|(_, p)| p), owner::ProcessId::of(istiod_pid));

    assert_eq!(sim.istiod_get_status("/ready").unwrap(), 200);
    // Its debug endpoints (which istiod serves to any loopback client) are off...
    let debug = sim.istiod_get_status("/debug/registryz").unwrap();
    assert_ne!(debug, 200, "/debug/registryz answered");
    // ...and in the run's own network namespace nothing of it is on the machine's loopback.
    if sim.has_private_network() {
        assert!(
            std::net::TcpStream::connect(addr).is_err(),
            "istiod's {addr} is reachable from the machine"
        );
    }

    let c = &sim.cluster.client;
    let crds = settings
        .gateway_api_crds
        .clone()
        .unwrap_or_else(|| support::settings::workspace_root().join("target/sim/gateway-api-crds"));
    let timeout = settings.timeout(Duration::from_secs(60));
    let era = support::eras::IstioVersion::parse(&release.version)
        .unwrap()
        .era();
    let wp = support::eras::facts(era).waypoint;
    block_on(support::gateway_api::install(
        c,
        wp.gateway_api_crds,
        Some(&crds),
        timeout,
    ))
    .unwrap_or_else(|e| panic!("{}", support::errors::report(&e)));
    let classes: Api<DynamicObject> =
        Api::all_with(c.client(), &gateway_api("GatewayClass", "gatewayclasses"));
    block_on(until(
        "istiod to create GatewayClass istio-waypoint",
        timeout,
        || {
            let classes = classes.clone();
            async move {
                match classes.get_opt("istio-waypoint").await {
                    Ok(Some(gc)) => Probe::Ready(gc),
                    Ok(None) => Probe::NotYet("no GatewayClass istio-waypoint".into()),
                    Err(e) => Probe::NotYet(e.to_string()),
                }
            }
        },
    ))
    .unwrap_or_else(|e| panic!("{e}"));

    let waypoint = support::fixtures::path("waypoint/1.22.yaml");
    block_on(apply::apply_path(c, &waypoint, "default"))
        .unwrap_or_else(|e| panic!("{}", support::errors::report(&e)));
    let gateways: Api<DynamicObject> =
        Api::namespaced_with(c.client(), "default", &gateway_api("Gateway", "gateways"));
    let deployments: Api<Deployment> = Api::namespaced(c.client(), "default");
    block_on(until(
        "istiod to create Deployment productpage-waypoint and program its Gateway",
        timeout,
        || {
            let (gateways, deployments) = (gateways.clone(), deployments.clone());
            async move {
                let deployment = deployments.get_opt("productpage-waypoint").await;
                let gateway = gateways.get_opt("productpage-waypoint").await;
                match (deployment, gateway) {
                    (Ok(Some(_)), Ok(Some(gw)))
                        if condition(&gw, "Programmed").as_deref() == Some("True") =>
                    {
                        Probe::Ready(())
                    }
                    (d, g) => Probe::NotYet(format!(
                        "deployment: {:?}; Programmed: {:?}",
                        d.map(|d| d.is_some()),
                        g.map(|g| g.as_ref().and_then(|g| condition(g, "Programmed")))
                    )),
                }
            }
        },
    ))
    .unwrap_or_else(|e| panic!("{e}"));

    // Its log: no error about the cluster connection (what counts:
    // support::cluster::sim::istiod::connection_errors).
    let log = settings
        .artifacts_dir
        .join(format!("sim-{}", name(&settings, "istiod")))
        .join("logs/istiod.log");
    let text = std::fs::read_to_string(&log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
    assert!(
        text.contains("starting HTTP service at"),
        "{}",
        log.display()
    );
    let errors = sim::istiod::connection_errors(&text);
    assert!(
        errors.is_empty(),
        "{}: connection errors:\n{}",
        log.display(),
        errors.join("\n")
    );
    drop(sim);
    assert!(!alive(istiod_pid), "istiod outlived its cluster");
}

#[test]
#[ignore = "needs the sim binaries: bash fixtures/sim/build.sh"]
#[serial(sim)]
fn istiod_startup_failures_are_named() {
    let settings = settings();
    let sim = start(&settings, "istiod-err", None);
    let real = sim::istiod::binary(&sim_release(&settings).root);
    // A port in use, each of the two it must be given.
    for http in [true, false] {
        let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = held.local_addr().unwrap().port();
        let mut opts = sim.istiod_options(&real).unwrap();
        let flag = if http {
            opts.http_port = port;
            "--httpAddr"
        } else {
            opts.https_port = port;
            "--httpsAddr"
        };
        let err = block_on(sim.start_istiod_with(opts))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!(
                "port {port} on 127.0.0.1 is already in use (wanted for istiod {flag}"
            )),
            "{err}"
        );
    }
    // A missing binary.
    let missing = Path::new("/nonexistent/istio/bin/pilot-discovery");
    let err = block_on(sim.start_istiod(missing)).unwrap_err().to_string();
    assert_eq!(
        err,
        "/nonexistent/istio/bin/pilot-discovery is missing: build the sim binaries with `bash fixtures/sim/build.sh`"
    );
    // One that exits at once, and one that never gets ready.
    let dir = tempfile::tempdir().unwrap();
    for (body, expected) in [
        (
            "echo 'Error: failed to create discovery service: test' >&2; exit 255",
            "istiod exited (exit status 255) while starting",
        ),
        ("exec sleep 600", "istiod did not become ready"),
    ] {
        let fake = dir.path().join("pilot-discovery");
        std::fs::write(&fake, format!("#!/bin/sh\n{body}\n")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut opts = sim.istiod_options(&fake).unwrap();
        opts.timeout = Duration::from_secs(3);
        let err = block_on(sim.start_istiod_with(opts))
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "{err}");
        assert!(err.contains("logs/istiod.log ends with:"), "{err}");
    }
    assert!(sim.istiod_http().is_none(), "no istiod after failures");
    assert_eq!(sim.pids().len(), 5, "{:?}", sim.pids());
}

/// Under `cargo nextest run`, the process that holds the run's sim cluster
/// (`support::cluster::sim::run`): it holds one only when started as such, and passes at once
/// otherwise.
#[test]
#[ignore = "needs the sim binaries: bash fixtures/sim/build.sh"]
fn run_cluster_holder() {
    sim::run::hold_if_asked();
}

/// The nextest run's cluster outlives each test process and nothing of it outlives the run:
/// SIGKILL of the runner (here a stand-in for the nextest process) stops the holder and every
/// component at once; a test process of another run is refused the name meanwhile.
#[test]
#[ignore = "needs the sim binaries: bash fixtures/sim/build.sh"]
#[serial(sim)]
fn the_nextest_runs_cluster_ends_with_the_run_even_on_sigkill() {
    let settings = settings();
    let cluster = name(&settings, "run");
    let mut run_settings = settings.clone();
    run_settings.cluster_name = cluster.clone();
    let opts = SimOptions::for_settings(&run_settings, &cluster, None).unwrap();
    // The stand-in runner: any process this test can SIGKILL.
    let mut runner = std::process::Command::new("sleep")
        .arg("600")
        .spawn()
        .unwrap();
    let runner_id = owner::ProcessId::of(runner.id()).unwrap();
    let run_id = "0a1b2c3d-0000-4000-8000-00000000abcd";
    let run = block_on(sim::run::start_holder(&opts, run_id, runner_id))
        .unwrap_or_else(|e| panic!("{}", support::errors::report(&e)));
    assert_eq!(run.run_id, run_id);
    assert_eq!(sim::run::RunFile::read(&opts.state_dir), Some(run.clone()));
    let text = std::fs::read_to_string(opts.state_dir.join("pids")).unwrap();
    let pids = owner::Pids::parse(&text);
    assert_eq!(
        pids.owner,
        Some(run.holder),
        "the holder owns the components"
    );
    assert_eq!(pids.components.len(), 5);
    let mut everything: Vec<u32> = pids.components.iter().map(|(_, p)| p.pid).collect();
    everything.push(run.holder.pid);
    assert!(everything.iter().all(|p| alive(*p)));
    // Another run (or `cargo test`) cannot take the name while the run lasts.
    let err = block_on(sim::start(&opts, &bins()))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("is in use by process"), "{err}");
    // A test process attaches, and what must outlive it (istiod) it asks the holder for: a
    // pilot-discovery that exits at once comes back as the holder's error, and the holder still
    // owns everything.
    let attached = block_on(sim::run::attach(&opts, &run)).unwrap();
    let fake_dir = tempfile::tempdir().unwrap();
    let fake = fake_dir.path().join("pilot-discovery");
    std::fs::write(
        &fake,
        "#!/bin/sh\necho 'Error: no mesh config' >&2\nexit 3\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let err = block_on(attached.start_istiod(&fake))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("could not start istiod: istiod exited (exit status 3) while starting"),
        "{err}"
    );
    assert!(err.contains("Error: no mesh config"), "{err}");
    assert!(attached.istiod_http().is_none());
    let after = owner::Pids::parse(&std::fs::read_to_string(opts.state_dir.join("pids")).unwrap());
    assert_eq!(after.owner, Some(run.holder));
    let replies: Vec<_> = std::fs::read_dir(&opts.state_dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("reply-"))
        .collect();
    assert!(replies.is_empty(), "answers are removed once read");
    // The run ends the hard way.
    runner.kill().unwrap();
    runner.wait().unwrap();
    let gone = block_on(until(
        "the holder and its components to end with the run",
        Duration::from_secs(15),
        || {
            let left: Vec<u32> = everything.iter().copied().filter(|p| alive(*p)).collect();
            async move {
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
