//! The simulated device: one ordered table per firewall section, ids, insertion with an anchor,
//! move, replace and delete, with the document's semantics (L68-253), plus the firewall-wide
//! status, state, settings and counters.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::section::{InsertAfterFalse, ROOT_GROUP, Section, place};

/// A refusal, answered with the simulator's error body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimError {
    pub status: StatusCode,
    pub message: String,
}

impl SimError {
    pub fn bad(message: impl Into<String>) -> Self {
        SimError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }
    pub fn not_found(id: i64) -> Self {
        SimError {
            status: StatusCode::NOT_FOUND,
            message: format!("rule {id} not found"),
        }
    }
}

const STRINGS: [&str; 6] = [
    "action",
    "comment",
    "incoming_interface",
    "outgoing_interface",
    "parent_id",
    "protocol",
];
const BOOLS: [&str; 3] = [
    "destination_addresses_negate",
    "enabled",
    "source_addresses_negate",
];
const LISTS: [&str; 5] = [
    "destination_addresses",
    "destination_ports",
    "hip_profiles",
    "source_addresses",
    "timetable",
];

/// Check a rule body as the API gets it. GUESS: the document shows the full body for create and
/// update and says nothing about optional fields, so every documented field is required; fields
/// it does not document are kept (the real device has DNAT/SNAT fields the document omits).
pub fn validate_rule(section: Section, body: Value) -> Result<Map<String, Value>, SimError> {
    let Value::Object(mut fields) = body else {
        return Err(SimError::bad("the rule body must be a JSON object"));
    };
    fields.remove("id");
    for key in STRINGS {
        if !fields.get(key).is_some_and(Value::is_string) {
            return Err(SimError::bad(format!("{key}: a string is required")));
        }
    }
    for key in BOOLS {
        if !fields.get(key).is_some_and(Value::is_boolean) {
            return Err(SimError::bad(format!("{key}: a boolean is required")));
        }
    }
    for key in LISTS {
        let ok = fields
            .get(key)
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().all(Value::is_string));
        if !ok {
            return Err(SimError::bad(format!(
                "{key}: a list of strings is required"
            )));
        }
    }
    let action = fields["action"].as_str().unwrap_or_default();
    if !section.actions().contains(&action) {
        return Err(SimError::bad(format!(
            "action: {action:?} is not allowed in section {}",
            section.segment()
        )));
    }
    // The document's only length limit (L5), counted in characters.
    if fields["comment"]
        .as_str()
        .unwrap_or_default()
        .chars()
        .count()
        > 255
    {
        return Err(SimError::bad("comment: at most 255 characters"));
    }
    Ok(fields)
}

/// A rule as a person makes it in the web interface: every field filled in, then `fields`.
pub fn human_rule(section: Section, fields: Value) -> Result<Map<String, Value>, SimError> {
    let action = if section == Section::Log {
        "mark_log"
    } else {
        "accept"
    };
    let mut base = json!({
        "action": action, "comment": "", "destination_addresses": [], "destination_addresses_negate": false,
        "destination_ports": [], "enabled": true, "hip_profiles": [], "incoming_interface": "",
        "outgoing_interface": "", "parent_id": ROOT_GROUP, "protocol": "", "source_addresses": [],
        "source_addresses_negate": false, "timetable": []
    });
    let Value::Object(extra) = fields else {
        return Err(SimError::bad("the rule must be a JSON object"));
    };
    base.as_object_mut().expect("object literal").extend(extra);
    validate_rule(section, base)
}

#[derive(Debug, Clone)]
struct StoredRule {
    id: i64,
    fields: Map<String, Value>,
}

/// The device's firewall.
pub struct Device {
    tables: BTreeMap<Section, Vec<StoredRule>>,
    // GUESS: ids come from one counter for all sections (the document does not say).
    next_id: i64,
    pub firewall_enabled: bool,
    pub services: Vec<Value>,
    pub settings: Value,
    pub watch_enabled: bool,
    pub packets: BTreeMap<i64, u64>,
    /// How `insert_after=false` is read (see [`InsertAfterFalse`]).
    pub insert_after_false: InsertAfterFalse,
}

impl Default for Device {
    fn default() -> Self {
        Device {
            tables: Section::ALL.into_iter().map(|s| (s, Vec::new())).collect(),
            next_id: 1,
            firewall_enabled: true,
            services: vec![
                json!({"name": "rules-in-kernel", "status": "active", "msg": []}),
                json!({"name": "auto-snat", "status": "active", "msg": []}),
            ],
            settings: json!({"automatic_snat_enabled": true, "log_mode": "selected", "log_actions": ["drop"]}),
            watch_enabled: false,
            packets: BTreeMap::new(),
            insert_after_false: InsertAfterFalse::default(),
        }
    }
}

impl Device {
    /// The section as `GET /firewall/rules/<section>` lists it.
    pub fn list(&self, section: Section) -> Vec<Value> {
        self.tables[&section]
            .iter()
            .map(|r| {
                let mut o = r.fields.clone();
                o.insert("id".into(), json!(r.id));
                Value::Object(o)
            })
            .collect()
    }

    pub fn ids(&self, section: Section) -> Vec<i64> {
        self.tables[&section].iter().map(|r| r.id).collect()
    }

    /// Insert a validated rule: without an anchor at the end of the table; with one right after
    /// it (`insert_after`, the default) or, for `false`, where [`place`] reads it (L156-158).
    pub fn insert(
        &mut self,
        section: Section,
        fields: Map<String, Value>,
        anchor: Option<i64>,
        insert_after: bool,
    ) -> Result<i64, SimError> {
        let reading = self.insert_after_false;
        let table = self.tables.get_mut(&section).expect("every section exists");
        let at = match anchor {
            None => table.len(),
            Some(a) => {
                let i = table
                    .iter()
                    .position(|r| r.id == a)
                    .ok_or_else(|| SimError::bad(format!("anchor_item_id: rule {a} not found")))?;
                place(i, insert_after, reading)
            }
        };
        let id = self.next_id;
        self.next_id += 1;
        table.insert(at, StoredRule { id, fields });
        Ok(id)
    }

    /// Replace a rule's body; its place stays.
    pub fn replace(
        &mut self,
        section: Section,
        id: i64,
        fields: Map<String, Value>,
    ) -> Result<(), SimError> {
        let rule = self.rule_mut(section, id)?;
        rule.fields = fields;
        Ok(())
    }

    /// Change some fields of a rule, as a person does in the web interface.
    pub fn edit(&mut self, section: Section, id: i64, patch: Value) -> Result<(), SimError> {
        let Value::Object(patch) = patch else {
            return Err(SimError::bad("the edit must be a JSON object"));
        };
        let mut fields = self.rule_mut(section, id)?.fields.clone();
        fields.extend(patch);
        let fields = validate_rule(section, Value::Object(fields))?;
        self.replace(section, id, fields)
    }

    /// Take a rule out and put it right after the anchor (`insert_after`) or, for `false`, where
    /// [`place`] reads it (L238-240).
    pub fn move_rule(
        &mut self,
        section: Section,
        id: i64,
        anchor: i64,
        insert_after: bool,
    ) -> Result<(), SimError> {
        let reading = self.insert_after_false;
        let table = self.tables.get_mut(&section).expect("every section exists");
        if id == anchor {
            return Err(SimError::bad("a rule cannot be moved next to itself"));
        }
        let from = table
            .iter()
            .position(|r| r.id == id)
            .ok_or_else(|| SimError::bad(format!("id: rule {id} not found")))?;
        if !table.iter().any(|r| r.id == anchor) {
            return Err(SimError::bad(format!(
                "anchor_item_id: rule {anchor} not found"
            )));
        }
        let rule = table.remove(from);
        let at = table
            .iter()
            .position(|r| r.id == anchor)
            .expect("anchor checked above");
        table.insert(place(at, insert_after, reading), rule);
        Ok(())
    }

    pub fn delete(&mut self, section: Section, id: i64) -> Result<(), SimError> {
        let table = self.tables.get_mut(&section).expect("every section exists");
        let at = table
            .iter()
            .position(|r| r.id == id)
            .ok_or(SimError::not_found(id))?;
        table.remove(at);
        self.packets.remove(&id);
        Ok(())
    }

    /// `GET /firewall/counters/<section>`.
    pub fn counters(&self, section: Section) -> Vec<Value> {
        self.tables[&section]
            .iter()
            .map(|r| json!({"id": r.id, "packets": self.packets.get(&r.id).copied().unwrap_or(0)}))
            .collect()
    }

    fn rule_mut(&mut self, section: Section, id: i64) -> Result<&mut StoredRule, SimError> {
        self.tables
            .get_mut(&section)
            .expect("every section exists")
            .iter_mut()
            .find(|r| r.id == id)
            .ok_or(SimError::not_found(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(d: &mut Device, comment: &str, anchor: Option<i64>, after: bool) -> i64 {
        let rule = human_rule(Section::Forward, json!({"comment": comment})).unwrap();
        d.insert(Section::Forward, rule, anchor, after).unwrap()
    }

    #[test]
    fn insertion_follows_the_anchor_rules() {
        let mut d = Device::default();
        let a = add(&mut d, "a", None, true);
        let b = add(&mut d, "b", None, true);
        let c = add(&mut d, "c", Some(a), true);
        let top = add(&mut d, "top", Some(a), false);
        assert_eq!(d.ids(Section::Forward), vec![top, a, c, b]);
        assert!(d.ids(Section::Input).is_empty());
        let missing = d.insert(
            Section::Forward,
            human_rule(Section::Forward, json!({})).unwrap(),
            Some(99),
            true,
        );
        assert_eq!(missing.unwrap_err().status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn move_replace_and_delete_keep_ids_and_places() {
        let mut d = Device::default();
        let ids: Vec<i64> = ["a", "b", "c"]
            .iter()
            .map(|c| add(&mut d, c, None, true))
            .collect();
        d.move_rule(Section::Forward, ids[2], ids[0], false)
            .unwrap();
        assert_eq!(d.ids(Section::Forward), vec![ids[2], ids[0], ids[1]]);
        d.edit(
            Section::Forward,
            ids[0],
            json!({"action": "drop", "nat_to": "1.2.3.4"}),
        )
        .unwrap();
        let listed = d.list(Section::Forward);
        assert_eq!(
            (listed[1]["id"].as_i64(), listed[1]["action"].as_str()),
            (Some(ids[0]), Some("drop"))
        );
        assert_eq!(listed[1]["nat_to"], "1.2.3.4");
        d.delete(Section::Forward, ids[1]).unwrap();
        assert_eq!(
            d.delete(Section::Forward, ids[1]).unwrap_err().status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            d.move_rule(Section::Forward, ids[0], ids[0], true)
                .unwrap_err()
                .status,
            StatusCode::BAD_REQUEST
        );
    }

    #[test]
    fn bodies_are_checked_like_the_document_says() {
        let ok = human_rule(Section::Log, json!({})).unwrap();
        assert_eq!(ok["action"], "mark_log");
        assert!(validate_rule(Section::Log, json!({"action": "accept"})).is_err());
        let mut body = Value::Object(ok);
        body["action"] = json!("accept");
        assert!(
            validate_rule(Section::Log, body.clone())
                .unwrap_err()
                .message
                .contains("action")
        );
        assert!(validate_rule(Section::Forward, body.clone()).is_ok());
        body["comment"] = json!("я".repeat(256));
        assert!(
            validate_rule(Section::Forward, body.clone())
                .unwrap_err()
                .message
                .contains("255")
        );
        body["comment"] = json!("");
        body.as_object_mut().unwrap().remove("timetable");
        assert!(
            validate_rule(Section::Forward, body)
                .unwrap_err()
                .message
                .contains("timetable")
        );
    }
}
