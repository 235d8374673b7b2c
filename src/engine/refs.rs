//! Cross references between rampart objects (a Vault's `policyRef`, a Policy's `vaultRef`),
//! resolved by the engine before an adapter runs, so adapters see ids, not Kubernetes.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::Arc;

use super::external::{ExternalError, ExternalResult};
use super::hub::CredentialSet;
use kube::ResourceExt;

use super::annotations::EXTERNAL_NAME;
use super::managed::Managed;

/// A reference to another object of the same namespace.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RefKey {
    /// `Vault`, `Policy` or `Secret`.
    pub kind: &'static str,
    pub name: String,
    /// Spec field that holds the reference, for messages (`spec.huaweiCbr.policyRef`).
    pub field: &'static str,
}

/// The referenced object as the engine found it.
#[derive(Clone)]
pub enum RefTarget {
    /// A rampart object (a Vault, a Policy, …) and its external name.
    Object {
        external_name: Option<String>,
        object: Arc<dyn Any + Send + Sync>,
    },
    /// A Secret's keys, for adapters that register credentials with the vendor.
    Secret(CredentialSet),
}

impl RefTarget {
    pub fn object<K: Managed>(obj: Arc<K>) -> Self {
        RefTarget::Object {
            external_name: obj.annotations().get(EXTERNAL_NAME).cloned(),
            object: obj,
        }
    }

    fn external_name(&self) -> Option<&str> {
        match self {
            RefTarget::Object { external_name, .. } => external_name.as_deref(),
            RefTarget::Secret(_) => None,
        }
    }
}

impl std::fmt::Debug for RefTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RefTarget::Object { external_name, .. } => f
                .debug_struct("Object")
                .field("external_name", external_name)
                .finish_non_exhaustive(),
            RefTarget::Secret(c) => f.debug_tuple("Secret").field(c).finish(),
        }
    }
}

/// Resolved references of one object.
#[derive(Debug, Clone, Default)]
pub struct Refs {
    found: BTreeMap<(&'static str, String), RefTarget>,
}

impl Refs {
    pub fn insert(&mut self, key: &RefKey, target: RefTarget) {
        self.found.insert((key.kind, key.name.clone()), target);
    }

    /// The vendor id of a referenced object, or `Waiting` while it has none.
    pub fn external_name(&self, key: &RefKey) -> ExternalResult<&str> {
        match self.found.get(&(key.kind, key.name.clone())) {
            None => Err(ExternalError::waiting(format!(
                "{}: {} {} does not exist",
                key.field, key.kind, key.name
            ))),
            Some(t) => t.external_name().ok_or_else(|| {
                ExternalError::waiting(format!(
                    "{}: {} {} has no external name yet",
                    key.field, key.kind, key.name
                ))
            }),
        }
    }

    /// A referenced rampart object of kind `K`.
    pub fn object<K: Managed>(&self, name: &str) -> Option<Arc<K>> {
        match self.found.get(&(K::KIND, name.to_string())) {
            Some(RefTarget::Object { object, .. }) => object.clone().downcast::<K>().ok(),
            _ => None,
        }
    }

    /// A referenced Secret's keys.
    pub fn secret(&self, name: &str) -> Option<&CredentialSet> {
        match self.found.get(&("Secret", name.to_string())) {
            Some(RefTarget::Secret(c)) => Some(c),
            _ => None,
        }
    }
}
