//! The status of the one-shot kinds, Backup and Restore: a vendor action taken once and
//! followed to its end. Not `ManagedStatus`: there is nothing to keep in line, only a phase.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::Condition;

/// Where a one-shot action stands.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
pub enum Phase {
    /// Not started at the vendor yet (waiting for the source, the provider, or a retry).
    Pending,
    /// The vendor accepted the action and is carrying it out.
    Running,
    /// The vendor reports the action done.
    Succeeded,
    /// The vendor reports the action failed, or rampart refused it; never retried.
    Failed,
}

impl Phase {
    /// A finished action is never touched again by a resync.
    pub fn finished(self) -> bool {
        matches!(self, Phase::Succeeded | Phase::Failed)
    }
}

/// The vendor's name for the provider configuration and source the action went to.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActionTarget {
    /// `ProviderConfig/<name>` or `ClusterProviderConfig/<name>`.
    pub provider_config: String,
    /// `Vault/<name>`, `Policy/<name>` or `Strategy/<name>`.
    pub source: String,
    /// The vendor's id of the source (vault id, pool, plan id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
}

/// Status of a Backup or Restore.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActionStatus {
    /// `Pending`, `Running`, `Succeeded` or `Failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<Phase>,
    /// The `metadata.generation` last acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready` (True once Succeeded) and, once Failed, `Stalled`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,
    /// Where the action went.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<ActionTarget>,
    /// The vendor's id of what it started: a CBR restore point (checkpoint), a RuBackup task, a
    /// Cyber Backup plan run's activity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_id: Option<String>,
    /// The vendor's task id, where it tracks the action as a task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
    /// The vendor's ids of the backups the action produced (Backup) or restored (Restore).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backup_ids: Vec<String>,
    /// When the vendor call was made (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// When the vendor reported the action finished (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
    /// Size of what was backed up, in bytes, where the vendor says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<i64>,
    /// The vendor's message (on failure), or why rampart refused the action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}
