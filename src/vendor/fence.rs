//! Whether this process may call vendors now, and who it is to them.
//!
//! With leader election only the replica holding the Lease may call a vendor, and a replica
//! that was frozen (SIGSTOP, a paused VM) or cut off from the API server past the end of its
//! lease must not make one more call, not even in the moment before it learns that it lost the
//! lease: thawed, its reconciles resume at once, its lease task needs a round trip to the API
//! server. So the operator's leader election keeps here the time until which the lease is
//! certainly its own (its last renewal seen, plus the lease duration, minus a margin for clock
//! skew), and the HTTP edge checks it before every request against the clock alone.
//!
//! Without leader election the fence is always open. The replica's identity goes into the
//! `User-Agent`, so vendor logs (and the simulators) tell replicas apart.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the epoch until which calls are allowed; `u64::MAX` means no election.
static OPEN_UNTIL_MS: AtomicU64 = AtomicU64::new(u64::MAX);
static REPLICA: OnceLock<String> = OnceLock::new();

/// Why a call was not made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("this replica's leadership lease may have lapsed; no vendor call until it is renewed")]
pub struct LeaseLapsed;

fn millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_millis()
        .min(u64::MAX as u128 - 1) as u64
}

/// Allow calls until `deadline` (a renewal was seen).
pub fn open_until(deadline: SystemTime) {
    OPEN_UNTIL_MS.store(millis(deadline), Ordering::SeqCst);
}

/// Refuse every call from now on (until `open_until` again).
pub fn close() {
    OPEN_UNTIL_MS.store(0, Ordering::SeqCst);
}

/// Until when calls are allowed (`None`: always, no leader election).
pub fn open_until_time() -> Option<SystemTime> {
    match OPEN_UNTIL_MS.load(Ordering::SeqCst) {
        u64::MAX => None,
        ms => Some(UNIX_EPOCH + Duration::from_millis(ms)),
    }
}

/// Whether a vendor call may go out now.
pub fn check() -> Result<(), LeaseLapsed> {
    allows(SystemTime::now(), OPEN_UNTIL_MS.load(Ordering::SeqCst))
}

fn allows(now: SystemTime, open_until_ms: u64) -> Result<(), LeaseLapsed> {
    if millis(now) < open_until_ms {
        Ok(())
    } else {
        Err(LeaseLapsed)
    }
}

/// Name this replica (its Lease identity) in the `User-Agent` of clients built from now on.
pub fn name_replica(identity: &str) {
    let _ = REPLICA.set(identity.to_string());
}

/// `rampart/<version>`, with `(replica <identity>)` under leader election.
pub fn user_agent() -> String {
    agent_for(REPLICA.get().map(String::as_str))
}

fn agent_for(replica: Option<&str>) -> String {
    let base = concat!("rampart/", env!("CARGO_PKG_VERSION"));
    // Only characters that are safe in a header value and in a log line.
    let clean: String = replica
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "._-".contains(*c))
        .take(63)
        .collect();
    match clean.is_empty() {
        true => base.to_string(),
        false => format!("{base} (replica {clean})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_allowed_only_before_the_deadline() {
        let now = SystemTime::now();
        let at = |d: SystemTime| millis(d);
        assert_eq!(allows(now, u64::MAX), Ok(()), "no leader election");
        assert_eq!(allows(now, at(now + Duration::from_secs(5))), Ok(()));
        assert_eq!(allows(now, at(now)), Err(LeaseLapsed), "at the deadline");
        assert_eq!(
            allows(now, at(now - Duration::from_secs(5))),
            Err(LeaseLapsed)
        );
        assert_eq!(allows(now, 0), Err(LeaseLapsed), "closed");
    }

    #[test]
    fn the_user_agent_names_the_replica_safely() {
        assert!(agent_for(None).starts_with("rampart/"));
        assert!(!agent_for(None).contains("replica"));
        assert!(agent_for(Some("replica-a")).ends_with(" (replica replica-a)"));
        assert!(agent_for(Some("host 1/\n\r")).ends_with(" (replica host1)"));
    }
}
