//! Remembers a refused login so that a bad Secret is not tried again and again: RuBackup locks
//! an account after `wrong_auth_attempts_count` wrong passwords (§8.4.1).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::VENDOR;
use crate::vendor::error::{ErrorKind, VendorError, VendorResult};

/// Remembers a refused login and holds further attempts back: 5 minutes, doubling up to an
/// hour. Belongs to one runtime; the hub builds a new runtime (with a new gate) when the
/// credentials Secret changes, so a corrected Secret is tried at once.
pub struct LoginGate {
    blocked: Mutex<Option<Blocked>>,
    first: Duration,
    max: Duration,
}

struct Blocked {
    until: Instant,
    until_wall: jiff::Timestamp,
    backoff: Duration,
    reason: String,
}

impl LoginGate {
    pub fn new(first: Duration, max: Duration) -> Self {
        LoginGate {
            blocked: Mutex::new(None),
            first,
            max,
        }
    }

    /// Err while a refused login is being waited out.
    pub fn check(&self, source: &str) -> VendorResult<()> {
        let guard = self.blocked.lock().unwrap();
        match guard.as_ref() {
            Some(b) if Instant::now() < b.until => Err(blocked_error(source, b)),
            _ => Ok(()),
        }
    }

    /// Record a refused login; the error says when the next attempt will be made.
    pub fn refused(&self, source: &str, reason: String) -> VendorError {
        let mut guard = self.blocked.lock().unwrap();
        let backoff = guard
            .as_ref()
            .map(|b| (b.backoff * 2).min(self.max))
            .unwrap_or(self.first);
        let until_wall = jiff::Timestamp::now()
            .checked_add(
                jiff::SignedDuration::try_from(backoff).unwrap_or(jiff::SignedDuration::ZERO),
            )
            .unwrap_or_else(|_| jiff::Timestamp::now());
        let b = Blocked {
            until: Instant::now() + backoff,
            until_wall,
            backoff,
            reason,
        };
        let err = blocked_error(source, &b);
        *guard = Some(b);
        err
    }

    pub fn accepted(&self) {
        *self.blocked.lock().unwrap() = None;
    }
}

fn blocked_error(source: &str, b: &Blocked) -> VendorError {
    let left = b.until.saturating_duration_since(Instant::now()).as_secs();
    VendorError::new(
        VENDOR,
        "POST /auth/login",
        ErrorKind::Unauthorized,
        format!(
            "RuBackup refused the login with the credentials from Secret {source} ({}); the next login attempt \
             will be made at {} (in {left} s), so that RuBackup does not lock the account; correcting the \
             Secret retries at once",
            b.reason,
            b.until_wall.strftime("%Y-%m-%dT%H:%M:%SZ"),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gate_holds_logins_back_doubling_and_says_until_when() {
        let gate = LoginGate::new(Duration::from_secs(300), Duration::from_secs(3600));
        assert!(gate.check("ns/rb").is_ok());
        let e = gate.refused("ns/rb", "Invalid credentials".into());
        assert_eq!(e.kind, ErrorKind::Unauthorized);
        assert!(
            e.message.contains("Invalid credentials") && e.message.contains("in 29"),
            "{}",
            e.message
        );
        assert!(gate.check("ns/rb").is_err());
        let e = gate.refused("ns/rb", "again".into());
        assert!(e.message.contains("in 59"), "{}", e.message);
        gate.accepted();
        assert!(gate.check("ns/rb").is_ok());
    }

    #[test]
    fn backoff_is_capped() {
        let gate = LoginGate::new(Duration::from_secs(300), Duration::from_secs(600));
        for _ in 0..5 {
            gate.refused("s", "no".into());
        }
        let e = gate.refused("s", "no".into());
        assert!(e.message.contains("in 59"), "{}", e.message);
    }
}
