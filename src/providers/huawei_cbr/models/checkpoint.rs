//! Restore points (section 4.3) and restores (section 4.5.4): what an on-demand backup and a
//! restore send and read back.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::de;

/// `POST /checkpoints` body, inside `{"checkpoint": …}` (VaultBackup, Table 4-78).
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct CheckpointCreate {
    pub vault_id: String,
    pub parameters: CheckpointParam,
}

/// CheckpointParam (Table 4-79). Only what the caller set is sent: the vendor's defaults
/// (incremental, every resource of the vault) apply to the rest.
#[derive(Serialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckpointParam {
    /// 1-64 of `[A-Za-z0-9_-]`; every backup of the restore point carries it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// 0-255 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incremental: Option<bool>,
    /// Resource ids; every resource of the vault when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
}

/// A restore point as `POST /checkpoints` and `GET /checkpoints/{id}` answer it
/// (CheckpointCreate, Tables 4-70 and 4-83).
#[derive(Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Checkpoint {
    #[serde(default, deserialize_with = "de::null_default")]
    pub id: String,
    /// `available`, `deleting`, `protecting`, `deleted`, `error-deleting`, `error`.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "de::time")]
    pub created_at: Option<Timestamp>,
    /// `null` in the document's 5.1 example.
    #[serde(default)]
    pub vault: Option<CheckpointVault>,
}

/// CheckpointPlanCreate (Tables 4-71 and 4-84).
#[derive(Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckpointVault {
    #[serde(default, deserialize_with = "de::null_default")]
    pub id: String,
    #[serde(default, deserialize_with = "de::null_default")]
    pub skipped_resources: Vec<SkippedResource>,
}

/// CheckpointCreateSkippedResource (Tables 4-73 and 4-86): a resource CBR did not back up.
#[derive(Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct SkippedResource {
    #[serde(default, deserialize_with = "de::null_default")]
    pub id: String,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
}

/// `POST /backups/{id}/restore` body, inside `{"restore": …}` (BackupRestore, Table 4-197).
#[derive(Serialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct BackupRestore {
    /// Required for a server backup: which disk backup goes to which disk.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mappings: Vec<RestoreMapping>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub power_on: Option<bool>,
    /// Required for a server backup.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_id: Option<String>,
    /// Required for a disk backup.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume_id: Option<String>,
}

/// BackupRestoreServerMapping (Table 4-198).
#[derive(Serialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct RestoreMapping {
    pub backup_id: String,
    pub volume_id: String,
}
