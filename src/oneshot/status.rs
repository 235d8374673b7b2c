//! The status of a one-shot action as a pure function of where it stands: `phase`, and the
//! conditions kstatus, Argo CD and Flux read. Ready=True once Succeeded; Failed is Ready=False
//! with Stalled=True (kstatus: Failed), never retried; Pending and Running are Ready=False,
//! in progress.

use crate::api::action_status::{ActionStatus, Phase};
use crate::engine::conditions::{carry_transition_time, condition};

/// Set `phase` with `reason` and `message` on `status`. A condition's transition time moves
/// only when its status changes.
pub fn set_phase(
    status: &mut ActionStatus,
    phase: Phase,
    reason: &str,
    message: &str,
    generation: Option<i64>,
    now: &str,
) {
    let ready = phase == Phase::Succeeded;
    let mut conditions = vec![condition("Ready", ready, reason, message, generation, now)];
    if phase == Phase::Failed {
        conditions.push(condition("Stalled", true, reason, message, generation, now));
    }
    status.conditions = conditions
        .into_iter()
        .map(|c| carry_transition_time(c, &status.conditions))
        .collect();
    status.phase = Some(phase);
    status.observed_generation = generation;
    status.message = (!message.is_empty()).then(|| message.to_string());
}
