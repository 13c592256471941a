//! The prerequisite check, on fake tools and a fake /proc.

use support::doctor::{Inputs, Status, has_failures, render, run};
use support::settings::{IstioSource, Provider};

use crate::world::FakeBin;

fn fake_proc(avail_kib: u64, watches: u64, instances: u64) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("meminfo"),
        format!("MemTotal: 99 kB\nMemAvailable:   {avail_kib} kB\n"),
    )
    .unwrap();
    let ino = dir.path().join("sys/fs/inotify");
    std::fs::create_dir_all(&ino).unwrap();
    std::fs::write(ino.join("max_user_watches"), format!("{watches}\n")).unwrap();
    std::fs::write(ino.join("max_user_instances"), format!("{instances}\n")).unwrap();
    dir
}

#[tokio::test]
async fn a_ready_machine_passes() {
    let bin = FakeBin::new();
    bin.answering("docker", "28.2.2\n", 0);
    bin.answering("kind", "kind v0.30.0 go1.24.6 linux/amd64\n", 0);
    let proc = fake_proc(16 * 1048576, 524288, 512);
    let inputs = Inputs {
        tools: bin.tools(),
        proc_root: proc.path().into(),
        machine: "x86_64".into(),
        istio: IstioSource::Tutorial,
        provider: Provider::Kind,
        sim_bin_dir: "/nonexistent".into(),
    };
    let checks = run(&inputs).await;
    assert!(
        checks.iter().all(|c| c.status == Status::Ok),
        "{}",
        render(&checks)
    );
    assert!(!has_failures(&checks));
}

#[tokio::test]
async fn each_missing_prerequisite_is_named_with_its_fix() {
    let bin = FakeBin::new();
    bin.script(
        "docker",
        "echo 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock.' >&2\nexit 1",
    );
    let proc = fake_proc(2 * 1048576, 8192, 128);
    let inputs = Inputs {
        tools: bin.tools(),
        proc_root: proc.path().into(),
        machine: "aarch64".into(),
        istio: IstioSource::Tutorial,
        provider: Provider::Kind,
        sim_bin_dir: "/nonexistent".into(),
    };
    let checks = run(&inputs).await;
    let status = |name: &str| checks.iter().find(|c| c.name == name).unwrap().status;
    assert_eq!(status("docker"), Status::Fail);
    assert_eq!(status("kind"), Status::Fail);
    assert_eq!(status("memory"), Status::Warn);
    assert_eq!(status("inotify"), Status::Warn);
    assert_eq!(status("architecture"), Status::Fail);
    assert!(has_failures(&checks));
    let report = render(&checks);
    assert!(
        report.contains("Cannot connect to the Docker daemon"),
        "{report}"
    );
    assert!(
        report.contains("https://kind.sigs.k8s.io/docs/user/quick-start/#installation"),
        "{report}"
    );
    assert!(
        report.contains(
            "sudo sysctl fs.inotify.max_user_watches=524288 fs.inotify.max_user_instances=512"
        ),
        "{report}"
    );
    assert!(report.contains("AMBIENT_ISTIO=1.24.2"), "{report}");
}

#[tokio::test]
async fn each_provider_is_checked_for_what_it_needs_only() {
    // No docker, no kind, a small machine: sim and existing need none of it.
    let bin = FakeBin::new();
    let proc = fake_proc(1048576, 8192, 128);
    let inputs = |provider, sim_bin_dir: &std::path::Path| Inputs {
        tools: bin.tools(),
        proc_root: proc.path().into(),
        machine: "x86_64".into(),
        istio: IstioSource::Release(support::eras::IstioVersion::parse("1.24.2").unwrap()),
        provider,
        sim_bin_dir: sim_bin_dir.into(),
    };
    let names = |checks: &[support::doctor::Check]| -> Vec<&str> {
        checks.iter().map(|c| c.name).collect()
    };
    let empty = tempfile::tempdir().unwrap();
    let sim = run(&inputs(Provider::Sim, empty.path())).await;
    assert_eq!(names(&sim), ["sim binaries", "architecture"]);
    assert!(
        render(&sim).contains("bash fixtures/sim/build.sh"),
        "{}",
        render(&sim)
    );
    let existing = run(&inputs(Provider::Existing, empty.path())).await;
    assert_eq!(names(&existing), ["architecture"]);
    assert!(!has_failures(&existing));
    let k3s = run(&inputs(Provider::K3s, empty.path())).await;
    assert_eq!(names(&k3s), ["docker", "memory", "architecture"]);
}

#[tokio::test]
async fn sim_needs_the_istio_builds_pilot_discovery() {
    // A complete set of control-plane binaries (empty files will do: only their presence is
    // checked) and a local Istio build with or without pilot-discovery.
    let bins = tempfile::tempdir().unwrap();
    for b in support::cluster::sim::BINARIES {
        std::fs::write(bins.path().join(b), "").unwrap();
    }
    std::fs::create_dir(bins.path().join("kwok-stages")).unwrap();
    for s in support::cluster::sim::STAGES {
        std::fs::write(bins.path().join("kwok-stages").join(s), "").unwrap();
    }
    let release = tempfile::tempdir().unwrap();
    std::fs::create_dir(release.path().join("bin")).unwrap();
    let proc = fake_proc(1048576, 8192, 128);
    let inputs = |istio| Inputs {
        tools: FakeBin::new().tools(),
        proc_root: proc.path().into(),
        machine: "x86_64".into(),
        istio,
        provider: Provider::Sim,
        sim_bin_dir: bins.path().into(),
    };
    let local = || IstioSource::Local(release.path().into());
    let missing = render(&run(&inputs(local())).await);
    let pilot = release.path().join("bin/pilot-discovery");
    assert!(
        missing.contains(&format!(
            "{} is missing: build the sim binaries with `bash fixtures/sim/build.sh`",
            pilot.display()
        )),
        "{missing}"
    );
    // The same release given as its istioctl finds the same pilot-discovery.
    std::fs::write(&pilot, "").unwrap();
    assert!(!has_failures(&run(&inputs(local())).await));
    let istioctl = IstioSource::Local(release.path().join("bin/istioctl"));
    assert!(!has_failures(&run(&inputs(istioctl)).await));
    // A downloaded release has no pilot-discovery: sim says what to do.
    let release_1_24 = IstioSource::Release(support::eras::IstioVersion::parse("1.24.2").unwrap());
    let remote = render(&run(&inputs(release_1_24)).await);
    assert!(remote.contains("does not name a local build"), "{remote}");
    assert!(remote.contains("unset AMBIENT_ISTIO"), "{remote}");
}
