//! Restore points on the wire (L1396-1704, L4533-4630): the create response, the backups and
//! tasks it makes, their progress over reads, ordered failures and the refusals with the
//! document's codes.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::CbrSimConfig;
use super::tests::{P, Wire, vault_body};

pub(super) fn servers(prefix: &str, n: usize) -> Value {
    (0..n)
        .map(|i| json!({"id": format!("{prefix}-{i}"), "type": "OS::Nova::Server", "name": format!("ecs-{i}")}))
        .collect()
}

impl Wire {
    /// A server vault with `n` resources `{name}-0`…; returns its id.
    pub(super) async fn vault(&self, name: &str, n: usize) -> String {
        let body = vault_body(name, servers(name, n));
        let (s, v) = self.call(Method::POST, "/vaults", Some(body)).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v["vault"]["id"].as_str().unwrap().to_string()
    }

    /// `POST /checkpoints` for a vault with these parameters.
    pub(super) async fn checkpoint(&self, vault: &str, parameters: Value) -> (StatusCode, Value) {
        let body = json!({"checkpoint": {"vault_id": vault, "parameters": parameters}});
        self.call(Method::POST, "/checkpoints", Some(body)).await
    }

    /// A GET that must answer 200.
    pub(super) async fn read(&self, path: &str) -> Value {
        let (s, body) = self.call(Method::GET, path, None).await;
        assert_eq!(s, StatusCode::OK, "{path}: {body}");
        body
    }

    /// A control route answering a status only.
    pub(super) async fn order(&self, path: &str, body: Value) -> StatusCode {
        let url = format!("{}/_sim/huawei-cbr{path}", self.sim.url());
        let resp = self.http.post(url).json(&body).send().await.unwrap();
        resp.status()
    }
}

/// The error envelope of the document's error table.
pub(super) fn assert_error(got: (StatusCode, Value), status: u16, code: &str) {
    assert_eq!(got.0.as_u16(), status, "{}", got.1);
    assert_eq!(got.1["error_code"], code, "{}", got.1);
    assert!(got.1["error_msg"].as_str().is_some_and(|m| !m.is_empty()));
}

fn statuses(list: &Value, key: &str) -> Vec<String> {
    list[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["status"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_restore_point_is_protecting_for_two_reads_then_available() {
    let w = Wire::start().await;
    let vault = w.vault("rp", 2).await;
    let params = json!({"name": "backup_name", "description": "backup_description",
        "incremental": false, "auto_trigger": false});
    let (s, created) = w.checkpoint(&vault, params).await;
    assert_eq!(s, StatusCode::OK, "{created}");
    let c = &created["checkpoint"];
    assert_eq!(c["status"], "protecting");
    assert_eq!(c["project_id"], P);
    assert_eq!(
        (c["vault"]["id"].as_str(), c["vault"]["name"].as_str()),
        (Some(vault.as_str()), Some("rp"))
    );
    assert_eq!(c["vault"]["skipped_resources"], json!([]));
    assert_eq!(
        c["vault"]["resources"][0],
        json!({"id": "rp-0", "type": "OS::Nova::Server", "name": "ecs-0", "extra_info": "{}",
            "resource_size": "40", "backup_size": "0", "backup_count": "0", "protect_status": "available"})
    );
    assert_eq!(
        c["extra_info"],
        json!({"name": "backup_name", "description": "backup_description", "retention_duration": -1})
    );
    let id = c["id"].as_str().unwrap();

    // Read 1: the restore point itself, as 4.3.1 shows it.
    let shown = w.read(&format!("/checkpoints/{id}")).await;
    assert_eq!(shown["checkpoint"]["status"], "protecting");
    assert_eq!(shown["checkpoint"]["extra_info"], Value::Null);
    assert_eq!(
        shown["checkpoint"]["vault"]["resources"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert!(
        shown["checkpoint"]["vault"]
            .get("skipped_resources")
            .is_none()
    );
    // Read 2: its tasks, running, with the manual task example's nulls.
    let tasks = w.read("/operation-logs?operation_type=backup").await;
    assert_eq!(statuses(&tasks, "operation_logs"), ["running", "running"]);
    let t = &tasks["operation_logs"][0];
    assert_eq!(
        (t["checkpoint_id"].as_str(), t["vault_id"].clone()),
        (Some(id), Value::Null)
    );
    assert_eq!(
        (
            t["ended_at"].clone(),
            t["extra_info"]["common"]["progress"].clone()
        ),
        (Value::Null, json!(0))
    );
    assert_eq!(t["extra_info"]["backup"]["incremental"], "false");
    // Read 3 shows it finished.
    let backups = w.read(&format!("/backups?checkpoint_id={id}")).await;
    assert_eq!(statuses(&backups, "backups"), ["available", "available"]);
    for b in backups["backups"].as_array().unwrap() {
        assert_eq!(
            (b["name"].as_str(), b["description"].as_str()),
            (Some("backup_name"), Some("backup_description"))
        );
        assert_eq!(b["extend_info"]["auto_trigger"], false);
        assert!(b["protected_at"].is_string(), "{b}");
    }
    assert_eq!(
        w.read(&format!("/checkpoints/{id}")).await["checkpoint"]["status"],
        "available"
    );
    let tasks = w.read("/operation-logs?operation_type=backup").await;
    assert_eq!(statuses(&tasks, "operation_logs"), ["success", "success"]);
    assert_eq!(
        tasks["operation_logs"][0]["extra_info"]["common"]["progress"],
        100
    );
    assert!(tasks["operation_logs"][0]["ended_at"].is_string());

    // Only the resources listed; a read of something else does not advance it.
    let (_, one) = w.checkpoint(&vault, json!({"resources": ["rp-1"]})).await;
    let one_id = one["checkpoint"]["id"].as_str().unwrap();
    assert_eq!(
        one["checkpoint"]["vault"]["resources"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    for _ in 0..3 {
        w.read(&format!("/checkpoints/{id}")).await;
    }
    let b = w.read(&format!("/backups?checkpoint_id={one_id}")).await;
    assert_eq!(statuses(&b, "backups"), ["protecting"]);
    assert!(
        b["backups"][0]["name"]
            .as_str()
            .unwrap()
            .starts_with("manualbk_")
    );
}

#[tokio::test]
async fn a_busy_resource_is_skipped_and_nothing_left_is_0001() {
    let w = Wire::start().await;
    let vault = w.vault("busy", 2).await;
    let (_, first) = w.checkpoint(&vault, json!({"resources": ["busy-0"]})).await;
    assert_eq!(first["checkpoint"]["status"], "protecting");
    let (s, second) = w.checkpoint(&vault, json!({})).await;
    assert_eq!(s, StatusCode::OK, "{second}");
    let v = &second["checkpoint"]["vault"];
    assert_eq!(v["resources"].as_array().unwrap().len(), 1);
    assert_eq!(v["resources"][0]["id"], "busy-1");
    assert_eq!(v["skipped_resources"][0]["id"], "busy-0");
    assert_eq!(v["skipped_resources"][0]["code"], "BackupService.0002");
    assert_error(
        w.checkpoint(&vault, json!({"resources": ["busy-0"]})).await,
        400,
        "BackupService.0001",
    );
    let empty = w.vault("empty", 0).await;
    assert_error(
        w.checkpoint(&empty, json!({})).await,
        400,
        "BackupService.0001",
    );
}

#[tokio::test]
async fn restore_point_refusals_carry_the_documents_codes() {
    let w = Wire::start().await;
    let vault = w.vault("bad", 1).await;
    let unknown = "3b5816b5-f29c-4172-9d9a-76c719a659ce";
    assert_error(
        w.checkpoint(unknown, json!({})).await,
        404,
        "BackupService.6105",
    );
    assert_error(
        w.checkpoint(&vault, json!({"resources": ["elsewhere"]}))
            .await,
        400,
        "BackupService.6135",
    );
    let details = json!([{"id": "elsewhere", "type": "OS::Nova::Server"}]);
    assert_error(
        w.checkpoint(&vault, json!({"resource_details": details}))
            .await,
        400,
        "BackupService.6135",
    );
    for bad in [
        json!({"name": "a b"}),
        json!({"name": ""}),
        json!({"name": "n".repeat(65)}),
        json!({"description": "d".repeat(256)}),
        json!({"auto_trigger": "yes"}),
        json!({"incremental": 1}),
        json!({"resources": "bad-0"}),
        json!({"resource_details": [{"id": "bad-0"}]}),
        json!({"resource_details": vec![json!({"id": "bad-0", "type": "OS::Nova::Server"}); 257]}),
    ] {
        assert_error(
            w.checkpoint(&vault, bad.clone()).await,
            400,
            "BackupService.9900",
        );
    }
    for body in [json!({}), json!({"checkpoint": {"parameters": {}}})] {
        assert_error(
            w.call(Method::POST, "/checkpoints", Some(body)).await,
            400,
            "BackupService.9900",
        );
    }
    // The document's limits themselves are accepted.
    let edge = json!({"name": "n".repeat(64), "description": "d".repeat(255),
        "resource_details": [{"id": "bad-0", "type": "OS::Nova::Server", "name": ""}]});
    assert_eq!(w.checkpoint(&vault, edge).await.0, StatusCode::OK);
    assert_error(
        w.call(Method::GET, &format!("/checkpoints/{unknown}"), None)
            .await,
        404,
        "BackupService.6217",
    );
    let (s, _) = w
        .call(Method::DELETE, &format!("/vaults/{vault}"), None)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_error(
        w.checkpoint(&vault, json!({})).await,
        400,
        "BackupService.6113",
    );
}

#[tokio::test]
async fn an_ordered_failure_ends_the_next_restore_point_in_error() {
    let w = Wire::start().await;
    let vault = w.vault("fails", 1).await;
    let order = json!({"checkpoints": 1, "code": "BackupService.7101",
        "message": "Backup is not allowed in the current server status."});
    let path = format!("/projects/{P}/vaults/{vault}/fail-checkpoints");
    assert_eq!(w.order(&path, order.clone()).await, StatusCode::NO_CONTENT);
    let missing = format!("/projects/{P}/vaults/no-such-vault/fail-checkpoints");
    assert_eq!(w.order(&missing, order).await, StatusCode::NOT_FOUND);

    let (s, created) = w.checkpoint(&vault, json!({})).await;
    assert_eq!(
        (s, created["checkpoint"]["status"].as_str()),
        (StatusCode::OK, Some("protecting"))
    );
    let id = created["checkpoint"]["id"].as_str().unwrap();
    for _ in 0..2 {
        assert_eq!(
            w.read(&format!("/checkpoints/{id}")).await["checkpoint"]["status"],
            "protecting"
        );
    }
    assert_eq!(
        w.read(&format!("/checkpoints/{id}")).await["checkpoint"]["status"],
        "error"
    );
    let b = w.read(&format!("/backups?checkpoint_id={id}")).await;
    assert_eq!(
        (
            b["backups"][0]["status"].as_str(),
            b["backups"][0]["protected_at"].clone()
        ),
        (Some("error"), Value::Null)
    );
    let t = w
        .read("/operation-logs?operation_type=backup&status=failed")
        .await;
    assert_eq!(t["count"], 1);
    assert_eq!(
        t["operation_logs"][0]["error_info"],
        json!({"code": "BackupService.7101", "message": "Backup is not allowed in the current server status."})
    );
    // The order is used up: the next one succeeds.
    let (_, next) = w.checkpoint(&vault, json!({})).await;
    let next = next["checkpoint"]["id"].as_str().unwrap().to_string();
    for _ in 0..2 {
        w.read(&format!("/checkpoints/{next}")).await;
    }
    assert_eq!(
        w.read(&format!("/checkpoints/{next}")).await["checkpoint"]["status"],
        "available"
    );
}

#[tokio::test]
async fn no_progress_reads_finish_at_once_and_the_5_1_form_has_a_null_vault() {
    let w = Wire::start_with(CbrSimConfig {
        progress_reads: 0,
        ..CbrSimConfig::default()
    })
    .await;
    let vault = w.vault("quick", 1).await;
    let (_, created) = w.checkpoint(&vault, json!({})).await;
    assert_eq!(
        created["checkpoint"]["status"], "protecting",
        "the create answer is always protecting"
    );
    let id = created["checkpoint"]["id"].as_str().unwrap();
    let path = format!("/checkpoints/{id}");
    assert_eq!(w.read(&path).await["checkpoint"]["status"], "available");
    assert_eq!(
        w.order("/null-checkpoint-vault", json!({"enabled": true}))
            .await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(w.read(&path).await["checkpoint"]["vault"], Value::Null);
    w.order("/null-checkpoint-vault", json!({"enabled": false}))
        .await;
    assert_eq!(
        w.read(&path).await["checkpoint"]["vault"]["id"],
        vault.as_str()
    );
}
