//! Crash safety of the one-shot kinds: the vendor carries out a Backup's start but its answer is
//! held, and the operator is SIGKILLed before it hears it. The restarted operator finds the
//! start at the vendor (the `rampart.dev/start-pending` claim says to look) and follows it to
//! Succeeded: the vendor holds exactly one backup, never two.

use std::time::Duration;

use kube::api::Api;
use rampart::api::{Backup, Phase, Vault};
use rampart::simulators::harness::{Faults, SimControl};
use rampart::simulators::huawei_cbr::{CbrSim, CbrSimConfig};
use rampart::simulators::rubackup::{RuBackupSim, SimConfig as RbConfig};
use serde_json::{Value, json};

use crate::crash::PROJECT;
use crate::plane::{Plane, all_ready, obj};

const T: Duration = Duration::from_secs(90);

/// Wait until `check` holds, polling every 50 ms, at most `T`.
async fn until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + T;
    while !check() {
        assert!(tokio::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn phase(api: &Api<Backup>, name: &str) -> Option<Phase> {
    api.get(name).await.ok()?.status?.phase
}

/// Create the Backup with the start's answer held, kill the operator once the vendor has acted
/// (`acted`), restart it, and wait for Succeeded.
async fn kill_after_the_start(
    plane: &mut Plane,
    control: &SimControl,
    start_operation: &str,
    backup: Value,
    acted: impl Fn() -> bool,
) {
    control.set_faults(Faults {
        respond_after_ms: 60_000,
        only_operation: Some(start_operation.into()),
        ..Default::default()
    });
    let backups = plane.api::<Backup>();
    backups
        .create(&Default::default(), &obj("Backup", "now", backup))
        .await
        .unwrap();
    until("the operator never started the backup", &acted).await;
    let claimed = backups.get("now").await.unwrap();
    assert!(
        claimed
            .metadata
            .annotations
            .unwrap_or_default()
            .contains_key("rampart.dev/start-pending"),
        "the claim is written before the vendor call"
    );
    plane.kill_all();
    control.set_faults(Faults::default());
    plane.start_operator(&[]);
    let deadline = tokio::time::Instant::now() + T;
    while phase(&backups, "now").await != Some(Phase::Succeeded) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the Backup never succeeded after the restart: {:?}",
            backups.get("now").await.unwrap().status
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn operator_killed_after_a_cbr_restore_point_was_made_takes_no_second_one() {
    let mut plane = Plane::start().await;
    let sim = CbrSim::start(CbrSimConfig::default(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    plane.provider(
        "cbr",
        json!({"type": "HuaweiCbr", "endpoint": sim.url(), "pollIntervalSeconds": 5, "budget": {"qps": 200, "burst": 100},
               "huaweiCbr": {"projectId": PROJECT, "authMethod": "Password", "iamEndpoint": sim.url(), "projectName": "ru-moscow-1"}}),
        json!({"username": "rampart", "password": "rampart-password", "domainName": "rampart-domain"}),
    ).await;
    plane.start_operator(&[]);
    let vaults = plane.api::<Vault>();
    vaults
        .create(&Default::default(), &obj("Vault", "app", json!({"providerConfigRef": {"name": "cbr"},
            "huaweiCbr": {"objectType": "server", "sizeGB": 100, "resources": [{"id": "11111111-1111-1111-1111-111111111111", "type": "OS::Nova::Server"}]}})))
        .await
        .unwrap();
    all_ready(&vaults, 1, T).await;
    let backups = || sim.console().project(PROJECT).backups;
    kill_after_the_start(
        &mut plane,
        sim.control(),
        "POST /v3/{project_id}/checkpoints",
        json!({"source": {"vaultRef": {"name": "app"}}}),
        || !backups().is_empty(),
    )
    .await;
    let checkpoints: std::collections::BTreeSet<String> =
        backups().iter().map(|b| b.checkpoint_id.clone()).collect();
    assert_eq!(
        checkpoints.len(),
        1,
        "exactly one restore point: {checkpoints:?}"
    );
    let st = plane
        .api::<Backup>()
        .get("now")
        .await
        .unwrap()
        .status
        .unwrap();
    assert_eq!(st.vendor_id.as_ref(), checkpoints.first());
}

#[tokio::test]
async fn operator_killed_after_a_rubackup_urgent_backup_was_queued_takes_no_second_one() {
    let mut plane = Plane::start().await;
    let mut config = RbConfig::new(&[("rubackup", "rb-s3cret-pw")]);
    config.queue_wait = Duration::ZERO;
    config.run_duration = Duration::from_secs(3);
    let sim = RuBackupSim::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    plane
        .provider(
            "rb",
            json!({"type": "RuBackup", "endpoint": sim.url(), "pollIntervalSeconds": 5, "budget": {"qps": 200, "burst": 100},
                   "ruBackup": {"database": "rubackup", "authType": "Database"}}),
            json!({"username": "rubackup", "password": "rb-s3cret-pw"}),
        )
        .await;
    plane.start_operator(&[]);
    let vaults = plane.api::<Vault>();
    vaults
        .create(&Default::default(), &obj("Vault", "pool", json!({"providerConfigRef": {"name": "rb"},
            "ruBackup": {"name": "k8s-chaos", "poolType": "File system", "mediaServer": "rubackup-server"}})))
        .await
        .unwrap();
    all_ready(&vaults, 1, T).await;
    let urgent = || {
        sim.sim
            .all("task_queue")
            .into_iter()
            .filter(|t| t["task_type"] == "Backup urgent")
            .count()
    };
    kill_after_the_start(
        &mut plane,
        &sim.server.control,
        "POST /api/v1/task_queue",
        json!({"source": {"vaultRef": {"name": "pool"}},
               "ruBackup": {"client": "rubackup-client (525a99154f3505a2)", "resourceType": "File system", "resource": "/home/"}}),
        || urgent() > 0,
    )
    .await;
    assert_eq!(urgent(), 1, "exactly one urgent backup queued");
}
