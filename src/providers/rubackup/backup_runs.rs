//! A global schedule rule's backups as backup health reads them: the rule's tasks in the task
//! queue (`GET /task_queue`, L4841-4971) and its records in the repository (`GET /repository`,
//! L3539-3604), as runs that succeeded, failed or are still going. The document gives no body
//! for either; the field names read here (`rule`, `status`, `created`, `started`, `finished`,
//! `message`, `repository_id`, `task_id`) are the ones the simulator guesses from the names the
//! document uses elsewhere (see `simulators::rubackup::runs`), read independently here. Times
//! carry no zone (L3786): they are the server's local time. Pure.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde_json::Value;

use super::client::{Item, item_id};
use super::fields::parse_datetime;
use crate::health::{BackupRun, RunResult};

/// Whether `item` belongs to global schedule rule `rule` (its id, numeric or text).
fn of_rule(item: &Item, rule: &str) -> bool {
    match item.get("rule") {
        Some(Value::Number(n)) => n.to_string() == rule,
        Some(Value::String(s)) => s == rule,
        _ => false,
    }
}

/// The first of `keys` that holds a server time, as an instant.
fn time(item: &Item, keys: &[&str], tz: &TimeZone) -> Option<Timestamp> {
    keys.iter()
        .filter_map(|k| item.get(*k).and_then(Value::as_str))
        .filter_map(parse_datetime)
        .find_map(|local| tz.to_ambiguous_timestamp(local).compatible().ok())
}

/// The run a repository record stands for: a backup made. GUESS: a status other than `Done`
/// (the only one the simulator writes) is not counted: better no fact than a wrong one.
fn run_of_record(r: &Item, tz: &TimeZone) -> Option<BackupRun> {
    if r.get("status").and_then(Value::as_str) != Some("Done") {
        return None;
    }
    Some(BackupRun {
        id: format!("backup {}", item_id(r)?),
        at: time(r, &["created", "finished"], tz)?,
        result: RunResult::Succeeded,
    })
}

/// The run a task stands for, when it says more than a record: a failure (with RuBackup's
/// message), or a run still going. A task that made a record is spoken for by the record.
fn run_of_task(t: &Item, tz: &TimeZone) -> Option<BackupRun> {
    let id = item_id(t)?;
    let status = t.get("status").and_then(Value::as_str)?;
    let result = match status {
        "Error" | "Killed" | "Broken" => {
            let said = t
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("")
                .trim();
            RunResult::Failed(if said.is_empty() {
                format!("RuBackup task {id} ended {status} without a message")
            } else {
                format!("{said} (RuBackup task {id}, {status})")
            })
        }
        "New" | "Execution" | "Paused" | "Suspended" => RunResult::Running,
        _ => return None,
    };
    Some(BackupRun {
        id: format!("task {id}"),
        at: time(t, &["finished", "started", "created"], tz)?,
        result,
    })
}

/// Every run of global schedule rule `rule`, and how many backups the repository holds for it.
pub fn rule_runs(
    tasks: &[Item],
    records: &[Item],
    rule: &str,
    tz: &TimeZone,
) -> (Vec<BackupRun>, usize) {
    let records: Vec<&Item> = records.iter().filter(|r| of_rule(r, rule)).collect();
    let runs = records
        .iter()
        .filter_map(|r| run_of_record(r, tz))
        .chain(
            tasks
                .iter()
                .filter(|t| of_rule(t, rule))
                .filter_map(|t| run_of_task(t, tz)),
        )
        .collect();
    (runs, records.len())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn item(v: Value) -> Item {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn records_succeed_failed_tasks_carry_the_message_and_times_are_the_server_s() {
        let msk = TimeZone::get("Europe/Moscow").unwrap();
        let tasks = [
            item(
                json!({"id": 1, "rule": 7, "status": "Done", "created": "2026-12-07 02:30:00", "finished": "2026-12-07T02:31:00", "repository_id": 11}),
            ),
            item(
                json!({"id": 2, "rule": 7, "status": "Error", "created": "2026-12-08T02:30:00", "finished": "2026-12-08T02:31:00", "message": "no space left"}),
            ),
            item(
                json!({"id": 3, "rule": "7", "status": "Execution", "created": "2026-12-09T02:30:00", "finished": null}),
            ),
            item(
                json!({"id": 4, "rule": 8, "status": "Error", "created": "2026-12-09T02:30:00", "message": "other rule"}),
            ),
        ];
        let records = [
            item(
                json!({"id": 11, "task_id": 1, "rule": 7, "status": "Done", "created": "2026-12-07T02:30:00"}),
            ),
            item(
                json!({"id": 12, "task_id": 9, "rule": 8, "status": "Done", "created": "2026-12-07T02:30:00"}),
            ),
        ];
        let (runs, held) = rule_runs(&tasks, &records, "7", &msk);
        assert_eq!(held, 1);
        let at = |s: &str| s.parse::<Timestamp>().unwrap();
        assert_eq!(
            runs,
            [
                BackupRun {
                    id: "backup 11".into(),
                    at: at("2026-12-06T23:30:00Z"),
                    result: RunResult::Succeeded
                },
                BackupRun {
                    id: "task 2".into(),
                    at: at("2026-12-07T23:31:00Z"),
                    result: RunResult::Failed("no space left (RuBackup task 2, Error)".into())
                },
                BackupRun {
                    id: "task 3".into(),
                    at: at("2026-12-08T23:30:00Z"),
                    result: RunResult::Running
                },
            ]
        );
    }
}
