//! On-demand runs: each new value of `rampart.dev/run-requested-at` on a Policy asks for one run
//! of the plan (`POST /policy_applications:run`, a long operation with no handle, §2.9). The
//! value is only a label: whatever time it names, a new value is one `:run` call.
//!
//! `:run` answers 202 and nothing else, so the run it started is recognised by appearing after
//! the call: just before calling, rampart notes the newest run start the applications show
//! (`last_runtime`, the vendor's own clock); the request's run is the one that starts after it.
//! No clock of rampart's is compared with the vendor's. `status.atProvider.lastRun` keeps that
//! mark, so a restarted operator follows the same run, and reports the run's own start, end and
//! result.

use jiff::{SignedDuration, Timestamp};

use super::models::{Application, meaningful_time};
use crate::api::Policy;
use crate::api::policy::OnDemandRun;
use crate::engine::annotations::RUN_REQUESTED_AT;

pub const STARTED: &str = "Started";
pub const RUNNING: &str = "Running";
pub const SUCCEEDED: &str = "Succeeded";
pub const FAILED: &str = "Failed";

/// How long an accepted run may take to show up before it counts as not started.
const NOT_STARTED_AFTER: SignedDuration = SignedDuration::from_mins(15);

/// The drift field of a pending run request.
pub const DRIFT_FIELD: &str = "metadata.annotations[rampart.dev/run-requested-at]";

/// The annotation's value, if set.
pub fn requested(cr: &Policy) -> Option<&str> {
    cr.metadata
        .annotations
        .as_ref()?
        .get(RUN_REQUESTED_AT)
        .map(String::as_str)
        .filter(|v| !v.trim().is_empty())
}

/// The run the status last reported.
pub fn reported(cr: &Policy) -> Option<&OnDemandRun> {
    cr.status.as_ref()?.at_provider.as_ref()?.last_run.as_ref()
}

/// Whether a run state is an outcome (nothing more to follow).
pub fn is_final(state: &str) -> bool {
    state == SUCCEEDED || state == FAILED
}

fn parse(t: Option<&str>) -> Option<Timestamp> {
    meaningful_time(t)?.parse().ok()
}

/// The newest run start the applications show.
pub fn newest_start(apps: &[Application]) -> Option<Timestamp> {
    apps.iter()
        .filter_map(|a| parse(a.last_runtime.as_deref()))
        .max()
}

/// Whether a run is in progress on any application (a new one is asked for only after it).
pub fn busy(apps: &[Application]) -> bool {
    apps.iter()
        .any(|a| a.running_state().as_deref() == Some("RUNNING"))
}

/// A `:run` call this process made, kept until the status records it.
#[derive(Debug, Clone, PartialEq)]
pub struct StartedRun {
    pub requested_at: String,
    pub called_at: Timestamp,
    pub after: Option<Timestamp>,
}

/// Whether the current request still needs its `:run` call.
pub fn pending(
    requested: Option<&str>,
    reported: Option<&OnDemandRun>,
    started: Option<&StartedRun>,
) -> bool {
    requested.is_some_and(|q| {
        reported.is_none_or(|r| r.requested_at != q) && started.is_none_or(|s| s.requested_at != q)
    })
}

/// The run an observe follows: the one this process started for the current request, else the
/// one the status follows for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Followed {
    pub requested_at: String,
    pub called_at: Option<Timestamp>,
    pub after: Option<Timestamp>,
    /// The status already holds its outcome: nothing to poll.
    pub outcome: Option<OnDemandRun>,
}

impl Followed {
    pub fn finished(&self) -> bool {
        self.outcome.is_some()
    }

    /// What `status.atProvider.lastRun` says now.
    pub fn report(&self, apps: &[Application], now: Timestamp) -> OnDemandRun {
        match &self.outcome {
            Some(done) => done.clone(),
            None => outcome(self, apps, now),
        }
    }
}

pub fn follow(
    requested: Option<&str>,
    reported: Option<&OnDemandRun>,
    started: Option<&StartedRun>,
) -> Option<Followed> {
    let current = |r: &str| requested.is_none_or(|q| q == r);
    if let Some(r) = reported.filter(|r| current(&r.requested_at) && is_final(&r.state)) {
        return Some(Followed {
            requested_at: r.requested_at.clone(),
            called_at: parse(r.called_at.as_deref()),
            after: parse(r.after.as_deref()),
            outcome: Some(r.clone()),
        });
    }
    if let Some(s) = started.filter(|s| current(&s.requested_at)) {
        return Some(Followed {
            requested_at: s.requested_at.clone(),
            called_at: Some(s.called_at),
            after: s.after,
            outcome: None,
        });
    }
    reported
        .filter(|r| current(&r.requested_at))
        .map(|r| Followed {
            requested_at: r.requested_at.clone(),
            called_at: parse(r.called_at.as_deref()),
            after: parse(r.after.as_deref()),
            outcome: None,
        })
}

/// The state of a followed run, from the plan's applications.
pub fn outcome(f: &Followed, apps: &[Application], now: Timestamp) -> OnDemandRun {
    let mut run = OnDemandRun {
        requested_at: f.requested_at.clone(),
        state: STARTED.to_string(),
        called_at: f.called_at.map(|t| t.to_string()),
        after: f.after.map(|t| t.to_string()),
        started_at: None,
        finished_at: None,
        message: None,
    };
    // The vendor runs enabled applications only; a switched-off device is not waited for.
    let expected: Vec<&Application> = apps.iter().filter(|a| a.enabled != Some(false)).collect();
    if expected.is_empty() {
        run.state = FAILED.into();
        run.message = Some("the plan is applied to nothing enabled, so nothing ran".into());
        return run;
    }
    let start = |a: &Application| parse(a.last_runtime.as_deref());
    let ran = |a: &&Application| start(a).is_some_and(|t| f.after.is_none_or(|after| t > after));
    let runs: Vec<&Application> = expected.iter().copied().filter(ran).collect();
    run.started_at = runs
        .iter()
        .filter_map(|a| start(a))
        .min()
        .map(|t| t.to_string());
    let running: Vec<&Application> = runs
        .iter()
        .copied()
        .filter(|a| a.running_state().as_deref() == Some("RUNNING"))
        .collect();
    if !running.is_empty() {
        run.state = RUNNING.into();
        let progress: Vec<String> = running
            .iter()
            .map(|a| {
                format!(
                    "{}: {}%",
                    a.context.id,
                    a.progress().unwrap_or_else(|| "?".into())
                )
            })
            .collect();
        run.message = Some(progress.join(", "));
        return run;
    }
    if runs.len() < expected.len() {
        // 202 promises nothing (an agent offline, a plan still deploying): give up waiting
        // after a while rather than report "Started" forever.
        let waited = f.called_at.map(|c| now.duration_since(c));
        if waited.is_some_and(|w| w > NOT_STARTED_AFTER) {
            run.state = FAILED.into();
            let idle: Vec<&str> = expected
                .iter()
                .filter(|a| !ran(a))
                .map(|a| a.context.id.as_str())
                .collect();
            run.message = Some(format!(
                "the vendor accepted the run but did not start it on {}",
                idle.join(", ")
            ));
        }
        return run;
    }
    let mut failed = Vec::new();
    let mut ends = Vec::new();
    for a in &runs {
        let began = start(a);
        let success = parse(a.last_success_time.as_deref()).filter(|t| Some(*t) >= began);
        let ok = a.status_text().as_deref() == Some("OK") && success.is_some();
        // A success ends at its `last_success_time`; a failure has no time of its own in the
        // document but the application's `updated_at`, which moves when the run ends.
        let end = if ok {
            success
        } else {
            parse(a.updated_at.as_deref()).filter(|t| Some(*t) >= began)
        };
        ends.extend(end);
        if !ok {
            failed.push(format!(
                "{}: {}",
                a.context.id,
                a.status_text().unwrap_or_else(|| "no status".into())
            ));
        }
    }
    run.finished_at = ends.into_iter().max().map(|t| t.to_string());
    if failed.is_empty() {
        run.state = SUCCEEDED.into();
    } else {
        run.state = FAILED.into();
        run.message = Some(failed.join(", "));
    }
    run
}

#[cfg(test)]
mod tests;
