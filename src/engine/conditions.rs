//! Status as a pure function of the old status and what this reconcile found, so kstatus, Flux
//! and Argo CD read a consistent story: `Ready` (Available, Creating, Deleting, Unavailable),
//! `Synced` (ReconcileSuccess, ReconcileError, ReconcilePaused), `Stalled` on terminal errors.
//! `lastTransitionTime` only moves when a condition's status changes.

use crate::api::common::{Condition, ConditionStatus, Drift, ManagedStatus};

use super::external::{ExtraCondition, Readiness};

/// What one reconcile established.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome<A> {
    /// The vendor object was observed (and corrected where allowed).
    Observed {
        readiness: Readiness,
        at_provider: A,
        drift: Vec<Drift>,
        applied_hash: Option<String>,
        extra: Vec<ExtraCondition>,
        /// The vendor id, when the object there carries this object's marker.
        marked_id: Option<String>,
    },
    /// A vendor object stands where this object's would, and it is not rampart's: it is left
    /// alone. The message says which, why, and how to adopt it on purpose.
    NotOwned(String),
    /// The object does not exist at the vendor and rampart may not create it.
    Absent(String),
    /// `rampart.dev/paused` is set.
    Paused,
    /// Waiting for something else (a provider configuration, a referenced object).
    Waiting(String),
    /// The reconcile failed. `terminal` means no retry helps until something changes.
    Failed { message: String, terminal: bool },
    /// The vendor object is being deleted.
    Deleting(String),
}

pub(crate) fn condition(
    type_: &str,
    status: bool,
    reason: &str,
    message: &str,
    generation: Option<i64>,
    now: &str,
) -> Condition {
    Condition {
        type_: type_.to_string(),
        status: if status {
            ConditionStatus::True
        } else {
            ConditionStatus::False
        },
        reason: reason.to_string(),
        message: message.to_string(),
        last_transition_time: now.to_string(),
        observed_generation: generation,
    }
}

/// Keep the old transition time when the status did not change.
pub(crate) fn carry_transition_time(mut new: Condition, old: &[Condition]) -> Condition {
    if let Some(prev) = old.iter().find(|c| c.type_ == new.type_)
        && prev.status == new.status
    {
        new.last_transition_time = prev.last_transition_time.clone();
    }
    new
}

/// The new status. `now` is RFC 3339; `generation` is `metadata.generation`.
pub fn next_status<A: Clone + Default>(
    old: Option<&ManagedStatus<A>>,
    outcome: &Outcome<A>,
    generation: Option<i64>,
    now: &str,
) -> ManagedStatus<A> {
    let old_conditions: &[Condition] = old.map(|s| s.conditions.as_slice()).unwrap_or(&[]);
    let old_ready = old_conditions.iter().find(|c| c.type_ == "Ready").cloned();
    let mut status = ManagedStatus {
        observed_generation: old.and_then(|s| s.observed_generation),
        conditions: Vec::new(),
        at_provider: old.and_then(|s| s.at_provider.clone()),
        drift: old.map(|s| s.drift.clone()).unwrap_or_default(),
        last_applied_hash: old.and_then(|s| s.last_applied_hash.clone()),
        marked_external_name: old.and_then(|s| s.marked_external_name.clone()),
        backup: old.and_then(|s| s.backup.clone()),
    };
    let c = |t: &str, s: bool, r: &str, m: &str| condition(t, s, r, m, generation, now);
    // When we learn nothing new about the vendor object, Ready keeps what it said; a first
    // reconcile that fails says Ready=False so nobody mistakes silence for health.
    let keep_ready = |fallback_reason: &str, msg: &str| match &old_ready {
        Some(r) => Condition {
            observed_generation: generation,
            ..r.clone()
        },
        None => c("Ready", false, fallback_reason, msg),
    };
    let mut conditions = match outcome {
        Outcome::Observed {
            readiness,
            at_provider,
            drift,
            applied_hash,
            extra,
            marked_id,
        } => {
            status.observed_generation = generation;
            if marked_id.is_some() {
                status.marked_external_name = marked_id.clone();
            }
            status.at_provider = Some(at_provider.clone());
            status.drift = drift.clone();
            if applied_hash.is_some() {
                status.last_applied_hash = applied_hash.clone();
            }
            let ready = match readiness {
                Readiness::Available => {
                    c("Ready", true, "Available", "the vendor object is available")
                }
                Readiness::Creating(m) => c("Ready", false, "Creating", m),
                Readiness::Unavailable(m) => c("Ready", false, "Unavailable", m),
            };
            let synced = if drift.is_empty() {
                c(
                    "Synced",
                    true,
                    "ReconcileSuccess",
                    "the vendor object matches the spec",
                )
            } else {
                let fields: Vec<&str> = drift.iter().map(|d| d.field.as_str()).collect();
                c(
                    "Synced",
                    false,
                    "DriftDetected",
                    &format!(
                        "vendor differs from spec in {} (see status.drift)",
                        fields.join(", ")
                    ),
                )
            };
            let mut v = vec![ready, synced];
            v.extend(
                extra
                    .iter()
                    .map(|e| c(e.type_, e.status, e.reason, &e.message)),
            );
            v
        }
        Outcome::NotOwned(m) => {
            status.observed_generation = generation;
            vec![
                c("Ready", false, "NotOwned", m),
                c("Synced", false, "AdoptionRefused", m),
                // Nothing changes until a person does: kstatus reports it as Failed.
                c("Stalled", true, "AdoptionRefused", m),
            ]
        }
        Outcome::Absent(m) => {
            status.observed_generation = generation;
            vec![
                c("Ready", false, "Unavailable", m),
                c("Synced", true, "ReconcileSuccess", m),
            ]
        }
        Outcome::Paused => vec![
            keep_ready("Unavailable", "paused before the first reconcile"),
            c(
                "Synced",
                false,
                "ReconcilePaused",
                "rampart.dev/paused is set; rampart leaves the vendor object alone",
            ),
        ],
        Outcome::Waiting(m) => vec![
            keep_ready("Creating", m),
            c("Synced", false, "ReconcileError", m),
        ],
        Outcome::Failed { message, terminal } => {
            let mut v = vec![
                keep_ready("Unavailable", message),
                c("Synced", false, "ReconcileError", message),
            ];
            if *terminal {
                // kstatus reports Failed on Stalled=True; it is only set while the error lasts.
                v.push(c("Stalled", true, "TerminalError", message));
                status.observed_generation = generation;
            }
            v
        }
        Outcome::Deleting(m) => vec![
            c("Ready", false, "Deleting", m),
            c("Synced", true, "ReconcileSuccess", m),
        ],
    };
    conditions = conditions
        .into_iter()
        .map(|n| carry_transition_time(n, old_conditions))
        .collect();
    status.conditions = conditions;
    status
}

/// Add the adapter's conditions of this pass to a status written for a failure, so what was
/// observed before the failing step still shows (a create refused because FirewallRules conflict
/// keeps the `PlacementConflict` condition that names them).
pub fn with_extra<A>(
    status: &mut ManagedStatus<A>,
    extra: &[ExtraCondition],
    old: Option<&ManagedStatus<A>>,
    now: &str,
) {
    let old_conditions: &[Condition] = old.map(|s| s.conditions.as_slice()).unwrap_or(&[]);
    let generation = status
        .conditions
        .first()
        .and_then(|c| c.observed_generation);
    for e in extra {
        if status.conditions.iter().any(|c| c.type_ == e.type_) {
            continue;
        }
        let new = condition(e.type_, e.status, e.reason, &e.message, generation, now);
        status
            .conditions
            .push(carry_transition_time(new, old_conditions));
    }
}

/// Whether two statuses differ in anything but transition times (to skip no-op writes).
pub fn status_changed<A: PartialEq>(
    old: Option<&ManagedStatus<A>>,
    new: &ManagedStatus<A>,
) -> bool {
    match old {
        None => true,
        Some(old) => old != new,
    }
}

/// The `Ready` condition is `True` at the current generation.
pub fn is_ready<A>(status: Option<&ManagedStatus<A>>) -> bool {
    status.is_some_and(|s| {
        s.conditions
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == ConditionStatus::True)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    type S = ManagedStatus<String>;

    fn observed(readiness: Readiness, drift: Vec<Drift>) -> Outcome<String> {
        Outcome::Observed {
            readiness,
            at_provider: "vault-1".into(),
            drift,
            applied_hash: Some("h1".into()),
            extra: vec![],
            marked_id: None,
        }
    }

    fn cond<'a>(s: &'a S, t: &str) -> &'a Condition {
        s.conditions
            .iter()
            .find(|c| c.type_ == t)
            .unwrap_or_else(|| panic!("no {t} condition"))
    }

    #[test]
    fn available_and_in_sync_is_ready_and_synced_at_this_generation() {
        let s = next_status(None, &observed(Readiness::Available, vec![]), Some(3), "t1");
        assert_eq!(s.observed_generation, Some(3));
        assert_eq!(cond(&s, "Ready").status, ConditionStatus::True);
        assert_eq!(cond(&s, "Ready").reason, "Available");
        assert_eq!(cond(&s, "Synced").reason, "ReconcileSuccess");
        assert_eq!(s.at_provider.as_deref(), Some("vault-1"));
        assert_eq!(s.last_applied_hash.as_deref(), Some("h1"));
        assert!(s.conditions.iter().all(|c| c.type_ != "Stalled"));
    }

    #[test]
    fn drift_makes_synced_false_and_names_the_fields() {
        let d = Drift {
            field: "spec.huaweiCbr.sizeGB".into(),
            desired: "200".into(),
            observed: "100".into(),
        };
        let s = next_status(
            None,
            &observed(Readiness::Available, vec![d.clone()]),
            Some(1),
            "t1",
        );
        assert_eq!(cond(&s, "Synced").status, ConditionStatus::False);
        assert!(cond(&s, "Synced").message.contains("spec.huaweiCbr.sizeGB"));
        assert_eq!(s.drift, vec![d]);
    }

    #[test]
    fn transition_time_moves_only_when_status_changes() {
        let s1 = next_status(None, &observed(Readiness::Available, vec![]), Some(1), "t1");
        let s2 = next_status(
            Some(&s1),
            &observed(Readiness::Available, vec![]),
            Some(2),
            "t2",
        );
        assert_eq!(cond(&s2, "Ready").last_transition_time, "t1");
        let s3 = next_status(
            Some(&s2),
            &observed(Readiness::Unavailable("frozen".into()), vec![]),
            Some(2),
            "t3",
        );
        assert_eq!(cond(&s3, "Ready").last_transition_time, "t3");
        assert_eq!(cond(&s3, "Ready").reason, "Unavailable");
    }

    #[test]
    fn retryable_failure_keeps_ready_and_generation_but_clears_synced() {
        let s1 = next_status(None, &observed(Readiness::Available, vec![]), Some(1), "t1");
        let s2 = next_status(
            Some(&s1),
            &Outcome::Failed {
                message: "HTTP 503".into(),
                terminal: false,
            },
            Some(2),
            "t2",
        );
        assert_eq!(cond(&s2, "Ready").status, ConditionStatus::True);
        assert_eq!(cond(&s2, "Synced").status, ConditionStatus::False);
        assert_eq!(
            s2.observed_generation,
            Some(1),
            "a failed reconcile of generation 2 is not 'observed'"
        );
        assert!(s2.conditions.iter().all(|c| c.type_ != "Stalled"));
    }

    #[test]
    fn terminal_failure_is_stalled_at_this_generation() {
        let s = next_status::<String>(
            None,
            &Outcome::Failed {
                message: "bad spec".into(),
                terminal: true,
            },
            Some(4),
            "t",
        );
        assert_eq!(cond(&s, "Stalled").status, ConditionStatus::True);
        assert_eq!(cond(&s, "Ready").status, ConditionStatus::False);
        assert_eq!(s.observed_generation, Some(4));
        // Recovery clears Stalled.
        let s2 = next_status(
            Some(&s),
            &observed(Readiness::Available, vec![]),
            Some(5),
            "t2",
        );
        assert!(s2.conditions.iter().all(|c| c.type_ != "Stalled"));
    }

    #[test]
    fn a_failure_keeps_what_the_adapter_observed_before_it() {
        let extra = vec![ExtraCondition {
            type_: "PlacementConflict",
            status: true,
            reason: "ConflictingBlocks",
            message: "ns/a asks for Top, ns/b for Bottom".into(),
        }];
        let failed = Outcome::Failed {
            message: "spec.ideco.placement: conflict".into(),
            terminal: true,
        };
        let mut s = next_status::<String>(None, &failed, Some(2), "t1");
        with_extra(&mut s, &extra, None, "t1");
        assert_eq!(cond(&s, "PlacementConflict").status, ConditionStatus::True);
        assert_eq!(cond(&s, "PlacementConflict").observed_generation, Some(2));
        assert_eq!(cond(&s, "Stalled").status, ConditionStatus::True);
        // The next failure keeps its transition time; an extra never replaces Ready or Synced.
        let mut s2 = next_status::<String>(Some(&s), &failed, Some(2), "t2");
        let mut clash = extra.clone();
        clash.push(ExtraCondition {
            type_: "Ready",
            status: true,
            reason: "Available",
            message: String::new(),
        });
        with_extra(&mut s2, &clash, Some(&s), "t2");
        assert_eq!(cond(&s2, "PlacementConflict").last_transition_time, "t1");
        assert_eq!(cond(&s2, "Ready").status, ConditionStatus::False);
        assert_eq!(s2.conditions.len(), s.conditions.len());
    }

    #[test]
    fn paused_says_so_in_synced() {
        let s = next_status::<String>(None, &Outcome::Paused, Some(1), "t");
        assert_eq!(cond(&s, "Synced").reason, "ReconcilePaused");
    }

    #[test]
    fn unchanged_status_is_not_rewritten() {
        let s1 = next_status(None, &observed(Readiness::Available, vec![]), Some(1), "t1");
        let s2 = next_status(
            Some(&s1),
            &observed(Readiness::Available, vec![]),
            Some(1),
            "t2",
        );
        assert!(!status_changed(Some(&s1), &s2));
        assert!(status_changed(None, &s2));
    }
}
