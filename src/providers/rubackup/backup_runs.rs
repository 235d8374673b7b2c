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
use super::strategy_fields::type_blocks;
use crate::api::schedule::Schedule;
use crate::api::vendors::rubackup::RuBackupStrategy;
use crate::health::{BackupRun, RunResult};

/// Who made a task or record: its `key` (`rule` for a global schedule rule, `strategy` for
/// a strategy) as text, whether a number or a string.
pub fn owner_of(item: &Item, key: &str) -> Option<String> {
    match item.get(key) {
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    }
}

/// Whether `item` was made by the owner known as any of `names` under `key`. A strategy is
/// matched by id or name: the document shows strategies referred to by name even in fields
/// called `*_id` (`strategy_id` of a strategy rule), and says nothing of tasks.
fn made_by(item: &Item, key: &str, names: &[&str]) -> bool {
    owner_of(item, key).is_some_and(|o| names.contains(&o.as_str()))
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

/// Every run of the global schedule rule or strategy known as `names` under `key` (`rule` or
/// `strategy`), and how many backups the repository holds for it. A strategy's run is one
/// task per strategy rule: each is a run here (one client resource's backup).
pub fn runs_of(
    tasks: &[Item],
    records: &[Item],
    key: &str,
    names: &[&str],
    tz: &TimeZone,
) -> (Vec<BackupRun>, usize) {
    let records: Vec<&Item> = records.iter().filter(|r| made_by(r, key, names)).collect();
    let runs = records
        .iter()
        .filter_map(|r| run_of_record(r, tz))
        .chain(
            tasks
                .iter()
                .filter(|t| made_by(t, key, names))
                .filter_map(|t| run_of_task(t, tz)),
        )
        .collect();
    (runs, records.len())
}

/// The schedules a strategy's backups follow: one per enabled backup type, its portable
/// `schedule`, or its native `cron` fields read as cron text in the server's zone `server_tz`
/// (a native `periodicLaunch` alone says nothing health can expect). Both read days of week
/// 0-7, 7 being Sunday too.
pub fn strategy_schedules(rb: &RuBackupStrategy, server_tz: &str) -> Vec<Schedule> {
    type_blocks(rb)
        .into_iter()
        .flatten()
        .filter(|t| t.enabled != Some(false))
        .filter_map(|t| match (&t.schedule, &t.timing.cron) {
            (Some(s), _) => Some(s.clone()),
            (None, Some(c)) => Some(Schedule {
                cron: format!(
                    "{} {} {} {} {}",
                    c.minute, c.hour, c.day_of_month, c.month, c.day_of_week
                ),
                time_zone: Some(server_tz.to_string()),
                grace_minutes: None,
            }),
            (None, None) => None,
        })
        .collect()
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
        let (runs, held) = runs_of(&tasks, &records, "rule", &["7"], &msk);
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

    #[test]
    fn a_strategy_follows_each_enabled_type_s_schedule_native_ones_in_the_server_zone() {
        use crate::api::vendors::rubackup::{
            RuBackupBackupTypeSchedule, RuBackupCron, RuBackupTiming,
        };
        let portable = Schedule {
            cron: "0 1 * * 0".into(),
            time_zone: Some("UTC".into()),
            grace_minutes: Some(90),
        };
        let native = RuBackupCron {
            minute: "30".into(),
            hour: "2".into(),
            day_of_month: "*".into(),
            month: "*".into(),
            day_of_week: "1-7".into(),
        };
        let rb = RuBackupStrategy {
            full: Some(RuBackupBackupTypeSchedule {
                schedule: Some(portable.clone()),
                ..Default::default()
            }),
            incremental: Some(RuBackupBackupTypeSchedule {
                timing: RuBackupTiming {
                    cron: Some(native),
                    ..Default::default()
                },
                ..Default::default()
            }),
            differential: Some(RuBackupBackupTypeSchedule {
                enabled: Some(false),
                schedule: Some(portable.clone()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let native_read = Schedule {
            cron: "30 2 * * 1-7".into(),
            time_zone: Some("Europe/Moscow".into()),
            grace_minutes: None,
        };
        assert_eq!(
            strategy_schedules(&rb, "Europe/Moscow"),
            vec![portable, native_read],
            "the switched-off differential expects nothing"
        );
    }
}
