//! Istio: getting istioctl and the release's `samples/`, and installing the ambient profile.

pub mod acquire;
pub mod install;
pub mod source;

pub use acquire::{AcquireError, Acquirer, Endpoints, IstioRelease};
pub use install::{InstallError, InstallReport, install};
