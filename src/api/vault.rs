//! Vault: where backups are kept. A CBR vault, a RuBackup pool, or a Cyber Backup destination.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{ManagedFields, ManagedStatus};
use super::vendors::{
    cyberbackup::CyberBackupVault, huawei_cbr::CbrVault, rubackup::RuBackupVault,
};

/// A backup vault on one vendor system. Set exactly one vendor block, matching the provider type.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "rampart.dev",
    version = "v1alpha1",
    kind = "Vault",
    namespaced,
    status = "VaultStatus",
    shortname = "rvault",
    category = "rampart",
    doc = "A backup vault: a Huawei CBR vault, a RuBackup pool or a Cyber Backup destination. Deleting it leaves the vendor vault in place unless deletionPolicy is Delete.",
    printcolumn(
        name = "READY",
        type_ = "string",
        json_path = ".status.conditions[?(@.type=='Ready')].status"
    ),
    printcolumn(
        name = "SYNCED",
        type_ = "string",
        json_path = ".status.conditions[?(@.type=='Synced')].status"
    ),
    printcolumn(
        name = "EXTERNAL-NAME",
        type_ = "string",
        json_path = ".metadata.annotations.rampart\\.dev/external-name"
    ),
    printcolumn(
        name = "STATE",
        type_ = "string",
        json_path = ".status.atProvider.state"
    ),
    printcolumn(
        name = "BACKUP",
        type_ = "string",
        json_path = ".status.conditions[?(@.type=='BackupHealthy')].reason"
    ),
    printcolumn(
        name = "BACKUPS",
        type_ = "integer",
        json_path = ".status.backup.backupsHeld"
    ),
    printcolumn(
        name = "RESOURCES",
        type_ = "integer",
        json_path = ".status.atProvider.resourceCount",
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
    {"rule": "[has(self.huaweiCbr), has(self.ruBackup), has(self.cyberBackup)].filter(x, x).size() == 1", "message": "set exactly one vendor block: huaweiCbr, ruBackup or cyberBackup"}
]))]
pub struct VaultSpec {
    #[serde(flatten)]
    pub managed: ManagedFields,
    /// A Huawei CBR vault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub huawei_cbr: Option<CbrVault>,
    /// A RuBackup pool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ru_backup: Option<RuBackupVault>,
    /// A Cyber Backup destination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cyber_backup: Option<CyberBackupVault>,
}

/// A resource the vendor reports in the vault.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObservedResource {
    /// Resource id.
    pub id: String,
    /// Resource type.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "type")]
    pub type_: Option<String>,
    /// Resource name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Protection status the vendor reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protect_status: Option<String>,
}

/// A resource no longer listed or selected, waiting for a second listing to agree.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PendingRemoval {
    /// Resource id.
    pub id: String,
    /// When the first listing that no longer had it was taken (RFC 3339).
    pub missing_since: String,
}

/// A resource another vault holds.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceElsewhere {
    /// Resource id.
    pub id: String,
    /// Id of the vault that holds it, when the vendor's listing shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault_id: Option<String>,
    /// Name of that vault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault_name: Option<String>,
}

/// What the vendor reports about a vault.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VaultObservation {
    /// Vendor id of the vault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Vendor name of the vault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Vendor state, for example `available`, `lock`, `frozen`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Capacity in GB.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        rename = "capacityGB"
    )]
    pub capacity_gb: Option<i64>,
    /// Used capacity in MB.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "usedMB")]
    pub used_mb: Option<i64>,
    /// Number of resources in the vault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_count: Option<i32>,
    /// Resources in the vault.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<ObservedResource>,
    /// Resources in the vault that the spec neither lists nor selects; kept because
    /// `pruneResources` is false (removing them would delete their backups).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unmanaged_resources: Vec<String>,
    /// Resources in the vault that are no longer listed or selected, with when a listing
    /// first showed each gone (`pruneResources`): one leaves the vault only when a listing at
    /// least one poll interval later agrees. Kept in status so a restart forgets nothing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending_removals: Vec<PendingRemoval>,
    /// Removals both listings agree on that exceed `maxPrunePercent` of the vault: held until
    /// the annotation `rampart.dev/confirm-prune` carries `pruneConfirmation`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub held_removals: Vec<String>,
    /// The value of `rampart.dev/confirm-prune` that confirms exactly `heldRemovals`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prune_confirmation: Option<String>,
    /// Resources the spec lists or selects that another vault already protects: left out of
    /// this vault (the vendor allows one vault per resource), the rest are protected.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources_in_other_vaults: Vec<ResourceElsewhere>,
    /// Resources resolved from `resourcesFrom` at the last poll.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub selected_resources: Vec<ObservedResource>,
    /// Id of the policy bound to the vault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_id: Option<String>,
    /// Time of the last backup the vendor reports (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_backup: Option<String>,
    /// Number of backups or archives the vendor reports in the vault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_count: Option<i32>,
    /// Other vendor-specific facts, as key/value text.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub details: std::collections::BTreeMap<String, String>,
}

/// Status of a Vault.
pub type VaultStatus = ManagedStatus<VaultObservation>;
