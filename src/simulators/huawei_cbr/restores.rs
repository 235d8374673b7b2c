//! Restoring a backup (section 4.5.4, L3571-3664): `POST /backups/{id}/restore` answers 202
//! with no body; the backup is `restoring` and a `restore` task `running` for a few reads
//! (`progress.rs`), then the backup is `available` again and the task `success`, or `failed`
//! with the error a test ordered. Every restore asked is kept, with its body, for tests.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Shared;
use super::error::{SimError, SimResult};
use super::model::{Project, SimTask, new_id};
use super::progress::{self, ANY_BACKUP, Pending};
use super::validate::{self as v, Obj};
use super::vaults::parse;

/// A restore as it was asked.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SimRestore {
    pub backup_id: String,
    /// The `restore` task it made.
    pub task_id: String,
    /// The server, disk or file system restored to.
    pub target_resource_id: String,
    /// The `restore` object of the request body, as sent.
    pub request: Value,
    pub at: Timestamp,
}

/// BackupRestore (Table 4-197) checked for its types and ranges; what is required depends on
/// the backup, checked in `target`.
fn check_body(o: &Obj) -> SimResult<()> {
    if let Some(list) = v::array(o, "mappings", 0, usize::MAX)? {
        for m in list {
            let m = m
                .as_object()
                .ok_or_else(|| SimError::invalid("mappings[] must be objects"))?;
            v::required_string(m, "backup_id", 1, 64)?;
            v::required_string(m, "volume_id", 1, 64)?;
        }
    }
    v::boolean(o, "power_on")?;
    v::string(o, "server_id", 1, 64)?;
    v::string(o, "volume_id", 1, 64)?;
    // GUESS (L3625-3629): Table 4-199 RestoreDetails is linked from no field; it is read as the
    // optional `details` object (Huawei's SDK names it so), `destination_path` 1-255 required in
    // it.
    if let Some(d) = v::object(o, "details")? {
        v::required_string(d, "destination_path", 1, 255)?;
    }
    Ok(())
}

/// The resource a backup of `resource_type` is restored to.
// GUESS (L3599-3606): a server backup needs `server_id` and a non-empty `mappings` (9900
// without), and only its own server (2003 "Restoration to a different server is not allowed.");
// the mappings' disk backups are not checked (the simulator keeps no disk backups inside a
// server backup). A disk backup needs `volume_id`, any disk. An SFS Turbo backup has no target
// field and goes back to its own file system (7510 says it can go nowhere else).
fn target(o: &Obj, resource_type: &str, resource_id: &str) -> SimResult<String> {
    let given = |key: &str| o.get(key).and_then(Value::as_str).map(str::to_string);
    match resource_type {
        "OS::Nova::Server" => {
            let server = given("server_id").ok_or_else(|| {
                SimError::invalid("server_id is required to restore a server backup")
            })?;
            let mapped = o
                .get("mappings")
                .and_then(Value::as_array)
                .is_some_and(|m| !m.is_empty());
            if !mapped {
                return Err(SimError::invalid(
                    "mappings are required to restore a server backup",
                ));
            }
            if server != resource_id {
                return Err(SimError::code("BackupService.2003"));
            }
            Ok(server)
        }
        "OS::Cinder::Volume" => given("volume_id")
            .ok_or_else(|| SimError::invalid("volume_id is required to restore a disk backup")),
        _ => Ok(resource_id.to_string()),
    }
}

pub async fn restore(
    State(sim): State<Shared>,
    Path((project_id, backup_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, SimError> {
    let body = parse(&body)?;
    let o = v::envelope(&body, "restore")?;
    check_body(o)?;
    let reads = progress::reads(&sim);
    let mut store = sim.store.lock().unwrap();
    let now = store.now();
    let project = store.project(&project_id);
    let i = project
        .backups
        .iter()
        .position(|b| b.id == backup_id)
        .ok_or_else(|| SimError::code("BackupService.6200"))?;
    let backup = project.backups[i].clone();
    if project
        .vault(&backup.vault_id)
        .is_none_or(|v| v.status != "available")
    {
        return Err(SimError::code("BackupService.6202"));
    }
    // GUESS (L5059, L5063, L5120): a vault not `available` is 6202; a backup already
    // `restoring` is 2010 "The resource is being restored.", any other status but `available`
    // 2005. The body was checked first, so a bad body for an unknown backup is 9900, not 6200.
    match backup.status.as_str() {
        "available" => {}
        "restoring" => return Err(SimError::code("BackupService.2010")),
        _ => return Err(SimError::code("BackupService.2005")),
    }
    let target_id = target(o, &backup.resource_type, &backup.resource_id)?;
    // GUESS (L551-557): `target_resource_name` is the backed-up resource's name when restoring
    // to it; the simulator knows no other resource's name and gives the target's id.
    let target_name = if target_id == backup.resource_id {
        backup.resource_name.clone()
    } else {
        target_id.clone()
    };
    // GUESS (L551-557): a restore task carries its vault (unlike a manual backup's); a failed
    // restore leaves the backup `available` (progress.rs).
    let task = SimTask {
        id: new_id(),
        operation_type: "restore".into(),
        status: "running".into(),
        vault_id: Some(backup.vault_id.clone()),
        vault_name: project.vault(&backup.vault_id).map(|v| v.name.clone()),
        provider_id: backup.provider_id().into(),
        resource_ids: vec![backup.resource_id.clone()],
        policy_id: None,
        checkpoint_id: Some(backup.checkpoint_id.clone()),
        error: Default::default(),
        created_at: now,
        ended_at: None,
        extra_info: json!({
            "restore": {"backup_id": backup.id, "backup_name": backup.name,
                "target_resource_id": target_id, "target_resource_name": target_name},
            "common": {"progress": 0, "request_id": format!("req-{}", new_id())},
            "resource": {"id": backup.resource_id, "name": backup.resource_name,
                "type": backup.resource_type},
        }),
    };
    let op = Pending {
        operation_type: "restore".into(),
        backup_ids: vec![backup.id.clone()],
        task_ids: vec![task.id.clone()],
        checkpoint_id: None,
        reads_left: reads,
        failure: Project::take_planned(&mut project.failing_restores, ANY_BACKUP),
    };
    project.restores.push(SimRestore {
        backup_id: backup.id.clone(),
        task_id: task.id.clone(),
        target_resource_id: target_id,
        request: Value::Object(o.clone()),
        at: now,
    });
    project.backups[i].status = "restoring".into();
    project.tasks.push(task);
    project.start(op, now);
    Ok(StatusCode::ACCEPTED.into_response())
}
