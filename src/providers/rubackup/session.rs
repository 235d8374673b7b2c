//! The RuBackup session: `POST /auth/login` yields access, refresh and CSRF tokens (§6.1,
//! §8.1.1); `POST /auth/refresh` renews them (§6.2.2); a restart of the API service invalidates
//! all three, after which only a new login helps (§6.1). One session is shared by every runtime
//! that talks to the same endpoint with the same credentials, so reconcilers never log in one
//! by one. A refused login is remembered by the login gate (`vendor::login_gate`): RuBackup
//! locks an account after a few wrong passwords (`wrong_auth_attempts_count`, §8.4.1), so a bad
//! Secret must not be tried again and again.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, Weak};
use std::time::Instant;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::VENDOR;
use super::envelope::{self, Envelope};
use super::token::Tokens;
use crate::api::vendors::rubackup::{RuBackupAuthType, RuBackupLoginFormat};
use crate::engine::hub::SecretString;
use crate::vendor::error::{ErrorKind, VendorError, VendorResult};
use crate::vendor::http::{HttpResponse, VendorHttp};
use crate::vendor::login_gate::LoginGate;

/// The API root on one server and the HTTP edge to it.
#[derive(Clone)]
pub struct Endpoint {
    pub http: VendorHttp,
    /// Path of the API below the endpoint (`/api/v1`).
    pub api: String,
}

impl Endpoint {
    pub fn url(&self, path: &str) -> String {
        self.http.url(&format!("{}{}", self.api, path))
    }
}

/// What the login sends.
#[derive(Clone)]
pub struct LoginSettings {
    pub database: String,
    pub user: SecretString,
    pub password: SecretString,
    pub auth_type: RuBackupAuthType,
    pub domain: String,
    pub format: RuBackupLoginFormat,
    /// Where the credentials come from (`namespace/name` of the Secret), for messages.
    pub source: String,
}

impl LoginSettings {
    /// The login body: three fields up to 2.3, five from 2.4 (§8.1.1).
    pub fn body(&self) -> Value {
        let mut body = json!({
            "rubackup_database": self.database,
            "rubackup_user": self.user.expose(),
            "password": self.password.expose(),
        });
        if self.format == RuBackupLoginFormat::Current {
            body["auth_type"] = json!(match self.auth_type {
                RuBackupAuthType::Database => "database",
                RuBackupAuthType::Domain => "domain",
            });
            body["domain"] = json!(self.domain);
        }
        body
    }

    /// Identity of a shared session: a digest, so the password is not kept as a map key.
    fn session_key(&self, endpoint: &Endpoint) -> String {
        let mut h = Sha256::new();
        for part in [
            endpoint.url(""),
            self.database.clone(),
            format!("{:?}/{:?}", self.auth_type, self.format),
            self.domain.clone(),
            self.user.expose().to_string(),
            self.password.expose().to_string(),
        ] {
            h.update(part.as_bytes());
            h.update([0u8]);
        }
        hex::encode(h.finalize())
    }
}

/// Access token and CSRF token for one request.
#[derive(Clone)]
pub struct Authorization {
    pub access: SecretString,
    pub csrf: SecretString,
    pub generation: u64,
}

/// Tokens shared by every caller of one (endpoint, credentials).
#[derive(Default)]
pub struct Session {
    tokens: tokio::sync::Mutex<Option<Tokens>>,
    generations: std::sync::atomic::AtomicU64,
}

static SESSIONS: LazyLock<Mutex<HashMap<String, Weak<Session>>>> = LazyLock::new(Default::default);

impl Session {
    /// The session of these credentials on this endpoint, shared while any runtime holds it.
    pub fn shared(endpoint: &Endpoint, login: &LoginSettings) -> Arc<Session> {
        let key = login.session_key(endpoint);
        let mut all = SESSIONS.lock().unwrap();
        all.retain(|_, s| s.strong_count() > 0);
        if let Some(s) = all.get(&key).and_then(Weak::upgrade) {
            return s;
        }
        let s = Arc::new(Session::default());
        all.insert(key, Arc::downgrade(&s));
        s
    }

    /// Tokens for a request: the current ones, refreshed ones, or a new login. Callers queue
    /// behind one another here, so one login or refresh serves them all.
    pub async fn authorize(
        &self,
        endpoint: &Endpoint,
        gate: &LoginGate,
        login: &LoginSettings,
    ) -> VendorResult<Authorization> {
        let mut tokens = self.tokens.lock().await;
        let now = Instant::now();
        if let Some(t) = tokens.as_ref().filter(|t| t.usable(now)) {
            return Ok(authorization(t));
        }
        if let Some(t) = tokens.as_ref().filter(|t| t.refreshable(now)) {
            match self.refresh(endpoint, t).await {
                Ok(new) => return Ok(authorization(tokens.insert(new))),
                // Refused refresh: the tokens died with a restart or were revoked; log in again.
                Err(e) if e.kind == ErrorKind::Unauthorized => {
                    tracing::info!(
                        operation = "POST /auth/refresh",
                        "RuBackup refused the refresh token; logging in again"
                    )
                }
                Err(e) => return Err(e),
            }
        }
        *tokens = None;
        gate.check()?;
        match self.login(endpoint, login).await {
            Ok(new) => {
                gate.accepted();
                Ok(authorization(tokens.insert(new)))
            }
            Err(mut e) if refused_login(&e) => {
                e.message = format!("RuBackup refused the login ({})", e.message);
                Err(gate.refused(e, &login.source))
            }
            Err(e) => Err(e),
        }
    }

    /// The server refused tokens of `generation`: renew them on the next `authorize` (unless a
    /// newer generation is already there).
    pub async fn rejected(&self, generation: u64) {
        if let Some(t) = self
            .tokens
            .lock()
            .await
            .as_mut()
            .filter(|t| t.generation == generation)
        {
            t.expire_access(Instant::now());
        }
    }

    /// `package_version` reported by the last login.
    pub async fn version(&self) -> Option<String> {
        self.tokens
            .lock()
            .await
            .as_ref()
            .and_then(|t| t.version.clone())
    }

    /// End the session at the server (`DELETE /auth/logout`, §8.1.2), best effort.
    pub async fn logout(&self, endpoint: &Endpoint) {
        let Some(t) = self.tokens.lock().await.take() else {
            return;
        };
        let req = endpoint
            .http
            .client()
            .delete(endpoint.url("/auth/logout"))
            .header("Authorization", format!("Bearer {}", t.refresh.expose()))
            .header("X-CSRF-TOKEN", t.csrf.expose());
        if let Err(e) = endpoint.http.execute("DELETE /auth/logout", req).await {
            tracing::debug!(operation = "DELETE /auth/logout", error = %e, "RuBackup logout failed");
        }
    }

    async fn login(&self, endpoint: &Endpoint, login: &LoginSettings) -> VendorResult<Tokens> {
        const OP: &str = "POST /auth/login";
        let req = auth_request(endpoint, "/auth/login").json(&login.body());
        let resp = endpoint.http.execute(OP, req).await?;
        let tokens = read_tokens(OP, &resp, self.next_generation())?;
        tracing::info!(
            operation = OP,
            version = tokens.version.as_deref().unwrap_or("?"),
            "logged in to RuBackup"
        );
        Ok(tokens)
    }

    async fn refresh(&self, endpoint: &Endpoint, current: &Tokens) -> VendorResult<Tokens> {
        const OP: &str = "POST /auth/refresh";
        // §6.2.2 sends both tokens with `Bearer`; the CSRF header goes along because §8 asks for
        // it on every method (the example omits it).
        let req = auth_request(endpoint, "/auth/refresh")
            .header(
                "Authorization-Access-Token",
                format!("Bearer {}", current.access.expose()),
            )
            .header(
                "Authorization",
                format!("Bearer {}", current.refresh.expose()),
            )
            .header("X-CSRF-TOKEN", current.csrf.expose());
        let resp = endpoint.http.execute(OP, req).await?;
        let mut tokens = read_tokens(OP, &resp, self.next_generation())?;
        tokens.version = tokens.version.or_else(|| current.version.clone());
        Ok(tokens)
    }

    fn next_generation(&self) -> u64 {
        self.generations
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            + 1
    }
}

/// The tokens of a login or refresh answer. That answer may hold the tokens, so one that is
/// not an envelope is described, never quoted (elsewhere the error quotes such a body); the
/// vendor's own `message` and `errors` are kept. Public for the property tests in tests/fuzz.
pub fn read_tokens(operation: &str, resp: &HttpResponse, generation: u64) -> VendorResult<Tokens> {
    let env = envelope::read(operation, resp).map_err(|mut e| {
        let blank = resp.body.iter().all(u8::is_ascii_whitespace);
        if !blank && serde_json::from_slice::<Envelope>(&resp.body).is_err() {
            e.message = "the answer is not RuBackup's JSON envelope".to_string();
        }
        e
    })?;
    tokens_from(operation, &env, generation)
}

fn tokens_from(operation: &str, env: &Envelope, generation: u64) -> VendorResult<Tokens> {
    let field = |name: &str| {
        env.data
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| {
                VendorError::new(
                    VENDOR,
                    operation,
                    ErrorKind::Protocol,
                    format!("the response has no data.{name}"),
                )
            })
    };
    let mut tokens = Tokens::new(
        field("access_token")?,
        field("refresh_token")?,
        field("csrf_token")?,
        Instant::now(),
        generation,
    );
    tokens.version = env
        .data
        .get("package_version")
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(tokens)
}

/// A `POST` to an `/auth/*` endpoint.
fn auth_request(endpoint: &Endpoint, path: &str) -> reqwest::RequestBuilder {
    endpoint
        .http
        .client()
        .post(endpoint.url(path))
        .header("accept", "application/json")
}

fn authorization(t: &Tokens) -> Authorization {
    Authorization {
        access: t.access.clone(),
        csrf: t.csrf.clone(),
        generation: t.generation,
    }
}

/// A login the server answered and refused (as opposed to one that never got an answer).
fn refused_login(e: &VendorError) -> bool {
    matches!(
        e.kind,
        ErrorKind::Unauthorized | ErrorKind::Forbidden | ErrorKind::Rejected | ErrorKind::NotFound
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(format: RuBackupLoginFormat, auth_type: RuBackupAuthType) -> LoginSettings {
        LoginSettings {
            database: "rubackup".into(),
            user: SecretString::new("rubackup"),
            password: SecretString::new("12345"),
            auth_type,
            domain: "RUBACKUP".into(),
            format,
            source: "ns/rb".into(),
        }
    }

    #[test]
    fn login_bodies_follow_the_document() {
        assert_eq!(
            settings(RuBackupLoginFormat::Legacy, RuBackupAuthType::Database).body(),
            json!({"rubackup_database": "rubackup", "rubackup_user": "rubackup", "password": "12345"})
        );
        assert_eq!(
            settings(RuBackupLoginFormat::Current, RuBackupAuthType::Domain).body(),
            json!({"rubackup_database": "rubackup", "rubackup_user": "rubackup", "password": "12345",
                   "auth_type": "domain", "domain": "RUBACKUP"})
        );
        assert_eq!(
            settings(RuBackupLoginFormat::Current, RuBackupAuthType::Database).body()["auth_type"],
            "database"
        );
    }

    #[test]
    fn an_unreadable_login_answer_is_not_quoted() {
        // Found by tests/fuzz: a login answer that was not an envelope (truncated, double
        // encoded, or under a proxy's status) was quoted into the error, tokens and all.
        let body = br#"{"data": {"access_token": "eyJ.secret", "refresh_token": "eyJ.r", "csrf_token": "c"#;
        for status in [200, 502] {
            let resp = HttpResponse {
                status,
                headers: Default::default(),
                body: bytes::Bytes::from_static(body),
            };
            let e = read_tokens("POST /auth/login", &resp, 1).err().unwrap();
            assert!(!e.to_string().contains("secret"), "{e}");
            assert!(e.message.contains("not RuBackup's JSON envelope"), "{e}");
        }
    }

    #[test]
    fn errors_never_carry_the_password() {
        let s = settings(RuBackupLoginFormat::Current, RuBackupAuthType::Database);
        let gate = LoginGate::for_login(VENDOR, "https://rb.example", &["rubackup", "12345"]);
        let refusal = VendorError::new(
            VENDOR,
            "POST /auth/login",
            ErrorKind::Unauthorized,
            "Invalid credentials",
        );
        let e = gate.refused(refusal, &s.source);
        gate.accepted();
        assert!(!e.to_string().contains("12345"));
        assert!(!format!("{:?}", s.password).contains("12345"));
    }
}
