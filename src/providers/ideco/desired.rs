//! Spec → rule body, and rule body → drift. Every field of the document's rule body (L162-177) is
//! managed; `extraFields` adds fields the document does not describe. Updates lay the desired
//! fields over the device's current rule, so fields rampart does not model survive.

use serde_json::{Map, Value, json};

use super::marker;
use crate::api::common::Drift;
use crate::api::vendors::ideco::IdecoFirewallRule;
use crate::engine::external::{ExternalError, ExternalResult};

/// The document's rule body fields with their spec names, in the document's order.
pub const DOCUMENTED_FIELDS: [(&str, &str); 14] = [
    ("action", "action"),
    ("comment", "comment"),
    ("destination_addresses", "destinationAddresses"),
    ("destination_addresses_negate", "destinationAddressesNegate"),
    ("destination_ports", "destinationPorts"),
    ("enabled", "enabled"),
    ("hip_profiles", "hipProfiles"),
    ("incoming_interface", "incomingInterface"),
    ("outgoing_interface", "outgoingInterface"),
    ("parent_id", "parentId"),
    ("protocol", "protocol"),
    ("source_addresses", "sourceAddresses"),
    ("source_addresses_negate", "sourceAddressesNegate"),
    ("timetable", "timetable"),
];

/// The device's limit on comments (L5), in characters.
pub const MAX_COMMENT: usize = 255;

/// The rule body the spec asks for: the documented fields (comment with the ownership marker)
/// followed by `extraFields`.
pub fn desired_fields(
    spec: &IdecoFirewallRule,
    marker: &str,
) -> ExternalResult<Map<String, Value>> {
    if !spec.section.allowed_actions().contains(&spec.action) {
        let allowed: Vec<&str> = spec
            .section
            .allowed_actions()
            .iter()
            .map(|a| a.as_str())
            .collect();
        return Err(ExternalError::invalid(
            "spec.ideco.action",
            format!(
                "{} is not allowed in section {}; use one of {}",
                spec.action.as_str(),
                spec.section.as_str(),
                allowed.join(", ")
            ),
        ));
    }
    let comment = marker::compose(&spec.comment, marker);
    if comment.chars().count() > MAX_COMMENT {
        return Err(ExternalError::invalid(
            "spec.ideco.comment",
            format!(
                "with rampart's marker the comment has {} characters; the device takes {MAX_COMMENT}",
                comment.chars().count()
            ),
        ));
    }
    let Value::Object(mut body) = json!({
        "action": spec.action.as_str(),
        "comment": comment,
        "destination_addresses": spec.destination_addresses,
        "destination_addresses_negate": spec.destination_addresses_negate,
        "destination_ports": spec.destination_ports,
        "enabled": spec.enabled,
        "hip_profiles": spec.hip_profiles,
        "incoming_interface": spec.incoming_interface,
        "outgoing_interface": spec.outgoing_interface,
        "parent_id": spec.parent_id,
        "protocol": spec.protocol,
        "source_addresses": spec.source_addresses,
        "source_addresses_negate": spec.source_addresses_negate,
        "timetable": spec.timetable,
    }) else {
        unreachable!("an object literal")
    };
    for (key, value) in &spec.extra_fields {
        if key == "id" || body.contains_key(key) {
            return Err(ExternalError::invalid(
                format!("spec.ideco.extraFields.{key}"),
                "this field is managed by its own spec field (or is the rule id); remove it from extraFields",
            ));
        }
        body.insert(key.clone(), value.clone());
    }
    Ok(body)
}

/// The body of an update: the device's current rule with the desired fields laid over it.
pub fn overlay(current: &Map<String, Value>, desired: &Map<String, Value>) -> Map<String, Value> {
    let mut body = current.clone();
    body.remove("id");
    for (k, v) in desired {
        body.insert(k.clone(), v.clone());
    }
    body
}

/// The fields whose device value differs from the desired one, with their spec paths. Lists of
/// strings compare as sets: the device may keep them in another order.
pub fn drift(desired: &Map<String, Value>, observed: &Map<String, Value>) -> Vec<Drift> {
    desired
        .iter()
        .filter_map(|(key, want)| {
            let have = observed.get(key).unwrap_or(&Value::Null);
            (normalised(want) != normalised(have)).then(|| Drift {
                field: spec_path(key),
                desired: want.to_string(),
                observed: have.to_string(),
            })
        })
        .collect()
}

fn spec_path(device_field: &str) -> String {
    match DOCUMENTED_FIELDS.iter().find(|(d, _)| *d == device_field) {
        Some((_, spec)) => format!("spec.ideco.{spec}"),
        None => format!("spec.ideco.extraFields.{device_field}"),
    }
}

fn normalised(v: &Value) -> Value {
    match v {
        Value::Array(items) if items.iter().all(Value::is_string) => {
            let mut sorted = items.clone();
            sorted.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
            Value::Array(sorted)
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::vendors::ideco::{IdecoAction, IdecoSection};

    fn spec(v: Value) -> IdecoFirewallRule {
        let mut base =
            json!({"section": "forward", "action": "accept", "placement": {"block": "Top"}});
        base.as_object_mut()
            .unwrap()
            .extend(v.as_object().unwrap().clone());
        serde_json::from_value(base).unwrap()
    }

    #[test]
    fn the_body_has_every_documented_field_and_the_marker() {
        let body = desired_fields(
            &spec(json!({"comment": "web", "sourceAddresses": ["10.0.0.0/8"], "protocol": "tcp"})),
            "m1",
        )
        .unwrap();
        let keys: Vec<&str> = body.keys().map(String::as_str).collect();
        let documented: Vec<&str> = DOCUMENTED_FIELDS.iter().map(|(d, _)| *d).collect();
        assert_eq!(keys.len(), 14);
        assert!(documented.iter().all(|k| keys.contains(k)));
        assert_eq!(body["comment"], "web [rampart:m1]");
        assert_eq!(body["source_addresses"], json!(["10.0.0.0/8"]));
        assert_eq!(body["enabled"], true);
        assert_eq!(body["parent_id"], crate::api::vendors::ideco::ROOT_GROUP_ID);
    }

    #[test]
    fn extra_fields_pass_through_but_cannot_shadow_documented_ones() {
        let body = desired_fields(
            &spec(json!({"extraFields": {"change_destination": "10.1.1.1:8080"}})),
            "m",
        )
        .unwrap();
        assert_eq!(body["change_destination"], "10.1.1.1:8080");
        for key in ["action", "id", "comment"] {
            let err = desired_fields(&spec(json!({"extraFields": {key: 1}})), "m").unwrap_err();
            assert!(
                matches!(&err, ExternalError::InvalidSpec { field, .. } if field == &format!("spec.ideco.extraFields.{key}")),
                "{err}"
            );
        }
    }

    #[test]
    fn actions_are_checked_per_section() {
        let mut s = spec(json!({}));
        s.section = IdecoSection::Log;
        assert!(
            matches!(desired_fields(&s, "m"), Err(ExternalError::InvalidSpec { field, .. }) if field == "spec.ideco.action")
        );
        s.action = IdecoAction::MarkLog;
        assert!(desired_fields(&s, "m").is_ok());
    }

    #[test]
    fn a_comment_too_long_with_the_marker_is_refused() {
        let fits = spec(json!({"comment": "ж".repeat(228)}));
        assert_eq!(
            desired_fields(&fits, "0123456789abcdef").unwrap()["comment"]
                .as_str()
                .unwrap()
                .chars()
                .count(),
            255
        );
        let long = spec(json!({"comment": "ж".repeat(229)}));
        assert!(
            matches!(desired_fields(&long, "0123456789abcdef"), Err(ExternalError::InvalidSpec { field, .. }) if field == "spec.ideco.comment")
        );
    }

    #[test]
    fn overlay_keeps_what_rampart_does_not_model() {
        let current = json!({"id": 4, "action": "drop", "dnat_target": "10.0.0.9", "comment": "x"});
        let desired = json!({"action": "accept", "comment": "x [rampart:m]"});
        let body = overlay(current.as_object().unwrap(), desired.as_object().unwrap());
        assert_eq!(
            Value::Object(body),
            json!({"action": "accept", "dnat_target": "10.0.0.9", "comment": "x [rampart:m]"})
        );
    }

    #[test]
    fn drift_names_spec_fields_and_ignores_list_order() {
        let desired = json!({"source_addresses": ["a", "b"], "enabled": true, "nat_port": 80});
        let observed = json!({"source_addresses": ["b", "a"], "enabled": false});
        let d = drift(desired.as_object().unwrap(), observed.as_object().unwrap());
        let fields: Vec<&str> = d.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(
            fields,
            vec!["spec.ideco.enabled", "spec.ideco.extraFields.nat_port"]
        );
        assert_eq!(
            (d[0].desired.as_str(), d[0].observed.as_str()),
            ("true", "false")
        );
        assert_eq!(d[1].observed, "null");
    }
}
