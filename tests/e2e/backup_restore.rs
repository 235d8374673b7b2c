//! Backup and Restore end to end: the operator (a separate process) against the real API server
//! and each backup vendor's simulator. A Backup goes Pending → Running → Succeeded with the
//! vendor's ids, a failing one ends Failed with the vendor's message, a Restore of a listed
//! backup ends Succeeded after exactly one restore call with the target given, Orphan keeps
//! the vendor backup and Delete removes it, and a Cyber Backup restore is refused at admission.

use std::time::Duration;

use kube::api::{Api, DeleteParams, PostParams};
use rampart::api::{ActionStatus, Backup, Phase, Restore, Vault};
use serde_json::{Value, json};

use crate::cbr_world::{CbrWorld, PROJECT, external_name, vault_spec};
use crate::cyber_world::CyberWorld;
use crate::rubackup_world::RbWorld;
use crate::support::{is_ready, until, wait_for, wait_gone};

const T: Duration = Duration::from_secs(90);

fn status<K: serde::Serialize>(obj: &K) -> ActionStatus {
    serde_json::from_value(serde_json::to_value(obj).unwrap()["status"].clone()).unwrap_or_default()
}

fn phase_is<K: serde::Serialize + kube::Resource>(
    want: Phase,
) -> impl kube::runtime::wait::Condition<K> {
    move |o: Option<&K>| o.is_some_and(|o| status(o).phase == Some(want))
}

async fn create<K>(api: &Api<K>, kind: &str, name: &str, spec: Value) -> K
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    let obj: K = serde_json::from_value(json!({
        "apiVersion": "rampart.dev/v1alpha1", "kind": kind, "metadata": {"name": name}, "spec": spec
    }))
    .unwrap();
    api.create(&PostParams::default(), &obj).await.unwrap()
}

const CLIENT: &str = "rubackup-client (525a99154f3505a2)";

/// A RuBackup world whose urgent tasks start at once and run for a few seconds of real time,
/// so that a Backup is seen Running before it succeeds.
async fn rubackup(prefix: &str) -> RbWorld {
    let mut config = RbWorld::config();
    config.queue_wait = Duration::ZERO;
    config.run_duration = Duration::from_secs(6);
    let w = RbWorld::with(prefix, config, json!({})).await;
    create(
        &w.api::<Vault>(),
        "Vault",
        "pool",
        json!({"providerConfigRef": {"name": "rubackup"}, "ruBackup": {"name": "k8s-e2e", "poolType": "File system", "mediaServer": "rubackup-server"}}),
    )
    .await;
    wait_for(&w.api::<Vault>(), "pool", is_ready(), T).await;
    w
}

fn rb_backup_spec(extra: Value) -> Value {
    let mut spec = json!({
        "source": {"vaultRef": {"name": "pool"}},
        "ruBackup": {"client": CLIENT, "resourceType": "File system", "resource": "/home/"}
    });
    spec.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    spec
}

#[tokio::test]
async fn rubackup_backup_runs_once_to_its_record_and_restores_onto_the_target() {
    let w = rubackup("rb-backup").await;
    let backups = w.api::<Backup>();
    create(
        &backups,
        "Backup",
        "now",
        rb_backup_spec(json!({"retentionDays": 7})),
    )
    .await;
    let running = wait_for(&backups, "now", phase_is(Phase::Running), T).await;
    let task = status(&running).vendor_id.expect("the task id");
    let done = wait_for(&backups, "now", phase_is(Phase::Succeeded), T).await;
    let st = status(&done);
    assert_eq!(st.vendor_id.as_deref(), Some(task.as_str()));
    assert_eq!(st.backup_ids.len(), 1, "one repository record: {st:?}");
    assert!(st.started_at.is_some() && st.completed_at.is_some());
    assert_eq!(
        w.writes().get("POST /api/v1/task_queue"),
        Some(&1),
        "one urgent backup asked"
    );

    let restores = w.api::<Restore>();
    create(
        &restores,
        "Restore",
        "back",
        json!({"backupRef": {"name": "now"}, "ruBackup": {"targetClient": CLIENT, "destinationPath": "/restore/"}}),
    )
    .await;
    wait_for(&restores, "back", phase_is(Phase::Succeeded), T).await;
    let asked = w.sim.sim.restores();
    assert_eq!(asked.len(), 1, "exactly one restore call: {asked:?}");
    let body = &asked[0]["body"]["data"]["restore_task"];
    assert_eq!(body["target_client"], CLIENT);
    assert_eq!(body["destination_path"], "/restore/");
    assert_eq!(asked[0]["record"].to_string(), st.backup_ids[0]);
}

#[tokio::test]
async fn rubackup_failing_backup_ends_failed_with_the_vendors_message_and_delete_removes_the_record()
 {
    let w = rubackup("rb-backup-fail").await;
    let backups = w.api::<Backup>();
    w.sim
        .sim
        .fail_urgent_backups(Some("k8s-e2e"), 1, "media server unreachable");
    create(&backups, "Backup", "broken", rb_backup_spec(json!({}))).await;
    let failed = wait_for(&backups, "broken", phase_is(Phase::Failed), T).await;
    let message = status(&failed).message.unwrap_or_default();
    assert!(message.contains("media server unreachable"), "{message}");

    create(&backups, "Backup", "kept", rb_backup_spec(json!({}))).await;
    create(
        &backups,
        "Backup",
        "dropped",
        rb_backup_spec(json!({"deletionPolicy": "Delete"})),
    )
    .await;
    let kept = status(&wait_for(&backups, "kept", phase_is(Phase::Succeeded), T).await);
    let dropped = status(&wait_for(&backups, "dropped", phase_is(Phase::Succeeded), T).await);
    for name in ["kept", "dropped"] {
        backups
            .delete(name, &DeleteParams::default())
            .await
            .unwrap();
        wait_gone(&backups, name, T).await;
    }
    let records = || -> Vec<String> {
        w.sim
            .sim
            .all("repository")
            .iter()
            .map(|r| r["id"].to_string())
            .collect()
    };
    assert!(
        records().contains(&kept.backup_ids[0]),
        "Orphan keeps the vendor backup"
    );
    until("the Delete backup's record is gone", || {
        !records().contains(&dropped.backup_ids[0])
    })
    .await;
}

#[tokio::test]
async fn a_cyber_backup_restore_is_refused_at_admission_and_a_backup_spec_is_immutable() {
    let w = rubackup("oneshot-admission").await;
    let restores: Api<Restore> = w.api();
    let refused: Restore = serde_json::from_value(json!({
        "apiVersion": "rampart.dev/v1alpha1", "kind": "Restore", "metadata": {"name": "cyber"},
        "spec": {"vaultRef": {"name": "pool"}, "backupId": "x", "cyberBackup": {}}
    }))
    .unwrap();
    let err = restores
        .create(&PostParams::default(), &refused)
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("has no restore"), "{err}");

    let backups = w.api::<Backup>();
    create(&backups, "Backup", "once", rb_backup_spec(json!({}))).await;
    let changed = json!({"spec": {"ruBackup": {"resource": "/etc/"}}});
    let err = backups
        .patch(
            "once",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(changed),
        )
        .await
        .expect_err("immutable");
    assert!(err.to_string().contains("taken once"), "{err}");
    let policy = json!({"spec": {"deletionPolicy": "Delete"}});
    backups
        .patch(
            "once",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(policy),
        )
        .await
        .expect("deletionPolicy may change");
}

const SERVER: &str = "11111111-1111-1111-1111-111111111111";
const DISK: &str = "22222222-2222-2222-2222-222222222222";

/// A CBR world with a Ready Vault `app` holding one server.
async fn cbr(prefix: &str) -> (CbrWorld, String) {
    let w = CbrWorld::new(prefix, json!({"qps": 50, "burst": 50})).await;
    w.create_vault(
        "app",
        vault_spec(json!({"resources": [{"id": SERVER, "type": "OS::Nova::Server"}]})),
    )
    .await;
    let vault = wait_for(&w.vaults(), "app", is_ready(), T).await;
    let id = external_name(&vault);
    (w, id)
}

#[tokio::test]
async fn cbr_restore_point_runs_once_and_its_backup_restores_onto_the_server() {
    let (w, _) = cbr("cbr-backup").await;
    let backups: Api<Backup> = Api::namespaced(w.client.clone(), &w.ns);
    create(
        &backups,
        "Backup",
        "now",
        json!({"source": {"vaultRef": {"name": "app"}}, "description": "before the upgrade"}),
    )
    .await;
    let running = wait_for(&backups, "now", phase_is(Phase::Running), T).await;
    let checkpoint = status(&running).vendor_id.expect("the restore point id");
    let done = status(&wait_for(&backups, "now", phase_is(Phase::Succeeded), T).await);
    assert_eq!(done.vendor_id.as_deref(), Some(checkpoint.as_str()));
    assert_eq!(
        done.backup_ids.len(),
        1,
        "one backup of the one server: {done:?}"
    );
    assert_eq!(
        w.writes().get("POST /v3/{project_id}/checkpoints"),
        Some(&1),
        "one restore point asked"
    );

    let restores: Api<Restore> = Api::namespaced(w.client.clone(), &w.ns);
    create(
        &restores,
        "Restore",
        "back",
        json!({"backupRef": {"name": "now"}, "huaweiCbr": {"serverId": SERVER, "powerOn": false,
               "mappings": [{"backupId": done.backup_ids[0], "volumeId": DISK}]}}),
    )
    .await;
    wait_for(&restores, "back", phase_is(Phase::Succeeded), T).await;
    let asked = w.sim.console().restores(PROJECT);
    assert_eq!(asked.len(), 1, "exactly one restore call: {asked:?}");
    assert_eq!(asked[0].backup_id, done.backup_ids[0]);
    assert_eq!(asked[0].request["server_id"], SERVER);
    assert_eq!(asked[0].request["power_on"], false);
}

#[tokio::test]
async fn cbr_failing_restore_point_ends_failed_with_the_vendors_message_and_delete_removes_its_backup()
 {
    let (w, vault_id) = cbr("cbr-backup-fail").await;
    let backups: Api<Backup> = Api::namespaced(w.client.clone(), &w.ns);
    assert!(w.sim.console().fail_checkpoints(
        PROJECT,
        &vault_id,
        1,
        "BackupService.6215",
        "the disk is busy"
    ));
    create(
        &backups,
        "Backup",
        "broken",
        json!({"source": {"vaultRef": {"name": "app"}}}),
    )
    .await;
    let failed = status(&wait_for(&backups, "broken", phase_is(Phase::Failed), T).await);
    assert!(
        failed
            .message
            .unwrap_or_default()
            .contains("the disk is busy")
    );

    create(
        &backups,
        "Backup",
        "kept",
        json!({"source": {"vaultRef": {"name": "app"}}}),
    )
    .await;
    let kept = status(&wait_for(&backups, "kept", phase_is(Phase::Succeeded), T).await);
    create(
        &backups,
        "Backup",
        "dropped",
        json!({"source": {"vaultRef": {"name": "app"}}, "deletionPolicy": "Delete"}),
    )
    .await;
    let dropped = status(&wait_for(&backups, "dropped", phase_is(Phase::Succeeded), T).await);
    for name in ["kept", "dropped"] {
        backups
            .delete(name, &DeleteParams::default())
            .await
            .unwrap();
        wait_gone(&backups, name, T).await;
    }
    let held = || -> Vec<String> {
        w.sim
            .console()
            .project(PROJECT)
            .backups
            .iter()
            .map(|b| b.id.clone())
            .collect()
    };
    assert!(
        held().contains(&kept.backup_ids[0]),
        "Orphan keeps the vendor backup"
    );
    assert!(
        !held().contains(&dropped.backup_ids[0]),
        "Delete removed it"
    );
}

/// Every `:run` call the Cyber Backup simulator answered.
fn plan_runs(w: &CyberWorld) -> u64 {
    w.sim
        .control()
        .counters()
        .iter()
        .filter(|(op, _)| op.contains("policy_applications:run"))
        .map(|(_, n)| *n)
        .sum()
}

#[tokio::test]
async fn cyber_backup_backup_of_a_policy_runs_its_plan_once_to_success() {
    let w = CyberWorld::new("cyber-backup").await;
    w.apply_example("Vault").await;
    w.apply_example("Policy").await;
    // The example's own run (its run-requested-at annotation) first, so that the count below
    // is the Backup's alone.
    let example_run_done = |p: Option<&rampart::api::Policy>| {
        p.and_then(|p| p.status.as_ref())
            .and_then(|s| s.at_provider.as_ref())
            .and_then(|a| a.last_run.as_ref())
            .is_some_and(|r| r.state == "Succeeded")
    };
    wait_for(&w.policies(), "machines-nightly", example_run_done, T).await;
    let backups: Api<Backup> = Api::namespaced(w.client.clone(), &w.ns);
    let before = plan_runs(&w);
    create(
        &backups,
        "Backup",
        "now",
        json!({"source": {"policyRef": {"name": "machines-nightly"}}}),
    )
    .await;
    let done = status(&wait_for(&backups, "now", phase_is(Phase::Succeeded), T).await);
    assert!(done.vendor_id.is_some(), "{done:?}");
    assert_eq!(target_of(&done), "Policy/machines-nightly");
    assert_eq!(
        plan_runs(&w) - before,
        1,
        "one run of the plan for the Backup"
    );
}

fn target_of(s: &ActionStatus) -> String {
    s.target
        .as_ref()
        .map(|t| t.source.clone())
        .unwrap_or_default()
}
