//! The one reconciler every kind and vendor share. It reads top to bottom:
//! pause → deletion → finalizer → gather (provider, adapter, references) → observe →
//! create (with create-pending) or adopt → correct or report drift → status and events.
//!
//! Its Kubernetes side is `Context::cluster` (a real API server, or memory in the table tests),
//! its vendor side the adapter of the object's kind in the provider's runtime.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kube::ResourceExt;
use kube::runtime::controller::Action;
use tracing::{Instrument, debug, info, info_span, warn};

use super::annotations::{CREATE_PENDING, EXTERNAL_NAME, FINALIZER, PAUSED};
use super::backup_health;
use super::cluster::ObjectAt;
use super::conditions::{Outcome, next_status, status_changed, with_extra};
use super::context::Context;
use super::errors::{Class, Error};
use super::events::Event;
use super::external::{
    CallContext, Deleted, External, ExternalError, Observation, Ownership, Readiness,
};
use super::hub::{ProviderKey, VendorRuntime};
use super::managed::Managed;
use super::marker::ownership_marker;
use super::refs::Refs;
use crate::api::common::{Allowed, DeletionPolicy, Drift};
use crate::telemetry::metrics;

/// Drift field reported when write-only fields changed since they were last applied.
pub const WRITE_ONLY_FIELDS: &str = "(write-only fields)";

/// Entry point for `kube::runtime::Controller`.
pub async fn reconcile<K: Managed>(obj: Arc<K>, ctx: Arc<Context>) -> Result<Action, Error> {
    let ns = obj.namespace().unwrap_or_default();
    let name = obj.name_any();
    let span = info_span!("reconcile", kind = K::KIND, namespace = %ns, name = %name);
    let started = Instant::now();
    let result = reconcile_once(obj.as_ref(), &ctx)
        .instrument(span)
        .await
        .map(Action::from);
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

/// What to do after a reconcile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Nothing until the object changes.
    Await,
    /// Reconcile again after this long (the poll interval for drift detection, or sooner).
    After(Duration),
}

impl From<Next> for Action {
    fn from(n: Next) -> Action {
        match n {
            Next::Await => Action::await_change(),
            Next::After(d) => Action::requeue(d),
        }
    }
}

/// One reconcile of `obj`, without the controller's bookkeeping (the table tests call this).
pub async fn reconcile_once<K: Managed>(obj: &K, ctx: &Context) -> Result<Next, Error> {
    Reconcile::new(obj, ctx).run().await
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

/// One reconcile of one object.
struct Reconcile<'a, K: Managed> {
    obj: K,
    at: ObjectAt,
    ctx: &'a Context,
    /// The external name this pass works with: the annotation's, until the object at that id
    /// turns out not to be rampart's.
    recorded: Option<String>,
    /// What this pass's observe reported beside Ready and Synced: kept on a failed status too
    /// (a create refused for a conflict between objects still shows the conflict).
    observed_extra: Vec<super::external::ExtraCondition>,
    /// This pass's backup health verdict and facts, for kinds whose vendor holds backups.
    backups: Option<crate::health::Assessed>,
}

/// The resolved pieces a vendor call needs.
struct Gathered<K: Managed> {
    runtime: Arc<dyn VendorRuntime>,
    poll_interval: Duration,
    /// How long one vendor request may take: a create unanswered for this long may still
    /// have happened.
    request_timeout: Duration,
    marker: String,
    refs: Refs,
    _kind: std::marker::PhantomData<K>,
}

impl<K: Managed> Gathered<K> {
    fn external(&self) -> &dyn External<K> {
        K::external(&*self.runtime).expect("checked in gather")
    }
}

/// What deletion did at the vendor.
enum Deletion {
    Done(Deleted),
    /// Nothing there is rampart's to delete; why.
    LeftAlone(String),
}

/// Where observe → create/adopt left the vendor object.
struct Found<A> {
    id: String,
    seen: Observation<A>,
    just_created: bool,
}

impl<'a, K: Managed> Reconcile<'a, K> {
    fn new(obj: &K, ctx: &'a Context) -> Self {
        Reconcile {
            at: ObjectAt::of(obj),
            recorded: obj.annotations().get(EXTERNAL_NAME).cloned(),
            obj: obj.clone(),
            ctx,
            observed_extra: Vec::new(),
            backups: None,
        }
    }

    async fn run(mut self) -> Result<Next, Error> {
        if self.paused() {
            self.write_status(&Outcome::Paused).await?;
            return Ok(Next::Await);
        }
        if self.obj.meta().deletion_timestamp.is_some() {
            return self.cleanup().await;
        }
        self.ensure_finalizer().await?;
        match self.sync().await {
            Ok((outcome, action)) => {
                self.write_status(&outcome).await?;
                Ok(action)
            }
            Err(e) => self.report_failure(e, "Reconcile").await,
        }
    }

    fn paused(&self) -> bool {
        self.obj
            .annotations()
            .get(PAUSED)
            .is_some_and(|v| v == "true")
    }

    fn annotation(&self, key: &str) -> Option<String> {
        self.obj.annotations().get(key).cloned()
    }

    fn allowed(&self) -> Allowed {
        Allowed::from_policies(&self.obj.managed().management_policies)
    }

    /// The finalizer goes on before any vendor call, so nothing is ever created that rampart
    /// could not clean up.
    async fn ensure_finalizer(&mut self) -> Result<(), Error> {
        if has_finalizer(&self.obj) {
            return Ok(());
        }
        let meta = self.obj.meta();
        let finalizers = meta.finalizers.clone().unwrap_or_default();
        let version = meta.resource_version.clone().unwrap_or_default();
        self.ctx
            .cluster
            .add_finalizer(&self.at, &finalizers, &version)
            .await?;
        self.obj
            .meta_mut()
            .finalizers
            .get_or_insert_with(Vec::new)
            .push(FINALIZER.to_string());
        Ok(())
    }

    /// Observe, then create or adopt, then correct or report drift.
    async fn sync(&mut self) -> Result<(Outcome<K::Observation>, Next), Error> {
        let g = self.gather().await?;
        let seen = self.observe(&g).await?;
        if seen.exists
            && let Some(why) = self.not_owned(&seen)
        {
            return Ok(self.refuse(why, &g).await);
        }
        let found = if seen.exists {
            self.adopt_or_confirm(seen).await?
        } else {
            match self.create_or_report_absent(&g).await? {
                Ok(found) => found,
                Err(early) => return Ok(early),
            }
        };
        let id = found.id.clone();
        let outcome = self.correct_or_report_drift(&g, found).await?;
        self.judge_backups(&g, &id).await;
        let action = match &outcome {
            Outcome::Observed {
                readiness: Readiness::Creating(_),
                ..
            } => Next::After(self.ctx.settings.pending_requeue),
            _ => resync(&g),
        };
        Ok((outcome, action))
    }

    /// Backup health, where the adapter reports backups: judged at the engine's clock, an
    /// Event when the verdict changes, the metrics set; the status is written with the outcome.
    async fn judge_backups(&mut self, g: &Gathered<K>, id: &str) {
        let Some(report) = g
            .external()
            .backups(&self.obj, id, &self.call(g, false))
            .await
        else {
            return;
        };
        let now = self.ctx.settings.clock.now();
        let since = self
            .obj
            .meta()
            .creation_timestamp
            .as_ref()
            .map_or(now, |t| t.0);
        let assessed = crate::health::assess(&report, now, since);
        if let Some(event) =
            backup_health::change_event(self.obj.managed_status(), &assessed.health)
        {
            self.publish(event).await;
        }
        backup_health::record(&self.backup_labels(g), &assessed, now);
        self.backups = Some(assessed);
    }

    fn backup_labels(&self, g: &Gathered<K>) -> crate::telemetry::metrics::BackupLabels {
        crate::telemetry::metrics::BackupLabels {
            kind: K::KIND.into(),
            namespace: self.at.namespace.clone(),
            name: self.at.name.clone(),
            vendor: format!("{:?}", g.runtime.provider_type()),
        }
    }

    /// Gather and validate: the provider runtime, the adapter for this kind, references, marker.
    async fn gather(&self) -> Result<Gathered<K>, Error> {
        let ns = &self.at.namespace;
        let pref = &self.obj.managed().provider_config_ref;
        let key = ProviderKey::for_ref(ns, pref);
        // Its own check says it cannot log in or is misconfigured: say so instead of "matches
        // the spec" from a snapshot, and send nothing to the vendor.
        if let Some(why) = self.ctx.hub.blocked(&key) {
            return Err(Error::ProviderNotReady { key, why });
        }
        let runtime = self.ctx.hub.runtime_for(ns, pref).await?;
        let config = self.ctx.hub.config(&key)?;
        let poll_interval = Duration::from_secs(config.poll_interval_seconds.max(1) as u64);
        let request_timeout = Duration::from_secs(config.request_timeout_seconds.max(1) as u64);
        let vendor = runtime.provider_type();
        match self.obj.vendor_block() {
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
        for key in self.obj.references() {
            if let Some(target) = self.ctx.lookup.get(ns, &key).await? {
                refs.insert(&key, target);
            }
        }
        let marker = ownership_marker(&self.ctx.settings.cluster_id, K::KIND, ns, &self.at.name);
        Ok(Gathered {
            runtime,
            poll_interval,
            request_timeout,
            marker,
            refs,
            _kind: std::marker::PhantomData,
        })
    }

    fn call<'b>(&'b self, g: &'b Gathered<K>, fresh: bool) -> CallContext<'b> {
        CallContext {
            marker: &g.marker,
            fresh,
            last_applied_hash: self
                .obj
                .managed_status()
                .and_then(|s| s.last_applied_hash.as_deref()),
            refs: &g.refs,
            hub: &self.ctx.hub,
            trust_unmarked_id: self.trusts_unmarked_id(),
            wake: super::waker::Wake::new(K::KIND, &*self.ctx.waker),
        }
    }

    /// The external name was given by the user (rampart never saw its marker on that id), so
    /// an unmarked object there is the one the user asked rampart to adopt.
    fn trusts_unmarked_id(&self) -> bool {
        let marked = self
            .obj
            .managed_status()
            .and_then(|s| s.marked_external_name.as_deref());
        self.annotation(EXTERNAL_NAME)
            .is_some_and(|id| marked != Some(id.as_str()))
    }

    /// Why a vendor object the adapter found is not this object's, if it is not.
    fn not_owned(&self, seen: &Observation<K::Observation>) -> Option<String> {
        let id = seen
            .external_name
            .clone()
            .or_else(|| self.recorded.clone())
            .unwrap_or_else(|| "(no id)".into());
        match seen.ownership {
            Ownership::Marked => None,
            Ownership::Unmarked if self.trusts_unmarked_id() => None,
            Ownership::Unmarked => Some(format!(
                "vendor object {id} no longer carries rampart's ownership marker, which rampart saw on it before: the vendor may have re-used the id after a reset, or someone removed the marker; rampart leaves it alone. Remove the {EXTERNAL_NAME} annotation to let rampart create its own object, or put the marker back"
            )),
            // The user named it: taking over an object another rampart object marked (one
            // orphaned by a deleted object, or moved to a new name) is theirs to ask.
            Ownership::OtherMarker if self.trusts_unmarked_id() => None,
            Ownership::OtherMarker => Some(format!(
                "vendor object {id} carries the ownership marker of another rampart object, which may have taken it over: two objects may not manage one vendor object; rampart leaves it alone and makes no other. Remove the {EXTERNAL_NAME} annotation to let rampart create its own object"
            )),
            Ownership::NameOnly if self.obj.annotations().contains_key(CREATE_PENDING) => None,
            Ownership::NameOnly => Some(format!(
                "vendor object {id} has the name this object asks for but not rampart's ownership marker: it may belong to someone else, so rampart neither adopts nor changes it. To adopt it on purpose, set the annotation {EXTERNAL_NAME}: \"{id}\"; otherwise choose another name"
            )),
        }
    }

    /// Report a vendor object that is not this object's, once per message.
    async fn refuse(&self, why: String, g: &Gathered<K>) -> (Outcome<K::Observation>, Next) {
        let said = self.obj.managed_status().is_some_and(|s| {
            s.conditions
                .iter()
                .any(|c| c.type_ == "Synced" && c.reason == "AdoptionRefused" && c.message == why)
        });
        if !said {
            warn!(reason = %why, "vendor object not adopted");
            self.publish(Event::warning("AdoptionRefused", "Observe", why.clone()))
                .await;
        }
        (Outcome::NotOwned(why), resync(g))
    }

    /// Read the vendor object. A pending create means we may have created the object without
    /// recording it: read the vendor itself, not a snapshot from before the create.
    async fn observe(&mut self, g: &Gathered<K>) -> Result<Observation<K::Observation>, Error> {
        let pending = self.obj.annotations().contains_key(CREATE_PENDING);
        let mut seen = g
            .external()
            .observe(&self.obj, self.recorded.as_deref(), &self.call(g, pending))
            .await?;
        // A recorded object missing from a snapshot may only be missing from a listing that
        // began before it was created (found by the chaos suite: a FirewallRule created while
        // its section was being listed was judged absent). Before calling it gone, which
        // re-creates it or stalls, read the vendor again with a listing that starts now.
        if !seen.exists && self.recorded.is_some() && !pending {
            seen = g
                .external()
                .observe(&self.obj, self.recorded.as_deref(), &self.call(g, true))
                .await?;
        }
        if seen.exists && self.stranger_at_recorded_id(&seen) {
            let id = self.recorded.take().expect("a recorded id");
            let why = format!(
                "vendor object {id}, at the recorded external name, does not carry rampart's ownership marker any more (the vendor may have re-used the id after a reset); rampart leaves it alone and looks for its own object by its marker"
            );
            warn!(external_name = %id, "the object at the recorded id is not rampart's");
            self.publish(Event::warning("ExternalNotOwned", "Observe", why))
                .await;
            seen = g
                .external()
                .observe(&self.obj, None, &self.call(g, true))
                .await?;
        }
        self.observed_extra = seen.conditions.clone();
        Ok(seen)
    }

    /// The adapter found an object at the recorded id that rampart marked before and that
    /// carries no marker any more (a re-used id). One with another object's marker was taken
    /// over by that object on the user's word: reported, never answered with a second create.
    fn stranger_at_recorded_id(&self, seen: &Observation<K::Observation>) -> bool {
        let at_recorded = seen.external_name.is_none() || seen.external_name == self.recorded;
        at_recorded
            && self.recorded.is_some()
            && seen.ownership == Ownership::Unmarked
            && !self.trusts_unmarked_id()
    }

    /// The vendor object exists: record its id if the adapter found it by its marker, and
    /// clear a pending create it answers.
    async fn adopt_or_confirm(
        &self,
        seen: Observation<K::Observation>,
    ) -> Result<Found<K::Observation>, Error> {
        let recorded = self.recorded.clone();
        let pending = self.obj.annotations().contains_key(CREATE_PENDING);
        if let Some(found) = seen
            .external_name
            .clone()
            .filter(|f| Some(f) != recorded.as_ref())
        {
            info!(external_name = %found, "adopting vendor object found by ownership marker");
            self.ctx
                .cluster
                .patch_annotations(
                    &self.at,
                    &[(EXTERNAL_NAME, Some(&found)), (CREATE_PENDING, None)],
                )
                .await?;
            self.publish(Event::normal(
                "Adopted",
                "Observe",
                format!("found vendor object {found} by its ownership marker"),
            ))
            .await;
            return Ok(Found {
                id: found,
                seen,
                just_created: false,
            });
        }
        if pending {
            self.ctx
                .cluster
                .patch_annotations(&self.at, &[(CREATE_PENDING, None)])
                .await?;
        }
        let id = recorded.expect("an object seen without being found by marker was named");
        if seen.ownership == Ownership::OtherMarker {
            let why = format!(
                "vendor object {id} carried another rampart object's ownership marker; rampart takes it over as the {EXTERNAL_NAME} annotation asks, and that object, if it still exists, will report it as no longer its own"
            );
            warn!(external_name = %id, "adopting a vendor object another rampart object marked");
            self.publish(Event::warning("AdoptedFromAnotherObject", "Observe", why))
                .await;
        }
        Ok(Found {
            id,
            seen,
            just_created: false,
        })
    }

    /// The vendor object does not exist: create it, or say why not. `Err` inside `Ok` is an
    /// early answer (not allowed to create; created but not listed yet).
    async fn create_or_report_absent(
        &self,
        g: &Gathered<K>,
    ) -> Result<Result<Found<K::Observation>, (Outcome<K::Observation>, Next)>, Error> {
        let allowed = self.allowed();
        let pending = self.obj.annotations().contains_key(CREATE_PENDING);
        if let Some(n) = &self.recorded
            && !pending
        {
            let seen_before = self
                .obj
                .managed_status()
                .is_some_and(|s| s.at_provider.is_some());
            if !seen_before {
                return Err(Error::Spec(format!(
                    "metadata.annotations[{EXTERNAL_NAME}]: {n} does not exist at the vendor; remove the annotation to let rampart create a new object"
                )));
            }
            if allowed.create {
                self.publish(Event::warning(
                    "ExternalDeleted",
                    "Observe",
                    format!("vendor object {n} is gone; re-creating it"),
                ))
                .await;
            }
        }
        if pending && let Some(wait) = self.outcome_still_unknown(g) {
            // A create the vendor did not answer may still land: the listing that says it did
            // not must start at least one request timeout after it was sent.
            let msg = "waiting for the outcome of a create the vendor did not answer before creating again";
            return Ok(Err((Outcome::Waiting(msg.into()), Next::After(wait))));
        }
        if pending {
            // The vendor may hold an object from the interrupted create that its API gives no
            // way to find (Cyber Backup credentials have no list call). Say so before creating.
            self.publish(Event::warning(
                "CreatePendingNotFound",
                "Observe",
                "a create was interrupted before its result was recorded and the vendor shows no object with this object's ownership marker; creating again (if the vendor cannot be searched, check it for a leftover)",
            ))
            .await;
        }
        if !allowed.create {
            let msg =
                "the vendor object does not exist and managementPolicies do not include Create";
            return Ok(Err((Outcome::Absent(msg.into()), resync(g))));
        }
        let id = self.create(g).await?;
        let seen = g
            .external()
            .observe(&self.obj, Some(&id), &self.call(g, false))
            .await?;
        if !seen.exists {
            // The vendor accepted the create but does not show the object yet.
            let outcome = Outcome::Observed {
                readiness: Readiness::Creating(
                    "the vendor has not listed the new object yet".into(),
                ),
                at_provider: seen.at_provider,
                drift: Vec::new(),
                applied_hash: None,
                extra: seen.conditions,
                marked_id: None,
            };
            return Ok(Err((
                outcome,
                Next::After(self.ctx.settings.pending_requeue),
            )));
        }
        Ok(Ok(Found {
            id,
            seen,
            just_created: true,
        }))
    }

    /// How much longer the outcome of the pending create can still change: its request
    /// timeout, counted from when the create-pending mark was written (with a second of
    /// margin for clocks). `None` once a listing may rule on it.
    fn outcome_still_unknown(&self, g: &Gathered<K>) -> Option<Duration> {
        let since: jiff::Timestamp = self.annotation(CREATE_PENDING)?.parse().ok()?;
        let settled = since
            + jiff::SignedDuration::try_from(g.request_timeout + Duration::from_secs(1)).ok()?;
        let left = jiff::Timestamp::now().duration_until(settled);
        (left.is_positive()).then(|| left.unsigned_abs())
    }

    /// Create with the create-pending guard: the annotation is written before the vendor call
    /// and replaced by the external name after it, in one patch.
    async fn create(&self, g: &Gathered<K>) -> Result<String, Error> {
        let now = jiff::Timestamp::now().to_string();
        self.ctx
            .cluster
            .patch_annotations(&self.at, &[(CREATE_PENDING, Some(&now))])
            .await?;
        match g.external().create(&self.obj, &self.call(g, false)).await {
            Ok(created) => {
                let id = created.external_name;
                self.ctx
                    .cluster
                    .patch_annotations(
                        &self.at,
                        &[(EXTERNAL_NAME, Some(&id)), (CREATE_PENDING, None)],
                    )
                    .await?;
                info!(external_name = %id, "created vendor object");
                self.publish(Event::normal(
                    "Created",
                    "Create",
                    format!("created vendor object {id}"),
                ))
                .await;
                Ok(id)
            }
            Err(e) => {
                // Only a clear refusal proves nothing was created; after a timeout or a dropped
                // connection the pending mark stays, so the next observe reads the vendor fresh.
                // A refusal proves nothing of an earlier create whose answer never came (the
                // mark was there when this pass began): its object may still land, and must
                // then be found as rampart's, so the mark stays for it.
                let earlier_unresolved = self.obj.annotations().contains_key(CREATE_PENDING);
                if e.proves_nothing_created() && !earlier_unresolved {
                    self.ctx
                        .cluster
                        .patch_annotations(&self.at, &[(CREATE_PENDING, None)])
                        .await?;
                }
                Err(e.into())
            }
        }
    }

    /// Correct drift where Update is allowed, or only report it; the status to write.
    async fn correct_or_report_drift(
        &self,
        g: &Gathered<K>,
        found: Found<K::Observation>,
    ) -> Result<Outcome<K::Observation>, Error> {
        let Found {
            id,
            mut seen,
            just_created,
        } = found;
        let mut drift = effective_drift(&seen, &self.obj, just_created);
        let mut applied_hash = if just_created {
            seen.desired_hash.clone()
        } else {
            None
        };
        if !drift.is_empty() {
            metrics::drift(K::KIND);
            if self.allowed().update {
                g.external()
                    .update(&self.obj, &id, &seen, &self.call(g, false))
                    .await?;
                let fields = field_list(&drift);
                info!(fields = %fields, "corrected drift");
                self.publish(Event::normal(
                    "Updated",
                    "Update",
                    format!("updated {fields}"),
                ))
                .await;
                seen = g
                    .external()
                    .observe(&self.obj, Some(&id), &self.call(g, false))
                    .await?;
                applied_hash = seen.desired_hash.clone();
                drift = seen.drift.clone();
            } else if self.obj.managed_status().map(|s| &s.drift) != Some(&drift) {
                self.publish(Event::warning(
                    "DriftDetected",
                    "Observe",
                    format!(
                        "vendor differs in {}; not corrected because managementPolicies exclude Update",
                        field_list(&drift)
                    ),
                ))
                .await;
            }
        }
        Ok(Outcome::Observed {
            marked_id: (seen.ownership == Ownership::Marked).then_some(id),
            readiness: seen.readiness,
            at_provider: seen.at_provider,
            drift,
            applied_hash,
            extra: seen.conditions,
        })
    }

    /// Deletion: orphan, wait for referrers, or delete at the vendor and release the object.
    async fn cleanup(&self) -> Result<Next, Error> {
        if !has_finalizer(&self.obj) {
            return Ok(Next::Await);
        }
        if let Some(why) = self.orphan_reason().await? {
            self.publish(Event::normal(
                "Orphaned",
                "Delete",
                format!("left the vendor object in place: {why}"),
            ))
            .await;
            self.release().await?;
            return Ok(Next::Await);
        }
        let referrers = self
            .ctx
            .lookup
            .referrers(&self.at.namespace, K::KIND, &self.at.name);
        if !referrers.is_empty() {
            let msg = format!(
                "waiting to delete: still referenced by {}",
                referrers.join(", ")
            );
            self.write_status(&Outcome::Deleting(msg.clone())).await?;
            self.publish(Event::normal("DeletionBlocked", "Delete", msg))
                .await;
            return Ok(Next::After(Duration::from_secs(10)));
        }
        match self.delete_external().await {
            Ok(Deletion::Done(Deleted::Gone)) => {
                self.publish(Event::normal(
                    "Deleted",
                    "Delete",
                    "deleted the vendor object",
                ))
                .await;
                self.release().await?;
                Ok(Next::Await)
            }
            Ok(Deletion::Done(Deleted::InProgress)) => {
                let msg = "the vendor is deleting the object";
                self.write_status(&Outcome::Deleting(msg.into())).await?;
                Ok(Next::After(self.ctx.settings.pending_requeue))
            }
            Ok(Deletion::LeftAlone(why)) => {
                self.publish(Event::warning(
                    "Orphaned",
                    "Delete",
                    format!("left the vendor side in place: {why}"),
                ))
                .await;
                self.release().await?;
                Ok(Next::Await)
            }
            Err(e) => self.report_failure(e, "Delete").await,
        }
    }

    /// Why the vendor object stays when this object goes, if it does.
    async fn orphan_reason(&self) -> Result<Option<&'static str>, Error> {
        // Uninstalling the CRDs deletes every object; that must never delete vendor objects.
        if self.ctx.cluster.uninstalling(&self.at).await? {
            return Ok(Some("the CustomResourceDefinition is being uninstalled"));
        }
        if self.obj.deletion_policy() == DeletionPolicy::Orphan {
            return Ok(Some("deletionPolicy is Orphan"));
        }
        if !self.allowed().delete {
            return Ok(Some("managementPolicies exclude Delete"));
        }
        Ok(None)
    }

    async fn release(&self) -> Result<(), Error> {
        let finalizers = self.obj.meta().finalizers.clone().unwrap_or_default();
        self.ctx
            .cluster
            .remove_finalizer(&self.at, &finalizers)
            .await?;
        backup_health::forget(K::KIND, &self.at.namespace, &self.at.name);
        Ok(())
    }

    /// Delete the vendor object if it is this object's. Deletion never depends on the spec
    /// being one the vendor accepts: when the adapter cannot read the object against the spec,
    /// the object at the recorded id is deleted as it is, if rampart knows it is its own.
    async fn delete_external(&self) -> Result<Deletion, Error> {
        let g = match self.gather().await {
            Ok(g) => g,
            // No adapter for this spec: nothing was ever created through it.
            Err(Error::Spec(why)) => return Ok(Deletion::LeftAlone(why)),
            Err(e) => return Err(e),
        };
        let known = self.annotation(EXTERNAL_NAME);
        // Without a recorded id (a crash right after create), find the object by its marker.
        let seen = match g
            .external()
            .observe(&self.obj, known.as_deref(), &self.call(&g, known.is_none()))
            .await
        {
            Ok(seen) => seen,
            Err(ExternalError::InvalidSpec { field, message }) => {
                return self.delete_as_recorded(&g, known, &field, &message).await;
            }
            Err(e) => return Err(e.into()),
        };
        if !seen.exists {
            return Ok(Deletion::Done(Deleted::Gone));
        }
        if let Some(why) = self.not_owned(&seen) {
            return Ok(Deletion::LeftAlone(why));
        }
        let Some(id) = seen.external_name.or(known) else {
            return Ok(Deletion::Done(Deleted::Gone));
        };
        Ok(Deletion::Done(
            g.external()
                .delete(&self.obj, &id, &self.call(&g, false))
                .await?,
        ))
    }

    /// The spec cannot be read against the vendor (`field`: `message`), so the object cannot
    /// be observed: delete the recorded id if rampart saw its marker there or the user named it.
    async fn delete_as_recorded(
        &self,
        g: &Gathered<K>,
        known: Option<String>,
        field: &str,
        message: &str,
    ) -> Result<Deletion, Error> {
        let Some(id) = known else {
            return Ok(Deletion::LeftAlone(format!(
                "the spec cannot be applied ({field}: {message}) and no vendor object was recorded"
            )));
        };
        warn!(%field, %message, external_name = %id, "deleting the recorded vendor object without reading it against the spec");
        Ok(Deletion::Done(
            g.external()
                .delete(&self.obj, &id, &self.call(g, false))
                .await?,
        ))
    }

    /// Status and an Event for a failed step; the error goes back to the controller for its
    /// backoff.
    async fn report_failure(&self, e: Error, action: &'static str) -> Result<Next, Error> {
        let outcome = match e.class() {
            Class::Waiting => Outcome::Waiting(e.to_string()),
            class => Outcome::Failed {
                message: e.to_string(),
                terminal: class == Class::Terminal,
            },
        };
        self.write_status(&outcome).await?;
        if e.class() != Class::Waiting {
            warn!(error = %e, action, "reconcile failed");
            self.publish(Event::warning(e.reason(), action, e.to_string()))
                .await;
        }
        Err(e)
    }

    async fn write_status(&self, outcome: &Outcome<K::Observation>) -> Result<(), Error> {
        let old = self.obj.managed_status();
        let now = jiff::Timestamp::now()
            .round(jiff::Unit::Second)
            .expect("rounding")
            .to_string();
        let mut new = next_status(old, outcome, self.obj.meta().generation, &now);
        if matches!(outcome, Outcome::Failed { .. } | Outcome::Waiting(_)) {
            with_extra(&mut new, &self.observed_extra, old, &now);
        }
        backup_health::apply(&mut new, old, self.backups.as_ref(), &now);
        if status_changed(old, &new) {
            let status = serde_json::to_value(&new).expect("status serializes");
            self.ctx.cluster.apply_status(&self.at, status).await?;
        }
        Ok(())
    }

    async fn publish(&self, event: Event) {
        self.ctx.cluster.publish(&self.at, &event).await;
    }
}

fn has_finalizer<K: Managed>(obj: &K) -> bool {
    obj.finalizers().iter().any(|f| f == FINALIZER)
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

fn field_list(drift: &[Drift]) -> String {
    drift
        .iter()
        .map(|d| d.field.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Periodic requeue for drift detection: the provider's poll interval, spread by ±10% so
/// objects created together do not resync together.
fn resync<K: Managed>(g: &Gathered<K>) -> Next {
    let factor = 0.9 + rand::random::<f64>() * 0.2;
    Next::After(g.poll_interval.mul_f64(factor))
}

#[cfg(test)]
#[path = "reconciler_tests.rs"]
mod tests;
