//! Loopback ports of the sim components, chosen at run time.

use std::net::TcpListener;
use std::path::Path;

use super::{SimError, io};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    pub etcd_client: u16,
    pub etcd_peer: u16,
    pub apiserver: u16,
    pub controller_manager: u16,
    pub scheduler: u16,
    pub kwok: u16,
}

impl Ports {
    /// Ports free right now (the OS picks them).
    pub fn free() -> Result<Self, SimError> {
        let mut held = Vec::new();
        let mut next = || -> Result<u16, SimError> {
            let l = TcpListener::bind("127.0.0.1:0").map_err(io(Path::new("127.0.0.1:0")))?;
            let port = l.local_addr().map_err(io(Path::new("127.0.0.1:0")))?.port();
            held.push(l); // keep it bound until all are chosen, so no two are the same
            Ok(port)
        };
        Ok(Ports {
            etcd_client: next()?,
            etcd_peer: next()?,
            apiserver: next()?,
            controller_manager: next()?,
            scheduler: next()?,
            kwok: next()?,
        })
    }

    pub fn check_free(&self) -> Result<(), SimError> {
        let named = [
            ("etcd", self.etcd_client),
            ("etcd peer", self.etcd_peer),
            ("kube-apiserver", self.apiserver),
            ("kube-controller-manager", self.controller_manager),
            ("kube-scheduler", self.scheduler),
            ("kwok", self.kwok),
        ];
        for (component, port) in named {
            if TcpListener::bind(("127.0.0.1", port)).is_err() {
                return Err(SimError::PortInUse {
                    component: component.into(),
                    port,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_in_use_is_named() {
        let held = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut ports = Ports::free().unwrap();
        ports.scheduler = held.local_addr().unwrap().port();
        let err = ports.check_free().unwrap_err();
        assert!(
            err.to_string().contains("(wanted for kube-scheduler)"),
            "{err}"
        );
    }
}
