//! Runs on the plan's schedule, their outcome, and the tasks they leave (§2.10.8, L4724-5035).
//!
//! As the simulated clock passes a start of an enabled plan's schedule (`scheduling.backup_sets`,
//! the same reading `views::next_run` gives `next_run_time`), every deployed, enabled
//! application of the plan starts a run; it ends `runSeconds` later. §2.9 shows what a finished
//! run leaves on the application: `running.state` back to `IDLE`, `status` `OK`, `last_runtime`
//! the run's start and `last_success_time` its end; a successful run also leaves a backup in the
//! archive of (plan, resource) (§2.10.6, §2.10.7). A run told to fail leaves `status` `ERROR`
//! and keeps `last_success_time`.
//!
//! Every finished run is also a task of `GET /tasks`. The document shows only a completed,
//! successful task (`state: COMPLETED`, `result: {code: OK, payload}`) of agent management, not
//! of a backup: how a backup run's task names its plan and how a failure reads are guesses,
//! marked below.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use serde_json::{Value, json};

use super::state::{
    SimConfig, SimRun, SimState, World, destination_reachable, new_id, record_backup, stamp,
};
use super::views::next_run;
use super::{Answer, AppState, ListParams, ok_json};

/// How many scheduled starts one application catches up in one read; beyond it, the clock
/// jumped so far that the rest are skipped (GUESS: a real agent that was off does not replay
/// the starts it missed either).
const CATCH_UP: usize = 2000;
/// Tasks kept (GUESS: the document does not say how long the server keeps them).
const TASKS_KEPT: usize = 1000;
const TENANT: &str = "00000000-0000-0000-0000-000000000000";

/// A finished run, as `GET /tasks` prints it.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct SimTask {
    /// A numeric string (the document's ids are 19-digit snowflakes).
    pub id: String,
    pub uuid: String,
    pub policy_id: String,
    pub policy_name: String,
    pub policy_type: String,
    pub context_id: String,
    pub machine_name: String,
    pub started_at: Timestamp,
    pub completed_at: Timestamp,
    /// `None` when the run succeeded; the failure's message otherwise.
    pub error: Option<String>,
}

impl SimState {
    /// Make the next `runs` runs of plan `policy_id` fail with `message` (one run is one
    /// application's run); false when the plan does not exist.
    pub fn fail_runs(&self, policy_id: &str, runs: u32, message: &str) -> bool {
        let id = policy_id.to_ascii_lowercase();
        let mut w = self.world.lock().unwrap();
        if !w.policies.contains_key(&id) {
            return false;
        }
        w.failing.insert(id, (runs, message.to_string()));
        true
    }
}

/// Whether `a`'s plan runs on its schedule: the plan and the application enabled, and the
/// plan's scheduling not switched off.
fn scheduled(w: &World, app_id: &str) -> bool {
    let a = &w.applications[app_id];
    w.policies.get(&a.policy_id).is_some_and(|p| {
        p.enabled && a.enabled && p.settings.pointer("/scheduling/enabled") != Some(&json!(false))
    })
}

/// The application's next scheduled start after what it has run of its schedule; computed
/// again only when that start has come or the plan changed.
fn next_start(w: &mut World, app_id: &str) -> Option<Timestamp> {
    let a = &w.applications[app_id];
    let p = &w.policies[&a.policy_id];
    let from = a.schedule_checked.max(a.deployed_at);
    if let Some((stamp, next)) = &a.next_start
        && *stamp == p.updated_at
        && next.is_none_or(|t| t > from)
    {
        return *next;
    }
    let next = next_run(&p.settings, from);
    let key = p.updated_at.clone();
    w.applications
        .get_mut(app_id)
        .expect("caller checked")
        .next_start = Some((key, next));
    next
}

/// Bring every application up to `now`: scheduled starts and run ends, in time order.
pub fn catch_up(w: &mut World, now: Timestamp, config: &SimConfig) {
    let ids: Vec<String> = w.applications.keys().cloned().collect();
    for id in ids {
        if !scheduled(w, &id) {
            finish_if_ended(w, &id, now, config);
            // Starts passed while the plan was off are not made up later.
            if let Some(a) = w.applications.get_mut(&id) {
                a.schedule_checked = now;
            }
            continue;
        }
        for _ in 0..CATCH_UP {
            let start = next_start(w, &id).filter(|t| *t <= now);
            let a = &w.applications[&id];
            let end = a.run.as_ref().map(|r| r.ends).filter(|e| *e <= now);
            match (end, start) {
                (Some(e), Some(t)) if e <= t => finish(w, &id, config),
                (Some(_), None) => finish(w, &id, config),
                (_, Some(t)) => {
                    let a = w.applications.get_mut(&id).expect("listed above");
                    // GUESS: a start that comes while the previous run still goes is skipped.
                    if a.run.is_none() {
                        a.run = Some(SimRun {
                            started: t,
                            ends: t + SignedDuration::from_secs(config.run_seconds),
                        });
                        a.last_runtime = Some(t);
                        a.updated_at = stamp(t);
                    }
                    a.schedule_checked = t;
                }
                (None, None) => break,
            }
        }
        let a = w.applications.get_mut(&id).expect("listed above");
        a.schedule_checked = a.schedule_checked.max(now);
        finish_if_ended(w, &id, now, config);
    }
}

fn finish_if_ended(w: &mut World, id: &str, now: Timestamp, config: &SimConfig) {
    if w.applications
        .get(id)
        .and_then(|a| a.run.as_ref())
        .is_some_and(|r| r.ends <= now)
    {
        finish(w, id, config);
    }
}

/// The run of application `id` ended: its outcome on the application, its task, and (when it
/// succeeded) its backup.
fn finish(w: &mut World, id: &str, config: &SimConfig) {
    let (policy_id, context_id) = {
        let a = &w.applications[id];
        (a.policy_id.clone(), a.context_id.clone())
    };
    let reachable = destination_reachable(w, &policy_id);
    let told = match w.failing.get_mut(&policy_id) {
        Some((n, message)) if *n > 0 => {
            *n -= 1;
            Some(message.clone())
        }
        _ => None,
    };
    // GUESS: the messages of failures the document never shows.
    let error = told
        .or_else(|| config.fail_runs.then(|| "The backup failed.".to_string()))
        .or_else(|| (!reachable).then(|| "The backup location cannot be accessed.".to_string()));
    let app = w.applications.get_mut(id).expect("caller checked");
    let Some(run) = app.run.take() else { return };
    app.last_runtime = Some(run.started);
    app.updated_at = stamp(run.ends);
    if error.is_some() {
        // GUESS: the failed status's spelling (the document shows only `OK`/`ok` and `running`).
        app.status = "ERROR".into();
    } else {
        app.status = "OK".into();
        app.last_success_time = Some(run.ends);
    }
    record_task(w, &policy_id, &context_id, &run, error.clone());
    if error.is_none() {
        record_backup(w, &policy_id, &context_id, run.ends);
    }
}

fn record_task(
    w: &mut World,
    policy_id: &str,
    context_id: &str,
    run: &SimRun,
    error: Option<String>,
) {
    let (policy_name, policy_type) = w
        .policies
        .get(policy_id)
        .map(|p| (p.name.clone(), p.type_.clone()))
        .unwrap_or_default();
    let machine_name = w
        .resources
        .get(context_id)
        .map(|r| r.name.clone())
        .unwrap_or_default();
    // A snowflake-like id: start time in milliseconds, then a sequence.
    let id = format!(
        "{}{:06}",
        run.started.as_millisecond().max(0),
        w.tasks.len() % 1_000_000
    );
    w.tasks.push(SimTask {
        id,
        uuid: new_id(),
        policy_id: policy_id.to_string(),
        policy_name,
        policy_type,
        context_id: context_id.to_string(),
        machine_name,
        started_at: run.started,
        completed_at: run.ends,
        error,
    });
    let over = w.tasks.len().saturating_sub(TASKS_KEPT);
    w.tasks.drain(..over);
}

/// A task as §2.10.8.3's list prints one.
pub fn task_view(t: &SimTask) -> Value {
    // GUESS: a failure is `result.code: "ERROR"` with the message as the string payload
    // (§2.10.8 shows `code: "OK"` and payloads that are a string or an object).
    let result = match &t.error {
        None => json!({"code": "OK", "payload": null}),
        Some(m) => json!({"code": "ERROR", "payload": m}),
    };
    json!({
        "cancel_requested": false, "cancellable": false,
        "completed_at": t.completed_at.to_string(), "enqueued_at": t.started_at.to_string(),
        "started_at": t.started_at.to_string(), "updated_at": t.completed_at.to_string(),
        // GUESS: a plan's run names the plan as its `persistent` object and the machine by name.
        "context": {
            "is_legacy": true, "is_process_root": true, "has_children": false,
            "machine_name": t.machine_name, "specific": "Business",
            "persistent": {"id": t.policy_id, "name": t.policy_name, "owner_id": TENANT},
            "title": format!("Running backup plan '{}'", t.policy_name),
        },
        "executor": {"cluster_id": "", "id": ""}, "issuer": {"cluster_id": "", "id": ""},
        "id": t.id, "uuid": t.uuid, "priority": "NORMAL",
        "progress": {"current": 100, "total": 100}, "queue": "default_queue",
        "result": result, "state": "COMPLETED",
        "tenant": {"id": TENANT, "locator": format!("/{TENANT}/"), "name": "Organization"},
        // GUESS: the task type of a plan's run is the plan's type.
        "type": t.policy_type,
    })
}

/// `GET /tasks`: `{"items", "paging": {"cursors"}, "size", "time_stamp"}` (§2.10.8.3), with the
/// §2.6 filters and cursor paging of the other lists.
pub async fn list_tasks(
    State(app): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Answer {
    let items: Vec<Value> = app.sim.read(|w| w.tasks.iter().map(task_view).collect());
    let now = app.sim.now();
    let (page, cursors, _) =
        ListParams { pairs }.apply(items, &[], app.sim.config().default_limit)?;
    let mut cursors = cursors;
    if cursors["after"] == "" {
        cursors = json!({});
    }
    let size = page.len();
    Ok(ok_json(
        StatusCode::OK,
        json!({
            "items": page, "paging": {"cursors": cursors}, "size": size,
            "time_stamp": format!("{}ns", now.as_nanosecond()),
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulators::cyberbackup::state::{SimApplication, SimPolicy};

    const PLAN: &str = "5ea704d9-a214-4e81-97d9-d228098f8431";

    /// A simulator with a plan running daily at 02:00 UTC, applied to one machine at `start`
    /// (deployed at once); the machine's id.
    fn installation() -> (SimState, String) {
        let sim = SimState::new(SimConfig {
            run_seconds: 60,
            ..Default::default()
        });
        let machine = sim.add_resource("DESKTOP-JRPTA4A", "resource.machine");
        let now = sim.now();
        let settings = json!({"scheduling": {"enabled": true, "backup_sets": [{"type": "AUTO", "schedule": {"type": "DAILY", "alarms": {"time": {"weekdays": ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"], "repeat_at": [{"hour": 2, "minute": 0}]}}}}]}, "destination": {"location": {"settings": {"name": "store"}}}});
        let mut w = sim.world.lock().unwrap();
        w.policies.insert(
            PLAN.into(),
            SimPolicy {
                id: PLAN.into(),
                name: "nightly".into(),
                type_: "policy.backup.machine".into(),
                enabled: true,
                settings,
                tenant_id: TENANT.into(),
                created_at: stamp(now),
                updated_at: stamp(now),
            },
        );
        w.applications.insert(
            "app".into(),
            SimApplication {
                id: "app".into(),
                policy_id: PLAN.into(),
                context_id: machine.clone(),
                context_type: "resource.machine".into(),
                agent_id: "agent".into(),
                enabled: true,
                deployed_at: now,
                run: None,
                status: "OK".into(),
                last_runtime: None,
                last_success_time: None,
                created_at: stamp(now),
                updated_at: stamp(now),
                schedule_checked: now,
                next_start: None,
            },
        );
        drop(w);
        (sim, machine)
    }

    fn two_am(t: Timestamp) -> bool {
        t.to_string().contains("T02:00:00")
    }

    #[test]
    fn plans_run_on_their_schedule_as_the_clock_passes_it() {
        let (sim, machine) = installation();
        assert_eq!(sim.read(|w| w.tasks.len()), 0, "nothing runs by itself");
        sim.advance(SignedDuration::from_hours(24));
        sim.read(|w| {
            let a = &w.applications["app"];
            assert_eq!(a.status, "OK");
            let (started, ended) = (a.last_runtime.unwrap(), a.last_success_time.unwrap());
            assert!(two_am(started), "{started}");
            assert_eq!(ended, started + SignedDuration::from_secs(60));
            assert_eq!(w.backups.len(), 1);
            assert_eq!(w.backups[0].resource_id, machine.to_ascii_uppercase());
            let archive = w.archives.values().next().unwrap();
            assert!(archive.name.ends_with(&format!("{PLAN}A")));
            assert_eq!(w.tasks.len(), 1);
            assert_eq!(task_view(&w.tasks[0])["result"]["code"], "OK");
        });
        // Three days at once: three runs, in order.
        sim.advance(SignedDuration::from_hours(72));
        assert_eq!(sim.read(|w| (w.tasks.len(), w.backups.len())), (4, 4));
    }

    #[test]
    fn backups_are_held_in_an_archive_of_the_plan_s_location() {
        let (sim, _) = installation();
        sim.advance(SignedDuration::from_hours(24));
        let vault_of = |w: &World| {
            w.archives
                .values()
                .map(|a| {
                    let v = crate::simulators::cyberbackup::views::archive(a, TENANT);
                    (v["vault"]["name"].clone(), v["vault"]["id"].clone())
                })
                .collect::<Vec<_>>()
        };
        let store = sim.read(|w| vault_of(w));
        assert_eq!(store.len(), 1);
        assert_eq!(store[0].0, "store", "the destination's location name");
        // The plan moves to another location: its next backup starts an archive there.
        sim.world
            .lock()
            .unwrap()
            .policies
            .get_mut(PLAN)
            .unwrap()
            .settings["destination"]["location"]["settings"]["name"] = json!("offsite");
        sim.advance(SignedDuration::from_hours(24));
        sim.read(|w| {
            let vaults = vault_of(w);
            assert_eq!(vaults.len(), 2, "one archive per location: {vaults:?}");
            let offsite = vaults.iter().find(|(n, _)| n == "offsite").unwrap();
            assert_ne!(offsite.1, store[0].1);
            let newest = w.backups.last().unwrap();
            assert_eq!(json!(newest.vault_id), offsite.1);
            assert_eq!(
                newest.type_, "FULL",
                "a new archive starts with a full backup"
            );
            let archive = w.archives.values().find(|a| a.id == newest.archive_id);
            assert_eq!(archive.unwrap().vault_name, "offsite");
        });
    }

    #[test]
    fn runs_told_to_fail_fail_with_the_message_and_a_plan_switched_off_does_not_run() {
        let (sim, _) = installation();
        assert!(sim.fail_runs(PLAN, 1, "no space left"));
        assert!(!sim.fail_runs("nope", 1, "x"));
        sim.advance(SignedDuration::from_hours(24));
        sim.read(|w| {
            let a = &w.applications["app"];
            assert_eq!(a.status, "ERROR");
            assert!(a.last_runtime.is_some() && a.last_success_time.is_none());
            assert!(w.backups.is_empty());
            let t = task_view(&w.tasks[0]);
            assert_eq!(
                t["result"],
                json!({"code": "ERROR", "payload": "no space left"})
            );
            assert_eq!(t["context"]["persistent"]["id"], PLAN);
        });
        sim.advance(SignedDuration::from_hours(24));
        assert_eq!(sim.read(|w| w.applications["app"].status.clone()), "OK");
        sim.world
            .lock()
            .unwrap()
            .policies
            .get_mut(PLAN)
            .unwrap()
            .enabled = false;
        sim.advance(SignedDuration::from_hours(72));
        assert_eq!(sim.read(|w| w.tasks.len()), 2, "no run while off");
        // Switched on again: the starts missed while off are not made up.
        sim.world
            .lock()
            .unwrap()
            .policies
            .get_mut(PLAN)
            .unwrap()
            .enabled = true;
        assert_eq!(sim.read(|w| w.tasks.len()), 2);
    }
}
