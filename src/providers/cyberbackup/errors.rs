//! Cyber Backup error bodies (§2.7.1): `{"error": {"code", "message", "context", "domain"}}`,
//! classified into the engine's error kinds.

use serde::Deserialize;

use super::VENDOR;
use crate::vendor::error::{ErrorKind, VendorError};
use crate::vendor::http::HttpResponse;

#[derive(Deserialize, Debug, Default)]
struct ErrorEnvelope {
    #[serde(default)]
    error: Option<ErrorDetail>,
}

/// The `error` object. `code` is a platform code or the HTTP status.
#[derive(Deserialize, Debug, Default, PartialEq)]
pub struct ErrorDetail {
    #[serde(default)]
    pub code: Option<serde_json::Value>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub domain: Option<String>,
}

/// Parse an error body; `None` when the body is not the documented envelope (an nginx page,
/// an empty body).
pub fn parse_error_body(body: &[u8]) -> Option<ErrorDetail> {
    serde_json::from_slice::<ErrorEnvelope>(body).ok()?.error
}

/// The kind a failed response means. The document says 50x is to be retried; 415 means we sent
/// a wrong Content-Type, which is our bug, not the spec's, so it is a protocol error.
pub fn kind_for(status: u16) -> ErrorKind {
    match status {
        415 | 406 | 405 => ErrorKind::Protocol,
        422 => ErrorKind::Rejected,
        s => VendorError::kind_for_status(s),
    }
}

/// A `VendorError` for a failed response: status, `domain.code` and the vendor's message.
pub fn error_from_response(operation: &str, resp: &HttpResponse) -> VendorError {
    let mut err = match parse_error_body(&resp.body) {
        Some(detail) => {
            let message = detail
                .message
                .clone()
                .filter(|m| !m.trim().is_empty())
                .unwrap_or_else(|| "the vendor gave no message".to_string());
            let mut e = VendorError::new(VENDOR, operation, kind_for(resp.status), message);
            if let Some(code) = detail.code.as_ref().map(code_text) {
                let code = match detail.domain.as_deref() {
                    Some(domain) if !domain.is_empty() => format!("{domain}.{code}"),
                    _ => code,
                };
                e = e.with_code(code);
            }
            e
        }
        None => VendorError::new(
            VENDOR,
            operation,
            kind_for(resp.status),
            match resp.body_excerpt() {
                text if text.trim().is_empty() => "no error body".to_string(),
                text => text,
            },
        ),
    };
    err.status = Some(resp.status);
    err
}

fn code_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderMap;

    fn response(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: HeaderMap::new(),
            body: bytes::Bytes::from(body.to_string()),
        }
    }

    #[test]
    fn the_documented_error_body_becomes_code_and_message() {
        // The document's example, §2.7.1.
        let body = r#"{"error":{"code":1006,"message":"It is prohibited to delete a non-disabled tenant.","context":{"id":"1415032"},"domain":"General"}}"#;
        let e = error_from_response("DELETE /policies/{id}", &response(400, body));
        assert_eq!(e.kind, ErrorKind::Rejected);
        assert_eq!(e.code.as_deref(), Some("General.1006"));
        assert_eq!(e.status, Some(400));
        assert_eq!(
            e.to_string(),
            "cyberbackup DELETE /policies/{id}: HTTP 400 General.1006: It is prohibited to delete a non-disabled tenant."
        );
    }

    #[test]
    fn statuses_map_to_what_the_engine_does_next() {
        assert_eq!(kind_for(401), ErrorKind::Unauthorized);
        assert_eq!(kind_for(403), ErrorKind::Forbidden);
        assert_eq!(kind_for(404), ErrorKind::NotFound);
        assert_eq!(kind_for(409), ErrorKind::Conflict);
        assert_eq!(kind_for(415), ErrorKind::Protocol);
        assert_eq!(kind_for(422), ErrorKind::Rejected);
        assert_eq!(kind_for(502), ErrorKind::Unavailable);
    }

    #[test]
    fn a_body_that_is_not_the_envelope_is_quoted() {
        let e = error_from_response("GET /policies", &response(502, "<html>Bad Gateway</html>"));
        assert_eq!(e.kind, ErrorKind::Unavailable);
        assert!(e.code.is_none());
        assert!(e.message.contains("Bad Gateway"));
        assert!(e.is_retryable());
    }

    #[test]
    fn an_empty_body_or_message_still_says_something() {
        // Found by tests/fuzz: a 400 with an empty body had an empty message.
        let e = error_from_response("DELETE /policies/{id}", &response(400, ""));
        assert_eq!(e.message, "no error body");
        let e = error_from_response(
            "GET /x",
            &response(400, r#"{"error":{"code":1,"message":" "}}"#),
        );
        assert_eq!(e.message, "the vendor gave no message");
    }

    #[test]
    fn a_string_code_without_domain_is_kept_as_is() {
        let d = parse_error_body(br#"{"error":{"code":"E42","message":"m"}}"#).unwrap();
        assert_eq!(d.code, Some(serde_json::json!("E42")));
        let e = error_from_response(
            "GET /x",
            &response(400, r#"{"error":{"code":"E42","message":"m"}}"#),
        );
        assert_eq!(e.code.as_deref(), Some("E42"));
    }
}
