//! The tokens a RuBackup login returns and when to renew them. The access token lives 15
//! minutes and the refresh token 24 hours (document §6.1); rampart reads the actual lifetime
//! from each JWT (`exp - iat`) and counts it from the moment the token arrived, so a skewed
//! server clock does not matter.

use std::time::{Duration, Instant};

use base64::Engine;
use serde::Deserialize;

use crate::engine::hub::SecretString;

/// The lifetimes the document states, used when a token cannot be read.
pub const ACCESS_LIFETIME: Duration = Duration::from_secs(15 * 60);
pub const REFRESH_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// Renew this long before expiry, but at most a quarter of the lifetime (short test lifetimes).
const RENEW_MARGIN: Duration = Duration::from_secs(60);

#[derive(Deserialize)]
struct Claims {
    iat: Option<i64>,
    exp: Option<i64>,
}

/// A JWT's lifetime (`exp - iat`), if the token says.
pub fn lifetime(jwt: &str) -> Option<Duration> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: Claims = serde_json::from_slice(&bytes).ok()?;
    let secs = claims.exp?.checked_sub(claims.iat?)?;
    (secs > 0).then(|| Duration::from_secs(secs as u64))
}

/// `received + lifetime`, or the documented lifetime when the token's is beyond the clock.
fn until(received: Instant, lifetime: Duration, documented: Duration) -> (Instant, Duration) {
    match received.checked_add(lifetime) {
        Some(t) => (t, lifetime),
        None => (received + documented, documented),
    }
}

/// A live session's tokens.
#[derive(Clone)]
pub struct Tokens {
    pub access: SecretString,
    pub refresh: SecretString,
    pub csrf: SecretString,
    pub access_until: Instant,
    pub refresh_until: Instant,
    access_lifetime: Duration,
    /// Bumped on every login or refresh, so a caller that saw a 401 only discards the tokens it
    /// used, not newer ones another caller already obtained.
    pub generation: u64,
    /// `package_version` from the login.
    pub version: Option<String>,
}

impl Tokens {
    pub fn new(
        access: String,
        refresh: String,
        csrf: String,
        received: Instant,
        generation: u64,
    ) -> Self {
        let (access_until, access_lifetime) = until(
            received,
            lifetime(&access).unwrap_or(ACCESS_LIFETIME),
            ACCESS_LIFETIME,
        );
        let (refresh_until, _) = until(
            received,
            lifetime(&refresh).unwrap_or(REFRESH_LIFETIME),
            REFRESH_LIFETIME,
        );
        Tokens {
            access: SecretString::new(access),
            refresh: SecretString::new(refresh),
            csrf: SecretString::new(csrf),
            access_until,
            refresh_until,
            access_lifetime,
            generation,
            version: None,
        }
    }

    fn margin(&self) -> Duration {
        RENEW_MARGIN.min(self.access_lifetime / 4)
    }

    /// The access token can be used as it is.
    pub fn usable(&self, now: Instant) -> bool {
        now + self.margin() < self.access_until
    }

    /// The refresh token can still renew the access token.
    pub fn refreshable(&self, now: Instant) -> bool {
        now + self.margin() < self.refresh_until
    }

    /// Treat the access token as expired (the server refused it).
    pub fn expire_access(&mut self, now: Instant) {
        self.access_until = now;
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    /// An unsigned JWT with the given claims (signature is not checked by the client).
    pub(crate) fn jwt(claims: serde_json::Value) -> String {
        let enc = |v: &serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        format!(
            "{}.{}.sig",
            enc(&json!({"typ": "JWT", "alg": "HS256"})),
            enc(&claims)
        )
    }

    #[test]
    fn lifetime_comes_from_the_claims() {
        assert_eq!(
            lifetime(&jwt(json!({"iat": 1715158760, "exp": 1715159660}))),
            Some(Duration::from_secs(900))
        );
        assert_eq!(lifetime(&jwt(json!({"iat": 10}))), None);
        assert_eq!(lifetime("not-a-jwt"), None);
    }

    #[test]
    fn absurd_claims_do_not_overflow() {
        // `exp - iat` overflowed, and a lifetime of centuries overflowed
        // the clock when added to the moment the token arrived.
        assert_eq!(lifetime(&jwt(json!({"iat": -1, "exp": i64::MAX}))), None);
        let forever = jwt(json!({"iat": 0, "exp": i64::MAX}));
        let t0 = Instant::now();
        let tokens = Tokens::new(forever.clone(), forever, "csrf".into(), t0, 1);
        assert!(tokens.usable(t0));
    }

    #[test]
    fn the_documents_token_reads_as_fifteen_minutes() {
        // The access token printed in §6.1.2 of the document.
        let doc = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJmcmVzaCI6ZmFsc2UsImlhdCI6MTcxNTE1ODc2MCwianRpIjoiNThjZjQ5MDAtZjE5Ni00OTZlLThkZjQtMThmZjlhY2M3Y2QxIiwidHlwZSI6ImFjY2VzcyIsInN1YiI6InJ1YmFja3VwIiwibmJmIjoxNzE1MTU4NzYwLCJjc3JmIjoiNGM4YzM0NTctNDAwNS00YzZiLTk2MWMtMGM1MDU5NjcxZTA2IiwiZXhwIjoxNzE1MTU5NjYwLCJmYW1pbHkiOiJ4cnByeHR3ZHJyZ3FsamN4In0.VK5K6v-0_NxSx42bU5dEMIQAYYzxn-GTxmbjhxXjYSs";
        assert_eq!(lifetime(doc), Some(ACCESS_LIFETIME));
    }

    #[test]
    fn renewal_starts_a_margin_before_expiry() {
        let t0 = Instant::now();
        let access = jwt(json!({"iat": 0, "exp": 900}));
        let refresh = jwt(json!({"iat": 0, "exp": 86400}));
        let tokens = Tokens::new(access, refresh, "csrf".into(), t0, 1);
        assert!(tokens.usable(t0 + Duration::from_secs(839)));
        assert!(!tokens.usable(t0 + Duration::from_secs(841)));
        assert!(tokens.refreshable(t0 + Duration::from_secs(86000)));
        assert!(!tokens.refreshable(t0 + Duration::from_secs(86399)));
        // A two-second token is renewed in its last half second, not a minute early.
        let short = Tokens::new(
            jwt(json!({"iat": 0, "exp": 2})),
            jwt(json!({"iat": 0, "exp": 10})),
            "c".into(),
            t0,
            2,
        );
        assert!(short.usable(t0 + Duration::from_millis(1400)));
        assert!(!short.usable(t0 + Duration::from_millis(1600)));
    }
}
