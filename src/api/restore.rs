//! Restore: "return this backup". The most dangerous verb rampart has: it overwrites a server,
//! a disk or a path with a backup. Taken once, only from an explicit object, never repeated.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::action_status::ActionStatus;
use super::common::LocalObjectRef;

/// A restore of one backup: a Backup object's, or a vendor backup id listed in a Vault's
/// `status.backup.recentBackups`.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "rampart.dev",
    version = "v1alpha1",
    kind = "Restore",
    namespaced,
    status = "ActionStatus",
    shortname = "rrestore",
    category = "rampart",
    doc = "A restore of one backup, taken once: a CBR backup onto its server or disk (or another), a RuBackup repository record onto a client's path. Cyber Backup's API has no restore.",
    printcolumn(name = "PHASE", type_ = "string", json_path = ".status.phase"),
    printcolumn(name = "SOURCE", type_ = "string", json_path = ".status.target.source"),
    printcolumn(name = "STARTED", type_ = "date", json_path = ".status.startedAt"),
    printcolumn(name = "COMPLETED", type_ = "date", json_path = ".status.completedAt"),
    printcolumn(
        name = "AGE",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[kube(derive = "PartialEq")]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "self == oldSelf", "message": "a Restore is taken once: its spec cannot change; create a new Restore"},
    {"rule": "!has(self.cyberBackup)", "message": "spec.cyberBackup: Cyber Backup 18.5's API has no restore (its document says restore is not in the API yet); restore from the Cyber Backup console"},
    {"rule": "[has(self.backupRef), has(self.vaultRef)].filter(x, x).size() == 1", "message": "set exactly one of backupRef (a Backup object) or vaultRef with backupId (a backup listed in the Vault's status)"},
    {"rule": "!has(self.vaultRef) || has(self.backupId)", "message": "spec.backupId: required with spec.vaultRef (one of the backups the Vault lists in status.backup.recentBackups)"},
    {"rule": "!(has(self.huaweiCbr) && has(self.ruBackup))", "message": "set at most one vendor block: huaweiCbr or ruBackup"}
]))]
pub struct RestoreSpec {
    /// A Backup object of this namespace that has Succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_ref: Option<LocalObjectRef>,
    /// A Vault of this namespace holding `backupId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault_ref: Option<LocalObjectRef>,
    /// The vendor's backup id (CBR backup id, RuBackup repository record id), as listed in the
    /// Vault's `status.backup.recentBackups`. With `backupRef`, picks one of the Backup's
    /// backups when it produced several (a CBR restore point of several resources).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub backup_id: Option<String>,
    /// CBR: where to restore (the backup's own server or disk when empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub huawei_cbr: Option<CbrRestoreOptions>,
    /// RuBackup: the client and path to restore to. Required for RuBackup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ru_backup: Option<RuBackupRestoreOptions>,
    /// Refused: Cyber Backup 18.5's API has no restore. Present only so the refusal names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "any_object")]
    pub cyber_backup: Option<serde_json::Value>,
}

fn any_object(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({"type": "object", "x-kubernetes-preserve-unknown-fields": true})
}

/// CBR restore options (document L3571-3664, Tables 4-197 and 4-198).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CbrRestoreOptions {
    /// The server to restore a server backup onto (the vendor requires it for a server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub server_id: Option<String>,
    /// The disk to restore a disk backup onto (the vendor requires it for a disk).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub volume_id: Option<String>,
    /// Which disk backup goes to which disk (the vendor requires it for a server).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mappings: Vec<CbrRestoreMapping>,
    /// Power the server on afterwards (the vendor's default: true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power_on: Option<bool>,
}

/// One disk backup and the disk it is restored to.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CbrRestoreMapping {
    #[schemars(length(min = 1, max = 64))]
    pub backup_id: String,
    #[schemars(length(min = 1, max = 64))]
    pub volume_id: String,
}

/// RuBackup restore options (document L3651-3691).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuBackupRestoreOptions {
    /// The client to restore onto, as the vendor names it.
    #[schemars(length(min = 1, max = 255))]
    pub target_client: String,
    /// Where on the client the data goes.
    #[schemars(length(min = 1, max = 4096))]
    pub destination_path: String,
    /// Restore only these files (granular restore); everything when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 1000))]
    pub files: Vec<String>,
    /// Deploy the data after restoring it (the vendor's `data_deployment`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_deployment: Option<bool>,
}
