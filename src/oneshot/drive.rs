//! The once-only run of a one-shot action, shared by Backup and Restore: claim the start (a
//! `rampart.dev/start-pending` annotation written guarded by the resourceVersion, so a reconcile
//! from a stale cache cannot claim it twice), call the vendor once, record what it answered,
//! then follow it to its end. A start whose answer was lost is looked for at the vendor, never
//! made again: an answer that never shows is a Failed action the user can retry with a new
//! object, not a second backup or restore.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use kube::runtime::controller::Action;
use tracing::{info, warn};

use super::status::set_phase;
use super::vendor::{Progress, Refusal, Started, proves_nothing_started};
use crate::api::action_status::{ActionStatus, ActionTarget, Phase};
use crate::engine::annotations::START_PENDING;
use crate::engine::cluster::ObjectAt;
use crate::engine::context::Context;
use crate::engine::errors::Error;
use crate::engine::events::Event;
use crate::vendor::error::{ErrorKind, VendorError, VendorResult};

/// One action at one vendor, with its order bound in.
#[async_trait]
pub(super) trait Act: Send + Sync {
    fn check(&self) -> Result<(), Refusal>;
    async fn start(&self) -> VendorResult<Started>;
    async fn find(&self, since: Timestamp) -> VendorResult<Option<Started>>;
    async fn progress(&self, started: &Started) -> VendorResult<Progress>;
}

/// The object being driven, as this reconcile read it.
pub(super) struct Subject {
    pub at: ObjectAt,
    pub generation: Option<i64>,
    pub resource_version: String,
    pub annotations: BTreeMap<String, String>,
    pub status: ActionStatus,
}

/// How often a running action is followed, and how long a start whose answer was lost may
/// take to show at the vendor before it is given up.
#[derive(Clone, Copy, Debug)]
pub(super) struct Pace {
    pub poll: Duration,
    pub find_grace: Duration,
}

impl Pace {
    /// From the provider's poll interval: a lost start is looked for over at least two polls
    /// and a minute (a vendor that answered late records the task by then).
    pub fn for_poll(poll: Duration) -> Self {
        Pace {
            poll,
            find_grace: (poll * 2).max(Duration::from_secs(60)),
        }
    }
}

struct Run<'a> {
    ctx: &'a Context,
    s: Subject,
    before: ActionStatus,
    act: &'a dyn Act,
    pace: Pace,
}

/// Take the action's next step.
pub(super) async fn drive(
    ctx: &Context,
    subject: Subject,
    target: ActionTarget,
    act: &dyn Act,
    pace: Pace,
) -> Result<Action, Error> {
    let before = subject.status.clone();
    let mut run = Run {
        ctx,
        s: subject,
        before,
        act,
        pace,
    };
    run.s.status.target = Some(target);
    if let Err(refusal) = act.check() {
        return run.fail("Refused", &refusal.to_string()).await;
    }
    if let Some(vendor_id) = run.s.status.vendor_id.clone() {
        return run.follow(vendor_id).await;
    }
    match run.s.annotations.get(START_PENDING).cloned() {
        Some(since) => run.recover(&since).await,
        None => run.start().await,
    }
}

/// Give up on an action before any vendor call (a source that can never serve it).
pub(super) async fn refuse(
    ctx: &Context,
    subject: Subject,
    target: Option<ActionTarget>,
    reason: &str,
    message: &str,
) -> Result<Action, Error> {
    let mut status = subject.status.clone();
    if target.is_some() {
        status.target = target;
    }
    failed(ctx, &subject, &subject.status, status, reason, message).await
}

/// Write `status` as Failed and say so in a warning Event. Never retried.
async fn failed(
    ctx: &Context,
    subject: &Subject,
    before: &ActionStatus,
    mut status: ActionStatus,
    reason: &str,
    message: &str,
) -> Result<Action, Error> {
    let now = Timestamp::now().to_string();
    set_phase(
        &mut status,
        Phase::Failed,
        reason,
        message,
        subject.generation,
        &now,
    );
    write_if_changed(ctx, &subject.at, before, &status).await?;
    let event = Event::warning("Failed", "Fail", message.to_string());
    ctx.cluster.publish(&subject.at, &event).await;
    Ok(Action::await_change())
}

/// Wait (quietly, in Pending) for something the action needs.
pub(super) async fn wait(
    ctx: &Context,
    subject: Subject,
    reason: &str,
    message: &str,
) -> Result<Action, Error> {
    let mut status = subject.status.clone();
    let now = Timestamp::now().to_string();
    set_phase(
        &mut status,
        Phase::Pending,
        reason,
        message,
        subject.generation,
        &now,
    );
    write_if_changed(ctx, &subject.at, &subject.status, &status).await?;
    let kind = subject.at.resource.kind.clone();
    let attempt = ctx.failed(
        "OneShotWaiting",
        &format!("{kind}/{}", subject.at.namespace),
        &subject.at.name,
    );
    Ok(Action::requeue(
        ctx.settings
            .backoff
            .delay(crate::engine::errors::Class::Waiting, attempt),
    ))
}

impl Run<'_> {
    fn now() -> String {
        Timestamp::now().to_string()
    }

    async fn start(mut self) -> Result<Action, Error> {
        let claimed_at = Self::now();
        self.ctx
            .cluster
            .annotate_guarded(
                &self.s.at,
                START_PENDING,
                &claimed_at,
                &self.s.resource_version,
                !self.s.annotations.is_empty(),
            )
            .await?;
        match self.act.start().await {
            Ok(started) => {
                self.record(started, &claimed_at, "Started").await?;
                self.clear_claim().await?;
                Ok(Action::requeue(self.pace.poll))
            }
            Err(e) if proves_nothing_started(&e) => {
                self.clear_claim().await?;
                if matches!(
                    e.kind,
                    ErrorKind::Rejected
                        | ErrorKind::Forbidden
                        | ErrorKind::NotFound
                        | ErrorKind::Config
                ) {
                    return self.fail("VendorRefused", &e.to_string()).await;
                }
                self.pending("StartRefused", &e.to_string()).await?;
                Err(Error::External(e.into()))
            }
            Err(e) => {
                warn!(object = %self.s.at.name, error = %e, "start unconfirmed: looking for it at the vendor next");
                let message = format!(
                    "the vendor did not confirm the start ({e}); looking for it there before anything else"
                );
                self.pending("StartUnconfirmed", &message).await?;
                Err(Error::External(e.into()))
            }
        }
    }

    /// The claim is there but no vendor id: the answer to a start was lost (a crash, a
    /// timeout). Look for the start; never make another.
    async fn recover(self, since: &str) -> Result<Action, Error> {
        let since_ts: Timestamp = since.parse().unwrap_or_else(|_| Timestamp::now());
        match self.act.find(since_ts).await.map_err(vendor)? {
            Some(started) => {
                info!(object = %self.s.at.name, id = %started.vendor_id, "found a start whose answer was lost");
                let mut run = self;
                run.record(started, since, "StartFound").await?;
                run.clear_claim().await?;
                Ok(Action::requeue(run.pace.poll))
            }
            None => {
                let waited = Timestamp::now().duration_since(since_ts);
                let grace = jiff::SignedDuration::try_from(self.pace.find_grace)
                    .unwrap_or(jiff::SignedDuration::from_secs(60));
                if waited < grace {
                    let mut run = self;
                    let message = format!(
                        "a start made at {since} is not confirmed; looking for it at the vendor"
                    );
                    run.pending("StartUnconfirmed", &message).await?;
                    return Ok(Action::requeue(run.pace.poll));
                }
                let message = format!(
                    "a start made at {since} was never confirmed and the vendor shows nothing for it; it is not made again, so that nothing is done twice: create a new object to try again"
                );
                let mut run = self;
                run.clear_claim().await?;
                run.fail("StartLost", &message).await
            }
        }
    }

    async fn follow(mut self, vendor_id: String) -> Result<Action, Error> {
        let started = Started {
            vendor_id,
            task_id: self.s.status.task_id.clone(),
            backup_ids: self.s.status.backup_ids.clone(),
        };
        match self.act.progress(&started).await.map_err(vendor)? {
            Progress::Running => {
                let now = Self::now();
                set_phase(
                    &mut self.s.status,
                    Phase::Running,
                    "Running",
                    "the vendor is carrying it out",
                    self.s.generation,
                    &now,
                );
                self.write().await?;
                Ok(Action::requeue(self.pace.poll))
            }
            Progress::Succeeded {
                backup_ids,
                size_bytes,
                completed_at,
            } => {
                if !backup_ids.is_empty() {
                    self.s.status.backup_ids = backup_ids;
                }
                self.s.status.size_bytes = size_bytes.or(self.s.status.size_bytes);
                let done = self.completion(completed_at);
                self.s.status.completed_at = Some(done.clone());
                set_phase(
                    &mut self.s.status,
                    Phase::Succeeded,
                    "Succeeded",
                    "",
                    self.s.generation,
                    &done,
                );
                self.write().await?;
                let note = format!("the vendor reports {} done", started.vendor_id);
                self.event(Event::normal("Succeeded", "Complete", note))
                    .await;
                Ok(Action::await_change())
            }
            Progress::Failed {
                message,
                completed_at,
            } => {
                self.s.status.completed_at = Some(self.completion(completed_at));
                self.fail("VendorFailed", &message).await
            }
        }
    }

    /// When the action ended: the vendor's time, kept between the start rampart recorded and
    /// now. A vendor clock ahead of rampart's would otherwise show an action completed in the
    /// future (kubectl prints `<invalid>`), or before it started.
    fn completion(&self, vendor: Option<Timestamp>) -> String {
        let now = Timestamp::now();
        let started = self
            .s
            .status
            .started_at
            .as_deref()
            .and_then(|s| s.parse().ok());
        let at = vendor.unwrap_or(now).min(now);
        started.map_or(at, |s: Timestamp| at.max(s)).to_string()
    }

    /// Record what the vendor answered (or what `find` found) as Running.
    async fn record(&mut self, started: Started, at: &str, reason: &str) -> Result<(), Error> {
        let status = &mut self.s.status;
        status.vendor_id = Some(started.vendor_id.clone());
        status.task_id = started.task_id;
        status.backup_ids = started.backup_ids;
        status.started_at = Some(at.to_string());
        let message = format!("the vendor accepted it as {}", started.vendor_id);
        set_phase(
            status,
            Phase::Running,
            reason,
            &message,
            self.s.generation,
            &Self::now(),
        );
        self.write().await?;
        self.event(Event::normal("Started", "Start", message)).await;
        Ok(())
    }

    async fn pending(&mut self, reason: &str, message: &str) -> Result<(), Error> {
        set_phase(
            &mut self.s.status,
            Phase::Pending,
            reason,
            message,
            self.s.generation,
            &Self::now(),
        );
        self.write().await
    }

    async fn fail(self, reason: &str, message: &str) -> Result<Action, Error> {
        let status = self.s.status.clone();
        failed(self.ctx, &self.s, &self.before, status, reason, message).await
    }

    async fn clear_claim(&mut self) -> Result<(), Error> {
        self.ctx
            .cluster
            .patch_annotations(&self.s.at, &[(START_PENDING, None)])
            .await?;
        Ok(())
    }

    async fn write(&mut self) -> Result<(), Error> {
        write_if_changed(self.ctx, &self.s.at, &self.before, &self.s.status).await?;
        self.before = self.s.status.clone();
        Ok(())
    }

    async fn event(&self, event: Event) {
        self.ctx.cluster.publish(&self.s.at, &event).await;
    }
}

async fn write_if_changed(
    ctx: &Context,
    at: &ObjectAt,
    before: &ActionStatus,
    after: &ActionStatus,
) -> Result<(), Error> {
    if before != after {
        let value = serde_json::to_value(after).expect("status serializes");
        ctx.cluster.apply_status(at, value).await?;
    }
    Ok(())
}

fn vendor(e: VendorError) -> Error {
    Error::External(e.into())
}
