//! The Kubernetes API through kube-rs: readiness rules, bounded waits, apply, pods.

pub mod conditions;
pub mod wait;
