//! Urgent backups, restores and the repository's record writes over HTTP, as a client sees
//! them: tasks go `New` → `Execution` → `Done`/`Error` as the server clock moves
//! (`/_sim/rubackup/clock`), a good backup leaves a record with `store_until` from its
//! `storage_duration`, failures ordered through `/_sim/rubackup/{urgent,restores}/fail` leave
//! `Error` tasks and no record. The tests give tasks a long `New` wait and execution so that
//! the real seconds passing between calls never move a task on by themselves.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use super::SimConfig;
use super::test_api::{Api, CLIENT, config, listed};

const WAIT: i64 = 100;
const RUN: i64 = 1000;

fn slow() -> SimConfig {
    SimConfig {
        queue_wait: Duration::from_secs(WAIT as u64),
        run_duration: Duration::from_secs(RUN as u64),
        ..config()
    }
}

/// The document's urgent backup body (L4870-4906), of `pool`.
fn urgent_body(pool: &str) -> Value {
    json!({"data": {
        "task": {
            "resource_type": "File system", "resource": "/home/", "client": CLIENT,
            "backup_type": "full", "pool": pool, "crypto": "nocrypt", "priority": 100,
            "storage_duration": "1 Years", "archiving": false
        },
        "module_extensions": {"parameters": {"file_list": true, "snapshot_size": 10}},
        "common_modules_extensions": {"parameters": {"worker_parallelism": 8}}
    }})
}

/// The document's restore body (L3656-3678).
fn restore_body() -> Value {
    json!({"data": {
        "restore_task": {
            "target_client": "db1 (0a1b2c3d4e5f6071)", "destination_path": "/for_restore/",
            "data_deployment": false, "granular_restore_files": ["/home/a.txt"]
        },
        "module_extensions": {"parameters": {"new_name": ""}},
        "common_modules_extensions": {"parameters": {"worker_parallelism": 8, "memory_threshold": 0}}
    }})
}

/// The task number a queuing 201 names.
fn queued(body: &Value) -> i64 {
    let message = body["message"].as_str().unwrap();
    let prefix =
        "Resource with name 'Task Queue' was created successfully! TASK WAS ADDED TO QUEUE: ";
    let n = message
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{message}"));
    n.parse().unwrap()
}

/// A listed date-time as Unix seconds (the server's zone is UTC).
fn secs(text: &Value) -> i64 {
    let dt: jiff::civil::DateTime = text.as_str().unwrap().parse().unwrap();
    dt.to_zoned(jiff::tz::TimeZone::UTC)
        .unwrap()
        .timestamp()
        .as_second()
}

impl Api {
    async fn urgent(&self, body: Value) -> i64 {
        let (status, reply) = self.call(Method::POST, "/task_queue", Some(body)).await;
        assert_eq!(status, 201, "{reply}");
        assert_eq!(reply["data"], json!({}), "the id is not in data");
        assert_eq!(reply["is_error"], false);
        queued(&reply)
    }

    async fn one(&self, path: &str) -> Value {
        let (status, body) = self.call(Method::GET, path, None).await;
        assert_eq!(status, 200, "{path}: {body}");
        body["data"].clone()
    }

    async fn status(&self, task: i64) -> String {
        let t = self.one(&format!("/task_queue/{task}")).await;
        t["status"].as_str().unwrap().to_string()
    }

    /// An urgent backup of Default taken to its end; the record's id.
    async fn record(&self) -> i64 {
        let task = self.urgent(urgent_body("Default")).await;
        self.advance(WAIT + RUN + 5).await;
        let t = self.one(&format!("/task_queue/{task}")).await;
        t["repository_id"].as_i64().unwrap()
    }
}

#[tokio::test]
async fn an_urgent_backup_is_new_then_executes_then_leaves_a_record_kept_its_duration() {
    let api = Api::new(slow()).await;
    let task = api.urgent(urgent_body("Default")).await;
    let t = api.one(&format!("/task_queue/{task}")).await;
    assert_eq!(t["status"], "New");
    assert_eq!(t["task_type"], "Backup urgent");
    assert_eq!(t["started"], Value::Null);
    assert_eq!(t["storage_duration"], "1 year");
    for (k, v) in [
        ("client", CLIENT),
        ("resource", "/home/"),
        ("pool", "Default"),
    ] {
        assert_eq!(t[k], v, "{k}");
    }
    assert_eq!(t["module_extensions"]["parameters"]["snapshot_size"], 10);
    let created = secs(&t["created"]);
    assert!(
        api.list("/task_queue")
            .await
            .iter()
            .any(|t| t["id"] == task)
    );

    api.advance(WAIT / 2).await;
    assert_eq!(api.status(task).await, "New", "reads do not move it on");
    api.advance(WAIT).await;
    let t = api.one(&format!("/task_queue/{task}")).await;
    assert_eq!(t["status"], "Execution");
    assert_eq!(secs(&t["started"]), created + WAIT);
    assert!(api.list("/repository").await.is_empty(), "nothing made yet");

    api.advance(RUN).await;
    let t = api.one(&format!("/task_queue/{task}")).await;
    assert_eq!(t["status"], "Done");
    assert_eq!(t["message"], "");
    let end = created + WAIT + RUN;
    assert_eq!(secs(&t["finished"]), end);
    let record = api
        .one(&format!("/repository/{}", t["repository_id"]))
        .await;
    assert_eq!(record["task_id"], task);
    assert_eq!(record["rule"], Value::Null);
    for (k, v) in [
        ("client", CLIENT),
        ("resource", "/home/"),
        ("pool", "Default"),
    ] {
        assert_eq!(record[k], v, "{k}");
    }
    let year_later = jiff::Timestamp::from_second(end)
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .checked_add(jiff::Span::new().years(1))
        .unwrap();
    assert_eq!(
        record["store_until"],
        listed(year_later.timestamp().as_second())
    );
    assert_eq!(api.list("/repository").await.len(), 1);
}

#[tokio::test]
async fn an_urgent_backup_body_is_checked_before_anything_is_queued() {
    let api = Api::new(slow()).await;
    let required = [
        "resource_type",
        "resource",
        "client",
        "backup_type",
        "pool",
        "crypto",
        "priority",
        "storage_duration",
        "archiving",
    ];
    let mut bad: Vec<(Value, String)> = Vec::new();
    for key in required {
        let mut body = urgent_body("Default");
        body["data"]["task"].as_object_mut().unwrap().remove(key);
        bad.push((body, format!("{key} is required")));
    }
    for (key, value, says) in [
        ("pool", json!("Nope"), "pool 'Nope' does not exist"),
        ("client", json!("ghost (00ff)"), "not an authorised client"),
        ("storage_duration", json!("forever"), "storage_duration"),
        ("priority", json!(-1), "priority"),
        ("archiving", json!("no"), "archiving"),
        ("backup_type", json!("weekly"), "backup_type"),
        ("resource", json!(""), "resource is required"),
    ] {
        let mut body = urgent_body("Default");
        body["data"]["task"][key] = value;
        bad.push((body, says.to_string()));
    }
    let mut body = urgent_body("Default");
    body["data"]["module_extensions"] = json!({"file_list": true});
    bad.push((body, "module_extensions".into()));
    bad.push((json!({"task": {}}), "no data".into()));
    bad.push((json!({"data": {}}), "no task".into()));
    for (body, says) in bad {
        let (status, reply) = api.call(Method::POST, "/task_queue", Some(body)).await;
        assert_eq!(status, 400, "{says}: {reply}");
        assert_eq!(reply["message"], "Некорректное тело запроса");
        assert_eq!(reply["is_error"], true);
        let reason = reply["errors"]["request"][0].as_str().unwrap();
        assert!(reason.contains(&says), "{reason} should say {says}");
    }
    assert!(api.list("/task_queue").await.is_empty());
    assert!(api.sim.sim.journal().is_empty(), "no write was accepted");
}

#[tokio::test]
async fn ordered_failures_end_urgent_backups_in_error_with_the_message_and_no_record() {
    let api = Api::new(slow()).await;
    let (status, _) = api
        .control(
            "/pool_list",
            json!({"pool_name": "Other", "pool_type": "File system"}),
        )
        .await;
    assert_eq!(status, 201);
    let order = json!({"backups": 1, "message": "no space left in pool", "pool": "Other"});
    assert_eq!(api.control("/urgent/fail", order).await.0, 204);
    let fine = api.urgent(urgent_body("Default")).await;
    let failed = api.urgent(urgent_body("Other")).await;
    let after = api.urgent(urgent_body("Other")).await;
    api.advance(WAIT + RUN + 5).await;
    assert_eq!(api.status(fine).await, "Done", "the order was for Other");
    let t = api.one(&format!("/task_queue/{failed}")).await;
    assert_eq!(t["status"], "Error");
    assert_eq!(t["message"], "no space left in pool");
    assert_eq!(t["repository_id"], Value::Null);
    assert_eq!(api.status(after).await, "Done", "one failure was ordered");
    let records = api.list("/repository").await;
    let made: Vec<&Value> = records.iter().map(|r| &r["task_id"]).collect();
    assert_eq!(made, [&json!(fine), &json!(after)]);

    let order = json!({"backups": 2, "message": "media server down"});
    api.control("/urgent/fail", order).await;
    let failed = api.urgent(urgent_body("Default")).await;
    api.control("/urgent/fail", json!({"backups": 0})).await;
    let fine = api.urgent(urgent_body("Default")).await;
    api.advance(WAIT + RUN + 5).await;
    let t = api.one(&format!("/task_queue/{failed}")).await;
    assert_eq!(t["message"], "media server down");
    assert_eq!(api.status(fine).await, "Done", "the order was withdrawn");
}

#[tokio::test]
async fn a_restore_queues_a_task_that_ends_done_without_a_record_and_is_read_back() {
    let api = Api::new(slow()).await;
    let record = api.record().await;
    let path = format!("/repository/{record}/restoring");
    let (status, reply) = api.call(Method::POST, &path, Some(restore_body())).await;
    assert_eq!(status, 201, "{reply}");
    assert_eq!(reply["data"], json!({}));
    let task = queued(&reply);
    let t = api.one(&format!("/task_queue/{task}")).await;
    assert_eq!(t["status"], "New");
    assert_eq!(t["task_type"], "Restore");
    assert_eq!(t["repository_id"], record);
    assert_eq!(t["client"], "db1 (0a1b2c3d4e5f6071)");
    assert_eq!(t["destination_path"], "/for_restore/");
    assert_eq!(t["resource"], "/home/");
    assert_eq!(t["granular_restore_files"], json!(["/home/a.txt"]));
    api.advance(WAIT + 5).await;
    assert_eq!(api.status(task).await, "Execution");
    api.advance(RUN).await;
    assert_eq!(api.status(task).await, "Done");
    assert_eq!(
        api.list("/repository").await.len(),
        1,
        "a restore makes no record"
    );

    let asked = api.control_get("/restores").await;
    assert_eq!(
        asked,
        json!([{"task": task, "record": record, "body": restore_body()}])
    );
    let journal = api.sim.sim.journal();
    assert_eq!(journal.last().unwrap().0, format!("POST {path}"));
}

#[tokio::test]
async fn a_restore_answers_404_for_an_unknown_record_and_400_for_a_bad_body() {
    let api = Api::new(slow()).await;
    let record = api.record().await;
    for path in ["/repository/999/restoring", "/repository/x/restoring"] {
        let (status, reply) = api.call(Method::POST, path, Some(restore_body())).await;
        assert_eq!(status, 404, "{path}: {reply}");
        assert_eq!(reply["message"], "Резервная копия не найдена");
    }
    let bad_body = Some(json!({"data": {}}));
    let (status, _) = api
        .call(Method::POST, "/repository/999/restoring", bad_body)
        .await;
    assert_eq!(status, 404, "the record is looked up before the body");
    let mut bad = Vec::new();
    for key in ["target_client", "destination_path"] {
        let mut body = restore_body();
        body["data"]["restore_task"]
            .as_object_mut()
            .unwrap()
            .remove(key);
        bad.push((body, format!("{key} is required")));
    }
    for (key, value, says) in [
        (
            "target_client",
            json!("ghost (00ff)"),
            "not an authorised client",
        ),
        ("destination_path", json!(7), "destination_path"),
        ("data_deployment", json!("yes"), "data_deployment"),
        (
            "granular_restore_files",
            json!("/a"),
            "granular_restore_files",
        ),
        (
            "granular_restore_files",
            json!([1]),
            "granular_restore_files",
        ),
    ] {
        let mut body = restore_body();
        body["data"]["restore_task"][key] = value;
        bad.push((body, says.to_string()));
    }
    let mut body = restore_body();
    body["data"]["module_extensions"]["parameters"]["new_name"] = json!(5);
    bad.push((body, "new_name".into()));
    bad.push((json!({"data": {}}), "restore_task".into()));
    let path = format!("/repository/{record}/restoring");
    for (body, says) in bad {
        let (status, reply) = api.call(Method::POST, &path, Some(body)).await;
        assert_eq!(status, 400, "{says}: {reply}");
        let reason = reply["errors"]["request"][0].as_str().unwrap();
        assert!(reason.contains(&says), "{reason} should say {says}");
    }
    let tasks = api.list("/task_queue").await;
    assert!(tasks.iter().all(|t| t["task_type"] != "Restore"));
    assert_eq!(api.control_get("/restores").await, json!([]));
}

#[tokio::test]
async fn an_ordered_restore_failure_ends_in_error_and_the_other_reading_of_the_answer() {
    let api = Api::new(SimConfig {
        restore_message_names_task: false,
        ..slow()
    })
    .await;
    let record = api.record().await;
    let order = json!({"restores": 1, "message": "target is read-only"});
    assert_eq!(api.control("/restores/fail", order).await.0, 204);
    let path = format!("/repository/{record}/restoring");
    for _ in 0..2 {
        let (status, reply) = api.call(Method::POST, &path, Some(restore_body())).await;
        assert_eq!(status, 201);
        assert_eq!(
            reply["message"],
            "Задача на восстановление резервной копии создана"
        );
    }
    api.advance(WAIT + RUN + 5).await;
    let restores: Vec<Value> = api
        .list("/task_queue")
        .await
        .into_iter()
        .filter(|t| t["task_type"] == "Restore")
        .collect();
    assert_eq!(restores.len(), 2);
    assert_eq!(restores[0]["status"], "Error");
    assert_eq!(restores[0]["message"], "target is read-only");
    assert_eq!(restores[1]["status"], "Done", "one failure was ordered");
}

#[tokio::test]
async fn a_record_s_store_until_is_patched_and_the_record_deleted() {
    let api = Api::new(slow()).await;
    let record = api.record().await;
    let path = format!("/repository/{record}");
    let until = json!({"data": {"store_until": "2030-01-02 03:04:05.123456"}});
    let (status, reply) = api.call(Method::PATCH, &path, Some(until)).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["message"], "Период хранения резервной копии изменен");
    let kept = api.one(&path).await;
    assert_eq!(kept["store_until"], "2030-01-02T03:04:05.123456");
    for body in [
        json!({"data": {"store_until": "next year"}}),
        json!({"data": {"store_until": "2030-01-02T03:04:05+03:00"}}),
        json!({"data": {}}),
        json!({"store_until": "2030-01-02"}),
    ] {
        let (status, reply) = api.call(Method::PATCH, &path, Some(body.clone())).await;
        assert_eq!(status, 400, "{body}: {reply}");
    }
    assert_eq!(api.one(&path).await["store_until"], kept["store_until"]);
    let until = json!({"data": {"store_until": "2030-01-02"}});
    let (status, _) = api
        .call(Method::PATCH, "/repository/999", Some(until))
        .await;
    assert_eq!(status, 404);
    let bad_body = Some(json!({"data": {"store_until": "soon"}}));
    let (status, _) = api.call(Method::PATCH, "/repository/999", bad_body).await;
    assert_eq!(status, 404, "the record is looked up before the body");

    let (status, reply) = api.call(Method::DELETE, &path, None).await;
    assert_eq!(status, 200);
    assert_eq!(reply["message"], "Резервная копия удалена");
    for method in [Method::GET, Method::DELETE] {
        let (status, reply) = api.call(method, &path, None).await;
        assert_eq!(status, 404);
        assert_eq!(reply["message"], "Резервная копия не найдена");
    }
}

#[tokio::test]
async fn an_earlier_store_until_deletes_an_auto_deleting_rule_s_record_then() {
    let api = Api::new(config()).await;
    let fields = json!({"status": "wait", "storage_duration": "1 year", "auto_delete_obsoleted_copy_flag": true});
    let rule = api.rule("yearly", fields).await;
    api.control(&format!("/global_schedule/{rule}/run"), json!({}))
        .await;
    let now = api.advance(61).await;
    let record = api.list("/repository").await[0]["id"].as_i64().unwrap();
    let until = json!({"data": {"store_until": listed(now + 3600)}});
    let path = format!("/repository/{record}");
    assert_eq!(api.call(Method::PATCH, &path, Some(until)).await.0, 200);
    api.advance(3500).await;
    assert_eq!(api.list("/repository").await.len(), 1, "not yet obsolete");
    api.advance(200).await;
    assert!(
        api.list("/repository").await.is_empty(),
        "obsolete, deleted"
    );
}

#[tokio::test]
async fn tasks_leave_the_queue_by_id_or_by_status() {
    let api = Api::new(slow()).await;
    api.control("/urgent/fail", json!({"backups": 1, "message": "x"}))
        .await;
    let failed = api.urgent(urgent_body("Default")).await;
    let running = api.urgent(urgent_body("Default")).await;
    let (status, reply) = api
        .call(Method::DELETE, &format!("/task_queue/{running}"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(reply["message"], "Задача удалена из очереди");
    let (status, reply) = api
        .call(Method::DELETE, &format!("/task_queue/{running}"), None)
        .await;
    assert_eq!(status, 404);
    assert_eq!(reply["message"], "Задача не найдена в очереди");
    api.advance(WAIT + RUN + 5).await;
    assert!(
        api.list("/repository").await.is_empty(),
        "a deleted task makes nothing"
    );
    assert_eq!(api.status(failed).await, "Error");
    let (status, _) = api.call(Method::DELETE, "/task_queue/error", None).await;
    assert_eq!(status, 200);
    assert!(api.list("/task_queue").await.is_empty());
    for path in ["/task_queue/error", "/task_queue/running"] {
        assert_eq!(api.call(Method::DELETE, path, None).await.0, 404, "{path}");
    }
}
