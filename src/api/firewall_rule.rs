//! FirewallRule: one rule of an Ideco firewall section, kept in declared order.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{ManagedFields, ManagedStatus};
use super::vendors::ideco::IdecoFirewallRule;

/// A firewall rule. Only Ideco has firewall rules.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "rampart.dev",
    version = "v1alpha1",
    kind = "FirewallRule",
    namespaced,
    status = "FirewallRuleStatus",
    shortname = "rfw",
    category = "rampart",
    doc = "One Ideco firewall rule in a section (forward, input, dnat, snat, log), owned by rampart and kept at its declared place among rules people edit by hand.",
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
        name = "SECTION",
        type_ = "string",
        json_path = ".status.atProvider.section"
    ),
    printcolumn(
        name = "POSITION",
        type_ = "integer",
        json_path = ".status.atProvider.position"
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
    {"rule": "[has(self.ideco)].filter(x, x).size() == 1", "message": "set exactly one vendor block: ideco"}
]))]
pub struct FirewallRuleSpec {
    #[serde(flatten)]
    pub managed: ManagedFields,
    /// An Ideco firewall rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ideco: Option<IdecoFirewallRule>,
}

/// What the device reports about the rule.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FirewallRuleObservation {
    /// Vendor id of the rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Section of the rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    /// 1-based position of the rule in its section.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<i32>,
    /// Whether the rule is enabled on the device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Other vendor-specific facts, as key/value text.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub details: std::collections::BTreeMap<String, String>,
}

/// Status of a FirewallRule.
pub type FirewallRuleStatus = ManagedStatus<FirewallRuleObservation>;
