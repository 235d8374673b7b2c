//! `External<Vault>` for CBR: a vault found by id or by its ownership tag in the shared
//! snapshot, created with every create-time field (then the update-only ones), kept in step
//! field by field, with the policy binding following `policyRef`. Resources go in with partial
//! progress (`vault_resources`: batches, and resources another vault holds left out and
//! named), and leave only with `pruneResources`, when two listings agree and within
//! `maxPrunePercent` or confirmed (`vault_prune`).

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use jiff::Timestamp;
use kube::ResourceExt;
use serde_json::json;
use tracing::{info, warn};

use super::models::{ResourceCreate, Vault};
use super::refusal::{ADD_CHECKS, CREATE_CHECKS, UPDATE_CHECKS, explain};
use super::runtime::CbrShared;
use super::vault_desired::{DesiredVault, OWNER_TAG, observation};
use super::vault_prune::{self, CONFIRM_PRUNE, DEFAULT_MAX_PRUNE_PERCENT, PruneInput, PrunePlan};
use super::vault_resources::{
    Added, BATCH_LIMIT, add_isolating, in_another_vault, split_for_create,
};
use crate::api::vault::{ResourceElsewhere, VaultObservation};
use crate::api::vendors::huawei_cbr::{CbrResource, CbrVault};
use crate::api::{Policy as PolicyCr, Vault as VaultCr};
use crate::engine::external::{
    CallContext, Created, Deleted, External, ExternalError, ExternalResult, ExtraCondition,
    Observation, Ownership, Readiness,
};
use crate::engine::hub::downcast;
use crate::engine::refs::RefKey;
use crate::health::BackupReport;
use crate::providers::rs_server::{RsServerRuntime, into_external_error};

pub struct CbrVaults {
    shared: Arc<CbrShared>,
}

/// What the spec asks for against what CBR holds, before any decision.
struct Assessment<'a> {
    desired: DesiredVault<'a>,
    /// What `resourcesFrom` selected.
    selected: Vec<CbrResource>,
    /// When the listing behind `desired` was taken (now, without an inventory).
    listed_at: Timestamp,
    /// Wanted resources another vault holds: left out.
    elsewhere: Vec<ResourceElsewhere>,
}

impl Assessment<'_> {
    fn elsewhere_ids(&self) -> BTreeSet<String> {
        self.elsewhere.iter().map(|r| r.id.clone()).collect()
    }
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

    /// Everything the spec asks for, with `policyRef` and `resourcesFrom` resolved, and which
    /// of it another vault holds. `vault` is this object's vault, once it exists.
    async fn assess<'a>(
        &self,
        cr: &VaultCr,
        spec: &'a CbrVault,
        vault: Option<&Vault>,
        ctx: &CallContext<'_>,
    ) -> ExternalResult<Assessment<'a>> {
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
        let (selected, listed_at) = self.selected(cr, spec, ctx).await?;
        let desired = DesiredVault::new(spec, &cr.name_any(), selected.clone(), policy_id);
        let elsewhere = self.elsewhere(&desired, vault).await?;
        Ok(Assessment {
            desired,
            selected,
            listed_at,
            elsewhere,
        })
    }

    /// Wanted resources not in `vault` that the vault listing shows in another vault, or that
    /// CBR recently refused for it (6103) without the listing showing where they are.
    async fn elsewhere(
        &self,
        desired: &DesiredVault<'_>,
        vault: Option<&Vault>,
    ) -> ExternalResult<Vec<ResourceElsewhere>> {
        let holders = self.shared.holders().await?;
        let this = vault.map(|v| v.id.as_str());
        let have: BTreeSet<&str> = vault
            .iter()
            .flat_map(|v| v.resources.iter().map(|r| r.id.as_str()))
            .collect();
        let refused = this
            .map(|id| self.shared.recently_refused(id))
            .unwrap_or_default();
        Ok(desired
            .resources
            .keys()
            .filter(|id| !have.contains(id.as_str()))
            .filter_map(|id| match holders.get(id) {
                Some(h) if Some(h.vault_id.as_str()) != this => Some(ResourceElsewhere {
                    id: id.clone(),
                    vault_id: Some(h.vault_id.clone()),
                    vault_name: Some(h.vault_name.clone()),
                }),
                _ if refused.contains(id) => Some(ResourceElsewhere {
                    id: id.clone(),
                    vault_id: None,
                    vault_name: None,
                }),
                _ => None,
            })
            .collect())
    }

    /// Resources selected from the RS server inventory, of the type this vault holds, and when
    /// they were listed. Without an inventory the spec is the listing, read now.
    async fn selected(
        &self,
        cr: &VaultCr,
        spec: &CbrVault,
        ctx: &CallContext<'_>,
    ) -> ExternalResult<(Vec<CbrResource>, Timestamp)> {
        let Some(selector) = spec
            .resources_from
            .as_ref()
            .and_then(|r| r.rs_server.as_ref())
        else {
            return Ok((Vec::new(), Timestamp::now()));
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
        let listing = rs
            .resolve_listing(selector)
            .await
            .map_err(into_external_error)?;
        let selected = listing
            .resources
            .iter()
            .map(|r| r.to_cbr_resource())
            .filter(|r| r.type_ == wanted)
            .collect();
        Ok((selected, listing.listed_at))
    }

    /// What may leave the vault now, from this listing and what status remembers of earlier
    /// ones (for this vault: a re-created vault starts over).
    fn prune_plan(
        &self,
        cr: &VaultCr,
        spec: &CbrVault,
        vault: &Vault,
        listed_at: Timestamp,
        unwanted: &[String],
    ) -> PrunePlan {
        let remembered = cr
            .status
            .as_ref()
            .and_then(|s| s.at_provider.as_ref())
            .filter(|a| a.id.as_deref() == Some(vault.id.as_str()))
            .map(|a| a.pending_removals.as_slice())
            .unwrap_or_default();
        vault_prune::plan(&PruneInput {
            in_vault: vault.resources.len(),
            unwanted,
            remembered,
            listed_at,
            poll_interval: self.shared.poll_interval,
            max_percent: max_percent(spec),
            confirmation: cr.annotations().get(CONFIRM_PRUNE).map(String::as_str),
        })
    }

    /// Add `resources` to vault `id` in batches, isolating the ones another vault holds (which
    /// are remembered for the vault's status).
    async fn add(&self, id: &str, resources: Vec<ResourceCreate>) -> Added {
        let client = &self.shared.client;
        let added = add_isolating(resources, |batch| async move {
            client
                .add_resources(id, &batch)
                .await
                .map_err(|e| explain(e, &json!({ "resources": batch }), ADD_CHECKS))
        })
        .await;
        if !added.refused.is_empty() {
            warn!(vault = %id, refused = ?added.refused, "CBR refused resources another vault holds; added the rest");
            self.shared.record_refused(id, &added.refused);
            // The listing did not show where they are; the next one may.
            self.shared.vaults.invalidate();
        }
        added
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
        let a = self.assess(cr, spec, Some(&vault), ctx).await?;
        let bindings = self.shared.bindings().await?;
        let bound = bindings.get(&vault.id).map(String::as_str);
        let unmanaged = a.desired.unmanaged(&vault);
        let plan = spec
            .prune_resources
            .then(|| self.prune_plan(cr, spec, &vault, a.listed_at, &unmanaged));
        let mut conditions = vec![match &plan {
            Some(p) => vault_prune::condition(
                p,
                vault.resources.len(),
                max_percent(spec),
                self.shared.poll_interval,
            ),
            None => not_pruned(&unmanaged),
        }];
        conditions.push(elsewhere_condition(&a.elsewhere));
        let removable = plan.as_ref().map(|p| p.remove.clone()).unwrap_or_default();
        let drift = a
            .desired
            .drift(&vault, bound, &a.elsewhere_ids(), &removable);
        let mut at_provider = observation(&vault, bound, unmanaged, &a.selected);
        if let Some(p) = plan {
            at_provider.pending_removals = p.pending;
            at_provider.held_removals = p.held;
            at_provider.prune_confirmation = p.confirmation;
        }
        at_provider.resources_in_other_vaults = a.elsewhere;
        Ok(Observation {
            exists: true,
            external_name: (id.is_none()).then(|| vault.id.clone()),
            drift,
            readiness: readiness(&vault),
            desired_hash: a.desired.write_only_hash(),
            at_provider,
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
        let a = self.assess(cr, spec, None, ctx).await?;
        let (first, mut rest) = split_for_create(a.desired.to_add(None, &a.elsewhere_ids()));
        let request = a.desired.create_request(ctx.marker, first);
        let client = &self.shared.client;
        let mut vault = match client.create_vault(&request).await {
            Ok(v) => v,
            Err(e) if in_another_vault(&e) => {
                // A vault the listing did not show holds one of them (created since, or not
                // listed). Nothing was created: create the vault empty, then add them in
                // batches that isolate the refused ones, so the others are protected.
                let mut empty = request.clone();
                rest = std::mem::take(&mut empty.resources)
                    .into_iter()
                    .chain(rest)
                    .collect();
                client
                    .create_vault(&empty)
                    .await
                    .map_err(|e| explain(e, &json!({ "vault": empty }), CREATE_CHECKS))?
            }
            Err(e) => return Err(explain(e, &json!({ "vault": request }), CREATE_CHECKS).into()),
        };
        info!(vault = %vault.id, "created CBR vault");
        // From here the vault exists: a failure is no refusal of the create (the pending mark
        // stays and the next pass adopts the vault by its marker, then updates it).
        // autoExpand, smnNotify and threshold can only be set by an update.
        let follow_up = a
            .desired
            .update_request(&vault, a.desired.write_only_hash().is_some());
        if !follow_up.is_empty() {
            vault = client
                .update_vault(&vault.id, &follow_up)
                .await
                .map_err(|e| {
                    ExternalError::from(explain(e, &json!({ "vault": follow_up }), UPDATE_CHECKS))
                        .after_create()
                })?;
        }
        if !rest.is_empty() {
            let added = self.add(&vault.id, rest).await;
            if let Some(e) = &added.stopped {
                // The vault exists and must be recorded; the next poll adds the rest.
                warn!(vault = %vault.id, error = %e, "created the vault; adding its remaining resources failed");
            }
            vault = self.reread(vault).await;
        }
        if let Some(p) = &a.desired.policy_id {
            let policies = self
                .shared
                .policies(false)
                .await
                .map_err(|e| ExternalError::from(e).after_create())?;
            self.shared.record_binding(&policies, &vault.id, p, true);
        }
        self.shared.vaults.upsert(vault.id.clone(), vault.clone());
        Ok(Created {
            external_name: vault.id,
        })
    }

    /// The vault's backups and backup tasks from the project's shared listings; the schedule
    /// is the portable one of the Policy the Vault names (a vendor-native pattern expects no
    /// run here).
    async fn backups(&self, cr: &VaultCr, id: &str, ctx: &CallContext<'_>) -> Option<BackupReport> {
        let schedule = Self::spec(cr)
            .ok()?
            .policy_ref
            .as_ref()
            .and_then(|r| ctx.refs.object::<PolicyCr>(&r.name))
            .and_then(|p| p.spec.schedule.clone());
        Some(BackupReport::from_listing(
            self.shared.vault_runs(id).await,
            schedule,
        ))
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
        let a = self.assess(cr, spec, Some(&vault), ctx).await?;
        let write_only = a.desired.write_only_hash().is_some()
            && a.desired.write_only_hash().as_deref() != ctx.last_applied_hash;
        let put = a.desired.update_request(&vault, write_only);
        if !put.is_empty() {
            vault = self
                .shared
                .client
                .update_vault(id, &put)
                .await
                .map_err(|e| explain(e, &json!({ "vault": put }), UPDATE_CHECKS))?;
        }
        let remove = if spec.prune_resources {
            let unwanted = a.desired.unmanaged(&vault);
            self.prune_plan(cr, spec, &vault, a.listed_at, &unwanted)
                .remove
        } else {
            Vec::new()
        };
        let add = a.desired.to_add(Some(&vault), &a.elsewhere_ids());
        let added = self.add(id, add).await;
        if let Some(e) = added.stopped {
            return Err(e.into());
        }
        for batch in remove.chunks(BATCH_LIMIT) {
            self.shared.client.remove_resources(id, batch).await?;
        }
        if !remove.is_empty() {
            info!(vault = %id, removed = ?remove, "removed resources that two listings agree are gone (their backups are deleted)");
        }
        if !added.added.is_empty() || !added.refused.is_empty() || !remove.is_empty() {
            vault = self.shared.client.get_vault(id).await?;
        }
        let policies = self.shared.policies(false).await?;
        let bound = self.shared.bindings().await?.get(id).cloned();
        if bound != a.desired.policy_id {
            if let Some(old) = &bound {
                match self.shared.client.dissociate_policy(id, old).await {
                    Ok(_) => {}
                    Err(e) if e.is_not_found() => {}
                    Err(e) => return Err(e.into()),
                }
                self.shared.record_binding(&policies, id, old, false);
            }
            if let Some(new) = &a.desired.policy_id {
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
            Ok(v) => {
                // Observes read the snapshot: let them see the vault as it is now (deleting).
                self.shared.vaults.upsert(id.to_string(), v);
                Ok(Deleted::InProgress)
            }
            Err(e) => Err(e.into()),
        }
    }
}

impl CbrVaults {
    /// The vault as CBR has it now, after resources were added; when it cannot be read, the
    /// cached listing is dropped so nothing acts on the copy from before the additions.
    async fn reread(&self, vault: Vault) -> Vault {
        match self.shared.client.get_vault(&vault.id).await {
            Ok(v) => v,
            Err(e) => {
                warn!(vault = %vault.id, error = %e, "could not read the vault after adding resources");
                self.shared.vaults.invalidate();
                vault
            }
        }
    }
}

fn max_percent(spec: &CbrVault) -> i32 {
    spec.max_prune_percent.unwrap_or(DEFAULT_MAX_PRUNE_PERCENT)
}

/// `ResourcesNotPruned` while `pruneResources` is off.
fn not_pruned(unmanaged: &[String]) -> ExtraCondition {
    ExtraCondition {
        type_: "ResourcesNotPruned",
        status: !unmanaged.is_empty(),
        reason: if unmanaged.is_empty() {
            "NoneExtra"
        } else {
            "PruneDisabled"
        },
        message: if unmanaged.is_empty() {
            "every resource in the vault is listed or selected".into()
        } else {
            format!(
                "{} resource(s) in the vault are neither listed nor selected and were kept because pruneResources is false (removing them deletes their backups): {}",
                unmanaged.len(),
                unmanaged.join(", ")
            )
        },
    }
}

/// `ResourcesInOtherVaults`: what was left out because another vault protects it.
fn elsewhere_condition(elsewhere: &[ResourceElsewhere]) -> ExtraCondition {
    if elsewhere.is_empty() {
        return ExtraCondition {
            type_: "ResourcesInOtherVaults",
            status: false,
            reason: "NoneElsewhere",
            message: "no resource the spec lists or selects is held by another vault".into(),
        };
    }
    let named: Vec<String> = elsewhere
        .iter()
        .map(|r| match (&r.vault_name, &r.vault_id) {
            (Some(name), Some(id)) => format!("{} (in vault {name}, {id})", r.id),
            _ => format!(
                "{} (CBR refused it as already in a vault: BackupService.6103)",
                r.id
            ),
        })
        .collect();
    ExtraCondition {
        type_: "ResourcesInOtherVaults",
        status: true,
        reason: "HeldByAnotherVault",
        message: format!(
            "{} resource(s) the spec lists or selects are protected by another vault and were left out of this one (CBR keeps a resource in one vault); the others are protected: {}",
            elsewhere.len(),
            named.join(", ")
        ),
    }
}
