//! RuBackup write safety through the real API server and the operator: creates whose answers
//! come after the client's timeout make one object each (not one per retry), a person's pool
//! of the name a Vault asks for is neither adopted nor deleted until the user names it, and a
//! strategy whose administrator RuBackup refuses stays off, says why, and runs once complete.

use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use rampart::api::{Policy, ProviderConfig, Strategy, Vault};
use rampart::simulators::harness::Faults;
use serde_json::{Value, json};

use crate::cbr_world::{T, external_name};
use crate::rubackup_world::{RbWorld, example};
use crate::support::{condition_message, has_condition, is_ready, wait_for, wait_gone};

impl RbWorld {
    /// Answers to `POST {collection}` come 5 s late; the operator gives up after 2 s.
    fn late_creates(&self, collection: &str) {
        self.sim.server.control.set_faults(Faults {
            respond_after_ms: 5000,
            only_operation: Some(format!("POST /api/v1{collection}")),
            ..Default::default()
        });
    }

    /// The objects of `table` whose `key` is `name`.
    fn named(&self, table: &str, key: &str, name: &str) -> Vec<Value> {
        self.sim
            .sim
            .all(table)
            .into_iter()
            .filter(|o| o[key] == name)
            .collect()
    }

    async fn create<K>(&self, doc: Value) -> K
    where
        K: kube::Resource<Scope = kube::core::NamespaceResourceScope, DynamicType = ()>
            + Clone
            + std::fmt::Debug
            + serde::Serialize
            + serde::de::DeserializeOwned,
    {
        self.api::<K>()
            .create(
                &PostParams::default(),
                &serde_json::from_value(doc).unwrap(),
            )
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn creates_answered_after_the_timeout_make_one_object_each() {
    let mut config = RbWorld::config();
    // The worst server: a rule created twice is two rules, both running.
    config.unique_schedule_names = false;
    let w = RbWorld::with("rubackup-late", config, json!({"requestTimeoutSeconds": 2})).await;
    wait_for(&w.api::<ProviderConfig>(), "rubackup", is_ready(), T).await;

    w.late_creates("/pool_list");
    for doc in example("Vault") {
        w.create::<Vault>(doc).await;
    }
    for name in ["main", "dedup"] {
        wait_for(&w.api::<Vault>(), name, is_ready(), T).await;
    }
    w.late_creates("/global_schedule");
    w.create::<Policy>(example("Policy").remove(0)).await;
    let policy = wait_for(&w.api::<Policy>(), "db1-home", is_ready(), T).await;
    w.late_creates("/backup_strategies");
    w.create::<Strategy>(example("Strategy").remove(0)).await;
    let strategy = wait_for(&w.api::<Strategy>(), "nightly", is_ready(), T).await;
    w.sim.server.control.set_faults(Faults::default());

    let main = w.api::<Vault>().get("main").await.unwrap();
    for (table, key, name, recorded) in [
        ("pool_list", "pool_name", "k8s-main", external_name(&main)),
        (
            "global_schedule",
            "name",
            "k8s-db1-home",
            external_name(&policy),
        ),
        (
            "backup_strategies",
            "name",
            "k8s-nightly",
            external_name(&strategy),
        ),
    ] {
        let found = w.named(table, key, name);
        assert_eq!(found.len(), 1, "{table}: {found:?}");
        assert_eq!(recorded, found[0]["id"].to_string(), "{table}");
    }
    assert_eq!(w.sim.count("POST /pool_list"), 2, "one per Vault");
    assert_eq!(w.sim.count("POST /global_schedule"), 1);
    assert_eq!(w.sim.count("POST /backup_strategies"), 1);
    // The strategy found after its lost answer was finished, and switched on last.
    assert_eq!(
        w.named("backup_strategies", "name", "k8s-nightly")[0]["status"],
        "run"
    );
    assert_eq!(
        w.named("strategy_rules", "strategy_id", "k8s-nightly")
            .len(),
        2
    );
}

#[tokio::test]
async fn a_persons_pool_is_left_alone_and_a_refused_administrator_keeps_the_strategy_off() {
    let w = RbWorld::with("rubackup-owner", RbWorld::config(), json!({})).await;
    let theirs = w
        .sim
        .sim
        .insert(
            "pool_list",
            json!({"pool_name": "k8s-main", "pool_type": "File system", "media_server": "rubackup-server", "description": "team b"}),
        )
        .unwrap();
    let their_pool = w.sim.sim.get("pool_list", theirs).unwrap();
    wait_for(&w.api::<ProviderConfig>(), "rubackup", is_ready(), T).await;

    // A Vault asking for a pool of that name is refused, not adopted, and says how to adopt.
    let mut main = example("Vault").remove(0);
    main["spec"]["deletionPolicy"] = json!("Delete");
    w.create::<Vault>(main.clone()).await;
    let refused = wait_for(
        &w.api::<Vault>(),
        "main",
        has_condition("Synced", "False", Some("AdoptionRefused")),
        T,
    )
    .await;
    let why = condition_message(&refused, "Synced");
    assert!(
        why.contains(&format!("rampart.dev/external-name: \"{theirs}\"")),
        "{why}"
    );
    assert!(
        w.warnings().iter().any(|e| e.contains("AdoptionRefused")),
        "{:?}",
        w.warnings()
    );
    // Deleting it leaves the person's pool.
    w.api::<Vault>()
        .delete("main", &DeleteParams::default())
        .await
        .unwrap();
    wait_gone(&w.api::<Vault>(), "main", T).await;
    assert_eq!(w.sim.sim.get("pool_list", theirs), Some(their_pool));
    assert_eq!(w.sim.sim.journal(), [], "nothing was written");

    // Named in the annotation, it is adopted on purpose.
    main["metadata"]["annotations"] = json!({"rampart.dev/external-name": theirs.to_string()});
    w.create::<Vault>(main).await;
    let adopted = wait_for(&w.api::<Vault>(), "main", is_ready(), T).await;
    assert_eq!(external_name(&adopted), theirs.to_string());
    assert_eq!(w.sim.count("POST /pool_list"), 0);

    // mallory is no RuBackup user: the strategy is made, but stays off and says why.
    w.create::<Vault>(example("Vault").remove(1)).await;
    wait_for(&w.api::<Vault>(), "dedup", is_ready(), T).await;
    let mut nightly = example("Strategy").remove(0);
    nightly["spec"]["ruBackup"]["administrators"] = json!(["alice", "mallory"]);
    w.create::<Strategy>(nightly).await;
    let refused_member = |s: Option<&Strategy>| {
        s.is_some_and(|s| condition_message(s, "Synced").contains("mallory"))
    };
    let held = wait_for(&w.api::<Strategy>(), "nightly", refused_member, T).await;
    let made = w.named("backup_strategies", "name", "k8s-nightly");
    assert_eq!(made.len(), 1);
    assert_eq!(made[0]["status"], "wait");
    assert_eq!(
        w.named("strategy_rules", "strategy_id", "k8s-nightly")
            .len(),
        2
    );
    assert_eq!(
        w.sim.count("PATCH /backup_strategies"),
        0,
        "never switched on half configured"
    );
    let why = condition_message(&held, "Synced");
    assert!(
        why.contains("mallory") && why.contains("stays off (wait)"),
        "{why}"
    );

    // Without mallory it runs.
    w.api::<Strategy>()
        .patch(
            "nightly",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"ruBackup": {"administrators": ["alice"]}}})),
        )
        .await
        .unwrap();
    wait_for(&w.api::<Strategy>(), "nightly", is_ready(), T).await;
    assert_eq!(
        w.named("backup_strategies", "name", "k8s-nightly")[0]["status"],
        "run"
    );
    assert_eq!(w.named("backup_strategies", "name", "k8s-nightly").len(), 1);
}
