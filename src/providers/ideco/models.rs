//! The shapes of the firewall part of the document (L9-295), as the client reads and writes
//! them. A rule is kept as its full JSON object so that fields rampart does not model survive a
//! read-modify-write.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::marker;

/// One rule as the device lists it: its id and every other field, known or not.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceRule {
    pub id: i64,
    /// The rule body without `id`.
    pub fields: Map<String, Value>,
}

impl DeviceRule {
    /// Read one element of `GET /firewall/rules/<section>`.
    pub fn from_json(value: Value) -> Result<Self, String> {
        let Value::Object(mut fields) = value else {
            return Err("a rule is not a JSON object".to_string());
        };
        let id = fields
            .remove("id")
            .as_ref()
            .and_then(integer)
            .ok_or("a rule has no integer id")?;
        Ok(DeviceRule { id, fields })
    }

    pub fn comment(&self) -> &str {
        self.fields
            .get("comment")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// The rampart marker in the comment, if any.
    pub fn marker(&self) -> Option<&str> {
        marker::parse(self.comment())
    }

    pub fn enabled(&self) -> Option<bool> {
        self.fields.get("enabled").and_then(Value::as_bool)
    }
}

/// An integer the document types as `"integer"`; a numeric string is accepted too, since the
/// document's examples quote every type.
pub fn integer(v: &Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

/// The answer to `POST /firewall/rules/<section>` (L179-183).
#[derive(Debug, Clone, Deserialize)]
pub struct CreatedRule {
    pub id: Value,
}

/// Body of `PATCH /firewall/rules/<section>/move` (L227-240): the only body wrapped in `params`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MoveRequest {
    pub params: MoveParams,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MoveParams {
    pub id: i64,
    pub anchor_item_id: i64,
    pub insert_after: bool,
}

/// One element of `GET /firewall/status` (L9-25).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct ServiceStatus {
    pub name: String,
    pub status: String,
    #[serde(default)]
    pub msg: Vec<String>,
}

/// `GET /firewall/state` (L28-37): whether user rules are applied at all.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct FirewallState {
    pub enabled: bool,
}

/// `GET /firewall/settings` (L39-49).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq, Default)]
pub struct FirewallSettings {
    #[serde(default)]
    pub automatic_snat_enabled: bool,
    #[serde(default)]
    pub log_mode: String,
    #[serde(default)]
    pub log_actions: Vec<String>,
}

/// What rampart reads about the device as a whole, once per poll interval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceFacts {
    pub services: Vec<ServiceStatus>,
    pub state: FirewallState,
    pub settings: FirewallSettings,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_listed_rule_keeps_every_field_but_its_id() {
        let r = DeviceRule::from_json(
            json!({"id": 7, "comment": "a [rampart:m1]", "enabled": false, "dnat_to": "10.0.0.1"}),
        )
        .unwrap();
        assert_eq!(r.id, 7);
        assert_eq!(r.marker(), Some("m1"));
        assert_eq!(r.enabled(), Some(false));
        assert_eq!(r.fields["dnat_to"], "10.0.0.1");
        assert!(!r.fields.contains_key("id"));
        assert_eq!(DeviceRule::from_json(json!({"id": "12"})).unwrap().id, 12);
        assert!(DeviceRule::from_json(json!({"comment": "x"})).is_err());
        assert!(DeviceRule::from_json(json!([1])).is_err());
    }

    #[test]
    fn the_move_body_is_wrapped_in_params() {
        let body = MoveRequest {
            params: MoveParams {
                id: 3,
                anchor_item_id: 9,
                insert_after: false,
            },
        };
        assert_eq!(
            serde_json::to_value(body).unwrap(),
            json!({"params": {"id": 3, "anchor_item_id": 9, "insert_after": false}})
        );
    }
}
