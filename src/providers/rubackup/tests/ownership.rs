//! Whose a RuBackup object is, adapter by adapter: found by its name alone it may be anyone's;
//! at the recorded id it is this object's only with the spec's name. A stranger at a re-used id
//! is reported and never written, deleted, or used as a Vault's pool.

use serde_json::{Value, json};

use super::policy::{policy, rule};
use super::strategy::{spec, strategy};
use super::*;
use crate::api::{Policy, Strategy};
use crate::engine::annotations::EXTERNAL_NAME;
use crate::engine::external::{Deleted, Observation, Ownership};

/// Ownership as the adapter reports it, and the id it found.
async fn whose<K: Managed>(
    adapter: &dyn External<K>,
    cr: &K,
    id: Option<&str>,
    ctx: &CallContext<'_>,
) -> (Option<String>, Ownership) {
    let obs = adapter.observe(cr, id, ctx).await.expect("observe");
    assert!(obs.exists, "found");
    (obs.external_name, obs.ownership)
}

/// A context in which the recorded id is rampart's own (rampart saw its object there).
fn own_id(rig: &Rig) -> CallContext<'_> {
    CallContext {
        trust_unmarked_id: false,
        ..rig.fresh()
    }
}

#[tokio::test]
async fn found_by_its_name_alone_an_object_is_anyones_and_at_its_id_it_is_this_objects() {
    let rig = Rig::with_pools().await;
    let rt = rig.runtime().await;
    let schedule = rig
        .sim
        .sim
        .insert(
            "global_schedule",
            json!({"name": "k8s-db1-home", "client_id": "db1 (0a1b2c3d4e5f6071)", "resource_type": "File system", "resource": "/home/", "pool_id": "k8s-main"}),
        )
        .unwrap()
        .to_string();
    let strat = rig
        .sim
        .sim
        .insert(
            "backup_strategies",
            json!({"name": "k8s-nightly", "status": "run", "pool_id": "k8s-main"}),
        )
        .unwrap()
        .to_string();
    let pool = rig
        .sim
        .sim
        .find("pool_list", "pool_name", "k8s-main")
        .unwrap()
        .to_string();

    let vaults = rt.adapters().get::<Vault>().unwrap();
    let v = vault_cr("main", pool_spec("k8s-main"));
    let policies = rt.adapters().get::<Policy>().unwrap();
    let p = policy(rule());
    let strategies = rt.adapters().get::<Strategy>().unwrap();
    let s = strategy(spec());
    for ctx in [rig.ctx(), own_id(&rig)] {
        assert_eq!(
            whose(vaults, &v, None, &ctx).await,
            (Some(pool.clone()), Ownership::NameOnly)
        );
        assert_eq!(
            whose(policies, &p, None, &ctx).await,
            (Some(schedule.clone()), Ownership::NameOnly)
        );
        assert_eq!(
            whose(strategies, &s, None, &ctx).await,
            (Some(strat.clone()), Ownership::NameOnly)
        );
        assert_eq!(
            whose(vaults, &v, Some(&pool), &ctx).await.1,
            Ownership::Marked
        );
        assert_eq!(
            whose(policies, &p, Some(&schedule), &ctx).await.1,
            Ownership::Marked
        );
        assert_eq!(
            whose(strategies, &s, Some(&strat), &ctx).await.1,
            Ownership::Marked
        );
    }
}

/// Every table as the simulator holds it.
fn state(rig: &Rig) -> Vec<Vec<Value>> {
    [
        "pool_list",
        "global_schedule",
        "backup_strategies",
        "strategy_rules",
        "strategy_administrators",
    ]
    .iter()
    .map(|t| rig.sim.sim.all(t))
    .collect()
}

/// The object at `id` is a stranger: reported as unmarked where rampart saw its own, refused
/// where the user named the id, and neither changed nor deleted.
async fn left_alone<K: Managed>(adapter: &dyn External<K>, cr: &K, id: &str, rig: &Rig) {
    let kind = K::KIND;
    assert_eq!(
        whose(adapter, cr, Some(id), &own_id(rig)).await,
        (Some(id.to_string()), Ownership::Unmarked),
        "{kind}"
    );
    let named = adapter
        .observe(cr, Some(id), &rig.fresh())
        .await
        .expect_err("a user-named id of another name is refused");
    assert_eq!(
        invalid_field(&named),
        Some(format!("metadata.annotations[{EXTERNAL_NAME}]").as_str()),
        "{kind}: {named}"
    );
    assert!(named.to_string().contains("team-b"), "{kind}: {named}");
    let update = adapter
        .update(cr, id, &Observation::default(), &rig.ctx())
        .await
        .expect_err("no write to a stranger");
    assert!(invalid_field(&update).is_some(), "{kind}: {update}");
    assert_eq!(
        adapter.delete(cr, id, &rig.ctx()).await.expect("delete"),
        Deleted::Gone,
        "{kind}: this object's own is gone from the id"
    );
}

#[tokio::test]
async fn a_stranger_at_a_reused_id_is_reported_and_never_written_nor_deleted_nor_used() {
    let rig = Rig::with_pools().await;
    let rt = rig.runtime().await;
    let vaults = rt.adapters().get::<Vault>().unwrap();
    let policies = rt.adapters().get::<Policy>().unwrap();
    let strategies = rt.adapters().get::<Strategy>().unwrap();
    let v = vault_cr("data", pool_spec("k8s-data"));
    let p = policy(rule());
    let s = strategy(spec());
    let ids = [
        create(vaults, &v, &rig).await,
        create(policies, &p, &rig).await,
        create(strategies, &s, &rig).await,
    ];

    // The server is set up again, and people make objects that get the same ids.
    rig.sim.sim.reinstall();
    for pool in ["team-b-main", "team-b-archive", "team-b-data"] {
        rig.sim.sim.insert(
            "pool_list",
            json!({"pool_name": pool, "pool_type": "File system", "media_server": "rubackup-server"}),
        );
    }
    let people = [
        (
            "global_schedule",
            json!({"name": "team-b-rule", "client_id": "db1 (0a1b2c3d4e5f6071)", "resource_type": "File system", "resource": "/srv/", "pool_id": "team-b-data", "status": "run"}),
        ),
        (
            "backup_strategies",
            json!({"name": "team-b-nightly", "status": "run", "pool_id": "team-b-data"}),
        ),
        (
            "strategy_rules",
            json!({"strategy_id": "team-b-nightly", "client_id": "db1 (0a1b2c3d4e5f6071)", "resource_type": "File system", "resource": "/srv/"}),
        ),
        (
            "strategy_administrators",
            json!({"strategy": "team-b-nightly", "administrator": "bob"}),
        ),
    ];
    for (table, fields) in people {
        rig.sim.sim.insert(table, fields);
    }
    assert_eq!(
        rig.sim
            .sim
            .get("pool_list", ids[0].parse().unwrap())
            .unwrap()["pool_name"],
        "team-b-data",
        "the id was handed out again"
    );
    rig.reset();
    let before = state(&rig);

    left_alone(vaults, &v, &ids[0], &rig).await;
    left_alone(policies, &p, &ids[1], &rig).await;
    left_alone(strategies, &s, &ids[2], &rig).await;

    // The Vaults' ids hold strangers' pools now: a rule is never pointed at one of them.
    let second = policy(crate::api::vendors::rubackup::RuBackupPolicy {
        name: "k8s-second".into(),
        ..rule()
    });
    let refused = policies
        .create(&second, &rig.ctx())
        .await
        .expect_err("no pool to point at");
    assert!(
        matches!(refused, ExternalError::Waiting { ref message } if message.contains("is named 'team-b-main', not 'k8s-main'")),
        "{refused}"
    );

    assert_eq!(rig.sim.sim.journal(), [], "nothing was written");
    assert_eq!(state(&rig), before, "every object as the people left it");
}
