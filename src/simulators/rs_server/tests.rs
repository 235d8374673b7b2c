//! The simulator over HTTP, as any client (or a test in another process) sees it: the
//! document's shapes, status codes and error codes, Keystone, and the control routes.

use reqwest::Method;
use serde_json::{Value, json};

use super::RsServerSim;

struct Api {
    sim: RsServerSim,
    http: reqwest::Client,
    token: String,
}

impl Api {
    /// A simulator with a user, an `office` TRS project, and a token scoped to it.
    async fn new() -> Api {
        let sim = RsServerSim::start_local().await.unwrap();
        let user = sim.state.add_user("svc", "pw");
        let office = sim.state.add_project("office");
        let token = sim.state.issue_token(&user, Some(&office));
        crate::vendor::tls::install_crypto_provider();
        Api {
            sim,
            http: reqwest::Client::new(),
            token,
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.sim.url()))
            .header("X-Auth-Token", &self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
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

    async fn get(&self, path: &str) -> (u16, Value) {
        self.call(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    /// The error code of a POST that RS server must refuse.
    async fn refused_post(&self, path: &str, body: Value) -> i64 {
        refused(self.post(path, body).await)
    }

    async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::PUT, path, Some(body)).await
    }

    async fn delete(&self, path: &str) -> (u16, Value) {
        self.call(Method::DELETE, path, None).await
    }

    fn office(&self) -> String {
        self.sim.state.project_id("office").unwrap()
    }
}

/// The code of an RS server error response, which is always a 400.
fn refused((status, body): (u16, Value)) -> i64 {
    assert_eq!(status, 400, "{body}");
    code(&body)
}

fn code(body: &Value) -> i64 {
    body["error"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("not an RS server error: {body}"))
}

#[tokio::test]
async fn a_missing_invalid_or_revoked_token_is_a_400_with_code_24() {
    let mut api = Api::new().await;
    let (status, body) = api.get("/v1/info").await;
    assert_eq!(
        (status, body["info"]["version"].as_str()),
        (200, Some("0.1.0"))
    );
    api.sim.control().revoke_tokens();
    let (status, body) = api.get("/v1/info").await;
    assert_eq!((status, code(&body)), (400, 24));
    assert_eq!(body["error"]["message"], "Auth token is not valid.");
    api.token = String::new();
    let (status, body) = api.get("/v1/servers/").await;
    assert_eq!((status, code(&body)), (400, 24));
}

#[tokio::test]
async fn keystone_issues_scoped_tokens_in_the_subject_header_and_refuses_bad_passwords() {
    let api = Api::new().await;
    let url = format!("{}/v3/auth/tokens", api.sim.url());
    let request = |password: &str| {
        json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "svc", "domain": {"name": "Default"}, "password": password}}},
                        "scope": {"project": {"name": "office", "domain": {"name": "Default"}}}}})
    };
    let bad = api
        .http
        .post(&url)
        .json(&request("nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 401);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["error"]["title"], "Unauthorized");
    let ok = api
        .http
        .post(&url)
        .json(&request("pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 201);
    let token = ok.headers()["x-subject-token"]
        .to_str()
        .unwrap()
        .to_string();
    let body: Value = ok.json().await.unwrap();
    assert_eq!(body["token"]["project"]["id"], api.office());
    assert!(body["token"]["expires_at"].as_str().unwrap().ends_with('Z'));
    let info = api
        .http
        .get(format!("{}/v1/info", api.sim.url()))
        .header("X-Auth-Token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(info.status().as_u16(), 200);
    assert_eq!(api.sim.control().count("POST /v3/auth/tokens"), 2);
}

#[tokio::test]
async fn projects_carry_their_name_only_in_os_project_and_plain_keystone_projects_are_not_trs() {
    let api = Api::new().await;
    let (_, plain) = api.get("/v1/projects/").await;
    assert_eq!(
        plain["projects"].as_array().unwrap().len(),
        1,
        "the admin project is not a TRS project"
    );
    assert!(
        plain["projects"][0].get("name").is_none()
            && plain["projects"][0].get("os_project").is_none()
    );
    let (_, full) = api.get("/v1/projects/?with_os_object=true").await;
    let os = &full["projects"][0]["os_project"];
    assert_eq!(
        (
            os["name"].as_str(),
            os["project_type"].as_str(),
            os["tags"].clone()
        ),
        (Some("office"), Some("TRS"), json!(["trs"]))
    );
    let admin = api.sim.state.project_id("admin").unwrap();
    let (status, err) = api.get(&format!("/v1/projects/{admin}")).await;
    assert_eq!(
        (
            status,
            code(&err),
            err["error"]["data"]["project_name"].as_str()
        ),
        (400, 8, Some(admin.as_str()))
    );
    let (_, detail) = api.get(&format!("/v1/projects/{}", api.office())).await;
    assert!(detail["project"].get("instance_name_pattern").is_some());
}

#[tokio::test]
async fn projects_are_created_with_string_booleans_and_updated_without_their_mode() {
    let api = Api::new().await;
    let body = json!({"project": {"name": "lab", "enabled": "False", "flavor_id": "f", "image_id": "i", "operation_mode": "2"}});
    let (status, created) = api.post("/v1/projects/", body).await;
    assert_eq!(status, 200);
    let id = created["project"]["id"].as_str().unwrap().to_string();
    let (_, listed) = api
        .get("/v1/projects/?enabled=false&with_os_object=true")
        .await;
    assert_eq!(listed["projects"][0]["id"], id.as_str());
    let update = json!({"project": {"volume_size": 5, "operation_mode": "1"}});
    let (_, updated) = api.put(&format!("/v1/projects/{id}"), update).await;
    assert_eq!(
        (
            updated["project"]["volume_size"].as_i64(),
            updated["project"]["operation_mode"].as_str()
        ),
        (Some(5), Some("2"))
    );
    assert_eq!(
        api.refused_post("/v1/projects/", json!({"project": {"name": "x"}}))
            .await,
        9
    );
}

#[tokio::test]
async fn servers_are_created_in_the_tokens_project_and_listed_with_os_server() {
    let api = Api::new().await;
    let body = json!({"server": {"name": "test_vm", "count": 2, "description": "Test TRS vm"}});
    let (status, created) = api.post("/v1/servers/", body).await;
    assert_eq!(status, 200);
    assert_eq!(created["servers"].as_array().unwrap().len(), 2);
    assert!(
        created["reservation_id"]
            .as_str()
            .unwrap()
            .starts_with("r-")
    );
    let (_, listed) = api
        .get(&format!(
            "/v1/servers/?project_id={}&with_os_object=true",
            api.office()
        ))
        .await;
    let names: Vec<&str> = listed["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["os_server"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&"test_vm-1") && names.contains(&"test_vm-2"));
    let first = &listed["servers"][0];
    assert_eq!(
        (
            first["assigned"].as_bool(),
            first["os_server"]["tenant_id"].as_str()
        ),
        (Some(false), Some(api.office().as_str()))
    );
    assert!(first["os_server"]["os-extended-volumes:volumes_attached"].is_array());
    let (_, other) = api.get("/v1/servers/?project_id=elsewhere").await;
    assert_eq!(other["servers"], json!([]));
    assert_eq!(
        api.refused_post("/v1/servers/", json!({"server": {"name": "x".repeat(246)}}))
            .await,
        9
    );
    assert_eq!(
        api.refused_post("/v1/servers/", json!({"server": "not an object"}))
            .await,
        9
    );
}

#[tokio::test]
async fn users_and_groups_are_assigned_to_servers_and_counted_in_statistics() {
    let api = Api::new().await;
    let server = api.sim.state.add_server(&api.office(), "trs-01");
    let path = format!("/v1/servers/{server}/users/");
    let (status, _) = api.post(&path, json!({"users": ["u1", "u2"]})).await;
    assert_eq!(status, 204);
    let (_, users) = api.get(&path).await;
    assert_eq!(users, json!({"users": [{"id": "u1"}, {"id": "u2"}]}));
    let (_, stats) = api
        .get(&format!("/v1/projects/{}/statistics", api.office()))
        .await;
    assert_eq!(
        (
            stats["statistics"]["occupied_trs_servers"].as_i64(),
            stats["statistics"]["simultaneous_trs_servers"].as_i64()
        ),
        (Some(1), Some(1))
    );
    let (status, _) = api.delete(&format!("{path}u1")).await;
    assert_eq!(status, 204);
    let (_, mine) = api.get("/v1/users/u2/servers/").await;
    assert_eq!(mine["servers"][0]["instance_id"], server.as_str());
    let (_, replaced) = api
        .put(
            &format!("/v1/servers/{server}"),
            json!({"server": {"users": [], "groups": ["g"]}}),
        )
        .await;
    assert_eq!(
        (
            replaced["server"]["users"].clone(),
            replaced["server"]["assigned"].as_bool()
        ),
        (json!([]), Some(true))
    );
    assert_eq!(refused(api.get("/v1/servers/no-such-server").await), 1);
}

#[tokio::test]
async fn volume_assignments_use_hyphenated_keys_and_integer_ids() {
    let api = Api::new().await;
    let body = json!({"user_id": "c72a", "project_id": api.office(), "volume_id": "c8327ff2-eb85-4495-ab68-df4aa36d7ae0"});
    let (status, created) = api.post("/v1/volume-assignments/", body).await;
    assert_eq!(status, 200);
    let id = created["volume-assignment"]["id"]
        .as_i64()
        .expect("an integer id");
    let (_, listed) = api.get("/v1/volume-assignments/?user_id=c72a").await;
    assert_eq!(
        listed["volume-assignments"][0]["volume_id"],
        "c8327ff2-eb85-4495-ab68-df4aa36d7ae0"
    );
    let (status, _) = api.delete(&format!("/v1/volume-assignments/{id}")).await;
    assert_eq!(status, 204);
    assert_eq!(
        refused(api.get(&format!("/v1/volume-assignments/{id}")).await),
        1
    );
    assert_eq!(
        api.refused_post("/v1/volume-assignments/", json!({"user_id": "u"}))
            .await,
        9
    );
}

#[tokio::test]
async fn floating_ips_and_tasks() {
    let api = Api::new().await;
    let (status, _) = api
        .post(
            "/v1/users/u1/floating-ip",
            json!({"floating_ip_id": "c3bd"}),
        )
        .await;
    assert_eq!(status, 204);
    let (_, all) = api.get("/v1/users/").await;
    assert_eq!(
        all,
        json!({"users": [{"id": "u1", "floating_ip_id": "c3bd"}]})
    );
    let (_, one) = api.get("/v1/users/u1").await;
    assert_eq!(
        one,
        json!({"user": [{"id": "u1", "floating_ip_id": "c3bd"}]})
    );
    assert_eq!(refused(api.delete("/v1/users/u9/floating-ip").await), 16);

    let (_, started) = api
        .call(
            Method::POST,
            &format!("/v1/projects/{}/actions/auto-allocate-users", api.office()),
            None,
        )
        .await;
    let task = started["task_id"].as_str().unwrap().to_string();
    let (_, state) = api.get(&format!("/v1/tasks/{task}")).await;
    assert_eq!(state["status"], "SUCCESS");
    let (_, latest) = api.get("/v1/tasks").await;
    assert_eq!(latest, json!({"tasks": [task]}));
    let (_, unknown) = api.get("/v1/tasks/never-ran").await;
    assert_eq!(unknown, json!({"status": "PENDING"}));
}

#[tokio::test]
async fn control_routes_add_and_remove_machines_without_being_counted() {
    let api = Api::new().await;
    let ctl = |p: &str| format!("{}/_sim/rs-server/{p}", api.sim.url());
    let created: Value = api
        .http
        .post(ctl("servers"))
        .json(&json!({"projectId": api.office(), "name": "trs-07"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    let volume: Value = api
        .http
        .post(ctl("volumes"))
        .json(&json!({"projectId": api.office(), "userId": "u1"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (_, listed) = api.get("/v1/servers/").await;
    assert_eq!(listed["servers"][0]["id"], id.as_str());
    let (_, assignments) = api.get("/v1/volume-assignments/").await;
    assert_eq!(
        assignments["volume-assignments"][0]["volume_id"],
        volume["volumeId"]
    );
    let gone = api
        .http
        .delete(ctl(&format!("servers/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status().as_u16(), 204);
    let again = api
        .http
        .delete(ctl(&format!("servers/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 404);
    let (_, listed) = api.get("/v1/servers/").await;
    assert_eq!(listed["servers"], json!([]));
    let state: Value = api
        .http
        .get(ctl("state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        state["users"].to_string().contains("svc") && !state.to_string().contains("\"pw\""),
        "passwords stay out of the dump"
    );
    assert_eq!(
        api.sim.control().total(),
        3,
        "only the three vendor calls are counted"
    );
}

#[tokio::test]
async fn an_expired_licence_fails_every_call_but_info_with_code_2() {
    let api = Api::new().await;
    api.sim.state.set_license_expired(true);
    assert_eq!(refused(api.get("/v1/servers/").await), 2);
    let (status, info) = api.get("/v1/info").await;
    assert_eq!(status, 200);
    assert!(
        info["info"]["license"]["expire_at"].as_i64().unwrap() < jiff::Timestamp::now().as_second()
    );
}
