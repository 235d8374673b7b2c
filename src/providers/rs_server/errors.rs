//! The document's error model (seeds/rs-server-api.txt, "Описание ошибок"): every failure is
//! HTTP 400 with `{"error": {"code": <1..27>, "message", "data"}}`, a refused token included, so
//! the numeric code, not the status, decides the `ErrorKind`.

use serde::Deserialize;

use super::VENDOR;
use crate::vendor::error::{ErrorKind, VendorError};
use crate::vendor::http::HttpResponse;

#[derive(Deserialize)]
struct Envelope {
    error: ErrorObject,
}

#[derive(Deserialize)]
struct ErrorObject {
    code: i64,
    #[serde(default)]
    message: String,
}

/// The kind each documented code means for rampart.
pub fn kind_for_code(code: i64) -> ErrorKind {
    match code {
        // Authentication error, password expired, password-expiry and grace-login warnings,
        // token invalid, OTP required: the credentials are the problem.
        6 | 7 | 19 | 20 | 24 | 27 => ErrorKind::Unauthorized,
        // Licence expired, forbidden request, Web Guard mismatch: an administrator must act.
        2 | 11 | 26 => ErrorKind::Forbidden,
        // No TRS project in the domain, not a TRS project, unknown request id, no instances,
        // unknown domain, unknown user.
        5 | 8 | 10 | 14 | 15 | 16 => ErrorKind::NotFound,
        // Instance in a state that does not allow the call.
        17 => ErrorKind::Conflict,
        // Invalid body, quota exceeded: the request itself will not pass as it is.
        9 | 12 => ErrorKind::Rejected,
        // Unexpected error, failed asynchronous tasks, creation failures, no IP yet, the
        // authentication server or the Kerberos password script unavailable: the vendor's side.
        1 | 3 | 4 | 13 | 18 | 21 | 22 | 23 | 25 => ErrorKind::Unavailable,
        _ => ErrorKind::Rejected,
    }
}

/// The typed error for a non-2xx RS server response.
pub fn from_response(operation: &str, resp: &HttpResponse) -> VendorError {
    match serde_json::from_slice::<Envelope>(&resp.body) {
        Ok(Envelope { error }) => {
            // A proxy in front of RS server answers 5xx itself; its status wins over a code.
            let kind = if resp.status >= 500 {
                ErrorKind::Unavailable
            } else {
                kind_for_code(error.code)
            };
            let message = if error.message.trim().is_empty() {
                format!("error code {}", error.code)
            } else {
                error.message
            };
            VendorError::new(VENDOR, operation, kind, message)
                .with_status(resp.status)
                .with_code(error.code.to_string())
        }
        Err(_) => VendorError::new(
            VENDOR,
            operation,
            VendorError::kind_for_status(resp.status),
            excerpt_or_none(resp),
        )
        .with_status(resp.status),
    }
}

/// The body as text for a message, or a word that there was none.
pub fn excerpt_or_none(resp: &HttpResponse) -> String {
    match resp.body_excerpt() {
        text if text.trim().is_empty() => "no error body".to_string(),
        text => text,
    }
}

/// Remove every occurrence of a credential from text that is about to leave the client.
pub fn redact(text: &str, secret: &str) -> String {
    if secret.is_empty() {
        text.to_string()
    } else {
        text.replace(secret, "<redacted>")
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
    fn a_bad_token_is_unauthorized_although_the_status_is_400() {
        let r = response(
            400,
            r#"{"error": {"code": 24, "message": "Auth token is not valid.", "data": {}}}"#,
        );
        let e = from_response("GET /v1/servers/", &r);
        assert_eq!(e.kind, ErrorKind::Unauthorized);
        assert_eq!(e.code.as_deref(), Some("24"));
        assert_eq!(
            e.to_string(),
            "rs-server GET /v1/servers/: HTTP 400 24: Auth token is not valid."
        );
    }

    #[test]
    fn the_documents_quota_example_is_rejected() {
        let r = response(
            400,
            r#"{"error": {"message": "Quota exceeded for TRS project \"c70379f3\".", "code": 12, "data": {"project_name": "c70379f3"}}}"#,
        );
        let e = from_response("POST /v1/servers/", &r);
        assert_eq!(e.kind, ErrorKind::Rejected);
        assert_eq!(e.message, "Quota exceeded for TRS project \"c70379f3\".");
        assert!(!e.is_retryable());
    }

    #[test]
    fn codes_map_to_the_kinds_the_engine_acts_on() {
        assert_eq!(kind_for_code(6), ErrorKind::Unauthorized);
        assert_eq!(kind_for_code(27), ErrorKind::Unauthorized);
        assert_eq!(kind_for_code(2), ErrorKind::Forbidden);
        assert_eq!(kind_for_code(8), ErrorKind::NotFound);
        assert_eq!(kind_for_code(17), ErrorKind::Conflict);
        assert_eq!(kind_for_code(9), ErrorKind::Rejected);
        assert_eq!(kind_for_code(21), ErrorKind::Unavailable);
        assert_eq!(kind_for_code(1), ErrorKind::Unavailable);
        assert_eq!(kind_for_code(99), ErrorKind::Rejected);
    }

    #[test]
    fn a_proxy_5xx_is_unavailable_whatever_the_body() {
        let e = from_response(
            "GET /v1/info",
            &response(503, "<html>Service Unavailable</html>"),
        );
        assert_eq!(e.kind, ErrorKind::Unavailable);
        assert_eq!(e.code, None);
        let e = from_response(
            "GET /v1/info",
            &response(502, r#"{"error": {"code": 9, "message": "x"}}"#),
        );
        assert_eq!(e.kind, ErrorKind::Unavailable);
    }

    #[test]
    fn an_empty_message_names_the_code() {
        let e = from_response("GET /v1/info", &response(400, r#"{"error": {"code": 2}}"#));
        assert_eq!(e.message, "error code 2");
        assert_eq!(e.kind, ErrorKind::Forbidden);
    }

    #[test]
    fn a_blank_message_names_the_code() {
        // Found by tests/fuzz: a message of spaces was kept as the message.
        let e = from_response(
            "GET /v1/info",
            &response(400, r#"{"error": {"code": 401, "message": " "}}"#),
        );
        assert_eq!(e.message, "error code 401");
    }

    #[test]
    fn an_empty_body_still_says_something() {
        // Found by tests/fuzz: a 400 with an empty body had an empty message.
        assert_eq!(
            from_response("GET /v1/info", &response(400, "")).message,
            "no error body"
        );
    }

    #[test]
    fn redact_removes_the_secret_and_keeps_the_rest() {
        assert_eq!(
            redact("token gAAAA123 refused", "gAAAA123"),
            "token <redacted> refused"
        );
        assert_eq!(redact("nothing here", ""), "nothing here");
    }
}
