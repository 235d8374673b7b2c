//! Sub-blocks shared by the RuBackup strategy, strategy rule and global schedule rule blocks:
//! cron fields, validity window, verification, copy moves, obsolete copies, notifications,
//! scripts and free-form module parameters.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::api::common::LocalObjectRef;

/// The five cron fields of RuBackup (`min`, `hour`, `dom`, `mon`, `dow`). Each is a number or a
/// cron field expression (`*`, `1-5`, `*/6`, `1,15`); days of week run 0-7 (0 and 7 are Sunday).
/// RuBackup reads them in the server's time zone.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuBackupCron {
    /// Minute (0-59).
    #[schemars(length(min = 1, max = 64), regex(pattern = r"^[0-9*/,-]+$"))]
    pub minute: String,
    /// Hour (0-23).
    #[schemars(length(min = 1, max = 64), regex(pattern = r"^[0-9*/,-]+$"))]
    pub hour: String,
    /// Day of month (1-31).
    #[schemars(length(min = 1, max = 64), regex(pattern = r"^[0-9*/,-]+$"))]
    pub day_of_month: String,
    /// Month (1-12).
    #[schemars(length(min = 1, max = 64), regex(pattern = r"^[0-9*/,-]+$"))]
    pub month: String,
    /// Day of week (0-7, 0 and 7 are Sunday).
    #[schemars(length(min = 1, max = 64), regex(pattern = r"^[0-9*/,-]+$"))]
    pub day_of_week: String,
}

/// When a strategy or rule is valid (`validity_start_period`, `validity_end_period`), as
/// date-times in the server's time zone, for example `2025-01-01T00:00:00`. After the end RuBackup
/// stops running it and reports it as overdue.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuBackupValidity {
    /// Start of validity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 10, max = 40),
        regex(pattern = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?$")
    )]
    pub start: Option<String>,
    /// End of validity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 10, max = 40),
        regex(pattern = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?$")
    )]
    pub end: Option<String>,
}

/// Periodic verification of backups (`verify_flag`, `verify_interval`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuBackupVerify {
    /// Verify backups periodically.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// How often, as an interval (`1 day`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub interval: Option<String>,
}

/// Moving copies to another pool once they reach an age (`move_copy_flag`, `move_copy_while`,
/// `move_copy_pool`). Give the target as `vaultRef` (a Vault of the same provider) or `pool`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "!(has(self.pool) && has(self.vaultRef))", "message": "set moveCopy.pool or moveCopy.vaultRef, not both", "fieldPath": ".pool"}
]))]
pub struct RuBackupMoveCopy {
    /// Move copies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Age after which a copy moves, as an interval (`7 days`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub after: Option<String>,
    /// Name of the target pool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub pool: Option<String>,
    /// The Vault (same namespace and provider) whose pool receives the copies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault_ref: Option<LocalObjectRef>,
}

/// What happens to copies whose storage time is over.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuBackupObsoleteCopies {
    /// Delete them automatically (`auto_delete_obsoleted_copy_flag`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_delete: Option<bool>,
    /// User group told about them (`inform_when_obsoleted_copy`, for example `Nobody`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub inform_group: Option<String>,
}

/// One notification: a RuBackup user group and a copy e-mail address.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuBackupNotify {
    /// User group notified (`Nobody` for none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub group: Option<String>,
    /// Copy to this e-mail address (`..._cc`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 320))]
    pub cc: Option<String>,
}

/// Notifications (`notify_*` and `notify_*_cc`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuBackupNotifications {
    /// On success (`notify_normal`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normal: Option<RuBackupNotify>,
    /// On failure (`notify_exception`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception: Option<RuBackupNotify>,
    /// On verification (`notify_verify`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<RuBackupNotify>,
    /// When validity is about to end (`notify_strategy_validity` on a strategy,
    /// `notify_rule_validity` on a global schedule rule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validity: Option<RuBackupNotify>,
    /// When the storage capacity runs out (`notify_end_storage_capacity`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_storage_capacity: Option<RuBackupNotify>,
}

/// Scripts run on the client.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuBackupScripts {
    /// After a successful backup (`normal_execution_script` on strategy rules,
    /// `notify_normal_script` on global schedule rules).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 4096))]
    pub normal: Option<String>,
    /// After a failed backup (`exception_execution_script` / `notify_exception_script`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 4096))]
    pub exception: Option<String>,
    /// After a restore (`restore_script`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 4096))]
    pub restore: Option<String>,
}

/// Module parameters, free-form: the keys depend on the resource type (see
/// `GET /strategy_rules/extension`). Only the keys given are compared with the server.
fn parameters_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "maxProperties": 64,
        "x-kubernetes-preserve-unknown-fields": true
    })
}

/// Quota, validity, verification, obsolete copies and notifications, as a strategy and a
/// global schedule rule both have them.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuBackupCopySettings {
    /// Storage quota (`storage_capacity`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 1099511627776i64))]
    pub storage_capacity: Option<i64>,
    /// Validity window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validity: Option<RuBackupValidity>,
    /// Periodic verification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<RuBackupVerify>,
    /// Copies whose storage time is over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub obsolete_copies: Option<RuBackupObsoleteCopies>,
    /// Let clients delete their copies (`client_delete_flag`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_delete_allowed: Option<bool>,
    /// Notifications.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notifications: Option<RuBackupNotifications>,
}

/// Native schedule, periodic launch, storage duration and copy moves, as a global schedule
/// rule and each backup type of a strategy have them.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuBackupTiming {
    /// Native schedule in the server's time zone, instead of the portable `schedule`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron: Option<RuBackupCron>,
    /// Run periodically at this interval (`periodic_launch`, `1 min`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub periodic_launch: Option<String>,
    /// How long copies are kept, as an interval (`storage_duration`, `30 days`), instead of
    /// the portable `retention`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub storage_duration: Option<String>,
    /// Moving copies to another pool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub move_copy: Option<RuBackupMoveCopy>,
}

/// What runs for one client resource, as a strategy rule and a global schedule rule both have
/// it: priority, scripts and module parameters.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuBackupTask {
    /// Task priority (`priority`, for example 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 1000000))]
    pub priority: Option<i32>,
    /// Scripts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scripts: Option<RuBackupScripts>,
    /// Parameters of the resource type's module (`module_extensions.parameters`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "parameters_schema")]
    pub module_parameters: Option<Map<String, Value>>,
    /// Parameters common to all modules (`common_modules_extensions.parameters`, for example
    /// `worker_parallelism`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "parameters_schema")]
    pub common_module_parameters: Option<Map<String, Value>>,
}
