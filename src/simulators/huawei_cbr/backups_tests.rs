//! Backups and backup tasks on the wire as policy runs make them (L3315-3521, L434-973): runs at
//! the trigger's occurrences as the simulator's clock passes them, failed runs told by the
//! control routes, retention, and the list's filters, paging, sort and refusals.

use jiff::{SignedDuration, Timestamp};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::model::wire_time;
use super::tests::{P, Wire, vault_body};

fn servers(prefix: &str, n: usize) -> Value {
    (0..n)
        .map(|i| json!({"id": format!("{prefix}-{i}"), "type": "OS::Nova::Server"}))
        .collect()
}

impl Wire {
    /// A GET with a fresh token (the clock moves past a token's 24 hours).
    async fn get(&self, path: &str) -> Value {
        let resp = self
            .http
            .get(format!("{}/v3/{P}{path}", self.sim.url()))
            .header("X-Auth-Token", self.sim.console().issue_token(P))
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let body: Value = resp.json().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body
    }

    /// A vault of `n` servers (ids `{name}-0`…) under a new policy; returns (vault, policy).
    async fn vault_with_policy(
        &self,
        name: &str,
        n: usize,
        pattern: &str,
        od: Value,
    ) -> (String, String) {
        let (_, v) = self
            .call(
                Method::POST,
                "/vaults",
                Some(vault_body(name, servers(name, n))),
            )
            .await;
        let vault = v["vault"]["id"].as_str().unwrap().to_string();
        let body = json!({"policy": {"name": format!("{name}-policy"), "operation_definition": od,
            "trigger": {"properties": {"pattern": [pattern]}}}});
        let (_, p) = self.call(Method::POST, "/policies", Some(body)).await;
        let policy = p["policy"]["id"].as_str().unwrap().to_string();
        let (s, _) = self
            .call(
                Method::POST,
                &format!("/vaults/{vault}/associatepolicy"),
                Some(json!({"policy_id": policy})),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        (vault, policy)
    }

    /// Move the simulator's clock to `t` through the control route (whole seconds).
    async fn clock_to(&self, t: Timestamp) {
        let by = t.duration_since(self.sim.console().now()).as_secs();
        let resp = self
            .http
            .post(format!("{}/_sim/huawei-cbr/clock", self.sim.url()))
            .json(&json!({"advance_seconds": by}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    }

    async fn control(&self, path: &str, body: Value) -> StatusCode {
        let url = format!("{}/_sim/huawei-cbr/projects/{P}{path}", self.sim.url());
        self.http
            .post(url)
            .json(&body)
            .send()
            .await
            .unwrap()
            .status()
    }
}

/// A daily pattern whose next occurrence is about `hours` ahead, and that occurrence.
fn daily_in(w: &Wire, hours: i64) -> (String, Timestamp) {
    let target = w.sim.console().now() + SignedDuration::from_hours(hours);
    let z = target.to_zoned(jiff::tz::TimeZone::UTC);
    let at = z
        .date()
        .at(z.hour(), z.minute(), 0, 0)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .unwrap();
    let pattern = format!(
        "FREQ=DAILY;INTERVAL=1;BYHOUR={};BYMINUTE={:02}",
        z.hour(),
        z.minute()
    );
    (pattern, at.timestamp())
}

fn times(list: &Value, key: &str) -> Vec<String> {
    list["backups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b[key].as_str().unwrap_or_default().to_string())
        .collect()
}

const MINUTE: SignedDuration = SignedDuration::from_secs(60);
const DAY: SignedDuration = SignedDuration::from_hours(24);

#[tokio::test]
async fn backups_appear_at_each_occurrence_and_not_before() {
    let w = Wire::start().await;
    let (pattern, at) = daily_in(&w, 3);
    let (vault, policy) = w.vault_with_policy("nightly", 2, &pattern, json!({})).await;
    // A disabled policy and a vault without a policy make nothing.
    let (off, off_policy) = w.vault_with_policy("off", 1, &pattern, json!({})).await;
    let (_, idle) = w
        .call(
            Method::POST,
            "/vaults",
            Some(vault_body("idle", servers("idle", 1))),
        )
        .await;
    let (s, _) = w
        .call(
            Method::PUT,
            &format!("/policies/{off_policy}"),
            Some(json!({"policy": {"enabled": false}})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);

    w.clock_to(at - MINUTE).await;
    assert_eq!(
        w.get("/backups").await["count"],
        0,
        "nothing before the first occurrence"
    );
    assert_eq!(
        w.get("/operation-logs?operation_type=backup").await["count"],
        0
    );

    w.clock_to(at + MINUTE).await;
    let list = w.get("/backups").await;
    assert_eq!(list["count"], 2, "{list}");
    let backups = list["backups"].as_array().unwrap();
    for b in backups {
        assert_eq!(b["created_at"], wire_time(at));
        assert_eq!(b["protected_at"], wire_time(at));
        assert_eq!(
            (b["status"].as_str(), b["vault_id"].as_str()),
            (Some("available"), Some(vault.as_str()))
        );
        assert_eq!(b["extend_info"]["auto_trigger"], true);
        assert_eq!(
            (b["resource_size"].as_i64(), b["image_type"].as_str()),
            (Some(40), Some("backup"))
        );
        assert!(b["name"].as_str().unwrap().starts_with("autobk_"), "{b}");
        assert_eq!(b["expired_at"], Value::Null, "no retention: kept for ever");
    }
    assert_eq!(
        backups[0]["checkpoint_id"], backups[1]["checkpoint_id"],
        "one restore point a run"
    );
    let mut resources: Vec<&str> = backups
        .iter()
        .map(|b| b["resource_id"].as_str().unwrap())
        .collect();
    resources.sort();
    assert_eq!(resources, ["nightly-0", "nightly-1"]);
    let one = w
        .get(&format!("/backups/{}", backups[0]["id"].as_str().unwrap()))
        .await;
    assert_eq!(one["backup"], backups[0]);

    let tasks = w.get("/operation-logs?operation_type=backup").await;
    assert_eq!(tasks["count"], 2);
    for t in tasks["operation_logs"].as_array().unwrap() {
        assert_eq!(
            (t["status"].as_str(), t["policy_id"].as_str()),
            (Some("success"), Some(policy.as_str()))
        );
        assert_eq!(
            (t["started_at"].clone(), t["ended_at"].clone()),
            (json!(wire_time(at)), json!(wire_time(at)))
        );
        assert_eq!(t["error_info"], json!({"code": "", "message": ""}));
        let backup_id = &t["extra_info"]["backup"]["backup_id"];
        assert!(
            backups
                .iter()
                .any(|b| b["id"] == *backup_id
                    && b["resource_id"] == t["extra_info"]["resource"]["id"]),
            "{t}"
        );
    }

    // Not again until the next day's occurrence, then once.
    w.clock_to(at + DAY - MINUTE).await;
    assert_eq!(w.get("/backups").await["count"], 2);
    w.clock_to(at + DAY + MINUTE).await;
    let list = w.get("/backups").await;
    assert_eq!(list["count"], 4);
    assert_eq!(
        times(&list, "created_at")[..2],
        [wire_time(at + DAY), wire_time(at + DAY)]
    );
    let idle = idle["vault"]["id"].as_str().unwrap();
    for other in [off.as_str(), idle] {
        assert_eq!(
            w.get(&format!("/backups?vault_id={other}")).await["count"],
            0
        );
    }
}

#[tokio::test]
async fn a_failed_run_leaves_an_error_backup_and_a_failed_task_with_the_message() {
    let w = Wire::start().await;
    // Scheduled twelve hours ahead: only the runs asked for below happen.
    let (pattern, _) = daily_in(&w, 12);
    let (vault, policy) = w.vault_with_policy("flaky", 2, &pattern, json!({})).await;
    let fail = json!({"runs": 1, "code": "BackupService.6215", "message": "disk is busy"});
    assert_eq!(
        w.control(&format!("/vaults/{vault}/fail-runs"), fail).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        w.control("/vaults/nope/fail-runs", json!({"runs": 1}))
            .await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        w.control(&format!("/policies/{policy}/run"), json!({}))
            .await,
        StatusCode::NO_CONTENT
    );

    let list = w.get("/backups").await;
    assert_eq!(list["count"], 2);
    assert!(
        list["backups"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["status"] == "error" && b["protected_at"].is_null()),
        "{list}"
    );
    let failed = w
        .get(&format!("/operation-logs?status=failed&vault_id={vault}"))
        .await;
    assert_eq!(failed["count"], 2, "{failed}");
    let t = &failed["operation_logs"][0];
    assert_eq!(
        t["error_info"],
        json!({"code": "BackupService.6215", "message": "disk is busy"})
    );
    assert_eq!(
        (t["operation_type"].as_str(), t["vault_name"].as_str()),
        (Some("backup"), Some("flaky"))
    );
    let backup_id = t["extra_info"]["backup"]["backup_id"].as_str().unwrap();
    let one = w.get(&format!("/backups/{backup_id}")).await;
    assert_eq!(
        (
            one["backup"]["status"].as_str(),
            one["backup"]["resource_id"].clone()
        ),
        (Some("error"), t["extra_info"]["resource"]["id"].clone())
    );
    let fetched = w
        .get(&format!("/operation-logs/{}", t["id"].as_str().unwrap()))
        .await;
    assert_eq!(fetched["operation_log"], *t);

    // The plan was for one run: the next succeeds.
    w.sim.console().advance_clock(MINUTE);
    assert!(w.sim.console().run_policy(P, &policy));
    assert_eq!(w.get("/backups?status=available").await["count"], 2);
    assert_eq!(
        w.get("/backups?status=available&status=error").await["count"],
        4
    );
    assert_eq!(
        w.get("/operation-logs?status=success&operation_type=backup")
            .await["count"],
        2
    );
    let newest = w.get("/backups?limit=1").await;
    assert_eq!(newest["backups"][0]["status"], "available");
}

#[tokio::test]
async fn retention_keeps_max_backups_available_ones_and_expires_by_days() {
    let w = Wire::start().await;
    let (pattern, at) = daily_in(&w, 3);
    let (by_count, _) = w
        .vault_with_policy("count", 2, &pattern, json!({"max_backups": 2}))
        .await;
    let (by_age, _) = w
        .vault_with_policy("age", 1, &pattern, json!({"retention_duration_days": 2}))
        .await;
    for day in 0..4 {
        if day == 2 {
            assert!(
                w.sim
                    .console()
                    .fail_runs(P, &by_count, 1, "BackupService.6215", "busy")
            );
        }
        w.clock_to(at + DAY * day + MINUTE).await;
    }
    let kept = w
        .get(&format!("/backups?vault_id={by_count}&resource_id=count-0"))
        .await;
    // Runs on days 0-3, day 2 failed: the two newest available ones and the error one stay.
    assert_eq!(
        times(&kept, "created_at"),
        [at + DAY * 3, at + DAY * 2, at + DAY].map(wire_time)
    );
    assert_eq!(times(&kept, "status"), ["available", "error", "available"]);
    assert_eq!(
        w.get(&format!("/backups?vault_id={by_count}")).await["count"],
        6
    );

    let aged = w.get(&format!("/backups?vault_id={by_age}")).await;
    assert_eq!(
        times(&aged, "created_at"),
        [at + DAY * 3, at + DAY * 2].map(wire_time),
        "days 0 and 1 expired by day 3"
    );
    assert_eq!(
        times(&aged, "expired_at"),
        [at + DAY * 5, at + DAY * 4].map(wire_time)
    );
}

#[tokio::test]
async fn the_list_pages_filters_and_sorts_with_the_total_count() {
    let w = Wire::start().await;
    // Scheduled twelve hours ahead: only the four runs asked for below happen.
    let (pattern, _) = daily_in(&w, 12);
    let (a, pa) = w.vault_with_policy("a", 3, &pattern, json!({})).await;
    let (_, pb) = w.vault_with_policy("b", 1, &pattern, json!({})).await;
    let console = w.sim.console();
    let mut run_times = Vec::new();
    for _ in 0..4 {
        console.advance_clock(SignedDuration::from_secs(3600));
        run_times.push(console.now());
        assert!(console.run_policy(P, &pa) && console.run_policy(P, &pb));
    }
    let all = w.get("/backups?limit=1000").await;
    let total = all["count"].as_i64().unwrap();
    assert_eq!(total, 16, "{all}");
    let page = w.get("/backups?limit=5").await;
    assert_eq!(
        (
            page["count"].as_i64(),
            page["limit"].as_i64(),
            page["offset"].as_i64()
        ),
        (Some(16), Some(5), Some(0))
    );
    assert_eq!(page["backups"].as_array().unwrap().len(), 5);
    let last = w.get("/backups?limit=5&offset=15").await;
    assert_eq!(
        (
            last["count"].as_i64(),
            last["backups"].as_array().unwrap().len()
        ),
        (Some(16), 1)
    );

    let desc = times(&all, "created_at");
    assert!(
        desc.windows(2).all(|p| p[0] >= p[1]),
        "newest first by default"
    );
    let asc = times(&w.get("/backups?sort=created_at:asc").await, "created_at");
    assert_eq!(asc, desc.iter().rev().cloned().collect::<Vec<_>>());
    let by_protection = times(
        &w.get("/backups?sort=protected_at:asc").await,
        "protected_at",
    );
    assert!(by_protection.windows(2).all(|p| p[0] <= p[1]));

    // marker continues after the named backup in the same order.
    let first = w.get("/backups?limit=5").await;
    let marker = first["backups"][4]["id"].as_str().unwrap();
    let next = w.get(&format!("/backups?limit=5&marker={marker}")).await;
    assert_eq!(
        next["backups"],
        w.get("/backups?limit=5&offset=5").await["backups"]
    );

    assert_eq!(w.get(&format!("/backups?vault_id={a}")).await["count"], 12);
    assert_eq!(
        w.get(&format!("/backups?vault_id={a}&resource_id=a-1"))
            .await["count"],
        4
    );
    assert_eq!(w.get("/backups?image_type=backup").await["count"], 16);
    assert_eq!(w.get("/backups?status=error").await["count"], 0);
    // The middle two runs by time: seconds-precision bounds around them.
    let (from, to) = (run_times[1] - MINUTE, run_times[2] + MINUTE);
    let fmt = |t: Timestamp| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let window = w
        .get(&format!(
            "/backups?start_time={}&end_time={}",
            fmt(from),
            fmt(to)
        ))
        .await;
    assert_eq!(window["count"], 8, "{window}");
    let tasks = w
        .get(&format!("/operation-logs?vault_id={a}&limit=2&offset=1"))
        .await;
    assert_eq!(
        (
            tasks["count"].as_i64(),
            tasks["operation_logs"].as_array().unwrap().len()
        ),
        (Some(12), 2)
    );
    let tasks = w
        .get(&format!(
            "/operation-logs?operation_type=backup&start_time={}&end_time={}",
            fmt(from),
            fmt(to)
        ))
        .await;
    assert_eq!(tasks["count"], 8);
}

#[tokio::test]
async fn bad_parameters_are_refused_with_the_bare_9900() {
    let w = Wire::start().await;
    let refusal =
        json!({"error_code": "BackupService.9900", "error_msg": "Parameter verification failed."});
    for query in [
        "/backups?limit=0",
        "/backups?limit=1001",
        "/backups?limit=ten",
        "/backups?offset=-1",
        "/backups?status=available&status=broken",
        "/backups?sort=size",
        "/backups?sort=name:up",
        "/backups?start_time=yesterday",
        "/backups?end_time=2018-02-01",
        "/backups?image_type=snapshot",
        "/backups?marker=nope",
        "/operation-logs?status=done",
        "/operation-logs?operation_type=archive",
        "/operation-logs?limit=0",
        "/operation-logs?start_time=2018",
    ] {
        let (s, body) = w.call(Method::GET, query, None).await;
        assert_eq!(
            (s, body),
            (StatusCode::BAD_REQUEST, refusal.clone()),
            "{query}"
        );
    }
    let (s, body) = w.call(Method::GET, "/backups/nope", None).await;
    assert_eq!(
        (s, body["error_code"].as_str()),
        (StatusCode::NOT_FOUND, Some("BackupService.6200"))
    );
}

#[tokio::test]
async fn removed_resources_lose_their_backups_and_a_dissociated_vault_stops() {
    let w = Wire::start().await;
    let (pattern, at) = daily_in(&w, 3);
    let (vault, policy) = w.vault_with_policy("gone", 2, &pattern, json!({})).await;
    w.clock_to(at + MINUTE).await;
    assert_eq!(w.get("/backups").await["count"], 2);
    let remove = json!({"resource_ids": ["gone-0"]});
    let path = format!("/vaults/{vault}/removeresources");
    assert_eq!(
        w.call(Method::POST, &path, Some(remove)).await.0,
        StatusCode::OK
    );
    let left = w.get("/backups").await;
    assert_eq!(times(&left, "resource_id"), ["gone-1"]);
    let path = format!("/vaults/{vault}/dissociatepolicy");
    let body = json!({"policy_id": policy});
    assert_eq!(
        w.call(Method::POST, &path, Some(body)).await.0,
        StatusCode::OK
    );
    w.clock_to(at + DAY + MINUTE).await;
    assert_eq!(
        w.get("/backups").await["count"],
        1,
        "no run after the policy was removed"
    );
}
