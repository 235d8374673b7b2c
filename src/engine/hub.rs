//! The provider hub: one live vendor runtime (HTTP client, session, budget, collection
//! snapshots) per provider configuration, shared by every reconciler that uses it, and rebuilt
//! when the configuration or its credentials Secret changes (no restart needed).

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::adapters::Adapters;
use crate::api::common::{ProviderConfigKind, ProviderConfigRef};
use crate::api::provider_config::{ProviderConfigCommon, ProviderObservation, ProviderType};
use crate::vendor::error::{ErrorKind, VendorError, VendorResult};

/// Identity of one provider configuration.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProviderKey {
    pub kind: ProviderConfigKind,
    /// Namespace of a ProviderConfig; `None` for a ClusterProviderConfig.
    pub namespace: Option<String>,
    pub name: String,
}

impl ProviderKey {
    /// The configuration a managed object in `namespace` refers to. A namespaced reference
    /// always resolves in the object's own namespace.
    pub fn for_ref(namespace: &str, r: &ProviderConfigRef) -> Self {
        match r.kind {
            ProviderConfigKind::ProviderConfig => ProviderKey {
                kind: r.kind,
                namespace: Some(namespace.to_string()),
                name: r.name.clone(),
            },
            ProviderConfigKind::ClusterProviderConfig => ProviderKey {
                kind: r.kind,
                namespace: None,
                name: r.name.clone(),
            },
        }
    }
}

impl fmt::Display for ProviderKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "ProviderConfig {ns}/{}", self.name),
            None => write!(f, "ClusterProviderConfig {}", self.name),
        }
    }
}

/// A credential value. Its Debug and Display never show the value.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(s: impl Into<String>) -> Self {
        SecretString(s.into())
    }

    /// The value, for the one place that sends it to the vendor.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The keys of a credentials Secret.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CredentialSet {
    /// `namespace/name` of the Secret, for messages.
    pub source: String,
    pub values: BTreeMap<String, SecretString>,
}

impl CredentialSet {
    /// A required key; the error names the Secret and the key, never a value.
    pub fn require(&self, vendor: &'static str, key: &str) -> VendorResult<&SecretString> {
        self.values.get(key).ok_or_else(|| {
            VendorError::new(
                vendor,
                "read credentials",
                ErrorKind::Config,
                format!(
                    "Secret {} has no key '{key}'",
                    if self.source.is_empty() {
                        "(none)"
                    } else {
                        &self.source
                    }
                ),
            )
        })
    }

    pub fn get(&self, key: &str) -> Option<&SecretString> {
        self.values.get(key)
    }
}

/// A provider configuration with its credentials read, ready to connect.
#[derive(Clone, Debug)]
pub struct ResolvedProvider {
    pub key: ProviderKey,
    pub spec: ProviderConfigCommon,
    pub credentials: CredentialSet,
}

impl ResolvedProvider {
    pub fn poll_interval(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.spec.poll_interval_seconds.max(1) as u64)
    }
}

/// A connected vendor system: its adapters for the kinds it has, and a health check.
#[async_trait]
pub trait VendorRuntime: Send + Sync + Any {
    fn provider_type(&self) -> ProviderType;

    /// An authenticated call proving that endpoint and credentials work, and what to show in
    /// the provider configuration's status.
    async fn check(&self) -> VendorResult<ProviderObservation>;

    /// The adapters of the kinds this vendor has.
    fn adapters(&self) -> &Adapters;

    /// On-demand backups (the Backup kind), where the vendor has them.
    fn backup_taker(&self) -> Option<&dyn crate::oneshot::BackupTaker> {
        None
    }

    /// Restores (the Restore kind), where the vendor's API has them.
    fn restorer(&self) -> Option<&dyn crate::oneshot::Restorer> {
        None
    }

    /// End the vendor session (logout) when the runtime is replaced or the operator stops.
    async fn shutdown(&self) {}

    fn as_any(&self) -> &dyn Any;
}

/// Why a provider configuration could not be used.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HubError {
    /// The configuration does not exist (yet).
    #[error("{0} not found")]
    NotFound(ProviderKey),
    /// The credentials Secret is missing or unreadable.
    #[error("{key}: {message}")]
    Credentials { key: ProviderKey, message: String },
    /// Connecting failed (bad endpoint, bad CA bundle, missing Secret key).
    #[error("{key}: {source}")]
    Connect {
        key: ProviderKey,
        source: Box<VendorError>,
    },
}

/// Where the hub reads provider configurations and their Secrets from.
#[async_trait]
pub trait ProviderSource: Send + Sync {
    /// The configuration, and a fingerprint that changes whenever it or its Secret changes.
    fn lookup(&self, key: &ProviderKey) -> Result<(ProviderConfigCommon, String), HubError>;
    /// The fingerprint alone: asked by every reconcile, so a source should answer it without
    /// copying the configuration.
    fn fingerprint(&self, key: &ProviderKey) -> Result<String, HubError> {
        self.lookup(key).map(|(_, fingerprint)| fingerprint)
    }
    /// Read the credentials Secret.
    async fn credentials(
        &self,
        key: &ProviderKey,
        spec: &ProviderConfigCommon,
    ) -> Result<CredentialSet, HubError>;
}

/// Connects a resolved provider to its vendor (`providers::connect` in the operator; a fake
/// runtime in the engine's own tests).
pub type Connector =
    Arc<dyn Fn(&ResolvedProvider) -> VendorResult<Arc<dyn VendorRuntime>> + Send + Sync>;

struct Entry {
    fingerprint: String,
    runtime: Arc<dyn VendorRuntime>,
}

/// Live runtimes by provider configuration.
pub struct ProviderHub {
    source: Arc<dyn ProviderSource>,
    connect: Connector,
    entries: Mutex<HashMap<ProviderKey, Entry>>,
    build: tokio::sync::Mutex<()>,
    /// Configurations whose last check found them unusable until a person acts, and why.
    blocked: Mutex<HashMap<ProviderKey, String>>,
}

impl ProviderHub {
    pub fn new(source: Arc<dyn ProviderSource>, connect: Connector) -> Self {
        ProviderHub {
            source,
            connect,
            entries: Mutex::new(HashMap::new()),
            build: tokio::sync::Mutex::new(()),
            blocked: Mutex::new(HashMap::new()),
        }
    }

    /// Record what the configuration's last check found: `Some(why)` when it cannot be used
    /// until a person acts (credentials refused, a configuration the vendor rejects). Returns
    /// whether that changed, so the objects using it can be told.
    pub fn set_blocked(&self, key: &ProviderKey, why: Option<String>) -> bool {
        let mut blocked = self.blocked.lock().unwrap();
        match why {
            Some(why) => blocked.insert(key.clone(), why.clone()).as_ref() != Some(&why),
            None => blocked.remove(key).is_some(),
        }
    }

    /// Why the configuration cannot be used, if its last check said so.
    pub fn blocked(&self, key: &ProviderKey) -> Option<String> {
        self.blocked.lock().unwrap().get(key).cloned()
    }

    /// The runtime of the configuration a managed object in `namespace` refers to.
    pub async fn runtime_for(
        &self,
        namespace: &str,
        r: &ProviderConfigRef,
    ) -> Result<Arc<dyn VendorRuntime>, HubError> {
        self.runtime(&ProviderKey::for_ref(namespace, r)).await
    }

    /// The configuration itself (without connecting).
    pub fn config(&self, key: &ProviderKey) -> Result<ProviderConfigCommon, HubError> {
        self.source.lookup(key).map(|(spec, _)| spec)
    }

    /// The runtime of a configuration, connecting (or reconnecting after a change) as needed.
    pub async fn runtime(&self, key: &ProviderKey) -> Result<Arc<dyn VendorRuntime>, HubError> {
        if let Some(rt) = self.cached(key, &self.source.fingerprint(key)?) {
            return Ok(rt);
        }
        let _guard = self.build.lock().await;
        let (spec, fingerprint) = self.source.lookup(key)?;
        if let Some(rt) = self.cached(key, &fingerprint) {
            return Ok(rt);
        }
        let credentials = self.source.credentials(key, &spec).await?;
        let resolved = ResolvedProvider {
            key: key.clone(),
            spec,
            credentials,
        };
        let runtime = (self.connect)(&resolved).map_err(|source| HubError::Connect {
            key: key.clone(),
            source: Box::new(source),
        })?;
        let old = self.entries.lock().unwrap().insert(
            key.clone(),
            Entry {
                fingerprint,
                runtime: runtime.clone(),
            },
        );
        if let Some(old) = old {
            tracing::info!(provider = %key, "provider configuration or its Secret changed; reconnecting");
            tokio::spawn(async move { old.runtime.shutdown().await });
        }
        Ok(runtime)
    }

    fn cached(&self, key: &ProviderKey, fingerprint: &str) -> Option<Arc<dyn VendorRuntime>> {
        let entries = self.entries.lock().unwrap();
        entries
            .get(key)
            .filter(|e| e.fingerprint == fingerprint)
            .map(|e| e.runtime.clone())
    }

    /// Forget a configuration that was deleted.
    pub async fn forget(&self, key: &ProviderKey) {
        let old = self.entries.lock().unwrap().remove(key);
        if let Some(old) = old {
            old.runtime.shutdown().await;
        }
    }

    /// Log out of every vendor (operator shutdown).
    pub async fn shutdown(&self) {
        let all: Vec<_> = self
            .entries
            .lock()
            .unwrap()
            .drain()
            .map(|(_, e)| e.runtime)
            .collect();
        for rt in all {
            rt.shutdown().await;
        }
    }
}

/// Downcast a runtime to a vendor's concrete type (for inventories used across vendors).
pub fn downcast<T: 'static>(rt: &Arc<dyn VendorRuntime>) -> Option<&T> {
    rt.as_any().downcast_ref::<T>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::testkit::TestWorld;

    fn reference(json: serde_json::Value) -> ProviderConfigRef {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_namespaced_reference_resolves_in_the_objects_own_namespace() {
        let r = reference(serde_json::json!({"name": "cbr"}));
        assert_eq!(
            ProviderKey::for_ref("team-a", &r),
            ProviderKey {
                kind: ProviderConfigKind::ProviderConfig,
                namespace: Some("team-a".into()),
                name: "cbr".into(),
            }
        );
    }

    #[test]
    fn a_namespace_smuggled_into_the_reference_is_ignored() {
        // The API server prunes the unknown field; if it ever got through, it changes nothing.
        let r = reference(
            serde_json::json!({"kind": "ProviderConfig", "name": "cbr", "namespace": "team-b"}),
        );
        assert_eq!(
            ProviderKey::for_ref("team-a", &r).namespace.as_deref(),
            Some("team-a")
        );
    }

    #[test]
    fn a_cluster_reference_has_no_namespace() {
        let r = reference(serde_json::json!({"kind": "ClusterProviderConfig", "name": "cbr"}));
        assert_eq!(ProviderKey::for_ref("team-a", &r).namespace, None);
    }

    #[tokio::test]
    async fn an_object_cannot_reach_a_provider_config_of_another_namespace() {
        // Refused before connecting: no vendor is needed.
        let world = TestWorld::new(Arc::new(|_: &ResolvedProvider| unreachable!("no connect")));
        let theirs = ProviderKey {
            kind: ProviderConfigKind::ProviderConfig,
            namespace: Some("team-b".into()),
            name: "cbr".into(),
        };
        let spec = serde_json::from_value(serde_json::json!({
            "type": "Ideco", "endpoint": "https://ngfw.example", "ideco": {}
        }))
        .unwrap();
        world
            .source
            .set(theirs, spec, &[("login", "a"), ("password", "b")]);
        let r = reference(serde_json::json!({"name": "cbr"}));
        match world.hub.runtime_for("team-a", &r).await {
            Err(HubError::NotFound(key)) => {
                assert_eq!(key.to_string(), "ProviderConfig team-a/cbr");
            }
            Err(other) => panic!("expected not found, got {other}"),
            Ok(_) => panic!("team-a reached team-b's provider configuration"),
        }
    }
}
