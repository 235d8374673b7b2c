//! Shared by the Ideco integration tests: a simulator, a TestWorld whose hub connects to it, and
//! a small stand-in for the engine's reconcile step (observe, then create or update).

#![allow(dead_code)]

use std::sync::Arc;

use rampart::api::common::{ManagedFields, ProviderConfigKind, ProviderConfigRef};
use rampart::api::firewall_rule::FirewallRuleObservation;
use rampart::api::provider_config::ProviderConfigCommon;
use rampart::api::vendors::ideco::{IdecoFirewallRule, IdecoSection};
use rampart::api::{FirewallRule, FirewallRuleSpec};
use rampart::engine::external::{ExternalResult, Observation};
use rampart::engine::hub::{ProviderKey, VendorRuntime, downcast};
use rampart::engine::testkit::TestWorld;
use rampart::providers::ideco::{IdecoDevice, IdecoRuntime};
use rampart::simulators::harness::SimServer;
use rampart::simulators::ideco::{self, IdecoSim, IdecoSimOptions};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub const NAMESPACE: &str = "team";

pub struct Fixture {
    pub server: SimServer,
    pub sim: IdecoSim,
    pub world: TestWorld,
    pub key: ProviderKey,
}

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
        let world = rampart::providers::test_world();
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
        Fixture {
            server,
            sim,
            world,
            key,
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
    let digest = Sha256::digest(format!("test-cluster/FirewallRule/{NAMESPACE}/{name}").as_bytes());
    hex::encode(digest)[..16].to_string()
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

/// One reconcile as the engine does it: observe; create when absent; update on drift.
pub async fn reconcile(
    f: &Fixture,
    rt: &Arc<dyn VendorRuntime>,
    t: &mut Tracked,
) -> ExternalResult<Step> {
    Ok(reconcile_observed(f, rt, t).await?.0)
}

pub async fn reconcile_observed(
    f: &Fixture,
    rt: &Arc<dyn VendorRuntime>,
    t: &mut Tracked,
) -> ExternalResult<(Step, Observation<FirewallRuleObservation>)> {
    let adapter = rt
        .adapters()
        .get::<rampart::api::FirewallRule>()
        .expect("Ideco serves FirewallRules");
    let ctx = f.world.ctx(&t.marker, t.create_pending, None);
    let obs = adapter
        .observe(&t.cr, t.external_name.as_deref(), &ctx)
        .await?;
    if let Some(name) = &obs.external_name {
        t.external_name = Some(name.clone());
    }
    if !obs.exists {
        t.create_pending = true;
        let created = adapter.create(&t.cr, &ctx).await?;
        t.external_name = Some(created.external_name);
        t.create_pending = false;
        return Ok((Step::Created, obs));
    }
    if !obs.drift.is_empty() {
        let id = t.external_name.clone().expect("an observed rule has an id");
        adapter.update(&t.cr, &id, &obs, &ctx).await?;
        return Ok((Step::Updated, obs));
    }
    Ok((Step::InSync, obs))
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
