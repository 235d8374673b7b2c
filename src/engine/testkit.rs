//! Helpers for testing adapters and vendor runtimes without a Kubernetes API server: a static
//! provider source and a ready-made call context.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::external::CallContext;
use super::hub::{
    Connector, CredentialSet, HubError, ProviderHub, ProviderKey, ProviderSource, SecretString,
};
use super::refs::Refs;
use crate::api::provider_config::ProviderConfigCommon;

/// Provider configurations held in memory. `set` bumps the fingerprint, as a changed
/// ProviderConfig or Secret would.
#[derive(Default)]
pub struct StaticSource {
    entries: Mutex<BTreeMap<ProviderKey, (ProviderConfigCommon, CredentialSet, u64)>>,
}

impl StaticSource {
    pub fn set(&self, key: ProviderKey, spec: ProviderConfigCommon, creds: &[(&str, &str)]) {
        let values = creds
            .iter()
            .map(|(k, v)| (k.to_string(), SecretString::new(*v)))
            .collect();
        let set = CredentialSet {
            source: format!("test/{}", key.name),
            values,
        };
        let mut e = self.entries.lock().unwrap();
        let generation = e.get(&key).map(|(_, _, g)| g + 1).unwrap_or(1);
        e.insert(key, (spec, set, generation));
    }
}

#[async_trait]
impl ProviderSource for StaticSource {
    fn lookup(&self, key: &ProviderKey) -> Result<(ProviderConfigCommon, String), HubError> {
        let e = self.entries.lock().unwrap();
        let (spec, _, generation) = e.get(key).ok_or_else(|| HubError::NotFound(key.clone()))?;
        Ok((spec.clone(), generation.to_string()))
    }

    async fn credentials(
        &self,
        key: &ProviderKey,
        _spec: &ProviderConfigCommon,
    ) -> Result<CredentialSet, HubError> {
        let e = self.entries.lock().unwrap();
        e.get(key)
            .map(|(_, c, _)| c.clone())
            .ok_or_else(|| HubError::NotFound(key.clone()))
    }
}

/// Everything a `CallContext` borrows, owned in one place for a test.
pub struct TestWorld {
    pub source: Arc<StaticSource>,
    pub hub: ProviderHub,
    pub refs: Refs,
}

impl TestWorld {
    /// A world whose provider configurations connect through `connect` (for the vendors:
    /// `providers::test_world()`).
    pub fn new(connect: Connector) -> Self {
        let source = Arc::new(StaticSource::default());
        let hub = ProviderHub::new(source.clone(), connect);
        TestWorld {
            source,
            hub,
            refs: Refs::default(),
        }
    }

    /// A call context for an object whose ownership marker is `marker`.
    pub fn ctx<'a>(
        &'a self,
        marker: &'a str,
        fresh: bool,
        last_applied_hash: Option<&'a str>,
    ) -> CallContext<'a> {
        CallContext {
            marker,
            fresh,
            last_applied_hash,
            refs: &self.refs,
            hub: &self.hub,
        }
    }
}
