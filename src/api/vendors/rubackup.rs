//! The `ruBackup` vendor blocks: the RuBackup REST API of the 2.4 line (seeds/rubackup-rest-api.txt,
//! digest research/seed-000-rubackup.md). A Vault is a pool (`/pool_list`), a Policy a global
//! schedule rule (`/global_schedule`), a Strategy a backup strategy (`/backup_strategies`) with
//! its rules (`/strategy_rules`) and administrators (`/strategy_administrators`).
//!
//! Names are the identity of RuBackup objects (other objects refer to pools and strategies by
//! name) and are immutable here. The vendor id, written to `rampart.dev/external-name`, is the
//! numeric id RuBackup uses in its paths. Intervals (`"1 day"`, `"1 year 2 mons"`, `"1mon"`) are
//! PostgreSQL interval literals and compared by value, not by spelling.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::api::common::LocalObjectRef;
use crate::api::schedule::{Retention, Schedule};

mod shared;

pub use shared::{
    RuBackupCopySettings, RuBackupCron, RuBackupMoveCopy, RuBackupNotifications, RuBackupNotify,
    RuBackupObsoleteCopies, RuBackupScripts, RuBackupTask, RuBackupTiming, RuBackupValidity,
    RuBackupVerify,
};

/// How the login authenticates (`auth_type` of the 2.4 login body).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
pub enum RuBackupAuthType {
    /// A RuBackup database user (`auth_type: database`).
    #[default]
    Database,
    /// A Microsoft Active Directory user (`auth_type: domain`); needs `domain`.
    Domain,
}

/// Which login body the server understands.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
pub enum RuBackupLoginFormat {
    /// RuBackup 2.4 and later: `rubackup_database`, `rubackup_user`, `password`, `auth_type`,
    /// `domain`.
    #[default]
    Current,
    /// RuBackup up to 2.3: `rubackup_database`, `rubackup_user`, `password` only (database users).
    Legacy,
}

/// How the RuBackup server takes the five schedule fields (`min`, `hour`, `dom`, `mon`, `dow` and
/// their `full_`/`inc_`/`diff_` forms). The document's examples show only single integers
/// (L3796-3800, L4320-4324); it never shows how "every day" or "weekdays" are written. `Text`
/// (default): one value goes out as an integer, anything else (`*`, `1-5`, `*/15`) as crontab
/// text. `IntegersOnly`: every field goes out as an integer, and a schedule that needs text is
/// refused on the Policy or Strategy before anything is sent.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
pub enum RuBackupCronFields {
    /// A single value goes out as a JSON integer, anything else (`*`, `1-5`, `*/15`, `1,15`) as
    /// crontab text. The default.
    #[default]
    Text,
    /// Every field goes out as a JSON integer; a schedule that needs anything but one value in
    /// a field (`*`, a range, a list, a step) is refused with the spec field that asks for it,
    /// instead of being sent to a server that would refuse it or read it otherwise.
    IntegersOnly,
}

/// Settings of a `type: RuBackup` provider configuration. The credentials Secret holds
/// `username` and `password`. The endpoint is the API server's base URL, for example
/// `https://rubackup.example:5656`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "!has(self.authType) || self.authType != 'Domain' || has(self.domain)", "message": "ruBackup.domain is required when authType is Domain", "fieldPath": ".domain", "reason": "FieldValueRequired"},
    {"rule": "!has(self.loginFormat) || self.loginFormat != 'Legacy' || !has(self.authType) || self.authType == 'Database'", "message": "the Legacy (up to 2.3) login has no domain authentication", "fieldPath": ".authType"},
    {"rule": "(has(self.pageParameter) ? self.pageParameter : 'page') != (has(self.limitParameter) ? self.limitParameter : 'limit')", "message": "pageParameter and limitParameter must name different query parameters", "fieldPath": ".limitParameter"}
]))]
pub struct RuBackupProviderSettings {
    /// Name of the RuBackup service database sent at login (`rubackup_database`). Defaults to
    /// `rubackup`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub database: Option<String>,
    /// `Database` (default) or `Domain` (MS Active Directory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_type: Option<RuBackupAuthType>,
    /// Domain for `Domain` authentication (for example `RUBACKUP`). With `Database`
    /// authentication the login sends the database name here, as the document's example does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub domain: Option<String>,
    /// `Current` (2.4 and later, default) or `Legacy` (up to 2.3) login body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_format: Option<RuBackupLoginFormat>,
    /// Path of the API below the endpoint. Defaults to `/api/v1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 128), regex(pattern = r"^/[A-Za-z0-9._~/-]*$"))]
    pub api_path: Option<String>,
    /// IANA time zone the RuBackup server reads its cron fields in (for example `Europe/Moscow`).
    /// Portable schedules in another zone are shifted into it. Defaults to `UTC`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub server_time_zone: Option<String>,
    /// Items per page of list calls (`limit`). Defaults to 100. rampart stops paging at the
    /// first page with fewer items, so keep it at or below the server's largest page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1000))]
    pub page_size: Option<i32>,
    /// Name of the query parameter that carries the page number (1-based) of list calls.
    /// Defaults to `page`. The document lists a page number without naming it (L986).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64), regex(pattern = r"^[A-Za-z0-9_.-]+$"))]
    pub page_parameter: Option<String>,
    /// Name of the query parameter that carries the page size of list calls. Defaults to
    /// `limit`. The document lists a display limit without naming it (L988).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64), regex(pattern = r"^[A-Za-z0-9_.-]+$"))]
    pub limit_parameter: Option<String>,
    /// How the server takes schedule fields: `Text` (default) or `IntegersOnly`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron_fields: Option<RuBackupCronFields>,
}

/// A pool's block-device parameters (pools of type `Block device` only). Set at creation only.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuBackupBlockDevice {
    /// Deduplication hash algorithm (`algorithm`, for example `streebog`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub algorithm: Option<String>,
    /// Block size in bytes (`block_size`, for example 131072).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1073741824))]
    pub block_size: Option<i64>,
    /// Hash length in bits (`hash_length`, for example 256).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 4096))]
    pub hash_length: Option<i32>,
    /// Name of the pool that keeps the metadata (`meta_data_pool`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub meta_data_pool: Option<String>,
}

/// A RuBackup pool (`POST /pool_list`). Unset optional fields are left to RuBackup.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "!has(self.blockDevice) || self.poolType == 'Block device'", "message": "blockDevice is only for pools of type Block device", "fieldPath": ".blockDevice"},
    {"rule": "!has(self.compressionType) || !(self.poolType in ['Block device', 'Client defined'])", "message": "compressionType is not used by Block device and Client defined pools", "fieldPath": ".compressionType"},
    {"rule": "has(self.blockDevice) == has(oldSelf.blockDevice)", "message": "blockDevice is set at creation only: it cannot be added or removed later", "fieldPath": ".blockDevice"}
]))]
pub struct RuBackupVault {
    /// Pool name (`pool_name`), unique in RuBackup: how rampart finds the pool. Immutable.
    #[schemars(length(min = 1, max = 255), regex(pattern = r#"^[^"]+$"#))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "name is immutable: it is the pool's identity"}]))]
    pub name: String,
    /// Pool type (`pool_type`): `File system`, `Tape library`, `Cloud`, `Block device` or
    /// `Client defined` (the server lists its types at `GET /destination_storage_types`).
    /// Immutable.
    #[schemars(length(min = 1, max = 64))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "poolType is immutable"}]))]
    pub pool_type: String,
    /// Host name of the media server that serves the pool (`media_server`). Immutable.
    #[schemars(length(min = 1, max = 253))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "mediaServer is immutable"}]))]
    pub media_server: String,
    /// Compression (`compression_type`, for example `None`); not for `Block device` and
    /// `Client defined` pools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub compression_type: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub description: Option<String>,
    /// How long copies are kept in the pool, as an interval (`retention_period`, `1 year`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub retention_period: Option<String>,
    /// Write even when the media server reports too little free space
    /// (`ignore_free_space_check`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_free_space_check: Option<bool>,
    /// Deduplication parameters of a `Block device` pool. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "blockDevice is immutable"}]))]
    pub block_device: Option<RuBackupBlockDevice>,
}

/// A RuBackup global schedule rule (`POST /global_schedule`): one client resource, one backup
/// type, its schedule, pool and retention. The schedule is `spec.schedule` (portable) or
/// `cron` (native); the retention `spec.retention.keepDays` or `storageDuration`; the pool
/// `spec.vaultRef` or `pool`. `client`, `resourceType`, `resource`, `backupType` and `crypto`
/// cannot be changed in RuBackup after creation.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "has(self.backupType) == has(oldSelf.backupType)", "message": "backupType is set at creation only: it cannot be added or removed later", "fieldPath": ".backupType"},
    {"rule": "has(self.crypto) == has(oldSelf.crypto)", "message": "crypto is set at creation only: it cannot be added or removed later", "fieldPath": ".crypto"}
]))]
pub struct RuBackupPolicy {
    /// Rule name (`name`): how rampart finds the rule. Immutable.
    #[schemars(length(min = 1, max = 255), regex(pattern = r#"^[^"]+$"#))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "name is immutable: it is the rule's identity"}]))]
    pub name: String,
    /// The client, as RuBackup shows it: `hostname (HW ID)`, for example
    /// `rubackup-client (525a99154f3505a2)` (`client_id`). Immutable.
    #[schemars(
        length(min = 4, max = 300),
        regex(pattern = r"^[^()\s][^()]*\([0-9A-Fa-f]+\)$")
    )]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "client is immutable (RuBackup cannot change it)"}]))]
    pub client: String,
    /// Resource type (module), for example `File system` (`resource_type`). Immutable.
    #[schemars(length(min = 1, max = 128))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "resourceType is immutable (RuBackup cannot change it)"}]))]
    pub resource_type: String,
    /// Resource, for example the path `/home/` (`resource`). Immutable.
    #[schemars(length(min = 1, max = 4096))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "resource is immutable (RuBackup cannot change it)"}]))]
    pub resource: String,
    /// Backup type (`backup_type`, for example `full`; see `GET /backup_types`). Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "backupType is immutable (RuBackup cannot change it)"}]))]
    pub backup_type: Option<String>,
    /// Protective encryption (`crypto`, for example `nocrypt`). Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "crypto is immutable (RuBackup cannot change it)"}]))]
    pub crypto: Option<String>,
    /// Name of the destination pool (`pool_id`), instead of `spec.vaultRef`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub pool: Option<String>,
    /// Schedule, retention and copy moves in RuBackup's own terms.
    #[serde(flatten)]
    pub timing: RuBackupTiming,
    /// Quota, validity, verification, obsolete copies and notifications.
    #[serde(flatten)]
    pub copies: RuBackupCopySettings,
    /// Priority, scripts and module parameters.
    #[serde(flatten)]
    pub task: RuBackupTask,
}

/// Schedule, retention and copy moves of one backup type of a strategy (`full_*`, `inc_*`,
/// `diff_*`). The schedule is `schedule` (portable) or `cron` (native); the retention
/// `retention.keepDays` or `storageDuration`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "!(has(self.schedule) && has(self.cron))", "message": "set schedule or cron, not both", "fieldPath": ".schedule"},
    {"rule": "!(has(self.retention) && has(self.storageDuration))", "message": "set retention or storageDuration, not both", "fieldPath": ".retention"}
]))]
pub struct RuBackupBackupTypeSchedule {
    /// Whether backups of this type run (`*_archive_enabled`). Defaults to true when the block
    /// is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Portable schedule, shifted into the server's time zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Schedule>,
    /// Portable retention; RuBackup keeps copies for a duration, so only `keepDays` applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<Retention>,
    /// Native schedule, periodic launch, storage duration and copy moves of this type
    /// (`*_min`…`*_dow`, `*_periodic_launch`, `*_storage_duration`, `*_move_copy_*`).
    #[serde(flatten)]
    pub timing: RuBackupTiming,
}

/// A strategy rule (`POST /strategy_rules`): one client resource backed up by the strategy.
/// Identified by client, resource type and resource.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuBackupStrategyRule {
    /// The client, `hostname (HW ID)` (`client_id`).
    #[schemars(
        length(min = 4, max = 300),
        regex(pattern = r"^[^()\s][^()]*\([0-9A-Fa-f]+\)$")
    )]
    pub client: String,
    /// Resource type (module), for example `File system`.
    #[schemars(length(min = 1, max = 128))]
    pub resource_type: String,
    /// Resource, for example `/home/`.
    #[schemars(length(min = 1, max = 4096))]
    pub resource: String,
    /// Priority, scripts and module parameters.
    #[serde(flatten)]
    pub task: RuBackupTask,
}

/// A RuBackup backup strategy (`POST /backup_strategies`) with its rules and administrators,
/// which rampart keeps exactly as listed (rules and administrators missing here are removed).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "!(has(self.pool) && has(self.vaultRef))", "message": "set pool or vaultRef, not both", "fieldPath": ".pool"}
]))]
pub struct RuBackupStrategy {
    /// Strategy name (`name`), unique in RuBackup: how rampart finds the strategy and how its
    /// rules refer to it. Immutable.
    #[schemars(length(min = 1, max = 255), regex(pattern = r#"^[^"]+$"#))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "name is immutable: it is the strategy's identity"}]))]
    pub name: String,
    /// Whether the strategy runs (`status` `run`) or waits (`wait`). Defaults to true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Name of the destination pool (`pool_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub pool: Option<String>,
    /// The Vault (same namespace and provider) whose pool receives the backups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault_ref: Option<LocalObjectRef>,
    /// Protective encryption (`crypto`, for example `nocrypt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub crypto: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub description: Option<String>,
    /// Quota, validity, verification, obsolete copies and notifications.
    #[serde(flatten)]
    pub copies: RuBackupCopySettings,
    /// Full backups (`full_*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full: Option<RuBackupBackupTypeSchedule>,
    /// Incremental backups (`inc_*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incremental: Option<RuBackupBackupTypeSchedule>,
    /// Differential backups (`diff_*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub differential: Option<RuBackupBackupTypeSchedule>,
    /// The strategy's rules, keyed by client, resource type and resource.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 256))]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["client", "resourceType", "resource"]))]
    pub rules: Vec<RuBackupStrategyRule>,
    /// RuBackup user names that administer the strategy (`/strategy_administrators`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64))]
    #[schemars(extend("x-kubernetes-list-type" = "set", "items" = {"type": "string", "minLength": 1, "maxLength": 255}))]
    pub administrators: Vec<String>,
}

/// Spec paths of a strategy's Vault references: the destination, then each backup type's
/// copy-move target (full, incremental, differential).
pub const STRATEGY_VAULT_REF: &str = "spec.ruBackup.vaultRef";
pub const STRATEGY_MOVE_COPY_REFS: [&str; 3] = [
    "spec.ruBackup.full.moveCopy.vaultRef",
    "spec.ruBackup.incremental.moveCopy.vaultRef",
    "spec.ruBackup.differential.moveCopy.vaultRef",
];
/// Spec path of a global schedule rule's copy-move target (its pool is the common
/// `spec.vaultRef`).
pub const POLICY_MOVE_COPY_REF: &str = "spec.ruBackup.moveCopy.vaultRef";

fn move_copy_ref(t: Option<&RuBackupMoveCopy>) -> Option<String> {
    t.and_then(|m| m.vault_ref.as_ref()).map(|r| r.name.clone())
}

impl RuBackupStrategy {
    /// The Vaults this strategy refers to: (spec field, Vault name).
    pub fn vault_refs(&self) -> Vec<(&'static str, String)> {
        let types = [&self.full, &self.incremental, &self.differential];
        let moves = STRATEGY_MOVE_COPY_REFS
            .iter()
            .zip(types)
            .filter_map(|(field, t)| {
                move_copy_ref(t.as_ref().and_then(|t| t.timing.move_copy.as_ref()))
                    .map(|n| (*field, n))
            });
        self.vault_ref
            .as_ref()
            .map(|r| (STRATEGY_VAULT_REF, r.name.clone()))
            .into_iter()
            .chain(moves)
            .collect()
    }
}

impl RuBackupPolicy {
    /// The Vaults this block refers to besides `spec.vaultRef`: (spec field, Vault name).
    pub fn vault_refs(&self) -> Vec<(&'static str, String)> {
        move_copy_ref(self.timing.move_copy.as_ref())
            .map(|n| (POLICY_MOVE_COPY_REF, n))
            .into_iter()
            .collect()
    }
}
