//! Turning device answers into `VendorError`s. The document gives no error codes or bodies
//! (only "200 OK" for success), so the kind comes from the HTTP status, and the message from
//! whatever text the body has.

use super::VENDOR;
use crate::vendor::error::{ErrorKind, VendorError};
use crate::vendor::http::HttpResponse;

/// The error for a non-success answer.
pub fn from_response(operation: &str, resp: &HttpResponse) -> VendorError {
    let kind = VendorError::kind_for_status(resp.status);
    let message = body_message(&resp.body).unwrap_or_else(|| match resp.body_excerpt() {
        s if s.trim().is_empty() => "the device gave no reason".to_string(),
        s => s,
    });
    VendorError::new(VENDOR, operation, kind, message).with_status(resp.status)
}

/// An answer we could not read.
pub fn protocol(operation: &str, what: impl std::fmt::Display) -> VendorError {
    VendorError::new(
        VENDOR,
        operation,
        ErrorKind::Protocol,
        format!("unexpected answer: {what}"),
    )
}

// GUESS: the document shows no error body; take the usual text fields of a JSON error, or a
// bare JSON string.
fn body_message(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let text = match &v {
        serde_json::Value::String(s) => Some(s.as_str()),
        serde_json::Value::Object(o) => ["message", "detail", "error", "msg"]
            .iter()
            .find_map(|k| o.get(*k)?.as_str()),
        _ => None,
    }
    .filter(|t| !t.trim().is_empty())?;
    Some(text.chars().take(300).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: Default::default(),
            body: bytes::Bytes::from(body.to_string()),
        }
    }

    #[test]
    fn kinds_follow_the_status_and_messages_the_body() {
        let e = from_response(
            "PUT /firewall/rules/{section}/{id}",
            &resp(400, r#"{"message": "bad action"}"#),
        );
        assert_eq!(e.kind, ErrorKind::Rejected);
        assert_eq!(e.message, "bad action");
        assert_eq!(e.status, Some(400));
        assert_eq!(
            from_response("x", &resp(503, "")).kind,
            ErrorKind::Unavailable
        );
        assert!(from_response("x", &resp(503, "")).is_retryable());
        assert_eq!(
            from_response("x", &resp(404, r#""no such rule""#)).message,
            "no such rule"
        );
        assert_eq!(
            from_response("x", &resp(500, "<html>oops</html>")).message,
            "<html>oops</html>"
        );
        assert_eq!(
            from_response("x", &resp(502, "  ")).message,
            "the device gave no reason"
        );
        // Found by tests/fuzz: an empty JSON text was taken as the message.
        for body in [r#""""#, r#"{"message": " "}"#] {
            assert_eq!(
                from_response("x", &resp(400, body)).message,
                body,
                "the body itself is the best clue"
            );
        }
    }
}
