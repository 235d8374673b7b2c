//! The one reconciler every kind and vendor share. It reads top to bottom:
//! pause → deletion → finalizer → gather (provider, adapter, references) → observe →
//! create (with create-pending) or adopt → correct or report drift → status and events.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kube::ResourceExt;
use kube::api::Api;
use kube::runtime::controller::Action;
use tracing::{Instrument, debug, info, info_span, warn};

use super::annotations::{CREATE_PENDING, EXTERNAL_NAME, PAUSED};
use super::conditions::{Outcome, next_status, status_changed};
use super::context::Context;
use super::errors::{Class, Error};
use super::events::{EventNote, EventType};
use super::external::{CallContext, Deleted, External, ExternalError, Observation};
use super::hub::{ProviderKey, VendorRuntime};
use super::managed::Managed;
use super::marker::ownership_marker;
use super::patches::{
    add_finalizer, apply_status, has_finalizer, remove_finalizer, set_annotations,
};
use super::refs::Refs;
use crate::api::common::{Allowed, DeletionPolicy, Drift};
use crate::telemetry::metrics;
use crate::vendor::error::ErrorKind;

/// Drift field reported when write-only fields changed since they were last applied.
pub const WRITE_ONLY_FIELDS: &str = "(write-only fields)";

/// Entry point for `kube::runtime::Controller`.
pub async fn reconcile<K: Managed>(obj: Arc<K>, ctx: Arc<Context>) -> Result<Action, Error> {
    let ns = obj.namespace().unwrap_or_default();
    let name = obj.name_any();
    let span = info_span!("reconcile", kind = K::KIND, namespace = %ns, name = %name);
    let started = Instant::now();
    let api: Api<K> = Api::namespaced(ctx.client.clone(), &ns);
    let result = run(obj.as_ref(), &api, &ctx).instrument(span).await;
    let label = match &result {
        Ok(_) => "success",
        Err(e) => e.reason(),
    };
    metrics::reconcile(K::KIND, label, started.elapsed());
    if result.is_ok() {
        ctx.succeeded(K::KIND, &ns, &name);
    }
    result
}

/// Entry point for the controller's error policy: backoff by error class and attempt count.
pub fn error_policy<K: Managed>(obj: Arc<K>, error: &Error, ctx: Arc<Context>) -> Action {
    let attempt = ctx.failed(
        K::KIND,
        &obj.namespace().unwrap_or_default(),
        &obj.name_any(),
    );
    let class = error.class();
    let delay = ctx.settings.backoff.jittered(class, attempt);
    debug!(kind = K::KIND, name = %obj.name_any(), ?class, attempt, ?delay, "requeue after error");
    Action::requeue(delay)
}

async fn run<K: Managed>(obj: &K, api: &Api<K>, ctx: &Context) -> Result<Action, Error> {
    if obj.annotations().get(PAUSED).is_some_and(|v| v == "true") {
        write_status(api, obj, &Outcome::Paused).await?;
        return Ok(Action::await_change());
    }
    if obj.meta().deletion_timestamp.is_some() {
        return cleanup(obj, api, ctx).await;
    }
    // The finalizer goes on before any vendor call, so nothing is ever created that rampart
    // could not clean up.
    let obj = if has_finalizer(obj) {
        obj.clone()
    } else {
        add_finalizer(api, obj).await?
    };
    match sync(&obj, api, ctx).await {
        Ok((outcome, action)) => {
            write_status(api, &obj, &outcome).await?;
            Ok(action)
        }
        Err(e) => {
            let outcome = match e.class() {
                Class::Waiting => Outcome::Waiting(e.to_string()),
                class => Outcome::Failed {
                    message: e.to_string(),
                    terminal: class == Class::Terminal,
                },
            };
            write_status(api, &obj, &outcome).await?;
            if e.class() != Class::Waiting {
                warn!(error = %e, "reconcile failed");
                publish(
                    ctx,
                    &obj,
                    EventType::Warning,
                    e.reason(),
                    "Reconcile",
                    e.to_string(),
                )
                .await;
            }
            Err(e)
        }
    }
}

/// The resolved pieces a vendor call needs.
struct Gathered<'a, K: Managed> {
    runtime: Arc<dyn VendorRuntime>,
    poll_interval: Duration,
    marker: String,
    refs: Refs,
    ctx: &'a Context,
    _kind: std::marker::PhantomData<K>,
}

impl<'a, K: Managed> Gathered<'a, K> {
    fn external(&self) -> &dyn External<K> {
        K::external(&*self.runtime).expect("checked in gather")
    }

    fn call<'b>(&'b self, obj: &'b K, fresh: bool) -> CallContext<'b> {
        CallContext {
            marker: &self.marker,
            fresh,
            last_applied_hash: obj
                .managed_status()
                .and_then(|s| s.last_applied_hash.as_deref()),
            refs: &self.refs,
            hub: &self.ctx.hub,
        }
    }
}

/// Gather and validate: the provider runtime, the adapter for this kind, references, marker.
async fn gather<'a, K: Managed>(obj: &K, ctx: &'a Context) -> Result<Gathered<'a, K>, Error> {
    let ns = obj.namespace().unwrap_or_default();
    let pref = &obj.managed().provider_config_ref;
    let runtime = ctx.hub.runtime_for(&ns, pref).await?;
    let poll_interval = Duration::from_secs(
        ctx.hub
            .config(&ProviderKey::for_ref(&ns, pref))?
            .poll_interval_seconds
            .max(1) as u64,
    );
    let vendor = runtime.provider_type();
    match obj.vendor_block() {
        None => {
            return Err(Error::Spec(format!(
                "spec: set the {} block for {:?} {}",
                vendor.block_name(),
                pref.kind,
                pref.name
            )));
        }
        Some(block) if block != vendor => {
            return Err(Error::Spec(format!(
                "spec.{}: {:?} {} is of type {vendor:?}; this {} needs a spec.{} block",
                block.block_name(),
                pref.kind,
                pref.name,
                K::KIND,
                vendor.block_name()
            )));
        }
        Some(_) => {}
    }
    if K::external(&*runtime).is_none() {
        return Err(Error::Spec(format!(
            "{vendor:?} has no {}: use a provider configuration of a vendor that has it",
            K::KIND
        )));
    }
    let mut refs = Refs::default();
    for key in obj.references() {
        if let Some(target) = ctx.lookup.get(&ns, &key).await? {
            refs.insert(&key, target);
        }
    }
    let marker = ownership_marker(&ctx.settings.cluster_id, K::KIND, &ns, &obj.name_any());
    Ok(Gathered {
        runtime,
        poll_interval,
        marker,
        refs,
        ctx,
        _kind: std::marker::PhantomData,
    })
}

/// Observe, then create or adopt, then correct or report drift.
async fn sync<K: Managed>(
    obj: &K,
    api: &Api<K>,
    ctx: &Context,
) -> Result<(Outcome<K::Observation>, Action), Error> {
    let g = gather::<K>(obj, ctx).await?;
    let allowed = Allowed::from_policies(&obj.managed().management_policies);
    let name = obj.name_any();
    let pending = obj.annotations().contains_key(CREATE_PENDING);
    let mut external_name = obj.annotations().get(EXTERNAL_NAME).cloned();

    // A pending create means we may have created the object without recording it: read the
    // vendor itself, not a snapshot from before the create.
    let mut obs = g
        .external()
        .observe(obj, external_name.as_deref(), &g.call(obj, pending))
        .await?;
    // A recorded object missing from a snapshot may only be missing from a listing that began
    // before it was created (found by the chaos suite: a FirewallRule created while its section
    // was being listed was judged absent). Before calling it gone, which re-creates it or
    // stalls, read the vendor again with a listing that starts now.
    if !obs.exists && external_name.is_some() && !pending {
        obs = g
            .external()
            .observe(obj, external_name.as_deref(), &g.call(obj, true))
            .await?;
    }
    let mut just_created = false;

    if !obs.exists {
        if let Some(n) = &external_name
            && !pending
        {
            let seen_before = obj
                .managed_status()
                .is_some_and(|s| s.at_provider.is_some());
            if !seen_before {
                return Err(Error::Spec(format!(
                    "metadata.annotations[{EXTERNAL_NAME}]: {n} does not exist at the vendor; remove the annotation to let rampart create a new object"
                )));
            }
            if allowed.create {
                publish(
                    ctx,
                    obj,
                    EventType::Warning,
                    "ExternalDeleted",
                    "Observe",
                    format!("vendor object {n} is gone; re-creating it"),
                )
                .await;
            }
        }
        if pending {
            // The vendor may hold an object from the interrupted create that its API gives no
            // way to find (Cyber Backup credentials have no list call). Say so before creating.
            publish(
                ctx,
                obj,
                EventType::Warning,
                "CreatePendingNotFound",
                "Observe",
                "a create was interrupted before its result was recorded and the vendor shows no object with this object's ownership marker; creating again (if the vendor cannot be searched, check it for a leftover)".into(),
            )
            .await;
        }
        if !allowed.create {
            let msg =
                "the vendor object does not exist and managementPolicies do not include Create"
                    .to_string();
            return Ok((Outcome::Absent(msg), resync(&g)));
        }
        let id = create(obj, api, &g).await?;
        external_name = Some(id.clone());
        just_created = true;
        obs = g
            .external()
            .observe(obj, Some(&id), &g.call(obj, false))
            .await?;
        if !obs.exists {
            // The vendor accepted the create but does not show the object yet.
            return Ok((
                pending_outcome(obs, "the vendor has not listed the new object yet"),
                Action::requeue(ctx.settings.pending_requeue),
            ));
        }
    } else if let Some(found) = obs
        .external_name
        .clone()
        .filter(|f| Some(f) != external_name.as_ref())
    {
        info!(external_name = %found, "adopting vendor object found by ownership marker");
        set_annotations(
            api,
            &name,
            &[(EXTERNAL_NAME, Some(&found)), (CREATE_PENDING, None)],
        )
        .await?;
        publish(
            ctx,
            obj,
            EventType::Normal,
            "Adopted",
            "Observe",
            format!("found vendor object {found} by its ownership marker"),
        )
        .await;
        external_name = Some(found);
    } else if pending {
        set_annotations(api, &name, &[(CREATE_PENDING, None)]).await?;
    }
    let id = external_name.expect("set above: created, adopted or given");

    let mut drift = effective_drift(&obs, obj, just_created);
    let mut applied_hash = if just_created {
        obs.desired_hash.clone()
    } else {
        None
    };
    if !drift.is_empty() {
        metrics::drift(K::KIND);
        if allowed.update {
            g.external()
                .update(obj, &id, &obs, &g.call(obj, false))
                .await?;
            let fields = field_list(&drift);
            info!(fields = %fields, "corrected drift");
            publish(
                ctx,
                obj,
                EventType::Normal,
                "Updated",
                "Update",
                format!("updated {fields}"),
            )
            .await;
            obs = g
                .external()
                .observe(obj, Some(&id), &g.call(obj, false))
                .await?;
            applied_hash = obs.desired_hash.clone();
            drift = obs.drift.clone();
        } else if obj.managed_status().map(|s| &s.drift) != Some(&drift) {
            publish(
                ctx,
                obj,
                EventType::Warning,
                "DriftDetected",
                "Observe",
                format!(
                    "vendor differs in {}; not corrected because managementPolicies exclude Update",
                    field_list(&drift)
                ),
            )
            .await;
        }
    }
    let creating = matches!(obs.readiness, super::external::Readiness::Creating(_));
    let outcome = Outcome::Observed {
        readiness: obs.readiness,
        at_provider: obs.at_provider,
        drift,
        applied_hash,
        extra: obs.conditions,
    };
    let action = if creating {
        Action::requeue(ctx.settings.pending_requeue)
    } else {
        resync(&g)
    };
    Ok((outcome, action))
}

/// Create with the create-pending guard: the annotation is written before the vendor call and
/// replaced by the external name after it, in one patch.
async fn create<K: Managed>(obj: &K, api: &Api<K>, g: &Gathered<'_, K>) -> Result<String, Error> {
    let name = obj.name_any();
    let now = jiff::Timestamp::now().to_string();
    set_annotations(api, &name, &[(CREATE_PENDING, Some(&now))]).await?;
    match g.external().create(obj, &g.call(obj, false)).await {
        Ok(created) => {
            set_annotations(
                api,
                &name,
                &[
                    (EXTERNAL_NAME, Some(&created.external_name)),
                    (CREATE_PENDING, None),
                ],
            )
            .await?;
            info!(external_name = %created.external_name, "created vendor object");
            publish(
                g.ctx,
                obj,
                EventType::Normal,
                "Created",
                "Create",
                format!("created vendor object {}", created.external_name),
            )
            .await;
            Ok(created.external_name)
        }
        Err(e) => {
            // Only a clear refusal proves nothing was created; after a timeout or a dropped
            // connection the pending mark stays, so the next observe reads the vendor fresh.
            if definitely_not_created(&e) {
                set_annotations(api, &name, &[(CREATE_PENDING, None)]).await?;
            }
            Err(e.into())
        }
    }
}

fn definitely_not_created(e: &ExternalError) -> bool {
    match e {
        ExternalError::InvalidSpec { .. } | ExternalError::Waiting { .. } => true,
        ExternalError::Vendor(v) => matches!(
            v.kind,
            ErrorKind::Rejected
                | ErrorKind::Forbidden
                | ErrorKind::Unauthorized
                | ErrorKind::Config
                | ErrorKind::Conflict
                | ErrorKind::Throttled
        ),
    }
}

/// Drift the adapter saw, plus changed write-only fields (known only by their hash).
fn effective_drift<K: Managed>(
    obs: &Observation<K::Observation>,
    obj: &K,
    just_created: bool,
) -> Vec<Drift> {
    let mut drift = obs.drift.clone();
    let last = obj
        .managed_status()
        .and_then(|s| s.last_applied_hash.as_deref());
    if let Some(desired) = &obs.desired_hash
        && !just_created
        && last != Some(desired.as_str())
    {
        drift.push(Drift {
            field: WRITE_ONLY_FIELDS.to_string(),
            desired: format!("hash {desired}"),
            observed: format!("last applied {}", last.unwrap_or("never")),
        });
    }
    drift
}

fn pending_outcome<A>(obs: Observation<A>, message: &str) -> Outcome<A> {
    Outcome::Observed {
        readiness: super::external::Readiness::Creating(message.to_string()),
        at_provider: obs.at_provider,
        drift: Vec::new(),
        applied_hash: None,
        extra: obs.conditions,
    }
}

fn field_list(drift: &[Drift]) -> String {
    drift
        .iter()
        .map(|d| d.field.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Periodic requeue for drift detection: the provider's poll interval, spread by ±10% so
/// objects created together do not resync together.
fn resync<K: Managed>(g: &Gathered<'_, K>) -> Action {
    let factor = 0.9 + rand::random::<f64>() * 0.2;
    Action::requeue(g.poll_interval.mul_f64(factor))
}

/// Deletion: orphan, wait for referrers, or delete at the vendor and release the object.
async fn cleanup<K: Managed>(obj: &K, api: &Api<K>, ctx: &Context) -> Result<Action, Error> {
    if !has_finalizer(obj) {
        return Ok(Action::await_change());
    }
    let allowed = Allowed::from_policies(&obj.managed().management_policies);
    // Uninstalling the CRDs deletes every object; that must never delete vendor objects.
    let uninstalling = crd_terminating::<K>(ctx).await?;
    if obj.deletion_policy() == DeletionPolicy::Orphan || !allowed.delete || uninstalling {
        let why = if uninstalling {
            "the CustomResourceDefinition is being uninstalled"
        } else if allowed.delete {
            "deletionPolicy is Orphan"
        } else {
            "managementPolicies exclude Delete"
        };
        publish(
            ctx,
            obj,
            EventType::Normal,
            "Orphaned",
            "Delete",
            format!("left the vendor object in place: {why}"),
        )
        .await;
        remove_finalizer(api, obj).await?;
        return Ok(Action::await_change());
    }
    let ns = obj.namespace().unwrap_or_default();
    let referrers = ctx.lookup.referrers(&ns, K::KIND, &obj.name_any());
    if !referrers.is_empty() {
        let msg = format!(
            "waiting to delete: still referenced by {}",
            referrers.join(", ")
        );
        write_status(api, obj, &Outcome::Deleting(msg.clone())).await?;
        publish(
            ctx,
            obj,
            EventType::Normal,
            "DeletionBlocked",
            "Delete",
            msg,
        )
        .await;
        return Ok(Action::requeue(Duration::from_secs(10)));
    }
    let result = delete_external(obj, ctx).await;
    match result {
        Ok(Deleted::Gone) => {
            publish(
                ctx,
                obj,
                EventType::Normal,
                "Deleted",
                "Delete",
                "deleted the vendor object".into(),
            )
            .await;
            remove_finalizer(api, obj).await?;
            Ok(Action::await_change())
        }
        Ok(Deleted::InProgress) => {
            write_status(
                api,
                obj,
                &Outcome::Deleting("the vendor is deleting the object".into()),
            )
            .await?;
            Ok(Action::requeue(ctx.settings.pending_requeue))
        }
        Err(e) => {
            write_status(
                api,
                obj,
                &Outcome::Failed {
                    message: e.to_string(),
                    terminal: e.class() == Class::Terminal,
                },
            )
            .await?;
            publish(
                ctx,
                obj,
                EventType::Warning,
                e.reason(),
                "Delete",
                e.to_string(),
            )
            .await;
            Err(e)
        }
    }
}

/// Whether this kind's CRD is being deleted (an uninstall), in which case objects are released
/// without touching the vendor.
async fn crd_terminating<K: Managed>(ctx: &Context) -> Result<bool, Error> {
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    let crds: Api<CustomResourceDefinition> = Api::all(ctx.client.clone());
    let name = format!("{}.{}", K::plural(&()), K::group(&()));
    match crds.get_opt(&name).await {
        Ok(Some(crd)) => Ok(crd.metadata.deletion_timestamp.is_some()),
        // Gone already: certainly an uninstall.
        Ok(None) => Ok(true),
        Err(e) => Err(e.into()),
    }
}

async fn delete_external<K: Managed>(obj: &K, ctx: &Context) -> Result<Deleted, Error> {
    let g = gather::<K>(obj, ctx).await?;
    let known = obj.annotations().get(EXTERNAL_NAME).cloned();
    // Without a recorded id (a crash right after create), find the object by its marker.
    let obs = g
        .external()
        .observe(obj, known.as_deref(), &g.call(obj, known.is_none()))
        .await?;
    if !obs.exists {
        return Ok(Deleted::Gone);
    }
    let Some(id) = obs.external_name.or(known) else {
        return Ok(Deleted::Gone);
    };
    Ok(g.external().delete(obj, &id, &g.call(obj, false)).await?)
}

async fn write_status<K: Managed>(
    api: &Api<K>,
    obj: &K,
    outcome: &Outcome<K::Observation>,
) -> Result<(), Error> {
    let old = obj.managed_status();
    let now = jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .expect("rounding")
        .to_string();
    let new = next_status(old, outcome, obj.meta().generation, &now);
    if status_changed(old, &new) {
        apply_status(api, &obj.name_any(), &new).await?;
    }
    Ok(())
}

async fn publish<K: Managed>(
    ctx: &Context,
    obj: &K,
    type_: EventType,
    reason: &str,
    action: &str,
    note: String,
) {
    let what = EventNote {
        type_,
        reason,
        action,
        note,
    };
    if let Err(e) = ctx.events.publish(&obj.object_ref(&()), &what).await {
        debug!(error = %e, "could not publish event");
    }
}
