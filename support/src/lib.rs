//! Drives the world for the Istio ambient tutorial suite.
//!
//! One module per thing in the world: [`settings`] (environment), [`eras`] (what differs between
//! Istio versions), [`logs`] (ztunnel and istio-cni lines), [`snapshot`] (redactions),
//! [`fixtures`] (files under `fixtures/`).

pub mod eras;
pub mod fixtures;
pub mod kind;
pub mod logs;
pub mod manifests;
pub mod settings;
pub mod snapshot;
