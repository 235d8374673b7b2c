//! The firewall endpoints of the document (L9-295). Success answers follow the document; where
//! it shows none (create's status, move's answer), the guess is marked.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::device::{SimError, validate_rule};
use super::section::Section;
use super::{Shared, error_body};

impl IntoResponse for SimError {
    fn into_response(self) -> Response {
        error_body(self.status, &self.message)
    }
}

type Answer = Result<Response, SimError>;

pub(super) fn section(name: &str) -> Result<Section, SimError> {
    Section::from_segment(name).ok_or(SimError {
        status: StatusCode::NOT_FOUND,
        message: format!("no section {name:?}"),
    })
}

pub(super) fn json_body(body: &Bytes) -> Result<Value, SimError> {
    serde_json::from_slice(body).map_err(|e| SimError::bad(format!("the body is not JSON: {e}")))
}

fn flag(value: Option<&str>, name: &str) -> Result<Option<bool>, SimError> {
    value
        .map(|v| {
            v.parse()
                .map_err(|_| SimError::bad(format!("{name}: true or false")))
        })
        .transpose()
}

/// `anchor_item_id` and `insert_after`, as create takes them in its query (L146-158).
#[derive(Deserialize, Default)]
pub(super) struct AnchorQuery {
    anchor_item_id: Option<String>,
    insert_after: Option<String>,
}

impl AnchorQuery {
    pub(super) fn parse(&self) -> Result<(Option<i64>, bool), SimError> {
        let anchor = self
            .anchor_item_id
            .as_deref()
            .map(|v| {
                v.parse()
                    .map_err(|_| SimError::bad("anchor_item_id: an integer is required"))
            })
            .transpose()?;
        // L158: "If insert_after is true or absent, the new rule goes right after the anchor";
        // what false means is the device's reading (`section::place`, GUESS there).
        Ok((
            anchor,
            flag(self.insert_after.as_deref(), "insert_after")?.unwrap_or(true),
        ))
    }
}

pub(super) async fn status(State(sim): State<Arc<Shared>>) -> Response {
    Json(sim.device.lock().unwrap().services.clone()).into_response()
}

pub(super) async fn state(State(sim): State<Arc<Shared>>) -> Response {
    Json(json!({"enabled": sim.device.lock().unwrap().firewall_enabled})).into_response()
}

pub(super) async fn get_settings(State(sim): State<Arc<Shared>>) -> Response {
    Json(sim.device.lock().unwrap().settings.clone()).into_response()
}

pub(super) async fn put_settings(State(sim): State<Arc<Shared>>, body: Bytes) -> Answer {
    let body = json_body(&body)?;
    let modes = ["nothing", "all", "selected"];
    let ok = body["automatic_snat_enabled"].is_boolean()
        && body["log_mode"]
            .as_str()
            .is_some_and(|m| modes.contains(&m))
        && body["log_actions"]
            .as_array()
            .is_some_and(|a| a.iter().all(Value::is_string));
    if !ok {
        return Err(SimError::bad(
            "automatic_snat_enabled, log_mode (nothing|all|selected) and log_actions are required",
        ));
    }
    sim.device.lock().unwrap().settings = body;
    Ok(StatusCode::OK.into_response())
}

pub(super) async fn get_watch(State(sim): State<Arc<Shared>>) -> Response {
    Json(json!({"enabled": sim.device.lock().unwrap().watch_enabled})).into_response()
}

pub(super) async fn put_watch(State(sim): State<Arc<Shared>>, body: Bytes) -> Answer {
    let enabled = json_body(&body)?["enabled"]
        .as_bool()
        .ok_or_else(|| SimError::bad("enabled: a boolean is required"))?;
    sim.device.lock().unwrap().watch_enabled = enabled;
    Ok(StatusCode::OK.into_response())
}

// GUESS: the document prints `GET /firewall/rules/log` for the logging counters (L285), a copy
// of the list path; the simulator serves `/firewall/counters/log` like the other sections.
pub(super) async fn counters(State(sim): State<Arc<Shared>>, Path(name): Path<String>) -> Answer {
    let s = section(&name)?;
    Ok(Json(sim.device.lock().unwrap().counters(s)).into_response())
}

pub(super) async fn list(State(sim): State<Arc<Shared>>, Path(name): Path<String>) -> Answer {
    let s = section(&name)?;
    Ok(Json(sim.device.lock().unwrap().list(s)).into_response())
}

pub(super) async fn create(
    State(sim): State<Arc<Shared>>,
    Path(name): Path<String>,
    Query(q): Query<AnchorQuery>,
    body: Bytes,
) -> Answer {
    let s = section(&name)?;
    let (anchor, insert_after) = q.parse()?;
    let fields = validate_rule(s, json_body(&body)?)?;
    let id = sim
        .device
        .lock()
        .unwrap()
        .insert(s, fields, anchor, insert_after)?;
    // GUESS: the document gives the body `{"id"}` but no status; 200 like every other success.
    Ok(Json(json!({"id": id})).into_response())
}

pub(super) async fn update(
    State(sim): State<Arc<Shared>>,
    Path((name, id)): Path<(String, i64)>,
    body: Bytes,
) -> Answer {
    let s = section(&name)?;
    let fields = validate_rule(s, json_body(&body)?)?;
    sim.device.lock().unwrap().replace(s, id, fields)?;
    Ok(StatusCode::OK.into_response())
}

pub(super) async fn delete(
    State(sim): State<Arc<Shared>>,
    Path((name, id)): Path<(String, i64)>,
) -> Answer {
    let s = section(&name)?;
    sim.device.lock().unwrap().delete(s, id)?;
    Ok(StatusCode::OK.into_response())
}

/// `{"params": {"id", "anchor_item_id", "insert_after"}}` (L229-235). The document gives
/// `insert_after` no default for a move, so it is required here; what false means is the
/// device's reading (`section::place`, GUESS there).
pub(super) fn move_params(body: &Value) -> Result<(i64, i64, bool), SimError> {
    let p = &body["params"];
    let int = |k: &str| {
        p[k].as_i64()
            .ok_or_else(|| SimError::bad(format!("params.{k}: an integer is required")))
    };
    let after = p["insert_after"]
        .as_bool()
        .ok_or_else(|| SimError::bad("params.insert_after: a boolean is required"))?;
    Ok((int("id")?, int("anchor_item_id")?, after))
}

pub(super) async fn move_rule(
    State(sim): State<Arc<Shared>>,
    Path(name): Path<String>,
    body: Bytes,
) -> Answer {
    let s = section(&name)?;
    let (id, anchor, after) = move_params(&json_body(&body)?)?;
    sim.device.lock().unwrap().move_rule(s, id, anchor, after)?;
    // GUESS: the document shows no answer for a move (L240); 200 with no body.
    Ok(StatusCode::OK.into_response())
}
