//! Cross references resolved from the controllers' own caches: who a Vault or Policy refers to,
//! and who refers to a Vault or Policy (deletion waits for its referrers).

use async_trait::async_trait;
use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Client, ResourceExt};

use crate::api::{Policy, Vault};
use crate::engine::context::{RefLookup, credential_set};
use crate::engine::managed::Managed;
use crate::engine::refs::{RefKey, RefTarget};

pub struct StoreLookup {
    pub client: Client,
    pub vaults: Store<Vault>,
    pub policies: Store<Policy>,
}

fn referring<K: Managed>(store: &Store<K>, namespace: &str, kind: &str, name: &str) -> Vec<String> {
    store
        .state()
        .iter()
        .filter(|o| {
            o.namespace().as_deref() == Some(namespace) && o.meta().deletion_timestamp.is_none()
        })
        .filter(|o| {
            o.references()
                .iter()
                .any(|r| r.kind == kind && r.name == name)
        })
        .map(|o| format!("{}/{}", K::KIND, o.name_any()))
        .collect()
}

#[async_trait]
impl RefLookup for StoreLookup {
    async fn get(&self, namespace: &str, key: &RefKey) -> Result<Option<RefTarget>, kube::Error> {
        Ok(match key.kind {
            "Vault" => self
                .vaults
                .get(&ObjectRef::new(&key.name).within(namespace))
                .map(RefTarget::Vault),
            "Policy" => self
                .policies
                .get(&ObjectRef::new(&key.name).within(namespace))
                .map(RefTarget::Policy),
            "Secret" => {
                let api: Api<Secret> = Api::namespaced(self.client.clone(), namespace);
                api.get_opt(&key.name)
                    .await?
                    .map(|s| RefTarget::Secret(credential_set(&s)))
            }
            _ => None,
        })
    }

    fn referrers(&self, namespace: &str, kind: &str, name: &str) -> Vec<String> {
        let mut out = referring(&self.vaults, namespace, kind, name);
        out.extend(referring(&self.policies, namespace, kind, name));
        out
    }
}
