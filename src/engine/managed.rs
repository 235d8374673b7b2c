//! What the generic reconciler needs to know about a managed kind. Implemented once per kind in
//! `engine::kinds`; everything else in the engine is generic over it.

use std::fmt::Debug;

use kube::Resource;
use kube::core::NamespaceResourceScope;
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::external::External;
use super::hub::VendorRuntime;
use super::refs::RefKey;
use crate::api::common::{DeletionPolicy, ManagedFields, ManagedStatus, ProviderConfigRef};
use crate::api::provider_config::ProviderType;

/// A namespaced kind whose objects rampart keeps in line with a vendor object.
pub trait Managed:
    Resource<DynamicType = (), Scope = NamespaceResourceScope>
    + Clone
    + Debug
    + Serialize
    + DeserializeOwned
    + Send
    + Sync
    + 'static
{
    /// The kind's `status.atProvider` type.
    type Observation: Clone
        + Default
        + Debug
        + PartialEq
        + Serialize
        + DeserializeOwned
        + JsonSchema
        + Send
        + Sync
        + 'static;

    /// Kind name, as in the API (`Vault`).
    const KIND: &'static str;

    /// Kinds whose deletion destroys data default to `Orphan`.
    const DEFAULT_DELETION_POLICY: DeletionPolicy = DeletionPolicy::Delete;

    fn managed(&self) -> &ManagedFields;

    fn managed_status(&self) -> Option<&ManagedStatus<Self::Observation>>;

    /// The vendor block that is set, if any.
    fn vendor_block(&self) -> Option<ProviderType>;

    /// Other rampart objects (same namespace) this object refers to.
    fn references(&self) -> Vec<RefKey> {
        Vec::new()
    }

    /// Every provider configuration this object uses: its own, plus inventories it reads
    /// (a CBR Vault selecting RS server resources). A change to any of them re-reconciles it.
    fn provider_refs(&self) -> Vec<ProviderConfigRef> {
        vec![self.managed().provider_config_ref.clone()]
    }

    /// This kind's adapter in a vendor runtime, if the vendor has the kind.
    fn external(runtime: &dyn VendorRuntime) -> Option<&dyn External<Self>> {
        runtime.adapters().get::<Self>()
    }

    fn deletion_policy(&self) -> DeletionPolicy {
        self.managed()
            .deletion_policy
            .unwrap_or(Self::DEFAULT_DELETION_POLICY)
    }
}
