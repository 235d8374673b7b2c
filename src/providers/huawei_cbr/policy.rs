//! `External<Policy>` for CBR: a policy found by id or by its deterministic name in the shared
//! snapshot, created and updated as a whole object (CBR replaces `operation_definition` on
//! update), and dissociated from its vaults before it is deleted.

use std::sync::Arc;

use async_trait::async_trait;
use tracing::info;

use super::models::Policy;
use super::policy_desired::{DesiredPolicy, observation};
use super::runtime::CbrShared;
use crate::api::Policy as PolicyCr;
use crate::api::policy::PolicyObservation;
use crate::engine::external::{
    CallContext, Created, Deleted, External, ExternalResult, Observation, Ownership,
};
use crate::health::{BackupReport, BackupRun};
use crate::vendor::error::VendorResult;

pub struct CbrPolicies {
    shared: Arc<CbrShared>,
}

impl CbrPolicies {
    pub fn new(shared: Arc<CbrShared>) -> Self {
        CbrPolicies { shared }
    }

    async fn find(
        &self,
        id: Option<&str>,
        name: &str,
        fresh: bool,
    ) -> ExternalResult<Option<Policy>> {
        let policies = self.shared.policies(fresh).await?;
        Ok(match id {
            Some(id) => match policies.get(id) {
                Some(p) => Some(p.clone()),
                // Not in the snapshot: adopted after the last list, or gone. Ask.
                None => match self.shared.client.get_policy(id).await {
                    Ok(p) => {
                        self.shared.policies.upsert(p.id.clone(), p.clone());
                        Some(p)
                    }
                    Err(e) if e.is_not_found() => None,
                    Err(e) => return Err(e.into()),
                },
            },
            None => {
                // Only an exact, unique match by name; whether the name makes it rampart's is
                // for `observe` to say.
                let mut same = policies.values().filter(|p| p.name == name);
                match (same.next(), same.next()) {
                    (Some(p), None) => Some(p.clone()),
                    _ => None,
                }
            }
        })
    }
}

fn now() -> jiff::Timestamp {
    jiff::Timestamp::now()
}

#[async_trait]
impl External<PolicyCr> for CbrPolicies {
    async fn observe(
        &self,
        cr: &PolicyCr,
        id: Option<&str>,
        ctx: &CallContext<'_>,
    ) -> ExternalResult<Observation<PolicyObservation>> {
        let desired = DesiredPolicy::from_spec(cr, ctx.marker, now())?;
        let Some(policy) = self.find(id, &desired.name, ctx.fresh).await? else {
            return Ok(Observation {
                exists: false,
                ..Default::default()
            });
        };
        // CBR policies have no tags: the name rampart derives carries the marker; a name the
        // user chose is anyone's, until the user names the policy's id to adopt it. An id
        // (a UUID CBR gave rampart's create, or the user's choice) is never re-used.
        let ownership = if id.is_some() || desired.name_carries_marker {
            Ownership::Marked
        } else {
            Ownership::NameOnly
        };
        Ok(Observation {
            exists: true,
            external_name: id.is_none().then(|| policy.id.clone()),
            drift: desired.drift(&policy),
            at_provider: observation(&policy),
            ownership,
            ..Default::default()
        })
    }

    async fn create(&self, cr: &PolicyCr, ctx: &CallContext<'_>) -> ExternalResult<Created> {
        let desired = DesiredPolicy::from_spec(cr, ctx.marker, now())?;
        let policy = self
            .shared
            .client
            .create_policy(&desired.create_request())
            .await?;
        info!(policy = %policy.id, name = %policy.name, "created CBR policy");
        self.shared
            .policies
            .upsert(policy.id.clone(), policy.clone());
        Ok(Created {
            external_name: policy.id,
        })
    }

    async fn update(
        &self,
        cr: &PolicyCr,
        id: &str,
        _observed: &Observation<PolicyObservation>,
        ctx: &CallContext<'_>,
    ) -> ExternalResult<()> {
        let desired = DesiredPolicy::from_spec(cr, ctx.marker, now())?;
        let mut policy = self
            .shared
            .client
            .update_policy(id, &desired.update_request())
            .await?;
        // The PUT response may omit the bindings; keep the ones we know.
        if let Some(old) = self.shared.policies(false).await?.get(id)
            && policy.associated_vaults.is_empty()
        {
            policy.associated_vaults = old.associated_vaults.clone();
        }
        self.shared.policies.upsert(id.to_string(), policy);
        Ok(())
    }

    async fn delete(
        &self,
        _cr: &PolicyCr,
        id: &str,
        _ctx: &CallContext<'_>,
    ) -> ExternalResult<Deleted> {
        let policy = match self.shared.client.get_policy(id).await {
            Ok(p) => p,
            Err(e) if e.is_not_found() => {
                self.shared.policies.remove(id);
                return Ok(Deleted::Gone);
            }
            Err(e) => return Err(e.into()),
        };
        // Deleting a policy still applied to vaults is undocumented: dissociate first.
        for binding in &policy.associated_vaults {
            match self
                .shared
                .client
                .dissociate_policy(&binding.vault_id, id)
                .await
            {
                Ok(_) => {}
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e.into()),
            }
        }
        match self.shared.client.delete_policy(id).await {
            Ok(()) => info!(policy = %id, "deleted CBR policy"),
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e.into()),
        }
        self.shared.policies.remove(id);
        Ok(Deleted::Gone)
    }

    /// The runs of every vault CBR shows the policy applied to, from the shared listings.
    async fn backups(
        &self,
        cr: &PolicyCr,
        id: &str,
        _ctx: &CallContext<'_>,
    ) -> Option<BackupReport> {
        Some(BackupReport::from_listing(
            self.runs(id).await,
            cr.spec.schedule.clone(),
        ))
    }
}

impl CbrPolicies {
    /// The runs and backups held of the vaults the policy is applied to.
    async fn runs(&self, id: &str) -> VendorResult<(Vec<BackupRun>, usize)> {
        let bindings = self.shared.bindings().await?;
        let mut runs = Vec::new();
        let mut held = 0;
        for vault in bindings
            .iter()
            .filter(|(_, policy)| *policy == id)
            .map(|(vault, _)| vault)
        {
            let (r, h) = self.shared.vault_runs(vault).await?;
            runs.extend(r);
            held += h;
        }
        Ok((runs, held))
    }
}
