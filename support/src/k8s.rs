//! The Kubernetes API through kube-rs: readiness rules, bounded waits, apply, pods.

pub mod apply;
pub mod conditions;
pub mod pods;
pub mod wait;
