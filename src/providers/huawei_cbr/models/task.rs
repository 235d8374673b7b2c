//! Operation logs (tasks, section 4.1) and backups (section 4.5): how asynchronous work such
//! as vault deletion or resource removal is observed.

use jiff::Timestamp;
use serde::Deserialize;

use super::de;

/// A task (OperationLog).
#[derive(Deserialize, Clone, Debug, Default, PartialEq)]
pub struct OperationLog {
    #[serde(default, deserialize_with = "de::null_default")]
    pub id: String,
    /// `backup`, `copy`, `replication`, `restore`, `delete`, `sync`, `vault_delete`,
    /// `remove_resource`.
    #[serde(default)]
    pub operation_type: Option<String>,
    /// `success`, `skipped`, `failed`, `running`, `timeout`, `waiting`.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub checkpoint_id: Option<String>,
    #[serde(default)]
    pub policy_id: Option<String>,
    #[serde(default)]
    pub project_id: Option<String>,
    #[serde(default)]
    pub provider_id: Option<String>,
    /// Often `null` even for a task that ran in a vault.
    #[serde(default)]
    pub vault_id: Option<String>,
    #[serde(default)]
    pub vault_name: Option<String>,
    #[serde(default, deserialize_with = "de::time")]
    pub created_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "de::time")]
    pub started_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "de::time")]
    pub ended_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "de::time")]
    pub updated_at: Option<Timestamp>,
    #[serde(default)]
    pub error_info: Option<OpErrorInfo>,
    #[serde(default, deserialize_with = "de::null_default")]
    pub extra_info: OpExtraInfo,
}

/// `error_info`: both strings are empty on success.
#[derive(Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct OpErrorInfo {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

/// `extra_info` (OpExtraInfo): one member per kind of task.
#[derive(Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct OpExtraInfo {
    #[serde(default)]
    pub backup: Option<OpBackup>,
    #[serde(default)]
    pub common: Option<OpCommon>,
    #[serde(default)]
    pub delete: Option<OpBackup>,
    #[serde(default)]
    pub resource: Option<OpResource>,
    #[serde(default)]
    pub remove_resources: Option<OpRemoveResources>,
    #[serde(default)]
    pub vault_delete: Option<OpCounts>,
    #[serde(default)]
    pub restore: Option<OpRestore>,
}

/// `extra_info.backup` / `extra_info.delete`. `incremental` is a string here (`"true"`).
#[derive(Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct OpBackup {
    #[serde(default)]
    pub backup_id: Option<String>,
    #[serde(default)]
    pub backup_name: Option<String>,
    #[serde(default, deserialize_with = "de::flex_bool")]
    pub incremental: Option<bool>,
}

/// `extra_info.common`.
#[derive(Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct OpCommon {
    /// 0–100.
    #[serde(default, deserialize_with = "de::flex_i64")]
    pub progress: Option<i64>,
    #[serde(default)]
    pub request_id: Option<String>,
    #[serde(default)]
    pub task_id: Option<String>,
}

/// `extra_info.resource`.
#[derive(Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct OpResource {
    #[serde(default, deserialize_with = "de::null_default")]
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, rename = "type")]
    pub type_: Option<String>,
}

/// `extra_info.remove_resources`.
#[derive(Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct OpRemoveResources {
    #[serde(default, deserialize_with = "de::flex_i64")]
    pub fail_count: Option<i64>,
    #[serde(default, deserialize_with = "de::flex_i64")]
    pub total_count: Option<i64>,
    #[serde(default, deserialize_with = "de::null_default")]
    pub resources: Vec<OpResource>,
}

/// `extra_info.vault_delete`.
#[derive(Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct OpCounts {
    #[serde(default, deserialize_with = "de::flex_i64")]
    pub fail_count: Option<i64>,
    #[serde(default, deserialize_with = "de::flex_i64")]
    pub total_count: Option<i64>,
}

/// `extra_info.restore`.
#[derive(Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct OpRestore {
    #[serde(default)]
    pub backup_id: Option<String>,
    #[serde(default)]
    pub backup_name: Option<String>,
    #[serde(default)]
    pub target_resource_id: Option<String>,
    #[serde(default)]
    pub target_resource_name: Option<String>,
}

/// Filters of `GET /operation-logs`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OperationLogFilter {
    pub operation_type: Option<String>,
    pub status: Option<String>,
    pub vault_id: Option<String>,
    pub vault_name: Option<String>,
    pub resource_id: Option<String>,
    pub resource_name: Option<String>,
    pub provider_id: Option<String>,
    pub start_time: Option<Timestamp>,
    pub end_time: Option<Timestamp>,
}

impl OperationLogFilter {
    /// Query parameters; times in the document's `2018-02-01T12:00:00Z` form.
    pub fn query(&self) -> Vec<(String, String)> {
        let time = |t: &Option<Timestamp>| t.map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string());
        [
            ("operation_type", self.operation_type.clone()),
            ("status", self.status.clone()),
            ("vault_id", self.vault_id.clone()),
            ("vault_name", self.vault_name.clone()),
            ("resource_id", self.resource_id.clone()),
            ("resource_name", self.resource_name.clone()),
            ("provider_id", self.provider_id.clone()),
            ("start_time", time(&self.start_time)),
            ("end_time", time(&self.end_time)),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
        .collect()
    }
}

/// Query of `GET /backups` (Table 4-185); `status` may be given more than once.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BackupFilter {
    pub vault_id: Option<String>,
    /// The restore point the backups belong to.
    pub checkpoint_id: Option<String>,
    /// The backup name (a restore point's `parameters.name`).
    pub name: Option<String>,
    pub resource_id: Option<String>,
    pub status: Vec<String>,
    pub start_time: Option<Timestamp>,
    pub end_time: Option<Timestamp>,
    /// `<key>[:asc|desc],…`; the vendor's default is descending.
    pub sort: Option<String>,
}

impl BackupFilter {
    /// Query parameters; times in the document's `2018-02-01T12:00:00Z` form.
    pub fn query(&self) -> Vec<(String, String)> {
        let time = |t: &Option<Timestamp>| t.map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string());
        let single = [
            ("vault_id", self.vault_id.clone()),
            ("checkpoint_id", self.checkpoint_id.clone()),
            ("name", self.name.clone()),
            ("resource_id", self.resource_id.clone()),
            ("start_time", time(&self.start_time)),
            ("end_time", time(&self.end_time)),
            ("sort", self.sort.clone()),
        ];
        let statuses = self.status.iter().map(|s| ("status", Some(s.clone())));
        single
            .into_iter()
            .chain(statuses)
            .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
            .collect()
    }
}

/// A backup (BackupResp), with the lazy-load flag under any of its three spellings.
#[derive(Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Backup {
    #[serde(default, deserialize_with = "de::null_default")]
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub vault_id: Option<String>,
    #[serde(default)]
    pub resource_id: Option<String>,
    #[serde(default)]
    pub resource_type: Option<String>,
    #[serde(default, deserialize_with = "de::flex_i64")]
    pub resource_size: Option<i64>,
    #[serde(default)]
    pub checkpoint_id: Option<String>,
    #[serde(default)]
    pub parent_id: Option<String>,
    #[serde(default, deserialize_with = "de::time")]
    pub created_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "de::time")]
    pub expired_at: Option<Timestamp>,
    /// "Backup time": when the data was taken.
    #[serde(default, deserialize_with = "de::time")]
    pub protected_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "de::null_default")]
    pub extend_info: BackupExtendInfo,
    #[serde(default, deserialize_with = "de::null_default")]
    pub children: Vec<Backup>,
}

/// `extend_info` of a backup.
#[derive(Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct BackupExtendInfo {
    #[serde(default, deserialize_with = "de::flex_bool")]
    pub auto_trigger: Option<bool>,
    #[serde(default, deserialize_with = "de::flex_bool")]
    pub bootable: Option<bool>,
    #[serde(default, deserialize_with = "de::flex_bool")]
    pub incremental: Option<bool>,
    #[serde(default, deserialize_with = "de::flex_bool")]
    pub encrypted: Option<bool>,
    /// Spelled `support_lld`, `support_llid` and `support_ll` in the document.
    #[serde(
        default,
        alias = "support_llid",
        alias = "support_ll",
        deserialize_with = "de::flex_bool"
    )]
    pub support_lld: Option<bool>,
    /// Also spelled `supported_restoration_mode`.
    #[serde(default, alias = "supported_restoration_mode")]
    pub supported_restore_mode: Option<String>,
    #[serde(default)]
    pub snapshot_id: Option<String>,
}
