//! The one RS server session of a provider configuration: the `X-Auth-Token` to send, either
//! the Secret's token as is, or a Keystone token obtained with the Secret's password, shared by
//! every caller (single flight), renewed before it expires and after the vendor refuses it.
//! A refused password is not tried again soon (`vendor::login_gate`): Keystone deployments
//! lock accounts after repeated failures.

use std::sync::Mutex;
use std::time::Duration;

use super::VENDOR;
use super::keystone::{self, IssuedToken, ProjectScope};
use crate::api::vendors::rs_server::{RsServerAuthMethod, RsServerProviderSettings};
use crate::engine::hub::{ResolvedProvider, SecretString};
use crate::vendor::error::{ErrorKind, VendorError, VendorResult};
use crate::vendor::http::VendorHttp;
use crate::vendor::login_gate::LoginGate;

/// A token is renewed when it has less than this left.
const RENEW_MARGIN: Duration = Duration::from_secs(300);

/// Where the token comes from.
pub enum TokenSource {
    /// The Secret's `token`, sent as is.
    Static(SecretString),
    /// Keystone v3 password login.
    Keystone(KeystoneLogin),
}

/// Everything a Keystone login needs.
pub struct KeystoneLogin {
    pub http: VendorHttp,
    pub path: &'static str,
    pub username: SecretString,
    pub password: SecretString,
    pub user_domain: String,
    pub scope: ProjectScope,
}

/// A token handed to a caller; `generation` tells `discard` which token was refused.
#[derive(Debug, Clone)]
pub struct Token {
    pub value: SecretString,
    generation: u64,
}

struct Held {
    token: IssuedToken,
    generation: u64,
}

pub struct Session {
    source: TokenSource,
    /// `namespace/name` of the credentials Secret, for messages.
    secret: String,
    held: tokio::sync::Mutex<Option<Held>>,
    generation: Mutex<u64>,
    /// The gate of the Keystone password (none for a token from the Secret).
    gate: Option<LoginGate>,
}

/// The token source a provider configuration describes. Errors name spec fields and Secret
/// keys, never values.
pub fn token_source(
    p: &ResolvedProvider,
    identity: impl FnOnce(&str) -> VendorResult<VendorHttp>,
) -> VendorResult<TokenSource> {
    let settings = p.spec.rs_server.clone().unwrap_or_default();
    let config =
        |msg: &str| VendorError::new(VENDOR, "connect", ErrorKind::Config, msg.to_string());
    match settings.auth_method {
        RsServerAuthMethod::Token => Ok(TokenSource::Static(
            p.credentials.require(VENDOR, "token")?.clone(),
        )),
        RsServerAuthMethod::Password => {
            let endpoint = settings.identity_endpoint.as_deref().ok_or_else(|| {
                config("spec.rsServer.identityEndpoint is required when authMethod is Password")
            })?;
            let scope = scope_of(&settings).ok_or_else(|| {
                config("authMethod Password needs the token's project scope: set exactly one of spec.rsServer.projectId or spec.rsServer.projectName")
            })?;
            Ok(TokenSource::Keystone(KeystoneLogin {
                http: identity(endpoint)?,
                path: keystone::tokens_path(endpoint),
                username: p.credentials.require(VENDOR, "username")?.clone(),
                password: p.credentials.require(VENDOR, "password")?.clone(),
                user_domain: settings.user_domain_name.clone(),
                scope,
            }))
        }
    }
}

fn scope_of(s: &RsServerProviderSettings) -> Option<ProjectScope> {
    match (&s.project_id, &s.project_name) {
        (Some(id), None) => Some(ProjectScope::Id(id.clone())),
        (None, Some(name)) => Some(ProjectScope::Name {
            name: name.clone(),
            domain: s
                .project_domain_name
                .clone()
                .unwrap_or_else(|| s.user_domain_name.clone()),
        }),
        _ => None,
    }
}

impl Session {
    pub fn new(source: TokenSource, secret: String) -> Self {
        let gate = match &source {
            TokenSource::Static(_) => None,
            TokenSource::Keystone(l) => Some(LoginGate::for_login(
                VENDOR,
                &l.http.url(l.path),
                &[
                    l.username.expose(),
                    l.password.expose(),
                    &l.user_domain,
                    &l.scope.to_string(),
                ],
            )),
        };
        Session {
            source,
            secret,
            held: tokio::sync::Mutex::new(None),
            generation: Mutex::new(0),
            gate,
        }
    }

    /// Whether a refused token can be replaced by logging in again.
    pub fn renewable(&self) -> bool {
        matches!(self.source, TokenSource::Keystone(_))
    }

    /// The token to send now, logging in when there is none or it is about to expire.
    pub async fn token(&self) -> VendorResult<Token> {
        let login = match &self.source {
            TokenSource::Static(t) => {
                return Ok(Token {
                    value: t.clone(),
                    generation: 0,
                });
            }
            TokenSource::Keystone(login) => login,
        };
        let mut held = self.held.lock().await;
        if let Some(h) = held.as_ref()
            && !keystone::needs_renewal(h.token.expires_at, jiff::Timestamp::now(), RENEW_MARGIN)
        {
            return Ok(Token {
                value: h.token.value.clone(),
                generation: h.generation,
            });
        }
        let token = self.login(login).await?;
        let generation = {
            let mut g = self.generation.lock().unwrap();
            *g += 1;
            *g
        };
        *held = Some(Held {
            token: token.clone(),
            generation,
        });
        Ok(Token {
            value: token.value,
            generation,
        })
    }

    /// Forget a token the vendor refused, unless another caller already replaced it.
    pub async fn discard(&self, refused: &Token) {
        let mut held = self.held.lock().await;
        if held
            .as_ref()
            .is_some_and(|h| h.generation == refused.generation)
        {
            *held = None;
        }
    }

    /// What to tell the user when RS server refuses the token (never the token itself).
    pub fn refusal_hint(&self) -> String {
        match &self.source {
            TokenSource::Static(_) => format!(
                "the token in Secret {} (key 'token') was refused; put a valid Keystone token there or use authMethod Password",
                self.secret
            ),
            TokenSource::Keystone(l) => {
                format!(
                    "a token Keystone had just issued for Secret {} ({}) was refused",
                    self.secret, l.scope
                )
            }
        }
    }

    /// The value to remove from any text before it leaves the client.
    pub fn static_token(&self) -> Option<&SecretString> {
        match &self.source {
            TokenSource::Static(t) => Some(t),
            TokenSource::Keystone(_) => None,
        }
    }

    async fn login(&self, l: &KeystoneLogin) -> VendorResult<IssuedToken> {
        if let Some(gate) = &self.gate {
            gate.check()?;
        }
        let body = keystone::password_request(
            l.username.expose(),
            l.password.expose(),
            &l.user_domain,
            &l.scope,
        );
        let request = l.http.client().post(l.http.url(l.path)).json(&body);
        let resp = l.http.execute(keystone::LOGIN, request).await?;
        if !resp.is_success() {
            let mut e = keystone::error_from_response(keystone::LOGIN, &resp);
            if e.kind == ErrorKind::Unauthorized {
                e.message = format!("{} (user domain {}, {})", e.message, l.user_domain, l.scope);
                if let Some(gate) = &self.gate {
                    e = gate.refused(e, &self.secret);
                }
            }
            return Err(e);
        }
        if let Some(gate) = &self.gate {
            gate.accepted();
        }
        tracing::debug!(vendor = VENDOR, operation = keystone::LOGIN, secret = %self.secret, "obtained a Keystone token");
        keystone::parse_issued(&resp)
    }

    /// Revoke the token this session obtained (never a token the user gave in the Secret).
    pub async fn logout(&self) {
        let TokenSource::Keystone(l) = &self.source else {
            return;
        };
        let Some(held) = self.held.lock().await.take() else {
            return;
        };
        let Ok(value) = sensitive(held.token.value.expose()) else {
            return;
        };
        let request = l
            .http
            .client()
            .delete(l.http.url(l.path))
            .header("X-Auth-Token", value.clone())
            .header("X-Subject-Token", value);
        if let Err(e) = l.http.execute(keystone::LOGOUT, request).await {
            tracing::debug!(vendor = VENDOR, operation = keystone::LOGOUT, error = %e, "token revocation failed; it expires on its own");
        }
    }
}

/// A header value that HTTP debug output does not print.
pub fn sensitive(token: &str) -> VendorResult<reqwest::header::HeaderValue> {
    let mut v = reqwest::header::HeaderValue::from_str(token).map_err(|_| {
        VendorError::new(
            VENDOR,
            "send token",
            ErrorKind::Config,
            "the token holds characters an HTTP header cannot carry",
        )
    })?;
    v.set_sensitive(true);
    Ok(v)
}
