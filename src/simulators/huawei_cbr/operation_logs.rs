//! Tasks (operation logs, section 4.1): the record kept for each backup of a resource, vault
//! deletion and resource removal, and the routes that read them (L434-973).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Shared;
use super::error::{SimError, SimResult};
use super::model::wire_time;
use super::vaults::{Params, page_body, paging};

/// A task. `status` is `success` or `failed`, or `running` while a restore point or a restore
/// is in progress (`progress.rs`); no task is ever `waiting`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SimTask {
    pub id: String,
    pub operation_type: String,
    #[serde(default = "success")]
    pub status: String,
    pub vault_id: Option<String>,
    pub vault_name: Option<String>,
    pub provider_id: String,
    pub resource_ids: Vec<String>,
    #[serde(default)]
    pub policy_id: Option<String>,
    #[serde(default)]
    pub checkpoint_id: Option<String>,
    /// `error_info`: code and message, both empty on success.
    #[serde(default)]
    pub error: (String, String),
    pub created_at: Timestamp,
    /// `ended_at`; `created_at` when not set.
    #[serde(default)]
    pub ended_at: Option<Timestamp>,
    pub extra_info: Value,
}

fn success() -> String {
    "success".into()
}

impl SimTask {
    pub fn render(&self, project_id: &str) -> Value {
        let t = wire_time(self.created_at);
        // GUESS (L466-485): a running task has no `ended_at` yet (null) and was last updated
        // when it began.
        let (end, updated) = if self.status == "running" {
            (Value::Null, t.clone())
        } else {
            let end = wire_time(self.ended_at.unwrap_or(self.created_at));
            (json!(end), end)
        };
        json!({
            "id": self.id, "operation_type": self.operation_type, "status": self.status,
            "project_id": project_id, "provider_id": self.provider_id,
            "checkpoint_id": self.checkpoint_id, "policy_id": self.policy_id,
            "vault_id": self.vault_id, "vault_name": self.vault_name,
            "created_at": t, "started_at": t, "ended_at": end, "updated_at": updated,
            "error_info": {"code": self.error.0, "message": self.error.1},
            "extra_info": self.extra_info,
        })
    }
}

pub async fn get(
    State(sim): State<Shared>,
    Path((project_id, task_id)): Path<(String, String)>,
) -> Result<Response, SimError> {
    let mut store = sim.store.lock().unwrap();
    let now = store.now();
    let project = store.project(&project_id);
    let task = project
        .tasks
        .iter()
        .find(|t| t.id == task_id)
        .ok_or_else(|| SimError::code("BackupService.6500"))?;
    let body = json!({"operation_log": task.render(&project_id)});
    project.saw([task_id.as_str()], now);
    Ok(Json(body).into_response())
}

/// A time filter of the document's form `2018-02-01T12:00:00Z`.
pub fn time_param(
    q: &std::collections::BTreeMap<String, String>,
    k: &str,
) -> SimResult<Option<Timestamp>> {
    q.get(k)
        .map(|s| {
            s.parse()
                .map_err(|_| SimError::invalid(format!("{k} must look like 2018-02-01T12:00:00Z")))
        })
        .transpose()
}

const OPERATION_TYPES: [&str; 8] = [
    "backup",
    "copy",
    "replication",
    "delete",
    "restore",
    "vault_delete",
    "remove_resource",
    "sync",
];
const STATUSES: [&str; 6] = [
    "success", "skipped", "failed", "running", "timeout", "waiting",
];

/// Newest first; `start_time`/`end_time` bound `created_at`.
// GUESS (L675-681): the document says "start time of a task" and "end time of a task"; both
// bound the task's creation time, as for backups.
pub async fn list(
    State(sim): State<Shared>,
    Path(project_id): Path<String>,
    Query(q): Params,
) -> Result<Response, SimError> {
    let (limit, offset) = paging(&q)?;
    let (start, end) = (time_param(&q, "start_time")?, time_param(&q, "end_time")?);
    // GUESS (L672, L678): values outside the enumerations are refused (9900).
    for (k, allowed) in [
        ("operation_type", &OPERATION_TYPES[..]),
        ("status", &STATUSES[..]),
    ] {
        if q.get(k).is_some_and(|x| !allowed.contains(&x.as_str())) {
            return Err(SimError::invalid(format!("{k} must be one of {allowed:?}")));
        }
    }
    let mut store = sim.store.lock().unwrap();
    let project = store.project(&project_id);
    let items = project
        .tasks
        .iter()
        .rev()
        .filter(|t| {
            q.get("operation_type")
                .is_none_or(|x| *x == t.operation_type)
                && q.get("status").is_none_or(|x| *x == t.status)
                && q.get("vault_id")
                    .is_none_or(|x| t.vault_id.as_ref() == Some(x))
                && q.get("vault_name")
                    .is_none_or(|x| t.vault_name.as_ref() == Some(x))
                && q.get("provider_id").is_none_or(|x| *x == t.provider_id)
                && q.get("resource_id")
                    .is_none_or(|x| t.resource_ids.contains(x))
                && start.is_none_or(|s| t.created_at >= s)
                && end.is_none_or(|e| t.created_at <= e)
        })
        .map(|t| t.render(&project_id))
        .collect();
    let body = page_body("operation_logs", items, limit, offset);
    let shown = body["operation_logs"].as_array().into_iter().flatten();
    let ids: Vec<&str> = shown.filter_map(|t| t["id"].as_str()).collect();
    let now = store.now();
    store.project(&project_id).saw(ids, now);
    Ok(Json(body).into_response())
}
