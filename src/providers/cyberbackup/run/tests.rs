use super::*;
use serde_json::json;

fn app(
    running: &str,
    status: &str,
    last_runtime: &str,
    last_success: &str,
    updated: &str,
) -> Application {
    serde_json::from_value(json!({
        "context": {"id": "m1"}, "policy": {"id": "p"}, "enabled": true,
        "running": {"state": running, "progress": "40"}, "status": status,
        "last_runtime": last_runtime, "last_success_time": last_success, "updated_at": updated
    }))
    .unwrap()
}

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn followed(after: Option<&str>, called: &str) -> Followed {
    Followed {
        requested_at: "r1".into(),
        called_at: Some(t(called)),
        after: after.map(t),
        outcome: None,
    }
}

#[test]
fn any_new_value_is_pending_whatever_time_it_names() {
    let done = OnDemandRun {
        requested_at: "2026-02-01T00:00:00Z".into(),
        state: SUCCEEDED.into(),
        ..Default::default()
    };
    // Back-dated, and within a minute after the last run: both are new requests.
    for value in ["2020-01-01T00:00:00Z", "2026-02-01T00:00:30Z", "not a time"] {
        assert!(pending(Some(value), Some(&done), None), "{value}");
    }
    assert!(!pending(Some("2026-02-01T00:00:00Z"), Some(&done), None));
    let started = StartedRun {
        requested_at: "x".into(),
        called_at: t("2026-03-01T00:00:00Z"),
        after: None,
    };
    assert!(
        !pending(Some("x"), Some(&done), Some(&started)),
        "called once"
    );
    assert!(!pending(None, None, None));
}

#[test]
fn a_run_that_began_before_the_call_is_not_the_requested_one() {
    // The last run started at 06:22:38 and succeeded; rampart called at 08:00 after noting it.
    let before = [app(
        "IDLE",
        "OK",
        "2024-11-29T06:22:38Z",
        "2024-11-29T06:23:49Z",
        "2024-11-29T06:23:49Z",
    )];
    let f = followed(Some("2024-11-29T06:22:38Z"), "2024-11-29T08:00:00Z");
    let r = f.report(&before, t("2024-11-29T08:00:05Z"));
    assert_eq!((r.state.as_str(), r.started_at), (STARTED, None));
    // The run shows up, runs and ends: its own start, end and result.
    let running = [app(
        "RUNNING",
        "RUNNING",
        "2024-11-29T08:00:01Z",
        "2024-11-29T06:23:49Z",
        "2024-11-29T08:00:01Z",
    )];
    let r = f.report(&running, t("2024-11-29T08:00:05Z"));
    assert_eq!(r.state, RUNNING);
    assert_eq!(r.started_at.as_deref(), Some("2024-11-29T08:00:01Z"));
    assert_eq!(r.message.as_deref(), Some("m1: 40%"));
    let done = [app(
        "IDLE",
        "OK",
        "2024-11-29T08:00:01Z",
        "2024-11-29T08:01:10Z",
        "2024-11-29T08:01:10Z",
    )];
    let r = f.report(&done, t("2024-11-29T08:02:00Z"));
    assert_eq!(r.state, SUCCEEDED);
    assert_eq!(
        (r.started_at.as_deref(), r.finished_at.as_deref()),
        (Some("2024-11-29T08:00:01Z"), Some("2024-11-29T08:01:10Z"))
    );
    assert_eq!(r.called_at.as_deref(), Some("2024-11-29T08:00:00Z"));
    assert_eq!(r.after.as_deref(), Some("2024-11-29T06:22:38Z"));
}

#[test]
fn a_failed_run_ends_at_its_own_time_not_the_last_success() {
    let f = followed(Some("2024-11-29T06:22:38Z"), "2024-11-29T08:00:00Z");
    let failed = [app(
        "IDLE",
        "ERROR",
        "2024-11-29T08:00:01Z",
        "2024-11-29T06:23:49Z",
        "2024-11-29T08:00:40Z",
    )];
    let r = f.report(&failed, t("2024-11-29T08:02:00Z"));
    assert_eq!(r.state, FAILED);
    assert_eq!(r.message.as_deref(), Some("m1: ERROR"));
    assert_eq!(r.finished_at.as_deref(), Some("2024-11-29T08:00:40Z"));
    assert!(r.finished_at >= r.started_at);
}

#[test]
fn the_document_completed_example_is_a_success() {
    // §2.9.2.3: idle, ok, last_success_time after the run's start; the first run of the plan.
    let done = [app(
        "idle",
        "ok",
        "2024-11-29T06:22:38Z",
        "2024-11-29T06:23:49Z",
        "2024-11-29T06:23:50Z",
    )];
    let r = followed(None, "2024-11-29T06:22:30Z").report(&done, t("2024-11-29T06:24:00Z"));
    assert_eq!(r.state, SUCCEEDED);
    assert_eq!(r.finished_at.as_deref(), Some("2024-11-29T06:23:49Z"));
}

#[test]
fn an_accepted_run_that_never_starts_fails_after_a_while() {
    let idle = [app(
        "IDLE",
        "OK",
        "2024-11-29T06:22:38Z",
        "2024-11-29T06:23:49Z",
        "",
    )];
    let f = followed(Some("2024-11-29T06:22:38Z"), "2024-11-29T08:00:00Z");
    assert_eq!(f.report(&idle, t("2024-11-29T08:14:00Z")).state, STARTED);
    let r = f.report(&idle, t("2024-11-29T08:16:00Z"));
    assert_eq!(r.state, FAILED);
    assert_eq!(
        r.message.as_deref(),
        Some("the vendor accepted the run but did not start it on m1")
    );
    assert_eq!(
        f.report(&[], t("2024-11-29T08:00:00Z")).state,
        FAILED,
        "applied to nothing"
    );
}

#[test]
fn a_switched_off_device_is_not_waited_for() {
    let mut off = app(
        "IDLE",
        "OK",
        "2024-11-29T06:22:38Z",
        "2024-11-29T06:23:49Z",
        "",
    );
    off.enabled = Some(false);
    off.context.id = "m2".into();
    let done = app(
        "IDLE",
        "OK",
        "2024-11-29T08:00:01Z",
        "2024-11-29T08:01:10Z",
        "",
    );
    let f = followed(Some("2024-11-29T06:22:38Z"), "2024-11-29T08:00:00Z");
    assert_eq!(
        f.report(&[done, off], t("2024-11-29T08:02:00Z")).state,
        SUCCEEDED
    );
}

#[test]
fn the_status_outcome_is_final_and_an_unfinished_one_is_followed_after_a_restart() {
    let done = OnDemandRun {
        requested_at: "r1".into(),
        state: SUCCEEDED.into(),
        started_at: Some("2024-11-29T06:22:38Z".into()),
        ..Default::default()
    };
    let f = follow(Some("r1"), Some(&done), None).unwrap();
    assert!(f.finished());
    assert_eq!(f.report(&[], Timestamp::now()), done);
    assert_eq!(follow(Some("r2"), Some(&done), None), None, "r2 is pending");
    let running = OnDemandRun {
        requested_at: "r1".into(),
        state: RUNNING.into(),
        called_at: Some("2024-11-29T08:00:00Z".into()),
        after: Some("2024-11-29T06:22:38Z".into()),
        ..Default::default()
    };
    let f = follow(Some("r1"), Some(&running), None).unwrap();
    assert_eq!(f.after, Some(t("2024-11-29T06:22:38Z")));
    assert!(!f.finished());
}

#[test]
fn newest_start_and_busy_read_the_applications() {
    let apps = [
        app("IDLE", "OK", "2024-11-29T06:22:38Z", "", ""),
        app("RUNNING", "RUNNING", "2024-11-29T07:00:00Z", "", ""),
        app("IDLE", "OK", "1970-01-01T00:00:00Z", "", ""),
    ];
    assert_eq!(newest_start(&apps), Some(t("2024-11-29T07:00:00Z")));
    assert!(busy(&apps));
    assert!(!busy(&apps[..1]));
    assert_eq!(newest_start(&[]), None);
}
