//! The simulator on the wire, checked against the document with plain HTTP: envelopes, status
//! codes, nulls, write-only fields, path spellings, token scoping and the control routes.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{CbrSim, CbrSimConfig};

pub(super) const P: &str = "0605767b5780d5762fc5c0118072a564";

pub(super) struct Wire {
    pub sim: CbrSim,
    pub http: reqwest::Client,
    pub token: String,
}

impl Wire {
    pub async fn start() -> Wire {
        Self::start_with(CbrSimConfig::default()).await
    }

    pub async fn start_with(config: CbrSimConfig) -> Wire {
        let sim = CbrSim::start(config, "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        crate::vendor::tls::install_crypto_provider();
        let http = reqwest::Client::new();
        let u = &CbrSimConfig::default().users[0];
        let body = json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": u.name, "password": u.password, "domain": {"name": u.domain}}}}, "scope": {"project": {"name": "ru-moscow-1"}}}});
        let resp = http
            .post(format!("{}/v3/auth/tokens", sim.url()))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED);
        let token = resp.headers()["x-subject-token"]
            .to_str()
            .unwrap()
            .to_string();
        let body: Value = resp.json().await.unwrap();
        assert!(body["token"]["expires_at"].as_str().unwrap().ends_with('Z'));
        Wire { sim, http, token }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method, format!("{}/v3/{P}{path}", self.sim.url()))
            .header("X-Auth-Token", &self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (
            status,
            if text.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).unwrap()
            },
        )
    }
}

pub(super) fn vault_body(name: &str, resources: Value) -> Value {
    json!({"vault": {"name": name, "resources": resources, "enterprise_project_id": "0",
        "billing": {"consistent_level": "crash_consistent", "object_type": "server", "protect_type": "backup", "size": 100}}})
}

#[tokio::test]
async fn vault_envelopes_statuses_and_write_only_fields() {
    let w = Wire::start().await;
    let (s, created) = w
        .call(
            Method::POST,
            "/vaults",
            Some(vault_body(
                "v",
                json!([{"id": "srv-1", "type": "OS::Nova::Server"}]),
            )),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let v = &created["vault"];
    assert_eq!(
        (
            v["billing"]["status"].as_str(),
            v["billing"]["allocated"].as_i64()
        ),
        (Some("available"), Some(40))
    );
    assert_eq!(v["description"], Value::Null);
    assert_eq!(v["provider_id"], "0daac4c5-6707-4851-97ba-169e36266b66");
    assert!(
        v["created_at"].as_str().unwrap().len() == 26
            && !v["created_at"].as_str().unwrap().ends_with('Z')
    );
    let id = v["id"].as_str().unwrap().to_string();

    let (s, updated) = w
        .call(
            Method::PUT,
            &format!("/vaults/{id}"),
            Some(json!({"vault": {"smn_notify": false, "threshold": 70}})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        updated["vault"].get("smn_notify").is_none() && updated["vault"].get("threshold").is_none()
    );
    let stored = &w.sim.console().project(P).vaults[0];
    assert_eq!(
        (stored.smn_notify, stored.threshold),
        (Some(false), Some(70))
    );

    let (s, _) = w
        .call(
            Method::PUT,
            &format!("/vaults/{id}"),
            Some(json!({"vault": {"threshold": 0}})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    for typo in ["addresources", "addressesources", "addressources"] {
        let rid = format!("srv-{typo}");
        let (s, body) = w
            .call(
                Method::POST,
                &format!("/vaults/{id}/{typo}"),
                Some(json!({"resources": [{"id": rid, "type": "OS::Nova::Server"}]})),
            )
            .await;
        assert_eq!(
            (s, body),
            (StatusCode::OK, json!({"add_resource_ids": [rid]}))
        );
    }
    let (s, body) = w
        .call(
            Method::POST,
            &format!("/vaults/{id}/removeresources"),
            Some(json!({"resource_ids": ["nope"]})),
        )
        .await;
    assert_eq!(
        (s, body["error_code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("BackupService.6135"))
    );
    let (s, body) = w.call(Method::DELETE, &format!("/vaults/{id}"), None).await;
    assert_eq!((s, body), (StatusCode::NO_CONTENT, Value::Null));
    // Two reads (the default `deleting_reads`) show it deleting, the third finds nothing.
    for _ in 0..2 {
        let (s, body) = w.call(Method::GET, &format!("/vaults/{id}"), None).await;
        assert_eq!(
            (s, body["vault"]["billing"]["status"].as_str()),
            (StatusCode::OK, Some("deleting"))
        );
    }
    let (s, body) = w.call(Method::GET, &format!("/vaults/{id}"), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!({"error_code": "BackupService.6105", "error_msg": "The vault does not exist."})
    );
}

#[tokio::test]
async fn vault_list_pages_with_total_count() {
    let w = Wire::start().await;
    for i in 0..5 {
        w.sim
            .console()
            .insert_vault(P, &format!("vault-{i}"), "server", 10);
    }
    let (_, page) = w.call(Method::GET, "/vaults?limit=2&offset=4", None).await;
    assert_eq!(
        (
            page["count"].as_i64(),
            page["limit"].as_i64(),
            page["offset"].as_i64()
        ),
        (Some(5), Some(2), Some(4))
    );
    assert_eq!(page["vaults"].as_array().unwrap().len(), 1);
    let (s, _) = w.call(Method::GET, "/vaults?limit=1001", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (_, page) = w.call(Method::GET, "/vaults?name=vault-3", None).await;
    assert_eq!(page["count"], 1);
}

#[tokio::test]
async fn policy_wire_forms() {
    let w = Wire::start().await;
    // The 5.2 example: no operation_type, no enabled.
    let body = json!({"policy": {"name": "dh_test_policy", "trigger": {"properties": {"pattern": ["FREQ=WEEKLY;BYDAY=SU,MO,TU,WE,TH,FR,SA;BYHOUR=23;BYMINUTE=00"]}}, "operation_definition": {"retention_duration_days": 30}}});
    let (s, created) = w.call(Method::POST, "/policies", Some(body)).await;
    assert_eq!(s, StatusCode::OK);
    let p = &created["policy"];
    assert_eq!(
        (
            p["associated_vaults"].clone(),
            p["operation_type"].as_str(),
            p["enabled"].as_bool()
        ),
        (Value::Null, Some("backup"), Some(true))
    );
    assert_eq!(p["trigger"]["name"], "default");
    assert_eq!(
        p["operation_definition"],
        json!({"retention_duration_days": 30})
    );
    let id = p["id"].as_str().unwrap().to_string();
    let update = json!({"policy": {"operation_definition": {"max_backups": 1, "timezone": "UTC+08:00", "day_backups": 0}}});
    let (_, updated) = w
        .call(Method::PUT, &format!("/policies/{id}"), Some(update))
        .await;
    assert_eq!(
        updated["policy"]["operation_definition"],
        json!({"max_backups": 1, "timezone": "UTC+08:00", "day_backups": 0})
    );
    assert_eq!(updated["policy"]["trigger"]["id"], p["trigger"]["id"]);
    assert_eq!(updated["policy"]["associated_vaults"], json!([]));
    let (_, list) = w.call(Method::GET, "/policies", None).await;
    assert_eq!((list["count"].as_i64(), list.get("limit")), (Some(1), None));
    let (s, body) = w.call(Method::POST, "/policies", Some(json!({"policy": {"name": "x", "operation_type": "archive", "operation_definition": {}, "trigger": {"properties": {"pattern": ["FREQ=DAILY;BYHOUR=1;BYMINUTE=0"]}}}}))).await;
    assert_eq!(
        (s, body["error_code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("BackupService.6117"))
    );
    let (s, _) = w
        .call(Method::DELETE, &format!("/policies/{id}"), None)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn tokens_are_checked_and_scoped() {
    let w = Wire::start().await;
    let get = |token: Option<&str>, project: &str| {
        let mut req = w.http.get(format!("{}/v3/{project}/policies", w.sim.url()));
        if let Some(t) = token {
            req = req.header("X-Auth-Token", t);
        }
        req.send()
    };
    assert_eq!(
        get(Some(&w.token), P).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        get(None, P).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get(Some("forged"), P).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get(Some(&w.token), "another-project")
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    w.sim.control().revoke_tokens();
    let resp = get(Some(&w.token), P).await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["error_code"],
        "APIGW.0301"
    );
    let bad = json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "x", "password": "y", "domain": {"name": "z"}}}}, "scope": {"project": {"name": "ru-moscow-1"}}}});
    let resp = w
        .http
        .post(format!("{}/v3/auth/tokens", w.sim.url()))
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(w.sim.console().tokens_issued(), 1);
}

#[tokio::test]
async fn control_routes_dump_and_edit_state() {
    let w = Wire::start().await;
    let base = format!("{}/_sim/huawei-cbr", w.sim.url());
    let resp = w
        .http
        .post(format!("{base}/projects/{P}/vaults"))
        .json(&json!({"name": "console", "object_type": "disk", "size": 50}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let id = resp.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let resp = w
        .http
        .patch(format!("{base}/projects/{P}/vaults/{id}"))
        .json(&json!({"name": "renamed", "status": "frozen"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let (_, v) = w.call(Method::GET, &format!("/vaults/{id}"), None).await;
    assert_eq!(
        (
            v["vault"]["name"].as_str(),
            v["vault"]["billing"]["status"].as_str()
        ),
        (Some("renamed"), Some("frozen"))
    );
    let state: Value = w
        .http
        .get(format!("{base}/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state[P]["vaults"][0]["name"], "renamed");
    let delete = || {
        w.http
            .delete(format!("{base}/projects/{P}/vaults/{id}"))
            .send()
    };
    assert_eq!(delete().await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(delete().await.unwrap().status(), StatusCode::NOT_FOUND);
    let resp = w
        .http
        .post(format!("{base}/clock"))
        .json(&json!({"advance_seconds": 25 * 3600}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let (s, _) = w.call(Method::GET, "/policies", None).await;
    assert_eq!(
        s,
        StatusCode::UNAUTHORIZED,
        "the token expired with the simulator's clock"
    );
    assert_eq!(
        w.sim
            .control()
            .count("GET /v3/{project_id}/vaults/{vault_id}"),
        1,
        "control routes are not counted"
    );
}
