//! Cyber Backup 18.5: Policy = protection plan plus its applications, Vault = backup
//! destination (location + registered credentials), observed through archives and backups.

pub mod applications;
pub mod backup_delete;
pub mod backup_runs;
pub mod catalog;
pub mod client;
pub mod errors;
pub mod filter;
pub mod location;
pub mod location_runs;
pub mod models;
pub mod on_demand;
pub mod plan_patch;
pub mod plan_write;
pub mod policy;
pub mod policy_view;
pub mod registration;
pub mod retention;
pub mod rotation;
pub mod run;
pub mod runtime;
pub mod schedule;
pub mod session;
pub mod settings;
pub mod targets;
pub mod vault;

/// The vendor label in metrics, logs and errors.
pub const VENDOR: &str = "cyberbackup";

pub use runtime::connect;
