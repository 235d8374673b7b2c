//! A vendor runtime seen through a tap: the real runtime's adapters, each observation they
//! return recorded, so a test that drives the real reconciler can still ask what the adapter
//! saw before the reconciler acted on it.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::api::provider_config::{ProviderObservation, ProviderType};
use crate::engine::adapters::Adapters;
use crate::engine::external::{
    CallContext, Created, Deleted, External, ExternalResult, Observation,
};
use crate::engine::hub::VendorRuntime;
use crate::engine::managed::Managed;
use crate::vendor::error::VendorResult;

/// The observations a tapped adapter returned, oldest first.
pub struct Observed<K: Managed> {
    seen: Arc<Mutex<Vec<Observation<K::Observation>>>>,
}

impl<K: Managed> Clone for Observed<K> {
    fn clone(&self) -> Self {
        Observed {
            seen: self.seen.clone(),
        }
    }
}

impl<K: Managed> Default for Observed<K> {
    fn default() -> Self {
        Observed {
            seen: Arc::default(),
        }
    }
}

impl<K: Managed> Observed<K> {
    /// Take what was recorded so far.
    pub fn take(&self) -> Vec<Observation<K::Observation>> {
        std::mem::take(&mut self.seen.lock().unwrap())
    }
}

struct Tap<K: Managed> {
    inner: Arc<dyn VendorRuntime>,
    log: Observed<K>,
}

impl<K: Managed> Tap<K> {
    fn adapter(&self) -> &dyn External<K> {
        K::external(&*self.inner).expect("the tapped runtime has the kind")
    }
}

#[async_trait]
impl<K: Managed> External<K> for Tap<K> {
    async fn observe(
        &self,
        cr: &K,
        id: Option<&str>,
        ctx: &CallContext<'_>,
    ) -> ExternalResult<Observation<K::Observation>> {
        let seen = self.adapter().observe(cr, id, ctx).await?;
        self.log.seen.lock().unwrap().push(seen.clone());
        Ok(seen)
    }

    async fn create(&self, cr: &K, ctx: &CallContext<'_>) -> ExternalResult<Created> {
        self.adapter().create(cr, ctx).await
    }

    async fn update(
        &self,
        cr: &K,
        id: &str,
        observed: &Observation<K::Observation>,
        ctx: &CallContext<'_>,
    ) -> ExternalResult<()> {
        self.adapter().update(cr, id, observed, ctx).await
    }

    async fn delete(&self, cr: &K, id: &str, ctx: &CallContext<'_>) -> ExternalResult<Deleted> {
        self.adapter().delete(cr, id, ctx).await
    }
}

/// A real vendor runtime whose adapter of kind `K` is tapped.
pub struct TappedRuntime {
    inner: Arc<dyn VendorRuntime>,
    adapters: Adapters,
}

impl TappedRuntime {
    pub fn new<K: Managed>(inner: Arc<dyn VendorRuntime>, log: Observed<K>) -> Self {
        TappedRuntime {
            adapters: Adapters::new().with::<K>(Tap {
                inner: inner.clone(),
                log,
            }),
            inner,
        }
    }
}

#[async_trait]
impl VendorRuntime for TappedRuntime {
    fn provider_type(&self) -> ProviderType {
        self.inner.provider_type()
    }

    async fn check(&self) -> VendorResult<ProviderObservation> {
        self.inner.check().await
    }

    fn adapters(&self) -> &Adapters {
        &self.adapters
    }

    async fn shutdown(&self) {
        self.inner.shutdown().await
    }

    /// The real runtime, so tests can still reach its vendor-specific side.
    fn as_any(&self) -> &dyn std::any::Any {
        self.inner.as_any()
    }
}
