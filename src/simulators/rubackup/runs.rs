//! The runs of global schedule rules: when the server clock passes a run time of a rule in
//! status `run` (`schedule`), a task is queued in `task_queue` for the rule's client resource,
//! executes for `SimConfig::run_duration`, and ends `Done` with a record in `repository`, or
//! `Error` with its message and no record (L3545: the repository lists the backups *made*).
//! Tasks asked for through the API (urgent backups, restores: `oneshot`) go through the same
//! queue, first `New` for `SimConfig::queue_wait`; a restore ends `Done` without a record.
//! Nothing runs in the background: the tables are brought up to the clock (`catch_up`) when
//! the clock moves, before and after a write to a global schedule rule, and when tasks or
//! backups are read.
//!
//! The document gives no body for a task or a repository record; every field name and value
//! below is a GUESS built from the names the document uses elsewhere: the urgent-backup task
//! body (`client`, `resource_type`, `resource`, `backup_type`, `pool`, `crypto`, `priority`,
//! `storage_duration`, L4870-4884), the global schedule replication's numeric `rule` (L4525),
//! `store_until` (the repository PATCH, L3610) and date-times without a zone (L3786):
//! - task: `id`, `task_type` (`Backup global`), `rule`, `strategy` (null), the eight body
//!   fields, `status` (a name from `GET /task_status`), `created`, `started` (null while `New`),
//!   `finished` (null until the end), `message` (empty, or why it failed), `repository_id` (the record made).
//! - record: `id`, `task_id`, `rule`, `client`, `resource_type`, `resource`, `backup_type`,
//!   `pool`, `crypto`, `status` (`Done`), `created` (the run's start), `finished`,
//!   `store_until` (the end plus the rule's `storage_duration`), `size` (bytes,
//!   `SimConfig::backup_size`).
//!
//! GUESS (L1643-1646, `done_tasks_remove_period: 1440`, `error_tasks_remove_period: 10080`,
//! read as minutes): an ended task leaves the queue that long after it ended. GUESS (L4331
//! `auto_delete_obsoleted_copy_flag`): a record whose `store_until` has passed is deleted when
//! its rule has the flag set at that moment, and kept (obsoleted) otherwise. GUESS: on a clock
//! jump a rule makes at most `SimConfig::catch_up_runs` runs, the last ones; earlier ones are
//! missed.

use std::collections::{BTreeMap, BTreeSet};

use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};
use serde_json::{Value, json};

use super::Sim;
use super::interval::PgInterval;
use super::schedule::{instant, listed, run_times};
use super::store::{Item, REPOSITORY, SCHEDULES, STRATEGIES, Store, TASKS};

/// `GET /task_status`. GUESS (L4965-4971 give no list): the statuses the sysadmin guide names,
/// capitalised as it writes them; the simulator's tasks only use `Execution`, `Done`, `Error`.
pub const STATUSES: [&str; 8] = [
    "New",
    "Execution",
    "Done",
    "Error",
    "Killed",
    "Broken",
    "Paused",
    "Suspended",
];

/// Where the runs stand.
#[derive(Debug, Default)]
pub struct Runs {
    /// Per rule: when it was first seen (its creation), and up to when its runs are made.
    cursors: BTreeMap<i64, (i64, i64)>,
    /// Per rule: how many of its next runs fail, and with what message.
    failures: BTreeMap<i64, (u32, String)>,
    /// Executing tasks, by when they end and their id: why they fail if they do.
    executing: BTreeMap<(i64, i64), Option<String>>,
    /// Tasks still `New` (asked for through the API), by when they start executing and id.
    waiting: BTreeSet<(i64, i64)>,
    /// Ended tasks, by when they leave the queue: (leave at, task).
    ended: BTreeSet<(i64, i64)>,
    /// Records made by runs, by when they become obsolete: (store until, record, rule).
    kept: BTreeSet<(i64, i64, i64)>,
    /// The clock second of the last catch-up (nothing more is due within it).
    caught_up: Option<i64>,
    /// Per strategy, as `cursors` per rule.
    pub(super) strategy_cursors: BTreeMap<i64, (i64, i64)>,
    /// Per strategy: how many of its next runs fail (every task of the run), and how.
    pub(super) strategy_failures: BTreeMap<i64, (u32, String)>,
}

/// A run that came due: a global schedule rule's, or a strategy's of one backup type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Due {
    Rule(i64),
    Strategy(i64, &'static str),
}

/// The message of the next run of `owner` that is told to fail, counting it down.
pub(super) fn next_failure(
    failures: &mut BTreeMap<i64, (u32, String)>,
    owner: i64,
) -> Option<String> {
    match failures.get_mut(&owner) {
        Some((n, message)) if *n > 0 => {
            *n -= 1;
            Some(message.clone())
        }
        _ => None,
    }
}

/// Whether a task of this kind leaves a record when it ends well (backups do, restores not).
fn makes_backup(task: &Item) -> bool {
    task.get("task_type")
        .and_then(Value::as_str)
        .is_some_and(|t| t.starts_with("Backup"))
}

pub(super) fn field(item: &Item, key: &str) -> Value {
    item.get(key).cloned().unwrap_or(Value::Null)
}

pub(super) fn obj(v: Value) -> Item {
    v.as_object().cloned().unwrap_or_default()
}

/// `secs` plus an interval, in `tz` (months and days as the calendar counts them).
fn plus(secs: i64, iv: PgInterval, tz: &TimeZone) -> i64 {
    let span = Span::new()
        .try_months(iv.months)
        .and_then(|s| s.try_days(iv.days))
        .and_then(|s| s.try_microseconds(iv.micros));
    Timestamp::from_second(secs)
        .ok()
        .zip(span.ok())
        .and_then(|(t, span)| t.to_zoned(tz.clone()).checked_add(span).ok())
        .map_or(secs, |z| z.timestamp().as_second())
}

impl Store {
    pub(super) fn zone(&self) -> TimeZone {
        TimeZone::get(&self.config.time_zone).unwrap_or(TimeZone::UTC)
    }

    /// Make every run due up to `now`, end the tasks due to end, and forget what has expired.
    /// Called on every write to a global schedule rule, so it clones only the rules that run.
    pub fn catch_up(&mut self, now: i64) {
        if self.runs.caught_up == Some(now) {
            // Every window is empty; only a rule created since starts counting.
            let new: Vec<i64> = self.table(SCHEDULES).keys().copied().collect();
            for id in new {
                self.runs.cursors.entry(id).or_insert((now, now));
            }
            let new: Vec<i64> = self.table(STRATEGIES).keys().copied().collect();
            for id in new {
                self.runs.strategy_cursors.entry(id).or_insert((now, now));
            }
            return;
        }
        self.runs.caught_up = Some(now);
        let tz = self.zone();
        let (launch, limit) = (self.config.launch, self.config.catch_up_runs);
        let rules = self.table(SCHEDULES);
        let mut due = Vec::new();
        let mut cursors = BTreeMap::new();
        for (id, rule) in rules {
            let (born, after) = self.runs.cursors.get(id).copied().unwrap_or((now, now));
            if rule.get("status").and_then(Value::as_str) == Some("run") {
                let times = run_times(rule, launch, &tz, born, (after, now), limit);
                due.extend(times.into_iter().map(|t| (t, Due::Rule(*id))));
            }
            cursors.insert(*id, (born, now.max(after)));
        }
        let due_rules: BTreeMap<i64, Item> = due
            .iter()
            .filter_map(|(_, d)| match d {
                Due::Rule(id) => Some((*id, rules.get(id)?.clone())),
                Due::Strategy(..) => None,
            })
            .collect();
        self.runs.cursors = cursors;
        due.extend(self.strategy_runs_due(now));
        due.sort();
        for (t, d) in due {
            self.end_tasks(t);
            match d {
                Due::Rule(id) => drop(self.start_task(id, &due_rules[&id], t, None)),
                Due::Strategy(id, backup_type) => self.start_strategy_run(id, backup_type, t),
            }
        }
        self.end_tasks(now);
        self.forget(now);
    }

    /// Queue a task for `rule` at `at`; it executes until `at + run_duration`.
    fn start_task(&mut self, rule_id: i64, rule: &Item, at: i64, backup_type: Option<&str>) -> i64 {
        let failure = next_failure(&mut self.runs.failures, rule_id);
        let task = json!({
            "task_type": "Backup global", "rule": rule_id, "strategy": null,
            "client": field(rule, "client_id"), "resource_type": field(rule, "resource_type"),
            "resource": field(rule, "resource"),
            "backup_type": backup_type.map_or_else(|| field(rule, "backup_type"), Value::from),
            "pool": field(rule, "pool_id"), "crypto": field(rule, "crypto"),
            "priority": field(rule, "priority"), "storage_duration": field(rule, "storage_duration"),
        });
        self.queue(obj(task), at, failure)
    }

    /// Queue `task` (its origin and body) at `at`, executing until `at + run_duration` and
    /// then failing with `failure` if one is given.
    pub(super) fn queue(&mut self, task: Item, at: i64, failure: Option<String>) -> i64 {
        self.queue_after(task, at, 0, failure)
    }

    /// Queue `task` at `at`, `New` for `wait` seconds, then executing as [`Self::queue`].
    /// The task's own keys win over the queue's (a restore names its record at once).
    fn queue_after(&mut self, task: Item, at: i64, wait: i64, failure: Option<String>) -> i64 {
        let tz = self.zone();
        let (status, started) = match wait {
            0 => ("Execution", json!(listed(at, &tz))),
            _ => ("New", Value::Null),
        };
        let mut item = obj(json!({
            "status": status, "created": listed(at, &tz), "started": started, "finished": null,
            "message": "", "repository_id": null,
        }));
        item.extend(task);
        let id = self.insert(TASKS, item);
        if wait > 0 {
            self.runs.waiting.insert((at + wait, id));
        }
        let end = at + wait + self.config.run_duration.as_secs() as i64;
        self.runs.executing.insert((end, id), failure);
        id
    }

    /// Queue a task asked for through the API at `now` (an urgent backup, a restore): `New`
    /// for `SimConfig::queue_wait`, then executing for `run_duration`, then ended.
    pub(super) fn queue_asked(&mut self, task: Item, now: i64, failure: Option<String>) -> i64 {
        let wait = self.config.queue_wait.as_secs() as i64;
        let id = self.queue_after(task, now, wait, failure);
        // A zero wait and duration end it at once, as a forced run does.
        self.end_tasks(now);
        id
    }

    /// Start executing the `New` tasks due to start by `until`.
    fn start_waiting(&mut self, until: i64) {
        let tz = self.zone();
        while let Some(&(start, id)) = self.runs.waiting.first() {
            if start > until {
                break;
            }
            self.runs.waiting.pop_first();
            if let Some(t) = self.table_mut(TASKS).get_mut(&id) {
                t.insert("status".into(), json!("Execution"));
                t.insert("started".into(), json!(listed(start, &tz)));
            }
        }
    }

    /// End, in order, the tasks due to end by `until` (starting the waiting ones first: a
    /// task starts before it ends).
    fn end_tasks(&mut self, until: i64) {
        self.start_waiting(until);
        while let Some(entry) = self.runs.executing.first_entry() {
            if entry.key().0 > until {
                break;
            }
            let ((end, id), failure) = entry.remove_entry();
            self.end_task(id, end, failure);
        }
    }

    fn end_task(&mut self, id: i64, end: i64, failure: Option<String>) {
        let tz = self.zone();
        let Some(task) = self.table(TASKS).get(&id).cloned() else {
            return;
        };
        let stay = match failure {
            Some(_) => self.config.error_tasks_remove_period,
            None => self.config.done_tasks_remove_period,
        };
        self.runs.ended.insert((end + stay.as_secs() as i64, id));
        let mut changes = obj(json!({"finished": listed(end, &tz)}));
        match failure {
            Some(message) => {
                changes.insert("status".into(), json!("Error"));
                changes.insert("message".into(), json!(message));
            }
            // A restore leaves no backup; its `repository_id` is the record it restored.
            None if !makes_backup(&task) => {
                changes.insert("status".into(), json!("Done"));
            }
            None => {
                let duration = task.get("storage_duration").and_then(Value::as_str);
                let until = duration
                    .and_then(|d| PgInterval::parse(d).ok())
                    .map_or(end, |iv| plus(end, iv, &tz));
                let mut record = obj(json!({
                    "task_id": id, "status": "Done", "created": field(&task, "started"),
                    "finished": listed(end, &tz), "store_until": listed(until, &tz),
                    "size": self.config.backup_size,
                }));
                for k in [
                    "rule",
                    "strategy",
                    "client",
                    "resource_type",
                    "resource",
                    "backup_type",
                    "pool",
                    "crypto",
                ] {
                    record.insert(k.into(), field(&task, k));
                }
                let record_id = self.insert(REPOSITORY, record);
                let rule = task.get("rule").and_then(Value::as_i64).unwrap_or(0);
                self.runs.kept.insert((until, record_id, rule));
                changes.insert("status".into(), json!("Done"));
                changes.insert("repository_id".into(), json!(record_id));
            }
        }
        if let Some(t) = self.table_mut(TASKS).get_mut(&id) {
            t.extend(changes);
        }
    }

    /// A record's `store_until` was changed to `until` (`PATCH /repository/{id}`): look at it
    /// then too, should it now end before its old end.
    pub(super) fn store_until_changed(&mut self, record: i64, until: i64) {
        let rule = self
            .table(REPOSITORY)
            .get(&record)
            .and_then(|r| r.get("rule")?.as_i64())
            .unwrap_or(0);
        self.runs.kept.insert((until, record, rule));
    }

    /// Drop ended tasks past their remove period, and obsoleted records of auto-deleting rules.
    fn forget(&mut self, now: i64) {
        while let Some(&(leave, id)) = self.runs.ended.first() {
            if leave > now {
                break;
            }
            self.runs.ended.pop_first();
            self.table_mut(TASKS).remove(&id);
        }
        let tz = self.zone();
        while let Some(&(until, id, rule)) = self.runs.kept.first() {
            if until > now {
                break;
            }
            self.runs.kept.pop_first();
            // A PATCH or a direct edit of `store_until` moves the end.
            let current = self.table(REPOSITORY).get(&id).map(|r| {
                r.get("store_until")
                    .and_then(Value::as_str)
                    .and_then(|t| instant(t, &tz))
                    .unwrap_or(until)
            });
            match current {
                None => continue,
                Some(later) if later > now => {
                    self.runs.kept.insert((later, id, rule));
                    continue;
                }
                Some(_) => {}
            }
            let auto = self
                .table(SCHEDULES)
                .get(&rule)
                .and_then(|r| r.get("auto_delete_obsoleted_copy_flag")?.as_bool());
            if auto == Some(true) {
                self.table_mut(REPOSITORY).remove(&id);
            }
        }
    }
}

impl Sim {
    /// Bring tasks and backups up to the server clock.
    pub fn catch_up(&self) {
        let now = self.now();
        self.store.lock().unwrap().catch_up(now);
    }

    /// Make the next `runs` runs of global schedule rule `rule` (scheduled or forced) fail
    /// with `message`; false when there is no such rule.
    pub fn fail_runs(&self, rule: i64, runs: u32, message: &str) -> bool {
        self.catch_up();
        let mut store = self.store.lock().unwrap();
        if !store.table(SCHEDULES).contains_key(&rule) {
            return false;
        }
        store
            .runs
            .failures
            .insert(rule, (runs, message.to_string()));
        true
    }

    /// Run global schedule rule `rule` now, whatever its status and schedule, as
    /// `POST /global_schedule/{id}/execution` does (a full backup, L4497); the task's id.
    pub fn run_now(&self, rule: i64) -> Option<i64> {
        self.catch_up();
        let now = self.now();
        let mut store = self.store.lock().unwrap();
        let item = store.table(SCHEDULES).get(&rule).cloned()?;
        let id = store.start_task(rule, &item, now, Some("full"));
        store.end_tasks(now);
        Some(id)
    }
}
