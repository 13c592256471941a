//! The Istio ambient tutorial, section by section, on a real cluster (kind by default; see
//! `AMBIENT_PROVIDER` in the README).
//!
//! Each section module is one section of the tutorial; each test checks documented claims (ids in
//! `support::claims::CLAIMS`, tutorial order). Every test here needs a cluster and is `#[ignore]`d:
//! run them with `cargo test --test tutorial -- --ignored --skip sim_provider::` on kind. They share
//! one cluster, set up once per process by the fixtures in `world`, and run one at a time
//! (`#[serial(cluster)]`). `sim_provider` holds the sim provider's own tests.

mod sim_provider;
mod world;

// The tutorial's sections, in its order.
mod installation;
mod demo_apps;
mod l4;
mod l7;
mod kiali;

// Another page, run as written (AMBIENT_TUTORIAL).
mod document;
