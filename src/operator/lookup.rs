//! Cross references resolved from the kinds' own caches: the objects an object refers to, and
//! who refers to an object (deletion waits for its referrers). Secrets are read from the API
//! (only their metadata is cached).

use std::sync::Arc;

use async_trait::async_trait;
use k8s_openapi::api::core::v1::Secret;
use kube::Client;
use kube::api::Api;
use kube::runtime::reflector::Store;

use crate::api::Backup;

use super::kinds::Kinds;
use crate::engine::context::{RefLookup, credential_set};
use crate::engine::refs::{RefKey, RefTarget};

pub struct KindsLookup {
    pub client: Client,
    pub kinds: Arc<Kinds>,
    /// The Backup cache, for a Restore's `backupRef`.
    pub backups: Option<Store<Backup>>,
}

#[async_trait]
impl RefLookup for KindsLookup {
    async fn get(&self, namespace: &str, key: &RefKey) -> Result<Option<RefTarget>, kube::Error> {
        if key.kind == "Secret" {
            let api: Api<Secret> = Api::namespaced(self.client.clone(), namespace);
            return Ok(api
                .get_opt(&key.name)
                .await?
                .map(|s| RefTarget::Secret(credential_set(&s))));
        }
        if key.kind == "Backup" {
            let found = self.backups.as_ref().and_then(|s| {
                s.get(&kube::runtime::reflector::ObjectRef::new(&key.name).within(namespace))
            });
            return Ok(found.map(|b| RefTarget::Object {
                external_name: None,
                object: b,
            }));
        }
        Ok(self.kinds.target(key.kind, namespace, &key.name))
    }

    fn referrers(&self, namespace: &str, kind: &str, name: &str) -> Vec<String> {
        self.kinds.referrers(namespace, kind, name)
    }
}
