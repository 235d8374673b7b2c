//! The bearer token from `POST /idp/token` (§2.4.1): HTTP Basic `username:password`, a form
//! body `grant_type=password`, no credentials in the body. One token per runtime, shared by
//! every call, renewed before it expires and after a 401. Refused credentials wait behind the
//! login gate (`vendor::login_gate`) before they are sent again.

use std::time::{Duration, Instant};

use base64::Engine;
use serde::Deserialize;

use super::VENDOR;
use super::errors::error_from_response;
use crate::engine::hub::SecretString;
use crate::vendor::error::{ErrorKind, VendorError, VendorResult};
use crate::vendor::http::VendorHttp;
use crate::vendor::login_gate::LoginGate;

/// The document says tokens live two hours (§2.4) while its example answers `expires_in: 86399`
/// (§2.5.2): we trust `expires_in`/`expires_on` but never beyond two hours.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(2 * 60 * 60);

/// The token response. The document shows `access_token`, `token_type`, `expires_in`,
/// `id_token`, `scope` in one example and `expires_on` (epoch seconds) in another.
#[derive(Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    #[serde(default)]
    pub expires_in: Option<i64>,
    #[serde(default)]
    pub expires_on: Option<i64>,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"<redacted>")
            .field("expires_in", &self.expires_in)
            .field("expires_on", &self.expires_on)
            .finish()
    }
}

/// Read the token answer. The error says where the body went wrong but never quotes it: serde
/// quotes a value of the wrong type, and a body that arrives as one JSON string (double
/// encoded) holds the token.
pub fn read_token(body: &[u8]) -> VendorResult<TokenResponse> {
    serde_json::from_slice(body).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Data => "does not have the documented fields",
            serde_json::error::Category::Eof => "ends too early",
            serde_json::error::Category::Syntax | serde_json::error::Category::Io => "is not JSON",
        };
        VendorError::new(
            VENDOR,
            "POST /idp/token",
            ErrorKind::Protocol,
            format!(
                "the token response {what} (line {}, column {})",
                e.line(),
                e.column()
            ),
        )
    })
}

/// How long a token may be used: the shortest of `expires_in`, `expires_on - now` and two
/// hours, less a margin so a request never leaves with a token about to expire.
pub fn usable_lifetime(
    expires_in: Option<i64>,
    expires_on: Option<i64>,
    now_epoch: i64,
) -> Duration {
    let cap = MAX_TOKEN_LIFETIME.as_secs() as i64;
    let mut secs = cap;
    if let Some(n) = expires_in {
        secs = secs.min(n);
    }
    if let Some(on) = expires_on {
        secs = secs.min(on.saturating_sub(now_epoch));
    }
    let secs = secs.max(0);
    let margin = (secs / 10).min(60);
    Duration::from_secs((secs - margin) as u64)
}

struct Token {
    value: SecretString,
    usable_until: Instant,
}

/// The login of one runtime.
pub struct Session {
    username: SecretString,
    password: SecretString,
    /// `namespace/name` of the Secret, for messages.
    source: String,
    gate: LoginGate,
    token: tokio::sync::Mutex<Option<Token>>,
}

impl Session {
    /// The login of `username`/`password` at `endpoint` (the installation address).
    pub fn new(
        endpoint: &str,
        username: SecretString,
        password: SecretString,
        source: String,
    ) -> Self {
        Session {
            gate: LoginGate::for_login(VENDOR, endpoint, &[username.expose(), password.expose()]),
            username,
            password,
            source,
            token: tokio::sync::Mutex::new(None),
        }
    }

    /// A usable bearer token, logging in when there is none or it is about to expire. Callers
    /// that arrive during a login wait for it instead of logging in again.
    pub async fn bearer(&self, http: &VendorHttp) -> VendorResult<SecretString> {
        let mut guard = self.token.lock().await;
        if let Some(t) = guard.as_ref().filter(|t| Instant::now() < t.usable_until) {
            return Ok(t.value.clone());
        }
        let fresh = self.login(http).await?;
        let value = fresh.value.clone();
        *guard = Some(fresh);
        Ok(value)
    }

    /// Forget `rejected` after the vendor answered 401 with it; a token another caller already
    /// renewed is kept.
    pub async fn reject(&self, rejected: &SecretString) {
        let mut guard = self.token.lock().await;
        if guard.as_ref().is_some_and(|t| &t.value == rejected) {
            *guard = None;
        }
    }

    async fn login(&self, http: &VendorHttp) -> VendorResult<Token> {
        const OPERATION: &str = "POST /idp/token";
        self.gate.check()?;
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            self.username.expose(),
            self.password.expose()
        ));
        let request = http
            .client()
            .post(http.url("/idp/token"))
            .header(reqwest::header::AUTHORIZATION, format!("Basic {basic}"))
            .form(&[("grant_type", "password")]);
        let started = Instant::now();
        let resp = http.execute(OPERATION, request).await?;
        if resp.status == 401 || resp.status == 403 {
            let mut e = error_from_response(OPERATION, &resp);
            e.kind = ErrorKind::Unauthorized;
            e.message = format!(
                "the username/password in Secret {} were refused ({})",
                self.source, e.message
            );
            return Err(self.gate.refused(e, &self.source));
        }
        if !resp.is_success() {
            return Err(error_from_response(OPERATION, &resp));
        }
        let parsed = read_token(&resp.body)?;
        self.gate.accepted();
        let now_epoch = jiff::Timestamp::now().as_second();
        let lifetime = usable_lifetime(parsed.expires_in, parsed.expires_on, now_epoch);
        tracing::debug!(
            vendor = VENDOR,
            lifetime_secs = lifetime.as_secs(),
            "logged in"
        );
        Ok(Token {
            value: SecretString::new(parsed.access_token),
            usable_until: started + lifetime,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_two_hour_cap_wins_over_a_day_long_expires_in() {
        // §2.5.2 answers expires_in 86399 while §2.4 says tokens live two hours.
        let l = usable_lifetime(Some(86399), None, 0);
        assert_eq!(l, Duration::from_secs(7200 - 60));
    }

    #[test]
    fn a_shorter_expires_in_is_trusted() {
        assert_eq!(
            usable_lifetime(Some(600), None, 0),
            Duration::from_secs(600 - 60)
        );
        assert_eq!(usable_lifetime(Some(100), None, 0), Duration::from_secs(90));
    }

    #[test]
    fn an_unreadable_token_answer_is_not_quoted() {
        // Found by tests/fuzz: serde quotes a string of the wrong type, so a token answer sent
        // as one JSON string put the bearer token in the error (and so in status and events).
        let body = serde_json::to_vec(&r#"{"access_token": "tok-secret-value"}"#).unwrap();
        let e = read_token(&body).unwrap_err();
        assert!(!e.to_string().contains("tok-secret-value"), "{e}");
        assert!(
            e.message.contains("does not have the documented fields"),
            "{e}"
        );
        let e = read_token(br#"{"access_token": "tok-secret-value", "expires_in": "soon"}"#)
            .unwrap_err();
        assert!(!e.to_string().contains("soon"), "{e}");
        assert!(read_token(br#"{"access_token": "t", "expires_in": 60}"#).is_ok());
    }

    #[test]
    fn an_expiry_at_the_end_of_time_does_not_overflow() {
        // Found by tests/fuzz: `"expires_on": -9223372036854775808` overflowed `on - now`.
        assert_eq!(usable_lifetime(None, Some(i64::MIN), 1), Duration::ZERO);
        assert_eq!(
            usable_lifetime(None, Some(i64::MAX), -1),
            Duration::from_secs(7200 - 60)
        );
    }

    #[test]
    fn expires_on_counts_from_now() {
        // §2.4.1 prints only expires_on (epoch seconds).
        assert_eq!(
            usable_lifetime(None, Some(1_562_910_964), 1_562_910_964 - 300),
            Duration::from_secs(270)
        );
        assert_eq!(
            usable_lifetime(Some(86399), Some(1_000), 2_000),
            Duration::ZERO
        );
    }

    #[test]
    fn no_expiry_at_all_means_the_documented_two_hours() {
        assert_eq!(usable_lifetime(None, None, 0), Duration::from_secs(7140));
    }

    #[test]
    fn the_token_response_of_both_examples_parses_and_never_prints_the_token() {
        let a: TokenResponse = serde_json::from_str(
            r#"{"access_token":"eyJhbGciOiJSUzI1NiIsImVhc","token_type":"bearer","expires_in":86399,"id_token":"x","scope":null}"#,
        )
        .unwrap();
        assert_eq!(a.expires_in, Some(86399));
        assert!(!format!("{a:?}").contains("eyJ"));
        let b: TokenResponse = serde_json::from_str(
            r#"{"access_token":"t","expires_on":1562910964,"id_token":"x","token_type":"bearer"}"#,
        )
        .unwrap();
        assert_eq!(b.expires_on, Some(1562910964));
    }
}
