//! The document's vault limits on the wire: 0-255 resources in a create (L1744), 1-256 per
//! addresources and removeresources call (L2820, L2748), names of 1-64 characters (L1741),
//! BackupService.6103 for a resource another vault holds (L5079), and the bare
//! "Parameter verification failed." of BackupService.9900 (L5210), which names no field.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::tests::{P, Wire, vault_body};

fn servers(prefix: &str, n: usize) -> Value {
    Value::Array(
        (0..n)
            .map(|i| json!({"id": format!("{prefix}-{i:03}"), "type": "OS::Nova::Server"}))
            .collect(),
    )
}

fn refused(answer: &(StatusCode, Value), code: &str) {
    assert_eq!(answer.0, StatusCode::BAD_REQUEST, "{answer:?}");
    assert_eq!(answer.1["error_code"], code, "{answer:?}");
}

/// The bare 9900 of the error table, without a parameter name.
fn parameter_refusal(answer: &(StatusCode, Value)) {
    assert_eq!(
        *answer,
        (
            StatusCode::BAD_REQUEST,
            json!({"error_code": "BackupService.9900", "error_msg": "Parameter verification failed."})
        )
    );
}

#[tokio::test]
async fn creates_take_at_most_255_resources_and_names_of_64_characters() {
    let w = Wire::start().await;
    let post = |body: Value| w.call(Method::POST, "/vaults", Some(body));
    parameter_refusal(&post(vault_body("big", servers("a", 256))).await);
    parameter_refusal(&post(vault_body(&"n".repeat(65), json!([]))).await);
    parameter_refusal(&post(vault_body("", json!([]))).await);
    assert!(
        w.sim.console().project(P).vaults.is_empty(),
        "nothing created"
    );
    assert_eq!(
        post(vault_body("full", servers("a", 255))).await.0,
        StatusCode::OK
    );
    // Characters, not bytes.
    assert_eq!(
        post(vault_body(&"я".repeat(64), json!([]))).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn add_and_remove_take_1_to_256_resources_per_call() {
    let w = Wire::start().await;
    let (_, created) = w
        .call(Method::POST, "/vaults", Some(vault_body("v", json!([]))))
        .await;
    let id = created["vault"]["id"].as_str().unwrap().to_string();
    let add_path = format!("/vaults/{id}/addresources");
    let add = |resources: Value| {
        w.call(
            Method::POST,
            &add_path,
            Some(json!({ "resources": resources })),
        )
    };
    parameter_refusal(&add(servers("b", 257)).await);
    parameter_refusal(&add(json!([])).await);
    assert_eq!(add(servers("b", 256)).await.0, StatusCode::OK);
    let remove_path = format!("/vaults/{id}/removeresources");
    let remove = |ids: Vec<String>| {
        w.call(
            Method::POST,
            &remove_path,
            Some(json!({ "resource_ids": ids })),
        )
    };
    let ids: Vec<String> = (0..256).map(|i| format!("b-{i:03}")).collect();
    let mut too_many = ids.clone();
    too_many.push("b-extra".into());
    parameter_refusal(&remove(too_many).await);
    parameter_refusal(&remove(vec![]).await);
    assert_eq!(remove(ids).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_resource_in_another_vault_refuses_the_whole_call_with_6103() {
    let w = Wire::start().await;
    let (_, first) = w
        .call(
            Method::POST,
            "/vaults",
            Some(vault_body("first", servers("c", 2))),
        )
        .await;
    let first = first["vault"]["id"].as_str().unwrap().to_string();
    let mut some_held = servers("d", 3);
    some_held
        .as_array_mut()
        .unwrap()
        .push(json!({"id": "c-001", "type": "OS::Nova::Server"}));
    let answer = w
        .call(
            Method::POST,
            "/vaults",
            Some(vault_body("second", some_held.clone())),
        )
        .await;
    refused(&answer, "BackupService.6103");
    assert_eq!(
        answer.1["error_msg"],
        "The resource has been associated with a vault."
    );
    let (_, second) = w
        .call(
            Method::POST,
            "/vaults",
            Some(vault_body("second", json!([]))),
        )
        .await;
    let second = second["vault"]["id"].as_str().unwrap().to_string();
    let answer = w
        .call(
            Method::POST,
            &format!("/vaults/{second}/addresources"),
            Some(json!({ "resources": some_held })),
        )
        .await;
    refused(&answer, "BackupService.6103");
    let project = w.sim.console().project(P);
    let held = |vault: &str| {
        project
            .vaults
            .iter()
            .find(|v| v.id == vault)
            .unwrap()
            .resources
            .len()
    };
    assert_eq!(
        (held(&first), held(&second)),
        (2, 0),
        "the whole call was refused"
    );
}
