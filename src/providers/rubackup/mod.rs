//! RuBackup: pools (Vault), global schedule rules (Policy) and backup strategies with their
//! rules and administrators (Strategy), through the RuBackup REST API of the 2.4 line
//! (seeds/rubackup-rest-api.txt; digest research/seed-000-rubackup.md).

pub mod backend;
pub mod backup_runs;
pub mod client;
pub mod common_fields;
pub mod cron;
pub mod envelope;
pub mod fields;
pub mod interval;
pub mod object;
pub mod ownership;
pub mod policy;
pub mod refs;
pub mod restore;
pub mod runtime;
pub mod schedule;
pub mod session;
pub mod strategy;
pub mod strategy_fields;
pub mod strategy_members;
pub mod strategy_sync;
pub mod task_queue;
pub mod token;
pub mod urgent_backup;
pub mod vault;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use crate::engine::hub::{ResolvedProvider, VendorRuntime};
use crate::vendor::error::VendorResult;

/// The vendor label in metrics and errors.
pub const VENDOR: &str = "rubackup";

/// Connect a `type: RuBackup` provider configuration.
pub fn connect(p: &ResolvedProvider) -> VendorResult<Arc<dyn VendorRuntime>> {
    Ok(Arc::new(runtime::RuBackupRuntime::connect(p)?))
}
