//! Loopback ports of the sim components, chosen at run time.

use std::net::TcpListener;
use std::path::Path;

use super::{SimError, io};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    pub etcd_client: u16,
    pub etcd_peer: u16,
    pub apiserver: u16,
    pub kwok: u16,
}

impl Ports {
    /// Ports free right now (the OS picks them).
    pub fn free() -> Result<Self, SimError> {
        let [etcd_client, etcd_peer, apiserver, kwok] = free_ports()?;
        Ok(Ports {
            etcd_client,
            etcd_peer,
            apiserver,
            kwok,
        })
    }

    pub fn check_free(&self) -> Result<(), SimError> {
        check_free(&[
            ("etcd", self.etcd_client),
            ("etcd peer", self.etcd_peer),
            ("kube-apiserver", self.apiserver),
            ("kwok", self.kwok),
        ])
    }
}

/// `N` distinct loopback ports free right now (the OS picks them).
pub fn free_ports<const N: usize>() -> Result<[u16; N], SimError> {
    let mut held = Vec::with_capacity(N);
    let mut ports = [0; N];
    for port in &mut ports {
        let l = TcpListener::bind("127.0.0.1:0").map_err(io(Path::new("127.0.0.1:0")))?;
        *port = l.local_addr().map_err(io(Path::new("127.0.0.1:0")))?.port();
        held.push(l); // keep it bound until all are chosen, so no two are the same
    }
    Ok(ports)
}

/// The first of `named` (what wants it, port) that cannot be bound on 127.0.0.1 now, as an error
/// naming both.
pub fn check_free(named: &[(&str, u16)]) -> Result<(), SimError> {
    for &(component, port) in named {
        if TcpListener::bind(("127.0.0.1", port)).is_err() {
            return Err(SimError::PortInUse {
                component: component.into(),
                port,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_in_use_is_named() {
        let held = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut ports = Ports::free().unwrap();
        ports.kwok = held.local_addr().unwrap().port();
        let err = ports.check_free().unwrap_err();
        assert!(err.to_string().contains("(wanted for kwok)"), "{err}");
    }
}
