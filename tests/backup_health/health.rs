//! Backup health end to end, for each backup vendor: the operator (a separate process) judges a
//! daily schedule's backups as the vendor's simulator records them. The operator judges health
//! ten days ahead of the wall clock (`HEALTH_CLOCK_AHEAD`); the simulator's clock
//! starts three days behind the operator's, then moves a day at a time, so that the runs it
//! makes are due after the objects were created (runs due before that are no one's fault) and
//! old by the operator's clock when the test needs them to be:
//! 1. a day on, the run succeeded two days ago: `BackupMissed` (past the last expected run and
//!    its grace), with a Warning Event;
//! 2. a day on, the run failed (the simulator is told to fail it): `LastBackupFailed` with the
//!    vendor's message, and a Warning Event;
//! 3. a day on, the run succeeded today: `BackupHealthy=True`, `BackupSucceeded`;
//!
//! and at each step the operator's backup metrics say what the status says.

use std::time::Duration;

use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, ListParams, PostParams};
use kube::runtime::wait::Condition;
use kube::{Resource, ResourceExt};
use rampart::api::{Policy, Vault};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::HEALTH_CLOCK_AHEAD;
use crate::cbr_world::{CbrWorld, PROJECT, T, external_name, vault_spec};
use crate::support::{env, has_condition, is_ready, wait_for};

const DAY: Duration = Duration::from_secs(24 * 3600);

/// How far the simulator's clock moves before the objects are made: three days behind the
/// operator's.
fn head_start() -> jiff::SignedDuration {
    jiff::SignedDuration::try_from(HEALTH_CLOCK_AHEAD - 3 * DAY).unwrap()
}

/// The object whose health is followed, and where its metrics are labelled.
struct Subject<K> {
    api: Api<K>,
    ns: String,
    name: String,
    kind: &'static str,
    vendor: &'static str,
}

impl<K> Subject<K>
where
    K: Resource + Clone + std::fmt::Debug + DeserializeOwned + serde::Serialize + Send + 'static,
{
    /// Wait until `BackupHealthy` is `status` with `reason` and `status.backup` satisfies
    /// `facts`; then the metrics.
    async fn judged(
        &self,
        status: &'static str,
        reason: &'static str,
        facts: fn(&Value) -> bool,
    ) -> Value {
        let verdict = has_condition::<K>("BackupHealthy", status, Some(reason));
        let cond = move |o: Option<&K>| {
            verdict.matches_object(o)
                && o.is_some_and(|o| facts(&serde_json::to_value(o).unwrap()["status"]["backup"]))
        };
        let obj = wait_for(&self.api, &self.name, cond, T).await;
        let v = serde_json::to_value(&obj).unwrap();
        self.metrics_match(&v, reason).await;
        v
    }

    /// The notes of this object's Events of `type_` with `reason` (waited for, as the Event
    /// is published after the status write).
    async fn events(&self, type_: &str, reason: &str) -> Vec<String> {
        let events: Api<Event> = Api::namespaced(env().client().await, &self.ns);
        let deadline = tokio::time::Instant::now() + T;
        loop {
            let notes: Vec<String> = events
                .list(&ListParams::default())
                .await
                .unwrap()
                .items
                .into_iter()
                .filter(|e| {
                    e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(&self.name)
                        && e.type_.as_deref() == Some(type_)
                        && e.reason.as_deref() == Some(reason)
                })
                .map(|e| e.note.unwrap_or_default())
                .collect();
            if !notes.is_empty() || tokio::time::Instant::now() > deadline {
                return notes;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The operator's backup metrics for this object agree with `status` (the scrape is
    /// retried: the figures are recorded in the same pass as the status, not at the same
    /// instant).
    async fn metrics_match(&self, obj: &Value, reason: &str) {
        let facts = &obj["status"]["backup"];
        let healthy = match obj["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["type"] == "BackupHealthy")
            .map(|c| c["status"].as_str().unwrap_or_default())
        {
            Some("True") => 1.0,
            Some("False") => 0.0,
            _ => -1.0,
        };
        let last_success = facts["lastSuccessfulBackupTime"]
            .as_str()
            .map(|t| t.parse::<jiff::Timestamp>().unwrap().as_second() as f64);
        let held = facts["backupsHeld"].as_f64();
        let want = [
            ("backup_healthy", Some(healthy)),
            ("backup_last_success_timestamp_seconds", last_success),
            ("backups_held", held),
        ];
        let deadline = tokio::time::Instant::now() + T;
        loop {
            let text = reqwest::get(format!("http://127.0.0.1:{}/metrics", env().metrics_port))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let got: Vec<_> = want
                .iter()
                .map(|(m, _)| (*m, self.sample(&text, m, "")))
                .collect();
            let reason_set = self.sample(
                &text,
                "backup_health_reason",
                &format!(",reason=\"{reason}\""),
            );
            if got.iter().zip(&want).all(|((_, g), (_, w))| g == w) && reason_set == Some(1.0) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} {}: metrics {got:?} (reason {reason}: {reason_set:?}) never matched the status {want:?}",
                self.kind,
                self.name
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    fn sample(&self, text: &str, metric: &str, extra: &str) -> Option<f64> {
        let series = format!(
            "rampart_{metric}{{kind=\"{}\",namespace=\"{}\",name=\"{}\",vendor=\"{}\"{extra}}} ",
            self.kind, self.ns, self.name, self.vendor
        );
        text.lines()
            .find_map(|l| l.strip_prefix(&series))
            .and_then(|v| v.trim().parse().ok())
    }

    /// The three verdicts, the clock moved by `advance` (a day each time: one daily run each)
    /// and the second run failed by `fail_next_run` with `message`.
    async fn three_days(&self, advance: impl Fn(), fail_next_run: impl Fn(), message: &str) {
        // The vendor's clock is three days behind: a day on, the run made a backup two days ago.
        advance();
        // (Missed already before the run: none was made since the runs came due.)
        self.judged("False", "BackupMissed", |b| {
            b["lastSuccessfulBackupTime"].is_string()
        })
        .await;
        assert_eq!(self.events("Warning", "BackupMissed").await.len(), 1);

        fail_next_run();
        advance();
        let failed = self.judged("False", "LastBackupFailed", |_| true).await;
        let condition = failed["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == "BackupHealthy")
            .unwrap()
            .clone();
        assert!(
            condition["message"].as_str().unwrap().contains(message),
            "the vendor's message: {condition}"
        );
        let failure = &failed["status"]["backup"]["lastFailure"];
        assert!(
            failure["message"]
                .as_str()
                .unwrap_or_default()
                .contains(message)
                && failure["id"].as_str().is_some_and(|id| !id.is_empty()),
            "the vendor's id and message of the failure: {failure}"
        );
        let warnings = self.events("Warning", "LastBackupFailed").await;
        assert!(
            warnings.len() == 1 && warnings[0].contains(message),
            "one Warning with the vendor's message: {warnings:?}"
        );
        assert!(
            failed["status"]["conditions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True"),
            "backup health does not change Ready"
        );

        // A day on, the vendor's clock is the operator's: today's run succeeded.
        advance();
        let healthy = self.judged("True", "BackupSucceeded", |_| true).await;
        assert_eq!(
            healthy["status"]["backup"]["lastBackup"]["result"],
            "Succeeded"
        );
        assert!(healthy["status"]["backup"]["nextExpectedRun"].is_string());
    }
}

#[tokio::test]
async fn cbr_vault_health_follows_its_policy_s_runs() {
    let w = CbrWorld::new("cbr-health", json!({"qps": 50, "burst": 50})).await;
    w.sim.console().advance_clock(head_start());
    let policy = json!({"providerConfigRef": {"name": "cbr"}, "schedule": {"cron": "0 1 * * *", "graceMinutes": 120},
                        "retention": {"keepLast": 7}, "huaweiCbr": {}});
    w.create_policy("nightly", policy).await;
    w.create_vault(
        "app",
        vault_spec(json!({"policyRef": {"name": "nightly"},
                          "resources": [{"id": "11111111-1111-1111-1111-111111111111", "type": "OS::Nova::Server"}]})),
    )
    .await;
    let vault = wait_for(&w.vaults(), "app", is_ready(), T).await;
    let id = external_name(&vault);
    let subject = Subject::<Vault> {
        api: w.vaults(),
        ns: w.ns.clone(),
        name: "app".into(),
        kind: "Vault",
        vendor: "HuaweiCbr",
    };
    let message = "The disk is not available for backup.";
    subject
        .three_days(
            || {
                w.sim
                    .console()
                    .advance_clock(jiff::SignedDuration::from_hours(24))
            },
            || {
                assert!(
                    w.sim
                        .console()
                        .fail_runs(PROJECT, &id, 1, "BackupService.0001", message)
                )
            },
            message,
        )
        .await;
}

#[tokio::test]
async fn rubackup_policy_health_follows_its_rule_s_runs() {
    let w = crate::rubackup_world::RbWorld::with(
        "rb-health",
        crate::rubackup_world::RbWorld::config(),
        json!({}),
    )
    .await;
    w.sim.sim.advance_clock(HEALTH_CLOCK_AHEAD - 3 * DAY);
    let pp = PostParams::default();
    for doc in crate::rubackup_world::example("Vault").into_iter().take(1) {
        w.api::<Vault>()
            .create(&pp, &serde_json::from_value(doc).unwrap())
            .await
            .unwrap();
    }
    let policy = crate::rubackup_world::example("Policy").remove(0);
    let name = policy["metadata"]["name"].as_str().unwrap().to_string();
    w.api::<Policy>()
        .create(&pp, &serde_json::from_value(policy).unwrap())
        .await
        .unwrap();
    let p = wait_for(&w.api::<Policy>(), &name, is_ready(), T).await;
    let rule: i64 = external_name(&p).parse().unwrap();
    let subject = Subject::<Policy> {
        api: w.api(),
        ns: w.ns.clone(),
        name,
        kind: "Policy",
        vendor: "RuBackup",
    };
    let message = "Client is offline";
    subject
        .three_days(
            || w.sim.sim.advance_clock(DAY),
            || assert!(w.sim.sim.fail_runs(rule, 1, message)),
            message,
        )
        .await;
}

#[tokio::test]
async fn cyber_backup_policy_health_follows_its_plan_s_runs() {
    let w = crate::cyber_world::CyberWorld::new("cyber-health").await;
    w.sim.state.advance(head_start());
    w.apply_example("Vault").await;
    let policy: Policy = serde_json::from_value(json!({
        "apiVersion": "rampart.dev/v1alpha1", "kind": "Policy", "metadata": {"name": "nightly"},
        "spec": {"providerConfigRef": {"name": "cyberbackup"}, "schedule": {"cron": "0 2 * * *"},
                 "vaultRef": {"name": "backup-share"},
                 "cyberBackup": {"type": "policy.backup.machine", "targets": {"resourceNames": ["DESKTOP-JRPTA4A"]}}}
    }))
    .unwrap();
    w.policies()
        .create(&PostParams::default(), &policy)
        .await
        .unwrap();
    let p = wait_for(&w.policies(), "nightly", is_ready(), T).await;
    let plan = rampart::providers::cyberbackup::models::plan_id(&external_name(&p));
    let subject = Subject::<Policy> {
        api: w.policies(),
        ns: w.ns.clone(),
        name: p.name_any(),
        kind: "Policy",
        vendor: "CyberBackup",
    };
    let message = "The backup location has no free space.";
    subject
        .three_days(
            || w.sim.state.advance(jiff::SignedDuration::from_hours(24)),
            || assert!(w.sim.state.fail_runs(&plan, 1, message)),
            message,
        )
        .await;
}
