//! The Cyber Backup fixture shared by the end-to-end binaries: a simulator in this process, a
//! namespace with the example's Secrets, and a Ready ProviderConfig `cyberbackup` pointing at it.
#![allow(dead_code)] // Each test binary uses a subset.

use k8s_openapi::api::core::v1::Secret;
use kube::Client;
use kube::api::{Api, PostParams};
use rampart::api::{Policy, ProviderConfig, Vault};
use rampart::simulators::cyberbackup::{CyberBackupSim, SimConfig};
use serde_json::{Value, json};

use crate::cbr_world::T;
use crate::support::{env, is_ready, namespace, wait_for};

pub fn example_documents() -> Vec<Value> {
    let text = include_str!("../../deploy/examples/cyberbackup.yaml");
    serde_saphyr::from_multiple(text).expect("the example is YAML")
}

pub struct CyberWorld {
    pub sim: CyberBackupSim,
    pub ns: String,
    pub client: Client,
}

impl CyberWorld {
    /// The simulator, the example's Secrets, and a ProviderConfig `cyberbackup` pointing at it.
    pub async fn new(prefix: &str) -> Self {
        let client = env().client().await;
        let config = SimConfig {
            users: [("backup-admin".to_string(), "change-me".to_string())].into(),
            ..Default::default()
        };
        let sim = CyberBackupSim::start("127.0.0.1:0".parse().unwrap(), config)
            .await
            .unwrap();
        let ns = namespace(&client, prefix).await;
        for doc in example_documents()
            .into_iter()
            .filter(|d| d["kind"] == "Secret")
        {
            let s: Secret = serde_json::from_value(doc).unwrap();
            Api::<Secret>::namespaced(client.clone(), &ns)
                .create(&PostParams::default(), &s)
                .await
                .unwrap();
        }
        let mut pc = example_documents()
            .into_iter()
            .find(|d| d["kind"] == "ProviderConfig")
            .unwrap();
        pc["spec"]["endpoint"] = json!(sim.url());
        pc["spec"]["pollIntervalSeconds"] = json!(5);
        let pc: ProviderConfig = serde_json::from_value(pc).unwrap();
        let pcs = Api::<ProviderConfig>::namespaced(client.clone(), &ns);
        pcs.create(&PostParams::default(), &pc).await.unwrap();
        wait_for(&pcs, "cyberbackup", is_ready(), T).await;
        CyberWorld { sim, ns, client }
    }

    pub async fn apply_example(&self, kind: &str) {
        let doc = example_documents()
            .into_iter()
            .find(|d| d["kind"] == kind)
            .unwrap();
        let pp = PostParams::default();
        match kind {
            "Vault" => drop(
                Api::<Vault>::namespaced(self.client.clone(), &self.ns)
                    .create(&pp, &serde_json::from_value(doc).unwrap())
                    .await
                    .unwrap(),
            ),
            _ => drop(
                Api::<Policy>::namespaced(self.client.clone(), &self.ns)
                    .create(&pp, &serde_json::from_value(doc).unwrap())
                    .await
                    .unwrap(),
            ),
        }
    }

    pub fn vaults(&self) -> Api<Vault> {
        Api::namespaced(self.client.clone(), &self.ns)
    }

    pub fn policies(&self) -> Api<Policy> {
        Api::namespaced(self.client.clone(), &self.ns)
    }
}
