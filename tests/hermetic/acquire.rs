//! Getting istioctl: downloads against a local server, checksums, the cache, every source.

use std::path::Path;

use support::eras::{IstioVersion, TUTORIAL_BUILD};
use support::istio::{AcquireError, Acquirer, Endpoints};
use support::settings::IstioSource;

use crate::world::{Answer, FakeBin, Server, istio_archive, sha256_hex};

fn acquirer(server: &Server, cache: &Path) -> Acquirer {
    let mut a = Acquirer::new(cache.to_path_buf(), FakeBin::new().tools());
    a.endpoints = Endpoints {
        dev: format!("{}/dev", server.base),
        release: format!("{}/rel", server.base),
    };
    a.machine = "x86_64".into();
    a
}

fn release(v: &str) -> IstioSource {
    IstioSource::Release(IstioVersion::parse(v).unwrap())
}

fn serve_release(server: &Server, v: &str) -> String {
    let archive = istio_archive(v);
    let path = format!("/rel/{v}/istio-{v}-linux-amd64.tar.gz");
    server.route(
        &format!("{path}.sha256"),
        Answer::ok(format!(
            "{}  istio-{v}-linux-amd64.tar.gz\n",
            sha256_hex(&archive)
        )),
    );
    server.route(&path, Answer::ok(archive));
    path
}

fn cache_entries(cache: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(cache)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[tokio::test]
async fn a_release_is_verified_cached_and_not_downloaded_again() {
    let server = Server::start().await;
    let path = serve_release(&server, "1.24.2");
    let cache = tempfile::tempdir().unwrap();
    let a = acquirer(&server, cache.path());
    let first = a.acquire(&release("1.24.2")).await.unwrap();
    assert_eq!(first.version, "1.24.2");
    assert_eq!(first.root, cache.path().join("1.24.2"));
    assert!(first.istioctl.is_file());
    assert!(
        first
            .sample("bookinfo/platform/kube/bookinfo.yaml")
            .unwrap()
            .is_file()
    );
    let second = a.acquire(&release("1.24.2")).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(server.hits(&path), 1, "the second run downloads nothing");
    assert_eq!(
        cache_entries(cache.path()),
        ["1.24.2"],
        "no partial files left"
    );
    let missing = first.sample("addons/kiali.yaml").unwrap_err().to_string();
    assert!(
        missing.contains("Istio 1.24.2 has no samples/addons/kiali.yaml"),
        "{missing}"
    );
}

#[tokio::test]
async fn a_404_names_the_url_and_the_version() {
    let server = Server::start().await;
    let cache = tempfile::tempdir().unwrap();
    let err = acquirer(&server, cache.path())
        .acquire(&release("1.99.0"))
        .await
        .unwrap_err();
    assert!(matches!(err, AcquireError::Http { status: 404, .. }));
    let text = err.to_string();
    assert!(
        text.contains("Istio 1.99.0")
            && text.contains("/rel/1.99.0/istio-1.99.0-linux-amd64.tar.gz"),
        "{text}"
    );
    assert!(text.contains("check AMBIENT_ISTIO"), "{text}");
    assert!(cache_entries(cache.path()).is_empty());
}

#[tokio::test]
async fn a_checksum_mismatch_is_refused_and_caches_nothing() {
    let server = Server::start().await;
    let path = serve_release(&server, "1.24.2");
    server.route(
        &format!("{path}.sha256"),
        Answer::ok(format!("{}  x.tar.gz\n", "0".repeat(64))),
    );
    let cache = tempfile::tempdir().unwrap();
    let err = acquirer(&server, cache.path())
        .acquire(&release("1.24.2"))
        .await
        .unwrap_err();
    assert!(matches!(err, AcquireError::Checksum { .. }), "{err}");
    assert!(err.to_string().contains("nothing was cached"));
    assert!(
        cache_entries(cache.path()).is_empty(),
        "{:?}",
        cache_entries(cache.path())
    );
}

#[tokio::test]
async fn a_release_without_a_published_checksum_is_refused() {
    let server = Server::start().await;
    let archive = istio_archive("1.24.2");
    server.route(
        "/rel/1.24.2/istio-1.24.2-linux-amd64.tar.gz",
        Answer::ok(archive),
    );
    let cache = tempfile::tempdir().unwrap();
    let err = acquirer(&server, cache.path())
        .acquire(&release("1.24.2"))
        .await
        .unwrap_err();
    assert!(matches!(err, AcquireError::ChecksumMissing { .. }), "{err}");
    assert!(cache_entries(cache.path()).is_empty());
}

#[tokio::test]
async fn a_truncated_transfer_is_refused_and_caches_nothing() {
    let server = Server::start().await;
    let path = serve_release(&server, "1.24.2");
    let archive = istio_archive("1.24.2");
    let half = archive[..archive.len() / 2].to_vec();
    server.route(
        &path,
        Answer {
            status: 200,
            body: half,
            announce_extra: archive.len() - archive.len() / 2,
        },
    );
    let cache = tempfile::tempdir().unwrap();
    let err = acquirer(&server, cache.path())
        .acquire(&release("1.24.2"))
        .await
        .unwrap_err();
    assert!(matches!(err, AcquireError::Network { .. }), "{err}");
    assert!(cache_entries(cache.path()).is_empty());
}

#[tokio::test]
async fn a_truncated_archive_with_a_matching_checksum_is_refused() {
    let server = Server::start().await;
    let archive = istio_archive("1.24.2");
    let half = archive[..archive.len() / 2].to_vec();
    let path = "/rel/1.24.2/istio-1.24.2-linux-amd64.tar.gz";
    server.route(&format!("{path}.sha256"), Answer::ok(sha256_hex(&half)));
    server.route(path, Answer::ok(half));
    let cache = tempfile::tempdir().unwrap();
    let err = acquirer(&server, cache.path())
        .acquire(&release("1.24.2"))
        .await
        .unwrap_err();
    assert!(matches!(err, AcquireError::Archive { .. }), "{err}");
    assert!(cache_entries(cache.path()).is_empty());
}

#[tokio::test]
async fn latest_dev_resolves_through_the_index() {
    let server = Server::start().await;
    let id = "1.29-alpha.0123456789abcdef0123456789abcdef01234567";
    server.route("/dev/latest", Answer::ok(format!("{id}\n")));
    let path = format!("/dev/{id}/istio-{id}-linux-amd64.tar.gz");
    server.route(&path, Answer::ok(istio_archive(id)));
    let cache = tempfile::tempdir().unwrap();
    // Dev builds may have no checksum: the download proceeds and says so.
    let r = acquirer(&server, cache.path())
        .acquire(&IstioSource::LatestDev)
        .await
        .unwrap();
    assert_eq!(r.version, id);
    assert_eq!(server.hits("/dev/latest"), 1);
    assert_eq!(server.hits(&path), 1);
}

#[tokio::test]
async fn a_garbled_dev_index_is_a_clear_error() {
    let server = Server::start().await;
    server.route("/dev/latest", Answer::ok("<html>oops</html>"));
    let cache = tempfile::tempdir().unwrap();
    let err = acquirer(&server, cache.path())
        .acquire(&IstioSource::LatestDev)
        .await
        .unwrap_err();
    assert!(matches!(err, AcquireError::DevIndex { .. }), "{err}");
}

#[tokio::test]
async fn the_tutorial_build_comes_from_the_tutorials_url() {
    let server = Server::start().await;
    let path = format!("/dev/{TUTORIAL_BUILD}/istio-{TUTORIAL_BUILD}-linux-amd64.tar.gz");
    let archive = istio_archive(TUTORIAL_BUILD);
    server.route(&format!("{path}.sha256"), Answer::ok(sha256_hex(&archive)));
    server.route(&path, Answer::ok(archive));
    let cache = tempfile::tempdir().unwrap();
    let r = acquirer(&server, cache.path())
        .acquire(&IstioSource::Tutorial)
        .await
        .unwrap();
    assert_eq!(r.version, TUTORIAL_BUILD);
    assert_eq!(server.hits(&path), 1);
}

#[tokio::test]
async fn the_tutorial_build_on_arm64_says_what_to_do() {
    let server = Server::start().await;
    let cache = tempfile::tempdir().unwrap();
    let mut a = acquirer(&server, cache.path());
    a.machine = "aarch64".into();
    let err = a.acquire(&IstioSource::Tutorial).await.unwrap_err();
    assert!(
        err.to_string().contains("set AMBIENT_ISTIO to a release"),
        "{err}"
    );
    a.machine = "riscv64".into();
    assert!(matches!(
        a.acquire(&release("1.24.2")).await.unwrap_err(),
        AcquireError::UnsupportedArch { .. }
    ));
}

#[tokio::test]
async fn a_local_release_directory_is_used_in_place() {
    let bin = FakeBin::new();
    let root = bin.dir.path().join("istio-1.23.1");
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::create_dir_all(root.join("samples/addons")).unwrap();
    let istioctl = root.join("bin/istioctl");
    std::fs::write(&istioctl, "#!/bin/sh\necho 'client version: 1.23.1'\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&istioctl, std::fs::Permissions::from_mode(0o755)).unwrap();
    let server = Server::start().await;
    let cache = tempfile::tempdir().unwrap();
    let a = acquirer(&server, cache.path());
    let r = a.acquire(&IstioSource::Local(root.clone())).await.unwrap();
    assert_eq!(
        (r.version.as_str(), r.samples.as_deref()),
        ("1.23.1", Some(root.join("samples").as_path()))
    );
    // The binary alone, inside an unpacked release, finds the same samples.
    let r = a
        .acquire(&IstioSource::Local(istioctl.clone()))
        .await
        .unwrap();
    assert_eq!(r.root, root);
    // Something that is not istioctl.
    let not_exec = root.join("samples/addons");
    assert!(matches!(
        a.acquire(&IstioSource::Local(not_exec)).await.unwrap_err(),
        AcquireError::Layout { .. }
    ));
}

#[test]
fn a_local_istioctl_of_an_unusable_version_says_why() {
    use support::istio::acquire::version_in;
    assert_eq!(version_in("client version: 1.23.1\n"), Ok("1.23.1".into()));
    let old = version_in("client version: 1.17.2\n").unwrap_err();
    assert!(
        old.contains("has no ambient mode") && old.contains("1.18.0"),
        "{old}"
    );
    let major = version_in("client version: 2.0.0\n").unwrap_err();
    assert!(major.contains("printed version 2.0.0"), "{major}");
    let nothing = version_in("Error: unknown flag --remote\n").unwrap_err();
    assert!(nothing.starts_with("printed no Istio version"), "{nothing}");
}
