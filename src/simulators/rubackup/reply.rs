//! The envelope every RuBackup response carries: `{"data", "errors", "is_error", "message"}`
//! (§7.2, §6.1.2). The document shows no error body; the simulator answers errors in the same
//! envelope with `is_error: true` (GUESS).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub fn envelope(status: StatusCode, data: Value, message: &str, errors: Value) -> Response {
    let body = json!({ "data": data, "errors": errors, "is_error": !status.is_success(), "message": message });
    (status, Json(body)).into_response()
}

pub fn ok(data: Value) -> Response {
    envelope(StatusCode::OK, data, "", json!({}))
}

/// 200 with a message and no data (PATCH and DELETE answers).
pub fn done(message: &str) -> Response {
    envelope(StatusCode::OK, json!({}), message, json!({}))
}

/// The create answer: 201, empty `data`, the new id nowhere (§7.2).
pub fn created(label: &str) -> Response {
    envelope(
        StatusCode::CREATED,
        json!({}),
        &format!("Resource with name '{label}' was created successfully!"),
        json!({}),
    )
}

/// The answer of a create that queues a task (L967-973): `created`'s, with the task's number.
/// GUESS (L969-970): the document's "TASK" and "WAS" are split by its page width only, and the "номер в
/// очереди" (number in the queue) is the task's id, the one `GET /task_queue/{id}` takes.
pub fn queued(label: &str, task: i64) -> Response {
    envelope(
        StatusCode::CREATED,
        json!({}),
        &format!(
            "Resource with name '{label}' was created successfully! TASK WAS ADDED TO QUEUE: {task}"
        ),
        json!({}),
    )
}

/// "Некорректное тело запроса" (invalid request body) with the reason in `errors`.
pub fn bad_request(reason: &str) -> Response {
    envelope(
        StatusCode::BAD_REQUEST,
        json!({}),
        "Некорректное тело запроса",
        json!({ "request": [reason] }),
    )
}

pub fn not_found(message: &str) -> Response {
    envelope(StatusCode::NOT_FOUND, json!({}), message, json!({}))
}

pub fn unauthorized(message: &str) -> Response {
    envelope(StatusCode::UNAUTHORIZED, json!({}), message, json!({}))
}

/// The body of injected faults (harness `ErrorBody`).
pub fn fault(status: StatusCode, message: &str) -> Response {
    envelope(status, json!({}), message, json!({}))
}
