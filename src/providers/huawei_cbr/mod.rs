//! Huawei Cloud Backup and Recovery (CBR) v3, SberCloud edition: client, authentication (IAM
//! token, password login, AK/SK signing), models, error mapping and the pure schedule/retention
//! translation. Written from seeds/huawei-cbr-api.txt (see research/seed-003-huawei-cbr.md).

pub mod auth;
pub mod client;
pub mod cron;
pub mod errors;
pub mod models;
mod request;
pub mod schedule;
pub mod signer;

/// Vendor label in metrics, errors and logs.
pub const VENDOR: &str = "huawei-cbr";

pub use client::CbrClient;

#[cfg(test)]
mod auth_tests;
#[cfg(test)]
mod client_tests;
#[cfg(test)]
mod test_support;
