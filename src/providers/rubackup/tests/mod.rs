//! The adapters end to end against the simulator, in process: a `TestWorld` whose provider
//! configuration points at a running `RuBackupSim`.

mod engine;
mod example;
mod faults;
mod guesses;
mod oneshot;
mod ownership;
mod policy;
mod session;
mod steady_state;
mod strategy;
mod vault;

use std::sync::Arc;

use crate::api::common::LocalObjectRef;
use crate::api::common::{ManagedFields, ProviderConfigKind, ProviderConfigRef};
use crate::api::provider_config::{ApiBudget, ProviderConfigCommon, ProviderType};
use crate::api::vendors::rubackup::{
    RuBackupCopySettings, RuBackupNotifications, RuBackupNotify, RuBackupObsoleteCopies,
    RuBackupProviderSettings, RuBackupValidity, RuBackupVault, RuBackupVerify,
};
use crate::api::{Vault, VaultSpec};
use crate::engine::annotations::EXTERNAL_NAME;
use crate::engine::context::EngineSettings;
use crate::engine::errors::Backoff;
use crate::engine::external::{CallContext, External, ExternalError, Observation};
use crate::engine::hub::{ProviderKey, VendorRuntime};
use crate::engine::managed::Managed;
use crate::engine::refs::{RefKey, RefTarget};
use crate::engine::testkit::{Engine, TestWorld};
use crate::simulators::rubackup::{RuBackupSim, SimConfig};
use crate::vendor::error::ErrorKind;
use kube::ResourceExt;

pub const USER: &str = "rampart";
pub const PASSWORD: &str = "Testing12345";
pub const NS: &str = "test";

/// A simulator, and a world whose provider configuration `rb` points at it.
pub struct Rig {
    pub sim: RuBackupSim,
    pub world: TestWorld,
    pub key: ProviderKey,
    settings: RuBackupProviderSettings,
    /// `requestTimeoutSeconds` of the provider configuration.
    pub request_timeout_seconds: i32,
    /// `pollIntervalSeconds`: how long the shared copies of the collections are used.
    pub poll_interval_seconds: i32,
    /// The Vaults `add_vault_ref` made, for the API server in memory of `engine`.
    vaults: Vec<Vault>,
}

pub fn provider_ref() -> ProviderConfigRef {
    ProviderConfigRef {
        kind: ProviderConfigKind::ProviderConfig,
        name: "rb".into(),
    }
}

pub fn managed() -> ManagedFields {
    ManagedFields {
        provider_config_ref: provider_ref(),
        ..Default::default()
    }
}

impl Rig {
    pub async fn new() -> Rig {
        Rig::with(
            SimConfig::new(&[(USER, PASSWORD)]),
            PASSWORD,
            RuBackupProviderSettings::default(),
        )
        .await
    }

    pub async fn with(
        config: SimConfig,
        password: &str,
        settings: RuBackupProviderSettings,
    ) -> Rig {
        let sim = RuBackupSim::start(config, "127.0.0.1:0".parse().unwrap())
            .await
            .expect("simulator starts");
        let key = ProviderKey {
            kind: ProviderConfigKind::ProviderConfig,
            namespace: Some(NS.into()),
            name: "rb".into(),
        };
        let rig = Rig {
            sim,
            world: crate::providers::test_world(),
            key,
            settings,
            request_timeout_seconds: 30,
            poll_interval_seconds: 300,
            vaults: Vec::new(),
        };
        rig.set_password(password);
        rig
    }

    /// (Re)configure the provider with this password: the hub builds a new runtime.
    pub fn set_password(&self, password: &str) {
        let spec = ProviderConfigCommon {
            request_timeout_seconds: self.request_timeout_seconds,
            type_: ProviderType::RuBackup,
            endpoint: self.sim.url(),
            credentials: None,
            ca_bundle: None,
            insecure_skip_verify: false,
            budget: ApiBudget {
                qps: 1000.0,
                burst: 1000,
                max_in_flight: 16,
            },
            poll_interval_seconds: self.poll_interval_seconds,
            huawei_cbr: None,
            ru_backup: Some(self.settings.clone()),
            cyber_backup: None,
            ideco: None,
            rs_server: None,
        };
        self.world.source.set(
            self.key.clone(),
            spec,
            &[("username", USER), ("password", password)],
        );
    }

    pub async fn runtime(&self) -> Arc<dyn VendorRuntime> {
        self.world
            .hub
            .runtime(&self.key)
            .await
            .expect("runtime connects")
    }

    /// A call context that reads cached collections.
    pub fn ctx(&self) -> CallContext<'_> {
        self.world.ctx("marker", false, None)
    }

    /// A call context that re-lists (as after a vendor-side change the poll has not seen yet).
    pub fn fresh(&self) -> CallContext<'_> {
        self.world.ctx("marker", true, None)
    }

    /// Make a Vault CR named `name` asking for pool `pool`, with external name `id`,
    /// resolvable by reference.
    pub fn add_vault_ref(&mut self, name: &str, pool: &str, id: Option<i64>, field: &'static str) {
        let mut vault = vault_cr(name, pool_spec(pool));
        if let Some(id) = id {
            vault.metadata.annotations = Some([(EXTERNAL_NAME.to_string(), id.to_string())].into());
        }
        let key = RefKey {
            kind: "Vault",
            name: name.into(),
            field,
        };
        self.world
            .refs
            .insert(&key, RefTarget::object(Arc::new(vault.clone())));
        self.vaults.push(vault);
    }

    /// The real reconciler over this rig's provider configuration, with an API server in
    /// memory that holds the Vaults `add_vault_ref` made.
    pub fn engine(&self) -> Engine {
        let engine = self.world.engine(EngineSettings {
            cluster_id: "rb-tests".into(),
            backoff: Backoff::default(),
            pending_requeue: std::time::Duration::from_secs(1),
            clock: Default::default(),
        });
        for v in &self.vaults {
            engine.apply(v);
        }
        engine
    }

    /// Writes the simulator accepted whose request line starts with `prefix`.
    pub fn writes(&self, prefix: &str) -> Vec<serde_json::Value> {
        self.sim
            .sim
            .journal()
            .into_iter()
            .filter(|(r, _)| r.starts_with(prefix))
            .map(|(_, b)| b)
            .collect()
    }
}

pub fn pool_spec(name: &str) -> RuBackupVault {
    RuBackupVault {
        name: name.into(),
        pool_type: "File system".into(),
        media_server: "rubackup-server".into(),
        ..Default::default()
    }
}

pub fn vault_cr(name: &str, rb: RuBackupVault) -> Vault {
    let mut v = Vault::new(
        name,
        VaultSpec {
            managed: managed(),
            huawei_cbr: None,
            ru_backup: Some(rb),
            cyber_backup: None,
        },
    );
    v.metadata.namespace = Some(NS.into());
    v
}

pub fn vault_ref(name: &str) -> LocalObjectRef {
    LocalObjectRef { name: name.into() }
}

/// The spec field an InvalidSpec names, or the kind of a vendor error, for assertions.
pub fn invalid_field(e: &ExternalError) -> Option<&str> {
    match e {
        ExternalError::InvalidSpec { field, .. } => Some(field),
        _ => None,
    }
}

pub fn vendor_kind(e: &ExternalError) -> Option<ErrorKind> {
    match e {
        ExternalError::Vendor(v) => Some(v.kind),
        _ => None,
    }
}

impl Rig {
    /// A rig whose Vaults `main` and `archive` are the pools `k8s-main` and `k8s-archive`.
    pub async fn with_pools() -> Rig {
        let mut rig = Rig::new().await;
        for (vault, pool) in [("main", "k8s-main"), ("archive", "k8s-archive")] {
            let fields = serde_json::json!({"pool_name": pool, "pool_type": "File system", "media_server": "rubackup-server"});
            let id = rig.sim.sim.insert("pool_list", fields).unwrap();
            rig.add_vault_ref(vault, pool, Some(id), "spec.vaultRef");
        }
        rig
    }

    /// Forget the counters and writes so far.
    pub fn reset(&self) {
        self.sim.server.control.reset_counters();
        self.sim.sim.clear_journal();
    }

    /// An object as the simulator stores it.
    pub fn stored(&self, table: &str, id: &str) -> serde_json::Value {
        self.sim
            .sim
            .get(table, id.parse().expect("numeric id"))
            .unwrap_or_else(|| panic!("{table}/{id} exists"))
    }
}

/// Create through the adapter; the new vendor id.
pub async fn create<K: Managed>(adapter: &dyn External<K>, cr: &K, rig: &Rig) -> String {
    adapter
        .create(cr, &rig.ctx())
        .await
        .expect("create")
        .external_name
}

/// Observe: the object exists and matches the spec.
pub async fn in_sync<K: Managed>(
    adapter: &dyn External<K>,
    cr: &K,
    id: &str,
    ctx: &CallContext<'_>,
) -> Observation<K::Observation> {
    let obs = adapter.observe(cr, Some(id), ctx).await.expect("observe");
    assert!(obs.exists, "{id} exists");
    assert!(obs.drift.is_empty(), "no drift: {:?}", obs.drift);
    obs
}

/// Correct what differs as the operator does: `cr`, naming the vendor object `id`, stored in
/// `engine`'s API server and reconciled once by the real reconciler.
pub async fn correct<K: Managed>(engine: &Engine, cr: &K, id: &str) {
    let mut named = cr.clone();
    named
        .annotations_mut()
        .insert(EXTERNAL_NAME.into(), id.into());
    let stored = engine.apply(&named);
    engine
        .reconcile(&stored)
        .await
        .unwrap_or_else(|(e, _)| panic!("reconcile: {e}"));
}

/// One change of a spec, and the PATCH body it must produce.
pub struct Change<K> {
    pub what: &'static str,
    pub apply: Box<dyn Fn(&mut K)>,
    pub body: serde_json::Value,
}

pub fn change<K>(
    what: &'static str,
    apply: impl Fn(&mut K) + 'static,
    body: serde_json::Value,
) -> Change<K> {
    Change {
        what,
        apply: Box::new(apply),
        body,
    }
}

/// For each change of `base` (in sync at the vendor as `id`): the adapter reports drift, the
/// real reconciler corrects it with exactly one `PATCH {collection}/{id}` with exactly the
/// expected body, in sync afterwards; then back.
pub async fn assert_minimal_patches<K: Managed>(
    adapter: &dyn External<K>,
    rig: &Rig,
    id: &str,
    base: &K,
    collection: &str,
    changes: Vec<Change<K>>,
) {
    let engine = rig.engine();
    for c in changes {
        let mut changed = base.clone();
        (c.apply)(&mut changed);
        let seen = adapter
            .observe(&changed, Some(id), &rig.ctx())
            .await
            .expect("observe");
        assert!(!seen.drift.is_empty(), "{}: no drift", c.what);
        rig.reset();
        correct(&engine, &changed, id).await;
        assert_eq!(
            rig.sim.count(&format!("PATCH {collection}/{{id}}")),
            1,
            "{}",
            c.what
        );
        assert_eq!(
            rig.writes(&format!("PATCH {collection}/")),
            [c.body],
            "{}",
            c.what
        );
        in_sync(adapter, &changed, id, &rig.ctx()).await;
        correct(&engine, base, id).await;
        in_sync(adapter, base, id, &rig.ctx()).await;
    }
}

/// Changes of the copy settings a strategy and a global schedule rule share, and the PATCH
/// fields each must produce; `wrap` puts the fields into the kind's body.
pub fn copy_changes<K: 'static>(
    copies: fn(&mut K) -> &mut RuBackupCopySettings,
    validity_key: &'static str,
    wrap: fn(serde_json::Value) -> serde_json::Value,
) -> Vec<Change<K>> {
    use serde_json::json;
    let notify = RuBackupNotify {
        group: Some("Operators".into()),
        cc: Some("ops@example.org".into()),
    };
    let settings: Vec<(&'static str, RuBackupCopySettings, serde_json::Value)> = vec![
        (
            "storage capacity",
            RuBackupCopySettings {
                storage_capacity: Some(5),
                ..Default::default()
            },
            json!({"storage_capacity": 5}),
        ),
        (
            "validity",
            RuBackupCopySettings {
                validity: Some(RuBackupValidity {
                    start: Some("2025-01-01".into()),
                    end: Some("2035-01-01T12:00".into()),
                }),
                ..Default::default()
            },
            json!({"validity_start_period": "2025-01-01T00:00:00", "validity_end_period": "2035-01-01T12:00:00"}),
        ),
        (
            "verification",
            RuBackupCopySettings {
                verify: Some(RuBackupVerify {
                    enabled: Some(true),
                    interval: Some("1 week".into()),
                }),
                ..Default::default()
            },
            json!({"verify_flag": true, "verify_interval": "7 days"}),
        ),
        (
            "obsolete copies",
            RuBackupCopySettings {
                obsolete_copies: Some(RuBackupObsoleteCopies {
                    auto_delete: Some(true),
                    inform_group: Some("Operators".into()),
                }),
                ..Default::default()
            },
            json!({"auto_delete_obsoleted_copy_flag": true, "inform_when_obsoleted_copy": "Operators"}),
        ),
        (
            "client delete",
            RuBackupCopySettings {
                client_delete_allowed: Some(false),
                ..Default::default()
            },
            json!({"client_delete_flag": false}),
        ),
        (
            "notifications",
            RuBackupCopySettings {
                notifications: Some(RuBackupNotifications {
                    validity: Some(notify),
                    ..Default::default()
                }),
                ..Default::default()
            },
            json!({ validity_key: "Operators", format!("{validity_key}_cc"): "ops@example.org" }),
        ),
    ];
    settings
        .into_iter()
        .map(|(what, value, fields)| {
            change(
                what,
                move |k: &mut K| *copies(k) = value.clone(),
                wrap(fields),
            )
        })
        .collect()
}

/// Observe: the object is gone.
pub async fn gone<K: Managed>(adapter: &dyn External<K>, cr: &K, id: &str, ctx: &CallContext<'_>) {
    assert!(
        !adapter
            .observe(cr, Some(id), ctx)
            .await
            .expect("observe")
            .exists,
        "{id} is gone"
    );
}
