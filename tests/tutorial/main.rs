//! The Istio ambient tutorial, section by section, on a real kind cluster.
//!
//! Each module is one section of the tutorial, in its order; each test checks documented claims
//! (ids in `support::claims::CLAIMS`). Every test here needs a cluster and is `#[ignore]`d: run
//! them with `cargo test -- --ignored`. They share one cluster, set up once per process by the
//! fixtures in `world`, and run one at a time (`#[serial(cluster)]`).

mod sim_provider;
mod world;

mod demo_apps;
mod installation;
mod kiali;
mod l4;
mod l7;
