//! The hermetic tier: everything that decides pass or fail, proven without a cluster on real
//! recorded data. Run with plain `cargo test`.

mod fixtures;
mod logs;
mod properties;
mod redaction;
