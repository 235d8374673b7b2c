//! Resources (§2.10.1, read-only: agents register them), credentials (§2.10.5: create, get,
//! delete; no list, no update; the secret is never answered), archives (§2.10.6) and backups
//! (§2.10.7), the last two derived from completed runs.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use super::state::{SimCredentials, new_id};
use super::{
    Answer, AppState, ListParams, bad_request, json_body, no_content, not_found, ok_json, views,
};

const TENANT: &str = "00000000-0000-0000-0000-000000000000";
/// §2.10.5.1: each credentials type and the subtypes it takes (`""` where it has none; the
/// archive row lists `''` itself).
const SCOPES: [(&str, &[&str]); 6] = [
    (
        "account",
        &[
            "computer",
            "esx",
            "vcenter",
            "scale",
            "ovirt",
            "ms_exchange",
            "vm_guest_system",
            "ldap",
        ],
    ),
    ("archive", &["endpoint", ""]),
    ("share", &["smb", "nfs", "sftp"]),
    ("asz", &[""]),
    ("db", &["mysql", "mssql"]),
    ("folder", &[""]),
];

fn list_body(page: Vec<Value>, paging: Option<Value>) -> Answer {
    let mut body = json!({"items": page});
    if let Some(p) = paging {
        body["paging"] = p;
    }
    Ok(ok_json(StatusCode::OK, body))
}

pub async fn list_resources(
    State(app): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Answer {
    let items: Vec<Value> = app
        .sim
        .read(|w| w.resources.values().map(views::resource).collect());
    let (page, cursors, _) =
        ListParams { pairs }.apply(items, &[], app.sim.config().default_limit)?;
    list_body(page, Some(json!({"cursors": cursors})))
}

/// One resource, unwrapped (unlike plans).
pub async fn get_resource(State(app): State<AppState>, Path(id): Path<String>) -> Answer {
    let w = app.sim.world.lock().unwrap();
    let r = w
        .resources
        .get(&id.to_ascii_lowercase())
        .ok_or_else(|| not_found("Resource", &id))?;
    Ok(ok_json(StatusCode::OK, views::resource(r)))
}

pub async fn create_credentials(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let body = json_body(&headers, &body)?;
    let text = |p: &str| body.pointer(p).and_then(Value::as_str).map(str::to_string);
    let scope_type = text("/scope/type").unwrap_or_default();
    let Some((_, subtypes)) = SCOPES.iter().find(|(t, _)| *t == scope_type) else {
        let types: Vec<&str> = SCOPES.iter().map(|(t, _)| *t).collect();
        return Err(bad_request(&format!(
            "scope.type must be one of {}",
            types.join(", ")
        )));
    };
    // GUESS: a missing subtype is the empty one (the create example sends only the type).
    let subtype = text("/scope/subtype").unwrap_or_default();
    if !subtypes.contains(&subtype.as_str()) {
        return Err(bad_request(&format!(
            "scope.subtype {subtype:?} does not go with scope.type {scope_type}"
        )));
    }
    let (Some(identity), Some(secret)) = (text("/identity"), text("/secret")) else {
        return Err(bad_request("identity and secret are required"));
    };
    if identity.is_empty() {
        return Err(bad_request("identity must not be empty"));
    }
    let id = new_id();
    let c = SimCredentials {
        id: id.clone(),
        scope_type,
        subtype,
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
    Ok(ok_json(StatusCode::CREATED, json!({"id": id})))
}

pub async fn get_credentials(State(app): State<AppState>, Path(id): Path<String>) -> Answer {
    let w = app.sim.world.lock().unwrap();
    let c = w
        .credentials
        .get(&id.to_ascii_lowercase())
        .ok_or_else(|| not_found("Credentials", &id))?;
    Ok(ok_json(StatusCode::OK, views::credentials(c, TENANT)))
}

pub async fn delete_credentials(State(app): State<AppState>, Path(id): Path<String>) -> Answer {
    let removed = app
        .sim
        .world
        .lock()
        .unwrap()
        .credentials
        .remove(&id.to_ascii_lowercase());
    removed.ok_or_else(|| not_found("Credentials", &id))?;
    no_content()
}

/// Archives. The document's example has no `paging`; it is added only when the caller pages
/// with `limit` (GUESS).
pub async fn list_archives(
    State(app): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Answer {
    let items: Vec<Value> = app.sim.read(|w| {
        w.archives
            .values()
            .map(|a| views::archive(a, TENANT))
            .collect()
    });
    let params = ListParams { pairs };
    let paged = params.get("limit").is_some();
    let (page, cursors, _) = params.apply(items, &[("vaults", "vault_id")], usize::MAX)?;
    list_body(page, paged.then(|| json!({"cursors": cursors})))
}

/// Backups: `paging: {"total_count": N, "cursors": {…}}`, the count only with `count=true`.
pub async fn list_backups(
    State(app): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Answer {
    let items: Vec<Value> = app
        .sim
        .read(|w| w.backups.iter().map(|b| views::backup(b, TENANT)).collect());
    let params = ListParams { pairs };
    let count = params
        .get("count")
        .is_some_and(|c| c.eq_ignore_ascii_case("true"));
    let (page, mut cursors, total) = params.apply(items, &[], app.sim.config().default_limit)?;
    // The document's example ends with `"cursors": {}`.
    if cursors["after"] == "" {
        cursors = json!({});
    }
    let mut paging = json!({"cursors": cursors});
    if count {
        paging["total_count"] = json!(total);
    }
    list_body(page, Some(paging))
}
