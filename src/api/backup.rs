//! Backup: "back this up now". A one-shot vendor action, taken once and followed to its end,
//! as Velero's Backup is; never re-run by a resync.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::action_status::ActionStatus;
use super::common::{DeletionPolicy, LocalObjectRef};

/// An on-demand backup of a Vault (CBR restore point, RuBackup urgent backup into the pool), a
/// Policy (Cyber Backup: run the plan now) or a Strategy (RuBackup: its rules' resources now).
/// The provider configuration is the source's.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "rampart.dev",
    version = "v1alpha1",
    kind = "Backup",
    namespaced,
    status = "ActionStatus",
    shortname = "rbackup",
    category = "rampart",
    doc = "An on-demand backup, taken once: a CBR restore point of a Vault, a RuBackup urgent backup into a Vault's pool or of a Strategy's resources, or a run of a Cyber Backup Policy's plan. Deleting it keeps the vendor backup unless deletionPolicy is Delete.",
    printcolumn(name = "PHASE", type_ = "string", json_path = ".status.phase"),
    printcolumn(name = "SOURCE", type_ = "string", json_path = ".status.target.source"),
    printcolumn(name = "STARTED", type_ = "date", json_path = ".status.startedAt"),
    printcolumn(name = "COMPLETED", type_ = "date", json_path = ".status.completedAt"),
    printcolumn(
        name = "VENDOR-ID",
        type_ = "string",
        json_path = ".status.vendorId",
        priority = 1
    ),
    printcolumn(
        name = "AGE",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[kube(derive = "PartialEq")]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "self.source == oldSelf.source && (has(self.description) ? self.description : '') == (has(oldSelf.description) ? oldSelf.description : '') && (has(self.retentionDays) ? self.retentionDays : 0) == (has(oldSelf.retentionDays) ? oldSelf.retentionDays : 0) && has(self.huaweiCbr) == has(oldSelf.huaweiCbr) && (!has(self.huaweiCbr) || self.huaweiCbr == oldSelf.huaweiCbr) && has(self.ruBackup) == has(oldSelf.ruBackup) && (!has(self.ruBackup) || self.ruBackup == oldSelf.ruBackup)", "message": "a Backup is taken once: only deletionPolicy can change; create a new Backup for another backup"},
    {"rule": "!(has(self.huaweiCbr) && has(self.ruBackup))", "message": "set at most one vendor block: huaweiCbr or ruBackup"},
    {"rule": "!has(self.ruBackup) || !has(self.source.policyRef)", "message": "spec.ruBackup: a Policy source is a Cyber Backup plan run, which takes no RuBackup options"}
]))]
pub struct BackupSpec {
    /// What to back up: exactly one of `vaultRef`, `policyRef`, `strategyRef`.
    pub source: BackupSource,
    /// A description the vendor keeps with the backup (CBR).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 255))]
    pub description: Option<String>,
    /// How many days the vendor keeps this backup (RuBackup's storage duration). CBR and Cyber
    /// Backup take no retention for a single backup: there the Policy's retention applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 36500))]
    pub retention_days: Option<u32>,
    /// `Orphan` (default) keeps the vendor backup when this object is deleted; `Delete` removes
    /// it with the object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_policy: Option<DeletionPolicy>,
    /// CBR options for a Vault source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub huawei_cbr: Option<CbrBackupOptions>,
    /// RuBackup options: what to back up into a Vault's pool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ru_backup: Option<RuBackupBackupOptions>,
}

/// The object a Backup backs up.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "[has(self.vaultRef), has(self.policyRef), has(self.strategyRef)].filter(x, x).size() == 1", "message": "set exactly one of vaultRef, policyRef, strategyRef"}
]))]
pub struct BackupSource {
    /// A Vault of this namespace (CBR vault or RuBackup pool).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault_ref: Option<LocalObjectRef>,
    /// A Policy of this namespace (Cyber Backup: its plan is run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_ref: Option<LocalObjectRef>,
    /// A Strategy of this namespace (RuBackup: each of its rules' resources).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy_ref: Option<LocalObjectRef>,
}

impl BackupSource {
    /// The source as (kind, name).
    pub fn object(&self) -> Option<(&'static str, &str)> {
        let refs = [
            ("Vault", &self.vault_ref),
            ("Policy", &self.policy_ref),
            ("Strategy", &self.strategy_ref),
        ];
        refs.into_iter()
            .find_map(|(kind, r)| r.as_ref().map(|r| (kind, r.name.as_str())))
    }
}

/// CBR restore point options (document L1525-1704, Table 4-79).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CbrBackupOptions {
    /// Back up only these resources of the vault (ids); all of them when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 256))]
    pub resources: Vec<String>,
    /// Incremental (default, the vendor's default) or full.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incremental: Option<bool>,
}

/// What a RuBackup urgent backup copies into the Vault's pool (document L4868-4912).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuBackupBackupOptions {
    /// The client, as the vendor names it (for example `host (525a99154f3505a2)`). Required
    /// for a Vault source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub client: Option<String>,
    /// The resource type (for example `File system`). Required for a Vault source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub resource_type: Option<String>,
    /// The resource (for example `/home/`). Required for a Vault source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 4096))]
    pub resource: Option<String>,
    /// Task priority (the vendor's example uses 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 1000))]
    pub priority: Option<i32>,
}
