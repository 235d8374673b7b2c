//! Vault = pool, against the simulator.

use serde_json::json;

use super::*;
use crate::api::vendors::rubackup::RuBackupBlockDevice;
use crate::engine::external::{Deleted, Readiness};

fn main_pool() -> RuBackupVault {
    RuBackupVault {
        description: Some("k8s pool".into()),
        retention_period: Some("1 Years".into()),
        ignore_free_space_check: Some(false),
        ..pool_spec("k8s-main")
    }
}

#[tokio::test]
async fn create_then_observe_in_sync_and_ready() {
    let rig = Rig::new().await;
    let rt = rig.runtime().await;
    let vault = vault_cr("main", main_pool());
    let adapter = rt.adapters().get::<crate::api::Vault>().unwrap();

    let before = adapter.observe(&vault, None, &rig.ctx()).await.unwrap();
    assert!(!before.exists);
    let created = adapter.create(&vault, &rig.ctx()).await.unwrap();
    assert_eq!(rig.sim.count("POST /pool_list"), 1);
    let id: i64 = created.external_name.parse().unwrap();
    let stored = rig.sim.sim.get("pool_list", id).unwrap();
    assert_eq!(stored["pool_name"], "k8s-main");
    assert_eq!(stored["retention_period"], "1 year");

    let obs = adapter
        .observe(&vault, Some(&created.external_name), &rig.ctx())
        .await
        .unwrap();
    assert!(obs.exists);
    assert!(obs.drift.is_empty(), "{:?}", obs.drift);
    assert_eq!(obs.readiness, Readiness::Available);
    assert_eq!(obs.at_provider.name.as_deref(), Some("k8s-main"));
    // Found again after create without a per-object GET.
    assert_eq!(rig.sim.count("GET /pool_list/{id}"), 0);
}

#[tokio::test]
async fn each_mutable_field_change_is_one_minimal_patch() {
    let rig = Rig::new().await;
    let rt = rig.runtime().await;
    let adapter = rt.adapters().get::<crate::api::Vault>().unwrap();
    let base = vault_cr("main", main_pool());
    let id = create(adapter, &base, &rig).await;
    let set =
        |f: fn(&mut RuBackupVault)| move |v: &mut Vault| f(v.spec.ru_backup.as_mut().unwrap());
    let data = |v: serde_json::Value| json!({ "data": v });
    let changes = vec![
        change(
            "description",
            set(|b| b.description = Some("changed".into())),
            data(json!({"description": "changed"})),
        ),
        change(
            "retention",
            set(|b| b.retention_period = Some("6 mons".into())),
            data(json!({"retention_period": "6 mons"})),
        ),
        change(
            "free space check",
            set(|b| b.ignore_free_space_check = Some(true)),
            data(json!({"ignore_free_space_check": true})),
        ),
        change(
            "compression",
            set(|b| b.compression_type = Some("fast".into())),
            data(json!({"compression_type": "fast"})),
        ),
    ];
    assert_minimal_patches(adapter, &rig, &id, &base, "/pool_list", changes).await;
}

#[tokio::test]
async fn a_hand_edit_is_drift_and_update_corrects_it() {
    let rig = Rig::new().await;
    let rt = rig.runtime().await;
    let adapter = rt.adapters().get::<crate::api::Vault>().unwrap();
    let vault = vault_cr("main", main_pool());
    let id = create(adapter, &vault, &rig).await;
    let num: i64 = id.parse().unwrap();

    // Another spelling of the same value is not drift.
    rig.sim
        .sim
        .edit("pool_list", num, json!({"retention_period": "12 mons"}));
    in_sync(adapter, &vault, &id, &rig.fresh()).await;

    // Edited in the RuBackup manager (a renamed pool is another's: see `ownership`).
    rig.sim.sim.edit(
        "pool_list",
        num,
        json!({"description": "edited by hand", "retention_period": "2 years"}),
    );
    let obs = adapter
        .observe(&vault, Some(&id), &rig.fresh())
        .await
        .unwrap();
    let fields: Vec<&str> = obs.drift.iter().map(|d| d.field.as_str()).collect();
    assert_eq!(
        fields,
        ["spec.ruBackup.description", "spec.ruBackup.retentionPeriod"]
    );
    adapter.update(&vault, &id, &obs, &rig.ctx()).await.unwrap();
    assert_eq!(rig.sim.count("PATCH /pool_list/{id}"), 1);
    assert_eq!(
        rig.writes("PATCH"),
        [json!({"data": {"description": "k8s pool", "retention_period": "1 year"}})]
    );
    assert_eq!(
        rig.sim.sim.get("pool_list", num).unwrap()["description"],
        "k8s pool"
    );
    in_sync(adapter, &vault, &id, &rig.ctx()).await;
}

#[tokio::test]
async fn delete_removes_the_pool_and_a_second_delete_is_gone() {
    let rig = Rig::new().await;
    let rt = rig.runtime().await;
    let adapter = rt.adapters().get::<crate::api::Vault>().unwrap();
    let vault = vault_cr("main", main_pool());
    let id = create(adapter, &vault, &rig).await;
    assert_eq!(
        adapter.delete(&vault, &id, &rig.ctx()).await.unwrap(),
        Deleted::Gone
    );
    assert_eq!(rig.sim.count("DELETE /pool_list/{id}"), 1);
    assert!(rig.sim.sim.get("pool_list", id.parse().unwrap()).is_none());
    gone(adapter, &vault, &id, &rig.ctx()).await;
    assert_eq!(
        adapter.delete(&vault, &id, &rig.ctx()).await.unwrap(),
        Deleted::Gone
    );
}

#[tokio::test]
async fn a_pool_made_by_hand_is_adopted_by_id_or_name() {
    let rig = Rig::new().await;
    let rt = rig.runtime().await;
    let adapter = rt.adapters().get::<crate::api::Vault>().unwrap();
    // Listed once before the pool exists, so the copy is stale when it appears.
    adapter
        .observe(&vault_cr("other", pool_spec("other")), None, &rig.ctx())
        .await
        .unwrap();
    let id = rig
        .sim
        .sim
        .insert("pool_list", json!({"pool_name": "k8s-main", "pool_type": "File system", "media_server": "rubackup-server",
                                     "description": "old", "retention_period": "1 year", "ignore_free_space_check": false}))
        .unwrap();
    let vault = vault_cr("main", main_pool());
    let by_id = adapter
        .observe(&vault, Some(&id.to_string()), &rig.ctx())
        .await
        .unwrap();
    assert!(by_id.exists);
    assert_eq!(by_id.drift.len(), 1);
    assert_eq!(by_id.drift[0].field, "spec.ruBackup.description");
    let by_name = adapter.observe(&vault, None, &rig.ctx()).await.unwrap();
    assert_eq!(by_name.external_name, Some(id.to_string()));
}

#[tokio::test]
async fn what_the_pool_cannot_change_is_refused_by_field() {
    let rig = Rig::new().await;
    let rt = rig.runtime().await;
    let adapter = rt.adapters().get::<crate::api::Vault>().unwrap();
    let id = rig
        .sim
        .sim
        .insert("pool_list", json!({"pool_name": "k8s-main", "pool_type": "File system", "media_server": "rubackup-media",
                                     "description": "old"}))
        .unwrap()
        .to_string();
    let vault = vault_cr("main", main_pool());
    let obs = adapter
        .observe(&vault, Some(&id), &rig.ctx())
        .await
        .unwrap();
    let err = adapter
        .update(&vault, &id, &obs, &rig.ctx())
        .await
        .unwrap_err();
    assert_eq!(invalid_field(&err), Some("spec.ruBackup.mediaServer"));
    // What can change was still corrected.
    assert_eq!(rig.stored("pool_list", &id)["description"], "k8s pool");
}

#[tokio::test]
async fn block_device_pools_carry_their_parameters() {
    let rig = Rig::new().await;
    let rt = rig.runtime().await;
    let adapter = rt.adapters().get::<crate::api::Vault>().unwrap();
    let spec = RuBackupVault {
        pool_type: "Block device".into(),
        block_device: Some(RuBackupBlockDevice {
            algorithm: Some("streebog".into()),
            block_size: Some(131072),
            hash_length: Some(256),
            meta_data_pool: Some("Default".into()),
        }),
        ..pool_spec("k8s-bd")
    };
    let vault = vault_cr("bd", spec);
    let id = create(adapter, &vault, &rig).await;
    let stored = rig.stored("pool_list", &id);
    assert_eq!(
        (stored["block_size"].clone(), stored["algorithm"].clone()),
        (json!(131072), json!("streebog"))
    );
    in_sync(adapter, &vault, &id, &rig.ctx()).await;
}
