//! Vault routes (section 4.4): create, query, list, modify, delete, associate and dissociate
//! resources, apply and remove a policy.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Shared;
use super::error::{SimError, SimResult};
use super::model::{Project, SimTask, SimVault, new_id};
use super::validate as v;

pub type Params = Query<BTreeMap<String, String>>;

/// Parse a JSON request body.
pub fn parse(body: &Bytes) -> SimResult<Value> {
    serde_json::from_slice(body)
        .map_err(|_| SimError::invalid("the request body is not valid JSON"))
}

/// `limit` (1–1000, default 1000) and `offset` (default 0) of a paged list.
pub fn paging(q: &BTreeMap<String, String>) -> SimResult<(usize, usize)> {
    let number = |k: &str, default: usize| -> SimResult<usize> {
        q.get(k)
            .map(|s| {
                s.parse::<usize>()
                    .map_err(|_| SimError::invalid(format!("{k} must be an integer")))
            })
            .unwrap_or(Ok(default))
    };
    let limit = number("limit", 1000)?;
    if !(1..=1000).contains(&limit) {
        return Err(SimError::invalid("limit must be 1-1000"));
    }
    // GUESS (L2298, L669): the tables say offset has minimum 1, the examples send 0; 0 is the first
    // record.
    Ok((limit, number("offset", 0)?))
}

/// A page of `items` with the total `count`.
pub fn page_body(key: &str, items: Vec<Value>, limit: usize, offset: usize) -> Value {
    let count = items.len();
    let page: Vec<Value> = items.into_iter().skip(offset).take(limit).collect();
    json!({ key: page, "count": count, "limit": limit, "offset": offset })
}

/// Writes to a vault being deleted are refused (400 BackupService.6112 "Invalid vault status.").
// GUESS (L5086, L1846): the document has the code and the `deleting` status but does not say
// which calls a deleting vault refuses; changes that add to it are refused, removals pass.
fn not_deleting(vault: &SimVault) -> SimResult<()> {
    if vault.status == "deleting" {
        return Err(SimError::code("BackupService.6112"));
    }
    Ok(())
}

/// Run `f` on a project and the position of the object `find` looks up (which answers the
/// object's not-found error).
pub fn with_found<T>(
    sim: &Shared,
    project_id: &str,
    find: impl FnOnce(&Project) -> SimResult<usize>,
    f: impl FnOnce(&mut Project, usize) -> SimResult<T>,
) -> SimResult<T> {
    let mut store = sim.store.lock().unwrap();
    let project = store.project(project_id);
    let idx = find(project)?;
    f(project, idx)
}

pub async fn create(
    State(sim): State<Shared>,
    Path(project_id): Path<String>,
    body: Bytes,
) -> Result<Response, SimError> {
    let body = parse(&body)?;
    let o = v::envelope(&body, "vault")?;
    let name = v::required_string(o, "name", 1, 64)?;
    let description = v::string(o, "description", 0, 64)?;
    let billing =
        v::object(o, "billing")?.ok_or_else(|| SimError::invalid("billing is required"))?;
    let object_type = v::one_of(billing, "object_type", &["server", "disk", "turbo"])?
        .ok_or_else(|| SimError::invalid("billing.object_type is required"))?;
    v::one_of(billing, "protect_type", &["backup"])?
        .ok_or_else(|| SimError::invalid("billing.protect_type is required"))?;
    v::one_of(billing, "consistent_level", &["crash_consistent"])?
        .ok_or_else(|| SimError::invalid("billing.consistent_level is required"))?;
    let size = v::size(billing, 10)?.ok_or_else(|| SimError::code("BackupService.6101"))?;
    let charging_mode = v::one_of(billing, "charging_mode", &["post_paid"])?;
    let cloud_type = v::one_of(billing, "cloud_type", &["public"])?;
    v::string(billing, "console_url", 1, 255)?;
    let is_multi_az = v::boolean(billing, "is_multi_az")?;
    let resources = v::resources(o, &object_type, 0, 255)?;
    let tags = v::tags(o)?;
    let bind_rules = v::bind_rules(o)?;
    let auto_bind = v::boolean(o, "auto_bind")?;
    let prefix = v::string(o, "backup_name_prefix", 0, 32)?;
    let enterprise = v::string(o, "enterprise_project_id", 1, 64)?;
    let policy_id = v::string(o, "backup_policy_id", 1, 64)?;

    let mut store = sim.store.lock().unwrap();
    let now = store.now();
    let project = store.project(&project_id);
    if resources.iter().any(|r| project.holder_of(&r.id).is_some()) {
        return Err(SimError::code("BackupService.6103"));
    }
    if let Some(p) = &policy_id
        && project.policy(p).is_none()
    {
        return Err(SimError::code("BackupService.6000"));
    }
    let mut vault = SimVault::new(new_id(), &name, &object_type, size, now);
    vault.description = description;
    vault.resources = resources;
    vault.tags = tags;
    vault.bind_rules = bind_rules.unwrap_or_default();
    vault.auto_bind = auto_bind.unwrap_or(false);
    vault.backup_name_prefix = prefix;
    vault.policy_id = policy_id;
    vault.is_multi_az = is_multi_az.unwrap_or(false);
    if let Some(e) = enterprise {
        vault.enterprise_project_id = e;
    }
    if let Some(c) = charging_mode {
        vault.charging_mode = c;
    }
    if let Some(c) = cloud_type {
        vault.cloud_type = c;
    }
    let rendered = vault.render(&project_id, true);
    project.vaults.push(vault);
    Ok(Json(json!({ "vault": rendered })).into_response())
}

pub async fn get(
    State(sim): State<Shared>,
    Path((project_id, vault_id)): Path<(String, String)>,
) -> Result<Response, SimError> {
    with_found(
        &sim,
        &project_id,
        |p| p.vault_index(&vault_id),
        |p, i| {
            let rendered = p.vaults[i].render(&project_id, false);
            p.vaults[i].count_read();
            Ok(Json(json!({ "vault": rendered })).into_response())
        },
    )
}

pub async fn list(
    State(sim): State<Shared>,
    Path(project_id): Path<String>,
    Query(q): Params,
) -> Result<Response, SimError> {
    let (limit, offset) = paging(&q)?;
    let mut store = sim.store.lock().unwrap();
    let project = store.project(&project_id);
    let resource_ids: Vec<&str> = q
        .get("resource_ids")
        .map(|s| s.split(',').collect())
        .unwrap_or_default();
    let matches = |x: &SimVault| {
        q.get("id").is_none_or(|id| *id == x.id)
            // GUESS (L2294): the name filter matches a part of the name; the document does not say.
            && q.get("name").is_none_or(|n| x.name.contains(n.as_str()))
            && q.get("object_type").is_none_or(|o| *o == x.object_type)
            && q.get("policy_id").is_none_or(|p| x.policy_id.as_ref() == Some(p))
            && q.get("status").is_none_or(|s| *s == x.status)
            && q.get("cloud_type").is_none_or(|c| *c == x.cloud_type)
            && (resource_ids.is_empty() || x.resources.iter().any(|r| resource_ids.contains(&r.id.as_str())))
    };
    let matched: Vec<usize> = (0..project.vaults.len())
        .filter(|&i| matches(&project.vaults[i]))
        .collect();
    let mut page = Vec::new();
    for &i in matched.iter().skip(offset).take(limit) {
        page.push(project.vaults[i].render(&project_id, false));
        project.vaults[i].count_read();
    }
    let body = json!({"vaults": page, "count": matched.len(), "limit": limit, "offset": offset});
    Ok(Json(body).into_response())
}

pub async fn update(
    State(sim): State<Shared>,
    Path((project_id, vault_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, SimError> {
    let body = parse(&body)?;
    let o = v::envelope(&body, "vault")?;
    let name = v::string(o, "name", 1, 64)?;
    let size = v::object(o, "billing")?
        .map(|b| v::size(b, 1))
        .transpose()?
        .flatten();
    let auto_bind = v::boolean(o, "auto_bind")?;
    let bind_rules = v::bind_rules(o)?;
    let auto_expand = v::boolean(o, "auto_expand")?;
    let smn_notify = v::boolean(o, "smn_notify")?;
    let threshold = v::integer(o, "threshold")?;
    if threshold.is_some_and(|t| !(1..=100).contains(&t)) {
        return Err(SimError::invalid("threshold must be 1-100"));
    }
    with_found(
        &sim,
        &project_id,
        |p| p.vault_index(&vault_id),
        |p, i| {
            let x = &mut p.vaults[i];
            not_deleting(x)?;
            // GUESS (L2500): capacity cannot shrink (6101); the document does not say whether it
            // can.
            if size.is_some_and(|s| s < x.size) {
                return Err(SimError::code("BackupService.6101"));
            }
            x.name = name.unwrap_or(x.name.clone());
            x.size = size.unwrap_or(x.size);
            x.auto_bind = auto_bind.unwrap_or(x.auto_bind);
            x.bind_rules = bind_rules.unwrap_or(x.bind_rules.clone());
            x.auto_expand = auto_expand.unwrap_or(x.auto_expand);
            x.smn_notify = smn_notify.or(x.smn_notify);
            x.threshold = threshold.or(x.threshold);
            Ok(Json(json!({"vault": x.render(&project_id, false)})).into_response())
        },
    )
}

pub async fn delete(
    State(sim): State<Shared>,
    Path((project_id, vault_id)): Path<(String, String)>,
) -> Result<Response, SimError> {
    let now = sim.store.lock().unwrap().now();
    let reads = sim.config.deleting_reads;
    with_found(
        &sim,
        &project_id,
        |p| p.vault_index(&vault_id),
        |p, i| {
            // GUESS (L2674-2720, L1846): the 204 comes at once and the vault shows `deleting`
            // (the vault status enum) for `deleting_reads` reads before it is gone; deleting it
            // again meanwhile is accepted and changes nothing.
            if p.vaults[i].status == "deleting" {
                return Ok(StatusCode::NO_CONTENT.into_response());
            }
            p.vaults[i].start_deleting(reads);
            let vault = p.vaults[i].clone();
            if vault.deleted() {
                p.vaults.remove(i);
            }
            p.tasks.push(task(
                &vault,
                "vault_delete",
                vec![],
                json!({"vault_delete": {"fail_count": 0, "total_count": 0}}),
                now,
            ));
            Ok(StatusCode::NO_CONTENT.into_response())
        },
    )
}

fn task(
    vault: &SimVault,
    operation_type: &str,
    resource_ids: Vec<String>,
    extra_info: Value,
    now: jiff::Timestamp,
) -> SimTask {
    let provider = vault.render("", false)["provider_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    SimTask {
        id: new_id(),
        operation_type: operation_type.into(),
        status: "success".into(),
        vault_id: Some(vault.id.clone()),
        vault_name: Some(vault.name.clone()),
        provider_id: provider,
        resource_ids,
        policy_id: None,
        checkpoint_id: None,
        error: Default::default(),
        created_at: now,
        ended_at: None,
        extra_info,
    }
}

pub async fn add_resources(
    State(sim): State<Shared>,
    Path((project_id, vault_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, SimError> {
    let body = parse(&body)?;
    let o = body
        .as_object()
        .ok_or_else(|| SimError::invalid("the body must be an object"))?;
    with_found(
        &sim,
        &project_id,
        |p| p.vault_index(&vault_id),
        |p, i| {
            not_deleting(&p.vaults[i])?;
            let added = v::resources(o, &p.vaults[i].object_type, 1, 256)?;
            if added.iter().any(|r| p.holder_of(&r.id).is_some()) {
                return Err(SimError::code("BackupService.6103"));
            }
            let ids: Vec<String> = added.iter().map(|r| r.id.clone()).collect();
            p.vaults[i].resources.extend(added);
            Ok(Json(json!({"add_resource_ids": ids})).into_response())
        },
    )
}

pub async fn remove_resources(
    State(sim): State<Shared>,
    Path((project_id, vault_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, SimError> {
    let body = parse(&body)?;
    let ids: Vec<String> = match body.get("resource_ids").and_then(Value::as_array) {
        Some(a) if (1..=256).contains(&a.len()) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => {
            return Err(SimError::invalid(
                "resource_ids must be a list of 1-256 ids",
            ));
        }
    };
    let now = sim.store.lock().unwrap().now();
    with_found(
        &sim,
        &project_id,
        |p| p.vault_index(&vault_id),
        |p, i| {
            let vault = &mut p.vaults[i];
            if ids
                .iter()
                .any(|id| !vault.resources.iter().any(|r| r.id == *id))
            {
                return Err(SimError::code("BackupService.6135"));
            }
            let removed: Vec<Value> = vault
                .resources
                .iter()
                .filter(|r| ids.contains(&r.id))
                .map(|r| json!({"id": r.id, "name": r.name, "type": r.type_}))
                .collect();
            // GUESS (L2722-2792): removal (and deletion of the resources' backups) completes at
            // once.
            vault.resources.retain(|r| !ids.contains(&r.id));
            let vault_id = vault.id.clone();
            p.backups
                .retain(|b| b.vault_id != vault_id || !ids.contains(&b.resource_id));
            let vault = &p.vaults[i];
            let extra = json!({"remove_resources": {"fail_count": 0, "total_count": 0, "resources": removed}});
            let t = task(vault, "remove_resource", ids.clone(), extra, now);
            p.tasks.push(t);
            Ok(Json(json!({"remove_resource_ids": ids})).into_response())
        },
    )
}

fn policy_id(body: &Bytes) -> SimResult<String> {
    let body = parse(body)?;
    body.get("policy_id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .ok_or_else(|| SimError::invalid("policy_id is required"))
}

pub async fn associate_policy(
    State(sim): State<Shared>,
    Path((project_id, vault_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, SimError> {
    bind(&sim, &project_id, &vault_id, &body, true)
}

pub async fn dissociate_policy(
    State(sim): State<Shared>,
    Path((project_id, vault_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, SimError> {
    bind(&sim, &project_id, &vault_id, &body, false)
}

/// Apply (`associate`) or remove a policy; answers `{"associate_policy"|"dissociate_policy":
/// {vault_id, policy_id}}`.
fn bind(
    sim: &Shared,
    project_id: &str,
    vault_id: &str,
    body: &Bytes,
    associate: bool,
) -> SimResult<Response> {
    let policy_id = policy_id(body)?;
    with_found(
        sim,
        project_id,
        |p| p.vault_index(vault_id),
        |p, i| {
            if p.policy(&policy_id).is_none() {
                return Err(SimError::code("BackupService.6000"));
            }
            let vault = &mut p.vaults[i];
            if associate {
                not_deleting(vault)?;
            }
            let current = vault.policy_id.clone();
            vault.policy_id = match (associate, current) {
                // GUESS (L2889-2968): a vault has at most one backup policy. Applying the same one
                // again succeeds; applying a different one is refused with 6127 until the first is
                // removed.
                (true, Some(existing)) if existing != policy_id => {
                    return Err(SimError::code("BackupService.6127"));
                }
                (true, _) => Some(policy_id.clone()),
                (false, Some(existing)) if existing == policy_id => None,
                (false, _) => return Err(SimError::code("BackupService.6002")),
            };
            let key = if associate {
                "associate_policy"
            } else {
                "dissociate_policy"
            };
            Ok(
                Json(json!({ key: {"vault_id": vault.id, "policy_id": policy_id} }))
                    .into_response(),
            )
        },
    )
}
