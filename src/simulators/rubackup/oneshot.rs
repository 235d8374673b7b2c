//! Tasks asked for through the API rather than by a schedule: urgent backups
//! (`POST /task_queue`, L4868-4912, see `urgent`) and restores
//! (`POST /repository/{id}/restoring`, L3651-3691, see `restore`). Both go through the task
//! queue as a rule's run does (`runs`), except that they start `New` for
//! `SimConfig::queue_wait` before executing for `run_duration`. Everything moves on the server
//! clock, so a test makes a task end by moving the clock (`/_sim/rubackup/clock`), never by
//! waiting; reads do not move it. Failures are ordered ahead through `control`; they are
//! decided when the task is queued, so an order placed after a task was asked for does not
//! touch it.
//!
//! The document gives no task body; the names follow `runs` (GUESS (L4862-4866) for each):
//! - urgent backup: `task_type` `Backup urgent` (after `Backup global`, `Backup strategy`),
//!   `rule` and `strategy` null, the nine fields of `data.task` as the server reads them
//!   (`storage_duration` in PostgreSQL's spelling), the extension blocks as sent. Ending well
//!   it makes a repository record as a rule's run does, `rule` null, `store_until` its end plus
//!   `storage_duration`; such records are never deleted as obsolete (no rule's flag applies).
//! - restore: `task_type` `Restore` (the RBM manual names system tasks by one word, `Copy`),
//!   `repository_id` the record restored (set at once), `client` the `target_client`,
//!   `resource_type`, `resource`, `backup_type`, `pool`, `crypto` of the record, then
//!   `destination_path`, `data_deployment`, `granular_restore_files` and the extension blocks as
//!   sent. It ends `Done` and makes no record.

use serde_json::{Value, json};

use super::Sim;
use super::runs::{field, obj};
use super::store::{Item, REPOSITORY, Store};

pub const URGENT: &str = "Backup urgent";
pub const RESTORE: &str = "Restore";

/// Failures ordered for the next tasks asked for, and the restores asked so far.
#[derive(Debug, Default)]
pub struct OneShots {
    /// Orders to fail urgent backups: (only of this pool, or any; how many more; message).
    /// The first order that applies and has some left is used.
    backup_failures: Vec<(Option<String>, u32, String)>,
    /// How many of the next restores fail, and with what message.
    restore_failures: (u32, String),
    /// Every restore accepted: `{"task", "record", "body"}` with the body as sent.
    restores: Vec<Value>,
}

impl OneShots {
    fn next_backup_failure(&mut self, pool: &str) -> Option<String> {
        let order = self
            .backup_failures
            .iter_mut()
            .find(|(p, n, _)| *n > 0 && p.as_deref().is_none_or(|p| p == pool))?;
        order.1 -= 1;
        Some(order.2.clone())
    }

    fn next_restore_failure(&mut self) -> Option<String> {
        let (n, message) = &mut self.restore_failures;
        (*n > 0).then(|| {
            *n -= 1;
            message.clone()
        })
    }
}

impl Store {
    /// Queue an urgent backup of `fields` (read by `urgent`) at `now`; its task id.
    pub(super) fn queue_urgent(&mut self, fields: Item, now: i64) -> i64 {
        let pool = fields
            .get("pool")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let failure = self.oneshots.next_backup_failure(pool);
        let mut task = obj(json!({"task_type": URGENT, "rule": null, "strategy": null}));
        task.extend(fields);
        self.queue_asked(task, now, failure)
    }

    /// Queue a restore of record `record` with `request` (read by `restore`) at `now`, and
    /// remember `body` as it was sent; the task id, None for no such record.
    pub(super) fn queue_restore(
        &mut self,
        record: i64,
        request: Item,
        body: Value,
        now: i64,
    ) -> Option<i64> {
        let backup = self.table(REPOSITORY).get(&record)?.clone();
        let failure = self.oneshots.next_restore_failure();
        let mut task = obj(json!({
            "task_type": RESTORE, "rule": null, "strategy": null, "repository_id": record,
        }));
        for key in ["resource_type", "resource", "backup_type", "pool", "crypto"] {
            task.insert(key.into(), field(&backup, key));
        }
        task.extend(request);
        let id = self.queue_asked(task, now, failure);
        let asked = json!({"task": id, "record": record, "body": body});
        self.oneshots.restores.push(asked);
        Some(id)
    }
}

impl Sim {
    /// Make the next `backups` urgent backups (of `pool` only, when given) end in `Error` with
    /// `message` and make no record; 0 withdraws the order for that pool (or for any pool).
    pub fn fail_urgent_backups(&self, pool: Option<&str>, backups: u32, message: &str) {
        let mut store = self.store.lock().unwrap();
        let orders = &mut store.oneshots.backup_failures;
        let pool = pool.map(str::to_string);
        orders.retain(|(p, _, _)| *p != pool);
        if backups > 0 {
            orders.push((pool, backups, message.to_string()));
        }
    }

    /// Make the next `restores` restores end in `Error` with `message`.
    pub fn fail_restores(&self, restores: u32, message: &str) {
        self.store.lock().unwrap().oneshots.restore_failures = (restores, message.to_string());
    }

    /// The restores accepted so far, in order: `{"task": id, "record": id, "body": …}`.
    pub fn restores(&self) -> Vec<Value> {
        self.store.lock().unwrap().oneshots.restores.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pool_s_order_applies_to_that_pool_only_and_runs_out() {
        let mut o = OneShots {
            backup_failures: vec![(Some("A".into()), 1, "full".into())],
            ..OneShots::default()
        };
        assert_eq!(o.next_backup_failure("B"), None);
        assert_eq!(o.next_backup_failure("A").as_deref(), Some("full"));
        assert_eq!(o.next_backup_failure("A"), None, "used up");
        o.backup_failures.push((None, 2, "any".into()));
        assert_eq!(o.next_backup_failure("B").as_deref(), Some("any"));
        assert_eq!(o.next_backup_failure("A").as_deref(), Some("any"));
        assert_eq!(o.next_backup_failure("A"), None);
    }
}
