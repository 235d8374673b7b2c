//! Observation by collection: one shared, periodically refreshed copy of a vendor collection
//! (for example all CBR vaults of a project) per provider configuration. Every reconciler reads
//! it, so a steady-state resync of N objects costs ceil(N / page size) list calls, not N GETs.
//! Refreshes are single-flight: callers that arrive during a refresh wait for its result.
//! Writes go through (`upsert`, `remove`) so a reconciler sees its own change without a re-list.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::vendor::error::VendorResult;

struct Loaded<T> {
    at: Instant,
    items: Arc<BTreeMap<String, T>>,
}

/// One write-through: `Some` after a create/update, `None` after a delete.
type Write<T> = (Instant, String, Option<T>);

/// A cached vendor collection keyed by vendor id.
pub struct Collection<T> {
    ttl: Duration,
    state: Mutex<Option<Loaded<T>>>,
    /// Recent write-throughs. A list that was already in flight when a write happened may not
    /// contain it; these are laid over every list result that started before them.
    writes: Mutex<Vec<Write<T>>>,
    /// When the cached copy was last declared stale: a list that started before it may miss
    /// a change, so its result serves its own caller but is not kept.
    invalidated_at: Mutex<Option<Instant>>,
    refresh: tokio::sync::Mutex<()>,
}

impl<T: Clone> Collection<T> {
    pub fn new(ttl: Duration) -> Self {
        Collection {
            ttl,
            state: Mutex::new(None),
            writes: Mutex::new(Vec::new()),
            invalidated_at: Mutex::new(None),
            refresh: tokio::sync::Mutex::new(()),
        }
    }

    fn current(&self, newer_than: Option<Instant>) -> Option<(Arc<BTreeMap<String, T>>, Instant)> {
        let state = self.state.lock().unwrap();
        let loaded = state.as_ref()?;
        let fresh_enough = match newer_than {
            Some(t) => loaded.at >= t,
            None => loaded.at.elapsed() < self.ttl,
        };
        fresh_enough.then(|| (loaded.items.clone(), loaded.at))
    }

    /// The collection, listed with `load` when the cached copy is older than the TTL. With
    /// `fresh`, the copy must have been listed after this call started.
    pub async fn get<F, Fut>(&self, fresh: bool, load: F) -> VendorResult<Arc<BTreeMap<String, T>>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = VendorResult<Vec<(String, T)>>>,
    {
        self.get_listed(fresh, load).await.map(|(items, _)| items)
    }

    /// `get`, and when the listing it answers from started: callers that must tell one
    /// listing from the next (two listings agreeing before a removal) compare these.
    pub async fn get_listed<F, Fut>(
        &self,
        fresh: bool,
        load: F,
    ) -> VendorResult<(Arc<BTreeMap<String, T>>, Instant)>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = VendorResult<Vec<(String, T)>>>,
    {
        let asked_at = Instant::now();
        let newer_than = fresh.then_some(asked_at);
        if let Some(found) = self.current(newer_than) {
            return Ok(found);
        }
        let _guard = self.refresh.lock().await;
        // Someone else may have refreshed while we waited for the lock.
        if let Some(found) = self.current(newer_than) {
            return Ok(found);
        }
        let started = Instant::now();
        let mut items: BTreeMap<String, T> = load().await?.into_iter().collect();
        let mut state = self.state.lock().unwrap();
        let mut writes = self.writes.lock().unwrap();
        // Writes older than the list's start are in it; newer ones may not be: lay them over.
        writes.retain(|(at, _, _)| *at >= started);
        for (_, id, item) in writes.iter() {
            match item {
                Some(item) => items.insert(id.clone(), item.clone()),
                None => items.remove(id),
            };
        }
        let items = Arc::new(items);
        let stale = self
            .invalidated_at
            .lock()
            .unwrap()
            .is_some_and(|at| started < at);
        if !stale {
            *state = Some(Loaded {
                at: started,
                items: items.clone(),
            });
        }
        Ok((items, started))
    }

    fn write(&self, id: &str, item: Option<T>) {
        let mut state = self.state.lock().unwrap();
        if let Some(loaded) = state.as_mut() {
            let map = Arc::make_mut(&mut loaded.items);
            match &item {
                Some(i) => map.insert(id.to_string(), i.clone()),
                None => map.remove(id),
            };
        }
        self.writes
            .lock()
            .unwrap()
            .push((Instant::now(), id.to_string(), item));
    }

    /// Record an object the caller just created or updated.
    pub fn upsert(&self, id: String, item: T) {
        self.write(&id, Some(item));
    }

    /// Forget an object the caller just deleted.
    pub fn remove(&self, id: &str) {
        self.write(id, None);
    }

    /// Drop the cached copy; the next `get` lists again, and a list already in flight is not
    /// kept (it may have been answered before the change that made the copy stale).
    pub fn invalidate(&self) {
        let mut state = self.state.lock().unwrap();
        *state = None;
        *self.invalidated_at.lock().unwrap() = Some(Instant::now());
    }

    /// Write-throughs not yet covered by a completed list (for tests and diagnostics).
    pub fn pending_writes(&self) -> usize {
        self.writes.lock().unwrap().len()
    }
}

/// A value computed from one listing of a collection (an index, a sorted copy), kept until the
/// listing changes. Every reconciler of a resync reads the same listing, so what one builds
/// serves them all: building it per object made a resync quadratic in the collection size.
/// It holds the listing weakly, so write-throughs still update the listing in place. A stamp
/// names whatever else the value was built from (a registry generation); 0 when nothing.
pub struct Derived<S, D> {
    memo: Mutex<Option<Memo<S, D>>>,
}

/// A derived value, (weakly) the listing it was built from, and its stamp.
type Memo<S, D> = (std::sync::Weak<S>, u64, Arc<D>);

impl<S, D> Default for Derived<S, D> {
    fn default() -> Self {
        Derived {
            memo: Mutex::new(None),
        }
    }
}

impl<S, D> Derived<S, D> {
    /// The value for `source`: the kept one if it was built from this very listing.
    pub fn get(&self, source: &Arc<S>, build: impl FnOnce(&S) -> D) -> Arc<D> {
        self.get_stamped(source, 0, build)
    }

    /// The value for `source` and `stamp`: the kept one if it was built from both.
    pub fn get_stamped(&self, source: &Arc<S>, stamp: u64, build: impl FnOnce(&S) -> D) -> Arc<D> {
        let mut memo = self.memo.lock().unwrap();
        if let Some((from, kept_stamp, value)) = memo.as_ref()
            && std::ptr::eq(from.as_ptr(), Arc::as_ptr(source))
            && *kept_stamp == stamp
        {
            return value.clone();
        }
        let value = Arc::new(build(source));
        *memo = Some((Arc::downgrade(source), stamp, value.clone()));
        value
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
        // A TTL no loaded machine outruns between two calls (a 30 ms one failed under load).
        let c = Collection::<u32>::new(Duration::from_secs(60));
        let calls = AtomicUsize::new(0);
        c.get(false, || counting_loader(&calls)).await.unwrap();
        c.get(false, || counting_loader(&calls)).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        c.get(true, || counting_loader(&calls)).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);

        let short = Collection::<u32>::new(Duration::from_millis(1));
        let calls = AtomicUsize::new(0);
        short.get(false, || counting_loader(&calls)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        short.get(false, || counting_loader(&calls)).await.unwrap();
        assert_eq!(
            calls.load(Ordering::SeqCst),
            2,
            "an expired copy is listed again"
        );
    }

    /// A list (asking for a fresh copy) that the vendor answers with `items` only once the
    /// returned sender fires; returns when the list is in flight.
    async fn list_held_open(
        c: &Arc<Collection<u32>>,
        items: Vec<(&'static str, u32)>,
    ) -> (
        tokio::task::JoinHandle<Arc<BTreeMap<String, u32>>>,
        tokio::sync::oneshot::Sender<()>,
    ) {
        let (release, wait) = tokio::sync::oneshot::channel::<()>();
        let slow = {
            let c = c.clone();
            tokio::spawn(async move {
                c.get(true, || async move {
                    let _ = wait.await;
                    Ok(items.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
                })
                .await
                .unwrap()
            })
        };
        // In flight once the loader holds the refresh lock.
        while c.refresh.try_lock().is_ok() {
            tokio::task::yield_now().await;
        }
        (slow, release)
    }

    /// A list that started before a create and finished after it must not erase the created
    /// object (found by the 1000-policy benchmark).
    #[tokio::test]
    async fn a_list_in_flight_does_not_erase_a_newer_write() {
        let c = Arc::new(Collection::<u32>::new(Duration::from_millis(1)));
        let (slow, release) = list_held_open(&c, vec![("old", 1), ("gone", 9)]).await;
        c.upsert("new".into(), 2);
        c.remove("gone");
        release.send(()).unwrap();
        let items = slow.await.unwrap();
        assert_eq!(
            items.keys().cloned().collect::<Vec<_>>(),
            vec!["new", "old"]
        );
        // A list that starts after the writes contains them itself; the log is trimmed.
        let calls = AtomicUsize::new(0);
        c.get(true, || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok(vec![("new".to_string(), 2), ("old".to_string(), 1)])
        })
        .await
        .unwrap();
        assert_eq!(c.pending_writes(), 0);
    }

    /// A list in flight when the copy is declared stale serves its caller but is not kept:
    /// the change that made the copy stale may have happened after the vendor answered it.
    #[tokio::test]
    async fn a_list_in_flight_during_an_invalidation_is_not_kept() {
        let c = Arc::new(Collection::<u32>::new(Duration::from_secs(60)));
        let (slow, release) = list_held_open(&c, vec![("before", 1)]).await;
        c.invalidate();
        release.send(()).unwrap();
        assert_eq!(slow.await.unwrap().len(), 1, "its caller gets the answer");
        let calls = AtomicUsize::new(0);
        let items = c
            .get(false, || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Ok(vec![("before".to_string(), 1), ("after".to_string(), 2)])
            })
            .await
            .unwrap();
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "the next reader lists again"
        );
        assert_eq!(items.len(), 2);
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

    #[tokio::test]
    async fn a_derived_value_is_built_once_per_listing_and_rebuilt_after_a_write() {
        let c = Collection::<u32>::new(Duration::from_secs(60));
        let calls = AtomicUsize::new(0);
        let sum: Derived<BTreeMap<String, u32>, u32> = Derived::default();
        let builds = AtomicUsize::new(0);
        let total = |items: &BTreeMap<String, u32>| {
            builds.fetch_add(1, Ordering::SeqCst);
            items.values().sum::<u32>()
        };
        let items = c.get(false, || counting_loader(&calls)).await.unwrap();
        assert_eq!(*sum.get(&items, total), 3);
        let again = c.get(false, || counting_loader(&calls)).await.unwrap();
        assert_eq!(*sum.get(&again, total), 3);
        assert_eq!(builds.load(Ordering::SeqCst), 1, "one build per listing");
        drop((items, again));
        // The derived value holds the listing weakly: the write updates it in place, and the
        // value is rebuilt from the new content.
        c.upsert("c".into(), 10);
        let items = c.get(false, || counting_loader(&calls)).await.unwrap();
        assert_eq!(*sum.get(&items, total), 13);
        assert_eq!(builds.load(Ordering::SeqCst), 2);
        // A new stamp (what else the value is built from changed) builds again; the same
        // stamp again does not.
        sum.get_stamped(&items, 7, total);
        sum.get_stamped(&items, 7, total);
        assert_eq!(builds.load(Ordering::SeqCst), 3);
    }
}
