//! What the API gateway and IAM in front of CBR answer, and the life of a deleted vault, on the
//! wire: unknown APIs, token scopes, `deleting` reads, and writes to a vault being deleted.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::CbrSimConfig;
use super::tests::{P, Wire, vault_body};

fn login(scope: Value) -> Value {
    let u = &CbrSimConfig::default().users[0];
    json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": u.name, "password": u.password, "domain": {"name": u.domain}}}}, "scope": scope}})
}

#[tokio::test]
async fn unknown_apis_answer_404_with_a_gateway_error_body() {
    let w = Wire::start().await;
    let url = w.sim.url();
    let without_token = [
        (Method::GET, format!("{url}/v3/{P}/no-such-thing")),
        (Method::GET, format!("{url}/v2/{P}/vaults")),
        // A known path with a method it does not have is no API either.
        (Method::PATCH, format!("{url}/v3/{P}/vaults")),
        (Method::GET, format!("{url}/v3/auth/tokens")),
    ];
    for (method, url) in without_token {
        let resp = w.http.request(method.clone(), &url).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{method} {url}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error_code"], "APIGW.0101", "{method} {url}");
        assert!(body["error_msg"].as_str().is_some_and(|m| !m.is_empty()));
    }
}

#[tokio::test]
async fn tokens_are_scoped_by_project_id_or_name_or_to_the_account() {
    let w = Wire::start().await;
    let u = &CbrSimConfig::default().users[0];
    let issue = |scope: Value| {
        w.http
            .post(format!("{}/v3/auth/tokens", w.sim.url()))
            .json(&login(scope))
            .send()
    };
    let list = |token: String| {
        w.http
            .get(format!("{}/v3/{P}/vaults", w.sim.url()))
            .header("X-Auth-Token", token)
            .send()
    };
    for scope in [
        json!({"project": {"id": P}}),
        json!({"project": {"name": "ru-moscow-1", "domain": {"id": u.domain_id}}}),
    ] {
        let resp = issue(scope.clone()).await.unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED, "{scope}");
        let token = resp.headers()["x-subject-token"].to_str().unwrap().into();
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["token"]["project"]["id"], P, "{scope}");
        assert_eq!(list(token).await.unwrap().status(), StatusCode::OK);
    }
    let resp = issue(json!({"domain": {"name": u.domain}})).await.unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let token = resp.headers()["x-subject-token"].to_str().unwrap().into();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        (
            body["token"]["domain"]["id"].as_str(),
            body["token"].get("project")
        ),
        (Some(u.domain_id.as_str()), None)
    );
    // L281: CBR is a project-level service; an account-scoped token does not reach it.
    assert_eq!(
        list(token).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let unknown = issue(json!({"project": {"id": "0000"}})).await.unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_deleted_vault_reads_deleting_then_is_gone() {
    let w = Wire::start_with(CbrSimConfig {
        deleting_reads: 3,
        ..CbrSimConfig::default()
    })
    .await;
    let resource = json!([{"id": "srv-1", "type": "OS::Nova::Server"}]);
    let (_, created) = w
        .call(Method::POST, "/vaults", Some(vault_body("v", resource)))
        .await;
    let id = created["vault"]["id"].as_str().unwrap().to_string();
    let path = format!("/vaults/{id}");
    let (s, _) = w.call(Method::DELETE, &path, None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);

    // A list that shows it counts as a read, as a GET does.
    let (_, list) = w.call(Method::GET, "/vaults?status=deleting", None).await;
    assert_eq!(list["vaults"][0]["id"], id.as_str());
    // Writes that add to it are refused; deleting again changes nothing.
    let (s, body) = w
        .call(Method::PUT, &path, Some(json!({"vault": {"name": "x"}})))
        .await;
    assert_eq!(
        (s, body["error_code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("BackupService.6112"))
    );
    let (s, _) = w.call(Method::DELETE, &path, None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    for _ in 0..2 {
        let (s, body) = w.call(Method::GET, &path, None).await;
        assert_eq!(
            (s, body["vault"]["billing"]["status"].as_str()),
            (StatusCode::OK, Some("deleting"))
        );
    }
    let (s, body) = w.call(Method::GET, &path, None).await;
    assert_eq!(
        (s, body["error_code"].as_str()),
        (StatusCode::NOT_FOUND, Some("BackupService.6105"))
    );
    // Gone means gone: its resource may join another vault.
    let again = json!([{"id": "srv-1", "type": "OS::Nova::Server"}]);
    let (s, _) = w
        .call(Method::POST, "/vaults", Some(vault_body("v2", again)))
        .await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn with_no_deleting_reads_a_vault_is_gone_at_once() {
    let w = Wire::start_with(CbrSimConfig {
        deleting_reads: 0,
        ..CbrSimConfig::default()
    })
    .await;
    let (_, created) = w
        .call(Method::POST, "/vaults", Some(vault_body("v", json!([]))))
        .await;
    let path = format!("/vaults/{}", created["vault"]["id"].as_str().unwrap());
    w.call(Method::DELETE, &path, None).await;
    let (s, _) = w.call(Method::GET, &path, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
