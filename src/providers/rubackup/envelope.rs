//! RuBackup's response envelope `{"data", "errors", "is_error", "message"}` (document §7.2) and
//! how a failed response becomes a classified `VendorError`. GUESS (L492-520, L967-973, the only
//! bodies shown): the document shows no error body; rampart reads the same envelope with
//! `is_error: true` and falls back to the status code and the raw text.

use serde::Deserialize;
use serde_json::Value;

use super::VENDOR;
use crate::vendor::error::{ErrorKind, VendorError, VendorResult};
use crate::vendor::http::HttpResponse;

/// A parsed response body.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Envelope {
    #[serde(default)]
    pub data: Value,
    #[serde(default)]
    pub errors: Value,
    #[serde(default)]
    pub is_error: bool,
    #[serde(default)]
    pub message: String,
}

impl Envelope {
    /// The items of a list response: `data` is the array, or an object holding one array.
    pub fn items(&self) -> Option<Vec<Value>> {
        match &self.data {
            Value::Array(items) => Some(items.clone()),
            Value::Object(o) => o.values().find_map(|v| v.as_array().cloned()),
            Value::Null => Some(Vec::new()),
            _ => None,
        }
    }
}

/// Read a response: a successful envelope, or the error it carries.
pub fn read(operation: &str, resp: &HttpResponse) -> VendorResult<Envelope> {
    let body = String::from_utf8_lossy(&resp.body);
    let parsed = if body.trim().is_empty() {
        Ok(Envelope::default())
    } else {
        serde_json::from_str::<Envelope>(&body)
    };
    match parsed {
        Ok(env) if resp.is_success() && !env.is_error => Ok(env),
        Ok(env) => Err(classify(operation, resp.status, &env)),
        Err(_) if resp.is_success() => Err(VendorError::new(
            VENDOR,
            operation,
            ErrorKind::Protocol,
            format!(
                "response is not RuBackup's JSON envelope: {}",
                resp.body_excerpt()
            ),
        )
        .with_status(resp.status)),
        Err(_) => Err(classify(
            operation,
            resp.status,
            &Envelope {
                message: resp.body_excerpt(),
                ..Default::default()
            },
        )),
    }
}

/// The kind an error response implies: the status, sharpened by the message where RuBackup
/// answers 400 for what is really a name conflict (GUESS: the document lists no 409 and no
/// duplicate-name answer; "already exists"/"уже существует" in the message is read as one).
pub fn classify(operation: &str, status: u16, env: &Envelope) -> VendorError {
    let mut message = env.message.trim().to_string();
    let details = error_details(&env.errors).trim().to_string();
    if !details.is_empty() {
        message = if message.is_empty() {
            details
        } else {
            format!("{message} ({details})")
        };
    }
    if message.is_empty() {
        message = "no message".to_string();
    }
    let lower = message.to_lowercase();
    let kind = match VendorError::kind_for_status(status) {
        ErrorKind::Rejected
            if lower.contains("already exist") || lower.contains("уже существует") =>
        {
            ErrorKind::Conflict
        }
        // Also a 2xx that says is_error: a refusal of the request.
        k => k,
    };
    VendorError::new(VENDOR, operation, kind, message).with_status(status)
}

/// `errors` as `field: message` text, whatever its shape.
fn error_details(errors: &Value) -> String {
    match errors {
        Value::Object(o) => o
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => format!("{k}: {s}"),
                Value::Array(a) => format!(
                    "{k}: {}",
                    a.iter()
                        .map(|x| x
                            .as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| x.to_string()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                other => format!("{k}: {other}"),
            })
            .collect::<Vec<_>>()
            .join("; "),
        Value::Array(a) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| x.to_string())
            })
            .collect::<Vec<_>>()
            .join("; "),
        Value::String(s) => s.clone(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderMap;

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: HeaderMap::new(),
            body: bytes::Bytes::from(body.to_string()),
        }
    }

    #[test]
    fn successful_envelopes_and_lists() {
        let env = read(
            "GET /pool_list",
            &resp(
                200,
                r#"{"data":[{"id":1}],"errors":{},"is_error":false,"message":""}"#,
            ),
        )
        .unwrap();
        assert_eq!(env.items().unwrap().len(), 1);
        let env = read(
            "GET /x",
            &resp(200, r#"{"data":{"pools":[{"id":1},{"id":2}]}}"#),
        )
        .unwrap();
        assert_eq!(env.items().unwrap().len(), 2);
        assert!(read("DELETE /s3_clouds/{id}", &resp(204, "")).is_ok());
        // The create quirk: 201 with empty data and only a message.
        let env = read("POST /pool_list", &resp(201, r#"{"is_error":false,"message":"Resource with name 'Pool' was created successfully!","data":{},"errors":{}}"#)).unwrap();
        assert!(env.message.contains("created"));
    }

    #[test]
    fn blank_errors_are_no_message() {
        // Found by tests/fuzz: `"errors": " "` became the message, a blank one.
        let e = read("GET /x", &resp(400, r#"{"is_error":true,"errors":" "}"#)).unwrap_err();
        assert_eq!(e.message, "no message");
    }

    #[test]
    fn errors_are_classified_by_status_and_message() {
        let e = read("POST /pool_list", &resp(400, r#"{"data":{},"errors":{"pool_name":["already exists"]},"is_error":true,"message":"Некорректное тело запроса"}"#)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Conflict);
        assert_eq!(
            e.to_string(),
            "rubackup POST /pool_list: HTTP 400 Некорректное тело запроса (pool_name: already exists)"
        );
        let e = read(
            "PATCH /pool_list/{id}",
            &resp(
                400,
                r#"{"is_error":true,"message":"Некорректное тело запроса","errors":{}}"#,
            ),
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Rejected);
        assert_eq!(
            read(
                "GET /x",
                &resp(404, r#"{"is_error":true,"message":"Пул не найден"}"#)
            )
            .unwrap_err()
            .kind,
            ErrorKind::NotFound
        );
        assert_eq!(
            read("GET /x", &resp(401, "")).unwrap_err().kind,
            ErrorKind::Unauthorized
        );
        assert_eq!(
            read("GET /x", &resp(502, "<html>bad gateway</html>"))
                .unwrap_err()
                .kind,
            ErrorKind::Unavailable
        );
        assert_eq!(
            read("GET /x", &resp(200, "<html>")).unwrap_err().kind,
            ErrorKind::Protocol
        );
        assert_eq!(
            read("GET /x", &resp(200, r#"{"is_error":true,"message":"no"}"#))
                .unwrap_err()
                .kind,
            ErrorKind::Rejected
        );
    }
}
