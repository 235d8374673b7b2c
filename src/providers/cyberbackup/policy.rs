//! `External<Policy>`: a Policy is a protection plan (`/policies`) plus its applications
//! (`/policy_applications`), enabled through `/policy_applications/enabled`, run on demand
//! through `/policy_applications:run`.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{Value, json};

use super::catalog::Catalog;
use super::filter::Query;
use super::location::location_json;
use super::models::{Application, Plan, parse_created_policy_id, plan_id};
use super::settings::{DesiredPlan, FieldError, PlanInputs, desired_plan, is_owned};
use super::{VENDOR, client, policy_view, run, targets};
use crate::api::Policy;
use crate::api::common::Drift;
use crate::api::policy::PolicyObservation;
use crate::engine::external::{
    CallContext, Created, Deleted, External, ExternalError, ExternalResult, Observation, Ownership,
    Readiness,
};
use crate::engine::refs::RefKey;

/// How many observes may find a target id unknown to Cyber Backup before the Policy stalls on
/// it. Agents register their machines, so an id may appear a moment later; one that never does
/// is most likely a typo.
pub const UNKNOWN_TARGET_LOOKS: u32 = 5;

const IDS_FIELD: &str = "spec.cyberBackup.targets.resourceIds";

pub struct PolicyAdapter {
    pub catalog: Arc<Catalog>,
}

fn invalid(e: FieldError) -> ExternalError {
    ExternalError::invalid(e.field, e.message)
}

fn block(cr: &Policy) -> ExternalResult<&crate::api::vendors::cyberbackup::CyberBackupPolicy> {
    cr.spec.cyber_backup.as_ref().ok_or_else(|| {
        ExternalError::invalid(
            "spec.cyberBackup",
            "a Cyber Backup provider needs the cyberBackup block",
        )
    })
}

/// What the spec resolves to: the plan and the target contexts.
struct Wanted {
    plan: DesiredPlan,
    contexts: BTreeSet<String>,
    unresolved: Vec<String>,
    unknown: Vec<String>,
}

/// The credentials record a plan's destination names, if any.
fn destination_credentials(settings: &Value) -> Option<String> {
    settings
        .pointer("/destination/location/settings/credentials")
        .and_then(Value::as_str)
        .filter(|c| !c.trim().is_empty())
        .map(str::to_ascii_lowercase)
}

impl PolicyAdapter {
    fn location(&self, cr: &Policy, ctx: &CallContext<'_>) -> ExternalResult<Option<Value>> {
        let Some(r) = &cr.spec.vault_ref else {
            return Ok(None);
        };
        let key = RefKey {
            kind: "Vault",
            name: r.name.clone(),
            field: "spec.vaultRef",
        };
        let external = ctx.refs.external_name(&key)?;
        let vault = ctx
            .refs
            .object::<crate::api::Vault>(&r.name)
            .ok_or_else(|| {
                ExternalError::waiting(format!("spec.vaultRef: Vault {} not found", r.name))
            })?;
        let vb = vault.spec.cyber_backup.as_ref().ok_or_else(|| {
            ExternalError::invalid(
                "spec.vaultRef",
                format!("Vault {} has no cyberBackup block", r.name),
            )
        })?;
        // A Vault with registered credentials is known by their id (the record that replaced
        // it, when its Secret changed and the Vault's external name does not say so yet); one
        // without, by its name.
        let credentials = vb
            .credentials_secret_ref
            .as_ref()
            .map(|_| self.catalog.rotations.current(external));
        let object_name = vault.metadata.name.as_deref().unwrap_or(&r.name);
        Ok(Some(location_json(vb, object_name, credentials.as_deref())))
    }

    /// The plan and targets the spec asks for. `applied` are the contexts the plan is applied
    /// to now: those ids need no lookup.
    async fn wanted(
        &self,
        cr: &Policy,
        ctx: &CallContext<'_>,
        applied: &BTreeSet<String>,
    ) -> ExternalResult<Wanted> {
        let b = block(cr)?;
        let written =
            policy_view::written_settings(cr.status.as_ref().and_then(|s| s.at_provider.as_ref()));
        let plan = desired_plan(&PlanInputs {
            namespace: cr.metadata.namespace.as_deref().unwrap_or_default(),
            name: cr.metadata.name.as_deref().unwrap_or_default(),
            marker: ctx.marker,
            spec: &cr.spec,
            block: b,
            location: self.location(cr, ctx)?,
            agent_time_zone: &self.catalog.agent_time_zone,
            now: jiff::Timestamp::now(),
            written: &written,
        })
        .map_err(invalid)?;
        let mut fresh = ctx.fresh;
        loop {
            let resources = if targets::needs_resources(&b.targets, applied) {
                self.catalog.resources(fresh).await?
            } else {
                Default::default()
            };
            let resolved = targets::resolve(&b.targets, &resources, applied).map_err(|a| {
                ExternalError::invalid(
                    "spec.cyberBackup.targets.resourceNames",
                    format!(
                        "{} resources are named {:?} ({}); list the one you mean in resourceIds",
                        a.ids.len(),
                        a.name,
                        a.ids.join(", ")
                    ),
                )
            })?;
            // An unknown id may have registered since the last listing: look once more.
            if resolved.unknown.is_empty() || fresh {
                return Ok(Wanted {
                    plan,
                    contexts: resolved.contexts,
                    unresolved: resolved.unresolved,
                    unknown: resolved.unknown,
                });
            }
            fresh = true;
        }
    }

    /// Count another look that did not find `unknown`; the spec error once an id was looked
    /// for too often. Ids found again are forgotten.
    fn note_unknown(&self, marker: &str, unknown: &[String]) -> ExternalResult<u32> {
        let mut seen = self.catalog.unknown_targets.lock().unwrap();
        seen.retain(|(m, id), _| m != marker || unknown.contains(id));
        let mut most = 0;
        for id in unknown {
            let n = seen.entry((marker.to_string(), id.clone())).or_insert(0);
            *n += 1;
            most = most.max(*n);
        }
        if most > UNKNOWN_TARGET_LOOKS {
            return Err(ExternalError::invalid(
                IDS_FIELD,
                format!(
                    "Cyber Backup has no resource or group {} (looked {UNKNOWN_TARGET_LOOKS} times); check the id, or register the machine's agent: rampart applies the plan once it appears",
                    unknown.join(", ")
                ),
            ));
        }
        Ok(most)
    }

    async fn find(&self, id: Option<&str>, ctx: &CallContext<'_>) -> ExternalResult<Option<Plan>> {
        let plans = self.catalog.plans(ctx.fresh).await?;
        if let Some(id) = id {
            return Ok(plans.get(&plan_id(id)).cloned());
        }
        let owned: Vec<&Plan> = plans
            .values()
            .filter(|p| is_owned(&p.name, ctx.marker))
            .collect();
        match owned.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some((*one).clone())),
            many => Err(ExternalError::invalid(
                "metadata.annotations[rampart.dev/external-name]",
                format!(
                    "{} Cyber Backup plans carry this object's marker ({}); set the external name to the one to keep",
                    many.len(),
                    many.iter()
                        .map(|p| plan_id(&p.id))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }

    /// The run this observe reports, and whether the current request still needs its call.
    fn run_state(&self, cr: &Policy, pid: &str) -> (Option<run::Followed>, bool) {
        let requested = run::requested(cr);
        let reported = run::reported(cr);
        let started = self.catalog.runs.lock().unwrap().get(pid).cloned();
        (
            run::follow(requested, reported, started.as_ref()),
            run::pending(requested, reported, started.as_ref()),
        )
    }

    /// Start the requested run: one `:run` call per new request value, once the plan is
    /// deployed and no run is in progress (the vendor does not start a run beside a running
    /// one, so the call would start nothing).
    async fn run_if_requested(
        &self,
        cr: &Policy,
        pid: &str,
        apps: &[Application],
    ) -> ExternalResult<()> {
        let (_, pending) = self.run_state(cr, pid);
        let Some(requested) = run::requested(cr).filter(|_| pending) else {
            return Ok(());
        };
        let deployed = apps
            .iter()
            .all(|a| a.deployment_state().as_deref() == Some("DEPLOYED"));
        if !deployed || run::busy(apps) {
            return Ok(());
        }
        // Read afresh and checked again there: a run is not asked beside a running one.
        let called = self.catalog.start_run(pid, requested).await?;
        tracing::info!(vendor = VENDOR, namespace = ?cr.metadata.namespace, name = ?cr.metadata.name, policy = %pid, requested, called, "on-demand run requested");
        Ok(())
    }

    /// Not ready while the plan writes to a credentials record that does not exist.
    async fn destination_readiness(
        &self,
        plan: &Plan,
        fresh: bool,
    ) -> ExternalResult<Option<Readiness>> {
        let Some(id) = destination_credentials(&plan.settings) else {
            return Ok(None);
        };
        Ok(self.catalog.credentials(&id, fresh).await?.is_none().then(|| {
            Readiness::Unavailable(format!(
                "the plan's destination names credentials record {id}, which does not exist at Cyber Backup: backups to it fail"
            ))
        }))
    }
}

/// Whose a plan is, by the marker at the end of its name (the only place Cyber Backup has for
/// one). A plan the user adopts by id keeps its name until rampart's update renames it.
///
/// Plan ids are UUIDs the server draws (L1595), never re-used, so a plan at the id rampart
/// recorded that lost its marker was renamed by hand in the console: it is still this object's
/// and the next update puts the name back. Only another object's marker makes it a stranger.
fn plan_ownership(plan_name: &str, marker: &str, at_recorded_id: bool) -> Ownership {
    if is_owned(plan_name, marker) {
        Ownership::Marked
    } else if plan_name.contains("[rampart:") {
        Ownership::OtherMarker
    } else if at_recorded_id {
        Ownership::Marked
    } else {
        Ownership::Unmarked
    }
}

#[async_trait]
impl External<Policy> for PolicyAdapter {
    async fn observe(
        &self,
        cr: &Policy,
        id: Option<&str>,
        ctx: &CallContext<'_>,
    ) -> ExternalResult<Observation<PolicyObservation>> {
        block(cr)?;
        let Some(plan) = self.find(id, ctx).await? else {
            return Ok(Observation {
                exists: false,
                ..Default::default()
            });
        };
        let pid = plan_id(&plan.id);
        let ownership = plan_ownership(&plan.name, ctx.marker, id.is_some());
        if ownership != Ownership::Marked && !ctx.trust_unmarked_id {
            // Not this object's plan: the engine leaves it alone; read nothing more of it.
            return Ok(Observation {
                exists: true,
                ownership,
                ..Default::default()
            });
        }
        let mut apps = self.catalog.applications_of(&pid, ctx.fresh).await?;
        let (mut followed, mut pending) = self.run_state(cr, &pid);
        let deploying = apps
            .iter()
            .any(|a| a.deployment_state().as_deref() != Some("DEPLOYED"));
        if deploying || followed.as_ref().is_some_and(|f| !f.finished()) {
            // A deployment or a run in flight: follow it with the document's polling call
            // (§2.9.2.1) rather than wait for the next list.
            apps = self.catalog.plan_applications(&pid).await?;
            (followed, pending) = self.run_state(cr, &pid);
        }
        let warnings = self
            .catalog
            .warnings
            .lock()
            .unwrap()
            .get(&pid)
            .cloned()
            .unwrap_or_default();
        let last_run = followed.map(|f| f.report(&apps, jiff::Timestamp::now()));
        if cr.metadata.deletion_timestamp.is_some() {
            let written = policy_view::written_settings(
                cr.status.as_ref().and_then(|s| s.at_provider.as_ref()),
            );
            let at_provider = policy_view::observation(&plan, &apps, last_run, &warnings, &written);
            return Ok(Observation {
                exists: true,
                external_name: id.is_none().then(|| pid.clone()),
                at_provider,
                ownership,
                ..Default::default()
            });
        }
        let wanted = self.wanted(cr, ctx, &targets::applied(&apps)).await?;
        let looks = self.note_unknown(ctx.marker, &wanted.unknown)?;
        let mut drift = policy_view::plan_drift(&wanted.plan, &plan, &wanted.contexts, &apps);
        if pending {
            let requested = run::requested(cr).unwrap_or_default();
            let handled = run::reported(cr).map(|r| r.requested_at.clone());
            drift.push(Drift {
                field: run::DRIFT_FIELD.into(),
                desired: json!(requested).to_string(),
                observed: json!(handled).to_string(),
            });
        }
        let mut readiness = policy_view::readiness(&wanted.contexts, &apps, &wanted.unresolved);
        if !wanted.unknown.is_empty() {
            readiness = Readiness::Creating(format!(
                "{IDS_FIELD}: Cyber Backup has no resource or group {} yet (looked {looks} of {UNKNOWN_TARGET_LOOKS} times)",
                wanted.unknown.join(", ")
            ));
        }
        if let Some(r) = self.destination_readiness(&plan, ctx.fresh).await? {
            readiness = r;
        }
        let remembered = policy_view::remembered_settings(&wanted.plan, &plan.settings);
        Ok(Observation {
            exists: true,
            external_name: id.is_none().then(|| pid.clone()),
            drift,
            at_provider: policy_view::observation(&plan, &apps, last_run, &warnings, &remembered),
            readiness,
            ownership,
            ..Default::default()
        })
    }

    async fn create(&self, cr: &Policy, ctx: &CallContext<'_>) -> ExternalResult<Created> {
        // Ids Cyber Backup does not know yet are applied once they appear (observe counts).
        let wanted = self.wanted(cr, ctx, &BTreeSet::new()).await?;
        let p = &wanted.plan;
        let body = json!({"subject": {"policy": {
            "enabled": p.enabled, "is_features": "", "name": p.name, "settings": p.settings,
            "tenant_id": self.catalog.tenant_id, "type": p.type_,
        }}});
        let resp = self
            .catalog
            .client
            .send_json("POST /policies", Method::POST, "/policies".into(), &body)
            .await?;
        let pid = parse_created_policy_id(&resp.body)
            .map_err(|m| client::protocol("POST /policies", m))?;
        tracing::info!(vendor = VENDOR, namespace = ?cr.metadata.namespace, name = ?cr.metadata.name, policy = %pid, "created protection plan");
        self.catalog.upsert_plan(Plan {
            id: pid.clone(),
            name: p.name.clone(),
            type_: p.type_.to_string(),
            enabled: p.enabled,
            settings: p.settings.clone(),
            ..Default::default()
        });
        let contexts: Vec<String> = wanted.contexts.into_iter().collect();
        if !contexts.is_empty() {
            // The plan exists now: a failed apply is reported as drift and retried by update,
            // never by creating the plan again.
            match self.catalog.apply(&pid, &contexts).await {
                Ok(issues) => self.catalog.warn(&pid, issues),
                Err(e) => {
                    tracing::warn!(vendor = VENDOR, policy = %pid, error = %e, "applying the new plan failed; will retry")
                }
            }
        }
        self.catalog.plan_applications(&pid).await.ok();
        Ok(Created { external_name: pid })
    }

    async fn update(
        &self,
        cr: &Policy,
        id: &str,
        _observed: &Observation<PolicyObservation>,
        ctx: &CallContext<'_>,
    ) -> ExternalResult<()> {
        let pid = plan_id(id);
        let applied = targets::applied(&self.catalog.applications_of(&pid, false).await?);
        let wanted = self.wanted(cr, ctx, &applied).await?;
        let Some(plan) = self.catalog.plans(false).await?.get(&pid).cloned() else {
            return Err(ExternalError::waiting(format!(
                "plan {pid} vanished; observing again"
            )));
        };
        if plan.type_ != wanted.plan.type_ {
            return Err(ExternalError::invalid(
                "spec.cyberBackup.type",
                format!(
                    "the plan is {} at the vendor and a plan's type cannot change; delete the external-name annotation to create a new plan",
                    plan.type_
                ),
            ));
        }
        let mut plan = self.catalog.correct_plan(&wanted.plan, plan).await?;
        let enabled = wanted.plan.enabled;
        let mut apps = self.catalog.applications_of(&pid, false).await?;
        if plan.enabled != enabled {
            self.catalog.set_enabled(&pid, None, enabled).await?;
            plan.enabled = enabled;
            self.catalog.upsert_plan(plan);
            apps = self.catalog.plan_applications(&pid).await?;
        }
        // A device switched the other way in the console is switched back there alone.
        let switched = policy_view::switched(enabled, &apps);
        if !switched.is_empty() {
            self.catalog
                .set_enabled(&pid, Some(&switched), enabled)
                .await?;
            apps = self.catalog.plan_applications(&pid).await?;
        }
        let changes = targets::changes(&wanted.contexts, &targets::applied(&apps));
        if !changes.apply.is_empty() {
            let issues = self.catalog.apply(&pid, &changes.apply).await?;
            self.catalog.warn(&pid, issues);
        }
        if !changes.revoke.is_empty() {
            let issues = self.catalog.revoke(&pid, &changes.revoke).await?;
            self.catalog.warn(&pid, issues);
        }
        if !changes.apply.is_empty() || !changes.revoke.is_empty() {
            apps = self.catalog.plan_applications(&pid).await?;
        }
        self.run_if_requested(cr, &pid, &apps).await
    }

    async fn delete(
        &self,
        cr: &Policy,
        id: &str,
        ctx: &CallContext<'_>,
    ) -> ExternalResult<Deleted> {
        let pid = plan_id(id);
        // Revoke first: the plan's applications hold it on the agents.
        let apps = self.catalog.plan_applications(&pid).await?;
        let contexts: Vec<String> = targets::applied(&apps).into_iter().collect();
        if !contexts.is_empty() {
            let issues = self.catalog.revoke(&pid, &contexts).await?;
            self.catalog.warn(&pid, issues);
        }
        let deleted = self
            .catalog
            .client
            .delete(
                "DELETE /policies/{id}",
                format!("/policies/{pid}"),
                &Query::new(),
            )
            .await;
        match deleted {
            Ok(_) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e.into()),
        }
        tracing::info!(vendor = VENDOR, namespace = ?cr.metadata.namespace, name = ?cr.metadata.name, policy = %pid, "deleted protection plan");
        self.catalog.remove_plan(&pid);
        self.catalog.runs.lock().unwrap().remove(&pid);
        self.catalog.warnings.lock().unwrap().remove(&pid);
        self.note_unknown(ctx.marker, &[])?;
        Ok(Deleted::Gone)
    }

    /// The plan's runs, from its applications, the backups of its archives and the failed
    /// tasks, listed once per poll for every Policy of the provider configuration.
    async fn backups(
        &self,
        cr: &Policy,
        id: &str,
        ctx: &CallContext<'_>,
    ) -> Option<crate::health::BackupReport> {
        let pid = plan_id(id);
        let read = async {
            let apps = self.catalog.applications_of(&pid, ctx.fresh).await?;
            let index = self.catalog.plan_backups(ctx.fresh).await?;
            crate::vendor::error::VendorResult::Ok(super::backup_runs::plan_runs(
                &pid, &apps, &index,
            ))
        };
        Some(crate::health::BackupReport::from_listing(
            read.await,
            cr.spec.schedule.clone(),
        ))
    }
}

#[cfg(test)]
mod ownership_tests {
    use super::*;

    #[test]
    fn a_plan_is_rampart_s_by_the_marker_at_the_end_of_its_name() {
        let m = "0123456789abcdef";
        assert_eq!(
            plan_ownership(&format!("nightly [rampart:{m}]"), m, false),
            Ownership::Marked
        );
        assert_eq!(
            plan_ownership("nightly [rampart:fedcba9876543210]", m, true),
            Ownership::OtherMarker
        );
        assert_eq!(
            plan_ownership("nightly, by hand", m, false),
            Ownership::Unmarked,
            "found without an id, a plan without the marker may be anyone's"
        );
        assert_eq!(
            plan_ownership("renamed by hand", m, true),
            Ownership::Marked,
            "at the recorded (never re-used) UUID, a hand rename does not make a stranger"
        );
        assert_eq!(
            plan_ownership(&format!("[rampart:{m}] moved to the front"), m, true),
            Ownership::OtherMarker,
            "only the suffix is a marker; a damaged one is not this object's"
        );
    }
}
