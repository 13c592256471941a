//! The prerequisite check, on fake tools and a fake /proc.

use support::doctor::{Inputs, Status, has_failures, render, run};
use support::settings::IstioSource;

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
