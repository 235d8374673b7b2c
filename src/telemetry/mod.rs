//! Logs and metrics.

pub mod backup_metrics;
pub mod logging;
pub mod metrics;
