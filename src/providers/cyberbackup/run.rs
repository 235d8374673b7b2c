//! On-demand runs: `rampart.dev/run-requested-at` on a Policy asks for one run of the plan
//! (`POST /policy_applications:run`, a long operation with no handle, §2.9). Observe compares
//! the annotation with the run last reported in `status.atProvider.lastRun` and reports a new
//! value as drift; update starts the run; later observes follow the applications' run state
//! (`RUNNING` → `IDLE`, `status`, `last_success_time`) until the outcome is known.

use jiff::{SignedDuration, Timestamp};

use super::models::Application;
use crate::api::Policy;
use crate::api::policy::OnDemandRun;
use crate::engine::annotations::RUN_REQUESTED_AT;

pub const STARTED: &str = "Started";
pub const RUNNING: &str = "Running";
pub const SUCCEEDED: &str = "Succeeded";
pub const FAILED: &str = "Failed";

/// Vendor and operator clocks differ; a run is matched to a request with this much slack.
const CLOCK_SLACK: SignedDuration = SignedDuration::from_secs(60);

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
    t?.parse().ok()
}

/// `t` less the clock slack; the earliest instant when `t` is near it (a request annotation
/// or a vendor time may be any timestamp).
fn with_slack(t: Timestamp) -> Timestamp {
    t.checked_sub(CLOCK_SLACK).unwrap_or(Timestamp::MIN)
}

/// Whether the applications show a run that began at or after `t`: one is running, or one's
/// `last_runtime` is not older than `t`. Used to recognise, after a restart, a run rampart
/// already started for a request whose value is a time.
pub fn began_since(apps: &[Application], t: Timestamp) -> bool {
    apps.iter().any(|a| {
        a.running_state().as_deref() == Some("RUNNING")
            || parse(a.last_runtime.as_deref()).is_some_and(|r| r >= with_slack(t))
    })
}

/// A run rampart started, kept until the status records it.
#[derive(Debug, Clone, PartialEq)]
pub struct StartedRun {
    pub requested_at: String,
    pub started_at: Timestamp,
}

/// The run an observe follows, and where it knows it from.
#[derive(Debug, Clone, PartialEq)]
pub struct StartedFrom {
    pub requested_at: String,
    pub started_at: Timestamp,
    /// The status already holds its outcome: nothing to poll.
    pub finished: bool,
    reported: Option<OnDemandRun>,
}

impl StartedFrom {
    /// What `status.atProvider.lastRun` should say now.
    pub fn report(&self, apps: &[Application], now: Timestamp) -> OnDemandRun {
        match (&self.reported, self.finished) {
            (Some(r), true) => r.clone(),
            _ => outcome(&self.requested_at, self.started_at, apps, now),
        }
    }
}

/// Which run to follow: the outcome the status holds for the current request; else a run this
/// process started for it; else the run the status follows; else (after a restart, for a
/// request whose value is a time) a run the applications show began since then.
pub fn track(
    requested: Option<&str>,
    reported: Option<&OnDemandRun>,
    started: Option<&StartedRun>,
    apps: &[Application],
) -> Option<StartedFrom> {
    let same = |r: &str| requested.is_none_or(|q| q == r);
    let from_status = reported
        .filter(|r| same(&r.requested_at))
        .map(|r| StartedFrom {
            requested_at: r.requested_at.clone(),
            started_at: parse(r.started_at.as_deref()).unwrap_or_else(Timestamp::now),
            finished: is_final(&r.state),
            reported: Some(r.clone()),
        });
    if let Some(f) = from_status.as_ref().filter(|f| f.finished) {
        return Some(f.clone());
    }
    if let Some(s) = started.filter(|s| requested == Some(s.requested_at.as_str())) {
        return Some(StartedFrom {
            requested_at: s.requested_at.clone(),
            started_at: s.started_at,
            finished: false,
            reported: None,
        });
    }
    if from_status.is_some() {
        return from_status;
    }
    let q = requested?;
    let t: Timestamp = q.parse().ok()?;
    began_since(apps, t).then(|| StartedFrom {
        requested_at: q.to_string(),
        started_at: t,
        finished: false,
        reported: None,
    })
}

/// The state of a run started at `started_at`, from the plan's applications.
pub fn outcome(
    requested_at: &str,
    started_at: Timestamp,
    apps: &[Application],
    now: Timestamp,
) -> OnDemandRun {
    let mut run = OnDemandRun {
        requested_at: requested_at.to_string(),
        state: STARTED.to_string(),
        started_at: Some(started_at.to_string()),
        finished_at: None,
        message: None,
    };
    if apps.is_empty() {
        run.state = FAILED.into();
        run.message = Some("the plan is applied to nothing, so nothing ran".into());
        return run;
    }
    let since = with_slack(started_at);
    let running: Vec<&Application> = apps
        .iter()
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
    let ran = |a: &&Application| parse(a.last_runtime.as_deref()).is_some_and(|t| t >= since);
    if !apps.iter().all(|a| ran(&a)) {
        // 202 promises nothing (an agent offline, a plan still deploying): give up waiting
        // after a while rather than report "Started" forever.
        if now.duration_since(started_at) > NOT_STARTED_AFTER {
            run.state = FAILED.into();
            let idle: Vec<&str> = apps
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
    let succeeded = |a: &&Application| {
        a.status_text().as_deref() == Some("OK")
            && parse(a.last_success_time.as_deref()).is_some_and(|t| t >= since)
    };
    run.finished_at = apps
        .iter()
        .filter_map(|a| parse(a.last_success_time.as_deref()))
        .max()
        .map(|t| t.to_string());
    if apps.iter().all(|a| succeeded(&a)) {
        run.state = SUCCEEDED.into();
    } else {
        run.state = FAILED.into();
        let failed: Vec<String> = apps
            .iter()
            .filter(|a| !succeeded(a))
            .map(|a| {
                format!(
                    "{}: {}",
                    a.context.id,
                    a.status_text().unwrap_or_else(|| "no status".into())
                )
            })
            .collect();
        run.message = Some(failed.join(", "));
    }
    run
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn app(running: &str, status: &str, last_runtime: &str, last_success: &str) -> Application {
        serde_json::from_value(json!({
            "context": {"id": "m1"}, "policy": {"id": "p"},
            "running": {"state": running, "progress": "40"}, "status": status,
            "last_runtime": last_runtime, "last_success_time": last_success
        }))
        .unwrap()
    }

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn a_running_application_reports_progress() {
        let r = outcome(
            "r1",
            t("2024-11-29T06:22:00Z"),
            &[app(
                "running",
                "running",
                "2024-11-29T06:22:51Z",
                "2024-11-28T11:13:45Z",
            )],
            t("2024-11-29T06:22:00Z"),
        );
        assert_eq!(r.state, RUNNING);
        assert_eq!(r.message.as_deref(), Some("m1: 40%"));
        assert!(!is_final(&r.state));
    }

    #[test]
    fn the_document_completed_example_is_a_success() {
        // §2.9.2.3: idle, ok, last_success_time moved past the request.
        let r = outcome(
            "r1",
            t("2024-11-29T06:22:30Z"),
            &[app(
                "idle",
                "ok",
                "2024-11-29T06:22:38Z",
                "2024-11-29T06:23:49Z",
            )],
            t("2024-11-29T06:22:30Z"),
        );
        assert_eq!(r.state, SUCCEEDED);
        assert_eq!(r.finished_at.as_deref(), Some("2024-11-29T06:23:49Z"));
        assert!(is_final(&r.state));
    }

    #[test]
    fn an_idle_application_that_has_not_run_since_the_request_is_still_started() {
        let r = outcome(
            "r1",
            t("2024-11-29T08:00:00Z"),
            &[app(
                "IDLE",
                "OK",
                "2024-11-29T06:22:38Z",
                "2024-11-29T06:23:49Z",
            )],
            t("2024-11-29T08:00:00Z"),
        );
        assert_eq!(r.state, STARTED);
    }

    #[test]
    fn an_accepted_run_that_never_starts_fails_after_a_while() {
        let idle = [app(
            "IDLE",
            "OK",
            "2024-11-29T06:22:38Z",
            "2024-11-29T06:23:49Z",
        )];
        let at = t("2024-11-29T08:00:00Z");
        assert_eq!(
            outcome("r1", at, &idle, t("2024-11-29T08:14:00Z")).state,
            STARTED
        );
        let r = outcome("r1", at, &idle, t("2024-11-29T08:16:00Z"));
        assert_eq!(r.state, FAILED);
        assert_eq!(
            r.message.as_deref(),
            Some("the vendor accepted the run but did not start it on m1")
        );
    }

    #[test]
    fn a_run_without_success_is_a_failure_with_the_vendor_status() {
        let r = outcome(
            "r1",
            t("2024-11-29T06:22:30Z"),
            &[app(
                "IDLE",
                "ERROR",
                "2024-11-29T06:22:38Z",
                "2024-11-28T11:13:45Z",
            )],
            t("2024-11-29T06:22:30Z"),
        );
        assert_eq!(r.state, FAILED);
        assert_eq!(r.message.as_deref(), Some("m1: ERROR"));
        assert_eq!(
            outcome(
                "r1",
                t("2024-11-29T06:22:30Z"),
                &[],
                t("2024-11-29T06:22:30Z")
            )
            .state,
            FAILED
        );
    }

    #[test]
    fn a_request_at_the_start_of_time_does_not_panic() {
        // Found by tests/fuzz: `run-requested-at: "-009999-01-01T00:00:00Z"` (or a vendor
        // time that far back) overflowed the clock-slack subtraction.
        let apps = vec![app(
            "IDLE",
            "OK",
            "2025-01-01T00:00:00Z",
            "2025-01-01T00:00:00Z",
        )];
        assert!(began_since(&apps, Timestamp::MIN));
        let run = outcome(
            "-009999-01-01T00:00:00Z",
            Timestamp::MIN,
            &apps,
            t("2025-01-02T00:00:00Z"),
        );
        assert_eq!(run.state, SUCCEEDED);
    }

    fn reported_run(requested: &str, state: &str) -> OnDemandRun {
        OnDemandRun {
            requested_at: requested.into(),
            state: state.into(),
            started_at: Some("2024-11-29T06:22:00Z".into()),
            finished_at: None,
            message: None,
        }
    }

    #[test]
    fn a_new_request_is_not_tracked_until_started() {
        let done = reported_run("r1", SUCCEEDED);
        assert_eq!(
            track(Some("r2"), Some(&done), None, &[]),
            None,
            "r2 is pending"
        );
        let started = StartedRun {
            requested_at: "r2".into(),
            started_at: t("2024-11-30T00:00:00Z"),
        };
        let f = track(Some("r2"), Some(&done), Some(&started), &[]).unwrap();
        assert_eq!((f.requested_at.as_str(), f.finished), ("r2", false));
    }

    #[test]
    fn a_reported_outcome_is_final_and_an_unfinished_one_is_followed() {
        let done = reported_run("r1", SUCCEEDED);
        let f = track(Some("r1"), Some(&done), None, &[]).unwrap();
        assert!(f.finished);
        assert_eq!(
            f.report(&[], Timestamp::now()),
            done,
            "a final outcome is not recomputed"
        );
        let running = reported_run("r1", RUNNING);
        let f = track(None, Some(&running), None, &[]).unwrap();
        assert!(!f.finished);
        let apps = [app(
            "IDLE",
            "OK",
            "2024-11-29T06:22:38Z",
            "2024-11-29T06:23:49Z",
        )];
        assert_eq!(f.report(&apps, Timestamp::now()).state, SUCCEEDED);
    }

    #[test]
    fn a_time_valued_request_is_recognised_from_the_vendor_after_a_restart() {
        let apps = [app("RUNNING", "running", "2024-11-29T06:22:51Z", "")];
        let f = track(Some("2024-11-29T06:22:00Z"), None, None, &apps).unwrap();
        assert_eq!(f.report(&apps, Timestamp::now()).state, RUNNING);
        assert_eq!(track(Some("not-a-time"), None, None, &apps), None);
        assert_eq!(track(None, None, None, &apps), None);
    }

    #[test]
    fn a_run_is_recognised_after_a_restart_by_its_start_time() {
        let apps = [app(
            "IDLE",
            "OK",
            "2024-11-29T06:22:38Z",
            "2024-11-29T06:23:49Z",
        )];
        assert!(began_since(&apps, t("2024-11-29T06:22:00Z")));
        assert!(!began_since(&apps, t("2024-11-29T07:00:00Z")));
        assert!(began_since(
            &[app("RUNNING", "running", "", "")],
            t("2030-01-01T00:00:00Z")
        ));
    }
}
