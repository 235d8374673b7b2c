//! `/_sim/huawei-cbr/...`: state dump and console-like edits for tests in other processes.
//! Never counted, never faulted.
//!
//! - `GET  /_sim/huawei-cbr/state` — every project with its vaults (write-only fields
//!   included), policies and tasks
//! - `POST /_sim/huawei-cbr/projects/{project_id}/vaults` — `{"name", "object_type", "size"}`
//! - `PATCH|DELETE /_sim/huawei-cbr/projects/{project_id}/vaults/{id}` — JSON merge patch of the
//!   dumped vault / delete
//! - `PATCH|DELETE /_sim/huawei-cbr/projects/{project_id}/policies/{id}` — same for policies
//! - `POST /_sim/huawei-cbr/clock` — `{"advance_seconds": N}` moves the simulator's clock; the
//!   policy runs it passes are made at once
//! - `POST /_sim/huawei-cbr/projects/{project_id}/vaults/{id}/fail-runs` — `{"runs": N, "code",
//!   "message"}`: the vault's next N policy runs fail with that error (code and message default
//!   to BackupService.6215 "Backup is not allowed in the current resource status."; 0 clears)
//! - `POST /_sim/huawei-cbr/projects/{project_id}/policies/{id}/run` — run the policy now, as if
//!   its schedule had fired
//!
//! Restore points and restores stay in progress for `progress_reads` reads (`--progress-reads`,
//! default 2; see progress.rs), then finish by themselves. Their failures are ordered ahead:
//!
//! - `POST /_sim/huawei-cbr/projects/{project_id}/vaults/{id}/fail-checkpoints` —
//!   `{"checkpoints": N, "code", "message"}`: the vault's next N restore points (`POST
//!   /checkpoints`) are accepted as usual but end with their backups `error` and their tasks
//!   `failed` with that error (code and message default to BackupService.6215 "Backup is not
//!   allowed in the current resource status."; 0 clears); 404 for an unknown vault
//! - `POST /_sim/huawei-cbr/projects/{project_id}/fail-restores` — `{"restores": N, "code",
//!   "message"}`: the project's next N restores (any backup) are accepted (202) but end with the
//!   task `failed` with that error and the backup `available` again (default BackupService.9910
//!   "Unknown error."; 0 clears)
//! - `GET  /_sim/huawei-cbr/projects/{project_id}/restores` — every restore asked, oldest
//!   first: `[{"backup_id", "task_id", "target_resource_id", "request": <the "restore" object
//!   as sent>, "at"}]` (the request log keeps no bodies)
//! - `POST /_sim/huawei-cbr/null-checkpoint-vault` — `{"enabled": true|false}`: `GET
//!   /checkpoints/{id}` answers `"vault": null` as the document's 5.1 example does, instead of
//!   the vault as in 4.3.1's

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::model::{SimVault, merge};
use super::{Console, Shared, SimError};

pub fn router(sim: Shared) -> Router {
    Router::new()
        .route("/_sim/huawei-cbr/state", get(state))
        .route(
            "/_sim/huawei-cbr/projects/{project_id}/vaults",
            post(create_vault),
        )
        .route(
            "/_sim/huawei-cbr/projects/{project_id}/vaults/{id}",
            patch(edit_vault).delete(delete_vault),
        )
        .route(
            "/_sim/huawei-cbr/projects/{project_id}/policies/{id}",
            patch(edit_policy).delete(delete_policy),
        )
        .route(
            "/_sim/huawei-cbr/projects/{project_id}/vaults/{id}/fail-runs",
            post(fail_runs),
        )
        .route(
            "/_sim/huawei-cbr/projects/{project_id}/policies/{id}/run",
            post(run_policy),
        )
        .route(
            "/_sim/huawei-cbr/projects/{project_id}/vaults/{id}/fail-checkpoints",
            post(fail_checkpoints),
        )
        .route(
            "/_sim/huawei-cbr/projects/{project_id}/fail-restores",
            post(fail_restores),
        )
        .route(
            "/_sim/huawei-cbr/projects/{project_id}/restores",
            get(restores),
        )
        .route(
            "/_sim/huawei-cbr/null-checkpoint-vault",
            post(null_checkpoint_vault),
        )
        .route("/_sim/huawei-cbr/clock", post(advance_clock))
        .with_state(sim)
}

async fn state(State(sim): State<Shared>) -> Json<Value> {
    Json(json!(sim.store.lock().unwrap().settled()))
}

#[derive(Deserialize)]
struct NewVault {
    name: String,
    object_type: String,
    size: i64,
}

async fn create_vault(
    State(sim): State<Shared>,
    Path(project_id): Path<String>,
    Json(v): Json<NewVault>,
) -> Response {
    let id = Console(sim.clone()).insert_vault(&project_id, &v.name, &v.object_type, v.size);
    (StatusCode::CREATED, Json(json!({"id": id}))).into_response()
}

/// Apply a merge patch to the serialized form of an object.
fn patched<T: Serialize + DeserializeOwned>(current: &T, patch: Value) -> Result<T, String> {
    let mut value = serde_json::to_value(current).map_err(|e| e.to_string())?;
    merge(&mut value, patch);
    serde_json::from_value(value).map_err(|e| e.to_string())
}

fn edit<T: Serialize + DeserializeOwned>(target: Option<&mut T>, patch: Value) -> Response {
    let Some(target) = target else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match patched(target, patch) {
        Ok(new) => {
            *target = new;
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, e).into_response(),
    }
}

async fn edit_vault(
    State(sim): State<Shared>,
    Path((project_id, id)): Path<(String, String)>,
    Json(p): Json<Value>,
) -> Response {
    let mut store = sim.store.lock().unwrap();
    edit::<SimVault>(store.project(&project_id).vault_mut(&id), p)
}

async fn edit_policy(
    State(sim): State<Shared>,
    Path((project_id, id)): Path<(String, String)>,
    Json(p): Json<Value>,
) -> Response {
    let mut store = sim.store.lock().unwrap();
    edit(store.project(&project_id).policy_mut(&id), p)
}

fn gone(found: bool) -> StatusCode {
    if found {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::NOT_FOUND
    }
}

async fn delete_vault(
    State(sim): State<Shared>,
    Path((project_id, id)): Path<(String, String)>,
) -> StatusCode {
    gone(Console(sim.clone()).delete_vault(&project_id, &id))
}

async fn delete_policy(
    State(sim): State<Shared>,
    Path((project_id, id)): Path<(String, String)>,
) -> StatusCode {
    gone(Console(sim.clone()).delete_policy(&project_id, &id))
}

#[derive(Deserialize)]
struct Advance {
    advance_seconds: i64,
}

async fn advance_clock(State(sim): State<Shared>, Json(a): Json<Advance>) -> StatusCode {
    Console(sim.clone()).advance_clock(jiff::SignedDuration::from_secs(a.advance_seconds));
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct FailRuns {
    runs: u32,
    code: Option<String>,
    message: Option<String>,
}

async fn fail_runs(
    State(sim): State<Shared>,
    Path((project_id, id)): Path<(String, String)>,
    Json(f): Json<FailRuns>,
) -> StatusCode {
    let default = SimError::code("BackupService.6215");
    let code = f.code.unwrap_or(default.code.to_string());
    let message = f.message.unwrap_or(default.message);
    gone(Console(sim.clone()).fail_runs(&project_id, &id, f.runs, &code, &message))
}

async fn run_policy(
    State(sim): State<Shared>,
    Path((project_id, id)): Path<(String, String)>,
) -> StatusCode {
    gone(Console(sim.clone()).run_policy(&project_id, &id))
}

/// A failure order of `fail-checkpoints` or `fail-restores`; the count is under `key`.
#[derive(Deserialize)]
struct FailNext {
    #[serde(alias = "checkpoints", alias = "restores")]
    count: u32,
    code: Option<String>,
    message: Option<String>,
}

impl FailNext {
    fn error(self, default: &'static str) -> (u32, String, String) {
        let d = SimError::code(default);
        let code = self.code.unwrap_or(d.code.to_string());
        (self.count, code, self.message.unwrap_or(d.message))
    }
}

async fn fail_checkpoints(
    State(sim): State<Shared>,
    Path((project_id, id)): Path<(String, String)>,
    Json(f): Json<FailNext>,
) -> StatusCode {
    let (n, code, message) = f.error("BackupService.6215");
    gone(Console(sim).fail_checkpoints(&project_id, &id, n, &code, &message))
}

async fn fail_restores(
    State(sim): State<Shared>,
    Path(project_id): Path<String>,
    Json(f): Json<FailNext>,
) -> StatusCode {
    let (n, code, message) = f.error("BackupService.9910");
    Console(sim).fail_restores(&project_id, n, &code, &message);
    StatusCode::NO_CONTENT
}

async fn restores(State(sim): State<Shared>, Path(project_id): Path<String>) -> Json<Value> {
    Json(json!(Console(sim).restores(&project_id)))
}

#[derive(Deserialize)]
struct Enabled {
    enabled: bool,
}

async fn null_checkpoint_vault(State(sim): State<Shared>, Json(e): Json<Enabled>) -> StatusCode {
    Console(sim).null_checkpoint_vault(e.enabled);
    StatusCode::NO_CONTENT
}
