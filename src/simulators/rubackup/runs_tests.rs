//! The runs of global schedule rules over HTTP, as a client sees them: tasks and backups appear
//! at the rules' run times as the server clock moves (`/_sim/rubackup/clock`), failures asked
//! for through `/_sim/rubackup/global_schedule/{id}/fail` leave `Error` tasks, and the lists
//! page and filter like every other collection.

use reqwest::Method;
use serde_json::{Value, json};

use super::SimConfig;
use super::test_api::{Api, CLIENT, config, listed};

#[tokio::test]
async fn an_hourly_rule_queues_a_task_at_each_run_time_and_a_backup_when_it_ends() {
    let api = Api::new(config()).await;
    let start = api.to_time_of_day(10 * 60).await; // hh:10
    let rule = api.rule("hourly", json!({"pool_id": "Default"})).await;
    let run = start + 50 * 60; // the next hh:00
    api.advance(run - 30 - start).await;
    assert!(
        api.list("/task_queue").await.is_empty(),
        "no task before the run time"
    );

    api.advance(60).await;
    let tasks = api.list("/task_queue").await;
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    let t = &tasks[0];
    assert_eq!(t["status"], "Execution");
    assert_eq!(t["created"], listed(run));
    assert_eq!(t["finished"], Value::Null);
    assert_eq!(t["rule"], rule);
    assert_eq!(
        (&t["client"], &t["resource"], &t["pool"], &t["backup_type"]),
        (
            &json!(CLIENT),
            &json!("/hourly/"),
            &json!("Default"),
            &json!("full")
        )
    );
    assert!(
        api.list("/repository").await.is_empty(),
        "no backup while it runs"
    );

    api.advance(60).await;
    let (status, body) = api
        .call(Method::GET, &format!("/task_queue/{}", t["id"]), None)
        .await;
    assert_eq!(status, 200);
    let t = &body["data"];
    assert_eq!(t["status"], "Done");
    assert_eq!(t["finished"], listed(run + 60));
    let backups = api.list("/repository").await;
    assert_eq!(backups.len(), 1);
    let b = &backups[0];
    assert_eq!(t["repository_id"], b["id"]);
    assert_eq!(
        (&b["task_id"], &b["rule"], &b["status"]),
        (&t["id"], &json!(rule), &json!("Done"))
    );
    assert_eq!(
        (&b["created"], &b["finished"], &b["store_until"]),
        (
            &json!(listed(run)),
            &json!(listed(run + 60)),
            &json!(listed(run + 60 + 86_400))
        )
    );
    assert_eq!(
        (&b["client"], &b["pool"]),
        (&json!(CLIENT), &json!("Default"))
    );
    assert!(b["size"].as_u64().unwrap() > 0);
    let (status, one) = api
        .call(Method::GET, &format!("/repository/{}", b["id"]), None)
        .await;
    assert_eq!((status, &one["data"]), (200, b));
    let (status, _) = api.call(Method::GET, "/repository/99999", None).await;
    assert_eq!(status, 404);

    // Three more hours: three more runs, at the hour.
    api.advance(3 * 3600).await;
    let tasks = api.list("/task_queue").await;
    let created: Vec<&Value> = tasks.iter().map(|t| &t["created"]).collect();
    let want: Vec<Value> = (0..4).map(|h| json!(listed(run + h * 3600))).collect();
    assert_eq!(created, want.iter().collect::<Vec<_>>());
    assert_eq!(api.list("/repository").await.len(), 4);
}

#[tokio::test]
async fn a_failed_run_leaves_an_error_task_with_the_message_and_no_backup() {
    let api = Api::new(config()).await;
    let start = api.to_time_of_day(3600).await; // 01:00
    let rule = api.rule("nightly", json!({"min": 30, "hour": 2})).await;
    let (status, _) = api
        .control(
            &format!("/global_schedule/{rule}/fail"),
            json!({"runs": 1, "message": "Client is offline"}),
        )
        .await;
    assert_eq!(status, 204);
    api.advance(5400 + 120 - 30).await; // 02:31:30
    let tasks = api.list("/task_queue").await;
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(
        (&tasks[0]["status"], &tasks[0]["message"]),
        (&json!("Error"), &json!("Client is offline"))
    );
    assert_eq!(tasks[0]["created"], listed(start + 5400));
    assert_eq!(tasks[0]["repository_id"], Value::Null);
    assert!(api.list("/repository").await.is_empty());

    // Only the next run failed: the one a day later succeeds.
    api.advance(86_400).await;
    let tasks = api.list("/task_queue").await;
    let statuses: Vec<&Value> = tasks.iter().map(|t| &t["status"]).collect();
    assert_eq!(statuses, [&json!("Error"), &json!("Done")]);
    assert_eq!(tasks[1]["message"], "");
    assert_eq!(api.list("/repository").await.len(), 1);

    let (status, _) = api
        .control("/global_schedule/99999/fail", json!({"runs": 1}))
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn waiting_rules_do_not_run_and_forced_runs_do_at_once() {
    let api = Api::new(SimConfig {
        run_duration: std::time::Duration::ZERO,
        ..config()
    })
    .await;
    let rule = api
        .rule(
            "manual",
            json!({"status": "wait", "backup_type": "incremental"}),
        )
        .await;
    api.advance(86_400).await;
    assert!(
        api.list("/task_queue").await.is_empty(),
        "a waiting rule runs"
    );

    // The document's forced run is a full backup (L4497).
    let (status, body) = api
        .call(
            Method::POST,
            &format!("/global_schedule/{rule}/execution"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let tasks = api.list("/task_queue").await;
    assert_eq!(tasks.len(), 1);
    assert_eq!(
        (&tasks[0]["status"], &tasks[0]["backup_type"]),
        (&json!("Done"), &json!("full"))
    );

    api.control(
        &format!("/global_schedule/{rule}/fail"),
        json!({"runs": 1, "message": "boom"}),
    )
    .await;
    let (status, body) = api
        .control(&format!("/global_schedule/{rule}/run"), json!({}))
        .await;
    assert_eq!(status, 200);
    let (_, task) = api
        .call(Method::GET, &format!("/task_queue/{}", body["task"]), None)
        .await;
    assert_eq!(
        (&task["data"]["status"], &task["data"]["message"]),
        (&json!("Error"), &json!("boom"))
    );
    assert_eq!(api.list("/repository").await.len(), 1);

    let (status, _) = api
        .call(Method::POST, "/global_schedule/99999/execution", None)
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        api.control("/global_schedule/99999/run", json!({})).await.0,
        404
    );
}

#[tokio::test]
async fn tasks_and_backups_page_sort_and_filter_like_every_list() {
    let api = Api::new(config()).await;
    let start = api.to_time_of_day(5 * 60).await; // hh:05
    let rule = api.rule("often", json!({"min": "*/10"})).await;
    api.control(
        &format!("/global_schedule/{rule}/fail"),
        json!({"runs": 2, "message": "no space"}),
    )
    .await;
    api.advance(2 * 3600 - 270).await; // 02:00:30: 12 runs, the last still executing
    assert_eq!(api.list("/task_queue").await.len(), 12);
    assert_eq!(api.list("/task_queue?limit=5&page=3").await.len(), 2);
    let page2 = api.list("/task_queue?limit=5&page=2").await;
    assert_eq!(page2[0]["created"], listed(start + 5 * 60 + 5 * 600));
    let errors = api.list("/task_queue?filterdata=status=\"Error\"").await;
    assert_eq!(errors.len(), 2);
    assert!(errors.iter().all(|t| t["message"] == "no space"));
    let later = api
        .list(&format!(
            "/task_queue?filterdata=created>\"{}\"",
            listed(start + 3600)
        ))
        .await;
    assert_eq!(later.len(), 6);
    let newest = api.list("/task_queue?sort_by=id&order=desc&limit=1").await;
    assert_eq!(newest[0]["status"], "Execution");
    // 12 runs, 2 failed, 1 still running.
    assert_eq!(api.list("/repository").await.len(), 9);
    let backups = api
        .list(&format!(
            "/repository?filterdata=finished<\"{}\"",
            listed(start + 3600)
        ))
        .await;
    assert_eq!(
        backups.len(),
        4,
        "runs at :30 :40 :50 :00 finished before 01:05"
    );
    let (status, _) = api
        .call(Method::GET, "/repository?filterdata=nosuchkey=\"x\"", None)
        .await;
    assert_eq!(status, 400);
    let names: Vec<Value> = api
        .list("/task_status")
        .await
        .iter()
        .map(|s| s["name"].clone())
        .collect();
    for s in ["Execution", "Done", "Error"] {
        assert!(names.contains(&json!(s)), "{s} in {names:?}");
    }
}

#[tokio::test]
async fn retention_queue_clean_up_and_the_catch_up_limit() {
    let api = Api::new(SimConfig {
        catch_up_runs: 5,
        ..config()
    })
    .await;
    api.to_time_of_day(3600).await; // 01:00
    let fields = |auto| json!({"min": 30, "hour": 2, "storage_duration": "2 days", "auto_delete_obsoleted_copy_flag": auto});
    let pruned = api.rule("pruned", fields(true)).await;
    let kept = api.rule("kept", fields(false)).await;
    let every_minute = api
        .rule("busy", json!({"min": "*", "status": "wait"}))
        .await;
    // Four nights: 02:30 on days 1-4, then 03:00 on day 4.
    api.advance(3 * 86_400 + 7200).await;
    let backups = api.list("/repository").await;
    let of = |rule| backups.iter().filter(|b| b["rule"] == rule).count();
    assert_eq!(of(kept), 4, "kept past store_until without auto-delete");
    assert_eq!(of(pruned), 2, "the first two ended more than 2 days ago");
    // Done tasks leave the queue a day (1440 min) after they end: days 1-3 are gone.
    assert_eq!(api.list("/task_queue").await.len(), 2);

    // A day's jump of an every-minute rule makes only the last 5 runs.
    let status = json!({"data": [{"id": every_minute, "status": "run"}]});
    let (code, body) = api
        .call(Method::PATCH, "/global_schedule", Some(status))
        .await;
    assert_eq!(code, 200, "{body}");
    let now = api.advance(86_400).await;
    let busy = api
        .list(&format!("/task_queue?filterdata=rule=\"{every_minute}\""))
        .await;
    assert_eq!(busy.len(), 5);
    let last = now - now.rem_euclid(60);
    assert_eq!(busy[4]["created"], listed(last));
}

/// A strategy in `run` with a daily full backup and two rules: each run queues a task per
/// rule naming the strategy, each leaves a backup; a failed run fails both tasks.
#[tokio::test]
async fn a_strategy_s_run_queues_a_task_per_rule_and_a_failed_run_fails_them_all() {
    let api = Api::new(config()).await;
    let start = api.to_time_of_day(12 * 3600).await; // 12:00
    let strategy = json!({"name": "nightly", "status": "run", "pool_id": "Default",
        "full_archive_enabled": true, "full_min": 0, "full_hour": 1, "full_dom": "*", "full_mon": "*",
        "full_dow": "*", "full_storage_duration": "7 days", "inc_archive_enabled": false});
    let (status, body) = api
        .call(
            Method::POST,
            "/backup_strategies",
            Some(json!({"data": strategy})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let id = api
        .list("/backup_strategies?filterdata=name=\"nightly\"")
        .await[0]["id"]
        .as_i64()
        .unwrap();
    for resource in ["/home/", "/etc/"] {
        let rule = json!({"strategy_id": "nightly", "client_id": CLIENT,
                          "resource_type": "File system", "resource": resource});
        let (status, body) = api
            .call(
                Method::POST,
                "/strategy_rules",
                Some(json!({"data": {"strategy_rule": rule}})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    api.advance(13 * 3600 + 120).await; // 01:02 the next day: the 01:00 run has ended
    let tasks = api.list("/task_queue").await;
    assert_eq!(tasks.len(), 2, "{tasks:?}");
    let run = start + 13 * 3600;
    for t in &tasks {
        assert_eq!(
            (
                &t["task_type"],
                &t["strategy"],
                &t["rule"],
                &t["backup_type"],
                &t["status"]
            ),
            (
                &json!("Backup strategy"),
                &json!(id),
                &Value::Null,
                &json!("full"),
                &json!("Done")
            ),
            "{t}"
        );
        assert_eq!(
            (&t["created"], &t["pool"]),
            (&json!(listed(run)), &json!("Default"))
        );
    }
    let backups = api.list("/repository").await;
    assert_eq!(backups.len(), 2);
    assert!(
        backups.iter().all(|b| b["strategy"] == json!(id)),
        "{backups:?}"
    );

    let (status, _) = api
        .control(
            &format!("/backup_strategies/{id}/fail"),
            json!({"runs": 1, "message": "Client is offline"}),
        )
        .await;
    assert_eq!(status, 204);
    api.advance(86_400).await;
    let failed: Vec<Value> = api
        .list("/task_queue")
        .await
        .into_iter()
        .filter(|t| t["status"] == "Error")
        .collect();
    assert_eq!(failed.len(), 2, "both tasks of the run failed: {failed:?}");
    assert!(failed.iter().all(|t| t["message"] == "Client is offline"));
    assert_eq!(
        api.list("/repository").await.len(),
        2,
        "a failed run keeps nothing"
    );
    let (status, _) = api
        .control("/backup_strategies/999/fail", json!({"runs": 1}))
        .await;
    assert_eq!(status, 404);
}
