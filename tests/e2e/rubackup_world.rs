//! The RuBackup fixture shared by the end-to-end binaries: a simulator in this process, a
//! namespace with the example's Secret, and the example's ProviderConfig pointing at it.
#![allow(dead_code)] // Each test binary uses a subset.

use k8s_openapi::api::core::v1::Secret;
use kube::Client;
use kube::api::{Api, PostParams};
use rampart::api::{Policy, ProviderConfig, Strategy, Vault};
use rampart::simulators::rubackup::{RuBackupSim, SimConfig};
use serde_json::{Value, json};

use crate::support::{env, namespace};

pub const PASSWORD: &str = "change-me";

pub fn example(kind: &str) -> Vec<Value> {
    let text = include_str!("../../deploy/examples/rubackup.yaml");
    let docs: Vec<Value> = serde_saphyr::from_multiple(text).expect("the example is YAML");
    docs.into_iter().filter(|d| d["kind"] == kind).collect()
}

pub struct RbWorld {
    pub sim: RuBackupSim,
    pub ns: String,
    pub client: Client,
}

impl RbWorld {
    pub async fn new(prefix: &str) -> Self {
        Self::with(prefix, Self::config(), json!({})).await
    }

    /// The simulated installation: the example's user.
    pub fn config() -> SimConfig {
        SimConfig::new(&[("rubackup", PASSWORD)])
    }

    /// A world whose server is `config` and whose ProviderConfig spec also has `settings`.
    pub async fn with(prefix: &str, config: SimConfig, settings: Value) -> Self {
        let client = env().client().await;
        let sim = RuBackupSim::start(config, "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let ns = namespace(&client, prefix).await;
        for doc in example("Secret") {
            let s: Secret = serde_json::from_value(doc).unwrap();
            Api::<Secret>::namespaced(client.clone(), &ns)
                .create(&PostParams::default(), &s)
                .await
                .unwrap();
        }
        let mut pc = example("ProviderConfig").remove(0);
        pc["spec"]["endpoint"] = json!(sim.url());
        pc["spec"]["pollIntervalSeconds"] = json!(5);
        pc["spec"]["budget"] = json!({"qps": 50, "burst": 50});
        for (k, v) in settings.as_object().into_iter().flatten() {
            pc["spec"][k] = v.clone();
        }
        let pc: ProviderConfig = serde_json::from_value(pc).unwrap();
        Api::<ProviderConfig>::namespaced(client.clone(), &ns)
            .create(&PostParams::default(), &pc)
            .await
            .unwrap();
        RbWorld { sim, ns, client }
    }

    pub fn api<K>(&self) -> Api<K>
    where
        K: kube::Resource<Scope = kube::core::NamespaceResourceScope, DynamicType = ()>,
    {
        Api::namespaced(self.client.clone(), &self.ns)
    }

    pub async fn apply_examples(&self) {
        let pp = PostParams::default();
        for doc in example("Vault") {
            self.api::<Vault>()
                .create(&pp, &serde_json::from_value(doc).unwrap())
                .await
                .unwrap();
        }
        for doc in example("Policy") {
            self.api::<Policy>()
                .create(&pp, &serde_json::from_value(doc).unwrap())
                .await
                .unwrap();
        }
        for doc in example("Strategy") {
            self.api::<Strategy>()
                .create(&pp, &serde_json::from_value(doc).unwrap())
                .await
                .unwrap();
        }
    }

    /// Vendor writes by operation since the last reset, without the login calls.
    pub fn writes(&self) -> std::collections::BTreeMap<String, u64> {
        self.sim
            .server
            .control
            .counters()
            .into_iter()
            .filter(|(op, _)| !op.starts_with("GET ") && !op.contains("/auth/"))
            .collect()
    }

    /// Warning events in the namespace (a failed reconcile is always one).
    pub fn warnings(&self) -> Vec<String> {
        let out = env().server.kubectl(&[
            "get",
            "events",
            "-n",
            &self.ns,
            "--field-selector",
            "type=Warning",
            "-o",
            "json",
        ]);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        v["items"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                format!(
                    "{}: {}",
                    e["reason"],
                    e["message"].as_str().or(e["note"].as_str()).unwrap_or("")
                )
            })
            .collect()
    }
}
