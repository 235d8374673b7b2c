//! The managed kinds, defined once. `managed_kinds` is the one table: from it the operator
//! derives each kind's watch (one shared reflector per type), its controller, the reference
//! triggers (a change to an object wakes every object that refers to it), deletion blocking
//! (an object waits while others refer to it) and the lookups that resolve references.
//! References come from `Managed::references()`; adapters from each vendor's `Adapters`.
//!
//! Adding a kind: its API type, its `Managed` impl (engine/kinds.rs), its adapters, and one
//! `add::<K>()` line in `managed_kinds`.

use std::collections::HashMap;
use std::sync::Arc;

use futures::channel::mpsc::UnboundedReceiver;
use futures::future::BoxFuture;
use futures::{FutureExt, Stream, StreamExt};
use kube::runtime::Controller;
use kube::runtime::controller;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, Resource, ResourceExt};

use super::StartError;
use super::triggers::Trigger;
use crate::api::{FirewallRule, Policy, Strategy, Vault};
use crate::engine::annotations::{CREATE_PENDING, EXTERNAL_NAME};
use crate::engine::context::Context;
use crate::engine::hub::ProviderKey;
use crate::engine::managed::Managed;
use crate::engine::reconciler::{error_policy, reconcile};
use crate::engine::refs::RefTarget;
use crate::engine::waker::{ObjectName, Waker};

/// Every managed kind rampart serves.
pub fn managed_kinds(kinds: &mut KindsBuilder) {
    kinds.add::<Vault>();
    kinds.add::<Policy>();
    kinds.add::<Strategy>();
    kinds.add::<FirewallRule>();
}

/// What the operator asks of one served kind, whatever its type.
pub trait ServedKind: Send + Sync {
    fn kind(&self) -> &'static str;
    /// Live (not deleting) objects of this kind in `ns` that refer to `kind`/`name`, as
    /// `Kind/name`.
    fn referrers(&self, ns: &str, kind: &str, name: &str) -> Vec<String>;
    /// Reconcile the objects of this kind that refer to `kind`/`name`.
    fn wake_referrers(&self, ns: &str, kind: &str, name: &str);
    /// Reconcile the object `ns/name` of this kind.
    fn wake(&self, ns: &str, name: &str);
    /// Reconcile the objects of this kind that use the provider configuration `key`; how many.
    fn wake_users(&self, key: &ProviderKey) -> usize;
    /// The cached object `ns/name`, as a reference target.
    fn target(&self, ns: &str, name: &str) -> Option<RefTarget>;
    /// Objects whose `Ready` condition is true.
    fn ready(&self) -> usize;
    /// Objects of the kind in the cache.
    fn total(&self) -> usize;
    /// Resolves once the kind's cache has listed its objects.
    fn wait_until_ready(&self) -> BoxFuture<'static, ()>;
}

/// One kind's cache and wake-up queue.
pub struct Served<K: Managed> {
    store: Store<K>,
    trigger: Trigger<K>,
}

impl<K: Managed> Served<K> {
    pub fn new(store: Store<K>, trigger: Trigger<K>) -> Self {
        Served { store, trigger }
    }

    fn matching(&self, ns: Option<&str>, keep: impl Fn(&K) -> bool) -> Vec<Arc<K>> {
        self.store
            .state()
            .into_iter()
            .filter(|o| ns.is_none_or(|ns| o.namespace().as_deref() == Some(ns)))
            .filter(|o| keep(o))
            .collect()
    }
}

fn refers_to<K: Managed>(obj: &K, kind: &str, name: &str) -> bool {
    obj.references()
        .iter()
        .any(|r| r.kind == kind && r.name == name)
}

impl<K: Managed> ServedKind for Served<K> {
    fn kind(&self) -> &'static str {
        K::KIND
    }

    fn referrers(&self, ns: &str, kind: &str, name: &str) -> Vec<String> {
        self.matching(Some(ns), |o| {
            o.meta().deletion_timestamp.is_none() && refers_to(o, kind, name)
        })
        .iter()
        .map(|o| format!("{}/{}", K::KIND, o.name_any()))
        .collect()
    }

    fn wake_referrers(&self, ns: &str, kind: &str, name: &str) {
        for o in self.matching(Some(ns), |o| refers_to(o, kind, name)) {
            self.trigger.send(ObjectRef::from_obj(o.as_ref()));
        }
    }

    fn wake(&self, ns: &str, name: &str) {
        self.trigger.send(ObjectRef::new(name).within(ns));
    }

    fn wake_users(&self, key: &ProviderKey) -> usize {
        let users = self.matching(None, |o| {
            let ns = o.namespace().unwrap_or_default();
            o.provider_refs()
                .iter()
                .any(|r| &ProviderKey::for_ref(&ns, r) == key)
        });
        for o in &users {
            self.trigger.send(ObjectRef::from_obj(o.as_ref()));
        }
        users.len()
    }

    fn target(&self, ns: &str, name: &str) -> Option<RefTarget> {
        self.store
            .get(&ObjectRef::new(name).within(ns))
            .map(RefTarget::object)
    }

    fn ready(&self) -> usize {
        self.store
            .state()
            .iter()
            .filter(|o| crate::engine::conditions::is_ready(o.managed_status()))
            .count()
    }

    fn total(&self) -> usize {
        self.store.state().len()
    }

    fn wait_until_ready(&self) -> BoxFuture<'static, ()> {
        let store = self.store.clone();
        async move {
            let _ = store.wait_until_ready().await;
        }
        .boxed()
    }
}

/// Every served kind, for the dependency logic.
#[derive(Default)]
pub struct Kinds {
    all: Vec<Arc<dyn ServedKind>>,
}

impl Kinds {
    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn ServedKind>> {
        self.all.iter()
    }

    pub fn push(&mut self, kind: Arc<dyn ServedKind>) {
        self.all.push(kind);
    }

    /// Live objects of any kind in `ns` that refer to `kind`/`name`.
    pub fn referrers(&self, ns: &str, kind: &str, name: &str) -> Vec<String> {
        self.all
            .iter()
            .flat_map(|k| k.referrers(ns, kind, name))
            .collect()
    }

    /// Reconcile every object of any kind that refers to `kind`/`name`.
    pub fn wake_referrers(&self, ns: &str, kind: &str, name: &str) {
        self.all
            .iter()
            .for_each(|k| k.wake_referrers(ns, kind, name));
    }

    /// Reconcile every object of any kind that uses the provider configuration `key`.
    pub fn wake_users(&self, key: &ProviderKey) -> usize {
        self.all.iter().map(|k| k.wake_users(key)).sum()
    }

    /// The cached object `kind` `ns/name`, as a reference target.
    pub fn target(&self, kind: &str, ns: &str, name: &str) -> Option<RefTarget> {
        self.all
            .iter()
            .find(|k| k.kind() == kind)
            .and_then(|k| k.target(ns, name))
    }
}

/// Adapters wake objects of their kind through the table (a conflict between FirewallRules
/// that appeared or went away).
impl Waker for Kinds {
    fn wake(&self, kind: &'static str, objects: &[ObjectName]) {
        if let Some(k) = self.all.iter().find(|k| k.kind() == kind) {
            objects.iter().for_each(|o| k.wake(&o.namespace, &o.name));
        }
    }
}

/// What a kind's driver needs once every kind is known.
pub struct Wiring {
    pub client: Client,
    pub namespace: Option<String>,
    pub ctx: Arc<Context>,
    pub kinds: Arc<Kinds>,
    pub config: controller::Config,
}

type Preflight =
    Box<dyn Fn(&Client, &Option<String>) -> BoxFuture<'static, Result<(), StartError>> + Send>;

/// A kind whose cache and queue exist and whose watch, controller and trigger start once every
/// kind is known.
trait PendingKind: Send {
    fn start(self: Box<Self>, wiring: &Wiring) -> BoxFuture<'static, ()>;
    #[cfg(test)]
    fn as_any(&mut self) -> &mut dyn std::any::Any;
}

struct Pending<K: Managed> {
    store: Store<K>,
    writer: reflector::store::Writer<K>,
    queue: UnboundedReceiver<ObjectRef<K>>,
}

impl<K: Managed> PendingKind for Pending<K> {
    fn start(self: Box<Self>, w: &Wiring) -> BoxFuture<'static, ()> {
        let Pending {
            store,
            writer,
            queue,
        } = *self;
        let for_controller = writer.subscribe().expect("a shared store");
        let for_referrers = writer.subscribe().expect("a shared store");
        let api: Api<K> = super::scoped(&w.client, &w.namespace);
        let watch = watcher(api, watcher::Config::default().any_semantic())
            .default_backoff()
            .modify(super::slim::<K>)
            .reflect_shared(writer)
            .applied_objects()
            .for_each(|_| futures::future::ready(()));
        let controller = Controller::for_shared_stream(wake_ups(for_controller), store)
            .with_config(w.config.clone())
            .reconcile_on(queue)
            .run(reconcile, error_policy, w.ctx.clone())
            .for_each(|_| futures::future::ready(()));
        let referrers = wake_referrers_on_change(for_referrers, w.kinds.clone());
        async move {
            futures::join!(watch, controller, referrers);
        }
        .boxed()
    }

    #[cfg(test)]
    fn as_any(&mut self) -> &mut dyn std::any::Any {
        self
    }
}

/// Builds the kinds table: each `add` makes the kind's shared cache and queue now, and its
/// driver (watch, controller, reference trigger) once every kind is known.
#[derive(Default)]
pub struct KindsBuilder {
    kinds: Kinds,
    pending: Vec<Box<dyn PendingKind>>,
    preflights: Vec<Preflight>,
}

/// Objects a subscriber may fall behind by before the watch waits for it.
const SHARED_BUFFER: usize = 1024;

impl KindsBuilder {
    pub fn add<K: Managed>(&mut self) {
        self.preflights.push(Box::new(|client, ns| {
            let api: Api<K> = super::scoped(client, ns);
            let crd = format!("{}.{}", K::plural(&()), K::group(&()));
            async move { super::preflight(&api, &crd).await }.boxed()
        }));
        let (store, writer) = reflector::store_shared::<K>(SHARED_BUFFER);
        let (trigger, queue) = Trigger::new();
        self.kinds
            .push(Arc::new(Served::new(store.clone(), trigger)));
        self.pending.push(Box::new(Pending {
            store,
            writer,
            queue,
        }));
    }

    /// A check per kind that its CRD is installed and the operator may list it.
    pub fn preflights(
        &self,
        client: &Client,
        ns: &Option<String>,
    ) -> Vec<BoxFuture<'static, Result<(), StartError>>> {
        self.preflights.iter().map(|p| p(client, ns)).collect()
    }

    /// The table, and the futures that serve it (run them all).
    pub fn build(
        self,
        wiring: impl FnOnce(Arc<Kinds>) -> Wiring,
    ) -> (Arc<Kinds>, Vec<BoxFuture<'static, ()>>) {
        let kinds = Arc::new(self.kinds);
        let wiring = wiring(kinds.clone());
        let futures = self.pending.into_iter().map(|p| p.start(&wiring)).collect();
        (kinds, futures)
    }

    /// The not-yet-started kind `K`, for tests that feed its cache by hand.
    #[cfg(test)]
    fn pending<K: Managed>(&mut self) -> &mut Pending<K> {
        self.pending
            .iter_mut()
            .find_map(|p| p.as_any().downcast_mut::<Pending<K>>())
            .expect("the kind was added")
    }
}

/// What about a managed object asks for a reconcile: its spec (generation), annotations (pause,
/// external name, reconcile-requested-at) and deletion. Not what rampart writes itself: its
/// status, the create-pending mark and its finalizer. Each of those writes woke the object
/// again at once, past the error backoff: a refused create set and cleared the mark at every
/// attempt (a retry every 10 ms, found by an end-to-end test), and the finalizer added before a
/// first refused create sent the create a second time within 100 ms.
pub fn wake_up_hash<K: Resource>(obj: &K) -> u64 {
    use std::hash::{Hash, Hasher};
    let meta = obj.meta();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    meta.generation.hash(&mut h);
    meta.annotations
        .iter()
        .flatten()
        .filter(|(k, _)| k.as_str() != CREATE_PENDING)
        .for_each(|a| a.hash(&mut h));
    meta.deletion_timestamp
        .as_ref()
        .map(|t| t.0.to_string())
        .hash(&mut h);
    h.finish()
}

/// The objects of a shared stream whose wake-up hash changed (status-only changes skipped).
fn wake_ups<K: Managed>(
    objects: impl Stream<Item = Arc<K>> + Send + 'static,
) -> impl Stream<Item = Arc<K>> + Send {
    let mut seen: HashMap<ObjectRef<K>, u64> = HashMap::new();
    objects.filter(move |o| {
        let hash = wake_up_hash(o.as_ref());
        let changed = seen.insert(ObjectRef::from_obj(o.as_ref()), hash) != Some(hash);
        futures::future::ready(changed)
    })
}

/// What about an object matters to the objects referring to it: its spec and its external name.
fn referenced_fingerprint<K: Resource>(obj: &K) -> (i64, Option<String>) {
    (
        obj.meta().generation.unwrap_or_default(),
        obj.annotations().get(EXTERNAL_NAME).cloned(),
    )
}

/// Wake every object (of any kind) referring to an object of this kind whose spec or external
/// name changed.
async fn wake_referrers_on_change<K: Managed>(
    objects: impl Stream<Item = Arc<K>> + Send,
    kinds: Arc<Kinds>,
) {
    let mut seen: HashMap<ObjectRef<K>, (i64, Option<String>)> = HashMap::new();
    futures::pin_mut!(objects);
    while let Some(obj) = objects.next().await {
        let print = referenced_fingerprint(obj.as_ref());
        if seen.insert(ObjectRef::from_obj(obj.as_ref()), print.clone()) != Some(print) {
            kinds.wake_referrers(
                &obj.namespace().unwrap_or_default(),
                K::KIND,
                &obj.name_any(),
            );
        }
    }
}

#[cfg(test)]
#[path = "kinds_tests.rs"]
mod tests;
