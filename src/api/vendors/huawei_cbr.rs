//! The `huaweiCbr` vendor blocks: Huawei Cloud Backup and Recovery (CBR) v3, SberCloud edition.
//! Field names, ranges and enums follow seeds/huawei-cbr-api.txt (tables 4-91..4-97 for vaults,
//! PolicyCreate/PolicyODCreate for policies); see research/seed-003-huawei-cbr.md.

use crate::api::common::LocalObjectRef;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How rampart authenticates to CBR.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
pub enum CbrAuthMethod {
    /// An IAM token given in the Secret under `token` (valid 24 h; rotate the Secret).
    Token,
    /// A token obtained from the IAM token API (`POST {iamEndpoint}/v3/auth/tokens`) with the
    /// Secret's `username`, `password` and `domainName`, scoped to `projectName`.
    #[default]
    Password,
    /// AK/SK request signing (SDK-HMAC-SHA256) with the Secret's `accessKey` and `secretKey`.
    AkSk,
}

/// Settings of a `type: HuaweiCbr` provider configuration.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "self.authMethod != 'Password' || has(self.iamEndpoint)", "message": "huaweiCbr.iamEndpoint is required when authMethod is Password", "fieldPath": ".iamEndpoint", "reason": "FieldValueRequired"}
]))]
pub struct CbrProviderSettings {
    /// The project (region) id every CBR path starts with: `/v3/{project_id}/…`.
    #[schemars(length(min = 1, max = 64), regex(pattern = r"^[A-Za-z0-9_-]+$"))]
    pub project_id: String,
    /// Region name, informational (for example `ru-moscow-1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64))]
    pub region: Option<String>,
    /// `Token`, `Password` (default) or `AkSk`.
    #[serde(default)]
    pub auth_method: CbrAuthMethod,
    /// IAM endpoint for `Password`, for example `https://iam.ru-moscow-1.hc.sbercloud.ru`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 8, max = 2048),
        regex(pattern = r"^https?://[^\s/?#]+(/[^\s?#]*)?$")
    )]
    pub iam_endpoint: Option<String>,
    /// IAM project name the token is scoped to (`auth.scope.project.name`); defaults to `region`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub project_name: Option<String>,
}

/// `billing.object_type`: what a vault protects.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CbrObjectType {
    /// Cloud servers (`OS::Nova::Server`).
    Server,
    /// Disks (`OS::Cinder::Volume`).
    Disk,
    /// SFS Turbo file systems (`OS::Sfs::Turbo`).
    Turbo,
}

impl CbrObjectType {
    /// The resource type a vault of this object type accepts.
    pub fn resource_type(self) -> CbrResourceType {
        match self {
            CbrObjectType::Server => CbrResourceType::Server,
            CbrObjectType::Disk => CbrResourceType::Volume,
            CbrObjectType::Turbo => CbrResourceType::Turbo,
        }
    }
}

/// Type of a protected resource.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, JsonSchema,
)]
pub enum CbrResourceType {
    #[serde(rename = "OS::Nova::Server")]
    Server,
    #[serde(rename = "OS::Cinder::Volume")]
    Volume,
    #[serde(rename = "OS::Sfs::Turbo")]
    Turbo,
}

/// A resource the vault protects (`ResourceCreate`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CbrResource {
    /// Id of the server, disk or file system.
    #[schemars(length(min = 1, max = 64))]
    pub id: String,
    /// `OS::Nova::Server`, `OS::Cinder::Volume` or `OS::Sfs::Turbo`; must match `objectType`.
    #[serde(rename = "type")]
    pub type_: CbrResourceType,
    /// Resource name (informational; CBR fills it in when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 255))]
    pub name: Option<String>,
    /// Ids of a server's disks that are not backed up (`extra_info.exclude_volumes`). Applied
    /// when the server is added; CBR has no call to change it afterwards.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64), extend("items" = {"type": "string", "maxLength": 64}))]
    pub exclude_volumes: Vec<String>,
}

/// A tag (`Tag`): key and value of letters, digits, `-` and `_`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CbrTag {
    /// Tag key: letters, digits, `-` and `_`.
    #[schemars(length(min = 1, max = 36), regex(pattern = r"^[A-Za-z0-9_-]+$"))]
    pub key: String,
    /// Tag value: letters, digits, `-` and `_`.
    #[schemars(length(max = 43), regex(pattern = r"^[A-Za-z0-9_-]*$"))]
    pub value: String,
}

/// Selects the resources of a vault from the RS server (TRS) inventory instead of listing ids.
/// A server vault takes the project's servers; a disk vault takes its user volumes (CBR keeps
/// servers and disks in vaults of their own object type).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CbrResourcesFrom {
    /// Servers and volumes of an RS server project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rs_server: Option<super::rs_server::RsServerSelector>,
}

/// A CBR vault (`POST /v3/{project_id}/vaults`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "!has(self.resources) || self.resources.all(r, (self.objectType == 'server' && r.type == 'OS::Nova::Server') || (self.objectType == 'disk' && r.type == 'OS::Cinder::Volume') || (self.objectType == 'turbo' && r.type == 'OS::Sfs::Turbo'))", "message": "every resource type must match objectType (server: OS::Nova::Server, disk: OS::Cinder::Volume, turbo: OS::Sfs::Turbo)", "fieldPath": ".resources"},
    {"rule": "!has(self.resourcesFrom) || !has(self.resourcesFrom.rsServer) || self.objectType != 'turbo'", "message": "resourcesFrom.rsServer selects servers (objectType server) or user volumes (objectType disk), not SFS Turbo file systems", "fieldPath": ".resourcesFrom"},
    {"rule": "!has(self.resourcesFrom) || !has(self.resourcesFrom.rsServer) || self.objectType != 'server' || !has(self.resourcesFrom.rsServer.includeServers) || self.resourcesFrom.rsServer.includeServers", "message": "a server vault takes the servers of the project: includeServers cannot be false", "fieldPath": ".resourcesFrom.rsServer.includeServers"},
    {"rule": "!has(self.resourcesFrom) || !has(self.resourcesFrom.rsServer) || self.objectType != 'disk' || (has(self.resourcesFrom.rsServer.includeUserVolumes) && self.resourcesFrom.rsServer.includeUserVolumes)", "message": "a disk vault takes the user volumes of the project: set includeUserVolumes: true (a server vault takes the servers)", "fieldPath": ".resourcesFrom.rsServer.includeUserVolumes"},
    {"rule": "!has(self.threshold) || !has(self.smnNotify) || self.smnNotify", "message": "threshold has no effect while smnNotify is false", "fieldPath": ".threshold"},
    {"rule": "has(self.description) == has(oldSelf.description)", "message": "description is set at creation only: it cannot be added or removed later", "fieldPath": ".description"},
    {"rule": "has(self.isMultiAz) == has(oldSelf.isMultiAz)", "message": "isMultiAz is set at creation only: it cannot be added or removed later", "fieldPath": ".isMultiAz"},
    {"rule": "has(self.isAutoRenew) == has(oldSelf.isAutoRenew)", "message": "isAutoRenew is set at creation only: it cannot be added or removed later", "fieldPath": ".isAutoRenew"},
    {"rule": "has(self.isAutoPay) == has(oldSelf.isAutoPay)", "message": "isAutoPay is set at creation only: it cannot be added or removed later", "fieldPath": ".isAutoPay"},
    {"rule": "has(self.consoleUrl) == has(oldSelf.consoleUrl)", "message": "consoleUrl is set at creation only: it cannot be added or removed later", "fieldPath": ".consoleUrl"},
    {"rule": "has(self.enterpriseProjectId) == has(oldSelf.enterpriseProjectId)", "message": "enterpriseProjectId is set at creation only: it cannot be added or removed later", "fieldPath": ".enterpriseProjectId"},
    {"rule": "has(self.backupNamePrefix) == has(oldSelf.backupNamePrefix)", "message": "backupNamePrefix is set at creation only: it cannot be added or removed later", "fieldPath": ".backupNamePrefix"},
    {"rule": "has(self.tags) == has(oldSelf.tags)", "message": "tags is set at creation only: it cannot be added or removed later", "fieldPath": ".tags"}
]))]
pub struct CbrVault {
    /// Vault name (1–64). Defaults to the object's `metadata.name`; a longer name is cut to 55
    /// characters plus `-` and 8 hex digits of its hash, so it stays the same and distinct.
    /// Can be changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub name: Option<String>,
    /// Description (0–64). Set at creation only; CBR has no call to change it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "description is immutable (CBR cannot change it after creation)"}]))]
    pub description: Option<String>,
    /// `server`, `disk` or `turbo` (`billing.object_type`). Immutable.
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "objectType is immutable"}]))]
    pub object_type: CbrObjectType,
    /// Capacity in GB (`billing.size`, 10–10485760). Can only grow.
    #[serde(rename = "sizeGB")]
    #[schemars(range(min = 10, max = 10485760))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self >= oldSelf", "message": "sizeGB can only grow: CBR cannot shrink a vault"}]))]
    pub size_gb: i64,
    /// `billing.consistent_level`; only `crash_consistent` is documented. Immutable.
    #[serde(default = "default_consistent_level")]
    #[schemars(extend("enum" = ["crash_consistent"], "x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "consistentLevel is immutable"}]))]
    pub consistent_level: String,
    /// `billing.charging_mode`; only `post_paid` is documented. Immutable.
    #[serde(default = "default_charging_mode")]
    #[schemars(extend("enum" = ["post_paid"], "x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "chargingMode is immutable"}]))]
    pub charging_mode: String,
    /// `billing.is_multi_az`. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "isMultiAz is immutable"}]))]
    pub is_multi_az: Option<bool>,
    /// `billing.is_auto_renew`, sent at creation only. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "isAutoRenew is immutable"}]))]
    pub is_auto_renew: Option<bool>,
    /// `billing.is_auto_pay`, sent at creation only. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "isAutoPay is immutable"}]))]
    pub is_auto_pay: Option<bool>,
    /// `billing.console_url` (1–255), sent at creation only. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "consoleUrl is immutable"}]))]
    pub console_url: Option<String>,
    /// Enterprise project id (used by the document's example, not in its tables). Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "enterpriseProjectId is immutable"}]))]
    pub enterprise_project_id: Option<String>,
    /// Prefix of automatic backup names (0–32). Set at creation only. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 32))]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "backupNamePrefix is immutable"}]))]
    pub backup_name_prefix: Option<String>,
    /// Tags set at creation (at most 9, unique keys: rampart adds its ownership tag
    /// `rampart-owner` as the tenth). CBR has no call to change tags, so they are immutable.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 9))]
    #[schemars(extend(
        "x-kubernetes-list-type" = "map",
        "x-kubernetes-list-map-keys" = ["key"],
        "x-kubernetes-validations" = [
            {"rule": "self == oldSelf", "message": "tags are immutable (CBR has no tag update call)"},
            {"rule": "self.all(t, t.key != 'rampart-owner')", "message": "the tag key rampart-owner is reserved for rampart's ownership marker"}
        ]
    ))]
    pub tags: Vec<CbrTag>,
    /// Resources to protect (at most 255, unique ids).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 255))]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["id"]))]
    pub resources: Vec<CbrResource>,
    /// Resources selected from an inventory, merged with `resources`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources_from: Option<CbrResourcesFrom>,
    /// Remove resources that are neither listed nor selected. Off by default because removing a
    /// resource from a vault deletes its backups. A resource leaves only when two listings (of
    /// `resources` and `resourcesFrom`), at least one poll interval apart, agree it is gone.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub prune_resources: bool,
    /// With `pruneResources`: the largest share of the vault's resources, in percent (0–100,
    /// default 10), that rampart removes in one poll on its own. A larger removal is held, and
    /// named in the `ResourcesNotPruned` condition, until the annotation
    /// `rampart.dev/confirm-prune` is set to the value the condition shows (it names that exact
    /// set). 0 holds every removal for confirmation; 100 never holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub max_prune_percent: Option<i32>,
    /// The Policy (same namespace, `huaweiCbr` block) whose schedule backs this vault up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_ref: Option<LocalObjectRef>,
    /// Associate resources automatically by tag (`auto_bind`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_bind: Option<bool>,
    /// Tag filters for automatic association (at most 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 5))]
    pub bind_rules: Option<Vec<CbrTag>>,
    /// Expand capacity automatically (`auto_expand`, set through an update after creation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_expand: Option<bool>,
    /// Send exception notifications (`smn_notify`). Write-only at the vendor: tracked by a hash
    /// of what rampart last applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smn_notify: Option<bool>,
    /// Usage percentage that triggers a notification (`threshold`, 1–100). Write-only at the
    /// vendor: tracked by a hash of what rampart last applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub threshold: Option<i32>,
}

fn default_consistent_level() -> String {
    "crash_consistent".to_string()
}
fn default_charging_mode() -> String {
    "post_paid".to_string()
}

/// `operation_type` of a CBR policy.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CbrOperationType {
    #[default]
    Backup,
    Replication,
}

/// The native `operation_definition` (retention), used instead of the portable `retention`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "!(has(self.dayBackups) || has(self.weekBackups) || has(self.monthBackups) || has(self.yearBackups)) || has(self.timezone)", "message": "timezone is required when dayBackups, weekBackups, monthBackups or yearBackups is set", "fieldPath": ".timezone", "reason": "FieldValueRequired"},
    {"rule": "!has(self.maxBackups) || self.maxBackups == -1 || self.maxBackups >= 1", "message": "maxBackups is -1 (no limit) or 1-99999", "fieldPath": ".maxBackups"},
    {"rule": "!has(self.retentionDurationDays) || self.retentionDurationDays == -1 || self.retentionDurationDays >= 1", "message": "retentionDurationDays is -1 (no limit) or 1-99999", "fieldPath": ".retentionDurationDays"}
]))]
pub struct CbrOperationDefinition {
    /// Backups kept; -1 means not limited by count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = -1, max = 99999))]
    pub max_backups: Option<i32>,
    /// Days each backup is kept; -1 means not limited by age.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = -1, max = 99999))]
    pub retention_duration_days: Option<i32>,
    /// Daily backups kept long-term (0–100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub day_backups: Option<i32>,
    /// Weekly backups kept long-term (0–100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub week_backups: Option<i32>,
    /// Monthly backups kept long-term (0–100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub month_backups: Option<i32>,
    /// Yearly backups kept long-term (0–100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub year_backups: Option<i32>,
    /// Time zone of the long-term buckets, `UTC+08:00` form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^UTC ?[+-]\d{2}:\d{2}$"))]
    pub timezone: Option<String>,
}

/// A CBR backup policy (`POST /v3/{project_id}/policies`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CbrPolicy {
    /// Policy name (1–64 letters, digits, `_`, `-`). Defaults to a deterministic name derived
    /// from the object's namespace and name, which is also how rampart finds it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64), regex(pattern = r"^[A-Za-z0-9_-]+$"))]
    pub name: Option<String>,
    /// `backup` (default) or `replication`. Immutable.
    #[serde(default)]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "operationType is immutable"}]))]
    pub operation_type: CbrOperationType,
    /// Native schedule: RRULE patterns in UTC (`FREQ=WEEKLY|DAILY`, `BYDAY`, `BYHOUR`,
    /// `BYMINUTE`, `INTERVAL`; at most 24). Used instead of the portable `schedule`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 24))]
    #[schemars(extend("items" = {"type": "string", "maxLength": 200, "pattern": "^FREQ=(WEEKLY|DAILY)(;(BYDAY=(MO|TU|WE|TH|FR|SA|SU)(,(MO|TU|WE|TH|FR|SA|SU))*|BYHOUR=([01]?[0-9]|2[0-3])|BYMINUTE=[0-5]?[0-9]|INTERVAL=[1-9][0-9]*))*$"}))]
    pub pattern: Option<Vec<String>>,
    /// Native retention (`operation_definition`), used instead of the portable `retention`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_definition: Option<CbrOperationDefinition>,
    /// A full backup after this many incremental ones (-1 = never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = -1, max = 100))]
    pub full_backup_interval: Option<i32>,
}
