//! The `cyberBackup` vendor blocks: Cyber Backup 18.5 (Cyberprotect), public API `/api/v1`.
//! Field names and values follow seeds/cyberbackup-18.5-api.txt (policy settings §2.10.3.6,
//! credentials §2.10.5); see research/seed-001-cyberbackup.md. The document's schemas are dead
//! links, so enums list the values its examples show, and `settingsOverrides` carries the rest.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::api::common::LocalObjectRef;

mod native;
pub use native::*;

/// Settings of a `type: CyberBackup` provider configuration. The credentials Secret holds
/// `username` and `password` of an activated administrator account (sent to `/idp/token` as
/// HTTP Basic credentials).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CyberBackupProviderSettings {
    /// API version in the path `/api/<version>/` (default `v1`; the vendor keeps the current
    /// and two archived major versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 2, max = 8), regex(pattern = r"^v[1-9][0-9]*$"))]
    pub api_version: Option<String>,
    /// Tenant (`tenant_id`) new protection plans are created in. Defaults to the on-premise
    /// organization `00000000-0000-0000-0000-000000000000`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub tenant_id: Option<String>,
    /// Page size (`limit`) of list calls (default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1000))]
    pub page_size: Option<i32>,
    /// IANA time zone of the protected machines' clocks. Cyber Backup start times are wall-clock
    /// times on each agent, so a Policy's `schedule.timeZone` is converted into this zone; a
    /// schedule whose conversion is not a fixed shift (daylight saving in only one of the zones)
    /// is refused. Defaults to `UTC`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub agent_time_zone: Option<String>,
}

/// `destination.location.type`: what kind of backup location a plan writes to.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
pub enum CyberBackupLocationType {
    /// A named storage location with a URI (`settings.name`, `storage_type`, `uri`).
    #[default]
    #[serde(rename = "VAULT")]
    Vault,
    /// A folder on each protected machine (`settings.path`).
    #[serde(rename = "LOCAL_FOLDER_TEMPLATE")]
    LocalFolderTemplate,
}

/// `scope.type` of a credentials record.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CyberBackupCredentialsType {
    /// Accounts (computer, esx, vcenter, …).
    Account,
    /// Archive credentials.
    Archive,
    /// Network folders (smb, nfs, sftp).
    Share,
    /// Secure Zone.
    Asz,
    /// Databases (mysql, mssql).
    Db,
    /// Local folders.
    #[default]
    Folder,
}

/// `scope` of the credentials rampart registers for a destination.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CyberBackupCredentialsScope {
    /// `folder` (default), `share`, `archive`, `account`, `db` or `asz`.
    #[serde(rename = "type", default)]
    pub type_: CyberBackupCredentialsType,
    /// Subtype: `smb`, `nfs`, `sftp` for share; `endpoint` for archive; empty otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["", "smb", "nfs", "sftp", "endpoint", "computer", "esx", "vcenter", "scale", "ovirt", "ms_exchange", "vm_guest_system", "ldap", "mysql", "mssql"]))]
    pub subtype: Option<String>,
}

/// A Cyber Backup backup destination. Cyber Backup has no vault object: the location is written
/// into every protection plan that points at this Vault (`spec.vaultRef`), the credentials are
/// registered with `POST /credentials`, and status comes from the archives and backups stored
/// there.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "self.locationType != 'VAULT' || has(self.uri)", "message": "uri is required when locationType is VAULT", "fieldPath": ".uri", "reason": "FieldValueRequired"},
    {"rule": "self.locationType != 'LOCAL_FOLDER_TEMPLATE' || has(self.path)", "message": "path is required when locationType is LOCAL_FOLDER_TEMPLATE", "fieldPath": ".path", "reason": "FieldValueRequired"},
    {"rule": "self.locationType != 'LOCAL_FOLDER_TEMPLATE' || !(has(self.uri) || has(self.storageType) || has(self.name))", "message": "name, storageType and uri belong to locationType VAULT", "fieldPath": ".uri"},
    {"rule": "self.locationType != 'VAULT' || !has(self.path)", "message": "path belongs to locationType LOCAL_FOLDER_TEMPLATE", "fieldPath": ".path"},
    {"rule": "has(self.credentialsSecretRef) == has(oldSelf.credentialsSecretRef)", "message": "credentialsSecretRef is set at creation only: the Vault's vendor id is its credentials record", "fieldPath": ".credentialsSecretRef"},
    {"rule": "!has(self.credentialsScope) || has(self.credentialsSecretRef)", "message": "credentialsScope needs credentialsSecretRef", "fieldPath": ".credentialsScope"}
]))]
pub struct CyberBackupVault {
    /// `VAULT` (default) or `LOCAL_FOLDER_TEMPLATE` (`destination.location.type`). Immutable:
    /// archives already written stay where they are.
    #[serde(default)]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "locationType is immutable"}]))]
    pub location_type: CyberBackupLocationType,
    /// Name of the storage location (`settings.name`), the name archives report for their
    /// vault. Defaults to the Vault's `metadata.name`. `VAULT` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub name: Option<String>,
    /// Storage type (`settings.storage_type`), for example `LOCAL_FOLDER` (default). `VAULT` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64), regex(pattern = r"^[A-Z][A-Z0-9_]*$"))]
    pub storage_type: Option<String>,
    /// Location URI (`settings.uri`), for example `E:/backups/` or `smb://nas/backups`.
    /// Required for `VAULT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 1024))]
    pub uri: Option<String>,
    /// Folder on each machine (`settings.path`), for example `F:/local_auto_backups/`.
    /// Required for `LOCAL_FOLDER_TEMPLATE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 1024))]
    pub path: Option<String>,
    /// Name shown in the console (`location.display_name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub display_name: Option<String>,
    /// Secret (same namespace) with the keys `identity` and `secret` (or `username` and
    /// `password`) that give access to the location. rampart registers them with
    /// `POST /credentials` and the record's id becomes the Vault's external name. Cyber Backup
    /// cannot change a registered record, so a changed Secret replaces the record: a new one is
    /// registered, every plan naming the old one moves to it, then the old one is deleted (the
    /// `CredentialsReplaced` condition says so). Set at creation only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_secret_ref: Option<LocalObjectRef>,
    /// Scope of the registered credentials (default `type: folder`). Changing it replaces the
    /// credentials record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_scope: Option<CyberBackupCredentialsScope>,
}

/// `type` of a protection plan (policy settings reference, §2.11.3, plus the types the
/// examples use).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
pub enum CyberBackupPolicyType {
    /// Whole machines (physical and virtual).
    #[default]
    #[serde(rename = "policy.backup.machine")]
    Machine,
    /// Individual disks and volumes (reference table name).
    #[serde(rename = "policy.backup.image")]
    Image,
    /// Individual disks and volumes (name used by the document's disk example).
    #[serde(rename = "policy.backup.disks")]
    Disks,
    /// Files and folders (seen in the document's list example).
    #[serde(rename = "policy.backup.files")]
    Files,
    /// Microsoft SQL Server databases.
    #[serde(rename = "policy.backup.mssql")]
    Mssql,
    /// Microsoft Exchange databases.
    #[serde(rename = "policy.backup.msexchange.db")]
    MsexchangeDb,
    /// Microsoft Exchange mailboxes.
    #[serde(rename = "policy.backup.msexchange.doc")]
    MsexchangeDoc,
}

impl CyberBackupPolicyType {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            CyberBackupPolicyType::Machine => "policy.backup.machine",
            CyberBackupPolicyType::Image => "policy.backup.image",
            CyberBackupPolicyType::Disks => "policy.backup.disks",
            CyberBackupPolicyType::Files => "policy.backup.files",
            CyberBackupPolicyType::Mssql => "policy.backup.mssql",
            CyberBackupPolicyType::MsexchangeDb => "policy.backup.msexchange.db",
            CyberBackupPolicyType::MsexchangeDoc => "policy.backup.msexchange.doc",
        }
    }
}

/// `archive.compression`.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum CyberBackupCompression {
    None,
    Normal,
    High,
    Max,
}

/// Archive settings of the plan (`settings.archive`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "!(has(self.splitSizeBytes) && has(self.autoSplit) && self.autoSplit)", "message": "set splitSizeBytes or autoSplit, not both", "fieldPath": ".autoSplit"}
]))]
pub struct CyberBackupArchive {
    /// `NONE`, `NORMAL`, `HIGH` or `MAX` (`compression`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<CyberBackupCompression>,
    /// Archive format (`format`): `AUTO`, `11` or `12`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["AUTO", "11", "12"]))]
    pub format: Option<String>,
    /// Archive name template (`name`), with macros such as `[Machine Name]`, `[Plan ID]`,
    /// `[Unique ID]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 512))]
    pub name_template: Option<String>,
    /// Split archives into files of this size in bytes (`splitting.size`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1048576, max = 1099511627776_i64))]
    pub split_size_bytes: Option<i64>,
    /// Let the agent choose the split size (`splitting.auto`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_split: Option<bool>,
}

/// What the plan is applied to: the desired set of policy applications. Missing applications
/// are applied, extra ones revoked.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CyberBackupTargets {
    /// Resource ids (`/resources`), for example machines. An id Cyber Backup does not know is
    /// waited for a few polls (agents register machines), then the Policy stalls naming it; it
    /// recovers once the resource appears.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 512))]
    #[schemars(extend("x-kubernetes-list-type" = "set", "items" = {"type": "string", "minLength": 1, "maxLength": 64}))]
    pub resource_ids: Vec<String>,
    /// Resource names (`name` or `user_defined_name`), resolved through `/resources`; a name
    /// that matches no resource waits for the agent to register, one that matches several is
    /// refused.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 512))]
    #[schemars(extend("x-kubernetes-list-type" = "set", "items" = {"type": "string", "minLength": 1, "maxLength": 255}))]
    pub resource_names: Vec<String>,
    /// Group ids (static or dynamic groups, `resource.group.*`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 128))]
    #[schemars(extend("x-kubernetes-list-type" = "set", "items" = {"type": "string", "minLength": 1, "maxLength": 64}))]
    pub group_ids: Vec<String>,
}

/// A Cyber Backup protection plan (`POST /policies`). Schedule and retention come from the
/// common `spec.schedule`/`spec.retention` or from the native `backupSets`/`retentionRules`;
/// the destination from `spec.vaultRef`; whether it runs from `spec.enabled`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "self.scheme != 'WEEKLY_FULL_DAILY_INCREMENTAL' || has(self.weeklyBackupDay)", "message": "weeklyBackupDay is required with scheme WEEKLY_FULL_DAILY_INCREMENTAL", "fieldPath": ".weeklyBackupDay", "reason": "FieldValueRequired"}
]))]
pub struct CyberBackupPolicy {
    /// Plan name shown in the console. Defaults to `<namespace>/<name>`. rampart appends its
    /// ownership marker ` [rampart:<marker>]`, which is how it finds the plan again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 200))]
    pub name: Option<String>,
    /// Plan type (`type`). Immutable.
    #[serde(rename = "type")]
    #[schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "type is immutable"}]))]
    pub type_: CyberBackupPolicyType,
    /// Backup scheme (`scheduling.scheme`).
    #[serde(default)]
    pub scheme: CyberBackupScheme,
    /// Day of the weekly full backup (`scheduling.weekly_backup_day`; `MON` when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weekly_backup_day: Option<CyberBackupWeekday>,
    /// Native schedule (`scheduling.backup_sets`), used instead of `spec.schedule`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 8))]
    pub backup_sets: Option<Vec<CyberBackupSet>>,
    /// Native retention rules (`destination.retention.rules`), used instead of `spec.retention`.
    /// With neither, the plan has no rules and keeps every backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 16))]
    pub retention_rules: Option<Vec<CyberBackupRetentionRule>>,
    /// Spread start times by up to this many minutes (`scheduling.rand_max_delay`). Unset means
    /// no spreading (a delay of 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 1440))]
    pub random_delay_minutes: Option<i32>,
    /// Backups run at once (`scheduling.max_parallel_backups`). Cyber Backup has no documented
    /// way to clear it: removed from the spec, the vendor's value stays and is reported as drift.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub max_parallel_backups: Option<i32>,
    /// Archive settings (`settings.archive`). Like `maxParallelBackups`, a field removed from
    /// the spec stays at the vendor and is reported as drift.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive: Option<CyberBackupArchive>,
    /// Plan settings rampart does not model (snake_case keys as in the document, for example
    /// `{"vss": {"enabled": true, "provider": "NATIVE"}, "cbt": "USE_IF_ENABLED"}`), merged
    /// into the settings last, so they win. Never put passwords here: the vendor echoes them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "free_form_object")]
    pub settings_overrides: Option<serde_json::Map<String, serde_json::Value>>,
    /// Resources and groups the plan is applied to.
    #[serde(default)]
    pub targets: CyberBackupTargets,
}

fn free_form_object(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_block_reads_the_documented_values() {
        let p: CyberBackupPolicy = serde_json::from_value(serde_json::json!({
            "type": "policy.backup.msexchange.doc",
            "scheme": "WEEKLY_FULL_DAILY_INCREMENTAL",
            "weeklyBackupDay": "MON",
            "archive": {"compression": "MAX", "format": "12"},
            "settingsOverrides": {"vss": {"enabled": true}},
            "targets": {"resourceNames": ["DESKTOP-JRPTA4A"]}
        }))
        .unwrap();
        assert_eq!(p.type_.as_str(), "policy.backup.msexchange.doc");
        assert_eq!(p.weekly_backup_day, Some(CyberBackupWeekday::Mon));
        assert_eq!(
            p.archive.unwrap().compression,
            Some(CyberBackupCompression::Max)
        );
        assert_eq!(p.settings_overrides.unwrap()["vss"]["enabled"], true);
    }

    #[test]
    fn every_policy_type_round_trips_through_its_wire_name() {
        use CyberBackupPolicyType::*;
        for t in [
            Machine,
            Image,
            Disks,
            Files,
            Mssql,
            MsexchangeDb,
            MsexchangeDoc,
        ] {
            let wire = serde_json::to_value(t).unwrap();
            assert_eq!(wire, t.as_str());
        }
    }

    #[test]
    fn settings_overrides_schema_keeps_unknown_fields() {
        let schema = schemars::schema_for!(CyberBackupPolicy);
        let text = serde_json::to_string(&schema).unwrap();
        assert!(
            text.contains("x-kubernetes-preserve-unknown-fields"),
            "{text}"
        );
    }
}
