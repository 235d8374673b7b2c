//! A CBR refusal that names no field ("Parameter verification failed.", BackupService.9900,
//! is all the document promises) tells a user nothing about what to change. rampart adds what
//! it checked before sending and the shape of what it sent: field paths with lengths and
//! counts, never values (a value could be anything a user typed, a secret included).

use serde_json::Value;

use crate::vendor::error::{ErrorKind, MAX_MESSAGE_CHARS, VendorError};

/// What rampart checks before a vault create.
pub const CREATE_CHECKS: &str = "name 1-64 characters, description 0-64, billing.size 10-10485760, at most 255 resources (more are added afterwards), at most 10 tags with unique keys";
/// What rampart checks before a vault update.
pub const UPDATE_CHECKS: &str =
    "name 1-64 characters, billing.size only grows, threshold 1-100, at most 5 bind_rules tags";
/// What rampart checks before an addresources call.
pub const ADD_CHECKS: &str = "1-256 resources per call, each of the vault's resource type, none twice, none that the vault listing shows in another vault";

/// `e` with what rampart checked and sent, when CBR refused the request (HTTP 400) without
/// naming any field it was sent; otherwise `e` as it is.
pub fn explain(e: VendorError, sent: &Value, checked: &str) -> VendorError {
    if e.kind != ErrorKind::Rejected || e.status != Some(400) {
        return e;
    }
    let mut fields = Vec::new();
    shape(sent, "", &mut fields);
    let said = e.message.to_lowercase();
    let names_a_field = fields
        .iter()
        .filter_map(|f| f.path.rsplit('.').next())
        .any(|leaf| said.contains(&leaf.to_lowercase()));
    if names_a_field {
        return e;
    }
    let sent: Vec<String> = fields.iter().map(Field::describe).collect();
    let mut message = format!(
        "{} (CBR names no field; rampart checked {checked}; it sent {})",
        e.message,
        sent.join(", ")
    );
    if let Some((cut, _)) = message.char_indices().nth(MAX_MESSAGE_CHARS) {
        message.truncate(cut);
        message.push('…');
    }
    VendorError { message, ..e }
}

/// One field of a request body: its path and what it holds, without the value.
struct Field {
    path: String,
    what: Option<String>,
}

impl Field {
    fn describe(&self) -> String {
        match &self.what {
            Some(w) => format!("{} ({w})", self.path),
            None => self.path.clone(),
        }
    }
}

fn shape(v: &Value, path: &str, out: &mut Vec<Field>) {
    let at = |what: Option<String>| Field {
        path: path.to_string(),
        what,
    };
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                shape(child, &p, out);
            }
        }
        Value::Array(a) => out.push(at(Some(format!("{} items", a.len())))),
        Value::String(s) => out.push(at(Some(format!("{} characters", s.chars().count())))),
        Value::Null => {}
        Value::Bool(_) | Value::Number(_) => out.push(at(None)),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rejected(message: &str) -> VendorError {
        VendorError::new("huawei-cbr", "POST /vaults", ErrorKind::Rejected, message)
            .with_status(400)
            .with_code("BackupService.9900")
    }

    fn body() -> Value {
        json!({"vault": {
            "name": "x".repeat(70),
            "billing": {"object_type": "server", "size": 100},
            "resources": [{"id": "s1"}, {"id": "s2"}],
            "tags": [{"key": "rampart-owner", "value": "secret-looking-value"}],
            "description": null
        }})
    }

    #[test]
    fn a_refusal_naming_no_field_gets_what_was_checked_and_sent_without_values() {
        let e = explain(
            rejected("Parameter verification failed."),
            &body(),
            CREATE_CHECKS,
        );
        let m = &e.message;
        assert!(m.starts_with("Parameter verification failed. (CBR names no field"));
        for needle in [
            "vault.name (70 characters)",
            "vault.billing.object_type (6 characters)",
            "vault.billing.size",
            "vault.resources (2 items)",
            "vault.tags (1 items)",
            "name 1-64 characters",
        ] {
            assert!(m.contains(needle), "{needle}: {m}");
        }
        assert!(
            !m.contains("secret-looking-value") && !m.contains("xxxx"),
            "{m}"
        );
        assert!(
            !m.contains("vault.description"),
            "a null field was not sent: {m}"
        );
        assert_eq!(e.code.as_deref(), Some("BackupService.9900"));
        assert_eq!(e.kind, ErrorKind::Rejected);
    }

    #[test]
    fn a_refusal_that_names_a_field_or_is_not_a_400_stays_as_it_is() {
        let named = rejected("Parameter verification failed. name must be 1-64 characters");
        assert_eq!(
            explain(named.clone(), &body(), CREATE_CHECKS).message,
            named.message
        );
        let busy = VendorError::new("huawei-cbr", "POST /vaults", ErrorKind::Unavailable, "busy")
            .with_status(400);
        assert_eq!(explain(busy, &body(), CREATE_CHECKS).message, "busy");
        let conflict = VendorError::new(
            "huawei-cbr",
            "POST /vaults",
            ErrorKind::Conflict,
            "The resource has been associated with a vault.",
        )
        .with_status(400);
        assert_eq!(
            explain(conflict.clone(), &body(), CREATE_CHECKS).message,
            conflict.message
        );
    }
}
