//! The Kubernetes API through kube-rs: the guarded client, readiness rules, bounded waits, apply,
//! pods.

pub mod apply;
pub mod client;
pub mod conditions;
pub mod pods;
pub mod wait;

pub use client::GuardedClient;
