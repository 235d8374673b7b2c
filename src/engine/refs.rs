//! Cross references between rampart objects (a Vault's `policyRef`, a Policy's `vaultRef`),
//! resolved by the engine before an adapter runs, so adapters see ids, not Kubernetes.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::external::{ExternalError, ExternalResult};
use super::hub::CredentialSet;
use crate::api::{Policy, Vault};

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
#[derive(Debug, Clone)]
pub enum RefTarget {
    Vault(Arc<Vault>),
    Policy(Arc<Policy>),
    /// A Secret's keys, for adapters that register credentials with the vendor.
    Secret(CredentialSet),
}

impl RefTarget {
    fn external_name(&self) -> Option<&str> {
        let meta = match self {
            RefTarget::Vault(v) => &v.metadata,
            RefTarget::Policy(p) => &p.metadata,
            RefTarget::Secret(_) => return None,
        };
        meta.annotations
            .as_ref()?
            .get(super::annotations::EXTERNAL_NAME)
            .map(String::as_str)
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

    /// A referenced Vault.
    pub fn vault(&self, name: &str) -> Option<&Arc<Vault>> {
        match self.found.get(&("Vault", name.to_string())) {
            Some(RefTarget::Vault(v)) => Some(v),
            _ => None,
        }
    }

    /// A referenced Policy.
    pub fn policy(&self, name: &str) -> Option<&Arc<Policy>> {
        match self.found.get(&("Policy", name.to_string())) {
            Some(RefTarget::Policy(p)) => Some(p),
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
