//! Backups (section 4.5): the record a run leaves for each resource, in the wire form of
//! BackupResp (Table 4-188, the examples of L3460-3521 and L4790-4830), and the routes that read
//! them: `GET /backups` with the filters, paging and sort of Table 4-185, `GET /backups/{id}`;
//! and `DELETE /backups/{id}`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Shared;
use super::error::SimError;
use super::model::{DISK_PROVIDER, SERVER_PROVIDER, SimTask, TURBO_PROVIDER, new_id, wire_time};
use super::operation_logs::time_param;
use super::vaults::paging;

/// One backup of one resource.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SimBackup {
    pub id: String,
    pub checkpoint_id: String,
    pub name: String,
    pub vault_id: String,
    /// The policy whose run made it (not on the wire).
    pub policy_id: Option<String>,
    pub resource_id: String,
    pub resource_name: String,
    pub resource_type: String,
    pub resource_size: i64,
    /// `available` or `error`; `protecting` while a restore point is made, `restoring` during a
    /// restore.
    pub status: String,
    pub created_at: Timestamp,
    pub protected_at: Option<Timestamp>,
    pub expired_at: Option<Timestamp>,
    pub auto_trigger: bool,
    /// A restore point's `parameters.description`; empty for a policy run's backups.
    #[serde(default)]
    pub description: String,
}

impl SimBackup {
    pub fn provider_id(&self) -> &'static str {
        match self.resource_type.as_str() {
            "OS::Cinder::Volume" => DISK_PROVIDER,
            "OS::Sfs::Turbo" => TURBO_PROVIDER,
            _ => SERVER_PROVIDER,
        }
    }

    /// The list example's fields. Its `extend_info` differs for servers and disks; the key
    /// `support_lld` is spelled as in that example (Table 4-189 says `support_llid`).
    // GUESS (L3460-3521): `resource_az` is the examples' "br-iaas-odin1a"; `incremental` is never
    // set (no example has it); `updated_at` is the backup's last change (`protected_at`, or
    // `created_at` for a failed one).
    pub fn render(&self, project_id: &str) -> Value {
        let extend_info = if self.resource_type == "OS::Nova::Server" {
            json!({"auto_trigger": self.auto_trigger, "supported_restore_mode": "backup",
                "contain_system_disk": true, "support_lld": true, "system_disk": false})
        } else {
            json!({"auto_trigger": self.auto_trigger, "snapshot_id": null, "bootable": true,
                "support_lld": true, "encrypted": false, "system_disk": false})
        };
        json!({
            "provider_id": self.provider_id(), "checkpoint_id": self.checkpoint_id,
            "updated_at": wire_time(self.protected_at.unwrap_or(self.created_at)),
            "vault_id": self.vault_id, "id": self.id, "resource_az": "br-iaas-odin1a",
            "image_type": "backup", "resource_id": self.resource_id,
            "resource_size": self.resource_size, "children": [], "parent_id": null,
            "extend_info": extend_info, "project_id": project_id, "status": self.status,
            "resource_name": self.resource_name, "description": self.description,
            "expired_at": self.expired_at.map(wire_time), "name": self.name,
            "created_at": wire_time(self.created_at),
            "protected_at": self.protected_at.map(wire_time),
            "resource_type": self.resource_type, "replication_records": [],
        })
    }

    fn sort_key(&self, key: &str) -> String {
        match key {
            "updated_at" => wire_time(self.protected_at.unwrap_or(self.created_at)),
            "name" => self.name.clone(),
            "status" => self.status.clone(),
            // GUESS: a backup without `protected_at` (a failed one) sorts as the oldest.
            "protected_at" => self.protected_at.map(wire_time).unwrap_or_default(),
            "id" => self.id.clone(),
            _ => wire_time(self.created_at),
        }
    }
}

const STATUSES: [&str; 8] = [
    "available",
    "protecting",
    "deleting",
    "restoring",
    "error",
    "waiting_protect",
    "waiting_delete",
    "waiting_restore",
];
const SORT_KEYS: [&str; 6] = [
    "created_at",
    "updated_at",
    "name",
    "status",
    "protected_at",
    "id",
];

/// `sort` (L3376): `key[:asc|desc],…`, at most 255 characters, direction `desc` by default.
/// Errors name the parameter (they go to the debug log; the wire has the bare 9900).
pub fn parse_sort(sort: Option<&str>) -> Result<Vec<(String, bool)>, String> {
    // GUESS (L3376): without `sort` the list is newest first (`created_at:desc`).
    let Some(sort) = sort else {
        return Ok(vec![("created_at".into(), true)]);
    };
    if sort.chars().count() > 255 {
        return Err("sort is longer than 255 characters".into());
    }
    sort.split(',')
        .map(|part| {
            let (key, dir) = part.split_once(':').unwrap_or((part, "desc"));
            if !SORT_KEYS.contains(&key) {
                return Err(format!("sort key {key:?} is not one of {SORT_KEYS:?}"));
            }
            match dir {
                "asc" => Ok((key.to_string(), false)),
                "desc" => Ok((key.to_string(), true)),
                _ => Err(format!("sort direction {dir:?} is not asc or desc")),
            }
        })
        .collect()
}

/// The filters of Table 4-185 that the simulator reads; a repeated `status` matches any.
struct Filter {
    single: BTreeMap<String, String>,
    statuses: Vec<String>,
    start: Option<Timestamp>,
    end: Option<Timestamp>,
}

impl Filter {
    fn parse(pairs: &[(String, String)]) -> Result<Filter, SimError> {
        let single: BTreeMap<String, String> = pairs.iter().cloned().collect();
        let statuses: Vec<String> = pairs
            .iter()
            .filter(|(k, _)| k == "status")
            .map(|(_, v)| v.clone())
            .collect();
        if let Some(s) = statuses.iter().find(|s| !STATUSES.contains(&s.as_str())) {
            return Err(SimError::invalid(format!(
                "status {s:?} is not one of {STATUSES:?}"
            )));
        }
        // GUESS (L3346): `image_type` is `backup`; `replication` (a replica) is taken and
        // matches nothing here; anything else is refused.
        if let Some(t) = single.get("image_type")
            && t != "backup"
            && t != "replication"
        {
            return Err(SimError::invalid(
                "image_type must be backup or replication",
            ));
        }
        Ok(Filter {
            start: time_param(&single, "start_time")?,
            end: time_param(&single, "end_time")?,
            single,
            statuses,
        })
    }

    // GUESS (L3345, L3377): `start_time` and `end_time` bound `created_at`, both inclusive.
    fn matches(&self, b: &SimBackup) -> bool {
        let q = &self.single;
        q.get("vault_id").is_none_or(|x| *x == b.vault_id)
            && q.get("resource_id").is_none_or(|x| *x == b.resource_id)
            && q.get("resource_type").is_none_or(|x| *x == b.resource_type)
            && q.get("checkpoint_id").is_none_or(|x| *x == b.checkpoint_id)
            && q.get("name").is_none_or(|x| *x == b.name)
            && q.get("image_type").is_none_or(|x| x == "backup")
            && (self.statuses.is_empty() || self.statuses.contains(&b.status))
            && self.start.is_none_or(|s| b.created_at >= s)
            && self.end.is_none_or(|e| b.created_at <= e)
    }
}

/// `{"backups", "count", "offset", "limit"}`; `count` is every match, before `marker`, `offset`
/// and `limit`.
pub async fn list(
    State(sim): State<Shared>,
    Path(project_id): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, SimError> {
    let filter = Filter::parse(&pairs)?;
    let (limit, offset) = paging(&filter.single)?;
    let sort =
        parse_sort(filter.single.get("sort").map(String::as_str)).map_err(SimError::invalid)?;
    let mut store = sim.store.lock().unwrap();
    let project = store.project(&project_id);
    let mut matched: Vec<&SimBackup> = project
        .backups
        .iter()
        .filter(|b| filter.matches(b))
        .collect();
    matched.sort_by(|a, b| {
        sort.iter()
            .map(|(key, desc)| {
                let o = a.sort_key(key).cmp(&b.sort_key(key));
                if *desc { o.reverse() } else { o }
            })
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let count = matched.len();
    // GUESS (L3351): `marker` starts the page after the backup of that id in this order; an id
    // not among the matches is refused (9900).
    let start = match filter.single.get("marker") {
        None => 0,
        Some(m) => matched
            .iter()
            .position(|b| b.id == *m)
            .map(|i| i + 1)
            .ok_or_else(|| SimError::invalid(format!("marker {m:?} is not a listed backup")))?,
    };
    let shown: Vec<&SimBackup> = matched
        .into_iter()
        .skip(start + offset)
        .take(limit)
        .collect();
    let page: Vec<Value> = shown.iter().map(|b| b.render(&project_id)).collect();
    let ids: Vec<String> = shown.iter().map(|b| b.id.clone()).collect();
    let body = json!({"backups": page, "count": count, "offset": offset, "limit": limit});
    let now = store.now();
    store
        .project(&project_id)
        .saw(ids.iter().map(String::as_str), now);
    Ok(Json(body).into_response())
}

pub async fn get(
    State(sim): State<Shared>,
    Path((project_id, backup_id)): Path<(String, String)>,
) -> Result<Response, SimError> {
    let mut store = sim.store.lock().unwrap();
    let now = store.now();
    let project = store.project(&project_id);
    let backup = project
        .backups
        .iter()
        .find(|b| b.id == backup_id)
        .ok_or_else(|| SimError::code("BackupService.6200"))?;
    let body = json!({"backup": backup.render(&project_id)});
    project.saw([backup_id.as_str()], now);
    Ok(Json(body).into_response())
}

/// `DELETE /backups/{id}` (L3525-3570): 204 with no body. A restore point whose last backup
/// this was is gone with it (`checkpoints.rs` finds restore points through their backups).
// GUESS (L3525-3570, L519-523): the backup is gone at once (never `waiting_delete`/`deleting`)
// and a `delete` task records it, `success`; a backup still `protecting` or `restoring` is
// refused with 6216 "The backup cannot be deleted because it is in use.".
pub async fn delete(
    State(sim): State<Shared>,
    Path((project_id, backup_id)): Path<(String, String)>,
) -> Result<Response, SimError> {
    let mut store = sim.store.lock().unwrap();
    let now = store.now();
    let project = store.project(&project_id);
    let i = project
        .backups
        .iter()
        .position(|b| b.id == backup_id)
        .ok_or_else(|| SimError::code("BackupService.6200"))?;
    if ["protecting", "restoring"].contains(&project.backups[i].status.as_str()) {
        return Err(SimError::code("BackupService.6216"));
    }
    let b = project.backups.remove(i);
    let vault_name = project.vault(&b.vault_id).map(|v| v.name.clone());
    project.tasks.push(SimTask {
        id: new_id(),
        operation_type: "delete".into(),
        status: "success".into(),
        vault_id: Some(b.vault_id.clone()),
        vault_name,
        provider_id: b.provider_id().into(),
        resource_ids: vec![b.resource_id.clone()],
        policy_id: None,
        checkpoint_id: Some(b.checkpoint_id.clone()),
        error: Default::default(),
        created_at: now,
        ended_at: Some(now),
        extra_info: json!({
            "delete": {"backup_id": b.id, "backup_name": b.name},
            "common": {"progress": 100, "request_id": format!("req-{}", new_id())},
            "resource": {"id": b.resource_id, "name": b.resource_name, "type": b.resource_type},
        }),
    });
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_parameter_names_what_is_wrong() {
        assert_eq!(
            parse_sort(None).unwrap(),
            vec![("created_at".to_string(), true)]
        );
        assert_eq!(
            parse_sort(Some("protected_at:asc,id")).unwrap(),
            vec![
                ("protected_at".to_string(), false),
                ("id".to_string(), true)
            ]
        );
        for (bad, named) in [
            ("size", "sort key"),
            ("name:up", "sort direction"),
            (&"id,".repeat(90)[..], "sort is longer"),
        ] {
            assert!(
                parse_sort(Some(bad)).unwrap_err().starts_with(named),
                "{bad}"
            );
        }
    }
}
