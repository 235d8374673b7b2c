//! Re-reconcile what depends on a change: a ProviderConfig's spec or its Secret changed → every
//! object using it (and the ProviderConfig itself, for a Secret); a Vault or Policy got its
//! external name or a new spec → the objects that refer to it. Status-only changes trigger
//! nothing, so a steady state stays quiet.

use std::collections::HashMap;
use std::sync::Arc;

use futures::StreamExt;
use futures::channel::mpsc::{UnboundedReceiver, UnboundedSender, unbounded};
use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use kube::core::PartialObjectMeta;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Resource, ResourceExt};
use tracing::debug;

use super::source::secret_location;
use crate::api::common::ProviderConfigKind;
use crate::api::provider_config::ProviderConfigCommon;
use crate::api::{ClusterProviderConfig, FirewallRule, Policy, ProviderConfig, Strategy, Vault};
use crate::engine::annotations::EXTERNAL_NAME;
use crate::engine::hub::ProviderKey;
use crate::engine::managed::Managed;

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

    fn send(&self, r: ObjectRef<K>) {
        let _ = self.tx.unbounded_send(r);
    }
}

/// The caches and queues the dependency watcher works with.
#[derive(Clone)]
pub struct Dependents {
    pub vaults: (Store<Vault>, Trigger<Vault>),
    pub policies: (Store<Policy>, Trigger<Policy>),
    pub strategies: (Store<Strategy>, Trigger<Strategy>),
    pub firewall_rules: (Store<FirewallRule>, Trigger<FirewallRule>),
    pub provider_configs: (Store<ProviderConfig>, Trigger<ProviderConfig>),
    pub cluster_provider_configs: (Store<ClusterProviderConfig>, Trigger<ClusterProviderConfig>),
}

fn users_of<K: Managed>(store: &Store<K>, trigger: &Trigger<K>, key: &ProviderKey) -> usize {
    let mut n = 0;
    for obj in store.state() {
        let ns = obj.namespace().unwrap_or_default();
        if obj
            .provider_refs()
            .iter()
            .any(|r| &ProviderKey::for_ref(&ns, r) == key)
        {
            trigger.send(ObjectRef::from_obj(obj.as_ref()));
            n += 1;
        }
    }
    n
}

fn referrers_of<K: Managed>(
    store: &Store<K>,
    trigger: &Trigger<K>,
    ns: &str,
    kind: &str,
    name: &str,
) {
    for obj in store.state() {
        if obj.namespace().as_deref() == Some(ns)
            && obj
                .references()
                .iter()
                .any(|r| r.kind == kind && r.name == name)
        {
            trigger.send(ObjectRef::from_obj(obj.as_ref()));
        }
    }
}

impl Dependents {
    /// Reconcile every object that uses the provider configuration `key`.
    pub fn provider_changed(&self, key: &ProviderKey) {
        let n = users_of(&self.vaults.0, &self.vaults.1, key)
            + users_of(&self.policies.0, &self.policies.1, key)
            + users_of(&self.strategies.0, &self.strategies.1, key)
            + users_of(&self.firewall_rules.0, &self.firewall_rules.1, key);
        debug!(provider = %key, objects = n, "provider configuration changed; re-reconciling its users");
    }

    /// Every configuration (namespaced or cluster) whose credentials live in `ns/name`.
    fn configs_using_secret(&self, ns: &str, name: &str) -> Vec<ProviderKey> {
        let matches = |key: &ProviderKey, spec: &ProviderConfigCommon| matches!(secret_location(key, spec), Ok(Some((sns, sname))) if sns == ns && sname == name);
        let mut keys = Vec::new();
        for pc in self.provider_configs.0.state() {
            let key = ProviderKey {
                kind: ProviderConfigKind::ProviderConfig,
                namespace: pc.namespace(),
                name: pc.name_any(),
            };
            if matches(&key, &pc.spec.common) {
                self.provider_configs
                    .1
                    .send(ObjectRef::from_obj(pc.as_ref()));
                keys.push(key);
            }
        }
        for pc in self.cluster_provider_configs.0.state() {
            let key = ProviderKey {
                kind: ProviderConfigKind::ClusterProviderConfig,
                namespace: None,
                name: pc.name_any(),
            };
            if matches(&key, &pc.spec.common) {
                self.cluster_provider_configs
                    .1
                    .send(ObjectRef::from_obj(pc.as_ref()));
                keys.push(key);
            }
        }
        keys
    }
}

/// What about an object makes its dependents care.
fn fingerprint<K: Resource>(obj: &K) -> (i64, Option<String>) {
    (
        obj.meta().generation.unwrap_or_default(),
        obj.annotations().get(EXTERNAL_NAME).cloned(),
    )
}

/// Watch `api` and call `on_change` for each object whose fingerprint changed.
async fn watch_changes<K, F, P>(api: Api<K>, print: P, mut on_change: F)
where
    K: Resource<DynamicType = ()>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + 'static,
    P: Fn(&K) -> String,
    F: FnMut(&K),
{
    let mut seen: HashMap<String, String> = HashMap::new();
    let stream = watcher(api, watcher::Config::default())
        .default_backoff()
        .touched_objects();
    futures::pin_mut!(stream);
    // A watch error (an API server restart) is retried by the backoff; only the end of the
    // stream ends the loop.
    while let Some(item) = stream.next().await {
        let Ok(obj) = item else { continue };
        let uid = obj.meta().uid.clone().unwrap_or_default();
        let fp = print(&obj);
        if seen.insert(uid, fp.clone()).as_ref() != Some(&fp) {
            on_change(&obj);
        }
    }
}

/// Run the dependency watches until the process stops. `namespace` limits them in
/// namespaces-only mode.
pub async fn run(client: Client, namespace: Option<String>, deps: Arc<Dependents>) {
    let ns_api = |c: &Client| -> Api<PartialObjectMeta<Secret>> {
        match &namespace {
            Some(ns) => Api::namespaced(c.clone(), ns),
            None => Api::all(c.clone()),
        }
    };
    let secrets = {
        let deps = deps.clone();
        let api = ns_api(&client);
        async move {
            let mut seen: HashMap<String, String> = HashMap::new();
            let stream = watcher(api, watcher::Config::default())
                .default_backoff()
                .touched_objects();
            futures::pin_mut!(stream);
            while let Some(item) = stream.next().await {
                let Ok(meta) = item else { continue };
                let key = format!(
                    "{}/{}",
                    meta.namespace().unwrap_or_default(),
                    meta.name_any()
                );
                let rv = meta.resource_version().unwrap_or_default();
                let changed = seen.insert(key, rv.clone()).is_some_and(|old| old != rv);
                if changed {
                    for pk in deps.configs_using_secret(
                        &meta.namespace().unwrap_or_default(),
                        &meta.name_any(),
                    ) {
                        deps.provider_changed(&pk);
                    }
                }
            }
        }
    };
    let pcs = {
        let deps = deps.clone();
        let api: Api<ProviderConfig> = namespaced_or_all(&client, &namespace);
        async move {
            watch_changes(
                api,
                |o| o.meta().generation.unwrap_or_default().to_string(),
                |pc: &ProviderConfig| {
                    deps.provider_changed(&ProviderKey {
                        kind: ProviderConfigKind::ProviderConfig,
                        namespace: pc.namespace(),
                        name: pc.name_any(),
                    })
                },
            )
            .await
        }
    };
    let cpcs = {
        let deps = deps.clone();
        let api: Api<ClusterProviderConfig> = Api::all(client.clone());
        async move {
            watch_changes(
                api,
                |o| o.meta().generation.unwrap_or_default().to_string(),
                |pc: &ClusterProviderConfig| {
                    deps.provider_changed(&ProviderKey {
                        kind: ProviderConfigKind::ClusterProviderConfig,
                        namespace: None,
                        name: pc.name_any(),
                    })
                },
            )
            .await
        }
    };
    // A Vault's or a Policy's new spec or external name matters to the objects referring to it.
    let vaults = watch_referenced::<Vault, Policy>(
        namespaced_or_all(&client, &namespace),
        deps.policies.clone(),
    );
    let policies = watch_referenced::<Policy, Vault>(
        namespaced_or_all(&client, &namespace),
        deps.vaults.clone(),
    );
    futures::join!(secrets, pcs, cpcs, vaults, policies);
}

/// Re-reconcile the `R` objects that refer to a `K` object whenever that object's spec or
/// external name changes.
async fn watch_referenced<K: Managed, R: Managed>(api: Api<K>, referrers: (Store<R>, Trigger<R>)) {
    watch_changes(
        api,
        |o| format!("{:?}", fingerprint(o)),
        |obj: &K| {
            let ns = obj.namespace().unwrap_or_default();
            referrers_of(&referrers.0, &referrers.1, &ns, K::KIND, &obj.name_any());
        },
    )
    .await
}

fn namespaced_or_all<K>(client: &Client, namespace: &Option<String>) -> Api<K>
where
    K: Resource<DynamicType = (), Scope = kube::core::NamespaceResourceScope>,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}
