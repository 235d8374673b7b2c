//! Resources (§2.10.1, read-only: agents register them), credentials (§2.10.5: create, get,
//! delete; no list, no update; the secret is never answered), archives (§2.10.6) and backups
//! (§2.10.7), the last two derived from completed runs.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::state::{SimCredentials, new_id};
use super::{AppState, ListParams, bad_request, json_body, not_found, ok_json, views};

const TENANT: &str = "00000000-0000-0000-0000-000000000000";
const SCOPES: [&str; 6] = ["account", "archive", "share", "asz", "db", "folder"];

pub async fn list_resources(
    State(app): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let items: Vec<Value> = app
        .sim
        .world
        .lock()
        .unwrap()
        .resources
        .values()
        .map(views::resource)
        .collect();
    match (ListParams { pairs }).apply(items, &[], app.sim.config().default_limit) {
        Ok((page, cursors, _)) => ok_json(
            StatusCode::OK,
            json!({"items": page, "paging": {"cursors": cursors}}),
        ),
        Err(r) => r,
    }
}

/// One resource, unwrapped (unlike plans).
pub async fn get_resource(State(app): State<AppState>, Path(id): Path<String>) -> Response {
    match app
        .sim
        .world
        .lock()
        .unwrap()
        .resources
        .get(&id.to_ascii_lowercase())
    {
        Some(r) => ok_json(StatusCode::OK, views::resource(r)),
        None => not_found("Resource", &id),
    }
}

pub async fn create_credentials(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body = match json_body(&headers, &body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let text = |p: &str| body.pointer(p).and_then(Value::as_str).map(str::to_string);
    let scope_type = text("/scope/type").unwrap_or_default();
    if !SCOPES.contains(&scope_type.as_str()) {
        return bad_request(&format!("scope.type must be one of {}", SCOPES.join(", ")));
    }
    let (Some(identity), Some(secret)) = (text("/identity"), text("/secret")) else {
        return bad_request("identity and secret are required");
    };
    let id = new_id();
    let c = SimCredentials {
        id: id.clone(),
        scope_type,
        subtype: text("/scope/subtype").unwrap_or_default(),
        description: text("/description").unwrap_or_default(),
        identity,
        secret,
        created_at: app.sim.now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
    };
    app.sim
        .world
        .lock()
        .unwrap()
        .credentials
        .insert(id.clone(), c);
    ok_json(StatusCode::CREATED, json!({"id": id}))
}

pub async fn get_credentials(State(app): State<AppState>, Path(id): Path<String>) -> Response {
    match app
        .sim
        .world
        .lock()
        .unwrap()
        .credentials
        .get(&id.to_ascii_lowercase())
    {
        Some(c) => ok_json(StatusCode::OK, views::credentials(c, TENANT)),
        None => not_found("Credentials", &id),
    }
}

pub async fn delete_credentials(State(app): State<AppState>, Path(id): Path<String>) -> Response {
    match app
        .sim
        .world
        .lock()
        .unwrap()
        .credentials
        .remove(&id.to_ascii_lowercase())
    {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => not_found("Credentials", &id),
    }
}

/// Archives. The document's example has no `paging`; it is added only when the caller pages
/// with `limit` (GUESS).
pub async fn list_archives(
    State(app): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    app.sim.tick();
    let items: Vec<Value> = app
        .sim
        .world
        .lock()
        .unwrap()
        .archives
        .values()
        .map(|a| views::archive(a, TENANT))
        .collect();
    let params = ListParams { pairs };
    let paged = params.get("limit").is_some();
    match params.apply(items, &[("vaults", "vault_id")], usize::MAX) {
        Ok((page, cursors, _)) if paged => ok_json(
            StatusCode::OK,
            json!({"items": page, "paging": {"cursors": cursors}}),
        ),
        Ok((page, _, _)) => ok_json(StatusCode::OK, json!({"items": page})),
        Err(r) => r,
    }
}

/// Backups: `paging: {"total_count": N, "cursors": {…}}`, the count only with `count=true`.
pub async fn list_backups(
    State(app): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    app.sim.tick();
    let items: Vec<Value> = app
        .sim
        .world
        .lock()
        .unwrap()
        .backups
        .iter()
        .map(|b| views::backup(b, TENANT))
        .collect();
    let params = ListParams { pairs };
    let count = params
        .get("count")
        .is_some_and(|c| c.eq_ignore_ascii_case("true"));
    match params.apply(items, &[], app.sim.config().default_limit) {
        Ok((page, mut cursors, total)) => {
            // The document's example ends with `"cursors": {}`.
            if cursors["after"] == "" {
                cursors = json!({});
            }
            let mut paging = json!({"cursors": cursors});
            if count {
                paging["total_count"] = json!(total);
            }
            ok_json(StatusCode::OK, json!({"items": page, "paging": paging}))
        }
        Err(r) => r,
    }
}
