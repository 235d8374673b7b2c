//! Refused credentials are not sent again and again. Backup appliances and identity services
//! lock an account after a few wrong passwords (RuBackup's `wrong_auth_attempts_count`, §8.4.1
//! of its document; Keystone and IAM do the same), and every reconciler and health check that
//! shares a provider would otherwise try at each poll. After a refusal, a login with the same
//! credentials waits 5 minutes, doubling up to an hour; changing the Secret tries at once.
//!
//! The gate remembers credentials by a hash of the vendor, the endpoint and the credential
//! values, process-wide: a runtime rebuilt for an unrelated change (a new poll interval) does
//! not forget a refusal, two configurations with the same account share one, and a corrected
//! Secret is a different key.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::error::{VendorError, VendorResult};

/// The first wait after a refusal.
pub const FIRST_BACKOFF: Duration = Duration::from_secs(5 * 60);
/// The longest wait.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60 * 60);

struct Blocked {
    until: Instant,
    until_wall: jiff::Timestamp,
    backoff: Duration,
    refusal: VendorError,
    source: String,
}

static BLOCKED: LazyLock<Mutex<HashMap<String, Blocked>>> = LazyLock::new(Default::default);

/// The login gate of one set of credentials at one endpoint.
#[derive(Clone)]
pub struct LoginGate {
    key: String,
    first: Duration,
    max: Duration,
}

impl std::fmt::Debug for LoginGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoginGate")
    }
}

impl LoginGate {
    /// The gate of `credentials` (login name, password, …) for `vendor` at `endpoint`. Only a
    /// hash of them is kept.
    pub fn for_login(vendor: &str, endpoint: &str, credentials: &[&str]) -> Self {
        let mut h = Sha256::new();
        for part in [vendor, endpoint].iter().chain(credentials) {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        LoginGate {
            key: hex::encode(h.finalize()),
            first: FIRST_BACKOFF,
            max: MAX_BACKOFF,
        }
    }

    /// Other waits (tests).
    pub fn with_backoff(mut self, first: Duration, max: Duration) -> Self {
        self.first = first;
        self.max = max;
        self
    }

    /// Err while a refusal is being waited out: the refusal again, saying when the next
    /// attempt will be made. Call before every login.
    pub fn check(&self) -> VendorResult<()> {
        let all = BLOCKED.lock().unwrap();
        match all.get(&self.key) {
            Some(b) if Instant::now() < b.until => Err(explained(b)),
            _ => Ok(()),
        }
    }

    /// Record that the vendor refused these credentials with `refusal`; the error to report,
    /// saying when the next attempt will be made. `source` names the Secret.
    pub fn refused(&self, refusal: VendorError, source: &str) -> VendorError {
        let mut all = BLOCKED.lock().unwrap();
        let now = Instant::now();
        // Forget refusals long past, so the map does not grow with every Secret ever tried.
        all.retain(|_, b| now < b.until + b.backoff.max(self.max));
        let backoff = all
            .get(&self.key)
            .map(|b| (b.backoff * 2).min(self.max))
            .unwrap_or(self.first);
        let until_wall = jiff::Timestamp::now()
            .checked_add(jiff::SignedDuration::try_from(backoff).unwrap_or_default())
            .unwrap_or_else(|_| jiff::Timestamp::now());
        let b = Blocked {
            until: now + backoff,
            until_wall,
            backoff,
            refusal,
            source: source.to_string(),
        };
        let err = explained(&b);
        all.insert(self.key.clone(), b);
        err
    }

    /// The credentials were accepted: no wait, and the next refusal starts from the first.
    pub fn accepted(&self) {
        BLOCKED.lock().unwrap().remove(&self.key);
    }
}

fn explained(b: &Blocked) -> VendorError {
    let left = b.until.saturating_duration_since(Instant::now()).as_secs();
    let from = if b.source.is_empty() {
        String::new()
    } else {
        format!(" (credentials from Secret {})", b.source)
    };
    let mut e = b.refusal.clone();
    e.message = format!(
        "{}; the next login attempt will be made at {} (in {left} s) so that the account is not locked{from}; correcting the Secret retries at once",
        b.refusal.message,
        b.until_wall.strftime("%Y-%m-%dT%H:%M:%SZ"),
    );
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendor::error::ErrorKind;

    fn refusal() -> VendorError {
        VendorError::new(
            "v",
            "POST /login",
            ErrorKind::Unauthorized,
            "Invalid credentials",
        )
        .with_status(401)
    }

    fn gate(password: &str) -> LoginGate {
        LoginGate::for_login("v", "https://gate-test.example", &["user", password])
    }

    #[test]
    fn a_refusal_holds_logins_back_doubling_and_says_until_when() {
        let g = gate("wrong-1");
        assert!(g.check().is_ok());
        let e = g.refused(refusal(), "ns/s");
        assert_eq!((e.kind, e.status), (ErrorKind::Unauthorized, Some(401)));
        assert!(
            e.message
                .starts_with("Invalid credentials; the next login attempt will be made at")
                && e.message.contains("in 29")
                && e.message.contains("ns/s"),
            "{}",
            e.message
        );
        assert!(g.check().unwrap_err().message.contains("ns/s"));
        let e = g.refused(refusal(), "ns/s");
        assert!(e.message.contains("in 59"), "{}", e.message);
        g.accepted();
        assert!(g.check().is_ok());
        let e = g.refused(refusal(), "ns/s");
        assert!(e.message.contains("in 29"), "starts over: {}", e.message);
        g.accepted();
    }

    #[test]
    fn other_credentials_and_other_endpoints_are_not_held_back() {
        let g = gate("wrong-2");
        g.refused(refusal(), "ns/s");
        assert!(
            gate("right").check().is_ok(),
            "a corrected Secret tries at once"
        );
        assert!(
            gate("wrong-2").check().is_err(),
            "the same credentials wait, in any runtime"
        );
        let elsewhere = LoginGate::for_login("v", "https://other.example", &["user", "wrong-2"]);
        assert!(elsewhere.check().is_ok());
        g.accepted();
    }

    #[test]
    fn the_wait_is_capped_and_the_password_never_shows() {
        let g = gate("wrong-3").with_backoff(Duration::from_secs(300), Duration::from_secs(600));
        for _ in 0..5 {
            g.refused(refusal(), "ns/s");
        }
        let e = g.refused(refusal(), "ns/s");
        assert!(e.message.contains("in 59"), "{}", e.message);
        assert!(!e.to_string().contains("wrong-3"));
        assert!(!format!("{g:?}").contains("wrong-3"));
        g.accepted();
    }
}
