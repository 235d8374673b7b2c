//! A protection plan's backups as backup health reads them, from the collections listed once
//! per poll for every Policy: the plan's applications (§2.9, §2.10.4.4: `running.state`,
//! `status` of the last run, `last_runtime` its start, `last_success_time` the last success),
//! the backups in the plan's archives (§2.10.6, §2.10.7) and, for the message of a failure,
//! the tasks (§2.10.8). Pure.
//!
//! What the document does not give, and is read here as the simulator guesses it (read
//! independently; see `simulators::cyberbackup::runs`):
//! * which archives are a plan's: the document's archive names end with a lower-case UUID and
//!   `A` (`…_edd0ec02-67df-4017-abd8-ee37611dbeb5A`, L4349, L4614), read as the plan's id;
//! * the spelling of a failed `status` (the document shows only `OK`/`ok` and `running`): any
//!   status but `OK`, `RUNNING`, `WARNING` and a cancellation is a failure;
//! * how a backup run's task names its plan (`context.persistent.id`) and how a failed task
//!   reads (`result.code` other than `OK`, the message in `result.payload`).

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::Value;

use super::models::{Application, Archive, Backup, Task, meaningful_time, plan_id};
use crate::health::{BackupRun, RunResult};

/// Backups and failed tasks, by lower-cased plan id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlanBackups {
    pub backups: BTreeMap<String, Vec<Backup>>,
    pub failures: BTreeMap<String, Vec<Task>>,
}

/// The plan id an archive's name ends with (`…<uuid>A`), lower-cased.
pub fn archive_plan(name: &str) -> Option<String> {
    let stem = name.strip_suffix('A').or_else(|| name.strip_suffix('a'))?;
    let id = stem.get(stem.len().checked_sub(36)?..)?;
    let uuid = id.char_indices().all(|(i, c)| match i {
        8 | 13 | 18 | 23 => c == '-',
        _ => c.is_ascii_hexdigit(),
    });
    uuid.then(|| id.to_ascii_lowercase())
}

pub(super) fn time(t: Option<&str>) -> Option<Timestamp> {
    meaningful_time(t)?.parse().ok()
}

/// Index the listings by plan: backups through their archive, failed tasks through the object
/// they work on.
pub fn index_backups(
    archives: &BTreeMap<String, Archive>,
    backups: &BTreeMap<String, Backup>,
    tasks: &BTreeMap<String, Task>,
) -> PlanBackups {
    let plan_of: BTreeMap<String, String> = archives
        .values()
        .filter(|a| !a.deleted)
        .filter_map(|a| Some((a.id.to_ascii_lowercase(), archive_plan(a.name.as_deref()?)?)))
        .collect();
    let mut out = PlanBackups::default();
    for b in backups.values().filter(|b| !b.deleted) {
        let archive = b.archive_id.as_deref().unwrap_or_default();
        if let Some(plan) = plan_of.get(&archive.to_ascii_lowercase()) {
            out.backups.entry(plan.clone()).or_default().push(b.clone());
        }
    }
    for t in tasks.values().filter(|t| failure_message(t).is_some()) {
        let Some(plan) = t
            .context
            .as_ref()
            .and_then(|c| c.persistent.as_ref())
            .and_then(|p| p.id.as_deref())
        else {
            continue;
        };
        out.failures
            .entry(plan_id(plan))
            .or_default()
            .push(t.clone());
    }
    out
}

/// A failed task's message (`result.payload`, as text); `None` when the task did not fail.
fn failure_message(t: &Task) -> Option<String> {
    let r = t.result.as_ref()?;
    let code = r.code.as_deref()?.trim();
    if code.is_empty() || code.eq_ignore_ascii_case("OK") {
        return None;
    }
    let said = match &r.payload {
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Object(o)) => o
            .get("message")
            .or_else(|| o.get("reason"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| Value::Object(o.clone()).to_string()),
        _ => String::new(),
    };
    Some(if said.is_empty() {
        format!("Cyber Backup task {} ended {code}", t.id)
    } else {
        format!("{said} (Cyber Backup task {}, {code})", t.id)
    })
}

/// The message of the failed run of `app` that started at `started`: its task's, else what the
/// application says.
fn message_of(app: &Application, status: &str, started: Timestamp, failed: &[Task]) -> String {
    // The task of this run: started when the application's run did; else the newest failed
    // task of the plan since.
    let same_start = failed
        .iter()
        .find(|t| time(t.started_at.as_deref()) == Some(started));
    let since = || {
        failed
            .iter()
            .filter(|t| time(t.started_at.as_deref()).is_some_and(|s| s >= started))
            .max_by_key(|t| time(t.started_at.as_deref()))
    };
    same_start
        .or_else(since)
        .and_then(failure_message)
        .unwrap_or_else(|| {
            format!(
                "the plan's run on {} that started at {started} ended with status {status}",
                app.context.id
            )
        })
}

/// The run an application's state stands for: one going, or the last one when it failed.
/// A success is spoken for by its backup (or, when the backups do not show it, by
/// `last_success_time`: see `plan_runs`).
pub(super) fn run_of_application(app: &Application, failed: &[Task]) -> Option<BackupRun> {
    let started = time(app.last_runtime.as_deref());
    let id = format!("application {} run", app.id);
    if app.running_state().as_deref() == Some("RUNNING") {
        return Some(BackupRun {
            id,
            at: started?,
            result: RunResult::Running,
        });
    }
    let status = app.status_text()?;
    let not_failed = [
        "",
        "OK",
        "SUCCESS",
        "RUNNING",
        "WARNING",
        "CANCELED",
        "CANCELLED",
    ];
    if not_failed.contains(&status.as_str()) {
        return None;
    }
    let started = started?;
    // A success after the start is a later run's: the failure is not the newest fact.
    if time(app.last_success_time.as_deref()).is_some_and(|s| s >= started) {
        return None;
    }
    Some(BackupRun {
        id,
        at: started,
        result: RunResult::Failed(message_of(app, &status, started, failed)),
    })
}

/// Every run of plan `plan` (lower-cased id) known from its applications and the index, and
/// how many backups its archives hold.
pub fn plan_runs(plan: &str, apps: &[Application], index: &PlanBackups) -> (Vec<BackupRun>, usize) {
    let backups = index
        .backups
        .get(plan)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let failed = index
        .failures
        .get(plan)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut runs: Vec<BackupRun> = backups
        .iter()
        .filter_map(|b| {
            Some(BackupRun {
                id: b.backup_id.clone(),
                at: time(b.created_at.as_deref())?,
                result: RunResult::Succeeded,
            })
        })
        .collect();
    let newest_backup = runs.iter().map(|r| r.at).max();
    for app in apps {
        runs.extend(run_of_application(app, failed));
        // A success the backups do not show (kept elsewhere, or pruned): the application's word.
        if let Some(at) = time(app.last_success_time.as_deref())
            && newest_backup.is_none_or(|b| b < at)
        {
            runs.push(BackupRun {
                id: format!("application {} success", app.id),
                at,
                result: RunResult::Succeeded,
            });
        }
    }
    (runs, backups.len())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const PLAN: &str = "edd0ec02-67df-4017-abd8-ee37611dbeb5";

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn keyed<T>(items: Vec<T>, key: impl Fn(&T) -> String) -> BTreeMap<String, T> {
        items.into_iter().map(|i| (key(&i), i)).collect()
    }

    fn listings(tasks: Value) -> PlanBackups {
        let archives: Vec<Archive> = serde_json::from_value(json!([
            {"id": "A1", "name": format!("aajsSxM@odio_mock_200_account_workmail_1316D72D-9923-3061-B4DA-26A46398A795_{PLAN}A")},
            {"id": "a2", "name": "other-5ea704d9-a214-4e81-97d9-d228098f8431A"},
            {"id": "a3", "name": "no plan here"}
        ]))
        .unwrap();
        let backups: Vec<Backup> = serde_json::from_value(json!([
            {"backup_id": "b1", "archive_id": "a1", "created_at": "2026-12-01T02:00:05Z"},
            {"backup_id": "b2", "archive_id": "A1", "created_at": "2026-12-02T02:00:05Z"},
            {"backup_id": "b3", "archive_id": "a1", "created_at": "2026-12-02T02:00:05Z", "deleted": true},
            {"backup_id": "b4", "archive_id": "a2", "created_at": "2026-12-02T02:00:05Z"},
            {"backup_id": "b5", "archive_id": "a3", "created_at": "2026-12-02T02:00:05Z"}
        ]))
        .unwrap();
        let tasks: Vec<Task> = serde_json::from_value(tasks).unwrap();
        index_backups(
            &keyed(archives, |a| a.id.clone()),
            &keyed(backups, |b| b.backup_id.clone()),
            &keyed(tasks, |t| t.id.clone()),
        )
    }

    fn app(v: Value) -> Application {
        let mut base = json!({"id": "app1", "context": {"id": "ctx1"}, "policy": {"id": PLAN}});
        crate::providers::cyberbackup::settings::merge(&mut base, &v);
        serde_json::from_value(base).unwrap()
    }

    #[test]
    fn archive_names_end_with_the_plan_id() {
        assert_eq!(
            archive_plan(&format!("x_1316D72D-9923-3061-B4DA-26A46398A795_{PLAN}A")).as_deref(),
            Some(PLAN)
        );
        assert_eq!(archive_plan("short"), None);
        assert_eq!(archive_plan(&format!("x_{PLAN}")), None);
    }

    #[test]
    fn backups_of_the_plan_s_archives_are_successes_and_counted() {
        let index = listings(json!([]));
        let ok = app(
            json!({"status": "OK", "running": {"state": "IDLE"}, "last_runtime": "2026-12-02T02:00:00Z", "last_success_time": "2026-12-02T02:00:05Z"}),
        );
        let (runs, held) = plan_runs(PLAN, &[ok], &index);
        assert_eq!(held, 2);
        assert_eq!(
            runs,
            [
                BackupRun {
                    id: "b1".into(),
                    at: at("2026-12-01T02:00:05Z"),
                    result: RunResult::Succeeded
                },
                BackupRun {
                    id: "b2".into(),
                    at: at("2026-12-02T02:00:05Z"),
                    result: RunResult::Succeeded
                },
            ]
        );
        assert_eq!(
            plan_runs("5ea704d9-a214-4e81-97d9-d228098f8431", &[], &index).1,
            1
        );
    }

    #[test]
    fn a_failed_last_run_carries_its_task_s_message() {
        let index = listings(json!([
            {"id": "17", "state": "COMPLETED", "result": {"code": "ERROR", "payload": "no space left"}, "started_at": "2026-12-03T02:00:00Z", "context": {"persistent": {"id": PLAN.to_uppercase()}}},
            {"id": "18", "state": "COMPLETED", "result": {"code": "OK", "payload": null}, "started_at": "2026-12-02T02:00:00Z", "context": {"persistent": {"id": PLAN}}}
        ]));
        let failed = app(
            json!({"STATUS": "error", "RUNNING": {"STATE": "idle"}, "last_runtime": "2026-12-03T02:00:00Z", "last_success_time": "2026-12-02T02:00:05Z"}),
        );
        let (runs, _) = plan_runs(PLAN, &[failed], &index);
        assert_eq!(
            runs.last(),
            Some(&BackupRun {
                id: "application app1 run".into(),
                at: at("2026-12-03T02:00:00Z"),
                result: RunResult::Failed("no space left (Cyber Backup task 17, ERROR)".into())
            })
        );
        // Without a task, the application's status says it.
        let (runs, _) = plan_runs(
            PLAN,
            &[app(
                json!({"status": "FAILED", "last_runtime": "2026-12-04T02:00:00Z"}),
            )],
            &listings(json!([])),
        );
        assert!(matches!(
            &runs.last().unwrap().result,
            RunResult::Failed(m) if m.contains("status FAILED")
        ));
    }

    #[test]
    fn a_run_going_is_running_and_a_success_the_backups_miss_is_the_application_s() {
        let index = listings(json!([]));
        let going = app(
            json!({"status": "RUNNING", "running": {"state": "RUNNING", "progress": "20"}, "last_runtime": "2026-12-03T02:00:00Z", "last_success_time": "2026-12-03T01:00:00Z"}),
        );
        let (runs, _) = plan_runs(PLAN, &[going], &index);
        assert!(runs.contains(&BackupRun {
            id: "application app1 run".into(),
            at: at("2026-12-03T02:00:00Z"),
            result: RunResult::Running
        }));
        assert!(runs.contains(&BackupRun {
            id: "application app1 success".into(),
            at: at("2026-12-03T01:00:00Z"),
            result: RunResult::Succeeded
        }));
        // Never run: nothing known.
        let fresh = app(json!({"status": "OK", "running": {"state": "IDLE"}}));
        assert_eq!(
            plan_runs(PLAN, &[fresh], &PlanBackups::default()),
            (vec![], 0)
        );
    }
}
