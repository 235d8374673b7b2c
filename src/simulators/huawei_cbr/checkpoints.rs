//! Restore points (section 4.3): `POST /checkpoints` backs up a vault's resources (all of them,
//! or those listed) as one restore point, `GET /checkpoints/{id}` reads it back. A restore point
//! is not stored on its own: it is the set of backups sharing its `checkpoint_id` (a policy
//! run's too), so it is gone when its last backup is deleted, and its status follows theirs.
//! The backups and their `backup` tasks stay `protecting`/`running` for a few reads
//! (`progress.rs`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Shared;
use super::backups::SimBackup;
use super::error::{SimError, SimResult};
use super::model::{Project, SimResource, new_id, wire_time};
use super::progress::{self, Pending};
use super::runs::backup_task;
use super::validate::{self as v, Obj};
use super::vaults::parse;

/// CheckpointParam (Table 4-79), checked.
struct Params {
    auto_trigger: bool,
    description: Option<String>,
    incremental: bool,
    name: Option<String>,
    /// `resources` and `resource_details` ids together, in order, each once; `None` when
    /// neither was sent (every resource of the vault).
    selected: Option<Vec<String>>,
}

fn params(o: Option<&Obj>) -> SimResult<Params> {
    let empty = Obj::new();
    let o = o.unwrap_or(&empty);
    let name = v::string(o, "name", 1, 64)?;
    if name.as_deref().is_some_and(|n| !v::charset_ok(n)) {
        return Err(SimError::invalid(
            "name may contain only letters, digits, '-' and '_'",
        ));
    }
    // GUESS (L1560): `resources` has no length limit in the document; ids are not checked to be
    // UUIDs (the simulator's vaults take any resource id), only to be in the vault (6135).
    let mut ids: Option<Vec<String>> = None;
    if let Some(list) = v::array(o, "resources", 0, usize::MAX)? {
        for id in list {
            let id = id
                .as_str()
                .ok_or_else(|| SimError::invalid("resources[] must be strings"))?;
            ids.get_or_insert_default().push(id.to_string());
        }
    }
    if let Some(list) = v::array(o, "resource_details", 0, 256)? {
        let out = ids.get_or_insert_default();
        for item in list {
            let r = item
                .as_object()
                .ok_or_else(|| SimError::invalid("resource_details[] must be objects"))?;
            out.push(v::required_string(r, "id", 1, 64)?);
            v::string(r, "name", 0, 255)?;
            v::one_of(
                r,
                "type",
                &["OS::Nova::Server", "OS::Cinder::Volume", "OS::Sfs::Turbo"],
            )?
            .ok_or_else(|| SimError::invalid("resource_details[].type is required"))?;
        }
    }
    // GUESS (L1560-1563): `resource_details` names resources to back up as `resources` does; the
    // two lists are joined and an id named twice is backed up once.
    if let Some(list) = &mut ids {
        let mut seen = std::collections::BTreeSet::new();
        list.retain(|id| seen.insert(id.clone()));
    }
    Ok(Params {
        auto_trigger: v::boolean(o, "auto_trigger")?.unwrap_or(false),
        description: v::string(o, "description", 0, 255)?,
        incremental: v::boolean(o, "incremental")?.unwrap_or(true),
        name,
        selected: ids,
    })
}

/// A resource as CheckpointResourceResp (Table 4-85) shows it, in the 5.1 example's form: sizes
/// and counts as strings, `extra_info` the string `"{}"`.
// GUESS (L4556-4566): `backup_size` and `backup_count` are "0", as the vault's resources show
// them (the simulator does not count backups per resource).
fn resource_resp(id: &str, name: &str, type_: &str, size: i64, protect_status: &str) -> Value {
    json!({"id": id, "type": type_, "name": name, "extra_info": "{}",
        "resource_size": size.to_string(), "backup_size": "0", "backup_count": "0",
        "protect_status": protect_status})
}

fn vault_resource_resp(r: &SimResource) -> Value {
    resource_resp(&r.id, &r.name, &r.type_, r.size, &r.protect_status)
}

pub async fn create(
    State(sim): State<Shared>,
    Path(project_id): Path<String>,
    body: Bytes,
) -> Result<Response, SimError> {
    let body = parse(&body)?;
    let o = v::envelope(&body, "checkpoint")?;
    let vault_id = v::required_string(o, "vault_id", 1, 64)?;
    let params = params(v::object(o, "parameters")?)?;
    let reads = progress::reads(&sim);
    let mut store = sim.store.lock().unwrap();
    let now = store.now();
    let project = store.project(&project_id);
    let vault = project.vaults[project.vault_index(&vault_id)?].clone();
    // GUESS (L5087): a vault being deleted takes no restore point (6113 "Backup is not allowed
    // in the current vault status.").
    if vault.status != "available" {
        return Err(SimError::code("BackupService.6113"));
    }
    let chosen: Vec<SimResource> = match &params.selected {
        None => vault.resources.clone(),
        Some(ids) => ids
            .iter()
            .map(|id| vault.resources.iter().find(|r| r.id == *id).cloned())
            .collect::<Option<_>>()
            .ok_or_else(|| SimError::code("BackupService.6135"))?,
    };
    // GUESS (L1631-1633, L5053): a resource with a backup still `protecting` is skipped with
    // BackupService.0002 "Resources are being backed up."; when nothing is left to back up (no
    // resources, or all skipped) the call is refused with 0001, whose handling measure is "Check
    // whether resources are being backed up".
    let (busy, todo): (Vec<SimResource>, Vec<SimResource>) = chosen
        .into_iter()
        .partition(|r| being_backed_up(project, &vault.id, &r.id));
    if todo.is_empty() {
        return Err(SimError::code("BackupService.0001"));
    }
    let failure = Project::take_planned(&mut project.failing_checkpoints, &vault.id);
    let checkpoint_id = new_id();
    let mut op = Pending {
        operation_type: "backup".into(),
        backup_ids: vec![],
        task_ids: vec![],
        checkpoint_id: Some(checkpoint_id.clone()),
        reads_left: reads,
        failure,
    };
    for r in &todo {
        let id = new_id();
        // GUESS (L608, L1557): without `parameters.name` a manual backup is `manualbk_` and four
        // hex digits, like the task example's `manualbk_1234`; with it, every backup of the
        // restore point has that name.
        let name = params
            .name
            .clone()
            .unwrap_or_else(|| format!("manualbk_{}", &id[..4]));
        let backup = SimBackup {
            id,
            checkpoint_id: checkpoint_id.clone(),
            name,
            vault_id: vault.id.clone(),
            policy_id: None,
            resource_id: r.id.clone(),
            resource_name: r.name.clone(),
            resource_type: r.type_.clone(),
            resource_size: r.size,
            status: "protecting".into(),
            created_at: now,
            protected_at: None,
            // GUESS (L1689): a restore point is kept for ever (`retention_duration` -1).
            expired_at: None,
            auto_trigger: params.auto_trigger,
            description: params.description.clone().unwrap_or_default(),
        };
        // GUESS (L590-630): a manual backup's task has null `vault_id`, `vault_name` and
        // `policy_id`, as the task example (a `manualbk_` backup) shows; its
        // `extra_info.backup.incremental` is the string the table types it as (L505-510).
        let mut task = backup_task(&backup, &vault.name);
        task.status = "running".into();
        task.vault_id = None;
        task.vault_name = None;
        task.ended_at = None;
        task.extra_info["common"]["progress"] = json!(0);
        task.extra_info["backup"]["incremental"] = json!(params.incremental.to_string());
        op.backup_ids.push(backup.id.clone());
        op.task_ids.push(task.id.clone());
        project.backups.push(backup);
        project.tasks.push(task);
    }
    let skipped: Vec<Value> = busy
        .iter()
        .map(|r| {
            let e = SimError::code("BackupService.0002");
            json!({"id": r.id, "type": r.type_, "name": r.name, "code": e.code, "reason": e.message})
        })
        .collect();
    // GUESS (L1683-1690): `extra_info.name` and `description` are what was sent, null when not.
    let body = json!({"checkpoint": {
        "id": checkpoint_id, "project_id": project_id, "status": "protecting",
        "vault": {"id": vault.id, "name": vault.name,
            "resources": todo.iter().map(vault_resource_resp).collect::<Vec<_>>(),
            "skipped_resources": skipped},
        "created_at": wire_time(now),
        "extra_info": {"name": params.name, "description": params.description,
            "retention_duration": -1},
    }});
    project.start(op, now);
    Ok(Json(body).into_response())
}

fn being_backed_up(p: &Project, vault_id: &str, resource_id: &str) -> bool {
    p.backups
        .iter()
        .any(|b| b.vault_id == vault_id && b.resource_id == resource_id && b.status == "protecting")
}

/// The restore point's status from its backups' (CheckpointCreate's enumeration, L1436).
// GUESS (L1436): `protecting` while any backup is, else `error` when any failed, else
// `available` (a backup being restored counts as available).
fn status(backups: &[&SimBackup]) -> &'static str {
    if backups.iter().any(|b| b.status == "protecting") {
        "protecting"
    } else if backups.iter().any(|b| b.status == "error") {
        "error"
    } else {
        "available"
    }
}

/// `{"checkpoint": …}` as the example of 4.3.1 shows it: the vault with the resources backed
/// up, no `skipped_resources`, `extra_info` null.
// GUESS (L1490-1512, L4619-4628): both GET examples have `extra_info: null` (the name and
// description sent are not given back); 4.3.1 shows the vault and 5.1 `"vault": null`; the
// simulator shows the vault unless `null_checkpoint_vault` is set (control.rs), so a client can
// be tried against both.
pub async fn get(
    State(sim): State<Shared>,
    Path((project_id, checkpoint_id)): Path<(String, String)>,
) -> Result<Response, SimError> {
    let mut store = sim.store.lock().unwrap();
    let now = store.now();
    let null_vault = store.null_checkpoint_vault;
    let project = store.project(&project_id);
    let backups: Vec<&SimBackup> = project
        .backups
        .iter()
        .filter(|b| b.checkpoint_id == checkpoint_id)
        .collect();
    let Some(first) = backups.first() else {
        return Err(SimError::code("BackupService.6217"));
    };
    let vault = project.vault(&first.vault_id);
    let resources: Vec<Value> = backups
        .iter()
        .map(|b| {
            let protect_status = vault
                .and_then(|v| v.resources.iter().find(|r| r.id == b.resource_id))
                .map_or("available", |r| r.protect_status.as_str());
            resource_resp(
                &b.resource_id,
                &b.resource_name,
                &b.resource_type,
                b.resource_size,
                protect_status,
            )
        })
        .collect();
    let vault = if null_vault {
        Value::Null
    } else {
        json!({"id": first.vault_id, "name": vault.map(|v| v.name.clone()), "resources": resources})
    };
    let created = backups.iter().map(|b| b.created_at).min().unwrap_or(now);
    let body = json!({"checkpoint": {
        "id": checkpoint_id, "project_id": project_id, "status": status(&backups),
        "vault": vault, "created_at": wire_time(created), "extra_info": null,
    }});
    project.saw([checkpoint_id.as_str()], now);
    Ok(Json(body).into_response())
}
