//! Shared by the Ideco integration tests: a simulator, a TestWorld whose hub connects to it, and
//! the real reconciler (with an API server in memory) driving the FirewallRules, its adapter
//! tapped so a test can see what was observed before the reconciler acted.

#![allow(dead_code)]

use std::sync::Arc;

use rampart::api::common::{ManagedFields, ProviderConfigKind, ProviderConfigRef};
use rampart::api::firewall_rule::FirewallRuleObservation;
use rampart::api::provider_config::ProviderConfigCommon;
use rampart::api::vendors::ideco::{IdecoFirewallRule, IdecoSection};
use rampart::api::{FirewallRule, FirewallRuleSpec};
use rampart::engine::annotations::{CREATE_PENDING, EXTERNAL_NAME};
use rampart::engine::context::EngineSettings;
use rampart::engine::errors::Error;
use rampart::engine::external::{ExternalResult, Observation};
use rampart::engine::hub::{ProviderKey, ResolvedProvider, VendorRuntime, downcast};
use rampart::engine::marker::ownership_marker;
use rampart::engine::testkit::{Engine, Observed, TappedRuntime, TestWorld};
use rampart::providers::ideco::{IdecoDevice, IdecoRuntime};
use rampart::simulators::harness::SimServer;
use rampart::simulators::ideco::{self, IdecoSim, IdecoSimOptions};
use serde_json::{Value, json};

pub const NAMESPACE: &str = "team";

pub struct Fixture {
    pub server: SimServer,
    pub sim: IdecoSim,
    pub world: TestWorld,
    pub key: ProviderKey,
    pub engine: Engine,
    pub observed: Observed<FirewallRule>,
}

/// The cluster id of the fixture's engine (part of every marker).
pub const CLUSTER_ID: &str = "test-cluster";

impl Fixture {
    pub async fn start() -> Self {
        Self::with_password(&IdecoSimOptions::default().password).await
    }

    /// A simulator with the default administrator, and a provider configuration whose Secret
    /// holds `password`.
    pub async fn with_password(password: &str) -> Self {
        let options = IdecoSimOptions::default();
        let (server, sim) = ideco::start("127.0.0.1:0".parse().unwrap(), options.clone())
            .await
            .unwrap();
        let observed = Observed::<FirewallRule>::default();
        let log = observed.clone();
        let world = TestWorld::new(Arc::new(move |p: &ResolvedProvider| {
            let inner = rampart::providers::connect(p)?;
            let tapped: Arc<dyn VendorRuntime> = Arc::new(TappedRuntime::new(inner, log.clone()));
            Ok(tapped)
        }));
        let key = ProviderKey {
            kind: ProviderConfigKind::ProviderConfig,
            namespace: Some(NAMESPACE.into()),
            name: "ngfw".into(),
        };
        let spec: ProviderConfigCommon = serde_json::from_value(json!({
            "type": "Ideco",
            "endpoint": server.url(),
            "budget": {"qps": 10000.0, "burst": 10000, "maxInFlight": 16},
            "pollIntervalSeconds": 60,
            "ideco": {}
        }))
        .unwrap();
        world.source.set(
            key.clone(),
            spec,
            &[("login", &options.login), ("password", password)],
        );
        let engine = world.engine(EngineSettings {
            cluster_id: CLUSTER_ID.into(),
            ..EngineSettings::default()
        });
        Fixture {
            server,
            sim,
            world,
            key,
            engine,
            observed,
        }
    }

    pub async fn runtime(&self) -> Arc<dyn VendorRuntime> {
        self.world.hub.runtime(&self.key).await.unwrap()
    }

    /// Count of one operation at the simulator (`"PATCH /firewall/rules/{section}/move"`).
    pub fn count(&self, operation: &str) -> u64 {
        self.server.control.count(operation)
    }

    pub fn moves(&self) -> u64 {
        self.count("PATCH /firewall/rules/{section}/move")
    }
}

pub fn ideco_runtime(rt: &Arc<dyn VendorRuntime>) -> &IdecoDevice {
    downcast::<IdecoRuntime>(rt)
        .expect("an Ideco runtime")
        .device()
}

/// A plain HTTP client, as a test in another process has one.
pub fn http_client() -> reqwest::Client {
    rampart::vendor::tls::install_crypto_provider();
    reqwest::Client::new()
}

/// The engine's marker for a FirewallRule of the test namespace: 16 hex characters.
pub fn marker_of(name: &str) -> String {
    ownership_marker(CLUSTER_ID, "FirewallRule", NAMESPACE, name)
}

/// A FirewallRule from the `ideco` block as JSON.
pub fn firewall_rule(name: &str, ideco: Value) -> FirewallRule {
    let block: IdecoFirewallRule = serde_json::from_value(ideco).unwrap();
    let spec = FirewallRuleSpec {
        managed: ManagedFields {
            provider_config_ref: ProviderConfigRef {
                kind: ProviderConfigKind::ProviderConfig,
                name: "ngfw".into(),
            },
            ..ManagedFields::default()
        },
        ideco: Some(block),
    };
    let mut cr = FirewallRule::new(name, spec);
    cr.metadata.namespace = Some(NAMESPACE.into());
    cr
}

/// A rule for `section` in block `block` with `priority`.
pub fn ordered_rule(
    name: &str,
    section: IdecoSection,
    block: Value,
    priority: i32,
) -> FirewallRule {
    let action = if section == IdecoSection::Log {
        "mark_log"
    } else {
        "accept"
    };
    let mut placement = block;
    placement["priority"] = json!(priority);
    firewall_rule(
        name,
        json!({"section": section.as_str(), "action": action, "comment": name, "placement": placement}),
    )
}

/// `n` rules `<prefix><i>` of one section and block, with priority `priority(i)`.
pub fn ordered_rules(
    prefix: &str,
    n: usize,
    section: IdecoSection,
    block: Value,
    priority: impl Fn(usize) -> i32,
) -> Vec<Tracked> {
    (0..n)
        .map(|i| {
            Tracked::new(ordered_rule(
                &format!("{prefix}{i}"),
                section,
                block.clone(),
                priority(i),
            ))
        })
        .collect()
}

/// One managed object as the engine tracks it.
pub struct Tracked {
    pub cr: FirewallRule,
    pub marker: String,
    pub external_name: Option<String>,
    /// Set before a create and cleared after it, as `rampart.dev/external-create-pending`.
    pub create_pending: bool,
}

impl Tracked {
    pub fn new(cr: FirewallRule) -> Self {
        let marker = marker_of(cr.metadata.name.as_deref().unwrap());
        Tracked {
            cr,
            marker,
            external_name: None,
            create_pending: false,
        }
    }

    pub fn id(&self) -> i64 {
        self.external_name
            .as_deref()
            .expect("created")
            .parse()
            .unwrap()
    }

    pub fn spec_mut(&mut self) -> &mut IdecoFirewallRule {
        self.cr.spec.ideco.as_mut().unwrap()
    }
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Step {
    Created,
    Updated,
    InSync,
}

/// One reconcile by the real reconciler: what it did (from its Events) and what the adapter saw
/// first. `t`'s external name and create-pending mark go in as annotations and come back out.
pub async fn reconcile(
    f: &Fixture,
    rt: &Arc<dyn VendorRuntime>,
    t: &mut Tracked,
) -> ExternalResult<Step> {
    Ok(reconcile_observed(f, rt, t).await?.0)
}

pub async fn reconcile_observed(
    f: &Fixture,
    _rt: &Arc<dyn VendorRuntime>,
    t: &mut Tracked,
) -> ExternalResult<(Step, Observation<FirewallRuleObservation>)> {
    let name = t.cr.metadata.name.clone().unwrap();
    let mut cr = t.cr.clone();
    cr.metadata.namespace = Some(NAMESPACE.into());
    let annotations = cr.metadata.annotations.get_or_insert_default();
    if let Some(id) = &t.external_name {
        annotations.insert(EXTERNAL_NAME.into(), id.clone());
    }
    if t.create_pending {
        // Long enough ago that a lost create could no longer land.
        let then = jiff::Timestamp::now() - jiff::SignedDuration::from_mins(5);
        annotations.insert(CREATE_PENDING.into(), then.to_string());
    }
    f.engine.apply(&cr);
    let before = f.engine.cluster.events(&name).len();
    f.observed.take();
    let result = f.engine.reconcile(&cr).await;
    let seen = f.observed.take().into_iter().next().unwrap_or_default();
    let stored = f.engine.get(&cr).expect("still stored");
    let annotation = |k: &str| {
        stored
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(k))
            .cloned()
    };
    t.external_name = annotation(EXTERNAL_NAME);
    t.create_pending = annotation(CREATE_PENDING).is_some();
    if let Err((e, _)) = result {
        return Err(match e {
            Error::External(e) => e,
            other => panic!("{name}: not an adapter error: {other}"),
        });
    }
    let events = f.engine.cluster.events(&name);
    let step = match events[before..]
        .iter()
        .map(|e| e.reason)
        .collect::<Vec<_>>()
    {
        r if r.contains(&"Created") => Step::Created,
        r if r.contains(&"Updated") => Step::Updated,
        _ => Step::InSync,
    };
    Ok((step, seen))
}

/// `kubectl delete` of the object, then the reconcile that deals with its vendor side.
pub async fn delete(f: &Fixture, t: &Tracked) {
    let mut cr = t.cr.clone();
    cr.metadata.namespace = Some(NAMESPACE.into());
    let name = cr.metadata.name.clone().unwrap();
    f.engine.cluster.delete::<FirewallRule>(NAMESPACE, &name);
    f.engine
        .reconcile(&cr)
        .await
        .unwrap_or_else(|(e, _)| panic!("{name}: {e}"));
}

/// Reconcile every object until a whole pass finds nothing to do; returns the passes taken.
pub async fn converge(f: &Fixture, rt: &Arc<dyn VendorRuntime>, objects: &mut [Tracked]) -> usize {
    for pass in 1..=10 {
        let mut quiet = true;
        for t in objects.iter_mut() {
            let step = reconcile(f, rt, t)
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", t.cr.metadata.name.as_deref().unwrap()));
            quiet &= step == Step::InSync;
        }
        if quiet {
            return pass;
        }
    }
    panic!("did not converge in 10 passes");
}

/// The comments of a section, in order.
pub fn comments(sim: &IdecoSim, section: IdecoSection) -> Vec<String> {
    sim.rules(section)
        .iter()
        .map(|r| r["comment"].as_str().unwrap().to_string())
        .collect()
}

/// Add `n` rules of people to `section`, named `<prefix>-<i>`, at the end of the table.
pub fn add_people_rules(sim: &IdecoSim, section: IdecoSection, prefix: &str, n: usize) -> Vec<i64> {
    (0..n)
        .map(|i| {
            sim.human_insert(section, json!({"comment": format!("{prefix}-{i}")}), None)
                .unwrap()
        })
        .collect()
}
