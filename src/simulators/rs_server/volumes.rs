//! `/v1/volume-assignments/...`: user volumes assigned to users of a project. The body keys are
//! hyphenated (`volume-assignments`, `volume-assignment`) and ids are integers, as the document
//! shows them.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::errors::{not_trs, parse_body, unknown};
use super::state::{Assignment, SimState};

fn view(a: &Assignment) -> Value {
    json!({ "id": a.id, "project_id": a.project_id, "user_id": a.user_id, "volume_id": a.volume_id })
}

/// `GET /v1/volume-assignments/`, filtered by `user_id`, `project_id`, `volume_id`.
/// GUESS (L1071-1112): the whole list in one answer, no pagination.
pub async fn list(
    State(state): State<Arc<SimState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let found: Vec<Value> = state.with(|w| {
        w.assignments
            .values()
            .filter(|a| {
                q.get("user_id").is_none_or(|u| *u == a.user_id)
                    && q.get("project_id").is_none_or(|p| *p == a.project_id)
                    && q.get("volume_id").is_none_or(|v| *v == a.volume_id)
            })
            .map(view)
            .collect()
    });
    Json(json!({ "volume-assignments": found })).into_response()
}

/// `GET /v1/volume-assignments/{assignment_id}`.
pub async fn get(State(state): State<Arc<SimState>>, Path(id): Path<String>) -> Response {
    let found = id
        .parse::<i64>()
        .ok()
        .and_then(|n| state.with(|w| w.assignments.get(&n).map(view)));
    match found {
        Some(a) => Json(json!({ "volume-assignment": a })).into_response(),
        None => unknown("assignment_id", &id),
    }
}

#[derive(Deserialize)]
struct NewAssignment {
    user_id: String,
    project_id: String,
    volume_id: String,
}

/// `POST /v1/volume-assignments/`: a flat body, all three ids required.
pub async fn create(State(state): State<Arc<SimState>>, body: Bytes) -> Response {
    let new: NewAssignment = match parse_body(&body) {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    state.with(|w| {
        if w.trs_project(&new.project_id).is_none() {
            return not_trs(&new.project_id);
        }
        let a = w.insert_assignment(&new.project_id, &new.user_id, &new.volume_id);
        Json(json!({ "volume-assignment": view(&a) })).into_response()
    })
}

/// `DELETE /v1/volume-assignments/{assignment_id}`.
pub async fn delete(State(state): State<Arc<SimState>>, Path(id): Path<String>) -> Response {
    let removed = id
        .parse::<i64>()
        .ok()
        .and_then(|n| state.with(|w| w.assignments.remove(&n)));
    match removed {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => unknown("assignment_id", &id),
    }
}
