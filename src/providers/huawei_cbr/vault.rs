//! `External<Vault>` for CBR: a vault found by id or by its ownership tag in the shared
//! snapshot, created with every create-time field (then the update-only ones), kept in step
//! field by field, with resources added (and removed only with `pruneResources`) and the policy
//! binding following `policyRef`.

use std::sync::Arc;

use async_trait::async_trait;
use kube::ResourceExt;
use tracing::info;

use super::models::Vault;
use super::runtime::CbrShared;
use super::vault_desired::{DesiredVault, OWNER_TAG, observation};
use crate::api::Vault as VaultCr;
use crate::api::vault::VaultObservation;
use crate::api::vendors::huawei_cbr::{CbrResource, CbrVault};
use crate::engine::external::{
    CallContext, Created, Deleted, External, ExternalError, ExternalResult, ExtraCondition,
    Observation, Ownership, Readiness,
};
use crate::engine::hub::downcast;
use crate::engine::refs::RefKey;
use crate::providers::rs_server::{RsServerRuntime, into_external_error};

/// CBR accepts at most 256 resource ids per add/remove call.
const RESOURCE_BATCH: usize = 256;

pub struct CbrVaults {
    shared: Arc<CbrShared>,
}

impl CbrVaults {
    pub fn new(shared: Arc<CbrShared>) -> Self {
        CbrVaults { shared }
    }

    fn spec(cr: &VaultCr) -> ExternalResult<&CbrVault> {
        cr.spec.huawei_cbr.as_ref().ok_or_else(|| {
            ExternalError::invalid("spec.huaweiCbr", "required for a HuaweiCbr provider")
        })
    }

    /// Everything the spec asks for, with `policyRef` and `resourcesFrom` resolved.
    async fn desired<'a>(
        &self,
        cr: &VaultCr,
        spec: &'a CbrVault,
        ctx: &CallContext<'_>,
    ) -> ExternalResult<(DesiredVault<'a>, Vec<CbrResource>)> {
        let policy_id = match &spec.policy_ref {
            Some(r) => {
                let key = RefKey {
                    kind: "Policy",
                    name: r.name.clone(),
                    field: "spec.huaweiCbr.policyRef",
                };
                Some(ctx.refs.external_name(&key)?.to_string())
            }
            None => None,
        };
        let selected = self.selected(cr, spec, ctx).await?;
        let default_name = cr.name_any();
        Ok((
            DesiredVault::new(spec, &default_name, selected.clone(), policy_id),
            selected,
        ))
    }

    /// Resources selected from the RS server inventory, of the type this vault holds.
    async fn selected(
        &self,
        cr: &VaultCr,
        spec: &CbrVault,
        ctx: &CallContext<'_>,
    ) -> ExternalResult<Vec<CbrResource>> {
        let Some(selector) = spec
            .resources_from
            .as_ref()
            .and_then(|r| r.rs_server.as_ref())
        else {
            return Ok(Vec::new());
        };
        let ns = cr.namespace().unwrap_or_default();
        let runtime = ctx
            .hub
            .runtime_for(&ns, &selector.provider_config_ref)
            .await?;
        let rs = downcast::<RsServerRuntime>(&runtime).ok_or_else(|| {
            ExternalError::invalid(
                "spec.huaweiCbr.resourcesFrom.rsServer.providerConfigRef",
                format!(
                    "{} is not an RsServer provider configuration",
                    selector.provider_config_ref.name
                ),
            )
        })?;
        let wanted = spec.object_type.resource_type();
        let resolved = rs.resolve(selector).await.map_err(into_external_error)?;
        Ok(resolved
            .iter()
            .map(|r| r.to_cbr_resource())
            .filter(|r| r.type_ == wanted)
            .collect())
    }

    /// The vault with `id`, or the one carrying this object's ownership tag.
    async fn find(
        &self,
        id: Option<&str>,
        marker: &str,
        fresh: bool,
    ) -> ExternalResult<Option<Vault>> {
        let vaults = self.shared.vaults(fresh).await?;
        match id {
            Some(id) => match vaults.get(id) {
                Some(v) => Ok(Some(v.clone())),
                // Not in the snapshot: adopted by id after the last list, or gone. Ask.
                None => match self.shared.client.get_vault(id).await {
                    Ok(v) => {
                        self.shared.vaults.upsert(v.id.clone(), v.clone());
                        Ok(Some(v))
                    }
                    Err(e) if e.is_not_found() => Ok(None),
                    Err(e) => Err(e.into()),
                },
            },
            None => Ok(vaults
                .values()
                .find(|v| v.tag(OWNER_TAG) == Some(marker))
                .cloned()),
        }
    }
}

fn readiness(v: &Vault) -> Readiness {
    match v.billing.status.as_deref() {
        Some("available") | None => Readiness::Available,
        Some("deleting") => Readiness::Unavailable("the vault is being deleted at CBR".into()),
        Some(other) => {
            let scene = v
                .billing
                .frozen_scene
                .as_deref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default();
            Readiness::Unavailable(format!("CBR reports the vault as {other}{scene}"))
        }
    }
}

#[async_trait]
impl External<VaultCr> for CbrVaults {
    async fn observe(
        &self,
        cr: &VaultCr,
        id: Option<&str>,
        ctx: &CallContext<'_>,
    ) -> ExternalResult<Observation<VaultObservation>> {
        let spec = Self::spec(cr)?;
        let Some(vault) = self.find(id, ctx.marker, ctx.fresh).await? else {
            return Ok(Observation {
                exists: false,
                ..Default::default()
            });
        };
        let (desired, selected) = self.desired(cr, spec, ctx).await?;
        let bindings = self.shared.bindings().await?;
        let bound = bindings.get(&vault.id).map(String::as_str);
        let unmanaged = desired.unmanaged(&vault);
        let mut conditions = Vec::new();
        if !spec.prune_resources {
            conditions.push(ExtraCondition {
                type_: "ResourcesNotPruned",
                status: !unmanaged.is_empty(),
                reason: if unmanaged.is_empty() { "NoneExtra" } else { "PruneDisabled" },
                message: if unmanaged.is_empty() {
                    "every resource in the vault is listed or selected".into()
                } else {
                    format!(
                        "{} resource(s) in the vault are neither listed nor selected and were kept because pruneResources is false (removing them deletes their backups): {}",
                        unmanaged.len(),
                        unmanaged.join(", ")
                    )
                },
            });
        }
        Ok(Observation {
            exists: true,
            external_name: (id.is_none()).then(|| vault.id.clone()),
            drift: desired.drift(&vault, bound),
            readiness: readiness(&vault),
            desired_hash: desired.write_only_hash(),
            at_provider: observation(&vault, bound, unmanaged, &selected),
            conditions,
            ownership: match vault.tag(OWNER_TAG) {
                Some(m) if m == ctx.marker => Ownership::Marked,
                Some(_) => Ownership::OtherMarker,
                None => Ownership::Unmarked,
            },
        })
    }

    async fn create(&self, cr: &VaultCr, ctx: &CallContext<'_>) -> ExternalResult<Created> {
        let spec = Self::spec(cr)?;
        let (desired, _) = self.desired(cr, spec, ctx).await?;
        let request = desired.create_request(ctx.marker);
        let mut vault = self.shared.client.create_vault(&request).await?;
        info!(vault = %vault.id, "created CBR vault");
        // autoExpand, smnNotify and threshold can only be set by an update.
        let follow_up = desired.update_request(&vault, desired.write_only_hash().is_some());
        if !follow_up.is_empty() {
            vault = self
                .shared
                .client
                .update_vault(&vault.id, &follow_up)
                .await?;
        }
        if let Some(p) = &desired.policy_id {
            let policies = self.shared.policies(false).await?;
            self.shared.record_binding(&policies, &vault.id, p, true);
        }
        self.shared.vaults.upsert(vault.id.clone(), vault.clone());
        Ok(Created {
            external_name: vault.id,
        })
    }

    async fn update(
        &self,
        cr: &VaultCr,
        id: &str,
        _observed: &Observation<VaultObservation>,
        ctx: &CallContext<'_>,
    ) -> ExternalResult<()> {
        let spec = Self::spec(cr)?;
        let Some(mut vault) = self.find(Some(id), ctx.marker, false).await? else {
            return Err(ExternalError::waiting(format!(
                "vault {id} disappeared during the update"
            )));
        };
        let (desired, _) = self.desired(cr, spec, ctx).await?;
        let write_only = desired.write_only_hash().is_some()
            && desired.write_only_hash().as_deref() != ctx.last_applied_hash;
        let put = desired.update_request(&vault, write_only);
        if !put.is_empty() {
            vault = self.shared.client.update_vault(id, &put).await?;
        }
        let add = desired.to_add(&vault);
        for batch in add.chunks(RESOURCE_BATCH) {
            self.shared.client.add_resources(id, batch).await?;
        }
        let remove = if spec.prune_resources {
            desired.unmanaged(&vault)
        } else {
            Vec::new()
        };
        for batch in remove.chunks(RESOURCE_BATCH) {
            self.shared.client.remove_resources(id, batch).await?;
        }
        if !add.is_empty() || !remove.is_empty() {
            vault = self.shared.client.get_vault(id).await?;
        }
        let policies = self.shared.policies(false).await?;
        let bound = self.shared.bindings().await?.get(id).cloned();
        if bound != desired.policy_id {
            if let Some(old) = &bound {
                match self.shared.client.dissociate_policy(id, old).await {
                    Ok(_) => {}
                    Err(e) if e.is_not_found() => {}
                    Err(e) => return Err(e.into()),
                }
                self.shared.record_binding(&policies, id, old, false);
            }
            if let Some(new) = &desired.policy_id {
                self.shared.client.associate_policy(id, new).await?;
                let policies = self.shared.policies(false).await?;
                self.shared.record_binding(&policies, id, new, true);
            }
        }
        self.shared.vaults.upsert(id.to_string(), vault);
        Ok(())
    }

    async fn delete(
        &self,
        _cr: &VaultCr,
        id: &str,
        _ctx: &CallContext<'_>,
    ) -> ExternalResult<Deleted> {
        let current = match self.shared.client.get_vault(id).await {
            Ok(v) => v,
            Err(e) if e.is_not_found() => {
                self.shared.vaults.remove(id);
                return Ok(Deleted::Gone);
            }
            Err(e) => return Err(e.into()),
        };
        if current.billing.status.as_deref() != Some("deleting") {
            match self.shared.client.delete_vault(id).await {
                Ok(()) => info!(vault = %id, "deleted CBR vault"),
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e.into()),
            }
        }
        // Deletion may finish asynchronously (a vault_delete task); report until it is gone.
        match self.shared.client.get_vault(id).await {
            Err(e) if e.is_not_found() => {
                self.shared.vaults.remove(id);
                Ok(Deleted::Gone)
            }
            Ok(_) => Ok(Deleted::InProgress),
            Err(e) => Err(e.into()),
        }
    }
}
