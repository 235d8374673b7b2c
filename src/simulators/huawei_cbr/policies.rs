//! Policy routes (section 4.6).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Shared;
use super::error::SimError;
use super::model::{Project, SimPolicy};
use super::rrule;
use super::validate as v;
use super::vaults::{Params, parse, with_found};

fn render(p: &Project, idx: usize, create: bool) -> Value {
    let policy = &p.policies[idx];
    policy.render(&p.applied(&policy.id), create)
}

pub async fn create(
    State(sim): State<Shared>,
    Path(project_id): Path<String>,
    body: Bytes,
) -> Result<Response, SimError> {
    let body = parse(&body)?;
    let o = v::envelope(&body, "policy")?;
    let name = v::policy_name(o)?.ok_or_else(|| SimError::invalid("name is required"))?;
    let enabled = v::boolean(o, "enabled")?.unwrap_or(true);
    // The 5.2 example omits operation_type and gets `backup` back.
    let operation_type = match v::string(o, "operation_type", 0, 64)? {
        None => "backup".to_string(),
        Some(t) if t == "backup" || t == "replication" => t,
        Some(_) => return Err(SimError::code("BackupService.6117")),
    };
    let od = v::object(o, "operation_definition")?
        .ok_or_else(|| SimError::invalid("operation_definition is required"))?;
    let operation_definition = v::operation_definition(od)?;
    let trigger =
        v::object(o, "trigger")?.ok_or_else(|| SimError::invalid("trigger is required"))?;
    let pattern = rrule::trigger(trigger)?;
    let mut store = sim.store.lock().unwrap();
    let now = store.now();
    let project = store.project(&project_id);
    let mut policy = SimPolicy::new(&name, operation_definition, pattern, now);
    policy.enabled = enabled;
    policy.operation_type = operation_type;
    project.policies.push(policy);
    let idx = project.policies.len() - 1;
    Ok(Json(json!({"policy": render(project, idx, true)})).into_response())
}

pub async fn get(
    State(sim): State<Shared>,
    Path((project_id, policy_id)): Path<(String, String)>,
) -> Result<Response, SimError> {
    with_found(
        &sim,
        &project_id,
        |p| p.policy_index(&policy_id),
        |p, i| Ok(Json(json!({"policy": render(p, i, false)})).into_response()),
    )
}

/// Unpaged, as the document has it; `count` is the total.
pub async fn list(
    State(sim): State<Shared>,
    Path(project_id): Path<String>,
    Query(q): Params,
) -> Result<Response, SimError> {
    let mut store = sim.store.lock().unwrap();
    let project = store.project(&project_id);
    let items: Vec<Value> = (0..project.policies.len())
        .filter(|&i| {
            let policy = &project.policies[i];
            q.get("operation_type")
                .is_none_or(|t| *t == policy.operation_type)
                && q.get("vault_id")
                    .is_none_or(|vid| project.applied(&policy.id).iter().any(|x| x.id == *vid))
        })
        .map(|i| render(project, i, false))
        .collect();
    Ok(Json(json!({"policies": items, "count": items.len()})).into_response())
}

pub async fn update(
    State(sim): State<Shared>,
    Path((project_id, policy_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, SimError> {
    let body = parse(&body)?;
    let o = v::envelope(&body, "policy")?;
    let name = v::policy_name(o)?;
    let enabled = v::boolean(o, "enabled")?;
    let operation_definition = v::object(o, "operation_definition")?
        .map(v::operation_definition)
        .transpose()?;
    let pattern = v::object(o, "trigger")?.map(rrule::trigger).transpose()?;
    // GUESS (L4146-4200): operation_type cannot change and is ignored when sent.
    with_found(
        &sim,
        &project_id,
        |p| p.policy_index(&policy_id),
        |p, i| {
            let policy = &mut p.policies[i];
            policy.name = name.unwrap_or(policy.name.clone());
            policy.enabled = enabled.unwrap_or(policy.enabled);
            // The modify example drops the earlier retention_duration_days: the definition is
            // replaced wholesale, not merged. The trigger keeps its id and start_time.
            policy.operation_definition =
                operation_definition.unwrap_or(policy.operation_definition.clone());
            policy.pattern = pattern.unwrap_or(policy.pattern.clone());
            Ok(Json(json!({"policy": render(p, i, false)})).into_response())
        },
    )
}

pub async fn delete(
    State(sim): State<Shared>,
    Path((project_id, policy_id)): Path<(String, String)>,
) -> Result<Response, SimError> {
    with_found(
        &sim,
        &project_id,
        |p| p.policy_index(&policy_id),
        |p, i| {
            // GUESS (L4348-4394): deleting a policy that is still applied succeeds and removes it
            // from its vaults.
            let id = p.policies[i].id.clone();
            p.remove_policy(&id);
            Ok(StatusCode::NO_CONTENT.into_response())
        },
    )
}
