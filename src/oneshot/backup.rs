//! Reconcile a Backup, top to bottom: gather (the source, its provider, the vendor's taker) →
//! validate (the taker's check) → act once (drive.rs) → status. Deleting a Backup with
//! `deletionPolicy: Delete` deletes the vendor backups it produced; `Orphan` keeps them.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use kube::runtime::controller::Action;
use kube::{Resource, ResourceExt};
use tracing::{info, warn};

use super::drive::{self, Act, Pace, Subject};
use super::source::{self, Resolved};
use super::vendor::{BackupOrder, BackupTaker, Progress, Refusal, Started};
use crate::api::Backup;
use crate::api::action_status::{ActionTarget, Phase};
use crate::api::common::{DeletionPolicy, ProviderConfigKind};
use crate::engine::annotations::{FINALIZER, START_PENDING};
use crate::engine::cluster::ObjectAt;
use crate::engine::context::Context;
use crate::engine::errors::Error;
use crate::engine::events::Event;
use crate::engine::hub::{HubError, ProviderKey};
use crate::engine::marker::ownership_marker;
use crate::vendor::error::VendorResult;

pub const KIND: &str = "Backup";

pub async fn reconcile(obj: Arc<Backup>, ctx: Arc<Context>) -> Result<Action, Error> {
    let subject = subject_of(obj.as_ref());
    let deleting = obj.meta().deletion_timestamp.is_some();
    let claimed = subject.annotations.contains_key(START_PENDING);
    let started = subject.status.vendor_id.is_some();
    if deleting && (!started && !claimed || phase_finished(&obj)) {
        return release(&obj, &ctx).await;
    }
    if phase_finished(&obj) {
        return Ok(Action::await_change());
    }
    let Some((kind, name)) = obj.spec.source.object() else {
        let message = "spec.source: set exactly one of vaultRef, policyRef, strategyRef";
        return drive::refuse(&ctx, subject, None, "InvalidSpec", message).await;
    };
    let field = source_field(kind);
    let ns = obj.namespace().unwrap_or_default();
    let resolved = match source::resolve(&ctx, &ns, kind, name, field).await? {
        Ok(r) => r,
        Err(why) => return drive::wait(&ctx, subject, "SourceNotReady", &why.to_string()).await,
    };
    let target = target_of(&resolved);
    if let Some(why) = ctx.hub.blocked(&resolved.provider) {
        let message = format!("{} is not Ready: {why}", resolved.provider);
        return drive::wait(&ctx, subject, "ProviderNotReady", &message).await;
    }
    let runtime = ctx.hub.runtime(&resolved.provider).await?;
    let Some(taker) = runtime.backup_taker() else {
        let message = format!(
            "{field}: rampart takes no on-demand backup of a {kind} at {:?}",
            runtime.provider_type()
        );
        return drive::refuse(&ctx, subject, Some(target), "Unsupported", &message).await;
    };
    if wants_finalizer(&obj) && !obj.finalizers().iter().any(|f| f == FINALIZER) {
        // Before the vendor call: a Backup deleted the moment after must still find its
        // vendor backup to delete. The write wakes the object again.
        let rv = obj.resource_version().unwrap_or_default();
        ctx.cluster
            .add_finalizer(&subject.at, obj.finalizers(), &rv)
            .await?;
        return Ok(Action::requeue(Duration::from_secs(1)));
    }
    let order = BackupOrder {
        backup: obj.clone(),
        marker: ownership_marker(&ctx.settings.cluster_id, KIND, &ns, &obj.name_any()),
        source: resolved.object,
        source_id: resolved.id,
    };
    let pace = Pace::for_poll(poll_interval(&ctx, &resolved.provider)?);
    let act = BackupAct { taker, order };
    drive::drive(&ctx, subject, target, &act, pace).await
}

fn phase_finished(obj: &Backup) -> bool {
    obj.status
        .as_ref()
        .and_then(|s| s.phase)
        .is_some_and(Phase::finished)
}

fn wants_finalizer(obj: &Backup) -> bool {
    obj.spec.deletion_policy == Some(DeletionPolicy::Delete)
}

pub(super) fn subject_of<K>(obj: &K) -> Subject
where
    K: kube::Resource<DynamicType = ()> + HasActionStatus,
{
    Subject {
        at: ObjectAt::of(obj),
        generation: obj.meta().generation,
        resource_version: obj.resource_version().unwrap_or_default(),
        annotations: obj.annotations().clone(),
        status: obj.action_status().cloned().unwrap_or_default(),
    }
}

/// The one-shot kinds' status, for `subject_of`.
pub(super) trait HasActionStatus {
    fn action_status(&self) -> Option<&crate::api::ActionStatus>;
}

impl HasActionStatus for Backup {
    fn action_status(&self) -> Option<&crate::api::ActionStatus> {
        self.status.as_ref()
    }
}

pub(super) fn source_field(kind: &str) -> &'static str {
    match kind {
        "Vault" => "spec.source.vaultRef",
        "Policy" => "spec.source.policyRef",
        _ => "spec.source.strategyRef",
    }
}

pub(super) fn target_of(r: &Resolved) -> ActionTarget {
    ActionTarget {
        provider_config: provider_label(&r.provider),
        source: r.label.clone(),
        source_id: Some(r.id.clone()),
    }
}

fn provider_label(key: &ProviderKey) -> String {
    match key.kind {
        ProviderConfigKind::ProviderConfig => format!("ProviderConfig/{}", key.name),
        ProviderConfigKind::ClusterProviderConfig => format!("ClusterProviderConfig/{}", key.name),
    }
}

/// The provider configuration recorded in status, for a deletion whose source may be gone.
fn provider_of_label(label: &str, ns: &str) -> Option<ProviderKey> {
    let (kind, name) = label.split_once('/')?;
    let (kind, namespace) = match kind {
        "ProviderConfig" => (ProviderConfigKind::ProviderConfig, Some(ns.to_string())),
        "ClusterProviderConfig" => (ProviderConfigKind::ClusterProviderConfig, None),
        _ => return None,
    };
    Some(ProviderKey {
        kind,
        namespace,
        name: name.to_string(),
    })
}

pub(super) fn poll_interval(ctx: &Context, key: &ProviderKey) -> Result<Duration, Error> {
    let config = ctx.hub.config(key)?;
    Ok(Duration::from_secs(
        config.poll_interval_seconds.max(1) as u64
    ))
}

/// The object is being deleted: with `Delete`, its vendor backups go first.
async fn release(obj: &Backup, ctx: &Context) -> Result<Action, Error> {
    let at = ObjectAt::of(obj);
    if !obj.finalizers().iter().any(|f| f == FINALIZER) {
        return Ok(Action::await_change());
    }
    let status = obj.status.clone().unwrap_or_default();
    let ns = obj.namespace().unwrap_or_default();
    let provider = status
        .target
        .as_ref()
        .and_then(|t| provider_of_label(&t.provider_config, &ns));
    if wants_finalizer(obj)
        && !status.backup_ids.is_empty()
        && let Some(key) = provider
    {
        match ctx.hub.runtime(&key).await {
            Ok(runtime) => {
                if let Some(taker) = runtime.backup_taker() {
                    taker
                        .delete(&status.backup_ids)
                        .await
                        .map_err(|e| Error::External(e.into()))?;
                    info!(backup = %obj.name_any(), ids = ?status.backup_ids, "deleted the vendor backups");
                    let note = format!(
                        "deleted the vendor backups {}",
                        status.backup_ids.join(", ")
                    );
                    ctx.cluster
                        .publish(&at, &Event::normal("Deleted", "Delete", note))
                        .await;
                }
            }
            // The provider configuration is gone: nothing can reach the vendor any more, and
            // holding the object would only block its namespace. Say what stays behind.
            Err(HubError::NotFound(key)) => {
                warn!(backup = %obj.name_any(), %key, "provider gone; vendor backups left in place");
                let note = format!(
                    "{key} no longer exists: the vendor backups {} were left in place",
                    status.backup_ids.join(", ")
                );
                ctx.cluster
                    .publish(&at, &Event::warning("DeleteSkipped", "Delete", note))
                    .await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    ctx.cluster.remove_finalizer(&at, obj.finalizers()).await?;
    Ok(Action::await_change())
}

struct BackupAct<'a> {
    taker: &'a dyn BackupTaker,
    order: BackupOrder,
}

#[async_trait]
impl Act for BackupAct<'_> {
    fn check(&self) -> Result<(), Refusal> {
        self.taker.check(&self.order)
    }
    async fn start(&self) -> VendorResult<Started> {
        self.taker.start(&self.order).await
    }
    async fn find(&self, since: Timestamp) -> VendorResult<Option<Started>> {
        self.taker.find(&self.order, since).await
    }
    async fn progress(&self, started: &Started) -> VendorResult<Progress> {
        self.taker.progress(&self.order, started).await
    }
}

/// Requeue a Backup or Restore after an error, backing off per object as the managed kinds do.
pub fn error_policy<K: kube::Resource<DynamicType = ()>>(
    obj: Arc<K>,
    error: &Error,
    ctx: Arc<Context>,
) -> Action {
    let kind = K::kind(&()).to_string();
    let attempt = ctx.failed(
        "OneShot",
        &format!("{kind}/{}", obj.namespace().unwrap_or_default()),
        &obj.name_any(),
    );
    let delay = ctx.settings.backoff.jittered(error.class(), attempt);
    warn!(%kind, name = %obj.name_any(), error = %error, ?delay, "requeue after error");
    Action::requeue(delay)
}
