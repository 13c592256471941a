//! Test doubles for the outside world: fake executables that record their argv, a local HTTP
//! server, Istio-shaped archives built on the spot. Nothing here reaches the network.

use std::collections::HashMap;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use support::process::Tools;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A directory of fake executables, each a small sh script that appends its argv to a shared log.
pub struct FakeBin {
    pub dir: tempfile::TempDir,
    log: PathBuf,
}

impl FakeBin {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("calls.log");
        FakeBin { dir, log }
    }

    /// A fake `name` that records its argv, then runs `body` (sh).
    pub fn script(&self, name: &str, body: &str) {
        let path = self.dir.path().join(name);
        let text = format!(
            "#!/bin/sh\n{{ printf '%s\\n' \"{name}\"; for a in \"$@\"; do printf '%s\\n' \"$a\"; done; printf '%s\\n' '--end--'; }} >> '{}'\n{body}\n",
            self.log.display()
        );
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// A fake that prints `stdout` and exits with `code`.
    pub fn answering(&self, name: &str, stdout: &str, code: i32) {
        let stdout_file = self.dir.path().join(format!("{name}.stdout"));
        std::fs::write(&stdout_file, stdout).unwrap();
        self.script(
            name,
            &format!("cat '{}'\nexit {code}", stdout_file.display()),
        );
    }

    /// Every call so far: program name then its arguments.
    pub fn calls(&self) -> Vec<Vec<String>> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let mut calls = Vec::new();
        let mut current = Vec::new();
        for line in text.lines() {
            if line == "--end--" {
                calls.push(std::mem::take(&mut current));
            } else {
                current.push(line.to_string());
            }
        }
        calls
    }

    /// Tools that find the fakes first (and sh's helpers like `cat`/`sleep` after them).
    pub fn tools(&self) -> Tools {
        Tools::with_path(&[self.dir.path(), Path::new("/usr/bin"), Path::new("/bin")])
    }
}

pub fn argv(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// One canned HTTP answer.
#[derive(Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
    /// Announce more bytes than are sent, then close (a truncated transfer).
    pub announce_extra: usize,
}

impl Answer {
    pub fn ok(body: impl Into<Vec<u8>>) -> Self {
        Answer {
            status: 200,
            body: body.into(),
            announce_extra: 0,
        }
    }
}

/// A local HTTP/1.1 server on 127.0.0.1 with canned answers; unknown paths get 404. It counts
/// requests per path.
pub struct Server {
    pub base: String,
    routes: Arc<Mutex<HashMap<String, Answer>>>,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    _task: tokio::task::JoinHandle<()>,
}

impl Server {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let routes: Arc<Mutex<HashMap<String, Answer>>> = Arc::default();
        let hits: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let (r, h) = (routes.clone(), hits.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let (r, h) = (r.clone(), h.clone());
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&buf);
                    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                    *h.lock().unwrap().entry(path.clone()).or_default() += 1;
                    let answer = r.lock().unwrap().get(&path).cloned().unwrap_or(Answer {
                        status: 404,
                        body: b"not found".to_vec(),
                        announce_extra: 0,
                    });
                    let head = format!(
                        "HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        answer.status,
                        answer.body.len() + answer.announce_extra
                    );
                    let _ = socket.write_all(head.as_bytes()).await;
                    let _ = socket.write_all(&answer.body).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        Server {
            base,
            routes,
            hits,
            _task: task,
        }
    }

    pub fn route(&self, path: &str, answer: Answer) {
        self.routes.lock().unwrap().insert(path.to_string(), answer);
    }

    pub fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

/// A gzipped tar shaped like an Istio release: `istio-<v>/bin/istioctl` (a script printing the
/// version) and one sample.
pub fn istio_archive(version: &str) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    let mut add = |path: String, body: &[u8], mode: u32| {
        let mut header = tar::Header::new_gnu();
        header.set_size(body.len() as u64);
        header.set_mode(mode);
        header.set_cksum();
        tar.append_data(&mut header, path, body).unwrap();
    };
    add(
        format!("istio-{version}/bin/istioctl"),
        format!("#!/bin/sh\necho 'client version: {version}'\n").as_bytes(),
        0o755,
    );
    add(
        format!("istio-{version}/samples/bookinfo/platform/kube/bookinfo.yaml"),
        b"apiVersion: v1\nkind: Service\n",
        0o644,
    );
    add(
        format!("istio-{version}/manifest.yaml"),
        b"version: x\n",
        0o644,
    );
    tar.into_inner().unwrap().finish().unwrap()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A kubeconfig as `kind get kubeconfig` prints it (context `kind-<name>`), with `server`.
pub fn kind_kubeconfig(name: &str, server: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: {server}\n    insecure-skip-tls-verify: true\n  name: kind-{name}\ncontexts:\n- context:\n    cluster: kind-{name}\n    user: kind-{name}\n  name: kind-{name}\ncurrent-context: kind-{name}\nusers:\n- name: kind-{name}\n  user:\n    token: t\n"
    )
}

pub fn write(path: &Path, text: &str) {
    let mut f = std::fs::File::create(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}
