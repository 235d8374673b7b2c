//! Policy requests and responses (section 4.6 of the document).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::de;

/// `operation_definition`: retention and full-backup interval. CBR echoes only the fields that
/// were set, and a PUT replaces the whole object, so the client always sends all it wants.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct OperationDefinition {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::flex_i64"
    )]
    pub max_backups: Option<i64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::flex_i64"
    )]
    pub retention_duration_days: Option<i64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::flex_i64"
    )]
    pub day_backups: Option<i64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::flex_i64"
    )]
    pub week_backups: Option<i64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::flex_i64"
    )]
    pub month_backups: Option<i64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::flex_i64"
    )]
    pub year_backups: Option<i64>,
    /// `UTC+08:00` form; required when any of the day/week/month/year counts is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de::flex_i64"
    )]
    pub full_backup_interval: Option<i64>,
}

/// `trigger` of a create or update: only the patterns are the caller's.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct TriggerRequest {
    pub properties: TriggerPatterns,
}

impl TriggerRequest {
    pub fn new(pattern: Vec<String>) -> Self {
        TriggerRequest {
            properties: TriggerPatterns { pattern },
        }
    }
}

/// `trigger.properties` of a request.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct TriggerPatterns {
    /// RRULE patterns in UTC, 1–24.
    pub pattern: Vec<String>,
}

/// `POST /policies` body, inside `{"policy": …}` (PolicyCreate).
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct PolicyCreate {
    pub name: String,
    /// `backup` or `replication`.
    pub operation_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    pub operation_definition: OperationDefinition,
    pub trigger: TriggerRequest,
}

/// `PUT /policies/{id}` body, inside `{"policy": …}` (PolicyUpdate). `operation_type` cannot
/// change.
#[derive(Serialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct PolicyUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Replaces the stored definition wholesale.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation_definition: Option<OperationDefinition>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger: Option<TriggerRequest>,
}

/// A policy as create, GET, list and PUT return it.
#[derive(Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    #[serde(default, deserialize_with = "de::null_default")]
    pub id: String,
    #[serde(default, deserialize_with = "de::null_default")]
    pub name: String,
    #[serde(default, deserialize_with = "de::flex_bool")]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub operation_type: Option<String>,
    #[serde(default, deserialize_with = "de::null_default")]
    pub operation_definition: OperationDefinition,
    #[serde(default, deserialize_with = "de::null_default")]
    pub trigger: Trigger,
    /// `null` in a create response, `[]` in GET and list when empty: both read as empty.
    #[serde(default, deserialize_with = "de::null_default")]
    pub associated_vaults: Vec<AssociatedVault>,
}

impl Policy {
    /// The trigger's patterns.
    pub fn patterns(&self) -> &[String] {
        &self.trigger.properties.pattern
    }

    /// Whether the policy is applied to `vault_id`.
    pub fn is_applied_to(&self, vault_id: &str) -> bool {
        self.associated_vaults
            .iter()
            .any(|a| a.vault_id == vault_id)
    }
}

/// `trigger` of a policy response (PolicyTriggerResp).
#[derive(Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct Trigger {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, rename = "type")]
    pub type_: Option<String>,
    #[serde(default, deserialize_with = "de::null_default")]
    pub properties: TriggerProperties,
}

/// `trigger.properties` of a response.
#[derive(Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct TriggerProperties {
    #[serde(default, deserialize_with = "de::null_default")]
    pub pattern: Vec<String>,
    /// `2019-05-08 06:57:05` form, generated by CBR.
    #[serde(default, deserialize_with = "de::time")]
    pub start_time: Option<Timestamp>,
}

/// One entry of `associated_vaults`.
#[derive(Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct AssociatedVault {
    #[serde(default, deserialize_with = "de::null_default")]
    pub vault_id: String,
    #[serde(default)]
    pub destination_vault_id: Option<String>,
}

/// Filters of `GET /policies`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PolicyFilter {
    /// `backup` or `replication`.
    pub operation_type: Option<String>,
    /// Only the policies applied to this vault.
    pub vault_id: Option<String>,
}

impl PolicyFilter {
    pub fn query(&self) -> Vec<(String, String)> {
        [
            ("operation_type", &self.operation_type),
            ("vault_id", &self.vault_id),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.clone().map(|v| (k.to_string(), v)))
        .collect()
    }
}
