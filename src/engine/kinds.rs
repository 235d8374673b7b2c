//! `Managed` for each kind: where its lifecycle fields and status live, which vendor blocks it
//! has, what it refers to, and which adapter of a vendor runtime serves it.

use super::managed::Managed;
use super::refs::RefKey;
use crate::api::common::{DeletionPolicy, ManagedFields, ManagedStatus};
use crate::api::firewall_rule::FirewallRuleObservation;
use crate::api::policy::PolicyObservation;
use crate::api::provider_config::ProviderType;
use crate::api::strategy::StrategyObservation;
use crate::api::vault::VaultObservation;
use crate::api::{FirewallRule, Policy, Strategy, Vault};

/// A reference to a Vault named at spec path `field` (a RuBackup block's `vaultRef`s).
fn vault_ref((field, name): (&'static str, String)) -> RefKey {
    RefKey {
        kind: "Vault",
        name,
        field,
    }
}

/// The vendor block set on a kind every backup vendor has (Vault, Policy).
fn backup_block(huawei_cbr: bool, ru_backup: bool, cyber_backup: bool) -> Option<ProviderType> {
    [
        (huawei_cbr, ProviderType::HuaweiCbr),
        (ru_backup, ProviderType::RuBackup),
        (cyber_backup, ProviderType::CyberBackup),
    ]
    .into_iter()
    .find_map(|(set, t)| set.then_some(t))
}

impl Managed for Vault {
    type Observation = VaultObservation;
    const KIND: &'static str = "Vault";
    // Deleting a vendor vault destroys its backups.
    const DEFAULT_DELETION_POLICY: DeletionPolicy = DeletionPolicy::Orphan;

    fn managed(&self) -> &ManagedFields {
        &self.spec.managed
    }
    fn managed_status(&self) -> Option<&ManagedStatus<VaultObservation>> {
        self.status.as_ref()
    }
    fn vendor_block(&self) -> Option<ProviderType> {
        let s = &self.spec;
        backup_block(
            s.huawei_cbr.is_some(),
            s.ru_backup.is_some(),
            s.cyber_backup.is_some(),
        )
    }
    fn references(&self) -> Vec<RefKey> {
        let cbr_policy = self
            .spec
            .huawei_cbr
            .as_ref()
            .and_then(|c| c.policy_ref.as_ref());
        let cyber_backup_secret = self
            .spec
            .cyber_backup
            .as_ref()
            .and_then(|c| c.credentials_secret_ref.as_ref());
        cbr_policy
            .map(|r| RefKey {
                kind: "Policy",
                name: r.name.clone(),
                field: "spec.huaweiCbr.policyRef",
            })
            .into_iter()
            .chain(cyber_backup_secret.map(|r| RefKey {
                kind: "Secret",
                name: r.name.clone(),
                field: "spec.cyberBackup.credentialsSecretRef",
            }))
            .collect()
    }
}

impl Managed for Policy {
    type Observation = PolicyObservation;
    const KIND: &'static str = "Policy";

    fn managed(&self) -> &ManagedFields {
        &self.spec.managed
    }
    fn managed_status(&self) -> Option<&ManagedStatus<PolicyObservation>> {
        self.status.as_ref()
    }
    fn vendor_block(&self) -> Option<ProviderType> {
        let s = &self.spec;
        backup_block(
            s.huawei_cbr.is_some(),
            s.ru_backup.is_some(),
            s.cyber_backup.is_some(),
        )
    }
    fn references(&self) -> Vec<RefKey> {
        self.spec
            .vault_ref
            .as_ref()
            .map(|r| RefKey {
                kind: "Vault",
                name: r.name.clone(),
                field: "spec.vaultRef",
            })
            .into_iter()
            .chain(
                self.spec
                    .ru_backup
                    .iter()
                    .flat_map(|b| b.vault_refs())
                    .map(vault_ref),
            )
            .collect()
    }
}

impl Managed for Strategy {
    type Observation = StrategyObservation;
    const KIND: &'static str = "Strategy";

    fn managed(&self) -> &ManagedFields {
        &self.spec.managed
    }
    fn managed_status(&self) -> Option<&ManagedStatus<StrategyObservation>> {
        self.status.as_ref()
    }
    fn vendor_block(&self) -> Option<ProviderType> {
        self.spec
            .ru_backup
            .is_some()
            .then_some(ProviderType::RuBackup)
    }
    fn references(&self) -> Vec<RefKey> {
        self.spec
            .ru_backup
            .iter()
            .flat_map(|b| b.vault_refs())
            .map(vault_ref)
            .collect()
    }
}

impl Managed for FirewallRule {
    type Observation = FirewallRuleObservation;
    const KIND: &'static str = "FirewallRule";

    fn managed(&self) -> &ManagedFields {
        &self.spec.managed
    }
    fn managed_status(&self) -> Option<&ManagedStatus<FirewallRuleObservation>> {
        self.status.as_ref()
    }
    fn vendor_block(&self) -> Option<ProviderType> {
        self.spec.ideco.is_some().then_some(ProviderType::Ideco)
    }
}
