//! Strategy: a RuBackup backup strategy with its rules and administrators.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{ManagedFields, ManagedStatus};
use super::vendors::rubackup::RuBackupStrategy;

/// A backup strategy. Only RuBackup has strategies.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "rampart.dev",
    version = "v1alpha1",
    kind = "Strategy",
    namespaced,
    status = "StrategyStatus",
    shortname = "rstrat",
    category = "rampart",
    doc = "A RuBackup backup strategy: schedules per backup type, retention, and the rules (client, resource) and administrators that belong to it.",
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
        name = "RULES",
        type_ = "integer",
        json_path = ".status.atProvider.ruleCount",
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
    {"rule": "[has(self.ruBackup)].filter(x, x).size() == 1", "message": "set exactly one vendor block: ruBackup"}
]))]
pub struct StrategySpec {
    #[serde(flatten)]
    pub managed: ManagedFields,
    /// A RuBackup backup strategy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ru_backup: Option<RuBackupStrategy>,
}

/// What the vendor reports about a strategy.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StrategyObservation {
    /// Vendor id of the strategy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Vendor state (for example `run` or `wait`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Number of strategy rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_count: Option<i32>,
    /// Vendor ids of the rules, keyed by `client/resourceType/resource`.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub rule_ids: std::collections::BTreeMap<String, String>,
    /// Other vendor-specific facts, as key/value text.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub details: std::collections::BTreeMap<String, String>,
}

/// Status of a Strategy.
pub type StrategyStatus = ManagedStatus<StrategyObservation>;
