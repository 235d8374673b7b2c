//! Vault requests and responses (section 4.4 of the document).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::de;
use crate::api::vendors::huawei_cbr::{CbrObjectType, CbrResourceType};

/// `POST /vaults` body, inside `{"vault": …}` (VaultCreate).
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct VaultCreate {
    pub name: String,
    pub billing: BillingCreate,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Always sent; `[]` when the vault starts empty (the document asks for that).
    pub resources: Vec<ResourceCreate>,
    /// Never sent empty: "It cannot be an empty list".
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup_policy_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_bind: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind_rules: Option<BindRules>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup_name_prefix: Option<String>,
    /// Not in the document's tables, but in its example.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enterprise_project_id: Option<String>,
}

/// `billing` of a vault create (BillingCreate).
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct BillingCreate {
    pub object_type: CbrObjectType,
    /// GB, 10–10485760.
    pub size: i64,
    pub consistent_level: String,
    pub protect_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub charging_mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_auto_renew: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_auto_pay: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub console_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_multi_az: Option<bool>,
}

impl BillingCreate {
    /// A backup vault of `object_type` with `size` GB and the document's only documented
    /// consistency level and protect type.
    pub fn new(object_type: CbrObjectType, size: i64) -> Self {
        BillingCreate {
            object_type,
            size,
            consistent_level: "crash_consistent".to_string(),
            protect_type: "backup".to_string(),
            cloud_type: None,
            charging_mode: None,
            is_auto_renew: None,
            is_auto_pay: None,
            console_url: None,
            is_multi_az: None,
        }
    }
}

/// A resource to protect (ResourceCreate), for create and `addresources`.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct ResourceCreate {
    pub id: String,
    #[serde(rename = "type")]
    pub type_: CbrResourceType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_info: Option<ResourceExtraInfo>,
}

/// `extra_info` of a resource: server disks left out of its backups.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct ResourceExtraInfo {
    #[serde(default, deserialize_with = "de::null_default")]
    pub exclude_volumes: Vec<String>,
}

/// A vault tag. GET may return `"value": null`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct Tag {
    #[serde(default, deserialize_with = "de::null_default")]
    pub key: String,
    #[serde(default)]
    pub value: Option<String>,
}

/// `bind_rules`: tags whose resources are associated automatically; `{}` when empty.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct BindRules {
    #[serde(default, deserialize_with = "de::null_default")]
    pub tags: Vec<Tag>,
}

/// `PUT /vaults/{id}` body, inside `{"vault": …}` (VaultUpdate). Only set fields are sent.
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct VaultUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing: Option<BillingUpdate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_bind: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind_rules: Option<BindRules>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_expand: Option<bool>,
    /// Write-only: CBR never returns it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smn_notify: Option<bool>,
    /// Write-only, 1–100: CBR never returns it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<i32>,
}

impl VaultUpdate {
    pub fn is_empty(&self) -> bool {
        *self == VaultUpdate::default()
    }
}

/// `billing` of a vault update: only the size can change.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct BillingUpdate {
    pub size: i64,
}

/// A vault as GET, list, create and PUT return it.
#[derive(Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Vault {
    #[serde(default, deserialize_with = "de::null_default")]
    pub id: String,
    #[serde(default, deserialize_with = "de::null_default")]
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub project_id: Option<String>,
    #[serde(default)]
    pub provider_id: Option<String>,
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default, deserialize_with = "de::time")]
    pub created_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "de::null_default")]
    pub billing: Billing,
    #[serde(default, deserialize_with = "de::null_default")]
    pub resources: Vec<VaultResource>,
    #[serde(default, deserialize_with = "de::null_default")]
    pub tags: Vec<Tag>,
    #[serde(default, deserialize_with = "de::flex_bool")]
    pub auto_bind: Option<bool>,
    #[serde(default, deserialize_with = "de::null_default")]
    pub bind_rules: BindRules,
    #[serde(default, deserialize_with = "de::flex_bool")]
    pub auto_expand: Option<bool>,
    #[serde(default)]
    pub enterprise_project_id: Option<String>,
    /// Create response only.
    #[serde(default)]
    pub backup_name_prefix: Option<String>,
    /// Create response only.
    #[serde(default, deserialize_with = "de::flex_bool")]
    pub frozen: Option<bool>,
}

impl Vault {
    /// The value of tag `key`, `Some("")` for a tag whose value is null.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|t| t.key == key)
            .map(|t| t.value.as_deref().unwrap_or(""))
    }
}

/// `billing` of a vault response. Sizes are GB except `used`, which is MB.
#[derive(Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct Billing {
    #[serde(default, deserialize_with = "de::flex_i64")]
    pub size: Option<i64>,
    #[serde(default, deserialize_with = "de::flex_i64")]
    pub allocated: Option<i64>,
    /// MB.
    #[serde(default, deserialize_with = "de::flex_i64")]
    pub used: Option<i64>,
    /// `available`, `lock`, `frozen`, `deleting` or `error`.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub object_type: Option<String>,
    #[serde(default)]
    pub protect_type: Option<String>,
    #[serde(default)]
    pub consistent_level: Option<String>,
    #[serde(default)]
    pub charging_mode: Option<String>,
    #[serde(default)]
    pub cloud_type: Option<String>,
    #[serde(default)]
    pub spec_code: Option<String>,
    #[serde(default)]
    pub order_id: Option<String>,
    #[serde(default)]
    pub product_id: Option<String>,
    #[serde(default)]
    pub storage_unit: Option<String>,
    #[serde(default)]
    pub frozen_scene: Option<String>,
    #[serde(default, deserialize_with = "de::flex_bool")]
    pub is_multi_az: Option<bool>,
}

/// A protected resource in a vault response (ResourceResp).
#[derive(Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct VaultResource {
    #[serde(default, deserialize_with = "de::null_default")]
    pub id: String,
    /// `OS::Nova::Server`, `OS::Cinder::Volume` or `OS::Sfs::Turbo`.
    #[serde(default, rename = "type", deserialize_with = "de::null_default")]
    pub type_: String,
    #[serde(default)]
    pub name: Option<String>,
    /// `available`, `error`, `protecting`, `restoring` or `removing`.
    #[serde(default)]
    pub protect_status: Option<String>,
    /// GB.
    #[serde(default, deserialize_with = "de::flex_i64")]
    pub size: Option<i64>,
    #[serde(default, deserialize_with = "de::flex_i64")]
    pub backup_size: Option<i64>,
    #[serde(default, deserialize_with = "de::flex_i64")]
    pub backup_count: Option<i64>,
    #[serde(default)]
    pub extra_info: Option<ResourceExtraInfo>,
}

/// Filters of `GET /vaults` (paging is the client's).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VaultFilter {
    pub id: Option<String>,
    pub name: Option<String>,
    pub object_type: Option<CbrObjectType>,
    pub policy_id: Option<String>,
    pub resource_ids: Vec<String>,
    pub status: Option<String>,
    pub cloud_type: Option<String>,
    pub protect_type: Option<String>,
}

impl VaultFilter {
    /// Query parameters, in the document's names.
    pub fn query(&self) -> Vec<(String, String)> {
        let object_type = self.object_type.map(|o| super::enum_text(&o));
        let resource_ids = Some(self.resource_ids.join(",")).filter(|s| !s.is_empty());
        [
            ("id", &self.id),
            ("name", &self.name),
            ("object_type", &object_type),
            ("policy_id", &self.policy_id),
            ("resource_ids", &resource_ids),
            ("status", &self.status),
            ("cloud_type", &self.cloud_type),
            ("protect_type", &self.protect_type),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.clone().map(|v| (k.to_string(), v)))
        .collect()
    }
}

/// `associate_policy` / `dissociate_policy` of the policy binding calls.
#[derive(Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct PolicyBinding {
    #[serde(default, deserialize_with = "de::null_default")]
    pub vault_id: String,
    #[serde(default, deserialize_with = "de::null_default")]
    pub policy_id: String,
}
