//! The simulator answers in the document's shapes (raw HTTP, no rampart client).

use rampart::simulators::cyberbackup::{CyberBackupSim, PatchSemantics, SimConfig};
use reqwest::Method;
use serde_json::{Value, json};

struct Raw {
    sim: CyberBackupSim,
    http: reqwest::Client,
    token: String,
}

impl Raw {
    async fn start() -> Raw {
        Raw::with(SimConfig::default()).await
    }

    async fn with(config: SimConfig) -> Raw {
        rampart::vendor::tls::install_crypto_provider();
        let sim = CyberBackupSim::start("127.0.0.1:0".parse().unwrap(), config)
            .await
            .unwrap();
        let http = reqwest::Client::new();
        let resp = http
            .post(format!("{}/idp/token", sim.url()))
            .basic_auth("admin", Some("admin-password"))
            .form(&[("grant_type", "password")])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["cache-control"], "no-store");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["token_type"], "bearer");
        assert_eq!(body["expires_in"], 86399, "the document's example value");
        assert_eq!(body["scope"], Value::Null);
        let token = body["access_token"].as_str().unwrap().to_string();
        Raw { sim, http, token }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.sim.url())
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.call(Method::GET, path, None).await
    }

    async fn status(&self, method: Method, path: &str, body: Option<Value>) -> u16 {
        self.call(method, path, body).await.0
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut r = self
            .http
            .request(method, self.url(path))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

/// The smallest plan the simulator takes: a schedule (off), a destination, and alerts.
fn settings() -> Value {
    json!({"alerts": {"enabled": false, "max_days_without_backup": 0},
           "scheduling": {"enabled": false, "backup_sets": [], "scheme": "ALWAYS_FULL"},
           "destination": {"location": {"type": "VAULT", "settings": {"name": "customer-dg09", "storage_type": "LOCAL_FOLDER", "uri": "E:", "use_policy_credentials": true}},
                           "retention": {"execution": "AFTER_BACKUP", "rules": [{"max_count": 7}]}}})
}

fn plan_with(name: &str, settings: Value) -> Value {
    json!({"subject": {"policy": {"enabled": true, "is_features": "", "name": name, "type": "policy.backup.machine",
        "tenant_id": "00000000-0000-0000-0000-000000000000", "settings": settings}}})
}

fn plan_body(name: &str) -> Value {
    plan_with(name, settings())
}

/// Create a plan; its id.
async fn create(raw: &Raw, settings: Value) -> String {
    let (status, created) = raw
        .call(Method::POST, "/policies", Some(plan_with("p", settings)))
        .await;
    assert_eq!(status, 200, "{created}");
    created["result"][0]
        .as_str()
        .unwrap()
        .split('@')
        .next()
        .unwrap()
        .to_string()
}

fn patch(settings: Value) -> Value {
    json!({"subject": {"policy": [{"settings": settings}]}})
}

#[tokio::test]
async fn settings_are_checked_field_by_field_and_refused_with_the_documents_error_body() {
    let raw = Raw::start().await;
    let mut bad = settings();
    bad["scheduling"] = json!({"enabled": true, "scheme": "ALWAYS_FULL", "backup_sets": [
        {"type": "AUTO", "schedule": {"type": "DAILY", "alarms": {"time": {"weekdays": ["MON"], "repeat_at": [{"hour": 24, "minute": 0}]}}}}]});
    let (status, body) = raw
        .call(Method::POST, "/policies", Some(plan_with("bad", bad)))
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], 400);
    assert_eq!(body["error"]["domain"], "General");
    assert_eq!(
        body["error"]["context"]["field"],
        "settings.scheduling.backup_sets[0].schedule.alarms.time.repeat_at[0].hour"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("24 is outside 0..23")
    );
    let mut no_destination = settings();
    no_destination
        .as_object_mut()
        .unwrap()
        .remove("destination");
    let (status, body) = raw
        .call(
            Method::POST,
            "/policies",
            Some(plan_with("x", no_destination)),
        )
        .await;
    assert_eq!(
        (status, body["error"]["context"]["field"].as_str()),
        (400, Some("settings.destination"))
    );
    assert_eq!(
        raw.sim.state.read(|w| w.policies.len()),
        0,
        "nothing created"
    );

    // A PATCH is checked on the plan it would leave: refused, the plan unchanged.
    let id = create(&raw, settings()).await;
    let (status, body) = raw
        .call(
            Method::PATCH,
            &format!("/policies/{id}"),
            Some(patch(json!({"destination": {"retention": {"rules": [{"max_age": {"count": 7, "type": "YEARS"}}]}}}))),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["error"]["context"]["field"],
        "settings.destination.retention.rules[0].max_age.type"
    );
    let (status, body) = raw
        .call(
            Method::PATCH,
            &format!("/policies/{id}"),
            Some(patch(json!({"destination": {"location": {"settings": {"use_policy_credentials": false, "credentials": "b12e9914"}}}}))),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("credentials b12e9914 not found")
    );
    let stored = raw.sim.state.read(|w| w.policies[&id].settings.clone());
    assert_eq!(stored, settings());

    // Credentials: the subtype must go with the type (§2.10.5.1).
    let (status, _) = raw
        .call(Method::POST, "/credentials", Some(json!({"scope": {"type": "share", "subtype": "ftp"}, "identity": "u", "secret": "s"})))
        .await;
    assert_eq!(status, 400);
    let (status, _) = raw
        .call(Method::POST, "/credentials", Some(json!({"scope": {"type": "share", "subtype": "smb"}, "identity": "u", "secret": "s"})))
        .await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn patch_merges_deeply_by_default_and_replaces_sections_when_configured() {
    let to_template = json!({"destination": {"location": {"type": "LOCAL_FOLDER_TEMPLATE", "settings": {"path": "F:/b/"}}}});
    let raw = Raw::start().await;
    let id = create(&raw, settings()).await;
    assert_eq!(
        raw.status(
            Method::PATCH,
            &format!("/policies/{id}"),
            Some(patch(to_template.clone()))
        )
        .await,
        204
    );
    let destination = raw
        .sim
        .state
        .read(|w| w.policies[&id].settings["destination"].clone());
    assert_eq!(destination["location"]["settings"]["path"], "F:/b/");
    assert_eq!(
        destination["location"]["settings"]["uri"], "E:",
        "a deep merge keeps what was not sent"
    );
    assert!(destination["retention"].is_object());
    let nulls = json!({"destination": {"location": {"settings": {"uri": null, "name": null}}}});
    raw.status(
        Method::PATCH,
        &format!("/policies/{id}"),
        Some(patch(nulls)),
    )
    .await;
    let location = raw
        .sim
        .state
        .read(|w| w.policies[&id].settings["destination"]["location"].clone());
    assert!(
        location["settings"].get("uri").is_none(),
        "null removes: {location}"
    );

    let raw = Raw::with(SimConfig {
        patch_semantics: PatchSemantics::ReplaceSections,
        ..Default::default()
    })
    .await;
    let id = create(&raw, settings()).await;
    raw.status(
        Method::PATCH,
        &format!("/policies/{id}"),
        Some(patch(to_template)),
    )
    .await;
    let destination = raw
        .sim
        .state
        .read(|w| w.policies[&id].settings["destination"].clone());
    assert_eq!(
        destination,
        json!({"location": {"type": "LOCAL_FOLDER_TEMPLATE", "settings": {"path": "F:/b/"}}}),
        "the section sent replaces the plan's"
    );
    assert!(
        raw.sim
            .state
            .read(|w| w.policies[&id].settings["alerts"].is_object())
    );
}

#[tokio::test]
async fn the_console_switches_a_plan_off_on_one_device_and_runs_and_prunes_as_scheduled() {
    let raw = Raw::start().await;
    let mut s = settings();
    s["destination"]["retention"] =
        json!({"execution": "AFTER_BACKUP", "rules": [{"max_count": 2}]});
    let id = create(&raw, s).await;
    let machines: Vec<String> = ["DESKTOP-JRPTA4A", "win10x64simple"]
        .iter()
        .map(|n| {
            raw.sim.state.read(|w| {
                w.resources
                    .values()
                    .find(|r| r.name == *n)
                    .unwrap()
                    .id
                    .clone()
            })
        })
        .collect();
    let apply = json!({"policy_id": id, "context": {"items": machines}});
    assert_eq!(
        raw.status(Method::POST, "/policy_applications", Some(apply))
            .await,
        204
    );
    raw.sim.state.settle();
    // Switched off on one device, as in the console, over the control route.
    let resp = raw
        .http
        .patch(format!(
            "{}/_sim/cyberbackup/applications/{id}/{}",
            raw.sim.url(),
            machines[1]
        ))
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let (_, apps) = raw
        .get(&format!(
            "/policy_applications?policy_id={id}&context_id={}",
            machines[1]
        ))
        .await;
    assert_eq!(apps["items"][0][0]["enabled"], false);
    // A scheduled run skips it; four runs leave two backups (max_count 2).
    for _ in 0..4 {
        assert_eq!(raw.sim.state.start_scheduled_run(&id), 1);
        let (_, running) = raw
            .get(&format!(
                "/policy_applications?policy_id={id}&context_id={}",
                machines[0]
            ))
            .await;
        assert_eq!(running["items"][0][0]["running"]["state"], "RUNNING");
        assert!(
            running["items"][0][0]["last_runtime"].is_string(),
            "the run's start shows while it runs"
        );
        raw.sim.state.settle();
        raw.sim.state.advance(jiff::SignedDuration::from_secs(60));
    }
    let (_, backups) = raw.get("/backups?count=true").await;
    assert_eq!(backups["paging"]["total_count"], 2, "retention pruned");
    // Without rules nothing is pruned.
    raw.status(
        Method::PATCH,
        &format!("/policies/{id}"),
        Some(patch(
            json!({"destination": {"retention": {"execution": "AFTER_BACKUP", "rules": []}}}),
        )),
    )
    .await;
    raw.sim.state.start_scheduled_run(&id);
    raw.sim.state.settle();
    let (_, backups) = raw.get("/backups?count=true").await;
    assert_eq!(backups["paging"]["total_count"], 3);
}

#[tokio::test]
async fn a_run_whose_destination_credentials_are_gone_fails() {
    let raw = Raw::start().await;
    let (_, created) = raw
        .call(
            Method::POST,
            "/credentials",
            Some(json!({"scope": {"type": "folder"}, "identity": "u", "secret": "s"})),
        )
        .await;
    let credentials = created["id"].as_str().unwrap().to_string();
    let mut s = settings();
    s["destination"]["location"]["settings"]["credentials"] = json!(credentials);
    s["destination"]["location"]["settings"]["use_policy_credentials"] = json!(false);
    let id = create(&raw, s).await;
    let machine = raw.sim.state.read(|w| {
        w.resources
            .values()
            .find(|r| r.name == "DESKTOP-JRPTA4A")
            .unwrap()
            .id
            .clone()
    });
    raw.status(
        Method::POST,
        "/policy_applications",
        Some(json!({"policy_id": id, "context": {"items": [machine]}})),
    )
    .await;
    raw.sim.state.settle();
    assert!(raw.sim.state.delete_credentials(&credentials));
    raw.sim.state.start_scheduled_run(&id);
    raw.sim.state.settle();
    let (_, apps) = raw
        .get(&format!("/policy_applications?policy_id={id}"))
        .await;
    assert_eq!(apps["items"][0][0]["status"], "ERROR");
}

#[tokio::test]
async fn plans_have_the_documented_odd_shapes() {
    let raw = Raw::start().await;
    let (status, created) = raw
        .call(Method::POST, "/policies", Some(plan_body("a")))
        .await;
    assert_eq!(status, 200, "create answers 200, not 201");
    let reference = created["result"][0].as_str().unwrap();
    let (id, type_) = reference.split_once('@').unwrap();
    assert_eq!(type_, "policy.backup.machine");

    let (_, list) = raw.get("/policies").await;
    assert_eq!(
        list["items"][0]["policy"]["id"], id,
        "list items are wrapped"
    );
    assert!(
        list["items"][0]["policy"]["settings"].is_object(),
        "the list carries settings"
    );
    assert_eq!(list["paging"]["cursors"]["after"], "");

    let (_, one) = raw.get(&format!("/policies/{id}")).await;
    assert_eq!(
        one["items"].as_array().unwrap().len(),
        1,
        "get-by-id is a one-item list"
    );
    assert!(
        one["items"][0]["policy"].get("settings").is_none(),
        "settings only with include_settings"
    );
    let (_, one) = raw
        .get(&format!("/policies/{id}?include_settings=true"))
        .await;
    assert!(one["items"][0]["policy"]["settings"]["alerts"].is_object());

    // PATCH with the document's body: `policy` as an array of partial policies.
    let patch = json!({"subject": {"policy": [{"settings": {"alerts": {"enabled": true, "max_days_without_backup": 5}}}]}});
    let (status, _) = raw
        .call(Method::PATCH, &format!("/policies/{id}"), Some(patch))
        .await;
    assert_eq!(status, 204);
    let (status, warned) = raw
        .call(
            Method::PATCH,
            &format!("/policies/{id}"),
            Some(json!({"subject": {"policy": [{"enabled": false}]}})),
        )
        .await;
    assert_eq!(status, 200, "updated with warnings");
    assert!(warned["issues"].is_array());

    let (status, missing) = raw
        .get("/policies/00000000-0000-0000-0000-00000000dead")
        .await;
    assert_eq!(status, 404);
    assert_eq!(missing["error"]["domain"], "General");
    assert_eq!(missing["error"]["code"], 404);
}

#[tokio::test]
async fn applications_nest_and_follow_the_state_machine() {
    let raw = Raw::start().await;
    let (_, created) = raw
        .call(Method::POST, "/policies", Some(plan_body("a")))
        .await;
    let id = created["result"][0]
        .as_str()
        .unwrap()
        .split('@')
        .next()
        .unwrap()
        .to_string();
    let (_, resources) = raw.get("/resources?name=DESKTOP-JRPTA4A").await;
    let machine = resources["items"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        resources["items"].as_array().unwrap().len(),
        1,
        "filters select by attribute"
    );

    let apply = json!({"policy_id": id, "context": {"items": [machine]}});
    assert_eq!(
        raw.status(Method::POST, "/policy_applications", Some(apply.clone()))
            .await,
        204
    );
    let (status, again) = raw
        .call(Method::POST, "/policy_applications", Some(apply))
        .await;
    assert_eq!(
        (status, again["issues"].as_array().map(Vec::len)),
        (200, Some(1)),
        "non-critical warnings"
    );

    let (_, apps) = raw
        .get(&format!("/policy_applications?policy_id={id}"))
        .await;
    assert!(apps["items"][0].is_array(), "an array of arrays");
    assert_eq!(apps["items"][0][0]["deployment"]["state"], "DEPLOYING");
    assert_eq!(apps["paging"]["cursors"]["total"], 1);
    raw.sim.state.settle();
    let run = json!({"state": "RUNNING", "policy_id": id});
    assert_eq!(
        raw.status(Method::POST, "/policy_applications:run", Some(run))
            .await,
        202
    );
    let (_, apps) = raw
        .get(&format!(
            "/policy_applications?policy_id={id}&context_id=or({machine},x)"
        ))
        .await;
    assert_eq!(apps["items"][0][0]["running"]["state"], "RUNNING");
    raw.sim.state.settle();
    let (_, apps) = raw
        .get(&format!("/policy_applications?policy_id={id}"))
        .await;
    assert_eq!(
        (
            apps["items"][0][0]["running"]["state"].as_str(),
            apps["items"][0][0]["status"].as_str()
        ),
        (Some("IDLE"), Some("OK"))
    );

    let (_, backups) = raw.get("/backups?count=true").await;
    assert_eq!(backups["paging"]["total_count"], 1);
    assert_eq!(
        backups["items"][0]["resource_ids"][0],
        machine.to_ascii_uppercase()
    );
    let (_, archives) = raw.get("/archives").await;
    assert!(
        archives.get("paging").is_none(),
        "as in the document's example"
    );
    assert_eq!(
        archives["items"][0]["vault"]["id"],
        backups["items"][0]["vault_id"]
    );

    let (status, conflict) = raw
        .call(Method::DELETE, &format!("/policies/{id}"), None)
        .await;
    assert_eq!(
        (status, conflict["error"]["code"].as_i64()),
        (409, Some(409))
    );
    let revoke = format!("/policy_applications?policy_id={id}&context_id={machine}");
    assert_eq!(raw.status(Method::DELETE, &revoke, None).await, 204);
    assert_eq!(
        raw.status(Method::DELETE, &format!("/policies/{id}"), None)
            .await,
        204
    );
}

#[tokio::test]
async fn pages_are_followed_with_after_and_limit() {
    let raw = Raw::start().await;
    for i in 0..5 {
        raw.call(Method::POST, "/policies", Some(plan_body(&format!("p{i}"))))
            .await;
    }
    let (_, first) = raw.get("/policies?limit=2&order=desc(name)").await;
    assert_eq!(first["items"][0]["policy"]["name"], "p4");
    let mut after = first["paging"]["cursors"]["after"]
        .as_str()
        .unwrap()
        .to_string();
    let mut seen = 2;
    while !after.is_empty() {
        let q = format!(
            "/policies?limit=2&order=desc(name)&after={}",
            percent_encoding::utf8_percent_encode(&after, percent_encoding::NON_ALPHANUMERIC)
        );
        let (_, page) = raw.get(&q).await;
        assert!(page["paging"]["cursors"]["before"].is_string());
        seen += page["items"].as_array().unwrap().len();
        after = page["paging"]["cursors"]["after"]
            .as_str()
            .unwrap()
            .to_string();
    }
    assert_eq!(seen, 5);
}

#[tokio::test]
async fn credentials_never_show_their_secret() {
    let raw = Raw::start().await;
    let body = json!({"scope": {"type": "folder"}, "description": "новое описание", "identity": "user_name", "secret": "user_pass"});
    let (status, created) = raw.call(Method::POST, "/credentials", Some(body)).await;
    assert_eq!(status, 201);
    let id = created["id"].as_str().unwrap();
    let (_, got) = raw.get(&format!("/credentials/{id}")).await;
    assert_eq!(got["scope"], json!({"type": "folder", "subtype": ""}));
    assert_eq!(
        (got["tenant"].is_string(), got["version"].as_i64()),
        (true, Some(0))
    );
    assert!(!got.to_string().contains("user_pass"));
    assert_eq!(
        raw.status(Method::DELETE, &format!("/credentials/{id}"), None)
            .await,
        204
    );
    assert_eq!(
        raw.status(Method::DELETE, &format!("/credentials/{id}"), None)
            .await,
        404
    );
}

#[tokio::test]
async fn auth_and_content_type_errors_use_the_documented_codes() {
    let raw = Raw::start().await;
    let resp = raw.http.get(raw.url("/policies")).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["domain"], "Access");
    let resp = raw
        .http
        .post(raw.url("/policies"))
        .bearer_auth(&raw.token)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 415, "no Content-Type");
    let resp = raw
        .http
        .post(format!("{}/idp/token", raw.sim.url()))
        .basic_auth("admin", Some("wrong"))
        .form(&[("grant_type", "password")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    // Tokens expire after two hours on the vendor's clock, whatever expires_in said.
    raw.sim.state.advance(jiff::SignedDuration::from_secs(7201));
    assert_eq!(raw.status(Method::GET, "/policies", None).await, 401);
    // Control routes are neither authenticated nor counted.
    let state: Value = raw
        .http
        .get(format!("{}/_sim/cyberbackup/state", raw.sim.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(state["resources"].is_object());
    assert_eq!(raw.sim.control().count("GET /_sim/cyberbackup/state"), 0);
}
