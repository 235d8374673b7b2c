//! `External<Vault>`: a backup destination. Cyber Backup has no vault object; what it holds is
//! the credentials record rampart registers (`/credentials`, whose id is the external name),
//! and, read-only, the archives and backups stored at the location. A Vault without
//! credentials has nothing at the vendor: its external name is the location's name.

use std::sync::Arc;

use async_trait::async_trait;
use hmac::{KeyInit, Mac};
use reqwest::Method;
use serde_json::json;

use super::catalog::Catalog;
use super::filter::Query;
use super::location::location_name;
use super::models::{CreatedId, Credentials};
use super::{VENDOR, client};
use crate::api::Vault;
use crate::api::common::Drift;
use crate::api::vault::VaultObservation;
use crate::api::vendors::cyberbackup::{CyberBackupCredentialsScope, CyberBackupVault};
use crate::engine::external::{
    CallContext, Created, Deleted, External, ExternalError, ExternalResult, Observation, Readiness,
};
use crate::engine::hub::{CredentialSet, SecretString};

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
        // Without an id there is nothing to find: the credentials API has no list call.
        let Some(id) = id else {
            return Ok(Observation {
                exists: false,
                desired_hash,
                ..Default::default()
            });
        };
        let record = match b.credentials_secret_ref {
            Some(_) => match self.registered(id, ctx).await? {
                Some(r) => Some(r),
                None => {
                    return Ok(Observation {
                        exists: false,
                        desired_hash,
                        ..Default::default()
                    });
                }
            },
            None => None,
        };
        let mut at = VaultObservation {
            id: Some(id.to_string()),
            name: Some(name.clone()),
            state: Some("Available".into()),
            ..Default::default()
        };
        let mut drift = Vec::new();
        if let Some(r) = &record {
            at.state = Some("Registered".into());
            at.details.insert("credentialsId".into(), r.id.clone());
            at.details
                .insert("credentialsScope".into(), r.scope.type_.clone());
            let want = scope_json(b.credentials_scope.as_ref());
            let have = json!({"type": r.scope.type_, "subtype": r.scope.subtype.clone().unwrap_or_default()});
            if want != have {
                drift.push(Drift {
                    field: SCOPE_FIELD.into(),
                    desired: want.to_string(),
                    observed: have.to_string(),
                });
            }
        }
        self.stats(&name, ctx, &mut at).await?;
        let readiness = match (&b.credentials_secret_ref, &desired_hash) {
            (Some(r), None) if cr.metadata.deletion_timestamp.is_none() => {
                Readiness::Unavailable(format!(
                    "{SECRET_FIELD}: Secret {} is missing or lacks identity/secret",
                    r.name
                ))
            }
            _ => Readiness::Available,
        };
        Ok(Observation {
            exists: true,
            external_name: None,
            drift,
            at_provider: at,
            readiness,
            desired_hash,
            conditions: Vec::new(),
            ..Observation::default()
        })
    }

    async fn create(&self, cr: &Vault, ctx: &CallContext<'_>) -> ExternalResult<Created> {
        let b = block(cr)?;
        let object_name = cr.metadata.name.as_deref().unwrap_or_default();
        let Some(secret_ref) = &b.credentials_secret_ref else {
            return Ok(Created {
                external_name: location_name(b, object_name),
            });
        };
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
        let resp = self
            .catalog
            .client
            .send_json(
                "POST /credentials",
                Method::POST,
                "/credentials".into(),
                &body,
            )
            .await?;
        let created: CreatedId = client::decode("POST /credentials", &resp.body)?;
        tracing::info!(vendor = VENDOR, namespace, name = object_name, credentials = %created.id, "registered destination credentials");
        let record = Credentials {
            id: created.id.clone(),
            scope: serde_json::from_value(body["scope"].clone()).unwrap_or_default(),
            description: None,
        };
        self.catalog.remember_credentials(&created.id, Some(record));
        Ok(Created {
            external_name: created.id,
        })
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
        let rotated = ctx.last_applied_hash.is_some()
            && observed.desired_hash.as_deref() != ctx.last_applied_hash;
        let scope_changed = observed.drift.iter().any(|d| d.field == SCOPE_FIELD);
        if !rotated && !scope_changed {
            // Adopted by external name: Cyber Backup never shows a registered secret, so the
            // record is taken as matching the Secret.
            return Ok(());
        }
        // Cyber Backup cannot change a credentials record: remove it, and the next observe
        // finds it gone and registers the Secret anew (plans follow the new id).
        tracing::info!(vendor = VENDOR, namespace = ?cr.metadata.namespace, name = ?cr.metadata.name, credentials = id, rotated, scope_changed, "replacing destination credentials");
        self.delete(cr, id, ctx).await?;
        Ok(())
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
