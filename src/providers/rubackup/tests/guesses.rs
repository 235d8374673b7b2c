//! What the client does where the document is silent (docs/guesses.md), against simulators that
//! play the other plausible servers: other paging parameter names, a server that refuses the
//! `poolname` filter, one that lists `poolname` instead of `pool_name`, one whose schedule fields
//! are integers only.

use serde_json::json;

use super::*;
use crate::api::Policy;
use crate::api::policy::PolicySpec;
use crate::api::schedule::Schedule;
use crate::api::vendors::rubackup::{RuBackupCronFields, RuBackupPolicy};
use crate::simulators::rubackup::CronFields;

const POOLS: usize = 25;

async fn rig(config: SimConfig, settings: RuBackupProviderSettings) -> Rig {
    Rig::with(config, PASSWORD, settings).await
}

fn config() -> SimConfig {
    SimConfig::new(&[(USER, PASSWORD)])
}

/// Pools `pool-0` … `pool-24` made by hand; their Vaults and ids.
fn add_pools(rig: &Rig) -> Vec<(Vault, String)> {
    (0..POOLS)
        .map(|i| {
            let name = format!("pool-{i}");
            let id = rig.sim.sim.insert("pool_list", json!({"pool_name": name, "pool_type": "File system", "media_server": "rubackup-server"})).unwrap();
            (vault_cr(&name, pool_spec(&name)), id.to_string())
        })
        .collect()
}

#[tokio::test]
async fn a_server_that_limits_pages_but_names_the_page_otherwise_is_an_error_until_configured() {
    let mut server = config();
    server.page_param = "page_number".into();
    let small_pages = RuBackupProviderSettings {
        page_size: Some(10),
        ..Default::default()
    };
    let r = rig(server.clone(), small_pages.clone()).await;
    let known = add_pools(&r);
    let rt = r.runtime().await;
    let (vault, id) = &known[POOLS - 1];
    // Page 2 comes back as page 1: the rest of the list cannot be reached, and rampart says so
    // instead of working from the first ten pools.
    let e = rt
        .adapters()
        .get::<crate::api::Vault>()
        .unwrap()
        .observe(vault, Some(id), &r.ctx())
        .await
        .unwrap_err();
    assert_eq!(vendor_kind(&e), Some(ErrorKind::Config), "{e}");
    assert!(e.to_string().contains("pageParameter"), "{e}");

    let named = RuBackupProviderSettings {
        page_parameter: Some("page_number".into()),
        ..small_pages
    };
    let r = rig(server, named).await;
    let known = add_pools(&r);
    let rt = r.runtime().await;
    for (vault, id) in &known {
        in_sync(
            rt.adapters().get::<crate::api::Vault>().unwrap(),
            vault,
            id,
            &r.ctx(),
        )
        .await;
    }
    // 26 pools in pages of 10, listed once.
    assert_eq!(r.sim.count("GET /pool_list"), 3);
    assert_eq!(r.sim.count("GET /pool_list/{id}"), 0);
}

#[tokio::test]
async fn a_server_that_ignores_paging_answers_the_whole_list_once() {
    let mut server = config();
    server.page_param = "p".into();
    server.limit_param = "n".into();
    let settings = RuBackupProviderSettings {
        page_size: Some(10),
        ..Default::default()
    };
    let r = rig(server, settings).await;
    let known = add_pools(&r);
    let rt = r.runtime().await;
    for (vault, id) in &known {
        in_sync(
            rt.adapters().get::<crate::api::Vault>().unwrap(),
            vault,
            id,
            &r.ctx(),
        )
        .await;
    }
    // Page 1 is everything; page 2 brings nothing new and ends the listing.
    assert_eq!(r.sim.count("GET /pool_list"), 2);
}

#[tokio::test]
async fn a_refused_name_filter_falls_back_to_the_whole_list() {
    let mut server = config();
    server.column_filters = false;
    let r = rig(server, RuBackupProviderSettings::default()).await;
    let rt = r.runtime().await;
    let adapter = rt.adapters().get::<crate::api::Vault>().unwrap();
    let vault = vault_cr("main", pool_spec("k8s-main"));
    let before = adapter.observe(&vault, None, &r.ctx()).await.unwrap();
    assert!(!before.exists);
    let created = adapter.create(&vault, &r.ctx()).await.unwrap();
    in_sync(adapter, &vault, &created.external_name, &r.ctx()).await;
    assert_eq!(r.sim.count("POST /pool_list"), 1);
}

#[tokio::test]
async fn a_pool_listed_as_poolname_is_read_by_that_name() {
    let r = rig(config(), RuBackupProviderSettings::default()).await;
    let id = r
        .sim
        .sim
        .insert(
            "pool_list",
            json!({"poolname": "k8s-main", "pool_type": "File system", "media_server": "rubackup-server"}),
        )
        .unwrap()
        .to_string();
    let rt = r.runtime().await;
    let adapter = rt.adapters().get::<crate::api::Vault>().unwrap();
    let vault = vault_cr("main", pool_spec("k8s-main"));
    let obs = in_sync(adapter, &vault, &id, &r.ctx()).await;
    assert_eq!(obs.at_provider.name.as_deref(), Some("k8s-main"));
    // Found by name too (adoption).
    let adopted = adapter.observe(&vault, None, &r.ctx()).await.unwrap();
    assert_eq!(adopted.at_provider.id.as_deref(), Some(id.as_str()));
}

fn policy_at(cron: &str) -> Policy {
    let mut p = Policy::new(
        "nightly",
        PolicySpec {
            managed: managed(),
            enabled: None,
            schedule: Some(Schedule {
                cron: cron.into(),
                time_zone: None,
                grace_minutes: None,
            }),
            retention: None,
            vault_ref: None,
            huawei_cbr: None,
            ru_backup: Some(RuBackupPolicy {
                name: "k8s-db1-home".into(),
                client: "db1 (0a1b2c3d4e5f6071)".into(),
                resource_type: "File system".into(),
                resource: "/home/".into(),
                pool: Some("Default".into()),
                ..Default::default()
            }),
            cyber_backup: None,
        },
    );
    p.metadata.namespace = Some(NS.into());
    p
}

#[tokio::test]
async fn integer_only_schedule_fields_refuse_what_needs_text_before_sending_it() {
    let mut server = config();
    server.cron_fields = CronFields::IntegersOnly;
    let integers = RuBackupProviderSettings {
        cron_fields: Some(RuBackupCronFields::IntegersOnly),
        ..Default::default()
    };
    let r = rig(server.clone(), integers).await;
    let rt = r.runtime().await;
    let adapter = rt.adapters().get::<crate::api::Policy>().unwrap();

    let yearly = policy_at("30 2 1 6 0");
    let id = create(adapter, &yearly, &r).await;
    let stored = r.stored("global_schedule", &id);
    assert_eq!(
        (stored["min"].clone(), stored["dow"].clone()),
        (json!(30), json!(0))
    );
    in_sync(adapter, &yearly, &id, &r.ctx()).await;

    let daily = policy_at("0 2 * * *");
    let e = adapter.observe(&daily, None, &r.ctx()).await.unwrap_err();
    assert_eq!(invalid_field(&e), Some("spec.schedule"), "{e}");
    assert!(e.to_string().contains("cronFields"), "{e}");
    assert_eq!(
        r.sim.count("POST /global_schedule"),
        1,
        "nothing more was sent"
    );

    // Without the setting, the same server refuses the text when it arrives.
    let r = rig(server, RuBackupProviderSettings::default()).await;
    let rt = r.runtime().await;
    let e = rt
        .adapters()
        .get::<crate::api::Policy>()
        .unwrap()
        .create(&daily, &r.ctx())
        .await
        .unwrap_err();
    assert_eq!(vendor_kind(&e), Some(ErrorKind::Rejected), "{e}");
}

#[tokio::test]
async fn fractions_of_a_second_go_out_with_six_digits_as_in_the_document() {
    let r = rig(config(), RuBackupProviderSettings::default()).await;
    let rt = r.runtime().await;
    let adapter = rt.adapters().get::<crate::api::Policy>().unwrap();
    let mut p = policy_at("0 2 * * *");
    p.spec.ru_backup.as_mut().unwrap().copies.validity = Some(RuBackupValidity {
        start: Some("2025-01-01T00:00:00.5".into()),
        end: Some("2035-01-01T12:00:00.123456789".into()),
    });
    let id = create(adapter, &p, &r).await;
    let sent = &r.writes("POST /global_schedule")[0]["data"]["global_schedule"];
    assert_eq!(sent["validity_start_period"], "2025-01-01T00:00:00.500000");
    assert_eq!(sent["validity_end_period"], "2035-01-01T12:00:00.123456");
    in_sync(adapter, &p, &id, &r.ctx()).await;
}
