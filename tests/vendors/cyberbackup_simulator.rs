//! The simulator answers in the document's shapes (raw HTTP, no rampart client).

use rampart::simulators::cyberbackup::{CyberBackupSim, SimConfig};
use reqwest::Method;
use serde_json::{Value, json};

struct Raw {
    sim: CyberBackupSim,
    http: reqwest::Client,
    token: String,
}

impl Raw {
    async fn start() -> Raw {
        rampart::vendor::tls::install_crypto_provider();
        let sim = CyberBackupSim::start("127.0.0.1:0".parse().unwrap(), SimConfig::default())
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

fn plan_body(name: &str) -> Value {
    json!({"subject": {"policy": {"enabled": true, "is_features": "", "name": name, "type": "policy.backup.machine",
        "tenant_id": "00000000-0000-0000-0000-000000000000",
        "settings": {"alerts": {"enabled": false, "max_days_without_backup": 0}}}}})
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
