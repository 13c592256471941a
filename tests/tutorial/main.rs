//! The Istio ambient tutorial, section by section, on a real cluster.
//!
//! Each module is one section of the tutorial; each test is one documented claim. Cluster tests are
//! `#[ignore]`d: run them with `cargo test -- --ignored`.
