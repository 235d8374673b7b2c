//! The rampart.dev/v1alpha1 API: six kinds, one file each, plus the vendor blocks.

pub mod common;
pub mod firewall_rule;
pub mod policy;
pub mod provider_config;
pub mod schedule;
pub mod strategy;
pub mod vault;
pub mod vendors;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

pub use common::*;
pub use firewall_rule::{FirewallRule, FirewallRuleSpec, FirewallRuleStatus};
pub use policy::{Policy, PolicySpec, PolicyStatus};
pub use provider_config::{
    ClusterProviderConfig, ClusterProviderConfigSpec, ProviderConfig, ProviderConfigSpec,
    ProviderConfigStatus, ProviderType,
};
pub use strategy::{Strategy, StrategySpec, StrategyStatus};
pub use vault::{Vault, VaultSpec, VaultStatus};

/// The API group of every rampart kind.
pub const GROUP: &str = "rampart.dev";

/// Every CRD rampart serves, in a stable order.
pub fn all_crds() -> Vec<CustomResourceDefinition> {
    vec![
        ProviderConfig::crd(),
        ClusterProviderConfig::crd(),
        Vault::crd(),
        Policy::crd(),
        Strategy::crd(),
        FirewallRule::crd(),
    ]
}

/// The CRDs as one multi-document YAML stream, as committed in `crds/`.
pub fn crds_yaml() -> String {
    all_crds()
        .iter()
        .map(|crd| serde_saphyr::to_string(crd).expect("CRDs serialize"))
        .map(|doc| format!("---\n{doc}"))
        .collect()
}
