//! The `PATCH /policies/{id}` that brings a plan in line, written so that it lands the same
//! whether the server merges PATCH bodies deeply or replaces each settings section sent (the
//! document does not say which, L3555–3625).
//!
//! Each top-level section that differs is sent whole: the vendor's section with rampart's
//! managed parts written over it, so keys rampart does not manage survive a replacing server.
//! Keys that must go (the old destination's `path` after a switch to a `VAULT`, say) vanish on
//! a replacing server with that; a merging server keeps them unless they are sent as `null`.
//! Which kind of server this is, rampart learns from the first PATCH that removes keys (see
//! `Semantics`), and from then on sends the nulls only where they are needed.

use serde_json::{Map, Value, json};

use super::settings::{Compare, DesiredPlan, differing_sections};

/// How the server combines a PATCH body with the plan, as far as rampart has seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Semantics {
    /// Objects merge key by key; `null` removes a key (RFC 7396).
    Merge,
    /// Each top-level settings section sent replaces the plan's section.
    Replace,
}

/// A PATCH to send, and the keys it must remove.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanPatch {
    /// `{"subject": {"policy": [{…}]}}`.
    pub body: Value,
    /// JSON pointers (into settings) of keys the vendor holds and rampart wants gone.
    pub removals: Vec<String>,
}

/// The PATCH that brings `observed` in line with `desired`, or `None` when nothing differs.
/// With `Semantics::Merge` the removals are sent as `null`; unknown or `Replace`, they are
/// left out (the caller checks afterwards, see `remaining`).
pub fn build(
    desired: &DesiredPlan,
    observed_name: &str,
    observed: &Value,
    semantics: Option<Semantics>,
) -> Option<PlanPatch> {
    let mut element = Map::new();
    if observed_name != desired.name {
        element.insert("name".into(), json!(desired.name));
    }
    let mut tops: Vec<String> = Vec::new();
    for (section, _, _) in differing_sections(desired, observed) {
        let top = top_key(&section.pointer);
        if !tops.contains(&top) {
            tops.push(top);
        }
    }
    let mut settings = Map::new();
    let mut removals = Vec::new();
    for top in &tops {
        let mut section = observed.get(top).cloned().unwrap_or(Value::Null);
        if !section.is_object() {
            section = Value::Object(Map::new());
        }
        for s in desired
            .sections
            .iter()
            .filter(|s| &top_key(&s.pointer) == top)
        {
            let want = desired
                .settings
                .pointer(&s.pointer)
                .cloned()
                .unwrap_or(Value::Null);
            if s.compare == Compare::Exact
                && let Some(have) = observed.pointer(&s.pointer)
            {
                extra_keys(have, &want, &s.pointer, &mut removals);
            }
            let inner = &s.pointer[top.len() + 1..];
            set(&mut section, inner, want);
        }
        settings.insert(unescape(top), section);
    }
    if semantics == Some(Semantics::Merge) {
        let mut nulls = Value::Object(settings);
        for r in &removals {
            set(&mut nulls, r, Value::Null);
        }
        settings = match nulls {
            Value::Object(m) => m,
            _ => unreachable!("built from an object"),
        };
    }
    if !settings.is_empty() {
        element.insert("settings".into(), Value::Object(settings));
    }
    (!element.is_empty()).then(|| PlanPatch {
        body: json!({"subject": {"policy": [Value::Object(element)]}}),
        removals,
    })
}

/// The removals the vendor still holds after a PATCH (a merging server keeps keys not sent).
pub fn remaining(removals: &[String], settings: &Value) -> Vec<String> {
    removals
        .iter()
        .filter(|p| settings.pointer(p).is_some_and(|v| !v.is_null()))
        .cloned()
        .collect()
}

/// The PATCH that removes `pointers` from a merging server: each one `null`.
pub fn nulls(pointers: &[String]) -> Value {
    let mut settings = Value::Object(Map::new());
    for p in pointers {
        set(&mut settings, p, Value::Null);
    }
    json!({"subject": {"policy": [{"settings": settings}]}})
}

/// What the plan's settings become after `patch`, under `semantics` (rampart's copy between
/// two listings).
pub fn apply(semantics: Semantics, settings: &mut Value, patch: &Value) {
    match (semantics, patch) {
        (Semantics::Replace, Value::Object(sections)) => {
            if !settings.is_object() {
                *settings = Value::Object(Map::new());
            }
            let target = settings.as_object_mut().expect("an object");
            for (k, v) in sections {
                if v.is_null() {
                    target.remove(k);
                } else {
                    target.insert(k.clone(), v.clone());
                }
            }
        }
        _ => merge_patch(settings, patch),
    }
}

/// RFC 7396 merge patch.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(members) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let object = target.as_object_mut().expect("an object");
    for (k, v) in members {
        if v.is_null() {
            object.remove(k);
        } else {
            merge_patch(object.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
}

/// Pointers of keys `have` holds (with a value) that `want` does not, object by object.
fn extra_keys(have: &Value, want: &Value, at: &str, out: &mut Vec<String>) {
    let (Value::Object(h), Value::Object(w)) = (have, want) else {
        return;
    };
    for (k, v) in h {
        let here = format!("{at}/{}", escape(k));
        match w.get(k) {
            _ if v.is_null() => {}
            None => out.push(here),
            Some(wv) => extra_keys(v, wv, &here, out),
        }
    }
}

/// The first key of a pointer, still escaped.
fn top_key(pointer: &str) -> String {
    pointer
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default()
        .to_string()
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn unescape(key: &str) -> String {
    key.replace("~1", "/").replace("~0", "~")
}

/// Write `value` at `pointer` (relative, `a/b` or `/a/b`), making objects on the way.
fn set(root: &mut Value, pointer: &str, value: Value) {
    let mut at = root;
    let keys: Vec<String> = pointer
        .trim_start_matches('/')
        .split('/')
        .map(unescape)
        .collect();
    for (i, k) in keys.iter().enumerate() {
        if !at.is_object() {
            *at = Value::Object(Map::new());
        }
        let object = at.as_object_mut().expect("an object");
        if i + 1 == keys.len() {
            object.insert(k.clone(), value);
            return;
        }
        at = object.entry(k.clone()).or_insert(Value::Null);
    }
}

#[cfg(test)]
mod tests;
