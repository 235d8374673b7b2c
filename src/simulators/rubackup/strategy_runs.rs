//! The runs of backup strategies: when the server clock passes a run time of a backup type a
//! strategy in status `run` has enabled (`{t}_archive_enabled`, with `t` one of `full`, `inc`,
//! `diff`; L3779-3836), every rule of the strategy (`/strategy_rules`, whose `strategy_id`
//! names the strategy) gets a task, which executes and ends like a global rule's (`runs`).
//!
//! The document describes no strategy task or record; GUESSES, each from the names it uses
//! elsewhere: a task's `task_type` is `Backup strategy` (after `Backup global`), its `rule`
//! null and `strategy` the strategy's numeric id (as `rule` holds the global rule's id),
//! `strategy_rule` the strategy rule's id; `backup_type` is `full`, `incremental` or
//! `differential`; `pool` the strategy's `pool_id`, `storage_duration` the type's
//! `{t}_storage_duration`; the five cron fields and `periodic_launch` of the type are read as
//! a global rule's are, within the strategy's validity. A failed run fails every task of it.
//! Records of strategies are never deleted as obsolete (only rules with the flag are).

use serde_json::{Value, json};

use super::Sim;
use super::runs::{Due, field, next_failure, obj};
use super::schedule::run_times;
use super::store::{Item, RULES, STRATEGIES, Store};

/// The backup types of a strategy: field prefix and the task's `backup_type`.
const TYPES: [(&str, &str); 3] = [
    ("full", "full"),
    ("inc", "incremental"),
    ("diff", "differential"),
];

/// One backup type of `strategy` seen as a global rule: its cron fields, periodic launch and
/// the strategy's validity, under the names `run_times` reads.
fn as_rule(strategy: &Item, prefix: &str) -> Item {
    let mut view = Item::new();
    for key in ["min", "hour", "dom", "mon", "dow", "periodic_launch"] {
        view.insert(key.into(), field(strategy, &format!("{prefix}_{key}")));
    }
    for key in ["validity_start_period", "validity_end_period"] {
        view.insert(key.into(), field(strategy, key));
    }
    view
}

impl Store {
    /// The strategy runs due in each strategy's window up to `now`; moves the windows on.
    pub(super) fn strategy_runs_due(&mut self, now: i64) -> Vec<(i64, Due)> {
        let tz = self.zone();
        let (launch, limit) = (self.config.launch, self.config.catch_up_runs);
        let mut due = Vec::new();
        let mut cursors = std::collections::BTreeMap::new();
        for (id, strategy) in self.table(STRATEGIES) {
            let (born, after) = self
                .runs
                .strategy_cursors
                .get(id)
                .copied()
                .unwrap_or((now, now));
            if strategy.get("status").and_then(Value::as_str) == Some("run") {
                for (prefix, backup_type) in TYPES {
                    let enabled = format!("{prefix}_archive_enabled");
                    if strategy.get(&enabled).and_then(Value::as_bool) != Some(true) {
                        continue;
                    }
                    let view = as_rule(strategy, prefix);
                    let times = run_times(&view, launch, &tz, born, (after, now), limit);
                    due.extend(
                        times
                            .into_iter()
                            .map(|t| (t, Due::Strategy(*id, backup_type))),
                    );
                }
            }
            cursors.insert(*id, (born, now.max(after)));
        }
        self.runs.strategy_cursors = cursors;
        due
    }

    /// A run of strategy `id` of `backup_type` at `at`: a task for each of its rules.
    pub(super) fn start_strategy_run(&mut self, id: i64, backup_type: &str, at: i64) {
        let Some(strategy) = self.table(STRATEGIES).get(&id).cloned() else {
            return;
        };
        let name = strategy.get("name").cloned().unwrap_or(Value::Null);
        let prefix = TYPES
            .iter()
            .find(|(_, t)| *t == backup_type)
            .map_or("full", |(p, _)| *p);
        let members: Vec<(i64, Item)> = self
            .table(RULES)
            .iter()
            .filter(|(_, r)| r.get("strategy_id") == Some(&name))
            .map(|(rid, r)| (*rid, r.clone()))
            .collect();
        let failure = next_failure(&mut self.runs.strategy_failures, id);
        for (rule_id, rule) in members {
            let task = json!({
                "task_type": "Backup strategy", "rule": null, "strategy": id,
                "strategy_rule": rule_id,
                "client": field(&rule, "client_id"), "resource_type": field(&rule, "resource_type"),
                "resource": field(&rule, "resource"), "backup_type": backup_type,
                "pool": field(&strategy, "pool_id"), "crypto": field(&strategy, "crypto"),
                "priority": field(&rule, "priority"),
                "storage_duration": field(&strategy, &format!("{prefix}_storage_duration")),
            });
            self.queue(obj(task), at, failure.clone());
        }
    }
}

impl Sim {
    /// Make the next `runs` runs of strategy `id` fail with `message` (every task of each);
    /// false when there is no such strategy.
    pub fn fail_strategy_runs(&self, id: i64, runs: u32, message: &str) -> bool {
        self.catch_up();
        let mut store = self.store.lock().unwrap();
        if !store.table(STRATEGIES).contains_key(&id) {
            return false;
        }
        store
            .runs
            .strategy_failures
            .insert(id, (runs, message.to_string()));
        true
    }
}
