//! Re-reconcile what depends on a change: a ProviderConfig's spec or its Secret changed → every
//! object using it (and the ProviderConfig itself, for a Secret). References between managed
//! objects are woken by `kinds`. Status-only changes trigger nothing, so a steady state stays
//! quiet. Every trigger reads a subscriber of a shared reflector: no watch of its own.

use std::collections::HashMap;
use std::sync::Arc;

use futures::channel::mpsc::{UnboundedReceiver, UnboundedSender, unbounded};
use futures::{Stream, StreamExt};
use k8s_openapi::api::core::v1::Secret;
use kube::core::PartialObjectMeta;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Resource, ResourceExt};
use tracing::debug;

use super::kinds::Kinds;
use super::provider_config::ProviderConfigResource;
use super::source::secret_location;
use crate::api::{ClusterProviderConfig, ProviderConfig};
use crate::engine::hub::ProviderKey;

/// A queue of objects of one kind to reconcile.
pub struct Trigger<K: Resource<DynamicType = ()>> {
    tx: UnboundedSender<ObjectRef<K>>,
}

impl<K: Resource<DynamicType = ()>> Clone for Trigger<K> {
    fn clone(&self) -> Self {
        Trigger {
            tx: self.tx.clone(),
        }
    }
}

impl<K: Resource<DynamicType = ()>> Trigger<K> {
    pub fn new() -> (Self, UnboundedReceiver<ObjectRef<K>>) {
        let (tx, rx) = unbounded();
        (Trigger { tx }, rx)
    }

    pub fn send(&self, r: ObjectRef<K>) {
        let _ = self.tx.unbounded_send(r);
    }
}

/// The provider configurations' caches and queues.
#[derive(Clone)]
pub struct ProviderConfigs {
    pub namespaced: (Store<ProviderConfig>, Trigger<ProviderConfig>),
    pub cluster: (Store<ClusterProviderConfig>, Trigger<ClusterProviderConfig>),
}

impl ProviderConfigs {
    /// Every configuration (namespaced or cluster) whose credentials live in `ns/name`; each is
    /// queued for its own reconcile too.
    fn using_secret(&self, ns: &str, name: &str) -> Vec<ProviderKey> {
        fn matching<P: ProviderConfigResource>(
            (store, trigger): &(Store<P>, Trigger<P>),
            ns: &str,
            name: &str,
        ) -> Vec<ProviderKey> {
            store
                .state()
                .iter()
                .filter(|pc| {
                    matches!(secret_location(&pc.key(), pc.common()),
                        Ok(Some((sns, sname))) if sns == ns && sname == name)
                })
                .map(|pc| {
                    trigger.send(ObjectRef::from_obj(pc.as_ref()));
                    pc.key()
                })
                .collect()
        }
        let mut keys = matching(&self.namespaced, ns, name);
        keys.extend(matching(&self.cluster, ns, name));
        keys
    }
}

/// Calls `on_change` for each object whose fingerprint changed (including the first sight).
async fn on_fingerprint_change<K, F, P>(
    objects: impl Stream<Item = Arc<K>>,
    print: P,
    mut on_change: F,
) where
    K: Resource<DynamicType = ()>,
    P: Fn(&K) -> String,
    F: FnMut(&K),
{
    let mut seen: HashMap<String, String> = HashMap::new();
    futures::pin_mut!(objects);
    while let Some(obj) = objects.next().await {
        let uid = obj.meta().uid.clone().unwrap_or_default();
        let fp = print(&obj);
        if seen.insert(uid, fp.clone()).as_ref() != Some(&fp) {
            on_change(&obj);
        }
    }
}

/// A configuration's new spec reconnects it: wake every object that uses it.
pub async fn wake_users_on_change<P: ProviderConfigResource>(
    configs: impl Stream<Item = Arc<P>>,
    kinds: Arc<Kinds>,
) {
    on_fingerprint_change(
        configs,
        |pc| pc.meta().generation.unwrap_or_default().to_string(),
        |pc: &P| {
            let key = pc.key();
            let n = kinds.wake_users(&key);
            debug!(provider = %key, objects = n, "provider configuration changed; re-reconciling its users");
        },
    )
    .await
}

/// A Secret's new version reconnects the configurations that read it: wake them and their users.
/// The first sight of a Secret is not a change.
pub async fn wake_users_on_secret_change(
    secrets: impl Stream<Item = Arc<PartialObjectMeta<Secret>>>,
    configs: ProviderConfigs,
    kinds: Arc<Kinds>,
) {
    let mut seen: HashMap<String, String> = HashMap::new();
    futures::pin_mut!(secrets);
    while let Some(meta) = secrets.next().await {
        let ns = meta.namespace().unwrap_or_default();
        let name = meta.name_any();
        let rv = meta.resource_version().unwrap_or_default();
        let changed = seen
            .insert(format!("{ns}/{name}"), rv.clone())
            .is_some_and(|old| old != rv);
        if changed {
            for key in configs.using_secret(&ns, &name) {
                kinds.wake_users(&key);
            }
        }
    }
}
