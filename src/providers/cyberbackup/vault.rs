//! `External<Vault>`: a backup destination. Cyber Backup has no vault object; what it holds is
//! the credentials record rampart registers (`/credentials`, whose id is the external name),
//! and, read-only, the archives and backups stored at the location. A Vault without
//! credentials has nothing at the vendor: its external name is the location's name.
//!
//! A changed Secret or scope replaces the record (`rotation`): register the new one, move every
//! plan that names the old one, delete the old one. The Vault reports the new id as its
//! external name, and a `CredentialsReplaced` condition says what was replaced.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use hmac::{KeyInit, Mac};
use serde_json::json;

use super::backup_runs::PlanBackups;
use super::catalog::Catalog;
use super::filter::Query;
use super::location::location_name;
use super::location_runs::location_runs;
use super::models::{CreatedId, Credentials, Scope, plan_id};
use super::registration;
use super::rotation::{Cause, Replacement};
use super::{VENDOR, client};
use crate::api::Vault;
use crate::api::common::Drift;
use crate::api::vault::VaultObservation;
use crate::api::vendors::cyberbackup::{CyberBackupCredentialsScope, CyberBackupVault};
use crate::engine::external::{
    CallContext, Created, Deleted, External, ExternalError, ExternalResult, ExtraCondition,
    Observation, Readiness,
};
use crate::engine::hub::{CredentialSet, SecretString};
use crate::vendor::error::VendorResult;

pub const SECRET_FIELD: &str = "spec.cyberBackup.credentialsSecretRef";
const SCOPE_FIELD: &str = "spec.cyberBackup.credentialsScope";

pub struct VaultAdapter {
    pub catalog: Arc<Catalog>,
}

fn block(v: &Vault) -> ExternalResult<&CyberBackupVault> {
    v.spec.cyber_backup.as_ref().ok_or_else(|| {
        ExternalError::invalid(
            "spec.cyberBackup",
            "a Cyber Backup provider needs the cyberBackup block",
        )
    })
}

/// `scope` as sent and as compared: type and subtype, subtype `""` when unset.
pub fn scope_json(scope: Option<&CyberBackupCredentialsScope>) -> serde_json::Value {
    let s = scope.cloned().unwrap_or_default();
    json!({"type": s.type_, "subtype": s.subtype.unwrap_or_default()})
}

/// The identity and secret a Secret holds: `identity`/`secret` as the credentials API names
/// them, or `username`/`password`.
fn identity_and_secret(c: &CredentialSet) -> Result<(&SecretString, &SecretString), String> {
    let pick = |a: &str, b: &str| c.get(a).or_else(|| c.get(b));
    match (pick("identity", "username"), pick("secret", "password")) {
        (Some(i), Some(s)) => Ok((i, s)),
        _ => Err(format!(
            "Secret {} needs the keys identity and secret (or username and password)",
            c.source
        )),
    }
}

/// Hash of what was registered, keyed so that status readers cannot test passwords against it.
pub fn credentials_hash(
    key: &SecretString,
    identity: &SecretString,
    secret: &SecretString,
    scope: &serde_json::Value,
) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key.expose().as_bytes())
        .expect("HMAC takes any key length");
    for part in [identity.expose(), secret.expose(), &scope.to_string()] {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part.as_bytes());
    }
    hex::encode(&mac.finalize().into_bytes()[..16])
}

/// What the last replacement of this Vault's record was, as a condition.
fn replaced_condition(rep: &Replacement) -> ExtraCondition {
    ExtraCondition {
        type_: "CredentialsReplaced",
        status: true,
        reason: rep.cause.reason(),
        message: format!(
            "credentials record {} was replaced by {} because {}; {} plan(s) moved to it{}",
            rep.old,
            rep.new,
            rep.cause.describe(),
            rep.plans,
            if rep.retired {
                ", and the old record is deleted".to_string()
            } else if rep.held_by.is_empty() {
                "; the old record is deleted once no plan names it".to_string()
            } else {
                format!(
                    "; the old record is kept because plans rampart does not manage still name it ({}): move them, and rampart deletes it",
                    rep.held_by.join(", ")
                )
            }
        ),
    }
}

impl VaultAdapter {
    fn secret<'c>(
        &self,
        b: &CyberBackupVault,
        ctx: &'c CallContext<'_>,
    ) -> Option<&'c CredentialSet> {
        b.credentials_secret_ref
            .as_ref()
            .and_then(|r| ctx.refs.secret(&r.name))
    }

    fn desired_hash(&self, b: &CyberBackupVault, ctx: &CallContext<'_>) -> Option<String> {
        let (identity, secret) = identity_and_secret(self.secret(b, ctx)?).ok()?;
        Some(credentials_hash(
            &self.catalog.hash_key,
            identity,
            secret,
            &scope_json(b.credentials_scope.as_ref()),
        ))
    }

    /// The registered record when the Vault has credentials; `Ok(None)` when it is gone.
    async fn registered(
        &self,
        id: &str,
        ctx: &CallContext<'_>,
    ) -> ExternalResult<Option<Credentials>> {
        Ok(self.catalog.credentials(id, ctx.fresh).await?)
    }

    /// Whether the record holds an older version of the Secret than the spec's: what this
    /// runtime registered under `id` is known; otherwise the record holds what was last applied
    /// (nothing to compare with after an adoption).
    fn holds_older_secret(&self, id: &str, desired: Option<&str>, ctx: &CallContext<'_>) -> bool {
        let holds = self
            .catalog
            .rotations
            .hash_of(id)
            .or_else(|| ctx.last_applied_hash.map(str::to_string));
        matches!((desired, holds), (Some(want), Some(have)) if want != have)
    }

    /// What this runtime knows of a record it registered: its scope, and which version of the
    /// Secret it holds.
    fn note_registration(
        &self,
        b: &CyberBackupVault,
        ctx: &CallContext<'_>,
        id: &str,
        scope: Scope,
    ) {
        let record = Credentials {
            id: id.to_string(),
            scope,
            description: None,
        };
        self.catalog.remember_credentials(id, Some(record));
        self.catalog
            .rotations
            .registered(id, self.desired_hash(b, ctx));
    }

    /// Register the Secret's credentials (`POST /credentials`); the new record's id. The
    /// answer is never lost (see `registration`): one that comes after this pass stopped
    /// waiting is taken by the next.
    async fn register(&self, cr: &Vault, ctx: &CallContext<'_>) -> ExternalResult<String> {
        let b = block(cr)?;
        let object_name = cr.metadata.name.as_deref().unwrap_or_default();
        let secret_ref = b.credentials_secret_ref.as_ref().ok_or_else(|| {
            ExternalError::invalid(SECRET_FIELD, "the Vault has no credentials to register")
        })?;
        let set = ctx.refs.secret(&secret_ref.name).ok_or_else(|| {
            ExternalError::waiting(format!(
                "{SECRET_FIELD}: Secret {} not found",
                secret_ref.name
            ))
        })?;
        let (identity, secret) =
            identity_and_secret(set).map_err(|m| ExternalError::invalid(SECRET_FIELD, m))?;
        let namespace = cr.metadata.namespace.as_deref().unwrap_or_default();
        let body = json!({
            "scope": scope_json(b.credentials_scope.as_ref()),
            // The marker lets a human find a record orphaned by a crash (there is no list call).
            "description": format!("rampart {namespace}/{object_name} [rampart:{}]", ctx.marker),
            "identity": identity.expose(),
            "secret": secret.expose(),
        });
        let scope = serde_json::from_value(body["scope"].clone()).unwrap_or_default();
        let catalog = self.catalog.clone();
        let post = async move {
            let resp = catalog
                .client
                .post_patiently(
                    "POST /credentials",
                    "/credentials".into(),
                    &body,
                    registration::PATIENCE,
                )
                .await?;
            let created: CreatedId = client::decode("POST /credentials", &resp.body)?;
            Ok(created.id.to_ascii_lowercase())
        };
        let wait = self.catalog.client.request_timeout();
        let id = self
            .catalog
            .registrations
            .register(ctx.marker, wait, post)
            .await?;
        tracing::info!(vendor = VENDOR, namespace, name = object_name, credentials = %id, "registered destination credentials");
        self.note_registration(b, ctx, &id, scope);
        Ok(id)
    }

    /// Move every plan of rampart's that names the replaced record to the new one, then delete
    /// the replaced record: in this order no plan ever names a record that is gone. A plan that
    /// is not rampart's (no `[rampart:` marker in its name) is never written: while one still
    /// names the old record, the record stays, and the condition names the plans.
    async fn retire(&self, cr: &Vault, rep: &Replacement) -> ExternalResult<()> {
        let plans = self.catalog.plans(true).await?;
        let (naming, others): (Vec<_>, Vec<_>) = plans
            .values()
            .filter(|p| {
                p.settings
                    .pointer("/destination/location/settings/credentials")
                    .and_then(serde_json::Value::as_str)
                    .is_some_and(|c| c.eq_ignore_ascii_case(&rep.old))
            })
            .cloned()
            .partition(|p| p.name.contains("[rampart:"));
        for mut plan in naming {
            let pid = plan_id(&plan.id);
            // The plan's own destination section with only the record changed: it lands the
            // same whether the server merges or replaces sections.
            let mut destination = plan.settings["destination"].clone();
            destination["location"]["settings"]["credentials"] = json!(rep.new);
            let body = json!({"subject": {"policy": [{"settings": {"destination": destination}}]}});
            self.catalog.patch_plan(&pid, &body).await?;
            plan.settings["destination"] = destination;
            self.catalog.upsert_plan(plan);
            self.catalog.rotations.progress(&rep.new, 1, false);
        }
        if !others.is_empty() {
            let ids: Vec<String> = others.iter().map(|p| plan_id(&p.id)).collect();
            tracing::warn!(vendor = VENDOR, namespace = ?cr.metadata.namespace, name = ?cr.metadata.name, old = %rep.old, plans = ?ids, "kept the replaced credentials record: plans rampart does not own still name it");
            self.catalog.rotations.hold(&rep.new, ids);
            return Ok(());
        }
        self.remove_record(&rep.old).await?;
        self.catalog.rotations.progress(&rep.new, 0, true);
        tracing::info!(vendor = VENDOR, namespace = ?cr.metadata.namespace, name = ?cr.metadata.name, old = %rep.old, new = %rep.new, "retired the replaced destination credentials");
        Ok(())
    }

    /// `DELETE /credentials/{id}`; a record already gone is fine.
    async fn remove_record(&self, id: &str) -> ExternalResult<()> {
        match self
            .catalog
            .client
            .delete(
                "DELETE /credentials/{id}",
                format!("/credentials/{id}"),
                &Query::new(),
            )
            .await
        {
            Ok(_) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e.into()),
        }
        self.catalog.remember_credentials(id, None);
        Ok(())
    }

    async fn stats(
        &self,
        name: &str,
        ctx: &CallContext<'_>,
        obs: &mut VaultObservation,
    ) -> ExternalResult<()> {
        let archives = self.catalog.archives(ctx.fresh).await?;
        let Some(a) = archives.get(name) else {
            obs.backup_count = Some(0);
            return Ok(());
        };
        let backups = self.catalog.backups(ctx.fresh).await?;
        let b = backups.get(&a.vault_id).cloned().unwrap_or_default();
        obs.backup_count = Some(b.backups.try_into().unwrap_or(i32::MAX));
        obs.used_mb = Some(a.bytes / (1024 * 1024));
        obs.last_backup = b.last_backup.or_else(|| a.last_backup.clone());
        obs.details.insert("vaultId".into(), a.vault_id.clone());
        obs.details
            .insert("archiveCount".into(), a.archives.to_string());
        obs.details
            .insert("archiveBytes".into(), a.bytes.to_string());
        if let Some(t) = &a.storage_type {
            obs.details.insert("reportedStorageType".into(), t.clone());
        }
        Ok(())
    }
}

#[async_trait]
impl External<Vault> for VaultAdapter {
    async fn observe(
        &self,
        cr: &Vault,
        id: Option<&str>,
        ctx: &CallContext<'_>,
    ) -> ExternalResult<Observation<VaultObservation>> {
        let b = block(cr)?;
        let object_name = cr.metadata.name.as_deref().unwrap_or_default();
        let name = location_name(b, object_name);
        let desired_hash = self.desired_hash(b, ctx);
        // Without an id there is nothing to find (the credentials API has no list call), but
        // this object's own registration answered after its pass stopped waiting.
        let late = match id {
            None if b.credentials_secret_ref.is_some() => {
                self.catalog.registrations.late_answer(ctx.marker)
            }
            Some(id) => {
                self.catalog.registrations.taken(ctx.marker, id);
                None
            }
            None => None,
        };
        if let Some(late) = &late {
            let scope = serde_json::from_value(scope_json(b.credentials_scope.as_ref()));
            self.note_registration(b, ctx, late, scope.unwrap_or_default());
        }
        let Some(given) = id.or(late.as_deref()) else {
            return Ok(Observation {
                exists: false,
                desired_hash,
                ..Default::default()
            });
        };
        let gone = || Observation {
            exists: false,
            desired_hash: desired_hash.clone(),
            ..Default::default()
        };
        // With credentials, the record that stands for `given` now (this runtime may have
        // replaced it); without, the location's name.
        let (id, record) = match b.credentials_secret_ref {
            Some(_) => {
                let id = self.catalog.rotations.current(given);
                match self.registered(&id, ctx).await? {
                    Some(r) => (id, Some(r)),
                    None => return Ok(gone()),
                }
            }
            None => (given.to_string(), None),
        };
        let mut at = VaultObservation {
            id: Some(id.clone()),
            name: Some(name.clone()),
            state: Some("Available".into()),
            ..Default::default()
        };
        let mut drift = Vec::new();
        let mut conditions = Vec::new();
        let mut unusable = None;
        if let Some(r) = &record {
            at.state = Some("Registered".into());
            at.details.insert("credentialsId".into(), r.id.clone());
            at.details
                .insert("credentialsScope".into(), r.scope.type_.clone());
            let want = scope_json(b.credentials_scope.as_ref());
            let have = json!({"type": r.scope.type_, "subtype": r.scope.subtype.clone().unwrap_or_default()});
            if want != have {
                unusable = Some(format!(
                    "credentials record {id} has scope {have}, not the {want} this destination needs"
                ));
                drift.push(Drift {
                    field: SCOPE_FIELD.into(),
                    desired: want.to_string(),
                    observed: have.to_string(),
                });
            }
            if self.holds_older_secret(&id, desired_hash.as_deref(), ctx) {
                unusable.get_or_insert_with(|| {
                    format!("credentials record {id} holds an earlier version of the Secret")
                });
            }
            if let Some(rep) = self.catalog.rotations.made(&id) {
                at.details
                    .insert("replacedCredentials".into(), rep.old.clone());
                conditions.push(replaced_condition(&rep));
                if !rep.retired {
                    drift.push(Drift {
                        field: SECRET_FIELD.into(),
                        desired: format!("plans name {id} and record {} is deleted", rep.old),
                        observed: format!("record {} is not retired yet", rep.old),
                    });
                }
            }
        }
        self.stats(&name, ctx, &mut at).await?;
        let readiness = match (&b.credentials_secret_ref, &desired_hash, unusable) {
            _ if cr.metadata.deletion_timestamp.is_some() => Readiness::Available,
            (Some(r), None, _) => Readiness::Unavailable(format!(
                "{SECRET_FIELD}: Secret {} is missing or lacks identity/secret",
                r.name
            )),
            (_, _, Some(why)) => Readiness::Unavailable(why),
            _ => Readiness::Available,
        };
        Ok(Observation {
            exists: true,
            external_name: (late.is_some() || id != given).then(|| id.clone()),
            drift,
            at_provider: at,
            readiness,
            desired_hash,
            conditions,
            ..Observation::default()
        })
    }

    async fn create(&self, cr: &Vault, ctx: &CallContext<'_>) -> ExternalResult<Created> {
        let b = block(cr)?;
        let object_name = cr.metadata.name.as_deref().unwrap_or_default();
        if b.credentials_secret_ref.is_none() {
            return Ok(Created {
                external_name: location_name(b, object_name),
            });
        }
        Ok(Created {
            external_name: self.register(cr, ctx).await?,
        })
    }

    /// The destination's runs, from listings shared by every Vault and Policy of the provider
    /// configuration (once per poll, indexed once per listing; see `location_runs`): the
    /// backups held in the archives stored at the location, whatever plan made them, and the
    /// runs going or failed of the plans whose destination it is now (their applications, and
    /// the failed task's message). The applications and tasks are read only when some plan
    /// writes here.
    ///
    /// No schedule: a destination has none of its own, and a Cyber Backup Vault does not name
    /// the Policies that write to it (they name it), so no one Policy's schedule can be found
    /// through `ctx.refs`. The results are judged (no backups yet, the newest run succeeded or
    /// failed); a missed run is the Policy's to report.
    async fn backups(
        &self,
        cr: &Vault,
        _id: &str,
        ctx: &CallContext<'_>,
    ) -> Option<crate::health::BackupReport> {
        let b = block(cr).ok()?;
        let location = location_name(b, cr.metadata.name.as_deref().unwrap_or_default());
        let read = async {
            let index = self.catalog.location_backups(ctx.fresh).await?;
            if index.writers(&location).is_empty() {
                // No plan writes here: only the archives speak.
                let (apps, plans) = (BTreeMap::new(), PlanBackups::default());
                return VendorResult::Ok(location_runs(&location, &index, &apps, &plans));
            }
            let apps = self.catalog.applications(ctx.fresh).await?;
            let plans = self.catalog.plan_backups(ctx.fresh).await?;
            Ok(location_runs(&location, &index, &apps, &plans))
        };
        Some(crate::health::BackupReport::from_listing(read.await, None))
    }

    async fn update(
        &self,
        cr: &Vault,
        id: &str,
        observed: &Observation<VaultObservation>,
        ctx: &CallContext<'_>,
    ) -> ExternalResult<()> {
        let b = block(cr)?;
        if b.credentials_secret_ref.is_none() {
            return Ok(());
        }
        let current = self.catalog.rotations.current(id);
        if let Some(rep) = self.catalog.rotations.made(&current).filter(|r| !r.retired) {
            // A replacement that stopped half way (a plan write failed): finish it.
            return self.retire(cr, &rep).await;
        }
        let rotated = self.holds_older_secret(&current, observed.desired_hash.as_deref(), ctx);
        let scope_changed = observed.drift.iter().any(|d| d.field == SCOPE_FIELD);
        if !rotated && !scope_changed {
            // Adopted by external name: Cyber Backup never shows a registered secret, so the
            // record is taken as matching the Secret.
            return Ok(());
        }
        let cause = if rotated {
            Cause::SecretChanged
        } else {
            Cause::ScopeChanged
        };
        // The new record first, so that there is always one for plans to name.
        let new = self.register(cr, ctx).await?;
        self.catalog.rotations.begin(&current, &new, cause);
        tracing::info!(vendor = VENDOR, namespace = ?cr.metadata.namespace, name = ?cr.metadata.name, old = %current, new = %new, cause = cause.describe(), "replacing destination credentials");
        let rep = self.catalog.rotations.made(&new).expect("begun above");
        self.retire(cr, &rep).await
    }

    async fn delete(
        &self,
        cr: &Vault,
        id: &str,
        _ctx: &CallContext<'_>,
    ) -> ExternalResult<Deleted> {
        if block(cr)?.credentials_secret_ref.is_none() {
            return Ok(Deleted::Gone);
        }
        self.remove_record(&self.catalog.rotations.current(id))
            .await?;
        Ok(Deleted::Gone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_changes_with_each_part_and_the_key_and_hides_the_secret() {
        let s = SecretString::new;
        let scope = scope_json(None);
        let h = credentials_hash(&s("k"), &s("user"), &s("pass"), &scope);
        assert_eq!(h.len(), 32);
        assert!(!h.contains("pass"));
        assert_eq!(h, credentials_hash(&s("k"), &s("user"), &s("pass"), &scope));
        assert_ne!(
            h,
            credentials_hash(&s("k2"), &s("user"), &s("pass"), &scope)
        );
        assert_ne!(
            h,
            credentials_hash(&s("k"), &s("user"), &s("pass2"), &scope)
        );
        assert_ne!(
            h,
            credentials_hash(&s("k"), &s("userp"), &s("ass"), &scope),
            "parts are length-prefixed"
        );
        assert_ne!(
            h,
            credentials_hash(
                &s("k"),
                &s("user"),
                &s("pass"),
                &json!({"type": "share", "subtype": "smb"})
            )
        );
    }

    #[test]
    fn the_scope_defaults_to_a_local_folder() {
        assert_eq!(scope_json(None), json!({"type": "folder", "subtype": ""}));
    }

    #[test]
    fn either_key_spelling_is_read() {
        let set = |pairs: &[(&str, &str)]| CredentialSet {
            source: "ns/s".into(),
            values: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), SecretString::new(*v)))
                .collect(),
        };
        assert!(identity_and_secret(&set(&[("identity", "u"), ("secret", "p")])).is_ok());
        assert!(identity_and_secret(&set(&[("username", "u"), ("password", "p")])).is_ok());
        let e = identity_and_secret(&set(&[("username", "u")])).unwrap_err();
        assert!(e.contains("ns/s"));
    }
}
