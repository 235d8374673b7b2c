//! Control of the simulator, beside the API and never counted or faulted: restart the API
//! service, move its clock, order tasks to fail, and read or edit objects as a human would in the RuBackup manager
//! (bypassing the API's checks). In-process tests use the same operations as methods on `Sim`.
//!
//! - `POST /_sim/rubackup/restart`: new keys and CSRF token; every session is dead.
//! - `POST /_sim/rubackup/reinstall`: the server set up again: every object gone but the
//!   `Default` pool, ids counted from the start again (so new objects get ids old ones had),
//!   and every session dead.
//! - `POST /_sim/rubackup/clock` `{"advanceSeconds": n}`: move the server clock forward (0
//!   reads it); answers `{"now": unix seconds}`. The runs of global schedule rules and
//!   strategies due by then are made (tasks and backups, see `runs` and `strategy_runs`).
//! - `POST /_sim/rubackup/global_schedule/{id}/fail` `{"runs": n, "message": "…"}`: the next
//!   n runs of that rule (scheduled or forced) end in `Error` with the message and make no
//!   backup; n = 0 ends the failures. 404 for no such rule.
//! - `POST /_sim/rubackup/backup_strategies/{id}/fail` `{"runs": n, "message": "…"}`: the
//!   same for the next n runs of a strategy (every task of each run). 404 for no such strategy.
//! - `POST /_sim/rubackup/global_schedule/{id}/run`: run that rule now, whatever its status
//!   or schedule; answers `{"task": id}`. 404 for no such rule.
//! - `POST /_sim/rubackup/urgent/fail` `{"backups": n, "message": "…", "pool": "Default"}`:
//!   the next n urgent backups (`POST /task_queue`) asked for, of that pool only when `pool`
//!   is given, end in `Error` with the message and make no record; n = 0 withdraws the order
//!   for that pool (or the one for any pool). `backups` defaults to 1. The failure is decided
//!   when a backup is asked for, so order it first. Answers 204.
//! - `POST /_sim/rubackup/restores/fail` `{"restores": n, "message": "…"}`: the same for the
//!   next n restores (`POST /repository/{id}/restoring`). Answers 204.
//! - `GET /_sim/rubackup/restores`: every restore accepted, in order,
//!   `[{"task": id, "record": id, "body": {"data": {"restore_task": …}}}]` with the body as
//!   sent (the journal's `POST /repository/{id}/restoring` entries hold the same in-process).
//!
//!   Urgent backups and restores stay `New` for `SimConfig::queue_wait` (10 s), execute for
//!   `run_duration` (60 s) and then end, on the server clock: move it with `/clock` (70 s by
//!   default) to make them end; reads alone never move a task on (see `oneshot`).
//! - `GET /_sim/rubackup/state`: every table.
//! - `POST /_sim/rubackup/{table}`: insert an object as given; answers `{"id": n}`.
//! - `PATCH /_sim/rubackup/{table}/{id}`: merge fields into an object.
//! - `DELETE /_sim/rubackup/{table}/{id}`: remove an object.
//! - `GET /_sim/rubackup/failed-logins/{user}`: wrong passwords counted towards the lockout.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use super::Sim;
use super::store::{Item, Store, TABLES};

impl Sim {
    /// The server set up again (a reset, or a new installation on the same address): its
    /// database is new, so ids are handed out from the start again, and the objects people
    /// create next take the ids rampart's objects had. GUESS: the document says nothing of
    /// ids; they are integers (L3726) from a database sequence, which starts again with the
    /// database.
    pub fn reinstall(&self) {
        *self.store.lock().unwrap() = Store::new(self.config.clone());
        self.restart();
    }

    /// Insert an object as a human would create it (no API checks); returns its id.
    pub fn insert(&self, table: &str, fields: Value) -> Option<i64> {
        let t = Store::table_name(table)?;
        let item: Item = fields.as_object().cloned().unwrap_or_default();
        self.catch_up();
        let id = self.store.lock().unwrap().insert(t, item);
        self.catch_up();
        Some(id)
    }

    /// Change fields of an object behind rampart's back; false when it does not exist.
    pub fn edit(&self, table: &str, id: i64, fields: Value) -> bool {
        let Some(t) = Store::table_name(table) else {
            return false;
        };
        self.catch_up();
        let mut store = self.store.lock().unwrap();
        let Some(item) = store.table_mut(t).get_mut(&id) else {
            return false;
        };
        item.extend(fields.as_object().cloned().unwrap_or_default());
        true
    }

    /// Remove an object behind rampart's back.
    pub fn remove(&self, table: &str, id: i64) -> bool {
        let Some(t) = Store::table_name(table) else {
            return false;
        };
        self.catch_up();
        self.store
            .lock()
            .unwrap()
            .table_mut(t)
            .remove(&id)
            .is_some()
    }

    /// One object.
    pub fn get(&self, table: &str, id: i64) -> Option<Value> {
        let t = Store::table_name(table)?;
        self.store
            .lock()
            .unwrap()
            .table(t)
            .get(&id)
            .cloned()
            .map(Value::Object)
    }

    /// All objects of a table.
    pub fn all(&self, table: &str) -> Vec<Value> {
        let Some(t) = Store::table_name(table) else {
            return Vec::new();
        };
        self.store
            .lock()
            .unwrap()
            .table(t)
            .values()
            .cloned()
            .map(Value::Object)
            .collect()
    }

    /// The id of the object of `table` whose `key` is `value`.
    pub fn find(&self, table: &str, key: &str, value: &str) -> Option<i64> {
        let t = Store::table_name(table)?;
        self.store
            .lock()
            .unwrap()
            .with(t, key, value, None)
            .first()
            .copied()
    }
}

fn missing() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"error": "no such table or object"})),
    )
        .into_response()
}

/// The `/_sim/rubackup` routes.
pub fn routes(sim: Arc<Sim>) -> Router {
    Router::new()
        .route(
            "/_sim/rubackup/restart",
            post(|State(s): State<Arc<Sim>>| async move {
                s.restart();
                StatusCode::NO_CONTENT
            }),
        )
        .route(
            "/_sim/rubackup/reinstall",
            post(|State(s): State<Arc<Sim>>| async move {
                s.reinstall();
                StatusCode::NO_CONTENT
            }),
        )
        .route(
            "/_sim/rubackup/clock",
            post(|State(s): State<Arc<Sim>>, Json(body): Json<Value>| async move {
                let secs = body.get("advanceSeconds").and_then(Value::as_u64).unwrap_or(0);
                s.advance_clock(Duration::from_secs(secs));
                Json(json!({ "now": s.now() }))
            }),
        )
        .route(
            "/_sim/rubackup/global_schedule/{id}/fail",
            post(|State(s): State<Arc<Sim>>, Path(id): Path<i64>, Json(body): Json<Value>| async move {
                let runs = body.get("runs").and_then(Value::as_u64).unwrap_or(1) as u32;
                let message = body.get("message").and_then(Value::as_str).unwrap_or("Backup failed");
                if s.fail_runs(id, runs, message) { StatusCode::NO_CONTENT.into_response() } else { missing() }
            }),
        )
        .route(
            "/_sim/rubackup/backup_strategies/{id}/fail",
            post(|State(s): State<Arc<Sim>>, Path(id): Path<i64>, Json(body): Json<Value>| async move {
                let runs = body.get("runs").and_then(Value::as_u64).unwrap_or(1) as u32;
                let message = body.get("message").and_then(Value::as_str).unwrap_or("Backup failed");
                if s.fail_strategy_runs(id, runs, message) { StatusCode::NO_CONTENT.into_response() } else { missing() }
            }),
        )
        .route(
            "/_sim/rubackup/global_schedule/{id}/run",
            post(|State(s): State<Arc<Sim>>, Path(id): Path<i64>| async move {
                match s.run_now(id) {
                    Some(task) => Json(json!({ "task": task })).into_response(),
                    None => missing(),
                }
            }),
        )
        .route(
            "/_sim/rubackup/urgent/fail",
            post(|State(s): State<Arc<Sim>>, Json(body): Json<Value>| async move {
                let backups = body.get("backups").and_then(Value::as_u64).unwrap_or(1) as u32;
                let message = body.get("message").and_then(Value::as_str).unwrap_or("Backup failed");
                let pool = body.get("pool").and_then(Value::as_str);
                s.fail_urgent_backups(pool, backups, message);
                StatusCode::NO_CONTENT
            }),
        )
        .route(
            "/_sim/rubackup/restores/fail",
            post(|State(s): State<Arc<Sim>>, Json(body): Json<Value>| async move {
                let restores = body.get("restores").and_then(Value::as_u64).unwrap_or(1) as u32;
                let message = body.get("message").and_then(Value::as_str).unwrap_or("Restore failed");
                s.fail_restores(restores, message);
                StatusCode::NO_CONTENT
            }),
        )
        .route(
            "/_sim/rubackup/restores",
            get(|State(s): State<Arc<Sim>>| async move { Json(Value::Array(s.restores())) }),
        )
        .route(
            "/_sim/rubackup/state",
            get(|State(s): State<Arc<Sim>>| async move {
                let tables: Map<String, Value> = TABLES.iter().map(|t| (t.to_string(), Value::Array(s.all(t)))).collect();
                Json(Value::Object(tables))
            }),
        )
        .route(
            "/_sim/rubackup/failed-logins/{user}",
            get(|State(s): State<Arc<Sim>>, Path(user): Path<String>| async move { Json(json!({ "failed": s.failed_logins(&user) })) }),
        )
        .route(
            "/_sim/rubackup/{table}",
            post(|State(s): State<Arc<Sim>>, Path(table): Path<String>, Json(body): Json<Value>| async move {
                match s.insert(&table, body) {
                    Some(id) => (StatusCode::CREATED, Json(json!({ "id": id }))).into_response(),
                    None => missing(),
                }
            }),
        )
        .route(
            "/_sim/rubackup/{table}/{id}",
            patch(|State(s): State<Arc<Sim>>, Path((table, id)): Path<(String, i64)>, Json(body): Json<Value>| async move {
                if s.edit(&table, id, body) { StatusCode::NO_CONTENT.into_response() } else { missing() }
            })
            .delete(|State(s): State<Arc<Sim>>, Path((table, id)): Path<(String, i64)>| async move {
                if s.remove(&table, id) { StatusCode::NO_CONTENT.into_response() } else { missing() }
            }),
        )
        .with_state(sim)
}
