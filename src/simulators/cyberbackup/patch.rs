//! How `PATCH /policies/{id}` combines its `settings` with the plan's. The document does not say
//! (§2.10.3.10, L3555–3625): its only example sends one whole section (`alerts`), which fits
//! both readings below, so the simulator has both, chosen in `SimConfig::patch_semantics`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// GUESS (L3578–3591): a real server merges deeply, as JSON merge patch (RFC 7396) does: objects
/// merge key by key, `null` removes a key, anything else (arrays included) replaces. That is the
/// usual meaning of a partial JSON body in PATCH, and the example's partial settings read that
/// way. `ReplaceSections` is the other reading: each top-level settings section sent replaces
/// the plan's section whole.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PatchSemantics {
    #[default]
    DeepMerge,
    ReplaceSections,
}

/// Apply the `settings` of a PATCH element to the plan's settings.
pub fn apply(semantics: PatchSemantics, settings: &mut Value, patch: &Value) {
    match semantics {
        PatchSemantics::DeepMerge => merge_patch(settings, patch),
        PatchSemantics::ReplaceSections => replace_sections(settings, patch),
    }
}

/// RFC 7396: objects merge member by member, `null` removes a member, other values replace.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(members) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    let object = target.as_object_mut().expect("made an object above");
    for (key, value) in members {
        if value.is_null() {
            object.remove(key);
        } else {
            merge_patch(object.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

fn replace_sections(target: &mut Value, patch: &Value) {
    let (Value::Object(target), Value::Object(sections)) = (target, patch) else {
        return;
    };
    for (key, value) in sections {
        if value.is_null() {
            target.remove(key);
        } else {
            target.insert(key.clone(), value.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plan() -> Value {
        json!({"alerts": {"enabled": false, "max_days_without_backup": 0},
               "destination": {"location": {"type": "VAULT", "settings": {"name": "a", "uri": "E:", "credentials": "c1"}},
                               "retention": {"rules": [{"max_count": 7}]}}})
    }

    #[test]
    fn the_document_example_means_the_same_under_both_readings() {
        let patch = json!({"alerts": {"enabled": true, "max_days_without_backup": 5}});
        let (mut a, mut b) = (plan(), plan());
        apply(PatchSemantics::DeepMerge, &mut a, &patch);
        apply(PatchSemantics::ReplaceSections, &mut b, &patch);
        assert_eq!(a, b);
        assert_eq!(a["alerts"]["max_days_without_backup"], 5);
        assert_eq!(
            a["destination"],
            plan()["destination"],
            "other sections stay"
        );
    }

    #[test]
    fn a_deep_merge_keeps_keys_not_sent_unless_sent_as_null() {
        let mut s = plan();
        apply(
            PatchSemantics::DeepMerge,
            &mut s,
            &json!({"destination": {"location": {"type": "LOCAL_FOLDER_TEMPLATE", "settings": {"path": "F:/", "uri": null}}}}),
        );
        let settings = &s["destination"]["location"]["settings"];
        assert_eq!(settings["path"], "F:/");
        assert_eq!(settings["name"], "a", "a key not sent stays");
        assert!(settings.get("uri").is_none(), "null removes");
        assert_eq!(s["destination"]["retention"]["rules"][0]["max_count"], 7);
    }

    #[test]
    fn replacing_sections_drops_what_the_section_sent_does_not_hold() {
        let mut s = plan();
        apply(
            PatchSemantics::ReplaceSections,
            &mut s,
            &json!({"destination": {"location": {"type": "LOCAL_FOLDER_TEMPLATE", "settings": {"path": "F:/"}}}}),
        );
        assert_eq!(
            s["destination"],
            json!({"location": {"type": "LOCAL_FOLDER_TEMPLATE", "settings": {"path": "F:/"}}})
        );
        assert_eq!(s["alerts"], plan()["alerts"]);
    }
}
