//! The desired set of policy applications (resource ids, resource names resolved through
//! `/resources`, group ids) against the applied one: what to apply and what to revoke.

use std::collections::{BTreeMap, BTreeSet};

use super::models::{Application, Resource};
use crate::api::vendors::cyberbackup::CyberBackupTargets;

/// Targets resolved to context ids (lower-cased: the vendor prints ids in both cases).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolved {
    pub contexts: BTreeSet<String>,
    /// Names no resource has (yet): agents register resources, so these may appear later.
    pub unresolved: Vec<String>,
    /// Resource and group ids the vendor does not know, neither as a resource nor as an
    /// applied context (lower-cased).
    pub unknown: Vec<String>,
}

/// The ids the spec names (resources and groups), lower-cased.
pub fn named_ids(t: &CyberBackupTargets) -> Vec<String> {
    t.resource_ids
        .iter()
        .chain(&t.group_ids)
        .map(|id| id.trim().to_ascii_lowercase())
        .collect()
}

/// Whether resolving needs the resource list: names to look up, or ids not applied yet.
pub fn needs_resources(t: &CyberBackupTargets, applied: &BTreeSet<String>) -> bool {
    !t.resource_names.is_empty() || named_ids(t).iter().any(|id| !applied.contains(id))
}

/// A name that several resources carry: applying to one of them would be a guess.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ambiguous {
    pub name: String,
    pub ids: Vec<String>,
}

/// Resolve the spec's targets. `resources` is keyed by lower-cased id; an id counts as known
/// when it is a resource or already an applied context.
pub fn resolve(
    t: &CyberBackupTargets,
    resources: &BTreeMap<String, Resource>,
    applied: &BTreeSet<String>,
) -> Result<Resolved, Ambiguous> {
    let mut out = Resolved::default();
    for id in named_ids(t) {
        if applied.contains(&id) || resources.contains_key(&id) {
            out.contexts.insert(id);
        } else if !out.unknown.contains(&id) {
            out.unknown.push(id);
        }
    }
    for name in &t.resource_names {
        let ids: Vec<String> = resources
            .iter()
            .filter(|(_, r)| {
                r.name.as_deref() == Some(name) || r.user_defined_name.as_deref() == Some(name)
            })
            .map(|(id, _)| id.clone())
            .collect();
        match ids.len() {
            0 => out.unresolved.push(name.clone()),
            1 => {
                out.contexts.insert(ids[0].clone());
            }
            _ => {
                return Err(Ambiguous {
                    name: name.clone(),
                    ids,
                });
            }
        }
    }
    Ok(out)
}

/// The contexts a plan is applied to, from its applications.
pub fn applied(apps: &[Application]) -> BTreeSet<String> {
    apps.iter()
        .flat_map(Application::applied_contexts)
        .collect()
}

/// What to change: contexts to apply the plan to and contexts to revoke it from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetChanges {
    pub apply: Vec<String>,
    pub revoke: Vec<String>,
}

pub fn changes(desired: &BTreeSet<String>, applied: &BTreeSet<String>) -> TargetChanges {
    TargetChanges {
        apply: desired.difference(applied).cloned().collect(),
        revoke: applied.difference(desired).cloned().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(id: &str, name: &str, user_name: Option<&str>) -> (String, Resource) {
        (
            id.to_ascii_lowercase(),
            Resource {
                id: id.into(),
                name: Some(name.into()),
                user_defined_name: user_name.map(Into::into),
                type_: None,
                agent_id: None,
            },
        )
    }

    fn app(context: &str, origin: &[&str]) -> Application {
        serde_json::from_value(serde_json::json!({
            "context": {"id": context}, "policy": {"id": "p"}, "origin_contexts": origin
        }))
        .unwrap()
    }

    #[test]
    fn ids_names_and_groups_resolve_to_lower_case_contexts() {
        let resources: BTreeMap<_, _> = [
            resource("AAA", "DESKTOP-1", None),
            resource("bbb", "srv", Some("Accounting server")),
        ]
        .into_iter()
        .collect();
        let t = CyberBackupTargets {
            resource_ids: vec!["CCC".into()],
            resource_names: vec![
                "DESKTOP-1".into(),
                "Accounting server".into(),
                "not-yet".into(),
            ],
            group_ids: vec!["5AFCBCF6-6070".into()],
        };
        let applied: BTreeSet<String> = ["5afcbcf6-6070".to_string()].into();
        let r = resolve(&t, &resources, &applied).unwrap();
        assert_eq!(
            r.contexts.into_iter().collect::<Vec<_>>(),
            vec!["5afcbcf6-6070", "aaa", "bbb"]
        );
        assert_eq!(r.unresolved, vec!["not-yet"]);
        assert_eq!(r.unknown, vec!["ccc"], "an id nobody has");
        assert!(needs_resources(&t, &applied));
        let ids_only = CyberBackupTargets {
            resource_ids: vec!["CCC".into()],
            ..Default::default()
        };
        assert!(!needs_resources(&ids_only, &["ccc".to_string()].into()));
    }

    #[test]
    fn a_name_two_resources_share_is_refused() {
        let resources: BTreeMap<_, _> = [
            resource("a", "twin", None),
            resource("b", "x", Some("twin")),
        ]
        .into_iter()
        .collect();
        let t = CyberBackupTargets {
            resource_names: vec!["twin".into()],
            ..Default::default()
        };
        assert_eq!(
            resolve(&t, &resources, &BTreeSet::new()).unwrap_err(),
            Ambiguous {
                name: "twin".into(),
                ids: vec!["a".into(), "b".into()]
            }
        );
    }

    #[test]
    fn applied_contexts_prefer_the_origin_group() {
        let apps = vec![app("M1", &["G1"]), app("M2", &["G1"]), app("M3", &[])];
        assert_eq!(
            applied(&apps).into_iter().collect::<Vec<_>>(),
            vec!["g1", "m3"]
        );
    }

    #[test]
    fn changes_are_set_differences() {
        let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        let c = changes(&set(&["a", "b", "c"]), &set(&["b", "d"]));
        assert_eq!(
            c,
            TargetChanges {
                apply: vec!["a".into(), "c".into()],
                revoke: vec!["d".into()]
            }
        );
        assert_eq!(
            changes(&set(&["a"]), &set(&["a"])),
            TargetChanges::default()
        );
    }
}
