//! A strategy's rules (`/strategy_rules`, §8.7.3) and administrators
//! (`/strategy_administrators`, §8.7.4) as managed sets. Rules have no name: their identity is
//! (client, resource type, resource), and each rule added, changed or removed in the spec
//! becomes exactly one POST, PATCH or DELETE. Administrators have no PATCH: add and remove.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::client::Item;
use super::common_fields::FieldList;
use super::fields::{self, Desired, normalize_client};
use super::object;
use crate::api::common::Drift;
use crate::api::vendors::rubackup::RuBackupStrategyRule;

/// The identity of a rule within its strategy.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RuleKey {
    pub client: String,
    pub resource_type: String,
    pub resource: String,
}

impl RuleKey {
    pub fn new(client: &str, resource_type: &str, resource: &str) -> Self {
        RuleKey {
            client: normalize_client(client),
            resource_type: resource_type.to_string(),
            resource: resource.to_string(),
        }
    }

    fn of_spec(rule: &RuBackupStrategyRule) -> Self {
        RuleKey::new(&rule.client, &rule.resource_type, &rule.resource)
    }

    fn of_item(item: &Item) -> Self {
        let s = |k: &str| item.get(k).and_then(Value::as_str).unwrap_or_default();
        RuleKey::new(s("client_id"), s("resource_type"), s("resource"))
    }

    /// `client/resourceType/resource`, as in `status.atProvider.ruleIds`.
    pub fn text(&self) -> String {
        format!("{}/{}/{}", self.client, self.resource_type, self.resource)
    }

    fn path(&self) -> String {
        format!("spec.ruBackup.rules[{}]", self.text())
    }
}

/// The fields of a rule that can change; its identity is the key.
pub fn rule_fields(rule: &RuBackupStrategyRule, path: &str) -> Vec<Desired> {
    let mut f = FieldList::default();
    f.task(
        path,
        &rule.task,
        [
            "normal_execution_script",
            "exception_execution_script",
            "restore_script",
        ],
    );
    f.0
}

/// The POST body of a rule of strategy `strategy` (`strategy_id` is the strategy's name).
pub fn create_rule_body(strategy: &str, rule: &RuBackupStrategyRule) -> Value {
    let key = RuleKey::of_spec(rule);
    let mut body = fields::create_body(&rule_fields(rule, &key.path()));
    body.insert("client_id".into(), json!(rule.client));
    body.insert("strategy_id".into(), json!(strategy));
    body.insert("resource_type".into(), json!(rule.resource_type));
    body.insert("resource".into(), json!(rule.resource));
    object::body(Some("strategy_rule"), body)
}

/// One rule whose fields differ.
#[derive(Debug, Clone)]
pub struct RuleChange {
    pub id: String,
    pub body: Value,
}

/// What to do to a strategy's rules.
#[derive(Debug, Clone, Default)]
pub struct RulePlan {
    /// Indexes into the spec's rules.
    pub add: Vec<usize>,
    pub change: Vec<RuleChange>,
    /// Vendor ids.
    pub remove: Vec<String>,
    pub drift: Vec<Drift>,
    /// Vendor ids of the observed rules by key text.
    pub ids: BTreeMap<String, String>,
}

/// Compare the spec's rules with the rules RuBackup lists for the strategy.
pub fn plan_rules(spec: &[RuBackupStrategyRule], observed: &[(String, Item)]) -> RulePlan {
    let mut plan = RulePlan::default();
    let mut by_key: BTreeMap<RuleKey, (&String, &Item)> = BTreeMap::new();
    for (id, item) in observed {
        let key = RuleKey::of_item(item);
        plan.ids.entry(key.text()).or_insert_with(|| id.clone());
        let path = key.path();
        if let std::collections::btree_map::Entry::Vacant(slot) = by_key.entry(key) {
            slot.insert((id, item));
        } else {
            // A second rule with the same identity: the spec can only mean one.
            plan.remove.push(id.clone());
            plan.drift.push(Drift {
                field: path,
                desired: "null".into(),
                observed: Value::Object(item.clone()).to_string(),
            });
        }
    }
    let mut wanted = BTreeSet::new();
    for (index, rule) in spec.iter().enumerate() {
        let key = RuleKey::of_spec(rule);
        wanted.insert(key.clone());
        let Some((id, item)) = by_key.get(&key) else {
            plan.add.push(index);
            let desired = serde_json::to_string(rule).unwrap_or_default();
            plan.drift.push(Drift {
                field: key.path(),
                desired,
                observed: "null".into(),
            });
            continue;
        };
        let desired = rule_fields(rule, &key.path());
        let changed = fields::changed(&desired, item);
        if !changed.is_empty() {
            plan.drift.extend(fields::drift(&changed, item));
            let body = object::body(Some("strategy_rule"), fields::patch(&changed, item));
            plan.change.push(RuleChange {
                id: id.to_string(),
                body,
            });
        }
    }
    for (key, (id, item)) in &by_key {
        if !wanted.contains(key) {
            plan.remove.push(id.to_string());
            plan.drift.push(Drift {
                field: key.path(),
                desired: "null".into(),
                observed: Value::Object((*item).clone()).to_string(),
            });
        }
    }
    plan
}

/// What to do to a strategy's administrators.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AdminPlan {
    pub add: Vec<String>,
    /// Vendor ids.
    pub remove: Vec<String>,
    pub drift: Option<Drift>,
}

/// Compare the spec's administrators with those RuBackup lists for the strategy.
pub fn plan_admins(spec: &[String], observed: &[(String, Item)]) -> AdminPlan {
    let wanted: BTreeSet<&str> = spec.iter().map(String::as_str).collect();
    let mut have = BTreeSet::new();
    let mut plan = AdminPlan::default();
    for (id, item) in observed {
        let name = item
            .get("administrator")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !wanted.contains(name) || !have.insert(name) {
            plan.remove.push(id.clone());
        }
    }
    plan.add = wanted
        .iter()
        .filter(|n| !have.contains(*n))
        .map(|n| n.to_string())
        .collect();
    if !plan.add.is_empty() || !plan.remove.is_empty() {
        let listed: BTreeSet<&str> = observed
            .iter()
            .filter_map(|(_, i)| i.get("administrator").and_then(Value::as_str))
            .collect();
        plan.drift = Some(Drift {
            field: "spec.ruBackup.administrators".into(),
            desired: json!(wanted).to_string(),
            observed: json!(listed).to_string(),
        });
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::vendors::rubackup::RuBackupTask;

    fn rule(client: &str, resource: &str, priority: Option<i32>) -> RuBackupStrategyRule {
        RuBackupStrategyRule {
            client: client.into(),
            resource_type: "File system".into(),
            resource: resource.into(),
            task: RuBackupTask {
                priority,
                ..Default::default()
            },
        }
    }

    fn item(id: i64, client: &str, resource: &str, priority: i64) -> (String, Item) {
        let v = json!({"id": id, "client_id": client, "strategy_id": "s", "resource_type": "File system",
                       "resource": resource, "priority": priority});
        (id.to_string(), v.as_object().unwrap().clone())
    }

    #[test]
    fn added_changed_and_removed_rules_are_one_call_each() {
        let spec = vec![
            rule("db1 (aa)", "/a", Some(100)),
            rule("db1 (aa)", "/b", Some(50)),
            rule("db2 (bb)", "/c", None),
        ];
        let observed = vec![
            item(1, "db1(AA)", "/a", 100),
            item(2, "db1 (aa)", "/b", 100),
            item(3, "db1 (aa)", "/old", 100),
        ];
        let plan = plan_rules(&spec, &observed);
        assert_eq!(plan.add, [2]);
        assert_eq!(plan.change.len(), 1);
        assert_eq!(plan.change[0].id, "2");
        assert_eq!(
            plan.change[0].body,
            json!({"data": {"strategy_rule": {"priority": 50}}})
        );
        assert_eq!(plan.remove, ["3"]);
        let fields: Vec<&str> = plan.drift.iter().map(|d| d.field.as_str()).collect();
        assert!(
            fields.contains(&"spec.ruBackup.rules[db1 (aa)/File system//b].priority"),
            "{fields:?}"
        );
        assert!(
            fields.contains(&"spec.ruBackup.rules[db2 (bb)/File system//c]"),
            "{fields:?}"
        );
        assert_eq!(plan.ids["db1 (aa)/File system//a"], "1");
    }

    #[test]
    fn identical_rules_plan_nothing_and_duplicates_are_removed() {
        let spec = vec![rule("db1 (aa)", "/a", Some(100))];
        assert!(
            plan_rules(&spec, &[item(1, "db1 (aa)", "/a", 100)])
                .drift
                .is_empty()
        );
        let plan = plan_rules(
            &spec,
            &[
                item(1, "db1 (aa)", "/a", 100),
                item(2, "db1 (aa)", "/a", 100),
            ],
        );
        assert_eq!(plan.remove, ["2"]);
        assert!(plan.add.is_empty() && plan.change.is_empty());
    }

    #[test]
    fn create_body_names_the_strategy_and_the_identity() {
        let body = create_rule_body("nightly", &rule("db1 (aa)", "/a", Some(10)));
        assert_eq!(
            body,
            json!({"data": {"strategy_rule": {"client_id": "db1 (aa)", "strategy_id": "nightly",
                   "resource_type": "File system", "resource": "/a", "priority": 10}}})
        );
    }

    #[test]
    fn administrators_are_added_and_removed() {
        let admin = |id: i64, name: &str| {
            (
                id.to_string(),
                json!({"id": id, "strategy": "s", "administrator": name})
                    .as_object()
                    .unwrap()
                    .clone(),
            )
        };
        let plan = plan_admins(
            &["alice".into(), "bob".into()],
            &[admin(1, "alice"), admin(2, "carol"), admin(3, "alice")],
        );
        assert_eq!(plan.add, ["bob"]);
        assert_eq!(plan.remove, ["2", "3"]);
        let d = plan.drift.unwrap();
        assert_eq!(
            (d.desired.as_str(), d.observed.as_str()),
            (r#"["alice","bob"]"#, r#"["alice","carol"]"#)
        );
        assert_eq!(
            plan_admins(&["alice".into()], &[admin(1, "alice")]),
            AdminPlan::default()
        );
    }
}
