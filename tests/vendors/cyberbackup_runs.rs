//! On-demand runs, token expiry and the cost of a steady-state resync, in process.

use crate::cyberbackup_support::*;
use rampart::api::Policy;
use rampart::engine::annotations::RUN_REQUESTED_AT;
use rampart::engine::external::{External, Readiness};
use rampart::providers::cyberbackup::run::DRIFT_FIELD;
use rampart::simulators::cyberbackup::SimConfig;
use rampart::vendor::error::ErrorKind;
use serde_json::json;

fn nightly(env: &mut Env, machine: &str) -> Policy {
    env.add_vault_ref(&store());
    policy(
        "nightly",
        json!({"schedule": {"cron": "0 2 * * *"}, "vaultRef": {"name": "store"},
               "cyberBackup": {"type": "policy.backup.machine", "targets": {"resourceIds": [machine]}}}),
    )
}

/// A simulator with `config` and a plan for one machine, deployed.
async fn deployed(config: SimConfig) -> (Env, Policy, String) {
    let mut env = Env::with(config, 100).await;
    let machine = env.resource_id("DESKTOP-JRPTA4A");
    let p = nightly(&mut env, &machine);
    let rt = env.runtime().await;
    let id = env.create(policy_adapter(&rt), &p).await;
    env.sim.state.settle();
    (env, p, id)
}

/// Ask for a run and let update start it.
async fn start_run(env: &Env, a: &dyn External<Policy>, p: &mut Policy, id: &str, value: &str) {
    request_run(p, value);
    let o = env.observe(a, p, id).await;
    env.update(a, p, id, &o).await;
}

fn request_run(p: &mut Policy, value: &str) {
    p.metadata
        .annotations
        .get_or_insert_with(Default::default)
        .insert(RUN_REQUESTED_AT.into(), value.into());
}

#[tokio::test]
async fn an_on_demand_run_goes_through_and_its_outcome_is_observed() {
    let (env, mut p, id) = deployed(SimConfig {
        run_seconds: 600,
        ..Default::default()
    })
    .await;
    let rt = env.runtime().await;
    let a = policy_adapter(&rt);
    assert_eq!(
        env.observe(a, &p, &id).await.readiness,
        Readiness::Available
    );

    request_run(&mut p, "2031-01-01T00:00:00Z");
    let o = env.observe(a, &p, &id).await;
    assert_eq!(drift_fields(&o), vec![DRIFT_FIELD]);
    assert_eq!(o.drift[0].desired, "\"2031-01-01T00:00:00Z\"");
    assert_eq!(o.drift[0].observed, "null");

    env.sim.control().reset_counters();
    env.update(a, &p, &id, &o).await;
    assert_eq!(
        env.writes(),
        vec![("POST /api/v1/policy_applications:run".to_string(), 1)]
    );
    assert!(
        env.count("GET /api/v1/policy_applications") >= 1,
        "update polls until the run shows"
    );

    let o = env.observe(a, &p, &id).await;
    assert!(o.drift.is_empty(), "{:?}", o.drift);
    let run = o.at_provider.last_run.clone().unwrap();
    assert_eq!(
        (run.requested_at.as_str(), run.state.as_str()),
        ("2031-01-01T00:00:00Z", "Running")
    );
    assert!(run.message.unwrap().contains('%'));
    assert_eq!(
        o.at_provider.applications[0].running.as_deref(),
        Some("RUNNING")
    );
    record_status(&mut p, o.at_provider);

    env.sim.state.advance(jiff::SignedDuration::from_secs(601));
    let o = env.observe(a, &p, &id).await;
    let run = o.at_provider.last_run.clone().unwrap();
    assert_eq!(run.state, "Succeeded", "{run:?}");
    assert!(run.finished_at.is_some());
    assert_eq!(o.at_provider.last_success, run.finished_at);
    assert!(o.drift.is_empty());
    record_status(&mut p, o.at_provider);

    // The outcome is final: later observes read the snapshot, not the vendor.
    env.sim.control().reset_counters();
    let o = env.observe(a, &p, &id).await;
    assert_eq!(o.at_provider.last_run.unwrap().state, "Succeeded");
    assert_eq!(env.sim.control().total(), 0);

    // A new value asks for another run.
    request_run(&mut p, "2031-01-02T00:00:00Z");
    let o = env.observe(a, &p, &id).await;
    assert_eq!(drift_fields(&o), vec![DRIFT_FIELD]);
}

#[tokio::test]
async fn a_failed_run_is_reported_with_its_own_end() {
    let (env, mut p, id) = deployed(SimConfig::default()).await;
    let rt = env.runtime().await;
    let a = policy_adapter(&rt);
    // A good run first, so that a later success time exists to be mistaken for the end.
    start_run(&env, a, &mut p, &id, "first").await;
    env.sim.state.settle();
    let good = env.observe(a, &p, &id).await.at_provider;
    assert_eq!(good.last_run.as_ref().unwrap().state, "Succeeded");
    record_status(&mut p, good);
    env.sim.state.advance(jiff::SignedDuration::from_secs(3600));
    env.sim.state.config.lock().unwrap().fail_runs = true;
    start_run(&env, a, &mut p, &id, "now, please").await;
    env.sim.state.settle();
    let run = env.observe(a, &p, &id).await.at_provider.last_run.unwrap();
    assert_eq!(run.state, "Failed");
    assert!(run.message.unwrap().contains("ERROR"));
    let (started, finished) = (run.started_at.unwrap(), run.finished_at.unwrap());
    assert!(
        finished >= started,
        "a failed run ends after it starts, not at the last success: {started} → {finished}"
    );
}

/// Run the plan as its schedule would, to completion; the run's start on the vendor's clock.
fn scheduled_run(env: &Env, id: &str) -> String {
    assert_eq!(env.sim.state.start_scheduled_run(id), 1);
    env.sim.state.settle();
    env.sim.state.read(|w| {
        w.applications
            .values()
            .find(|a| a.policy_id == id)
            .and_then(|a| a.last_runtime)
            .unwrap()
            .to_string()
    })
}

#[tokio::test]
async fn each_new_value_is_one_run_call_whatever_time_it_names() {
    let (env, mut p, id) = deployed(SimConfig::default()).await;
    let rt = env.runtime().await;
    let a = policy_adapter(&rt);
    let scheduled = scheduled_run(&env, &id);
    // The README's example value, long past; then a value a few seconds after the scheduled run.
    let just_after = (scheduled.parse::<jiff::Timestamp>().unwrap()
        + jiff::SignedDuration::from_secs(5))
    .to_string();
    for value in ["2026-01-01T00:00:00Z", just_after.as_str()] {
        request_run(&mut p, value);
        let o = env.observe(a, &p, &id).await;
        assert_eq!(
            drift_fields(&o),
            vec![DRIFT_FIELD],
            "{value} is a new request"
        );
        env.sim.control().reset_counters();
        env.update(a, &p, &id, &o).await;
        assert_eq!(
            env.count("POST /api/v1/policy_applications:run"),
            1,
            "{value}"
        );
        // Observed again and again: no second call for the same value.
        for _ in 0..3 {
            let o = env.observe(a, &p, &id).await;
            env.update(a, &p, &id, &o).await;
        }
        env.sim.state.settle();
        let run = env.observe(a, &p, &id).await.at_provider.last_run.unwrap();
        assert_eq!(
            env.count("POST /api/v1/policy_applications:run"),
            1,
            "{value}"
        );
        assert_eq!(
            (run.requested_at.as_str(), run.state.as_str()),
            (value, "Succeeded")
        );
        // Its own run: started after the scheduled one, not credited to it.
        assert!(
            run.started_at.as_deref().unwrap() > scheduled.as_str(),
            "{run:?} vs {scheduled}"
        );
        assert!(run.finished_at >= run.started_at);
        let at = env.observe(a, &p, &id).await.at_provider;
        record_status(&mut p, at);
        env.sim.state.advance(jiff::SignedDuration::from_secs(60));
    }
}

#[tokio::test]
async fn a_request_waits_for_a_run_in_progress_then_gets_its_own() {
    let (env, mut p, id) = deployed(SimConfig {
        run_seconds: 600,
        ..Default::default()
    })
    .await;
    let rt = env.runtime().await;
    let a = policy_adapter(&rt);
    assert_eq!(env.sim.state.start_scheduled_run(&id), 1);
    start_run(&env, a, &mut p, &id, "during the scheduled run").await;
    assert_eq!(
        env.count("POST /api/v1/policy_applications:run"),
        0,
        "busy: the call would start nothing"
    );
    let o = env.observe(a, &p, &id).await;
    assert_eq!(drift_fields(&o), vec![DRIFT_FIELD], "still pending");
    env.sim.state.settle();
    let o = env.observe_fresh(a, &p, &id).await;
    env.update(a, &p, &id, &o).await;
    assert_eq!(env.count("POST /api/v1/policy_applications:run"), 1);
    let run = env.observe(a, &p, &id).await.at_provider.last_run.unwrap();
    assert_eq!(run.state, "Running", "{run:?}");
}

#[tokio::test]
async fn a_restarted_operator_follows_the_run_the_status_recorded_without_calling_again() {
    let (env, mut p, id) = deployed(SimConfig {
        run_seconds: 600,
        ..Default::default()
    })
    .await;
    let rt = env.runtime().await;
    let a = policy_adapter(&rt);
    start_run(&env, a, &mut p, &id, "2031-01-01T00:00:00Z").await;
    let at = env.observe(a, &p, &id).await.at_provider;
    record_status(&mut p, at);

    // A new operator, nothing in memory: the status says the call was made.
    let world = env.restarted(100);
    let rt2 = world.hub.runtime(&env.key).await.unwrap();
    let a2 = policy_adapter(&rt2);
    let o = a2
        .observe(&p, Some(&id), &world.ctx(&marker(), false, None))
        .await
        .unwrap();
    assert!(
        o.drift.is_empty(),
        "the run is followed, not requested again: {:?}",
        o.drift
    );
    assert_eq!(o.at_provider.last_run.as_ref().unwrap().state, "Running");
    env.sim.state.advance(jiff::SignedDuration::from_secs(601));
    let o = a2
        .observe(&p, Some(&id), &world.ctx(&marker(), true, None))
        .await
        .unwrap();
    assert_eq!(o.at_provider.last_run.unwrap().state, "Succeeded");
    assert_eq!(env.count("POST /api/v1/policy_applications:run"), 1);
}

#[tokio::test]
async fn token_expiry_mid_run_is_transparent() {
    let (env, mut p, id) = deployed(SimConfig {
        run_seconds: 600,
        ..Default::default()
    })
    .await;
    let rt = env.runtime().await;
    let a = policy_adapter(&rt);
    start_run(&env, a, &mut p, &id, "2031-01-01T00:00:00Z").await;
    assert_eq!(env.count("POST /idp/token"), 1);

    // Two hours pass on the vendor's clock: the token (advertised for a day) expires and the
    // run ends. The next calls are refused once, log in again, and go through.
    env.sim
        .state
        .advance(jiff::SignedDuration::from_secs(2 * 3600 + 60));
    let o = env.observe_fresh(a, &p, &id).await;
    assert_eq!(o.at_provider.last_run.unwrap().state, "Succeeded");
    assert_eq!(env.count("POST /idp/token"), 2);

    // A vendor restart that forgets its sessions is just as transparent.
    env.sim.control().revoke_tokens();
    assert!(env.observe_fresh(a, &p, &id).await.exists);
    assert_eq!(env.count("POST /idp/token"), 3);
}

/// A session the vendor drops right after opening it is a passing outage (`Unavailable`, backed
/// off), not refused credentials (`Unauthorized`, five minutes' wait).
#[tokio::test]
async fn a_session_dropped_right_after_the_login_is_an_outage_not_refused_credentials() {
    let env = Env::start().await;
    let rt = env.runtime().await;
    env.sim
        .control()
        .set_faults(rampart::simulators::harness::Faults {
            revoke_on_issue: true,
            ..Default::default()
        });
    let e = rt.check().await.unwrap_err();
    assert_eq!(
        (e.kind, e.status),
        (ErrorKind::Unavailable, Some(401)),
        "{e}"
    );
    assert_eq!(env.count("POST /idp/token"), 2, "one login, one re-login");
    env.sim.control().set_faults(Default::default());
    rt.check().await.unwrap();
}

#[tokio::test]
async fn wrong_credentials_are_unauthorized_and_not_retried() {
    let env = Env::start().await;
    env.sim.state.config.lock().unwrap().users.clear();
    let rt = env.runtime().await;
    let e = rt.check().await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unauthorized);
    assert!(e.message.contains("test/cb"), "names the Secret: {e}");
    assert!(!e.to_string().contains("admin-password"));
    assert_eq!(env.count("POST /idp/token"), 1);
}

#[tokio::test]
async fn the_health_check_is_an_authenticated_call() {
    let env = Env::start().await;
    let rt = env.runtime().await;
    let o = rt.check().await.unwrap();
    assert!(o.last_authenticated.is_some());
    assert_eq!(env.count("GET /api/v1/resources"), 1);
}

#[tokio::test]
async fn steady_state_costs_list_pages_not_gets() {
    let mut env = Env::with(SimConfig::default(), 10).await;
    let machine = env.resource_id("DESKTOP-JRPTA4A");
    let base = nightly(&mut env, &machine);
    let rt = env.runtime().await;
    let a = policy_adapter(&rt);
    let mut objects = Vec::new();
    for i in 0..25 {
        let mut p = base.clone();
        p.metadata.name = Some(format!("plan-{i}"));
        let marker = format!("m{i}");
        let id = a
            .create(&p, &env.world.ctx(&marker, false, None))
            .await
            .unwrap()
            .external_name;
        objects.push((p, marker, id));
    }
    env.sim.state.settle();

    // A new operator (empty snapshots) observes every object twice.
    let world = env.restarted(10);
    let rt2 = world.hub.runtime(&env.key).await.unwrap();
    let a2 = policy_adapter(&rt2);
    env.sim.control().reset_counters();
    for _ in 0..2 {
        for (p, marker, id) in &objects {
            let o = a2
                .observe(p, Some(id), &world.ctx(marker, false, None))
                .await
                .unwrap();
            assert!(o.exists && o.drift.is_empty(), "{:?}", o.drift);
            assert_eq!(o.readiness, Readiness::Available);
        }
    }
    let counters = env.sim.control().counters();
    assert_eq!(
        env.count("GET /api/v1/policies"),
        3,
        "25 plans in pages of 10: {counters:?}"
    );
    assert_eq!(
        env.count("GET /api/v1/policy_applications"),
        3,
        "{counters:?}"
    );
    assert_eq!(env.count("GET /api/v1/policies/{id}"), 0);
    assert_eq!(
        env.sim.control().total(),
        3 + 3 + 1,
        "plus one login: {counters:?}"
    );
}

#[tokio::test]
async fn reads_are_repeated_on_50x_as_the_document_advises() {
    let mut env = Env::start().await;
    let machine = env.resource_id("DESKTOP-JRPTA4A");
    let p = nightly(&mut env, &machine);
    let rt = env.runtime().await;
    rt.check().await.unwrap();
    env.sim
        .control()
        .set_faults(rampart::simulators::harness::Faults {
            error_rate: 1.0,
            error_status: 503,
            ..Default::default()
        });
    let e = policy_adapter(&rt)
        .observe(&p, None, &env.ctx(true, None))
        .await
        .unwrap_err();
    let rampart::engine::external::ExternalError::Vendor(v) = e else {
        panic!("{e}")
    };
    assert_eq!(v.kind, ErrorKind::Unavailable);
    assert_eq!(v.status, Some(503));
    assert_eq!(
        v.code.as_deref(),
        Some("General.503"),
        "the vendor's error body is read"
    );
    assert_eq!(
        env.count("GET /api/v1/policies"),
        3,
        "one call and two repeats"
    );
}

#[tokio::test]
async fn a_run_requested_before_the_plan_is_deployed_waits_for_the_deployment() {
    let mut env = Env::start().await;
    let machine = env.resource_id("DESKTOP-JRPTA4A");
    let mut p = nightly(&mut env, &machine);
    request_run(&mut p, "at creation");
    let rt = env.runtime().await;
    let a = policy_adapter(&rt);
    let id = env.create(a, &p).await;
    let o = env.observe(a, &p, &id).await;
    assert_eq!(drift_fields(&o), vec![DRIFT_FIELD]);
    env.update(a, &p, &id, &o).await;
    assert_eq!(
        env.count("POST /api/v1/policy_applications:run"),
        0,
        "still deploying"
    );

    env.sim.state.settle();
    let o = env.observe(a, &p, &id).await;
    assert_eq!(
        drift_fields(&o),
        vec![DRIFT_FIELD],
        "the request is still pending"
    );
    env.update(a, &p, &id, &o).await;
    assert_eq!(env.count("POST /api/v1/policy_applications:run"), 1);
    let run = env.observe(a, &p, &id).await.at_provider.last_run.unwrap();
    assert_eq!(
        (run.requested_at.as_str(), run.state.as_str()),
        ("at creation", "Running")
    );
}
