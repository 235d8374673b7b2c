//! Observing many objects again and again costs list pages, not a GET per object.

use serde_json::json;

use super::*;
use crate::api::Strategy;
use crate::api::strategy::StrategySpec;
use crate::api::vendors::rubackup::{RuBackupStrategy, RuBackupStrategyRule};

const N: usize = 25;

async fn paged_rig() -> Rig {
    let settings = RuBackupProviderSettings {
        page_size: Some(10),
        ..Default::default()
    };
    Rig::with(SimConfig::new(&[(USER, PASSWORD)]), PASSWORD, settings).await
}

#[tokio::test]
async fn many_pools_cost_pages() {
    let rig = paged_rig().await;
    let rt = rig.runtime().await;
    let adapter = rt.adapters().get::<crate::api::Vault>().unwrap();
    let mut known = Vec::new();
    for i in 0..N {
        let name = format!("pool-{i}");
        let id = rig.sim.sim.insert("pool_list", json!({"pool_name": name, "pool_type": "File system", "media_server": "rubackup-server"})).unwrap();
        known.push((vault_cr(&name, pool_spec(&name)), id.to_string()));
    }
    rig.sim.server.control.reset_counters();
    for _ in 0..3 {
        for (vault, id) in &known {
            let obs = adapter.observe(vault, Some(id), &rig.ctx()).await.unwrap();
            assert!(obs.exists && obs.drift.is_empty());
        }
    }
    // 26 pools (with Default) in pages of 10: three pages, listed once per poll interval.
    assert_eq!(rig.sim.count("GET /pool_list"), 3);
    assert_eq!(rig.sim.count("GET /pool_list/{id}"), 0);
}

#[tokio::test]
async fn many_strategies_cost_pages_of_strategies_rules_and_administrators() {
    let rig = paged_rig().await;
    let rt = rig.runtime().await;
    let adapter = rt.adapters().get::<crate::api::Strategy>().unwrap();
    let mut known = Vec::new();
    for i in 0..N {
        let name = format!("strategy-{i}");
        let id = rig
            .sim
            .sim
            .insert("backup_strategies", json!({"name": name, "status": "run"}))
            .unwrap();
        rig.sim.sim.insert(
            "strategy_rules",
            json!({"strategy_id": name, "client_id": "rubackup-client (525a99154f3505a2)", "resource_type": "File system", "resource": "/home/"}),
        );
        rig.sim.sim.insert(
            "strategy_administrators",
            json!({"strategy": name, "administrator": "alice"}),
        );
        let rb = RuBackupStrategy {
            name: name.clone(),
            rules: vec![RuBackupStrategyRule {
                client: "rubackup-client (525a99154f3505a2)".into(),
                resource_type: "File system".into(),
                resource: "/home/".into(),
                ..Default::default()
            }],
            administrators: vec!["alice".into()],
            ..Default::default()
        };
        let mut s = Strategy::new(
            &name,
            StrategySpec {
                managed: managed(),
                ru_backup: Some(rb),
            },
        );
        s.metadata.namespace = Some(NS.into());
        known.push((s, id.to_string()));
    }
    rig.sim.server.control.reset_counters();
    for _ in 0..3 {
        for (s, id) in &known {
            let obs = adapter.observe(s, Some(id), &rig.ctx()).await.unwrap();
            assert!(obs.exists && obs.drift.is_empty(), "{:?}", obs.drift);
        }
    }
    for collection in [
        "/backup_strategies",
        "/strategy_rules",
        "/strategy_administrators",
    ] {
        assert_eq!(
            rig.sim.count(&format!("GET {collection}")),
            3,
            "{collection}"
        );
        assert_eq!(
            rig.sim.count(&format!("GET {collection}/{{id}}")),
            0,
            "{collection}"
        );
    }
}
