//! `/policies` (§2.10.3): create answers `{"result": ["<uuid>@<type>"]}` with 200; lists wrap
//! each plan as `{"policy": {…}}`; get-by-id is a one-item list and shows `settings` only with
//! `include_settings=true`; PATCH combines settings as `SimConfig::patch_semantics` says (204,
//! or 200 with warnings). Settings are checked field by field on create and after every PATCH
//! (`plan_settings`), and refused with the document's error body (§2.7.1).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use super::fields::{Refusal, join, one_of, string};
use super::state::{SimPolicy, new_id, stamp};
use super::{
    Answer, ApiError, AppState, ListParams, bad_request, json_body, no_content, not_found, ok_json,
    patch, plan_settings, views,
};

/// The plan types the document names (reference table plus its examples).
pub const TYPES: [&str; 7] = [
    "policy.backup.machine",
    "policy.backup.image",
    "policy.backup.disks",
    "policy.backup.files",
    "policy.backup.mssql",
    "policy.backup.msexchange.db",
    "policy.backup.msexchange.doc",
];

/// `subject.policy` is an object in the create example and an array in the PATCH example
/// (and the create prose); both are taken.
fn subject_policies(body: &Value) -> Result<Vec<Value>, ApiError> {
    match body.pointer("/subject/policy") {
        Some(Value::Array(items)) if !items.is_empty() => Ok(items.clone()),
        Some(obj @ Value::Object(_)) => Ok(vec![obj.clone()]),
        _ => Err(bad_request("body must be {\"subject\": {\"policy\": …}}")),
    }
}

/// A 400 naming the refused field (§2.7.1 body, `context.field`).
fn refused(r: Refusal) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        format!("BadRequestError: {r}"),
        json!({"field": r.path}),
    )
}

pub async fn create(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Answer {
    let body = json_body(&headers, &body)?;
    let p = subject_policies(&body)?.remove(0);
    let at = "subject.policy";
    let element = super::fields::object(&p, at).map_err(refused)?;
    let type_ = one_of(element, "type", at, &TYPES)
        .map_err(refused)?
        .ok_or_else(|| {
            refused(Refusal {
                path: join(at, "type"),
                message: "is required".into(),
            })
        })?;
    let name = string(element, "name", at, true)
        .map_err(refused)?
        .ok_or_else(|| {
            refused(Refusal {
                path: join(at, "name"),
                message: "is required".into(),
            })
        })?;
    let enabled = super::fields::boolean(element, "enabled", at).map_err(refused)?;
    let tenant = string(element, "tenant_id", at, true).map_err(refused)?;
    let settings = p.get("settings").cloned().unwrap_or(Value::Null);
    let now = stamp(app.sim.now());
    let mut w = app.sim.world.lock().unwrap();
    plan_settings::validate(&settings, &*w).map_err(refused)?;
    // Client-chosen ids are not documented: any `id` in the body is ignored.
    let id = new_id();
    let policy = SimPolicy {
        id: id.clone(),
        name: name.to_string(),
        type_: type_.to_string(),
        enabled: enabled.unwrap_or(true),
        settings,
        tenant_id: tenant
            .unwrap_or("00000000-0000-0000-0000-000000000000")
            .to_string(),
        created_at: now.clone(),
        updated_at: now,
    };
    w.policies.insert(id.clone(), policy);
    Ok(ok_json(
        StatusCode::OK,
        json!({"result": [format!("{id}@{type_}")]}),
    ))
}

pub async fn list(
    State(app): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Answer {
    let items: Vec<Value> = app.sim.read(|w| {
        w.policies
            .values()
            .map(|p| views::policy(p, true))
            .collect()
    });
    let (page, cursors, _) =
        ListParams { pairs }.apply(items, &[], app.sim.config().default_limit)?;
    let wrapped: Vec<Value> = page.into_iter().map(|p| json!({"policy": p})).collect();
    Ok(ok_json(
        StatusCode::OK,
        json!({"items": wrapped, "paging": {"cursors": cursors}}),
    ))
}

pub async fn get_one(
    State(app): State<AppState>,
    Path(id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Answer {
    let include = pairs
        .iter()
        .any(|(k, v)| k == "include_settings" && v.eq_ignore_ascii_case("true"));
    let w = app.sim.world.lock().unwrap();
    let p = w
        .policies
        .get(&id.to_ascii_lowercase())
        .ok_or_else(|| not_found("Policy", &id))?;
    let body = json!({"items": [{"policy": views::policy(p, include)}], "paging": {"cursors": {"after": ""}}});
    Ok(ok_json(StatusCode::OK, body))
}

pub async fn edit(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let elements = subject_policies(&json_body(&headers, &body)?)?;
    let semantics = app.sim.config().patch_semantics;
    let now = stamp(app.sim.now());
    let mut w = app.sim.world.lock().unwrap();
    let mut p = w
        .policies
        .get(&id.to_ascii_lowercase())
        .cloned()
        .ok_or_else(|| not_found("Policy", &id))?;
    let mut issues = Vec::new();
    for (i, e) in elements.iter().enumerate() {
        let at = format!("subject.policy[{i}]");
        let element = super::fields::object(e, &at).map_err(refused)?;
        if e.get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| t != p.type_)
        {
            return Err(bad_request("the type of a policy cannot be changed"));
        }
        if let Some(name) = string(element, "name", &at, true).map_err(refused)? {
            p.name = name.to_string();
        }
        if let Some(settings) = e.get("settings") {
            super::fields::object(settings, &join(&at, "settings")).map_err(refused)?;
            patch::apply(semantics, &mut p.settings, settings);
        }
        if e.get("enabled").is_some() {
            // GUESS: `enabled` changes through /policy_applications/enabled; here it is ignored
            // with a warning ("updated with warnings" = 200).
            issues.push(
                json!({"message": "enabled is ignored; use PATCH /policy_applications/enabled"}),
            );
        }
    }
    // The plan as the PATCH leaves it must still be a valid plan; nothing changes otherwise.
    plan_settings::validate(&p.settings, &*w).map_err(refused)?;
    p.updated_at = now;
    w.policies.insert(p.id.clone(), p);
    if issues.is_empty() {
        no_content()
    } else {
        Ok(ok_json(StatusCode::OK, json!({"issues": issues})))
    }
}

pub async fn remove(State(app): State<AppState>, Path(id): Path<String>) -> Answer {
    let id = id.to_ascii_lowercase();
    let mut w = app.sim.world.lock().unwrap();
    if !w.policies.contains_key(&id) {
        return Err(not_found("Policy", &id));
    }
    // GUESS: the document does not say whether deleting a plan revokes it; the simulator
    // refuses while it is applied, so clients must revoke first.
    let applied = w
        .applications
        .values()
        .filter(|a| a.policy_id == id)
        .count();
    if applied > 0 {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!(
                "DataConflictError: the plan is applied to {applied} resources; revoke it first"
            ),
            json!({"id": id}),
        ));
    }
    w.policies.remove(&id);
    no_content()
}
