//! `/v1/projects/...`: TRS projects, their defaults, statistics and auto-allocation.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::errors::{INVALID_BODY, RsError, invalid_body, not_trs, parse_body, rs_error};
use super::state::{DOMAIN_NAME, Project, SimState, Task, TrsSettings, World, uuid};
use super::wire::{self, flag, lenient_bool};

type Q = Query<HashMap<String, String>>;

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

fn integer(v: &Value, key: &str) -> Option<i64> {
    v.get(key).and_then(Value::as_i64)
}

/// Apply the updatable fields present in `body` (`PUT` takes all of them; `POST` too).
fn apply(p: &mut Project, t: &mut TrsSettings, body: &Value) {
    if let Some(x) = text(body, "name") {
        p.name = x;
    }
    if let Some(x) = body.get("enabled").and_then(lenient_bool) {
        p.enabled = x;
    }
    if let Some(x) = text(body, "description") {
        p.description = x;
    }
    let strings: [(&str, &mut String); 3] = [
        ("flavor_id", &mut t.flavor_id),
        ("image_id", &mut t.image_id),
        ("availability_zone", &mut t.availability_zone),
    ];
    for (key, field) in strings {
        if let Some(x) = text(body, key) {
            *field = x;
        }
    }
    let optional: [(&str, &mut Option<String>); 4] = [
        ("network_id", &mut t.network_id),
        ("instance_init_script", &mut t.instance_init_script),
        ("instance_name_pattern", &mut t.instance_name_pattern),
        ("volume_type_id", &mut t.volume_type_id),
    ];
    for (key, field) in optional {
        if body.get(key).is_some() {
            *field = text(body, key);
        }
    }
    if body.get("min_reserve_vm").is_some() {
        t.min_reserve_vm = integer(body, "min_reserve_vm");
    }
    if body.get("volume_size").is_some() {
        t.volume_size = integer(body, "volume_size");
    }
    if let Some(x) = body.get("user_volume_enabled").and_then(lenient_bool) {
        t.user_volume_enabled = x;
    }
    if let Some(tags) = body.get("tags").and_then(Value::as_array) {
        t.tags = tags
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
    }
}

/// The `{"project": {...}}` wrapper every project write uses.
fn project_body(body: &[u8]) -> Result<Value, RsError> {
    let v: Value = parse_body(body)?;
    v.get("project")
        .filter(|p| p.is_object())
        .cloned()
        .ok_or_else(|| invalid_body(json!({})))
}

/// `POST /v1/projects/`.
pub async fn create(State(state): State<Arc<SimState>>, body: Bytes) -> Response {
    let body = match project_body(&body) {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    let missing: Vec<&str> = ["name", "flavor_id", "image_id"]
        .into_iter()
        .filter(|k| text(&body, k).is_none())
        .collect();
    if !missing.is_empty() {
        return rs_error(INVALID_BODY, json!({ "missing": missing }));
    }
    let name = text(&body, "name").unwrap_or_default();
    state.with(|w| {
        // GUESS: a duplicate name in the domain is reported as an invalid body.
        if w.projects.values().any(|p| p.name == name) {
            return rs_error(INVALID_BODY, json!({ "name": name }));
        }
        let mode = text(&body, "operation_mode").unwrap_or_else(|| "1".into());
        let settings = TrsSettings {
            operation_mode: mode,
            availability_zone: "nova".into(),
            tags: vec!["trs".into()],
            ..Default::default()
        };
        let id = w.insert_project(&name, Some(settings));
        let p = w.projects.get_mut(&id).expect("just inserted");
        let mut t = p.trs.take().expect("a TRS project");
        apply(p, &mut t, &body);
        p.trs = Some(t);
        Json(json!({ "project": { "id": id } })).into_response()
    })
}

/// `PUT /v1/projects/{project_id}`: `operation_mode`, `parent_id` and `is_domain` cannot change
/// (the document's table leaves them out; GUESS: they are ignored, not refused).
pub async fn update(
    State(state): State<Arc<SimState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let body = match project_body(&body) {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    state.with(|w| {
        let Some(p) = w.projects.get_mut(&id).filter(|p| p.trs.is_some()) else {
            return not_trs(&id);
        };
        let mut t = p.trs.take().expect("a TRS project");
        let mode = t.operation_mode.clone();
        apply(p, &mut t, &body);
        t.operation_mode = mode;
        let out = wire::project_updated(p, &t);
        p.trs = Some(t);
        Json(json!({ "project": out })).into_response()
    })
}

/// Whether a project passes the list filters (`name`, `enabled`, `domain`, `user`,
/// `operation_mode`). GUESS (L164-176): the table puts these filters `In: body`; a GET carries
/// them in the query here, as the server list's do (L465-471).
fn listed(w: &World, p: &Project, t: &TrsSettings, q: &HashMap<String, String>) -> bool {
    let user_ok = q.get("user").is_none_or(|u| {
        w.servers
            .values()
            .any(|s| s.project_id == p.id && s.users.contains(u))
    });
    q.get("name").is_none_or(|n| *n == p.name)
        && flag(q.get("enabled")).is_none_or(|e| e == p.enabled)
        && q.get("domain").is_none_or(|d| d == DOMAIN_NAME)
        && q.get("operation_mode")
            .is_none_or(|m| *m == t.operation_mode)
        && user_ok
}

/// `GET /v1/projects/`. GUESS (L158-222): the whole list in one answer, no pagination (the
/// document shows no paging parameter, link or limit).
pub async fn list(State(state): State<Arc<SimState>>, Query(q): Q) -> Response {
    let os = flag(q.get("with_os_object")).unwrap_or(false);
    let projects: Vec<Value> = state.with(|w| {
        w.projects
            .values()
            .filter_map(|p| p.trs.as_ref().map(|t| (p, t)))
            .filter(|(p, t)| listed(w, p, t, &q))
            .map(|(p, t)| wire::project_summary(p, t, os))
            .collect()
    });
    Json(json!({ "projects": projects })).into_response()
}

/// `GET /v1/projects/{project_id}`.
pub async fn get(
    State(state): State<Arc<SimState>>,
    Path(id): Path<String>,
    Query(q): Q,
) -> Response {
    let os = flag(q.get("with_os_object")).unwrap_or(false);
    state.with(|w| match w.trs_project(&id) {
        Some(p) => {
            Json(json!({ "project": wire::project_detail(p, p.trs.as_ref().expect("TRS"), os) }))
                .into_response()
        }
        None => not_trs(&id),
    })
}

/// `GET /v1/projects/actions/get-settings`: the defaults of the document's example.
pub async fn settings() -> Response {
    Json(json!({ "project_settings": { "instance_name_pattern": "trs-**", "default_availability_zone": "nova" } })).into_response()
}

/// `GET /v1/projects/{project_id}/statistics`. Every simulated server is a TRS machine.
pub async fn statistics(State(state): State<Arc<SimState>>, Path(id): Path<String>) -> Response {
    state.with(|w| {
        if w.trs_project(&id).is_none() {
            return not_trs(&id);
        }
        let servers: Vec<_> = w.servers.values().filter(|s| s.project_id == id).collect();
        let count = |f: &dyn Fn(&&super::state::Server) -> bool| servers.iter().filter(|s| f(s)).count();
        let (created, active, error) = (servers.len(), count(&|s| s.status == "ACTIVE"), count(&|s| s.status == "ERROR"));
        let occupied = count(&|s| !s.users.is_empty() || !s.groups.is_empty());
        Json(json!({ "statistics": {
            "created_servers": created, "active_servers": active, "error_servers": error,
            "created_trs_servers": created, "active_trs_servers": active, "error_trs_servers": error,
            "free_trs_servers": created - occupied, "occupied_trs_servers": occupied,
            "simultaneous_trs_servers": count(&|s| s.users.len() > 1),
        }}))
        .into_response()
    })
}

/// `POST /v1/projects/{project_id}/actions/auto-allocate-users`: starts a Celery task.
// GUESS: the document does not say which users get the free machines; the simulated task
// records its run and succeeds without reassigning anything.
pub async fn auto_allocate(State(state): State<Arc<SimState>>, Path(id): Path<String>) -> Response {
    state.with(|w| {
        if w.trs_project(&id).is_none() {
            return not_trs(&id);
        }
        let task = Task {
            id: uuid(),
            name: "rs_server.tasks.auto_allocate_users".into(),
            status: "SUCCESS".into(),
        };
        let task_id = task.id.clone();
        w.tasks.push(task);
        Json(json!({ "task_id": task_id })).into_response()
    })
}
