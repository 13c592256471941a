//! A network namespace of the run's own for the sim's servers (etcd, kube-apiserver, kwok,
//! istiod): their listeners are on the loopback of that namespace, which no other process of the
//! machine can reach. One door leads in: the API server's port on the machine's loopback, relayed
//! byte for byte to the API server inside, which authenticates every request itself (TLS client
//! certificates; anonymous requests refused). One leads out, when a test asks for it: the local
//! server kwok's port-forwards go to.
//!
//! The namespace is made by a worker thread of this process (`unshare(CLONE_NEWNET)` affects only
//! the calling thread); components join it between fork and exec (`setns`), and every socket that
//! must live inside (a relay's connection to the API server, a probe of istiod's `/ready`) is
//! opened by that thread. It needs CAP_SYS_ADMIN (root): without it the servers stay on the
//! machine's loopback, and the start says so.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum NetnsError {
    #[error(
        "no network namespace of its own ({0}); it needs CAP_SYS_ADMIN (run as root): the sim's \
         servers listen on the machine's loopback instead"
    )]
    Unsupported(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

fn io_err(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> NetnsError {
    let what = what.into();
    move |source| NetnsError::Io { what, source }
}

enum Request {
    Connect(SocketAddr, mpsc::Sender<std::io::Result<TcpStream>>),
    Listen(SocketAddr, mpsc::Sender<std::io::Result<TcpListener>>),
}

/// The run's network namespace; its relays stop when it is dropped.
pub struct PrivateNet {
    ns: OwnedFd,
    worker: std::sync::Mutex<mpsc::Sender<Request>>,
    relays: Vec<Relay>,
}

impl std::fmt::Debug for PrivateNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrivateNet")
            .field("ns", &self.ns)
            .finish_non_exhaustive()
    }
}

impl PrivateNet {
    /// A new namespace with its loopback up.
    pub fn create() -> Result<Self, NetnsError> {
        let (tx, rx) = mpsc::channel::<Request>();
        let (ready_tx, ready_rx) = mpsc::channel::<Result<OwnedFd, NetnsError>>();
        std::thread::Builder::new()
            .name("ambient-netns".into())
            .spawn(move || {
                let made = enter_new_namespace();
                let ok = made.is_ok();
                let _ = ready_tx.send(made);
                if !ok {
                    return;
                }
                // Every socket made here lives in the namespace.
                for request in rx {
                    match request {
                        Request::Connect(addr, reply) => {
                            let _ = reply
                                .send(TcpStream::connect_timeout(&addr, Duration::from_secs(5)));
                        }
                        Request::Listen(addr, reply) => {
                            let _ = reply.send(TcpListener::bind(addr));
                        }
                    }
                }
            })
            .map_err(io_err("starting the namespace's thread"))?;
        let ns = ready_rx
            .recv()
            .map_err(|_| NetnsError::Unsupported("its thread ended".into()))??;
        Ok(PrivateNet {
            ns,
            worker: std::sync::Mutex::new(tx),
            relays: Vec::new(),
        })
    }

    /// The namespace's descriptor, for `setns` in a child between fork and exec.
    pub fn fd(&self) -> RawFd {
        self.ns.as_raw_fd()
    }

    fn ask<T>(
        &self,
        make: impl FnOnce(mpsc::Sender<std::io::Result<T>>) -> Request,
    ) -> std::io::Result<T> {
        let (reply, answer) = mpsc::channel();
        self.worker
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send(make(reply))
            .map_err(|_| std::io::Error::other("the namespace's thread is gone"))?;
        answer
            .recv()
            .map_err(|_| std::io::Error::other("the namespace's thread is gone"))?
    }

    /// A connection to `addr` inside the namespace.
    pub fn connect(&self, addr: SocketAddr) -> std::io::Result<TcpStream> {
        self.ask(|reply| Request::Connect(addr, reply))
    }

    /// `GET http://<addr><path>` inside the namespace: the status code (HTTP/1.0, no body read).
    pub fn http_status(&self, addr: SocketAddr, path: &str) -> std::io::Result<u16> {
        status_of(self.connect(addr)?, addr, path)
    }

    /// [`PrivateNet::http_status`] on the machine's loopback (when the run has no namespace).
    pub fn http_status_here(addr: SocketAddr, path: &str) -> std::io::Result<u16> {
        status_of(
            TcpStream::connect_timeout(&addr, Duration::from_secs(5))?,
            addr,
            path,
        )
    }

    /// Relays `127.0.0.1:port` of the machine to the same port inside (the API server's door).
    pub fn expose(&mut self, port: u16) -> Result<(), NetnsError> {
        let what = format!("relaying 127.0.0.1:{port} into the sim's network namespace");
        let listener = TcpListener::bind(("127.0.0.1", port)).map_err(io_err(what.clone()))?;
        let inside = SocketAddr::from(([127, 0, 0, 1], port));
        let worker = self
            .worker
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let connect = move || -> std::io::Result<TcpStream> {
            let (reply, answer) = mpsc::channel();
            worker
                .send(Request::Connect(inside, reply))
                .map_err(|_| std::io::Error::other("the namespace's thread is gone"))?;
            answer
                .recv()
                .map_err(|_| std::io::Error::other("the namespace's thread is gone"))?
        };
        self.relays.push(Relay::start(listener, connect, &what)?);
        Ok(())
    }

    /// Relays `127.0.0.1:port` inside to the same port of the machine (a local server of a test
    /// that kwok's port-forwards go to).
    pub fn reach_out(&mut self, port: u16) -> Result<(), NetnsError> {
        let what = format!("relaying 127.0.0.1:{port} of the sim's network namespace out");
        let inside = SocketAddr::from(([127, 0, 0, 1], port));
        let listener = self
            .ask(|reply| Request::Listen(inside, reply))
            .map_err(io_err(what.clone()))?;
        let connect = move || TcpStream::connect(("127.0.0.1", port));
        self.relays.push(Relay::start(listener, connect, &what)?);
        Ok(())
    }
}

/// The status code of the answer to `GET <path>` sent on `stream`.
fn status_of(mut stream: TcpStream, addr: SocketAddr, path: &str) -> std::io::Result<u16> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    // One write: a server may answer (and close) as soon as the first bytes arrive.
    let request = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n");
    stream.write_all(request.as_bytes())?;
    let mut head = [0u8; 64];
    let mut got = 0;
    while got < 12 {
        match stream.read(&mut head[got..])? {
            0 => break,
            n => got += n,
        }
    }
    let line = String::from_utf8_lossy(&head[..got]);
    line.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP answer: {line:?}")))
}

/// Makes the calling thread's network namespace a new one with loopback up; returns it.
fn enter_new_namespace() -> Result<OwnedFd, NetnsError> {
    // SAFETY: unshare takes flags only; CLONE_NEWNET changes this thread's namespace alone.
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        return Err(NetnsError::Unsupported(
            std::io::Error::last_os_error().to_string(),
        ));
    }
    loopback_up().map_err(io_err("bringing up lo in the new network namespace"))?;
    let ns = std::fs::File::open("/proc/thread-self/ns/net")
        .map_err(io_err("/proc/thread-self/ns/net"))?;
    Ok(OwnedFd::from(ns))
}

/// `ip link set lo up`, as two ioctls on a socket of this thread's namespace.
fn loopback_up() -> std::io::Result<()> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").or_else(|_| {
        // A namespace whose lo is down cannot bind 127.0.0.1, but 0.0.0.0 works; keep the error.
        std::net::UdpSocket::bind("[::]:0")
    })?;
    // SAFETY: an all-zero ifreq is valid; the name is copied in below, NUL-terminated.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    // SAFETY: SIOCGIFFLAGS and SIOCSIFFLAGS read and write the ifreq given.
    unsafe {
        if libc::ioctl(socket.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
        if libc::ioctl(socket.as_raw_fd(), libc::SIOCSIFFLAGS, &req) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// A listener whose every connection is copied both ways to a connection `connect` opens.
struct Relay {
    listener: Arc<TcpListener>,
    stopped: Arc<AtomicBool>,
}

impl Relay {
    fn start(
        listener: TcpListener,
        connect: impl Fn() -> std::io::Result<TcpStream> + Send + 'static,
        what: &str,
    ) -> Result<Self, NetnsError> {
        let listener = Arc::new(listener);
        let stopped = Arc::new(AtomicBool::new(false));
        let (l, s) = (listener.clone(), stopped.clone());
        std::thread::Builder::new()
            .name("ambient-relay".into())
            .spawn(move || {
                for conn in l.incoming() {
                    if s.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(client) = conn else { continue };
                    match connect() {
                        Ok(server) => pipe(client, server),
                        Err(_) => drop(client), // the server is not there (yet): refused
                    }
                }
            })
            .map_err(io_err(what.to_string()))?;
        Ok(Relay { listener, stopped })
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::SeqCst);
        // Wakes the blocked accept (Linux returns EINVAL from it), which then sees `stopped`.
        // SAFETY: shutdown(2) on a listening socket this relay owns.
        unsafe {
            libc::shutdown(self.listener.as_raw_fd(), libc::SHUT_RDWR);
        }
    }
}

/// Copies `a` to `b` and `b` to `a` on two threads until either side closes.
fn pipe(a: TcpStream, b: TcpStream) {
    let (Ok(a2), Ok(b2)) = (a.try_clone(), b.try_clone()) else {
        return;
    };
    let one_way = |mut from: TcpStream, mut to: TcpStream| {
        move || {
            let _ = std::io::copy(&mut from, &mut to);
            let _ = to.shutdown(Shutdown::Write);
            let _ = from.shutdown(Shutdown::Read);
        }
    };
    let _ = std::thread::Builder::new()
        .name("ambient-relay-io".into())
        .spawn(one_way(a, b2));
    let _ = std::thread::Builder::new()
        .name("ambient-relay-io".into())
        .spawn(one_way(b, a2));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_inside_is_reached_only_through_the_relay() {
        let mut net = match PrivateNet::create() {
            Ok(n) => n,
            Err(NetnsError::Unsupported(why)) => {
                eprintln!("SKIPPED: {why}");
                // SAFETY: geteuid reads a number.
                assert_ne!(unsafe { libc::geteuid() }, 0, "root can make one: {why}");
                return;
            }
            Err(e) => panic!("{e}"),
        };
        let [port] = super::super::ports::free_ports().unwrap();
        let inside = SocketAddr::from(([127, 0, 0, 1], port));
        let server = net.ask(|r| Request::Listen(inside, r)).unwrap();
        std::thread::spawn(move || {
            for mut c in server.incoming().flatten() {
                let mut request = [0u8; 256];
                let _ = c.read(&mut request);
                let _ = c.write_all(b"HTTP/1.0 204 No Content\r\n\r\n");
            }
        });
        // From the machine's loopback: nobody there.
        assert!(TcpStream::connect(inside).is_err());
        assert_eq!(net.http_status(inside, "/").unwrap(), 204);
        net.expose(port).unwrap();
        let mut through = TcpStream::connect(inside).unwrap();
        through.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
        let mut answer = String::new();
        through.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.0 204"), "{answer:?}");
        drop(net);
        // The door closes with the namespace.
        assert!(TcpStream::connect(inside).is_err());
    }
}
