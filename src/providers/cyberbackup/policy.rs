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
use super::models::{Application, Plan, issues_text, parse_created_policy_id, plan_id};
use super::settings::{
    DesiredPlan, FieldError, PlanInputs, desired_plan, is_owned, merge, patch_body,
};
use super::{VENDOR, client, policy_view, run, targets};
use crate::api::Policy;
use crate::api::policy::PolicyObservation;
use crate::engine::external::{
    CallContext, Created, Deleted, External, ExternalError, ExternalResult, Observation,
};
use crate::engine::refs::RefKey;

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
        // A Vault with registered credentials is known by their id; one without, by its name.
        let credentials = vb.credentials_secret_ref.as_ref().map(|_| external);
        let object_name = vault.metadata.name.as_deref().unwrap_or(&r.name);
        Ok(Some(location_json(vb, object_name, credentials)))
    }

    async fn wanted(&self, cr: &Policy, ctx: &CallContext<'_>) -> ExternalResult<Wanted> {
        let b = block(cr)?;
        let plan = desired_plan(&PlanInputs {
            namespace: cr.metadata.namespace.as_deref().unwrap_or_default(),
            name: cr.metadata.name.as_deref().unwrap_or_default(),
            marker: ctx.marker,
            spec: &cr.spec,
            block: b,
            location: self.location(cr, ctx)?,
            agent_time_zone: &self.catalog.agent_time_zone,
            now: jiff::Timestamp::now(),
        })
        .map_err(invalid)?;
        let resources = if b.targets.resource_names.is_empty() {
            Default::default()
        } else {
            self.catalog.resources(ctx.fresh).await?
        };
        let resolved = targets::resolve(&b.targets, &resources).map_err(|a| {
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
        Ok(Wanted {
            plan,
            contexts: resolved.contexts,
            unresolved: resolved.unresolved,
        })
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

    /// The run this observe reports, and whether a new request is still to be started.
    fn run_state(
        &self,
        cr: &Policy,
        pid: &str,
        apps: &[Application],
    ) -> (Option<run::StartedFrom>, bool) {
        let requested = run::requested(cr);
        let reported = run::reported(cr);
        let started = self.catalog.runs.lock().unwrap().get(pid).cloned();
        let from = run::track(requested, reported, started.as_ref(), apps);
        let pending = requested.is_some()
            && from
                .as_ref()
                .is_none_or(|f| Some(f.requested_at.as_str()) != requested);
        (from, pending)
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
        let mut apps = self.catalog.applications_of(&pid, ctx.fresh).await?;
        let (mut from, mut pending) = self.run_state(cr, &pid, &apps);
        let deploying = apps
            .iter()
            .any(|a| a.deployment_state().as_deref() != Some("DEPLOYED"));
        if deploying || from.as_ref().is_some_and(|f| !f.finished) {
            // A deployment or a run in flight: follow it with the document's polling call
            // (§2.9.2.1) rather than wait for the next list.
            apps = self.catalog.plan_applications(&pid).await?;
            (from, pending) = self.run_state(cr, &pid, &apps);
        }
        let warnings = self
            .catalog
            .warnings
            .lock()
            .unwrap()
            .get(&pid)
            .cloned()
            .unwrap_or_default();
        let last_run = from.map(|f| f.report(&apps, jiff::Timestamp::now()));
        let at_provider = policy_view::observation(&plan, &apps, last_run, &warnings);
        let mut obs = Observation {
            exists: true,
            external_name: id.is_none().then(|| pid.clone()),
            at_provider,
            ..Default::default()
        };
        if cr.metadata.deletion_timestamp.is_some() {
            return Ok(obs);
        }
        let wanted = self.wanted(cr, ctx).await?;
        let applied = targets::applied(&apps);
        obs.drift = policy_view::plan_drift(&wanted.plan, &plan, &wanted.contexts, &applied);
        if pending {
            let requested = run::requested(cr).unwrap_or_default();
            let handled = run::reported(cr).map(|r| r.requested_at.clone());
            obs.drift.push(crate::api::common::Drift {
                field: run::DRIFT_FIELD.into(),
                desired: json!(requested).to_string(),
                observed: json!(handled).to_string(),
            });
        }
        obs.readiness = policy_view::readiness(&wanted.contexts, &apps, &wanted.unresolved);
        Ok(obs)
    }

    async fn create(&self, cr: &Policy, ctx: &CallContext<'_>) -> ExternalResult<Created> {
        let wanted = self.wanted(cr, ctx).await?;
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
        let wanted = self.wanted(cr, ctx).await?;
        let pid = plan_id(id);
        let Some(mut plan) = self.catalog.plans(false).await?.get(&pid).cloned() else {
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
        if let Some(body) = patch_body(&wanted.plan, &plan.name, &plan.settings) {
            let path = format!("/policies/{pid}");
            let resp = self
                .catalog
                .client
                .send_json("PATCH /policies/{id}", Method::PATCH, path, &body)
                .await?;
            self.catalog.warn(&pid, issues_text(&resp.body));
            let element = &body["subject"]["policy"][0];
            merge(
                &mut plan.settings,
                element.get("settings").unwrap_or(&Value::Null),
            );
            if let Some(name) = element.get("name").and_then(Value::as_str) {
                plan.name = name.to_string();
            }
        }
        if plan.enabled != wanted.plan.enabled {
            let body = json!({"policy_ids": [pid], "value": wanted.plan.enabled});
            self.catalog
                .client
                .send_json(
                    "PATCH /policy_applications/enabled",
                    Method::PATCH,
                    "/policy_applications/enabled".into(),
                    &body,
                )
                .await?;
            plan.enabled = wanted.plan.enabled;
        }
        self.catalog.upsert_plan(plan);
        let apps = self.catalog.applications_of(&pid, false).await?;
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
            self.catalog.plan_applications(&pid).await?;
        }
        let current = self.catalog.applications_of(&pid, false).await?;
        let deployed = current
            .iter()
            .all(|a| a.deployment_state().as_deref() == Some("DEPLOYED"));
        let pending = self.run_state(cr, &pid, &current).1;
        // A run asked for while the plan deploys waits: the vendor runs only deployed
        // applications, and the request stays pending (drift) until then.
        if let (true, true, Some(requested)) = (pending, deployed, run::requested(cr)) {
            tracing::info!(vendor = VENDOR, namespace = ?cr.metadata.namespace, name = ?cr.metadata.name, policy = %pid, requested, "starting an on-demand run");
            self.catalog.start_run(&pid, requested).await?;
        }
        Ok(())
    }

    async fn delete(
        &self,
        cr: &Policy,
        id: &str,
        _ctx: &CallContext<'_>,
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
        Ok(Deleted::Gone)
    }
}
