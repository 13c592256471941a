//! The hermetic tier: everything that decides pass or fail, proven without a cluster on real
//! recorded data and test doubles of the outside world. Run with plain `cargo test`.

mod acquire;
mod claim_snapshots;
mod compare;
mod doctor;
mod drift;
mod fixtures;
mod hostile_records;
mod issues;
mod judges;
mod junit;
mod logs;
mod logs_output;
mod near_misses;
mod patch_runs;
mod pages;
mod process;
mod progress;
mod properties;
mod provisioning;
mod redaction;
mod registry;
mod secret_scan;
mod timeline;
mod timing;
mod run;
mod tutorial;
mod verdicts;
mod world;
