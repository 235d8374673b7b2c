//! The rampart.dev/v1alpha1 API: eight kinds, one file each, plus the vendor blocks and the
//! status of the one-shot kinds.

pub mod action_status;
pub mod backup;
pub mod backup_status;
pub mod common;
pub mod firewall_rule;
pub mod policy;
pub mod provider_config;
pub mod restore;
pub mod schedule;
pub mod strategy;
pub mod vault;
pub mod vendors;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

pub use action_status::{ActionStatus, Phase};
pub use backup::{Backup, BackupSpec};
pub use common::*;
pub use firewall_rule::{FirewallRule, FirewallRuleSpec, FirewallRuleStatus};
pub use policy::{Policy, PolicySpec, PolicyStatus};
pub use provider_config::{
    ClusterProviderConfig, ClusterProviderConfigSpec, ProviderConfig, ProviderConfigSpec,
    ProviderConfigStatus, ProviderType,
};
pub use restore::{Restore, RestoreSpec};
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
        Backup::crd(),
        Restore::crd(),
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

#[cfg(test)]
mod tests {
    /// `crds/` is generated from these types; a stale copy would install an API the code does
    /// not serve. Regenerate with `cargo run -- crds > crds/rampart.dev.yaml`.
    #[test]
    fn committed_crds_match_the_code() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/crds/rampart.dev.yaml");
        let committed = std::fs::read_to_string(path).expect("crds/rampart.dev.yaml exists");
        assert!(
            committed == super::crds_yaml(),
            "crds/rampart.dev.yaml is stale: run `cargo run -- crds > crds/rampart.dev.yaml` and commit it"
        );
    }

    #[test]
    fn every_kind_is_in_the_rampart_category_with_short_names() {
        for crd in super::all_crds() {
            let names = &crd.spec.names;
            assert_eq!(
                names.categories.as_deref(),
                Some(&["rampart".to_string()][..]),
                "{}",
                names.kind
            );
            assert!(
                names.short_names.as_ref().is_some_and(|s| !s.is_empty()),
                "{} has a short name",
                names.kind
            );
            let version = &crd.spec.versions[0];
            assert!(
                version
                    .subresources
                    .as_ref()
                    .and_then(|s| s.status.as_ref())
                    .is_some(),
                "{} has a status subresource",
                names.kind
            );
        }
    }
}
