//! Crash safety: the operator is SIGKILLed at the worst moments and restarted; afterwards every
//! object is Ready and the vendor holds exactly one object per Kubernetes object. A separate
//! binary, because killing the operator would disturb the other end-to-end tests.

#[path = "../e2e/cbr_world.rs"]
mod cbr_world;
#[path = "../e2e/support.rs"]
mod support;

use rampart::simulators::harness::Faults;
use serde_json::json;

use cbr_world::{CbrWorld, PROJECT, T, external_name, vault_spec};
use support::{env, is_ready, wait_for};

/// The vendor creates the vault but its answer is held; the operator dies before it hears it.
/// The create-pending annotation makes the restarted operator search the vendor (fresh) by the
/// ownership tag and adopt the vault instead of creating a second one.
#[tokio::test]
async fn operator_killed_right_after_the_vendor_create_leaves_exactly_one_vault() {
    let w = CbrWorld::new("crash-create", json!({"qps": 50, "burst": 50})).await;
    w.sim.control().set_faults(Faults {
        respond_after_ms: 60_000,
        only_operation: Some("POST /v3/{project_id}/vaults".into()),
        ..Default::default()
    });
    w.create_vault("precious", vault_spec(json!({}))).await;
    let deadline = tokio::time::Instant::now() + T;
    while w.sim.console().project(PROJECT).vaults.is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the operator never created the vault"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let cr = w.vaults().get("precious").await.unwrap();
    assert!(
        cr.metadata
            .annotations
            .as_ref()
            .unwrap()
            .contains_key("rampart.dev/external-create-pending"),
        "the pending mark is written before the vendor create"
    );
    env().kill_operator();
    w.sim.control().set_faults(Faults::default());
    env().start_operator();
    let cr = wait_for(&w.vaults(), "precious", is_ready(), T).await;
    let vaults = w.sim.console().project(PROJECT).vaults;
    assert_eq!(vaults.len(), 1, "exactly one vendor vault after the crash");
    assert_eq!(external_name(&cr), vaults[0].id);
    assert!(
        !cr.metadata
            .annotations
            .unwrap()
            .contains_key("rampart.dev/external-create-pending")
    );
}
