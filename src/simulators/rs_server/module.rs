//! `/v1/info` (module version and licence) and `/v1/tasks/...` (Celery tasks).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::state::SimState;

/// The licence of the document's example, valid for a year from now unless expired on purpose.
pub async fn info(State(state): State<Arc<SimState>>) -> Response {
    let now = jiff::Timestamp::now().as_second();
    let year = 365 * 24 * 3600;
    let expire_at = if state.with(|w| w.license_expired) {
        now - 1
    } else {
        now + year
    };
    Json(json!({
        "info": {
            "license": {
                "created_at": now - year,
                "expire_at": expire_at,
                "module_package": "rs_server",
                "name": "Laboratoria",
                "product": "RSserver",
                "surrogate_name": "RSserver",
                "unique_id": "07-002-decf3c6c893561752802",
                "verified": true
            },
            "version": "0.1.0"
        }
    }))
    .into_response()
}

/// How many task ids `GET /v1/tasks/` returns: "the latest tasks", ten in the example.
// GUESS: the document gives no limit parameter; ten matches its example.
const LATEST_TASKS: usize = 10;

/// `GET /v1/tasks/` (also served without the trailing slash, as the document's curl calls it).
pub async fn tasks(State(state): State<Arc<SimState>>) -> Response {
    let ids: Vec<String> = state.with(|w| {
        w.tasks
            .iter()
            .rev()
            .take(LATEST_TASKS)
            .map(|t| t.id.clone())
            .collect()
    });
    Json(json!({ "tasks": ids })).into_response()
}

/// `GET /v1/tasks/{task_id}`.
// GUESS: an unknown id reports PENDING, as Celery does for ids it has never seen.
pub async fn task(State(state): State<Arc<SimState>>, Path(id): Path<String>) -> Response {
    let found = state.with(|w| w.tasks.iter().find(|t| t.id == id).cloned());
    match found {
        Some(t) => Json(json!({ "status": t.status, "name": t.name })).into_response(),
        None => Json(json!({ "status": "PENDING" })).into_response(),
    }
}
