//! Helpers for testing the reconciler, adapters and vendor runtimes without a Kubernetes API
//! server: a static provider source, a ready-made call context, an API server in memory
//! (`MemoryCluster`), a vendor in memory (`FakeVendor`), and `Engine`, the real reconciler
//! over both (or over a real vendor runtime and its simulator).

mod fake_vendor;
mod memory_cluster;
mod tap;

pub use fake_vendor::{FakeObject, FakeRuntime, FakeVendor, vendor_error};
pub use memory_cluster::{MemoryCluster, Write, api_error};
pub use tap::{Observed, TappedRuntime};

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use kube::ResourceExt;

use super::context::{Context, EngineSettings};
use super::errors::Error;
use super::external::CallContext;
use super::hub::{
    Connector, CredentialSet, HubError, ProviderHub, ProviderKey, ProviderSource, SecretString,
};
use super::managed::Managed;
use super::reconciler::{Next, reconcile_once};
use super::refs::Refs;
use super::waker::{RecordingWaker, Wake};
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
    pub hub: Arc<ProviderHub>,
    pub refs: Refs,
}

impl TestWorld {
    /// A world whose provider configurations connect through `connect` (for the vendors:
    /// `providers::test_world()`).
    pub fn new(connect: Connector) -> Self {
        let source = Arc::new(StaticSource::default());
        let hub = Arc::new(ProviderHub::new(source.clone(), connect));
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
            trust_unmarked_id: true,
            wake: Wake::none(),
        }
    }
}

impl TestWorld {
    /// The real reconciler over this world's provider configurations, with an API server in
    /// memory. References resolve to what is applied to that memory.
    pub fn engine(&self, settings: EngineSettings) -> Engine {
        let cluster = MemoryCluster::new();
        let woken = Arc::new(RecordingWaker::default());
        let ctx = Context::new(cluster.clone(), self.hub.clone(), cluster.clone(), settings)
            .with_waker(woken.clone());
        Engine {
            cluster,
            ctx: Arc::new(ctx),
            woken,
        }
    }
}

/// The real reconciler with an API server in memory.
pub struct Engine {
    pub cluster: Arc<MemoryCluster>,
    pub ctx: Arc<Context>,
    /// The objects adapters asked to wake (`CallContext::wake`); a test reconciles them.
    pub woken: Arc<RecordingWaker>,
}

impl Engine {
    /// Store the object as a user's apply would; what is stored.
    pub fn apply<K: Managed>(&self, obj: &K) -> K {
        self.cluster.apply(obj)
    }

    /// The object as stored now.
    pub fn get<K: Managed>(&self, obj: &K) -> Option<K> {
        self.cluster
            .get(&obj.namespace().unwrap_or_default(), &obj.name_any())
    }

    /// One reconcile of the stored object, as the controller would run it; a failure also
    /// counts for the object's backoff, which the answer carries.
    pub async fn reconcile<K: Managed>(&self, obj: &K) -> Result<Next, (Error, Duration)> {
        let ns = obj.namespace().unwrap_or_default();
        let name = obj.name_any();
        let stored: K = self
            .cluster
            .get(&ns, &name)
            .unwrap_or_else(|| panic!("{} {ns}/{name} is not applied", K::KIND));
        match reconcile_once(&stored, &self.ctx).await {
            Ok(next) => {
                self.ctx.succeeded(K::KIND, &ns, &name);
                Ok(next)
            }
            Err(e) => {
                let attempt = self.ctx.failed(K::KIND, &ns, &name);
                let delay = self.ctx.settings.backoff.delay(e.class(), attempt);
                Err((e, delay))
            }
        }
    }

    /// Reconcile until a pass succeeds, at most `passes` times; the stored object after it.
    pub async fn converge<K: Managed>(&self, obj: &K, passes: usize) -> K {
        let mut last = None;
        for _ in 0..passes {
            match self.reconcile(obj).await {
                Ok(_) => return self.get(obj).expect("still stored"),
                Err((e, _)) => last = Some(e),
            }
        }
        panic!("{} did not converge: {last:?}", obj.name_any())
    }

    /// Reconcile every 50 ms until the condition `type_` has `reason`, at most `within`; the
    /// object then. For verdicts that follow the vendor's clock (backup health).
    pub async fn until_reason<K: Managed>(
        &self,
        obj: &K,
        type_: &str,
        reason: &str,
        within: Duration,
    ) -> K {
        let deadline = std::time::Instant::now() + within;
        loop {
            let _ = self.reconcile(obj).await;
            let now = self.get(obj).expect("still stored");
            let seen = now
                .managed_status()
                .and_then(|s| s.conditions.iter().find(|c| c.type_ == type_))
                .map(|c| c.reason.clone());
            if seen.as_deref() == Some(reason) {
                return now;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{} {}: {type_} is {seen:?}, not {reason}, after {within:?}: {:?}",
                K::KIND,
                obj.name_any(),
                now.managed_status().map(|s| &s.conditions)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Reconcile until a pass fails, at most `passes` times; the failure's message.
    pub async fn converge_err<K: Managed>(&self, obj: &K, passes: usize) -> String {
        for _ in 0..passes {
            if let Err((e, _)) = self.reconcile(obj).await {
                return e.to_string();
            }
        }
        panic!("no pass of {} failed", obj.name_any())
    }
}
