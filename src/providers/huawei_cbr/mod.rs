//! Huawei Cloud Backup and Recovery (CBR) v3, SberCloud edition: client, authentication (IAM
//! token, password login, AK/SK signing), models, error mapping and the pure schedule/retention
//! translation. Written from seeds/huawei-cbr-api.txt (see research/seed-003-huawei-cbr.md).

pub mod backup_runs;
pub mod checkpoint;
pub mod client;
pub mod errors;
pub mod models;
pub mod policy;
pub mod policy_desired;
pub mod refusal;
mod request;
pub mod restore;
pub mod runtime;
pub mod schedule;
pub mod session;
pub mod signer;
pub mod task_outcome;
pub mod vault;
pub mod vault_desired;
pub mod vault_name;
pub mod vault_prune;
pub mod vault_resources;

/// Vendor label in metrics, errors and logs.
pub const VENDOR: &str = "huawei-cbr";

pub use client::CbrClient;
/// The body readers every call goes through; public for the property tests in tests/fuzz.
pub use request::{read_list, read_object};
pub use runtime::{CbrRuntime, connect};

#[cfg(test)]
mod backup_health_tests;
#[cfg(test)]
mod backup_runs_sim_tests;
#[cfg(test)]
mod checkpoint_tests;
#[cfg(test)]
mod client_tests;
#[cfg(test)]
mod oneshot_sim_tests;
#[cfg(test)]
mod oneshot_support;
#[cfg(test)]
mod restore_tests;
#[cfg(test)]
mod session_tests;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod vault_partial_tests;
#[cfg(test)]
mod vault_prune_sim_tests;
#[cfg(test)]
mod vault_tests;
#[cfg(test)]
mod vault_world;
