//! Reconcile a Restore, top to bottom: gather (the backup to restore: a Succeeded Backup's, or
//! an id a Vault lists; the Vault's provider; the vendor's restorer) → validate → act once
//! (drive.rs) → status. A Restore never starts without its own object and never starts twice;
//! deleting it changes nothing at the vendor.

use std::sync::Arc;

use async_trait::async_trait;
use jiff::Timestamp;
use kube::runtime::controller::Action;
use kube::{Resource, ResourceExt};

use super::backup::{HasActionStatus, poll_interval, subject_of, target_of};
use super::drive::{self, Act, Pace};
use super::source;
use super::vendor::{Progress, Refusal, RestoreOrder, Restorer, Started};
use crate::api::action_status::Phase;
use crate::api::{ActionStatus, Backup, Restore};
use crate::engine::context::Context;
use crate::engine::errors::Error;
use crate::engine::marker::ownership_marker;
use crate::engine::refs::{RefKey, RefTarget};
use crate::vendor::error::VendorResult;

pub const KIND: &str = "Restore";

impl HasActionStatus for Restore {
    fn action_status(&self) -> Option<&ActionStatus> {
        self.status.as_ref()
    }
}

/// The Vault and backup id a Restore names, or why not (yet).
enum Named {
    Ready { vault: String, backup_id: String },
    Wait(String),
    Refuse(String),
}

pub async fn reconcile(obj: Arc<Restore>, ctx: Arc<Context>) -> Result<Action, Error> {
    let subject = subject_of(obj.as_ref());
    if obj.meta().deletion_timestamp.is_some() || subject.status.phase.is_some_and(Phase::finished)
    {
        return Ok(Action::await_change());
    }
    let ns = obj.namespace().unwrap_or_default();
    let (vault, backup_id) = match named(&ctx, &ns, &obj).await? {
        Named::Ready { vault, backup_id } => (vault, backup_id),
        Named::Wait(why) => return drive::wait(&ctx, subject, "BackupNotReady", &why).await,
        Named::Refuse(why) => {
            return drive::refuse(&ctx, subject, None, "InvalidSpec", &why).await;
        }
    };
    let field = if obj.spec.backup_ref.is_some() {
        "spec.backupRef"
    } else {
        "spec.vaultRef"
    };
    let resolved = match source::resolve(&ctx, &ns, "Vault", &vault, field).await? {
        Ok(r) => r,
        Err(why) => return drive::wait(&ctx, subject, "SourceNotReady", &why.to_string()).await,
    };
    let target = target_of(&resolved);
    if let Some(why) = ctx.hub.blocked(&resolved.provider) {
        let message = format!("{} is not Ready: {why}", resolved.provider);
        return drive::wait(&ctx, subject, "ProviderNotReady", &message).await;
    }
    let runtime = ctx.hub.runtime(&resolved.provider).await?;
    let Some(restorer) = runtime.restorer() else {
        let message = match runtime.provider_type() {
            crate::api::ProviderType::CyberBackup => "Cyber Backup 18.5's API has no restore (its document says restore is not in the API yet); restore from the Cyber Backup console".to_string(),
            other => format!("{field}: rampart has no restore at {other:?}"),
        };
        return drive::refuse(&ctx, subject, Some(target), "Unsupported", &message).await;
    };
    let order = RestoreOrder {
        restore: obj.clone(),
        marker: ownership_marker(&ctx.settings.cluster_id, KIND, &ns, &obj.name_any()),
        source: resolved.object,
        source_id: resolved.id,
        backup_id,
    };
    let pace = Pace::for_poll(poll_interval(&ctx, &resolved.provider)?);
    let act = RestoreAct { restorer, order };
    drive::drive(&ctx, subject, target, &act, pace).await
}

/// What the spec names: `vaultRef` with `backupId`, or a Succeeded Backup of a Vault.
async fn named(ctx: &Context, ns: &str, obj: &Restore) -> Result<Named, Error> {
    if let (Some(vault), Some(id)) = (&obj.spec.vault_ref, &obj.spec.backup_id) {
        return Ok(Named::Ready {
            vault: vault.name.clone(),
            backup_id: id.clone(),
        });
    }
    let Some(backup_ref) = &obj.spec.backup_ref else {
        return Ok(Named::Refuse(
            "set exactly one of spec.backupRef or spec.vaultRef with spec.backupId".into(),
        ));
    };
    let key = RefKey {
        kind: "Backup",
        name: backup_ref.name.clone(),
        field: "spec.backupRef",
    };
    let backup = match ctx.lookup.get(ns, &key).await? {
        Some(RefTarget::Object { object, .. }) => object.downcast::<Backup>().ok(),
        _ => None,
    };
    let Some(backup) = backup else {
        return Ok(Named::Wait(format!(
            "spec.backupRef: Backup {} does not exist in this namespace",
            backup_ref.name
        )));
    };
    Ok(of_backup(&backup, obj.spec.backup_id.as_deref()))
}

/// The Vault and backup id of a Backup object (pure).
fn of_backup(backup: &Backup, pick: Option<&str>) -> Named {
    let name = backup.name_any();
    let Some(vault) = &backup.spec.source.vault_ref else {
        return Named::Refuse(format!(
            "spec.backupRef: Backup {name} backs up a Policy or Strategy; restore one of its backups by spec.vaultRef and spec.backupId"
        ));
    };
    let status = backup.status.clone().unwrap_or_default();
    match status.phase {
        Some(Phase::Succeeded) => {}
        Some(Phase::Failed) => {
            return Named::Refuse(format!(
                "spec.backupRef: Backup {name} failed; there is nothing to restore"
            ));
        }
        _ => {
            return Named::Wait(format!(
                "spec.backupRef: Backup {name} has not succeeded yet"
            ));
        }
    }
    let ids = &status.backup_ids;
    let id = match (pick, ids.as_slice()) {
        (Some(p), _) if ids.iter().any(|i| i == p) => p.to_string(),
        (Some(p), _) => {
            return Named::Refuse(format!(
                "spec.backupId: {p} is not one of Backup {name}'s backups ({})",
                ids.join(", ")
            ));
        }
        (None, [one]) => one.clone(),
        (None, []) => {
            return Named::Refuse(format!(
                "spec.backupRef: Backup {name} produced no backup id to restore"
            ));
        }
        (None, _) => {
            return Named::Refuse(format!(
                "spec.backupId: Backup {name} produced several backups ({}); name the one to restore",
                ids.join(", ")
            ));
        }
    };
    Named::Ready {
        vault: vault.name.clone(),
        backup_id: id,
    }
}

struct RestoreAct<'a> {
    restorer: &'a dyn Restorer,
    order: RestoreOrder,
}

#[async_trait]
impl Act for RestoreAct<'_> {
    fn check(&self) -> Result<(), Refusal> {
        self.restorer.check(&self.order)
    }
    async fn start(&self) -> VendorResult<Started> {
        self.restorer.start(&self.order).await
    }
    async fn find(&self, since: Timestamp) -> VendorResult<Option<Started>> {
        self.restorer.find(&self.order, since).await
    }
    async fn progress(&self, started: &Started) -> VendorResult<Progress> {
        self.restorer.progress(&self.order, started).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::LocalObjectRef;

    fn backup(phase: Phase, ids: &[&str]) -> Backup {
        let mut b: Backup = serde_json::from_value(serde_json::json!({
            "apiVersion": "rampart.dev/v1alpha1", "kind": "Backup",
            "metadata": {"name": "b", "namespace": "ns"},
            "spec": {"source": {"vaultRef": {"name": "v"}}}
        }))
        .unwrap();
        b.status = Some(ActionStatus {
            phase: Some(phase),
            backup_ids: ids.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        });
        b
    }

    fn ready(n: Named) -> (String, String) {
        match n {
            Named::Ready { vault, backup_id } => (vault, backup_id),
            Named::Wait(w) => panic!("waits: {w}"),
            Named::Refuse(r) => panic!("refused: {r}"),
        }
    }

    #[test]
    fn a_backup_object_names_its_vault_and_its_one_backup() {
        let b = backup(Phase::Succeeded, &["bk-1"]);
        assert_eq!(ready(of_backup(&b, None)), ("v".into(), "bk-1".into()));
    }

    #[test]
    fn several_backups_need_a_pick_and_the_pick_must_be_one_of_them() {
        let b = backup(Phase::Succeeded, &["bk-1", "bk-2"]);
        assert!(matches!(of_backup(&b, None), Named::Refuse(m) if m.starts_with("spec.backupId")));
        assert_eq!(ready(of_backup(&b, Some("bk-2"))).1, "bk-2");
        assert!(
            matches!(of_backup(&b, Some("other")), Named::Refuse(m) if m.contains("not one of"))
        );
    }

    #[test]
    fn a_backup_still_running_is_waited_for_and_a_failed_one_refused() {
        assert!(matches!(
            of_backup(&backup(Phase::Running, &[]), None),
            Named::Wait(_)
        ));
        assert!(matches!(
            of_backup(&backup(Phase::Failed, &[]), None),
            Named::Refuse(_)
        ));
    }

    #[test]
    fn a_policy_backup_is_not_restored_by_reference() {
        let mut b = backup(Phase::Succeeded, &["x"]);
        b.spec.source.vault_ref = None;
        b.spec.source.policy_ref = Some(LocalObjectRef { name: "p".into() });
        assert!(
            matches!(of_backup(&b, None), Named::Refuse(m) if m.contains("Policy or Strategy"))
        );
    }
}
