//! The kind cluster and the context guard, with a fake `kind`; the install command line with a
//! fake `istioctl`.

use std::collections::HashMap;
use std::path::Path;

use support::cluster::{Cluster, ClusterError, GuardError, delete_kind, guard, prepare_kind};
use support::eras::{Era, facts};
use support::settings::Settings;

use crate::world::{FakeBin, argv, kind_kubeconfig, write};

fn settings(workspace: &Path, vars: &[(&str, &str)]) -> Settings {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Settings::from_lookup(|k| map.get(k).cloned(), workspace).unwrap()
}

fn fake_kind(bin: &FakeBin, existing: &str, kubeconfig: &str) {
    let kc = bin.dir.path().join("kubeconfig.yaml");
    write(&kc, kubeconfig);
    bin.script(
        "kind",
        &format!(
            "case \"$1 $2\" in\n  'get clusters') printf '{existing}' ;;\n  'get kubeconfig') cat '{}' ;;\n  'create cluster') echo 'Creating cluster' ;;\n  'delete cluster') echo 'Deleting cluster' ;;\n  *) echo \"unexpected $*\" >&2; exit 9 ;;\nesac",
            kc.display()
        ),
    );
    fake_docker(bin, "c0ffee0123456789");
}

/// `docker inspect --format {{.Id}} <name>-control-plane` answering with `id`.
fn fake_docker(bin: &FakeBin, id: &str) {
    bin.answering("docker", &format!("{id}\n"), 0);
}

#[tokio::test]
async fn an_existing_cluster_is_reused() {
    let bin = FakeBin::new();
    fake_kind(
        &bin,
        "other\\nambient\\n",
        &kind_kubeconfig("ambient", "https://127.0.0.1:41234"),
    );
    let ws = tempfile::tempdir().unwrap();
    let prepared = prepare_kind(&settings(ws.path(), &[]), &bin.tools())
        .await
        .unwrap();
    assert!(!prepared.created);
    assert_eq!(prepared.approved.context(), "kind-ambient");
    assert_eq!(
        prepared.node_names,
        ["ambient-control-plane", "ambient-worker", "ambient-worker2"]
    );
    assert_eq!(
        bin.calls(),
        [
            argv(&["kind", "get", "clusters"]),
            argv(&["kind", "get", "kubeconfig", "--name", "ambient"])
        ]
    );
    let written = std::fs::read_to_string(&prepared.kubeconfig_path).unwrap();
    assert!(written.contains("https://127.0.0.1:41234"));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&prepared.kubeconfig_path)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the kubeconfig holds credentials");
}

#[tokio::test]
async fn a_missing_cluster_is_created_from_the_fixture_config() {
    let bin = FakeBin::new();
    fake_kind(
        &bin,
        "",
        &kind_kubeconfig("ci-7", "https://127.0.0.1:41234"),
    );
    let ws = tempfile::tempdir().unwrap();
    let s = settings(
        ws.path(),
        &[
            ("AMBIENT_CLUSTER_NAME", "ci-7"),
            ("AMBIENT_TIMEOUT_SCALE", "2"),
        ],
    );
    let prepared = prepare_kind(&s, &bin.tools()).await.unwrap();
    assert!(prepared.created);
    let config = support::fixtures::path("kind/ambient.yaml")
        .display()
        .to_string();
    assert_eq!(
        bin.calls(),
        [
            argv(&["kind", "get", "clusters"]),
            argv(&[
                "kind", "create", "cluster", "--name", "ci-7", "--config", &config, "--wait",
                "600s"
            ]),
            argv(&[
                "docker",
                "inspect",
                "--format",
                "{{.Id}}",
                "ci-7-control-plane"
            ]),
            argv(&["kind", "get", "kubeconfig", "--name", "ci-7"]),
        ]
    );
    // The suite marked it as its own, in the private state directory.
    let marker =
        support::cluster::ownership::marker_path(&ws.path().join("target/ambient/state"), "ci-7");
    let text = std::fs::read_to_string(&marker).unwrap();
    assert!(
        text.contains("control-plane-container=c0ffee0123456789"),
        "{text}"
    );
    assert_eq!(
        prepared.node_names,
        ["ci-7-control-plane", "ci-7-worker", "ci-7-worker2"]
    );
}

#[tokio::test]
async fn a_kubeconfig_for_another_context_is_refused_before_any_change() {
    let bin = FakeBin::new();
    // `kind get kubeconfig` answering with a production context (a broken or malicious kind).
    let foreign =
        kind_kubeconfig("ambient", "https://127.0.0.1:1").replace("kind-ambient", "prod-eu");
    fake_kind(&bin, "ambient\\n", &foreign);
    let ws = tempfile::tempdir().unwrap();
    let err = prepare_kind(&settings(ws.path(), &[]), &bin.tools())
        .await
        .err()
        .unwrap();
    let ClusterError::Guard(GuardError::Refused { context, .. }) = &err else {
        panic!("{err}")
    };
    assert_eq!(context, "prod-eu");
    let text = err.to_string();
    assert!(
        text.contains("\"prod-eu\"") && text.contains("AMBIENT_KUBE_CONTEXT"),
        "{text}"
    );
    assert!(
        !ws.path()
            .join("target/ambient/state/ambient.kubeconfig")
            .exists()
    );
}

#[tokio::test]
async fn the_kubeconfig_is_private_state_never_evidence() {
    let bin = FakeBin::new();
    fake_kind(
        &bin,
        "ambient\n",
        &kind_kubeconfig("ambient", "https://127.0.0.1:41234"),
    );
    let ws = tempfile::tempdir().unwrap();
    let prepared = prepare_kind(&settings(ws.path(), &[]), &bin.tools())
        .await
        .unwrap();
    assert!(
        prepared
            .kubeconfig_path
            .starts_with(ws.path().join("target/ambient/state"))
    );
    let artifacts = ws.path().join("target/ambient/artifacts");
    let leaked: Vec<_> = walk(&artifacts)
        .into_iter()
        .filter(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains("token:")))
        .collect();
    assert!(leaked.is_empty(), "{leaked:?}");
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn deleted(bin: &FakeBin) -> bool {
    bin.calls()
        .iter()
        .any(|c| c.get(1).map(String::as_str) == Some("delete"))
}

#[tokio::test]
async fn a_cluster_the_suite_did_not_create_is_never_deleted() {
    // It existed before the suite ran: no ownership marker.
    let bin = FakeBin::new();
    fake_kind(
        &bin,
        "ambient\n",
        &kind_kubeconfig("ambient", "https://127.0.0.1:1"),
    );
    let ws = tempfile::tempdir().unwrap();
    let s = settings(ws.path(), &[("AMBIENT_KEEP_CLUSTER", "false")]);
    prepare_kind(&s, &bin.tools()).await.unwrap();
    let err = delete_kind(&s, &bin.tools()).await.unwrap_err().to_string();
    assert!(
        err.contains("refusing to delete kind cluster \"ambient\""),
        "{err}"
    );
    assert!(err.contains("the suite did not create it"), "{err}");
    assert!(!deleted(&bin), "{:?}", bin.calls());
}

#[tokio::test]
async fn a_cluster_recreated_by_someone_else_under_the_same_name_is_not_deleted() {
    let bin = FakeBin::new();
    fake_kind(&bin, "", &kind_kubeconfig("ambient", "https://127.0.0.1:1"));
    let ws = tempfile::tempdir().unwrap();
    let s = settings(ws.path(), &[]);
    prepare_kind(&s, &bin.tools()).await.unwrap(); // created and marked
    // Deleted and re-created by hand: kind lists it, with another control-plane container.
    fake_kind(
        &bin,
        "ambient\n",
        &kind_kubeconfig("ambient", "https://127.0.0.1:1"),
    );
    fake_docker(&bin, "5ca1ab1e99999999");
    let err = delete_kind(&s, &bin.tools()).await.unwrap_err().to_string();
    assert!(err.contains("not the cluster the suite created"), "{err}");
    assert!(!deleted(&bin), "{:?}", bin.calls());
}

#[tokio::test]
async fn the_cluster_the_suite_created_is_deleted_and_forgotten() {
    let bin = FakeBin::new();
    fake_kind(&bin, "", &kind_kubeconfig("ambient", "https://127.0.0.1:1"));
    let ws = tempfile::tempdir().unwrap();
    let s = settings(ws.path(), &[]);
    prepare_kind(&s, &bin.tools()).await.unwrap();
    fake_kind(
        &bin,
        "ambient\n",
        &kind_kubeconfig("ambient", "https://127.0.0.1:1"),
    );
    delete_kind(&s, &bin.tools()).await.unwrap();
    assert!(deleted(&bin), "{:?}", bin.calls());
    let marker = support::cluster::ownership::marker_path(&s.state_dir, "ambient");
    assert!(!marker.exists(), "the marker goes with the cluster");
}

#[test]
fn a_server_with_userinfo_cannot_pass_for_this_machine() {
    // The host dialled is after the `@`: 10.1.2.3, not 127.0.0.1.
    let sneaky = kind_kubeconfig("ambient", "https://127.0.0.1:6443@10.1.2.3:6443");
    let err = guard::approve_kind(&sneaky, "ambient")
        .unwrap_err()
        .to_string();
    assert!(err.contains("userinfo"), "{err}");
    for server in [
        "https://localhost.:6443",
        "https://127.0.0.1.nip.io:6443",
        "https://[2001:db8::1]:6443",
    ] {
        let err = guard::approve_kind(&kind_kubeconfig("ambient", server), "ambient").unwrap_err();
        assert!(matches!(err, GuardError::Refused { .. }), "{server}: {err}");
    }
    assert!(
        guard::approve_kind(&kind_kubeconfig("ambient", "https://[::1]:6443"), "ambient").is_ok()
    );
}

#[test]
fn a_kind_context_whose_server_is_not_local_is_refused() {
    let err = guard::approve_kind(
        &kind_kubeconfig("ambient", "https://34.1.2.3:443"),
        "ambient",
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("https://34.1.2.3:443 is not on this machine"),
        "{err}"
    );
}

#[test]
fn a_users_context_needs_to_be_named_explicitly() {
    let text = kind_kubeconfig("x", "https://prod.example.com").replace("kind-x", "prod");
    let kubeconfig = guard::parse_kubeconfig("f", &text).unwrap();
    let approve =
        |context, allowed| guard::approve_named(kubeconfig.clone(), "f", context, allowed);
    let err = approve("prod", None).unwrap_err();
    assert!(
        err.to_string().contains("AMBIENT_KUBE_CONTEXT is not set"),
        "{err}"
    );
    let err = approve("prod", Some("staging")).unwrap_err();
    assert!(err.to_string().contains("names \"staging\""), "{err}");
    assert_eq!(approve("prod", Some("prod")).unwrap().context(), "prod");
    assert!(approve("nope", Some("nope")).is_err());
}

#[test]
fn a_broken_kubeconfig_is_a_clear_error_that_quotes_nothing() {
    let err = guard::approve_kind("{{{", "ambient")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(
            "kubeconfig printed by `kind get kubeconfig --name ambient`: not valid YAML at line 1"
        ),
        "{err}"
    );
    // A YAML error right at a credential: file, line and column, never the token.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    let leaky = kind_kubeconfig("ambient", "https://127.0.0.1:1")
        .replace("token: t", "token: sup3r-s3cret: {");
    write(&path, &leaky);
    let err = guard::read_merged(std::slice::from_ref(&path))
        .unwrap_err()
        .to_string();
    assert!(err.contains(&path.display().to_string()), "{err}");
    assert!(err.contains("line ") && err.contains("column "), "{err}");
    assert!(
        !err.contains("sup3r-s3cret"),
        "the error quotes the token: {err}"
    );
}

#[test]
fn several_kubeconfig_files_merge_like_kubectl_merges_them() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first");
    let second = dir.path().join("second");
    write(
        &first,
        &kind_kubeconfig("a", "https://127.0.0.1:1").replace("kind-a", "ctx-a"),
    );
    write(
        &second,
        &kind_kubeconfig("b", "https://127.0.0.1:2").replace("kind-b", "ctx-b"),
    );
    let missing = dir.path().join("missing");
    let paths = guard::kubeconfig_paths(
        Some(std::ffi::OsStr::new(&format!(
            "{}:{}:{}",
            first.display(),
            missing.display(),
            second.display()
        ))),
        None,
    );
    assert_eq!(paths.len(), 3);
    let merged = guard::read_merged(&paths).unwrap();
    // Both contexts are there (the second file is read too); the first current-context wins.
    let approved = guard::approve_named(merged, "x", "ctx-b", Some("ctx-b")).unwrap();
    assert_eq!(approved.server(), "https://127.0.0.1:2");
    assert_eq!(
        approved.kubeconfig().current_context.as_deref(),
        Some("ctx-a")
    );
    assert!(guard::read_merged(&[missing]).is_err());
}

#[tokio::test]
async fn a_cluster_that_does_not_answer_is_named_with_the_cause() {
    // A loopback port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    write(
        &path,
        &kind_kubeconfig("x", &format!("https://127.0.0.1:{port}")).replace("kind-x", "mine"),
    );
    let ws = tempfile::tempdir().unwrap();
    let s = settings(
        ws.path(),
        &[
            ("AMBIENT_PROVIDER", "existing"),
            ("AMBIENT_KUBE_CONTEXT", "mine"),
        ],
    );
    let err = support::cluster::existing::connect_with(&s, &[path])
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains(&format!("https://127.0.0.1:{port}")), "{err}");
    assert!(err.to_lowercase().contains("connection refused"), "{err}");
}

#[tokio::test]
async fn a_password_in_the_server_url_is_not_in_the_connection_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    let server = format!("https://admin:hunter2-secret@127.0.0.1:{port}");
    write(
        &path,
        &kind_kubeconfig("x", &server).replace("kind-x", "mine"),
    );
    let ws = tempfile::tempdir().unwrap();
    let s = settings(
        ws.path(),
        &[
            ("AMBIENT_PROVIDER", "existing"),
            ("AMBIENT_KUBE_CONTEXT", "mine"),
        ],
    );
    let err = support::cluster::existing::connect_with(&s, &[path])
        .await
        .err()
        .unwrap();
    let shown = support::errors::report(&err);
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(
        shown.contains(&format!("https://admin:…@127.0.0.1:{port}")),
        "{shown}"
    );
}

async fn test_cluster(dir: &Path) -> Cluster {
    let kubeconfig_text = kind_kubeconfig("ambient", "https://127.0.0.1:6443");
    let kubeconfig_path = dir.join("ambient.kubeconfig");
    write(&kubeconfig_path, &kubeconfig_text);
    let approved = guard::approve_kind(&kubeconfig_text, "ambient").unwrap();
    let context = approved.context().to_string();
    // Building a client does not connect: no API server is needed here.
    let client = approved.connect().await.unwrap();
    Cluster {
        name: "ambient".into(),
        kubeconfig_path,
        context,
        client,
        node_names: vec![],
    }
}

/// A release whose istioctl is the fake one in `bin`.
fn fake_release(bin: &FakeBin, version: &str) -> support::istio::IstioRelease {
    support::istio::IstioRelease {
        version: version.into(),
        root: bin.dir.path().into(),
        istioctl: bin.dir.path().join("istioctl"),
        samples: None,
    }
}

#[tokio::test]
async fn istioctl_install_is_the_tutorial_command_pointed_at_the_guarded_cluster() {
    let bin = FakeBin::new();
    bin.answering(
        "istioctl",
        "\u{1b}[32m✔\u{1b}[0m Istio core installed\n✔ Istiod installed\n- Processing resources for Ingress gateways.\n✔ Ingress gateways installed\n✔ CNI installed\n✔ Installation complete\nMaking this installation the default for injection and validation.\n",
        0,
    );
    let dir = tempfile::tempdir().unwrap();
    let cluster = test_cluster(dir.path()).await;
    let release = fake_release(
        &bin,
        "0.0.0-ambient.191fe680b52c1754ee72a06b3e0d3f9d116f2e82",
    );
    let era = facts(Era::Experimental2022);
    let report = support::istio::install(
        &release,
        &cluster,
        &era,
        &[],
        &bin.tools(),
        std::time::Duration::from_secs(10),
    )
    .await
    .unwrap();
    let kubeconfig = cluster.kubeconfig_path.display().to_string();
    assert_eq!(
        bin.calls(),
        [argv(&[
            "istioctl",
            "install",
            "--set",
            "profile=ambient",
            "-y",
            "--kubeconfig",
            &kubeconfig,
            "--context",
            "kind-ambient"
        ])]
    );
    assert_eq!(report.component_lines, era.install_lines);
}

#[tokio::test]
async fn a_failed_install_names_the_command() {
    let bin = FakeBin::new();
    bin.script(
        "istioctl",
        "echo 'Error: failed to install manifests: context deadline exceeded' >&2\nexit 1",
    );
    let dir = tempfile::tempdir().unwrap();
    let cluster = test_cluster(dir.path()).await;
    let release = fake_release(&bin, "1.24.2");
    let err = support::istio::install(
        &release,
        &cluster,
        &facts(Era::Ga1_24),
        &[],
        &bin.tools(),
        std::time::Duration::from_secs(10),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("install --set profile=ambient -y")
            && err.contains("context deadline exceeded"),
        "{err}"
    );
}

#[tokio::test]
async fn k3s_gets_the_cni_paths_istio_documents_for_it() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = test_cluster(dir.path()).await;
    let k3s = support::cluster::provider::facts(support::settings::Provider::K3s);
    let args =
        support::istio::install::install_args(&cluster, &facts(Era::Ga1_24), k3s.install_flags);
    let joined = args.join(" ");
    assert!(
        joined.starts_with("install --set profile=ambient -y --set values.cni.cniConfDir=/var/lib/rancher/k3s/agent/etc/cni/net.d --set values.cni.cniBinDir=/var/lib/rancher/k3s/data/current/bin/ --kubeconfig "),
        "{joined}"
    );
    // kind, sim and existing clusters need no platform flags.
    for p in [
        support::settings::Provider::Kind,
        support::settings::Provider::Sim,
        support::settings::Provider::Existing,
    ] {
        assert!(
            support::cluster::provider::facts(p)
                .install_flags
                .is_empty(),
            "{p:?}"
        );
    }
}

#[test]
fn provider_topologies() {
    use support::cluster::provider::facts as provider;
    use support::settings::Provider;
    assert_eq!(provider(Provider::Kind).nodes, Some(3));
    assert_eq!(provider(Provider::K3s).nodes, Some(1));
    assert_eq!(
        provider(Provider::Existing).nodes,
        None,
        "read from the cluster"
    );
    assert!(
        !provider(Provider::Existing).deletable,
        "never delete a cluster the suite did not create"
    );
    assert!(!provider(Provider::Sim).data_plane);
}

#[test]
fn the_k3s_container_is_defined_as_k3s_needs() {
    use testcontainers::Image;
    let dir = tempfile::tempdir().unwrap();
    let request = support::cluster::k3s::request(dir.path());
    assert_eq!(request.image().name(), "rancher/k3s");
    assert!(
        request.image().tag().starts_with('v') && request.image().tag().contains("-k3s"),
        "{}",
        request.image().tag()
    );
    assert!(request.privileged());
    assert_eq!(request.userns_mode(), Some("host"));
    let ports: Vec<_> = request.image().expose_ports().to_vec();
    assert!(
        ports.contains(&testcontainers_modules::k3s::KUBE_SECURE_PORT),
        "{ports:?}"
    );
    assert!(
        request
            .mounts()
            .any(|m| m.source() == Some(dir.path().to_str().unwrap()))
    );
}

#[test]
fn the_k3s_kubeconfig_is_pointed_at_the_mapped_port_under_our_context() {
    let k3s_yaml = "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: Zm9v\n    server: https://127.0.0.1:6443\n  name: default\ncontexts:\n- context:\n    cluster: default\n    user: default\n  name: default\ncurrent-context: default\nkind: Config\nusers:\n- name: default\n  user:\n    token: t\n";
    let rewritten = support::cluster::k3s::rewrite_kubeconfig(k3s_yaml, 40123, "ambient");
    let approved = guard::approve_local("k3s", &rewritten, "k3s-ambient").unwrap();
    assert_eq!(approved.context(), "k3s-ambient");
    assert!(rewritten.contains("https://127.0.0.1:40123"));
    // The same kubeconfig under any other expected context is refused.
    assert!(guard::approve_local("k3s", &rewritten, "kind-ambient").is_err());
}

#[test]
fn an_existing_clusters_kubeconfig_is_found_like_kubectl_finds_it() {
    use support::cluster::existing::kubeconfig_paths;
    assert_eq!(
        kubeconfig_paths(Some("/a/config:/b/config"), Some("/home/u")),
        [Path::new("/a/config"), Path::new("/b/config")]
    );
    assert_eq!(
        kubeconfig_paths(None, Some("/home/u")),
        [Path::new("/home/u/.kube/config")]
    );
    assert!(kubeconfig_paths(Some(""), None).is_empty());
}
