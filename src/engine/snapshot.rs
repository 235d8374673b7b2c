//! Observation by collection: one shared, periodically refreshed copy of a vendor collection
//! (for example all CBR vaults of a project) per provider configuration. Every reconciler reads
//! it, so a steady-state resync of N objects costs ceil(N / page size) list calls, not N GETs.
//! Refreshes are single-flight: callers that arrive during a refresh wait for its result.
//! Writes go through (`upsert`, `remove`) so a reconciler sees its own change without a re-list.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::providers::error::VendorResult;

struct Loaded<T> {
    at: Instant,
    items: Arc<BTreeMap<String, T>>,
}

/// A cached vendor collection keyed by vendor id.
pub struct Collection<T> {
    ttl: Duration,
    state: Mutex<Option<Loaded<T>>>,
    refresh: tokio::sync::Mutex<()>,
}

impl<T: Clone> Collection<T> {
    pub fn new(ttl: Duration) -> Self {
        Collection {
            ttl,
            state: Mutex::new(None),
            refresh: tokio::sync::Mutex::new(()),
        }
    }

    fn current(&self, newer_than: Option<Instant>) -> Option<Arc<BTreeMap<String, T>>> {
        let state = self.state.lock().unwrap();
        let loaded = state.as_ref()?;
        let fresh_enough = match newer_than {
            Some(t) => loaded.at >= t,
            None => loaded.at.elapsed() < self.ttl,
        };
        fresh_enough.then(|| loaded.items.clone())
    }

    /// The collection, listed with `load` when the cached copy is older than the TTL. With
    /// `fresh`, the copy must have been listed after this call started.
    pub async fn get<F, Fut>(&self, fresh: bool, load: F) -> VendorResult<Arc<BTreeMap<String, T>>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = VendorResult<Vec<(String, T)>>>,
    {
        let asked_at = Instant::now();
        let newer_than = fresh.then_some(asked_at);
        if let Some(items) = self.current(newer_than) {
            return Ok(items);
        }
        let _guard = self.refresh.lock().await;
        // Someone else may have refreshed while we waited for the lock.
        if let Some(items) = self.current(newer_than) {
            return Ok(items);
        }
        let started = Instant::now();
        let items: BTreeMap<String, T> = load().await?.into_iter().collect();
        let items = Arc::new(items);
        *self.state.lock().unwrap() = Some(Loaded {
            at: started,
            items: items.clone(),
        });
        Ok(items)
    }

    /// Record an object the caller just created or updated.
    pub fn upsert(&self, id: String, item: T) {
        if let Some(loaded) = self.state.lock().unwrap().as_mut() {
            Arc::make_mut(&mut loaded.items).insert(id, item);
        }
    }

    /// Forget an object the caller just deleted.
    pub fn remove(&self, id: &str) {
        if let Some(loaded) = self.state.lock().unwrap().as_mut() {
            Arc::make_mut(&mut loaded.items).remove(id);
        }
    }

    /// Drop the cached copy; the next `get` lists again.
    pub fn invalidate(&self) {
        *self.state.lock().unwrap() = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    async fn counting_loader(calls: &AtomicUsize) -> VendorResult<Vec<(String, u32)>> {
        calls.fetch_add(1, Ordering::SeqCst);
        // Long enough that concurrent readers arrive while the list is in flight.
        tokio::time::sleep(Duration::from_millis(20)).await;
        Ok(vec![("a".to_string(), 1), ("b".to_string(), 2)])
    }

    #[tokio::test]
    async fn concurrent_readers_share_one_list() {
        let c = Arc::new(Collection::<u32>::new(Duration::from_secs(60)));
        let calls = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let (c, calls) = (c.clone(), calls.clone());
            tasks.push(tokio::spawn(async move {
                c.get(false, || counting_loader(&calls))
                    .await
                    .unwrap()
                    .len()
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), 2);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn fresh_forces_a_list_and_ttl_expiry_relists() {
        let c = Collection::<u32>::new(Duration::from_millis(30));
        let calls = AtomicUsize::new(0);
        c.get(false, || counting_loader(&calls)).await.unwrap();
        c.get(false, || counting_loader(&calls)).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        c.get(true, || counting_loader(&calls)).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        tokio::time::sleep(Duration::from_millis(60)).await;
        c.get(false, || counting_loader(&calls)).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn writes_go_through_without_a_relist() {
        let c = Collection::<u32>::new(Duration::from_secs(60));
        let calls = AtomicUsize::new(0);
        c.get(false, || counting_loader(&calls)).await.unwrap();
        c.upsert("c".into(), 3);
        c.remove("a");
        let items = c.get(false, || counting_loader(&calls)).await.unwrap();
        assert_eq!(items.keys().cloned().collect::<Vec<_>>(), vec!["b", "c"]);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
