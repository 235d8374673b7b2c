//! `/v1/users/...`: floating-IP assignments of users (the only user data RS server keeps; it
//! is not a user directory: `GET /v1/users/` lists only users with a floating IP).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::errors::{RsError, USER_NOT_FOUND, invalid_body, parse_body, rs_error};
use super::state::SimState;

fn entry(user: &str, fip: &str) -> Value {
    json!({ "id": user, "floating_ip_id": fip })
}

/// `GET /v1/users/`. GUESS (L805-831): the whole list in one answer, no pagination.
pub async fn list(State(state): State<Arc<SimState>>) -> Response {
    let users: Vec<Value> =
        state.with(|w| w.floating_ips.iter().map(|(u, f)| entry(u, f)).collect());
    Json(json!({ "users": users })).into_response()
}

/// `GET /v1/users/{user_id}`: an array under the singular key `user`, as the document shows.
// GUESS: a user without a floating IP gives an empty array.
pub async fn get(State(state): State<Arc<SimState>>, Path(user): Path<String>) -> Response {
    let found: Vec<Value> = state.with(|w| {
        w.floating_ips
            .get(&user)
            .map(|f| entry(&user, f))
            .into_iter()
            .collect()
    });
    Json(json!({ "user": found })).into_response()
}

fn floating_ip_id(body: &[u8]) -> Result<String, RsError> {
    let v: HashMap<String, Value> = parse_body(body)?;
    v.get("floating_ip_id")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| invalid_body(json!({ "missing": "floating_ip_id" })))
}

/// `POST` and `PUT /v1/users/{user_id}/floating-ip`: assign or replace.
// GUESS: both set the assignment; POST does not refuse an existing one.
pub async fn set_floating_ip(
    State(state): State<Arc<SimState>>,
    Path(user): Path<String>,
    body: Bytes,
) -> Response {
    match floating_ip_id(&body) {
        Ok(fip) => {
            state.with(|w| w.floating_ips.insert(user, fip));
            StatusCode::NO_CONTENT.into_response()
        }
        Err(r) => r.into_response(),
    }
}

/// `DELETE /v1/users/{user_id}/floating-ip`.
pub async fn remove_floating_ip(
    State(state): State<Arc<SimState>>,
    Path(user): Path<String>,
) -> Response {
    match state.with(|w| w.floating_ips.remove(&user)) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => rs_error(USER_NOT_FOUND, json!({ "user_id": user })),
    }
}
