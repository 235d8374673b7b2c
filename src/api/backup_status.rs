//! `status.backup`: what the vendor says about an object's backups, beside the `BackupHealthy`
//! condition that judges it. Written by the reconciler for kinds whose vendor holds backups.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The facts behind `BackupHealthy`, as the vendor reported them at the last poll.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackupStatus {
    /// The newest backup run, finished or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_backup: Option<BackupRunStatus>,
    /// When the newest successful backup was taken (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_successful_backup_time: Option<String>,
    /// How many backups the vendor holds for the object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backups_held: Option<i64>,
    /// When the schedule next expects a backup (RFC 3339), when the schedule is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_expected_run: Option<String>,
    /// The newest failed run, with the vendor's task or backup id and message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failure: Option<BackupRunStatus>,
    /// The newest successful backups, newest first (at most `RECENT_BACKUPS`): the ids a
    /// Restore's `backupId` names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recent_backups: Vec<BackupRunStatus>,
}

/// How many backups `recentBackups` lists: enough to pick one to restore, bounded so a vault
/// holding thousands keeps a small status.
pub const RECENT_BACKUPS: usize = 10;

/// One backup run as the vendor reports it.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackupRunStatus {
    /// The vendor's id of the backup, or of the task when the run left no backup.
    pub id: String,
    /// When the run took place (RFC 3339).
    pub time: String,
    /// `Succeeded`, `Failed` or `Running`.
    pub result: String,
    /// The vendor's message, for a failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}
