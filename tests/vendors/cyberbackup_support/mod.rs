//! A Cyber Backup simulator and a TestWorld connected to it, for the in-process adapter tests.

#![allow(dead_code)]

use std::sync::Arc;

use kube::ResourceExt;
use rampart::api::common::{ManagedStatus, ProviderConfigKind};
use rampart::api::provider_config::ProviderConfigCommon;
use rampart::api::{Policy, PolicySpec, Vault, VaultSpec};
use rampart::engine::annotations::EXTERNAL_NAME;
use rampart::engine::context::EngineSettings;
use rampart::engine::errors::Backoff;
use rampart::engine::external::{CallContext, External, Observation};
use rampart::engine::hub::{CredentialSet, ProviderKey, SecretString, VendorRuntime};
use rampart::engine::managed::Managed;
use rampart::engine::refs::{RefKey, RefTarget};
use rampart::engine::testkit::TestWorld;
use rampart::simulators::cyberbackup::{CyberBackupSim, SimConfig};
use serde_json::{Value, json};

/// The cluster id of `Env::correct`'s reconciler.
pub const CLUSTER_ID: &str = "cb-tests";

/// The ownership marker that reconciler gives the Policy prod/nightly (every Policy here), so
/// that the adapter calls of a test and the reconciler agree whose a plan is.
pub fn marker() -> String {
    rampart::engine::marker::ownership_marker(CLUSTER_ID, "Policy", "prod", "nightly")
}

pub struct Env {
    pub sim: CyberBackupSim,
    pub world: TestWorld,
    pub key: ProviderKey,
    marker: String,
    /// What `add_vault_ref` and `add_secret` resolved, for the API server in memory of
    /// `correct`'s reconciler.
    vaults: Vec<Vault>,
    secrets: Vec<(String, Vec<(String, String)>)>,
}

pub fn provider_spec(url: &str, page_size: i32) -> ProviderConfigCommon {
    serde_json::from_value::<ProviderConfigCommon>(json!({
        "type": "CyberBackup",
        "endpoint": url,
        "pollIntervalSeconds": 300,
        "budget": {"qps": 1000.0, "burst": 1000, "maxInFlight": 16},
        "cyberBackup": {"pageSize": page_size}
    }))
    .unwrap()
}

impl Env {
    pub async fn start() -> Env {
        Env::with(SimConfig::default(), 100).await
    }

    pub async fn with(config: SimConfig, page_size: i32) -> Env {
        let sim = CyberBackupSim::start("127.0.0.1:0".parse().unwrap(), config)
            .await
            .unwrap();
        let world = rampart::providers::test_world();
        let key = ProviderKey {
            kind: ProviderConfigKind::ProviderConfig,
            namespace: Some("prod".into()),
            name: "cb".into(),
        };
        world.source.set(
            key.clone(),
            provider_spec(&sim.url(), page_size),
            &[("username", "admin"), ("password", "admin-password")],
        );
        Env {
            sim,
            world,
            key,
            marker: marker(),
            vaults: Vec::new(),
            secrets: Vec::new(),
        }
    }

    /// A second operator (a restart): same simulator, nothing cached, the `store` Vault
    /// resolved.
    pub fn restarted(&self, page_size: i32) -> TestWorld {
        let mut world = rampart::providers::test_world();
        put_vault(&mut world, &store());
        world.source.set(
            self.key.clone(),
            provider_spec(&self.sim.url(), page_size),
            &[("username", "admin"), ("password", "admin-password")],
        );
        world
    }

    pub async fn runtime(&self) -> Arc<dyn VendorRuntime> {
        self.world.hub.runtime(&self.key).await.unwrap()
    }

    pub fn ctx<'a>(&'a self, fresh: bool, hash: Option<&'a str>) -> CallContext<'a> {
        self.world.ctx(&self.marker, fresh, hash)
    }

    /// Create through the adapter; the external name.
    pub async fn create<K: Managed>(&self, a: &dyn External<K>, cr: &K) -> String {
        a.create(cr, &self.ctx(false, None))
            .await
            .unwrap()
            .external_name
    }

    /// Observe by external name, from the snapshot.
    pub async fn observe<K: Managed>(
        &self,
        a: &dyn External<K>,
        cr: &K,
        id: &str,
    ) -> Observation<K::Observation> {
        a.observe(cr, Some(id), &self.ctx(false, None))
            .await
            .unwrap()
    }

    /// Observe by external name, listing the vendor again (as after a poll interval).
    pub async fn observe_fresh<K: Managed>(
        &self,
        a: &dyn External<K>,
        cr: &K,
        id: &str,
    ) -> Observation<K::Observation> {
        a.observe(cr, Some(id), &self.ctx(true, None))
            .await
            .unwrap()
    }

    pub async fn update<K: Managed>(
        &self,
        a: &dyn External<K>,
        cr: &K,
        id: &str,
        o: &Observation<K::Observation>,
    ) {
        a.update(cr, id, o, &self.ctx(false, None)).await.unwrap()
    }

    /// Observe, check the drift reported, and correct it as the operator does (the real
    /// reconciler, once, over `cr` naming `id`, with an API server in memory holding the
    /// Vaults and Secrets this Env resolves): the writes the correction took.
    pub async fn correct<K: Managed>(
        &self,
        a: &dyn External<K>,
        cr: &K,
        id: &str,
        drift: &[&str],
    ) -> Vec<(String, u64)> {
        let o = self.observe(a, cr, id).await;
        assert_eq!(drift_fields(&o), drift);
        let engine = self.world.engine(EngineSettings {
            cluster_id: CLUSTER_ID.into(),
            backoff: Backoff::default(),
            pending_requeue: std::time::Duration::from_secs(1),
            clock: Default::default(),
        });
        for v in &self.vaults {
            engine.apply(v);
        }
        for (name, pairs) in &self.secrets {
            let pairs: Vec<(&str, &str)> = pairs
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            engine.cluster.put_secret("prod", name, &pairs);
        }
        let mut named = cr.clone();
        named
            .annotations_mut()
            .insert(EXTERNAL_NAME.into(), id.into());
        let stored = engine.apply(&named);
        self.sim.control().reset_counters();
        engine
            .reconcile(&stored)
            .await
            .unwrap_or_else(|(e, _)| panic!("reconcile: {e}"));
        self.writes()
    }

    pub fn count(&self, op: &str) -> u64 {
        self.sim.control().count(op)
    }

    /// Every counted request that writes (not a GET, not a login).
    pub fn writes(&self) -> Vec<(String, u64)> {
        self.sim
            .control()
            .counters()
            .into_iter()
            .filter(|(k, _)| !k.starts_with("GET ") && !k.contains("/idp/token"))
            .collect()
    }

    /// The id of a machine the simulator was seeded with.
    pub fn resource_id(&self, name: &str) -> String {
        let w = self.sim.state.world.lock().unwrap();
        w.resources
            .values()
            .find(|r| r.name == name)
            .map(|r| r.id.clone())
            .unwrap()
    }

    pub fn plan(&self, id: &str) -> Value {
        let w = self.sim.state.world.lock().unwrap();
        serde_json::to_value(&w.policies[id]).unwrap()
    }

    pub fn contexts_of(&self, id: &str) -> Vec<String> {
        let w = self.sim.state.world.lock().unwrap();
        let mut v: Vec<String> = w
            .applications
            .values()
            .filter(|a| a.policy_id == id)
            .map(|a| a.context_id.clone())
            .collect();
        v.sort();
        v
    }

    /// Record a Vault (with its external name) and its Secret as the engine would resolve them.
    pub fn add_vault_ref(&mut self, vault: &Vault) {
        put_vault(&mut self.world, vault);
        self.vaults.push(vault.clone());
    }

    pub fn add_secret(&mut self, name: &str, pairs: &[(&str, &str)]) {
        put_secret(&mut self.world, name, pairs);
        let pairs = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        self.secrets.push((name.into(), pairs.collect()));
    }
}

/// Resolve a Vault reference in a TestWorld, as the engine does.
pub fn put_vault(world: &mut TestWorld, vault: &Vault) {
    let key = RefKey {
        kind: "Vault",
        name: vault.metadata.name.clone().unwrap(),
        field: "spec.vaultRef",
    };
    world
        .refs
        .insert(&key, RefTarget::object(Arc::new(vault.clone())));
}

/// Resolve a Secret reference in a TestWorld, as the engine does.
pub fn put_secret(world: &mut TestWorld, name: &str, pairs: &[(&str, &str)]) {
    let key = RefKey {
        kind: "Secret",
        name: name.into(),
        field: "spec.cyberBackup.credentialsSecretRef",
    };
    let values = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), SecretString::new(*v)))
        .collect();
    world.refs.insert(
        &key,
        RefTarget::Secret(CredentialSet {
            source: format!("prod/{name}"),
            values,
        }),
    );
}

pub fn policy(name: &str, spec: Value) -> Policy {
    let mut full = json!({"providerConfigRef": {"name": "cb"}});
    rampart::providers::cyberbackup::settings::merge(&mut full, &spec);
    let spec: PolicySpec = serde_json::from_value(full).unwrap();
    let mut p = Policy::new(name, spec);
    p.metadata.namespace = Some("prod".into());
    p
}

pub fn vault(name: &str, block: Value, external: Option<&str>) -> Vault {
    let spec: VaultSpec =
        serde_json::from_value(json!({"providerConfigRef": {"name": "cb"}, "cyberBackup": block}))
            .unwrap();
    let mut v = Vault::new(name, spec);
    v.metadata.namespace = Some("prod".into());
    if let Some(e) = external {
        v.metadata.annotations = Some(
            [(
                rampart::engine::annotations::EXTERNAL_NAME.to_string(),
                e.to_string(),
            )]
            .into(),
        );
    }
    v
}

/// The destination most tests write to: a location without credentials, known by its name.
pub fn store() -> Vault {
    vault(
        "store",
        json!({"name": "customer-dg09", "uri": "E:"}),
        Some("customer-dg09"),
    )
}

pub fn policy_adapter(rt: &Arc<dyn VendorRuntime>) -> &dyn External<Policy> {
    rt.adapters()
        .get::<rampart::api::Policy>()
        .expect("Cyber Backup has policies")
}

pub fn vault_adapter(rt: &Arc<dyn VendorRuntime>) -> &dyn External<Vault> {
    rt.adapters()
        .get::<rampart::api::Vault>()
        .expect("Cyber Backup has vaults")
}

pub fn drift_fields<A>(o: &rampart::engine::external::Observation<A>) -> Vec<String> {
    o.drift.iter().map(|d| d.field.clone()).collect()
}

/// Put an observation into a Policy's status, as the engine does after an observe.
pub fn record_status(p: &mut Policy, at: rampart::api::policy::PolicyObservation) {
    p.status = Some(ManagedStatus {
        at_provider: Some(at),
        ..Default::default()
    });
}
