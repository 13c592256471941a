//! Drives the world for the Istio ambient tutorial suite.
//!
//! One module per thing in the world: [`settings`] (environment), [`eras`] (what differs between
//! Istio versions), [`cluster`] (kind and the context guard), [`istio`] (istioctl: download,
//! install), [`k8s`] (apply, wait, pods), [`logs`] (ztunnel and istio-cni lines), [`snapshot`]
//! (redactions), [`process`] (running tools), [`fixtures`] (files under `fixtures/`).

pub mod answers;
pub mod claims;
pub mod compare;
pub mod cluster;
pub mod diagnostics;
pub mod docpatch;
pub mod docsync;
pub mod document;
pub mod drift_issues;
pub mod doctor;
pub mod eras;
pub mod errors;
pub mod fixtures;
pub mod gateway_api;
pub mod istio;
pub mod jail;
pub mod judge;
pub mod junit;
pub mod k8s;
pub mod logs;
pub mod manifests;
pub mod observe;
pub mod plan;
pub mod process;
pub mod progress;
pub mod recorder;
pub mod registry;
pub mod report;
pub mod secret_scan;
pub mod run;
pub mod settings;
pub mod snapshot;
pub mod steps;
pub mod tls;
pub mod timeline;
pub mod tutorial;
pub mod workflow_commands;
pub mod workspace;
