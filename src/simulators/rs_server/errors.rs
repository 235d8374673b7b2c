//! RS server's error responses: HTTP 400 with `{"error": {"code", "message", "data"}}`, the
//! codes and English descriptions of the document's table.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub const UNEXPECTED: i64 = 1;
pub const LICENSE_EXPIRED: i64 = 2;
pub const NOT_TRS_PROJECT: i64 = 8;
pub const INVALID_BODY: i64 = 9;
pub const USER_NOT_FOUND: i64 = 16;
pub const TOKEN_INVALID: i64 = 24;

/// The document's English description of a code.
pub fn description(code: i64) -> &'static str {
    match code {
        1 => "Unexpected error occurred.",
        2 => "License expired.",
        3 => "Asynchronous task of getting an instance failed.",
        4 => "Failed to start asynchronous task of getting an instance.",
        5 => "No available TRS project in the specified domain found.",
        6 => "Authentication error.",
        7 => "Password expired.",
        8 => "The specified project is not TRS.",
        9 => "Invalid request body.",
        10 => "Unable to find an instance obtain request by given ID.",
        11 => "Forbidden to obtain an instance request.",
        12 => "Project quota exceeded.",
        13 => "Instance creation failed.",
        14 => "No instances found in the specified project.",
        15 => "Specified domain not found.",
        16 => "Specified user not found.",
        17 => "Instance is in an invalid state.",
        18 => "Unable to obtain an instance IP address.",
        19 => "Password expiration warning.",
        20 => "Warning that amount of authentications with current password is limited.",
        21 => "Authentication server is not available.",
        22 => {
            "Kerberos script file is not available because of it does not exist or it has wrong permissions."
        }
        23 => "Error while password change process, so script returned 1",
        24 => "Auth token is not valid.",
        25 => "Failed to process asynchronous task of getting an instance.",
        26 => "Request doesn't match current Web Guard settings.",
        27 => "OTP is required for authentication.",
        _ => "Unexpected error occurred.",
    }
}

/// An RS server error: HTTP 400, the code's description, and `data`.
#[derive(Debug)]
pub struct RsError {
    code: i64,
    data: Value,
}

impl IntoResponse for RsError {
    fn into_response(self) -> Response {
        error_with_status(
            StatusCode::BAD_REQUEST,
            self.code,
            description(self.code),
            self.data,
        )
    }
}

/// An error response with the document's status and envelope.
pub fn rs_error(code: i64, data: Value) -> Response {
    RsError { code, data }.into_response()
}

fn error_with_status(status: StatusCode, code: i64, message: &str, data: Value) -> Response {
    (
        status,
        Json(json!({ "error": { "code": code, "message": message, "data": data } })),
    )
        .into_response()
}

/// The body of an injected fault. The document only knows 400s; a 5xx or 429 comes from
/// whatever sits in front of RS server.
// GUESS: it keeps RS server's envelope with code 1 (unexpected error).
pub fn fault_body(status: StatusCode, message: &str) -> Response {
    error_with_status(status, UNEXPECTED, message, json!({}))
}

/// Parse a JSON request body, or answer code 9 as RS server does for an invalid body.
pub fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, RsError> {
    serde_json::from_slice(body).map_err(|e| invalid_body(json!({ "reason": e.to_string() })))
}

/// Code 9, with what was wrong in `data`.
pub fn invalid_body(data: Value) -> RsError {
    RsError {
        code: INVALID_BODY,
        data,
    }
}

/// An unknown object id.
// GUESS: the document has no "not found" code for servers or assignments; an unhandled lookup
// failure surfaces as code 1 with the id in `data`.
pub fn unknown(kind: &str, id: &str) -> Response {
    rs_error(UNEXPECTED, json!({ kind: id }))
}

/// A project id that is not a TRS project (code 8 carries `project_name`).
pub fn not_trs(project: &str) -> Response {
    rs_error(NOT_TRS_PROJECT, json!({ "project_name": project }))
}
