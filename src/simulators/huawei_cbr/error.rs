//! Error responses exactly as CBR sends them: `{"error_code": "BackupService.NNNN",
//! "error_msg": "…"}` with the status and message of the document's error table (7.2).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A refused request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl SimError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        SimError {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400 BackupService.9900 "Parameter verification failed.", word for word the error
    /// table's message (L5210): it names no parameter, so a client cannot lean on one. What
    /// failed goes to the simulator's debug log only.
    pub fn invalid(what: impl std::fmt::Display) -> Self {
        tracing::debug!(reason = %what, "huawei-cbr simulator: BackupService.9900");
        Self::new(
            StatusCode::BAD_REQUEST,
            "BackupService.9900",
            "Parameter verification failed.",
        )
    }

    /// A code of the error table, with its documented status and message.
    pub fn code(code: &'static str) -> Self {
        let (status, message) = match code {
            "BackupService.0001" => (400, "No resource is available for backup."),
            "BackupService.0002" => (500, "Resources are being backed up."),
            "BackupService.2003" => (400, "Restoration to a different server is not allowed."),
            "BackupService.2005" => (
                400,
                "Restoration is not allowed in the current backup status.",
            ),
            "BackupService.2010" => (400, "The resource is being restored."),
            "BackupService.6113" => (400, "Backup is not allowed in the current vault status."),
            "BackupService.6202" => (
                400,
                "Backups can be used for restoration only when the vault status is Available.",
            ),
            "BackupService.6216" => (400, "The backup cannot be deleted because it is in use."),
            "BackupService.6217" => (404, "The backup restore point does not exist."),
            "BackupService.9910" => (500, "Unknown error."),
            "BackupService.6000" => (404, "The policy does not exist."),
            "BackupService.6002" => (404, "The vault is not applied with the policy."),
            "BackupService.6105" => (404, "The vault does not exist."),
            "BackupService.6200" => (404, "The backup does not exist."),
            "BackupService.6215" => (400, "Backup is not allowed in the current resource status."),
            "BackupService.6112" => (400, "Invalid vault status."),
            "BackupService.6500" => (404, "The operation log does not exist."),
            "BackupService.6101" => (400, "Invalid vault capacity."),
            "BackupService.6102" => (400, "The vault does not support this resource type."),
            "BackupService.6103" => (400, "The resource has been associated with a vault."),
            "BackupService.6104" => (400, "Duplicate vault resources."),
            "BackupService.6117" => (400, "Unknown policy type."),
            "BackupService.6127" => (400, "This policy cannot be applied to this vault."),
            "BackupService.6135" => (400, "The resource does not exist in the vault."),
            "BackupService.6600" => (
                400,
                "The maximum number of tags has been reached for the resource.",
            ),
            "BackupService.9998" => (500, "Authentication failed."),
            _ => (500, "Unknown error."),
        };
        Self::new(
            StatusCode::from_u16(status).expect("table statuses are valid"),
            code,
            message,
        )
    }

    /// 401 from the API gateway in front of CBR.
    pub fn unauthorized(why: &str) -> Self {
        // GUESS (L5033): the document lists 401 without a body; Huawei's API gateway answers with
        // its own APIGW.0301 code for a missing, expired or wrong token or signature.
        Self::new(
            StatusCode::UNAUTHORIZED,
            "APIGW.0301",
            format!("Incorrect IAM authentication information: {why}"),
        )
    }
}

/// The API gateway's answer to a path or method no API is published at.
// GUESS (L410-417): the document shows only the error body's shape (`error_msg`, `error_code`);
// the code and message are the API gateway's usual ones for an unknown API.
pub async fn no_such_api() -> Response {
    SimError::new(
        StatusCode::NOT_FOUND,
        "APIGW.0101",
        "The API does not exist or has not been published in the environment.",
    )
    .into_response()
}

impl IntoResponse for SimError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({"error_code": self.code, "error_msg": self.message})),
        )
            .into_response()
    }
}

/// The body of a fault injected by the harness.
pub fn fault_body(status: StatusCode, what: &str) -> Response {
    if status == StatusCode::TOO_MANY_REQUESTS {
        // GUESS (L5019-5047): the document has no 429; this is the API gateway's throttling code.
        let body = json!({"error_code": "APIGW.0308", "error_msg": format!("The throttling threshold has been reached: {what}")});
        return (status, Json(body)).into_response();
    }
    // GUESS (L5257): an unexplained server failure reads as the document's "Unknown error." code.
    let body = json!({"error_code": "BackupService.9910", "error_msg": format!("Unknown error. ({what})")});
    (status, Json(body)).into_response()
}

pub type SimResult<T> = Result<T, SimError>;
