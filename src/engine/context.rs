//! What every reconcile shares: the Kubernetes client, the provider hub, the event publisher,
//! lookups of referenced objects, and per-object retry counters for backoff.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;

use super::cluster::Cluster;
use super::errors::Backoff;
use super::hub::{CredentialSet, ProviderHub};
use super::refs::{RefKey, RefTarget};
use super::waker::{NoWaker, Waker};

/// Reads the objects a managed object refers to, and who refers to it.
#[async_trait]
pub trait RefLookup: Send + Sync {
    /// The referenced object in `namespace`, if it exists.
    async fn get(&self, namespace: &str, key: &RefKey) -> Result<Option<RefTarget>, kube::Error>;
    /// Live (not deleting) objects in `namespace` that refer to `kind`/`name`, as `Kind/name`.
    fn referrers(&self, namespace: &str, kind: &str, name: &str) -> Vec<String>;
}

/// Reads a Secret's keys (for `RefTarget::Secret`).
pub fn credential_set(secret: &k8s_openapi::api::core::v1::Secret) -> CredentialSet {
    use kube::ResourceExt;
    let source = format!(
        "{}/{}",
        secret.namespace().unwrap_or_default(),
        secret.name_any()
    );
    let mut values = std::collections::BTreeMap::new();
    for (k, v) in secret.data.iter().flatten() {
        values.insert(
            k.clone(),
            super::hub::SecretString::new(String::from_utf8_lossy(&v.0).into_owned()),
        );
    }
    for (k, v) in secret.string_data.iter().flatten() {
        values.insert(k.clone(), super::hub::SecretString::new(v.clone()));
    }
    CredentialSet { source, values }
}

/// Engine settings.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// Identifies this cluster in ownership markers (default: the kube-system namespace uid).
    pub cluster_id: String,
    pub backoff: Backoff,
    /// Requeue while a vendor object is still being created or deleted.
    pub pending_requeue: Duration,
    /// The clock backup health is judged by (a test's simulated vendor clock).
    pub clock: super::backup_health::WallClock,
}

impl Default for EngineSettings {
    fn default() -> Self {
        EngineSettings {
            cluster_id: "default".into(),
            backoff: Backoff::default(),
            pending_requeue: Duration::from_secs(5),
            clock: Default::default(),
        }
    }
}

/// Shared by every reconcile of every kind.
pub struct Context {
    /// The reconciler's writes to its own objects, and its Events.
    pub cluster: Arc<dyn Cluster>,
    pub hub: Arc<ProviderHub>,
    pub lookup: Arc<dyn RefLookup>,
    pub settings: EngineSettings,
    /// Queues other objects for a reconcile when an adapter asks (`CallContext::wake`).
    pub waker: Arc<dyn Waker>,
    attempts: Mutex<HashMap<(&'static str, String, String), u32>>,
}

impl Context {
    pub fn new(
        cluster: Arc<dyn Cluster>,
        hub: Arc<ProviderHub>,
        lookup: Arc<dyn RefLookup>,
        settings: EngineSettings,
    ) -> Self {
        Context {
            cluster,
            hub,
            lookup,
            settings,
            waker: Arc::new(NoWaker),
            attempts: Mutex::new(HashMap::new()),
        }
    }

    /// The same context, waking objects through `waker` (the operator's kinds table).
    pub fn with_waker(mut self, waker: Arc<dyn Waker>) -> Self {
        self.waker = waker;
        self
    }

    /// Count one more failure of this object; returns the previous count.
    pub fn failed(&self, kind: &'static str, ns: &str, name: &str) -> u32 {
        let mut a = self.attempts.lock().unwrap();
        let n = a
            .entry((kind, ns.to_string(), name.to_string()))
            .or_insert(0);
        let prev = *n;
        *n = n.saturating_add(1);
        prev
    }

    pub fn succeeded(&self, kind: &'static str, ns: &str, name: &str) {
        self.attempts
            .lock()
            .unwrap()
            .remove(&(kind, ns.to_string(), name.to_string()));
    }
}
