//! Backup health in the reconcile: the adapter's report judged at the engine's clock, as the
//! `BackupHealthy` condition, `status.backup`, an Event when the verdict changes (not on every
//! poll) and the per-object backup metrics. `Ready` is untouched: it speaks of configuration.

use std::sync::Arc;

use jiff::Timestamp;

use super::conditions::{carry_transition_time, condition};
use super::events::Event;
use crate::api::common::{ConditionStatus, ManagedStatus};
use crate::api::provider_config::ProviderType;
use crate::health::{Assessed, Health};
use crate::telemetry::metrics::{self, BackupLabels};

pub const CONDITION: &str = "BackupHealthy";

/// The moment backup health is judged at: the system clock, or a test's.
#[derive(Clone)]
pub struct WallClock(pub Arc<dyn Fn() -> Timestamp + Send + Sync>);

impl WallClock {
    pub fn now(&self) -> Timestamp {
        (self.0)()
    }

    /// The system clock moved `seconds` on (`rampart run --health-clock-offset-seconds`).
    pub fn ahead_by(seconds: i64) -> Self {
        if seconds == 0 {
            return WallClock::default();
        }
        let by = jiff::SignedDuration::from_secs(seconds);
        WallClock(Arc::new(move || {
            Timestamp::now()
                .saturating_add(by)
                .unwrap_or(Timestamp::MAX)
        }))
    }
}

impl Default for WallClock {
    fn default() -> Self {
        WallClock(Arc::new(Timestamp::now))
    }
}

impl std::fmt::Debug for WallClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WallClock")
    }
}

/// Put this pass's verdict and facts into `new`; without a verdict this pass (a failed pass,
/// an object not observed), keep the last one, so a passing failure is no change of health.
pub fn apply<A>(
    new: &mut ManagedStatus<A>,
    old: Option<&ManagedStatus<A>>,
    assessed: Option<&Assessed>,
    now: &str,
) {
    new.conditions.retain(|c| c.type_ != CONDITION);
    let old_conditions = old.map(|s| s.conditions.as_slice()).unwrap_or(&[]);
    let Some(a) = assessed else {
        if let Some(kept) = old_conditions.iter().find(|c| c.type_ == CONDITION) {
            new.conditions.push(kept.clone());
        }
        return;
    };
    let generation = new.conditions.first().and_then(|c| c.observed_generation);
    let mut c = condition(
        CONDITION,
        true,
        a.health.reason,
        &a.health.message,
        generation,
        now,
    );
    c.status = a.health.status;
    new.conditions
        .push(carry_transition_time(c, old_conditions));
    if let Some(facts) = &a.status {
        new.backup = Some(facts.clone());
    }
}

/// The Event for a verdict that differs from the one in `old` (its reason): a failure, a
/// missed run or an unreadable vendor as a Warning; a success or a recovery as Normal. `None`
/// when nothing changed, and for a new object's first verdict of no backups yet.
pub fn change_event<A>(old: Option<&ManagedStatus<A>>, health: &Health) -> Option<Event> {
    let before = old.and_then(|s| s.conditions.iter().find(|c| c.type_ == CONDITION));
    if before.is_some_and(|c| c.reason == health.reason) {
        return None;
    }
    // A new object without backups yet is no change of health: no Event (10,000 new Vaults
    // would make 10,000 of them).
    if before.is_none() && health.reason == "NoBackupsYet" {
        return None;
    }
    let note = match before {
        Some(b) => format!("{} (was {})", health.message, b.reason),
        None => health.message.clone(),
    };
    // No backups yet (after another verdict: its backups were deleted) is news, not trouble.
    let trouble = health.status != ConditionStatus::True && health.reason != "NoBackupsYet";
    Some(if trouble {
        Event::warning(health.reason, "BackupHealth", note)
    } else {
        Event::normal(health.reason, "BackupHealth", note)
    })
}

/// The backup metrics of one object, as of `now`.
pub fn record(labels: &BackupLabels, assessed: &Assessed, now: Timestamp) {
    metrics::backup_health(
        labels,
        health_value(&assessed.health),
        assessed.health.reason,
    );
    let Some(status) = &assessed.status else {
        return;
    };
    let last_success = status
        .last_successful_backup_time
        .as_deref()
        .and_then(|t| t.parse::<Timestamp>().ok());
    let last_result = status
        .last_backup
        .as_ref()
        .map(|r| match r.result.as_str() {
            "Succeeded" => 1,
            "Failed" => 0,
            _ => -1,
        });
    metrics::backup_facts(
        labels,
        last_success.map(|t| t.as_second()),
        last_success.map(|t| now.as_second() - t.as_second()),
        last_result,
        status.backups_held,
    );
}

/// Forget the backup series of an object that is gone (its finalizer released), whichever
/// vendor it used: a deleted Vault must not keep a failing series that alerts for ever.
pub fn forget(kind: &str, namespace: &str, name: &str) {
    for vendor in ProviderType::ALL {
        metrics::forget_backups(&BackupLabels {
            kind: kind.into(),
            namespace: namespace.into(),
            name: name.into(),
            vendor: format!("{vendor:?}"),
        });
    }
}

/// 1 healthy, 0 not, -1 unknown.
fn health_value(h: &Health) -> i64 {
    match h.status {
        ConditionStatus::True => 1,
        ConditionStatus::False => 0,
        ConditionStatus::Unknown => -1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::common::Condition;
    use crate::engine::events::EventType;

    fn health(status: ConditionStatus, reason: &'static str) -> Health {
        Health {
            status,
            reason,
            message: format!("{reason} message"),
            failed_id: None,
        }
    }

    fn status_with(reason: &str) -> ManagedStatus<()> {
        ManagedStatus {
            conditions: vec![Condition {
                type_: CONDITION.into(),
                status: ConditionStatus::False,
                reason: reason.into(),
                message: String::new(),
                last_transition_time: "t0".into(),
                observed_generation: None,
            }],
            ..Default::default()
        }
    }

    #[test]
    fn a_released_object_s_backup_series_are_forgotten() {
        let labels = BackupLabels {
            kind: "Vault".into(),
            namespace: "forget-ns".into(),
            name: "gone-vault".into(),
            vendor: "RuBackup".into(),
        };
        let assessed = Assessed {
            health: health(ConditionStatus::False, "LastBackupFailed"),
            status: Some(Default::default()),
        };
        record(&labels, &assessed, Timestamp::now());
        let exported = || crate::telemetry::metrics::encode();
        assert!(exported().contains("gone-vault"));
        forget("Vault", "forget-ns", "gone-vault");
        assert!(!exported().contains("gone-vault"), "{}", exported());
    }

    #[test]
    fn an_event_marks_each_change_of_verdict_and_none_repeats() {
        let failed = health(ConditionStatus::False, "LastBackupFailed");
        let first = change_event::<()>(None, &failed).expect("first verdict");
        assert_eq!(
            (first.reason, first.type_),
            ("LastBackupFailed", EventType::Warning)
        );
        assert_eq!(
            change_event(Some(&status_with("LastBackupFailed")), &failed),
            None
        );
        let back = change_event(
            Some(&status_with("LastBackupFailed")),
            &health(ConditionStatus::True, "BackupSucceeded"),
        )
        .expect("recovered");
        assert_eq!(back.type_, EventType::Normal);
        let new = change_event::<()>(None, &health(ConditionStatus::False, "NoBackupsYet"));
        assert_eq!(new, None, "a new object without backups is no change");
        assert!(back.note.contains("was LastBackupFailed"), "{}", back.note);
    }
}
