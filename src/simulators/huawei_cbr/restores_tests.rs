//! Restores (L3571-3664) and backup deletion (L3525-3570) on the wire: status codes and empty
//! bodies, the backup `restoring` and the `restore` task over reads, ordered failures, what the
//! control route says was asked, and refusals with the document's codes.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::checkpoints_tests::assert_error;
use super::tests::{P, Wire, vault_body};

const DISK: &str = "eccbcfdd-f843-4bbb-b2c0-a5ce861f9376";

impl Wire {
    /// A finished restore point of a `n`-server vault; returns its backups' ids by resource.
    async fn backed_up(&self, name: &str, n: usize) -> (String, Vec<String>) {
        let vault = self.vault(name, n).await;
        let (_, c) = self.checkpoint(&vault, json!({})).await;
        let id = c["checkpoint"]["id"].as_str().unwrap();
        for _ in 0..2 {
            self.read(&format!("/checkpoints/{id}")).await;
        }
        let list = self
            .read(&format!("/backups?checkpoint_id={id}&sort=name:asc"))
            .await;
        let mut backups: Vec<(String, String)> = list["backups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                assert_eq!(b["status"], "available");
                let resource = b["resource_id"].as_str().unwrap().to_string();
                (resource, b["id"].as_str().unwrap().to_string())
            })
            .collect();
        backups.sort();
        (
            id.to_string(),
            backups.into_iter().map(|(_, b)| b).collect(),
        )
    }

    async fn restore(&self, backup: &str, body: Value) -> (StatusCode, Value) {
        let path = format!("/backups/{backup}/restore");
        self.call(Method::POST, &path, Some(body)).await
    }
}

/// The document's example body for the server `server`.
fn server_restore(server: &str) -> Value {
    json!({"restore": {"mappings": [{"backup_id": "5d822633-2bbf-4af8-a16e-5ab1c7705235",
        "volume_id": DISK}], "power_on": true, "server_id": server}})
}

#[tokio::test]
async fn a_restore_is_accepted_restoring_for_two_reads_then_available() {
    let w = Wire::start().await;
    let (_, backups) = w.backed_up("rs", 1).await;
    let b = &backups[0];
    let (s, body) = w.restore(b, server_restore("rs-0")).await;
    assert_eq!(
        (s, body),
        (StatusCode::ACCEPTED, Value::Null),
        "202, no body"
    );
    // Neither a second restore nor a deletion while it runs (neither is a read).
    assert_error(
        w.restore(b, server_restore("rs-0")).await,
        400,
        "BackupService.2010",
    );
    assert_error(
        w.call(Method::DELETE, &format!("/backups/{b}"), None).await,
        400,
        "BackupService.6216",
    );
    // Read 1: the backup; read 2: the task.
    assert_eq!(
        w.read(&format!("/backups/{b}")).await["backup"]["status"],
        "restoring"
    );
    let tasks = w.read("/operation-logs?operation_type=restore").await;
    let t = &tasks["operation_logs"][0];
    assert_eq!(
        (t["status"].as_str(), t["ended_at"].clone()),
        (Some("running"), Value::Null)
    );
    assert_eq!(
        t["extra_info"]["restore"],
        json!({"backup_id": b, "backup_name": t["extra_info"]["restore"]["backup_name"],
            "target_resource_id": "rs-0", "target_resource_name": "ecs-0"})
    );
    // Read 3 shows it done.
    assert_eq!(
        w.read(&format!("/backups/{b}")).await["backup"]["status"],
        "available"
    );
    let t = w.read("/operation-logs?operation_type=restore").await;
    assert_eq!(t["operation_logs"][0]["status"], "success");
    assert_eq!(
        t["operation_logs"][0]["error_info"],
        json!({"code": "", "message": ""})
    );

    // What was asked, as sent.
    let url = format!("{}/_sim/huawei-cbr/projects/{P}/restores", w.sim.url());
    let asked: Value = w.http.get(url).send().await.unwrap().json().await.unwrap();
    assert_eq!(asked.as_array().unwrap().len(), 1);
    assert_eq!(asked[0]["backup_id"], b.as_str());
    assert_eq!(asked[0]["target_resource_id"], "rs-0");
    assert_eq!(asked[0]["request"], server_restore("rs-0")["restore"]);
}

#[tokio::test]
async fn restore_refusals_carry_the_documents_codes() {
    let w = Wire::start().await;
    let (_, backups) = w.backed_up("rr", 1).await;
    let b = &backups[0];
    let unknown = "a5200268-74a5-4806-acc6-95793ab0228b";
    assert_error(
        w.restore(unknown, server_restore("rr-0")).await,
        404,
        "BackupService.6200",
    );
    assert_error(
        w.restore(b, server_restore("another-server")).await,
        400,
        "BackupService.2003",
    );
    let mut bad = vec![
        json!({}),
        json!({"restore": {"mappings": [{"backup_id": "x", "volume_id": DISK}]}}),
        json!({"restore": {"server_id": "rr-0"}}),
        json!({"restore": {"server_id": "rr-0", "mappings": []}}),
        json!({"restore": {"server_id": "rr-0", "mappings": [{"backup_id": "x"}]}}),
    ];
    for (key, value) in [
        ("power_on", json!("yes")),
        ("server_id", json!(7)),
        ("details", json!({})),
        ("details", json!({"destination_path": "p".repeat(256)})),
    ] {
        let mut body = server_restore("rr-0");
        body["restore"][key] = value;
        bad.push(body);
    }
    for body in bad {
        assert_error(w.restore(b, body).await, 400, "BackupService.9900");
    }
    let mut with_details = server_restore("rr-0");
    with_details["restore"]["details"] = json!({"destination_path": "/"});
    assert_eq!(w.restore(b, with_details).await.0, StatusCode::ACCEPTED);

    // A backup still being made cannot be restored.
    let vault = w.vault("slow", 1).await;
    let (_, c) = w.checkpoint(&vault, json!({})).await;
    let id = c["checkpoint"]["id"].as_str().unwrap();
    let making = w.read(&format!("/backups?checkpoint_id={id}")).await["backups"][0]["id"].clone();
    let making = making.as_str().unwrap();
    assert_error(
        w.restore(making, server_restore("slow-0")).await,
        400,
        "BackupService.2005",
    );
    let (s, _) = w
        .call(Method::DELETE, &format!("/vaults/{vault}"), None)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_error(
        w.restore(making, server_restore("slow-0")).await,
        400,
        "BackupService.6202",
    );

    // A disk backup needs `volume_id`, and takes any disk.
    let mut disk_vault = vault_body(
        "disks",
        json!([{"id": "vol-0", "type": "OS::Cinder::Volume"}]),
    );
    disk_vault["vault"]["billing"]["object_type"] = json!("disk");
    let (s, v) = w.call(Method::POST, "/vaults", Some(disk_vault)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, c) = w
        .checkpoint(v["vault"]["id"].as_str().unwrap(), json!({}))
        .await;
    let id = c["checkpoint"]["id"].as_str().unwrap();
    for _ in 0..2 {
        w.read(&format!("/checkpoints/{id}")).await;
    }
    let disk = w.read(&format!("/backups?checkpoint_id={id}")).await["backups"][0]["id"].clone();
    let disk = disk.as_str().unwrap();
    assert_error(
        w.restore(disk, json!({"restore": {"power_on": true}}))
            .await,
        400,
        "BackupService.9900",
    );
    let to_disk = json!({"restore": {"volume_id": DISK}});
    assert_eq!(w.restore(disk, to_disk).await.0, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn an_ordered_restore_failure_fails_the_task_and_keeps_the_backup() {
    let w = Wire::start().await;
    let (_, backups) = w.backed_up("rf", 1).await;
    let b = &backups[0];
    let order = json!({"restores": 1, "code": "BackupService.2008",
        "message": "Restoration is not allowed in the current ECS status."});
    assert_eq!(
        w.order(&format!("/projects/{P}/fail-restores"), order)
            .await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        w.restore(b, server_restore("rf-0")).await.0,
        StatusCode::ACCEPTED
    );
    for _ in 0..2 {
        assert_eq!(
            w.read(&format!("/backups/{b}")).await["backup"]["status"],
            "restoring"
        );
    }
    assert_eq!(
        w.read(&format!("/backups/{b}")).await["backup"]["status"],
        "available"
    );
    let t = w.read("/operation-logs?operation_type=restore").await;
    assert_eq!(t["operation_logs"][0]["status"], "failed");
    assert_eq!(
        t["operation_logs"][0]["error_info"],
        json!({"code": "BackupService.2008", "message": "Restoration is not allowed in the current ECS status."})
    );
    // Used up: the next restore succeeds.
    assert_eq!(
        w.restore(b, server_restore("rf-0")).await.0,
        StatusCode::ACCEPTED
    );
    // A list filtered to `success` does not show the running task, so it is no read of it.
    let done = "/operation-logs?operation_type=restore&status=success";
    for _ in 0..3 {
        assert_eq!(w.read(done).await["count"], 0);
    }
    for _ in 0..2 {
        w.read("/operation-logs?operation_type=restore").await;
    }
    assert_eq!(w.read(done).await["count"], 1);
}

#[tokio::test]
async fn deleting_backups_answers_204_and_the_last_one_takes_the_restore_point() {
    let w = Wire::start().await;
    let (checkpoint, backups) = w.backed_up("del", 2).await;
    let unknown = "a5200268-74a5-4806-acc6-95793ab0228b";
    assert_error(
        w.call(Method::DELETE, &format!("/backups/{unknown}"), None)
            .await,
        404,
        "BackupService.6200",
    );
    let (s, body) = w
        .call(Method::DELETE, &format!("/backups/{}", backups[0]), None)
        .await;
    assert_eq!((s, body), (StatusCode::NO_CONTENT, Value::Null));
    assert_error(
        w.call(Method::GET, &format!("/backups/{}", backups[0]), None)
            .await,
        404,
        "BackupService.6200",
    );
    let shown = w.read(&format!("/checkpoints/{checkpoint}")).await;
    assert_eq!(
        shown["checkpoint"]["vault"]["resources"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let tasks = w.read("/operation-logs?operation_type=delete").await;
    assert_eq!(tasks["count"], 1);
    assert_eq!(
        tasks["operation_logs"][0]["extra_info"]["delete"]["backup_id"],
        backups[0].as_str()
    );
    w.call(Method::DELETE, &format!("/backups/{}", backups[1]), None)
        .await;
    let gone = w
        .call(Method::GET, &format!("/checkpoints/{checkpoint}"), None)
        .await;
    assert_error(gone, 404, "BackupService.6217");
}
