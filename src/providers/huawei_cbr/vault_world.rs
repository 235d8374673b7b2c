//! The fixture of the vault safety tests: the real reconciler (API server in memory) over a
//! CBR simulator and an RS server simulator, as the operator runs them, with a poll interval
//! the test chooses per provider.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kube::ResourceExt;
use serde_json::{Value, json};

use super::test_support::PROJECT;
use crate::api::Vault;
use crate::api::common::{Condition, ConditionStatus, ProviderConfigKind};
use crate::api::vault::VaultObservation;
use crate::engine::backup_health::WallClock;
use crate::engine::context::EngineSettings;
use crate::engine::hub::ProviderKey;
use crate::engine::testkit::{Engine, TestWorld};
use crate::simulators::huawei_cbr::model::{SimResource, SimVault};
use crate::simulators::huawei_cbr::{CbrSim, CbrSimConfig};
use crate::simulators::rs_server::RsServerSim;

pub const NS: &str = "team";
pub const ADD: &str = "POST /v3/{project_id}/vaults/{vault_id}/addresources";
pub const REMOVE: &str = "POST /v3/{project_id}/vaults/{vault_id}/removeresources";
pub const CREATE: &str = "POST /v3/{project_id}/vaults";

pub struct VaultWorld {
    pub cbr: CbrSim,
    pub rs: RsServerSim,
    /// The RS server project every Vault here selects from.
    pub project: String,
    pub world: TestWorld,
    pub engine: Engine,
}

fn key(name: &str) -> ProviderKey {
    ProviderKey {
        kind: ProviderConfigKind::ProviderConfig,
        namespace: Some(NS.into()),
        name: name.into(),
    }
}

impl VaultWorld {
    /// Providers `cbr` (polled every `cbr_poll`, AK/SK) and `rs` (every `rs_poll`).
    pub async fn new(cbr_poll: Duration, rs_poll: Duration) -> Self {
        Self::build(cbr_poll, rs_poll, false).await
    }

    /// As `new`, with CBR logged in by password (an IAM token survives the simulator's clock
    /// moving on, where an AK/SK signature would be refused as skewed), and the engine judging
    /// backup health by the simulator's clock.
    pub async fn with_password_login(cbr_poll: Duration) -> Self {
        Self::build(cbr_poll, Duration::from_secs(60), true).await
    }

    async fn build(cbr_poll: Duration, rs_poll: Duration, password: bool) -> Self {
        let config = CbrSimConfig::default();
        let (ak, sk) = config.access_keys[0].clone();
        let user = config.users[0].clone();
        let cbr = CbrSim::start(config, "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let rs = RsServerSim::start_local().await.unwrap();
        let operator = rs.state.add_user("operator", "pw");
        let token = rs.state.issue_token(&operator, None);
        let project = rs.state.add_project("desktops");
        let world = crate::providers::test_world();
        let (auth, credentials) = if password {
            (
                json!({"projectId": PROJECT, "authMethod": "Password", "iamEndpoint": cbr.url(), "projectName": "ru-moscow-1"}),
                vec![
                    ("username", user.name),
                    ("password", user.password),
                    ("domainName", user.domain),
                ],
            )
        } else {
            (
                json!({"projectId": PROJECT, "authMethod": "AkSk"}),
                vec![("accessKey", ak), ("secretKey", sk)],
            )
        };
        let cbr_spec = serde_json::from_value(json!({
            "type": "HuaweiCbr", "endpoint": cbr.url(), "requestTimeoutSeconds": 30,
            "pollIntervalSeconds": cbr_poll.as_secs(),
            "budget": {"qps": 1000, "burst": 1000, "maxInFlight": 16},
            "huaweiCbr": auth
        }))
        .unwrap();
        let credentials: Vec<(&str, &str)> =
            credentials.iter().map(|(k, v)| (*k, v.as_str())).collect();
        world.source.set(key("cbr"), cbr_spec, &credentials);
        let rs_spec = serde_json::from_value(json!({
            "type": "RsServer", "endpoint": rs.url(),
            "pollIntervalSeconds": rs_poll.as_secs(),
            "budget": {"qps": 1000, "burst": 1000, "maxInFlight": 16},
            "rsServer": {"authMethod": "Token"}
        }))
        .unwrap();
        world.source.set(key("rs"), rs_spec, &[("token", &token)]);
        let console = cbr.console().clone();
        let engine = world.engine(EngineSettings {
            cluster_id: "vault-world".into(),
            clock: WallClock(Arc::new(move || console.now())),
            ..Default::default()
        });
        VaultWorld {
            cbr,
            rs,
            project,
            world,
            engine,
        }
    }

    /// `n` servers named `vm-000`… in the RS server project; their ids.
    pub fn servers(&self, n: usize) -> Vec<String> {
        (0..n)
            .map(|i| {
                self.rs
                    .state
                    .add_server(&self.project, &format!("vm-{i:03}"))
            })
            .collect()
    }

    /// Apply a Vault named `name` whose `huaweiCbr` block is `block` merged over a server
    /// vault of 100 GB.
    pub fn vault(&self, name: &str, block: Value) -> Vault {
        let mut cbr = json!({"objectType": "server", "sizeGB": 100});
        if let (Some(c), Some(extra)) = (cbr.as_object_mut(), block.as_object()) {
            c.extend(extra.clone());
        }
        let mut v: Vault = serde_json::from_value(json!({
            "apiVersion": "rampart.dev/v1alpha1", "kind": "Vault",
            "metadata": {"name": name, "namespace": NS},
            "spec": {"providerConfigRef": {"name": "cbr"}, "huaweiCbr": cbr}
        }))
        .unwrap();
        v.metadata.namespace = Some(NS.into());
        self.engine.apply(&v)
    }

    /// `resourcesFrom` selecting every server of the project.
    pub fn selecting(&self) -> Value {
        json!({"rsServer": {"providerConfigRef": {"name": "rs"}, "project": {"id": self.project}}})
    }

    /// Set (or remove, with `None`) an annotation, as a user's `kubectl annotate` would.
    pub fn annotate(&self, v: &Vault, key: &str, value: Option<&str>) {
        let mut stored = self.stored(v);
        match value {
            Some(value) => stored.annotations_mut().insert(key.into(), value.into()),
            None => stored.annotations_mut().remove(key),
        };
        self.engine.apply(&stored);
    }

    pub fn stored(&self, v: &Vault) -> Vault {
        self.engine.get(v).expect("stored")
    }

    pub fn at_provider(&self, v: &Vault) -> VaultObservation {
        self.stored(v)
            .status
            .and_then(|s| s.at_provider)
            .unwrap_or_default()
    }

    pub fn condition(&self, v: &Vault, type_: &str) -> Option<Condition> {
        self.stored(v)
            .status?
            .conditions
            .into_iter()
            .find(|c| c.type_ == type_)
    }

    /// `type_` is True with `reason`.
    pub fn says(&self, v: &Vault, type_: &str, reason: &str) -> bool {
        self.condition(v, type_)
            .is_some_and(|c| c.status == ConditionStatus::True && c.reason == reason)
    }

    /// The CBR vault behind `v`.
    pub fn sim_vault(&self, v: &Vault) -> SimVault {
        let id = self
            .stored(v)
            .annotations()
            .get("rampart.dev/external-name")
            .cloned()
            .expect("an external name");
        self.cbr
            .console()
            .project(PROJECT)
            .vaults
            .into_iter()
            .find(|x| x.id == id)
            .expect("the vault exists at CBR")
    }

    pub fn resource_ids(&self, v: &Vault) -> Vec<String> {
        let mut ids: Vec<String> = self
            .sim_vault(v)
            .resources
            .into_iter()
            .map(|r| r.id)
            .collect();
        ids.sort();
        ids
    }

    /// A vault made at CBR by someone else, holding `resources`; its id.
    pub fn foreign_vault(&self, name: &str, resources: &[String]) -> String {
        let console = self.cbr.console();
        let id = console.insert_vault(PROJECT, name, "server", 100);
        console.edit_vault(PROJECT, &id, |v| {
            v.resources.extend(resources.iter().map(|r| SimResource {
                id: r.clone(),
                type_: "OS::Nova::Server".into(),
                name: r.clone(),
                size: 40,
                exclude_volumes: vec![],
                protect_status: "available".into(),
            }))
        });
        id
    }

    /// Reconcile until a pass succeeds.
    pub async fn converge(&self, v: &Vault) -> Vault {
        self.engine.converge(v, 5).await
    }

    /// Reconcile every 50 ms until `done`, at most `within`; the instant it held.
    pub async fn reconcile_until(
        &self,
        v: &Vault,
        within: Duration,
        mut done: impl FnMut(&Self) -> bool,
    ) -> Instant {
        let deadline = Instant::now() + within;
        loop {
            let _ = self.engine.reconcile(v).await;
            if done(self) {
                return Instant::now();
            }
            assert!(
                Instant::now() < deadline,
                "not within {within:?}: {:#?}",
                self.stored(v).status
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
