//! How CBR calls are authenticated: an IAM token from the Secret (`Token`), an IAM token
//! obtained with user name and password and cached for its lifetime (`Password`), or AK/SK
//! request signing (`AkSk`). One [`CbrAuth`] is shared by every call of a provider
//! configuration, so a password login happens once per token lifetime, not per call.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::Mutex;

use super::signer::{self, SigningRequest};
use super::{VENDOR, errors};
use crate::engine::hub::SecretString;
use crate::vendor::error::{ErrorKind, VendorResult};
use crate::vendor::http::VendorHttp;
use crate::vendor::login_gate::LoginGate;

/// The time source of signing dates and token expiry; tests move it.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(Timestamp::now)
}

/// "The validity period of a token is 24 hours" — used when IAM's body has no `expires_at`.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// A cached token is replaced this long before it expires, so no call races its expiry.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(15 * 60);

const IAM_OPERATION: &str = "POST /v3/auth/tokens";

/// The password login of the IAM token API (`POST {iamEndpoint}/v3/auth/tokens`).
#[derive(Clone, Debug)]
pub struct PasswordLogin {
    pub username: SecretString,
    pub password: SecretString,
    /// The account the IAM user belongs to (`domain.name`).
    pub domain_name: SecretString,
    /// The project the token is scoped to (`scope.project.name`), for example `ru-moscow-1`.
    pub project_name: String,
}

impl PasswordLogin {
    /// The request body; it holds the password, so it is never logged.
    pub fn body(&self) -> serde_json::Value {
        json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": self.username.expose(),
                "password": self.password.expose(),
                "domain": {"name": self.domain_name.expose()}}}},
            "scope": {"project": {"name": self.project_name}}}})
    }
}

/// A token and when it stops working.
#[derive(Clone, Debug)]
pub struct IssuedToken {
    pub token: SecretString,
    pub expires_at: Timestamp,
}

impl IssuedToken {
    /// Whether the token should be replaced at `now`.
    pub fn needs_refresh(&self, now: Timestamp) -> bool {
        now.saturating_add(jiff::SignedDuration::try_from(REFRESH_MARGIN).unwrap_or_default())
            .map(|t| t >= self.expires_at)
            .unwrap_or(true)
    }
}

#[derive(Deserialize, Default)]
struct TokenBody {
    #[serde(default)]
    token: TokenInfo,
}

#[derive(Deserialize, Default)]
struct TokenInfo {
    #[serde(default, deserialize_with = "super::models::de::time")]
    expires_at: Option<Timestamp>,
}

/// Read IAM's answer: the token is the `X-Subject-Token` header, its expiry `token.expires_at`
/// of the body (or 24 h from `now` when the body does not say).
pub fn read_token_response(
    subject_token: Option<&str>,
    body: &[u8],
    now: Timestamp,
) -> Result<IssuedToken, String> {
    let token = subject_token
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or("no X-Subject-Token header")?;
    let parsed: TokenBody = serde_json::from_slice(body).unwrap_or_default();
    let default_expiry =
        now.saturating_add(jiff::SignedDuration::try_from(TOKEN_LIFETIME).unwrap_or_default());
    let expires_at = parsed
        .token
        .expires_at
        .or(default_expiry.ok())
        .ok_or("token expiry out of range")?;
    Ok(IssuedToken {
        token: SecretString::new(token),
        expires_at,
    })
}

struct PasswordSession {
    iam: VendorHttp,
    login: PasswordLogin,
    /// A refused login is not tried again soon (`vendor::login_gate`): repeated wrong passwords
    /// lock IAM users, and every reconciler sharing this provider would otherwise try at once.
    gate: LoginGate,
    state: Mutex<LoginState>,
}

enum Method {
    Token(SecretString),
    Password(Box<PasswordSession>),
    AkSk {
        access_key: SecretString,
        secret_key: SecretString,
    },
}

#[derive(Default)]
struct LoginState {
    token: Option<IssuedToken>,
}

/// The authentication of one provider configuration.
pub struct CbrAuth {
    method: Method,
    clock: Clock,
}

/// What to add to one request.
pub struct AuthHeaders {
    pub headers: Vec<(&'static str, String)>,
    /// The token used, to drop it precisely after a 401.
    token: Option<String>,
}

impl CbrAuth {
    /// A fixed IAM token (Secret key `token`).
    pub fn token(token: SecretString) -> Self {
        CbrAuth {
            method: Method::Token(token),
            clock: system_clock(),
        }
    }

    /// Password login through `iam` (an HTTP client for the IAM endpoint).
    pub fn password(iam: VendorHttp, login: PasswordLogin) -> Self {
        let gate = LoginGate::for_login(
            VENDOR,
            &iam.url(""),
            &[
                login.username.expose(),
                login.password.expose(),
                login.domain_name.expose(),
                &login.project_name,
            ],
        );
        CbrAuth {
            method: Method::Password(Box::new(PasswordSession {
                iam,
                login,
                gate,
                state: Mutex::new(LoginState::default()),
            })),
            clock: system_clock(),
        }
    }

    /// AK/SK signing (Secret keys `accessKey`, `secretKey`).
    pub fn ak_sk(access_key: SecretString, secret_key: SecretString) -> Self {
        CbrAuth {
            method: Method::AkSk {
                access_key,
                secret_key,
            },
            clock: system_clock(),
        }
    }

    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    pub fn now(&self) -> Timestamp {
        (self.clock)()
    }

    /// The headers that authenticate `request` (whose headers are those that will be sent).
    pub async fn headers(&self, request: &SigningRequest<'_>) -> VendorResult<AuthHeaders> {
        match &self.method {
            Method::Token(t) => Ok(AuthHeaders {
                headers: vec![("X-Auth-Token", t.expose().to_string())],
                token: None,
            }),
            Method::Password(session) => {
                let token = self.current_token(session).await?;
                let value = token.token.expose().to_string();
                Ok(AuthHeaders {
                    headers: vec![("X-Auth-Token", value.clone())],
                    token: Some(value),
                })
            }
            Method::AkSk {
                access_key,
                secret_key,
            } => {
                let signed = signer::sign(
                    request,
                    access_key.expose(),
                    secret_key.expose(),
                    self.now(),
                );
                Ok(AuthHeaders {
                    headers: vec![
                        (signer::SDK_DATE_HEADER, signed.sdk_date),
                        ("Authorization", signed.authorization),
                    ],
                    token: None,
                })
            }
        }
    }

    /// A call was refused with these headers. Returns whether retrying with fresh headers can
    /// help: only a password login can get a new token; a fixed token or a key pair stays wrong.
    pub async fn refused(&self, used: &AuthHeaders) -> bool {
        let Method::Password(session) = &self.method else {
            return false;
        };
        let mut st = session.state.lock().await;
        if st.token.as_ref().map(|t| t.token.expose()) == used.token.as_deref() {
            st.token = None;
        }
        true
    }

    async fn current_token(&self, session: &PasswordSession) -> VendorResult<IssuedToken> {
        // Held across the login: concurrent callers wait for one login instead of each logging in.
        let mut st = session.state.lock().await;
        let now = self.now();
        if let Some(t) = st.token.as_ref().filter(|t| !t.needs_refresh(now)) {
            return Ok(t.clone());
        }
        session.gate.check()?;
        match self.login(&session.iam, &session.login, now).await {
            Ok(token) => {
                tracing::debug!(vendor = VENDOR, operation = IAM_OPERATION, expires_at = %token.expires_at, "obtained IAM token");
                session.gate.accepted();
                st.token = Some(token.clone());
                Ok(token)
            }
            Err(err) => {
                st.token = None;
                if matches!(
                    err.kind,
                    ErrorKind::Unauthorized | ErrorKind::Forbidden | ErrorKind::Rejected
                ) {
                    return Err(session.gate.refused(err, ""));
                }
                Err(err)
            }
        }
    }

    async fn login(
        &self,
        iam: &VendorHttp,
        login: &PasswordLogin,
        now: Timestamp,
    ) -> VendorResult<IssuedToken> {
        let request = iam
            .client()
            .post(iam.url("/v3/auth/tokens"))
            .header("Content-Type", "application/json")
            .body(login.body().to_string());
        let resp = iam.execute(IAM_OPERATION, request).await?;
        if !resp.is_success() {
            let mut err = errors::from_response(IAM_OPERATION, resp.status, &resp.body);
            if resp.status == 401 {
                err.message = format!(
                    "IAM refused the login of the Secret's user: {}",
                    err.message
                );
            }
            return Err(err);
        }
        read_token_response(resp.header("x-subject-token"), &resp.body, now)
            .map_err(|what| errors::protocol(IAM_OPERATION, resp.status, what))
    }
}

impl std::fmt::Debug for CbrAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let m = match self.method {
            Method::Token(_) => "Token",
            Method::Password(_) => "Password",
            Method::AkSk { .. } => "AkSk",
        };
        write!(f, "CbrAuth({m})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_body_has_project_scope_inside_auth() {
        let login = PasswordLogin {
            username: SecretString::new("user"),
            password: SecretString::new("pw"),
            domain_name: SecretString::new("acct"),
            project_name: "ru-moscow-1".into(),
        };
        let body = login.body();
        assert_eq!(body["auth"]["scope"]["project"]["name"], "ru-moscow-1");
        assert_eq!(body["auth"]["identity"]["methods"][0], "password");
        assert_eq!(
            body["auth"]["identity"]["password"]["user"]["domain"]["name"],
            "acct"
        );
        assert!(body.get("scope").is_none());
        assert!(!format!("{login:?}").contains("pw"));
    }

    #[test]
    fn token_expiry_from_body_or_24_hours() {
        let now: Timestamp = "2024-01-01T00:00:00Z".parse().unwrap();
        let t = read_token_response(
            Some("tok"),
            br#"{"token":{"expires_at":"2024-01-01T06:00:00.000000Z"}}"#,
            now,
        )
        .unwrap();
        assert_eq!(t.expires_at, "2024-01-01T06:00:00Z".parse().unwrap());
        assert_eq!(t.token.expose(), "tok");
        let t = read_token_response(Some("tok"), b"{}", now).unwrap();
        assert_eq!(t.expires_at, "2024-01-02T00:00:00Z".parse().unwrap());
        assert!(read_token_response(None, b"{}", now).is_err());
        assert!(read_token_response(Some(" "), b"{}", now).is_err());
    }

    #[test]
    fn refresh_happens_inside_the_margin() {
        let t = IssuedToken {
            token: SecretString::new("x"),
            expires_at: "2024-01-02T00:00:00Z".parse().unwrap(),
        };
        assert!(!t.needs_refresh("2024-01-01T23:44:59Z".parse().unwrap()));
        assert!(t.needs_refresh("2024-01-01T23:45:00Z".parse().unwrap()));
        assert!(t.needs_refresh("2024-01-03T00:00:00Z".parse().unwrap()));
    }
}
