//! Restore = `POST /repository/{id}/restoring` (L3651-3691): a repository record onto a
//! client's path, followed in the task queue as the urgent backup is.

use std::sync::Arc;

use async_trait::async_trait;
use jiff::Timestamp;
use reqwest::Method;
use serde_json::{Value, json};
use tracing::info;

use super::backend::Backend;
use super::backup_runs::owner_of;
use super::client::Item;
use super::fields::normalize_client;
use super::task_queue::{self, TaskState, newest_task, queued_task, server_zone};
use crate::api::restore::RuBackupRestoreOptions;
use crate::oneshot::{
    Progress, Refusal, RestoreOrder, Restorer, SourceObject, Started, after_accept,
};
use crate::vendor::error::{ErrorKind, VendorError, VendorResult};

/// The Restore's RuBackup options, or the field it cannot be carried out for.
fn options(order: &RestoreOrder) -> Result<&RuBackupRestoreOptions, Refusal> {
    let spec = &order.restore.spec;
    if spec.huawei_cbr.is_some() {
        return Err(Refusal::new(
            "spec.huaweiCbr",
            "CBR options do not apply to a RuBackup restore; use spec.ruBackup",
        ));
    }
    if !matches!(order.source, SourceObject::Vault(_)) {
        return Err(Refusal::new(
            "spec.vaultRef",
            "a RuBackup backup is restored from the Vault (pool) that holds it",
        ));
    }
    let Some(rb) = &spec.ru_backup else {
        return Err(Refusal::new(
            "spec.ruBackup",
            "required for RuBackup: the targetClient and destinationPath to restore to",
        ));
    };
    for (name, value) in [
        ("targetClient", &rb.target_client),
        ("destinationPath", &rb.destination_path),
    ] {
        if value.trim().is_empty() {
            return Err(Refusal::new(
                format!("spec.ruBackup.{name}"),
                "required for a RuBackup restore",
            ));
        }
    }
    Ok(rb)
}

/// The request body: only what the spec says; the vendor's defaults for the rest.
fn body(rb: &RuBackupRestoreOptions) -> Value {
    let mut task = json!({
        "target_client": rb.target_client,
        "destination_path": rb.destination_path,
    });
    if let Some(d) = rb.data_deployment {
        task["data_deployment"] = json!(d);
    }
    if !rb.files.is_empty() {
        task["granular_restore_files"] = json!(rb.files);
    }
    json!({"data": {"restore_task": task}})
}

/// Whether a queued task restores `record` onto the client and path asked (GUESS: the task
/// names its record as `repository_id` and its client as `client`; a `destination_path` it
/// shows must be the one asked).
fn is_ours(task: &Item, record: &str, rb: &RuBackupRestoreOptions) -> bool {
    let path = owner_of(task, "destination_path");
    owner_of(task, "repository_id").as_deref() == Some(record)
        && owner_of(task, "client")
            .is_some_and(|c| normalize_client(&c) == normalize_client(&rb.target_client))
        && path.is_none_or(|p| p == rb.destination_path)
}

/// Carries out restores for one provider configuration.
pub struct Restores {
    pub backend: Arc<Backend>,
}

fn started(task: String) -> Started {
    Started {
        vendor_id: task.clone(),
        task_id: Some(task),
        backup_ids: Vec::new(),
    }
}

fn refused(r: Refusal) -> VendorError {
    VendorError::new(super::VENDOR, "restore", ErrorKind::Config, r.to_string())
}

#[async_trait]
impl Restorer for Restores {
    fn check(&self, order: &RestoreOrder) -> Result<(), Refusal> {
        options(order).map(drop)
    }

    #[tracing::instrument(skip_all, fields(vendor = "rubackup", restore = %order.marker, record = %order.backup_id))]
    async fn start(&self, order: &RestoreOrder) -> VendorResult<Started> {
        let rb = options(order).map_err(refused)?;
        let b = &self.backend;
        let asked_at = Timestamp::now();
        let path = format!("/repository/{}/restoring", order.backup_id);
        let operation = "POST /repository/{id}/restoring";
        let env = b
            .client
            .send(operation, Method::POST, &path, &[], Some(&body(rb)))
            .await?;
        if let Some(task) = queued_task(&env.message) {
            info!(task, "restore queued");
            return Ok(started(task));
        }
        // The documented 201 names no task (L3686): the newest matching task asked since is it.
        let found = newest_task(b, asked_at, |t| is_ours(t, &order.backup_id, rb)).await;
        match found.map_err(after_accept)? {
            Some((task, _)) => {
                info!(task, "restore queued (found in the queue)");
                Ok(started(task))
            }
            None => Err(after_accept(VendorError::new(
                super::VENDOR,
                operation,
                ErrorKind::Unavailable,
                "the answer named no task and the queue shows no restore of this backup yet",
            ))),
        }
    }

    async fn find(&self, order: &RestoreOrder, since: Timestamp) -> VendorResult<Option<Started>> {
        let rb = options(order).map_err(refused)?;
        let found = newest_task(&self.backend, since, |t| is_ours(t, &order.backup_id, rb)).await?;
        Ok(found.map(|(task, _)| started(task)))
    }

    async fn progress(&self, _order: &RestoreOrder, s: &Started) -> VendorResult<Progress> {
        let b = &self.backend;
        let tz = server_zone(b);
        let id = s.task_id.as_deref().unwrap_or(&s.vendor_id);
        let Some(task) = task_queue::task(b, id).await? else {
            // A restore leaves no record to tell how it ended: say so rather than guess.
            return Ok(Progress::Failed {
                message: format!(
                    "RuBackup task {id} is gone from the queue before rampart saw it end; check the restore on the client"
                ),
                completed_at: None,
            });
        };
        Ok(match task_queue::state(id, &task) {
            TaskState::Running => Progress::Running,
            TaskState::Failed(message) => task_queue::failed(message, &task, &tz),
            TaskState::Done => Progress::Succeeded {
                backup_ids: Vec::new(),
                size_bytes: None,
                completed_at: task_queue::time(&task, "finished", &tz),
            },
        })
    }
}
