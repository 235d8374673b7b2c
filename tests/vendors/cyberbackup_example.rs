//! deploy/examples/cyberbackup.yaml, taken as it is, converges against the simulator through
//! the adapters: the destination is registered, the plan created and applied, the run it asks
//! for goes through.

use crate::cyberbackup_support::*;
use rampart::api::provider_config::ProviderConfigSpec;
use rampart::api::{Policy, Vault};
use rampart::engine::annotations::EXTERNAL_NAME;
use rampart::engine::external::Readiness;
use rampart::simulators::cyberbackup::SimConfig;
use serde_json::Value;

fn documents() -> Vec<Value> {
    let text = include_str!("../../deploy/examples/cyberbackup.yaml");
    serde_saphyr::from_multiple(text).expect("the example is YAML")
}

fn of_kind(kind: &str) -> Vec<Value> {
    documents()
        .into_iter()
        .filter(|d| d["kind"] == kind)
        .collect()
}

fn string_data(secret: &Value) -> Vec<(String, String)> {
    let data = secret["stringData"].as_object().unwrap();
    data.iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect()
}

#[tokio::test]
async fn the_example_converges_and_runs_once() {
    let secrets = of_kind("Secret");
    let admin = string_data(&secrets[0]);
    let user = |k: &str| admin.iter().find(|(n, _)| n == k).unwrap().1.clone();
    let config = SimConfig {
        users: [(user("username"), user("password"))].into(),
        ..Default::default()
    };
    let mut env = Env::with(config, 100).await;
    // The example's provider configuration, pointed at the simulator.
    let mut pc: ProviderConfigSpec =
        serde_json::from_value(of_kind("ProviderConfig")[0]["spec"].clone()).unwrap();
    pc.common.endpoint = env.sim.url();
    pc.common.budget.qps = 1000.0;
    let creds: Vec<(&str, &str)> = admin
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    env.world.source.set(env.key.clone(), pc.common, &creds);
    let share = string_data(&secrets[1]);
    let share: Vec<(&str, &str)> = share
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    env.add_secret(secrets[1]["metadata"]["name"].as_str().unwrap(), &share);

    let mut vault: Vault = serde_json::from_value(of_kind("Vault")[0].clone()).unwrap();
    vault.metadata.namespace = Some("prod".into());
    let rt = env.runtime().await;
    let va = vault_adapter(&rt);
    let credentials = env.create(va, &vault).await;
    vault.metadata.annotations = Some([(EXTERNAL_NAME.to_string(), credentials.clone())].into());
    assert!(env.observe(va, &vault, &credentials).await.drift.is_empty());
    env.add_vault_ref(&vault);

    let mut policy: Policy = serde_json::from_value(of_kind("Policy")[0].clone()).unwrap();
    policy.metadata.namespace = Some("prod".into());
    let pa = policy_adapter(&rt);
    let id = env.create(pa, &policy).await;
    let plan = env.plan(&id);
    assert_eq!(
        plan["settings"]["destination"]["location"]["settings"]["credentials"],
        credentials.as_str()
    );
    assert_eq!(
        plan["settings"]["vss"]["provider"], "NATIVE",
        "settingsOverrides merged"
    );
    assert_eq!(
        env.contexts_of(&id).len(),
        2,
        "a machine by name and a group by id"
    );

    env.sim.state.settle();
    let o = env.observe(pa, &policy, &id).await;
    assert_eq!(o.readiness, Readiness::Available);
    assert_eq!(
        drift_fields(&o),
        vec![rampart::providers::cyberbackup::run::DRIFT_FIELD]
    );
    env.update(pa, &policy, &id, &o).await;
    env.sim.state.settle();
    let o = env.observe(pa, &policy, &id).await;
    assert!(o.drift.is_empty(), "{:?}", o.drift);
    assert_eq!(o.at_provider.last_run.unwrap().state, "Succeeded");
    assert_eq!(
        o.at_provider.vendor_schedule,
        vec!["DAILY MON,TUE,WED,THU,FRI 02:30"]
    );
    let v = env.observe_fresh(va, &vault, &credentials).await;
    assert_eq!(v.at_provider.backup_count, Some(2), "one backup per target");
}
