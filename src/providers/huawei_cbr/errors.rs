//! CBR error bodies (`{"error_code": "BackupService.NNNN", "error_msg": "…"}`) and IAM's
//! (`{"error": {"code", "title", "message"}}`) turned into [`VendorError`]s. The kind comes from
//! the code's handling measure in the document's error table (chapter 7.2), not only from the
//! HTTP status: CBR reports conflicts and busy states as 400, a missing bucket as 404 and an
//! authentication failure as 500.

use serde_json::Value;

use super::VENDOR;
use crate::vendor::error::{ErrorKind, VendorError};

/// Codes whose kind differs from what their HTTP status implies, by the handling measure the
/// document gives them. Everything else follows the status (400 Rejected, 404 NotFound, 403
/// Forbidden, 5xx Unavailable).
const CODE_KINDS: &[(&str, ErrorKind)] = &[
    // 400 "Try again later." / "Try again. If the fault persists, …" / "after the current
    // task is complete": the vendor is busy or failed transiently.
    ("2002", ErrorKind::Unavailable),
    ("2010", ErrorKind::Unavailable),
    ("6107", ErrorKind::Unavailable),
    ("6108", ErrorKind::Unavailable),
    ("6110", ErrorKind::Unavailable),
    ("6111", ErrorKind::Unavailable),
    ("6115", ErrorKind::Unavailable),
    ("6118", ErrorKind::Unavailable),
    ("6121", ErrorKind::Unavailable),
    ("6123", ErrorKind::Unavailable),
    ("6125", ErrorKind::Unavailable),
    ("6130", ErrorKind::Unavailable),
    ("6134", ErrorKind::Unavailable),
    ("6201", ErrorKind::Unavailable),
    ("6203", ErrorKind::Unavailable),
    ("6206", ErrorKind::Unavailable),
    ("6216", ErrorKind::Unavailable),
    ("6400", ErrorKind::Unavailable),
    ("6401", ErrorKind::Unavailable),
    ("6403", ErrorKind::Unavailable),
    ("6404", ErrorKind::Unavailable),
    ("6405", ErrorKind::Unavailable),
    ("6406", ErrorKind::Unavailable),
    ("6407", ErrorKind::Unavailable),
    ("6408", ErrorKind::Unavailable),
    ("7200", ErrorKind::Unavailable),
    ("7203", ErrorKind::Unavailable),
    ("7302", ErrorKind::Unavailable),
    ("7501", ErrorKind::Unavailable),
    ("7504", ErrorKind::Unavailable),
    ("7505", ErrorKind::Unavailable),
    ("7506", ErrorKind::Unavailable),
    ("7508", ErrorKind::Unavailable),
    ("7509", ErrorKind::Unavailable),
    // The object (or an association) already exists or is in the way.
    ("6103", ErrorKind::Conflict),
    ("6106", ErrorKind::Conflict),
    ("7006", ErrorKind::Conflict),
    ("7116", ErrorKind::Conflict),
    ("6204", ErrorKind::Conflict),
    ("6703", ErrorKind::Conflict),
    ("6710", ErrorKind::Conflict),
    ("6714", ErrorKind::Conflict),
    ("7301", ErrorKind::Conflict),
    ("6402", ErrorKind::Conflict), // 404 "The bucket is not empty."
    ("6137", ErrorKind::Conflict), // 500 "One disk … cannot be backed up in multiple vaults."
    ("6210", ErrorKind::Conflict), // 500 "An image has been created using the backup."
    ("6211", ErrorKind::Conflict),
    // 500 codes that no retry fixes.
    ("9998", ErrorKind::Unauthorized), // "Authentication failed."
    ("1005", ErrorKind::Rejected),
    ("6138", ErrorKind::Rejected),
    ("6207", ErrorKind::Rejected),
    ("6209", ErrorKind::Rejected),
    ("6213", ErrorKind::Rejected),
];

/// The kind of a CBR error from its HTTP status and `error_code`.
pub fn classify(status: u16, code: Option<&str>) -> ErrorKind {
    let number = code.and_then(|c| c.strip_prefix("BackupService."));
    if let Some(kind) = number
        .and_then(|n| CODE_KINDS.iter().find(|(c, _)| *c == n))
        .map(|(_, k)| *k)
    {
        return kind;
    }
    VendorError::kind_for_status(status)
}

/// The error of a failed call, from its status and body: CBR's `error_code`/`error_msg` or
/// IAM's `error.message`/`error.title`. Each field is read on its own, so a code survives a
/// message of the wrong type (the code decides whether to retry), and only a JSON object counts
/// as an error body.
pub fn from_response(operation: &str, status: u16, body: &[u8]) -> VendorError {
    let parsed = serde_json::from_slice::<Value>(body)
        .ok()
        .filter(Value::is_object)
        .unwrap_or_default();
    let text = |pointer: &str| {
        parsed
            .pointer(pointer)
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .map(str::to_string)
    };
    let code = text("/error_code");
    let message = text("/error_msg")
        .or_else(|| text("/error/message"))
        .or_else(|| text("/error/title"))
        .unwrap_or_else(|| {
            let text = String::from_utf8_lossy(body);
            if text.trim().is_empty() {
                "no error body".to_string()
            } else {
                text.chars().take(300).collect()
            }
        });
    let kind = classify(status, code.as_deref());
    let err = VendorError::new(VENDOR, operation, kind, message).with_status(status);
    match code {
        Some(c) => err.with_code(c),
        None => err,
    }
}

/// A success response whose body we could not read as the document describes.
pub fn protocol(operation: &str, status: u16, what: impl std::fmt::Display) -> VendorError {
    VendorError::new(
        VENDOR,
        operation,
        ErrorKind::Protocol,
        format!("unexpected response body: {what}"),
    )
    .with_status(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_kinds_by_their_handling_measure() {
        let cases: &[(u16, &str, ErrorKind)] = &[
            (404, "BackupService.6105", ErrorKind::NotFound),
            (404, "BackupService.6000", ErrorKind::NotFound),
            (404, "BackupService.6002", ErrorKind::NotFound),
            (404, "BackupService.6500", ErrorKind::NotFound),
            (400, "BackupService.9900", ErrorKind::Rejected),
            (400, "BackupService.6101", ErrorKind::Rejected),
            (400, "BackupService.6102", ErrorKind::Rejected),
            (400, "BackupService.6104", ErrorKind::Rejected),
            (400, "BackupService.6133", ErrorKind::Rejected),
            (400, "BackupService.6135", ErrorKind::Rejected),
            (400, "BackupService.6103", ErrorKind::Conflict),
            (400, "BackupService.7116", ErrorKind::Conflict),
            (400, "BackupService.7006", ErrorKind::Conflict),
            (400, "BackupService.6106", ErrorKind::Conflict),
            (404, "BackupService.6402", ErrorKind::Conflict),
            (400, "BackupService.6134", ErrorKind::Unavailable),
            (400, "BackupService.6130", ErrorKind::Unavailable),
            (400, "BackupService.6123", ErrorKind::Unavailable),
            (500, "BackupService.0002", ErrorKind::Unavailable),
            (500, "BackupService.9910", ErrorKind::Unavailable),
            (500, "BackupService.6132", ErrorKind::Unavailable),
            (500, "BackupService.9998", ErrorKind::Unauthorized),
            (500, "BackupService.1005", ErrorKind::Rejected),
            (403, "BackupService.8600", ErrorKind::Forbidden),
            (401, "APIGW.0301", ErrorKind::Unauthorized),
            (429, "APIGW.0308", ErrorKind::Throttled),
            (503, "", ErrorKind::Unavailable),
            (502, "", ErrorKind::Unavailable),
        ];
        for (status, code, kind) in cases {
            let code = Some(*code).filter(|c| !c.is_empty());
            assert_eq!(classify(*status, code), *kind, "{status} {code:?}");
        }
    }

    #[test]
    fn every_override_is_a_backup_service_code_listed_once() {
        for (i, (code, _)) in CODE_KINDS.iter().enumerate() {
            assert!(
                code.len() == 4 && code.chars().all(|c| c.is_ascii_digit()),
                "{code}"
            );
            assert!(
                !CODE_KINDS[..i].iter().any(|(c, _)| c == code),
                "{code} twice"
            );
        }
    }

    #[test]
    fn reads_cbr_and_iam_bodies() {
        let e = from_response(
            "GET /vaults/{id}",
            404,
            br#"{"error_code":"BackupService.6105","error_msg":"The vault does not exist."}"#,
        );
        assert_eq!(e.kind, ErrorKind::NotFound);
        assert_eq!(e.code.as_deref(), Some("BackupService.6105"));
        assert_eq!(
            e.to_string(),
            "huawei-cbr GET /vaults/{id}: HTTP 404 BackupService.6105: The vault does not exist."
        );

        let e = from_response(
            "POST /v3/auth/tokens",
            401,
            br#"{"error":{"code":401,"title":"Unauthorized","message":"The username or password is wrong."}}"#,
        );
        assert_eq!(e.kind, ErrorKind::Unauthorized);
        assert_eq!(e.code, None);
        assert_eq!(e.message, "The username or password is wrong.");

        let e = from_response("GET /vaults", 502, b"<html>bad gateway</html>");
        assert_eq!(e.kind, ErrorKind::Unavailable);
        assert_eq!(e.message, "<html>bad gateway</html>");
        assert!(
            from_response("GET /vaults", 503, b"")
                .message
                .contains("no error body")
        );
    }

    #[test]
    fn a_code_survives_a_message_of_the_wrong_type() {
        // Found by tests/fuzz: a non-string error_msg made the whole body unreadable, so a
        // "try again later" code was lost and the 400 read as a terminal rejection.
        let e = from_response(
            "POST /vaults",
            400,
            br#"{"error_code":"BackupService.6134","error_msg":{"text":"busy"}}"#,
        );
        assert_eq!(e.code.as_deref(), Some("BackupService.6134"));
        assert_eq!(e.kind, ErrorKind::Unavailable);
    }

    #[test]
    fn only_an_object_is_an_error_body() {
        // Found by tests/fuzz: a derived struct also reads a JSON array, by position, so
        // `["anything"]` became the error code.
        let e = from_response("POST /vaults", 400, br#"["BackupService.6134"]"#);
        assert_eq!(e.code, None);
        assert_eq!(e.kind, ErrorKind::Rejected);
        assert_eq!(e.message, r#"["BackupService.6134"]"#);
    }
}
