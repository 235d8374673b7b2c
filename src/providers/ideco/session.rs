//! The device session. The traffic-rules document says nothing about authentication.
//!
//! GUESS (from Ideco's public "description of handlers" page, not from the document): the
//! client POSTs `{"login", "password", "rest_path"}` to the login handler (`/web/auth/login` by
//! default, configurable), gets its session in `Set-Cookie` headers, sends those cookies on every
//! later request, and logs out with `DELETE` on the login handler. An expired session is assumed
//! to answer 401 or 403, or to redirect to the login page; each of those triggers one re-login
//! and a retry. The cookie jar is kept here rather than in the HTTP client so a re-login replaces
//! it wholesale and no cookie outlives its session.

use reqwest::header::{CONTENT_TYPE, COOKIE, HeaderMap, SET_COOKIE};
use serde_json::json;

use super::{VENDOR, errors};
use crate::api::vendors::ideco::IdecoProviderSettings;
use crate::engine::hub::SecretString;
use crate::vendor::error::{ErrorKind, VendorError, VendorResult};
use crate::vendor::http::{HttpResponse, VendorHttp};
use crate::vendor::login_gate::LoginGate;

#[derive(Default)]
struct State {
    /// The `Cookie` header of the current session.
    cookie: Option<String>,
    /// Bumped at every login, so a caller only drops the session it saw fail.
    generation: u64,
}

/// One login session with one device, shared by every caller of the runtime.
pub struct Session {
    http: VendorHttp,
    login: SecretString,
    password: SecretString,
    settings: IdecoProviderSettings,
    /// Refused credentials are not tried again soon: repeated wrong logins can lock an
    /// administrator account.
    gate: LoginGate,
    state: tokio::sync::Mutex<State>,
}

impl Session {
    pub fn new(
        http: VendorHttp,
        login: SecretString,
        password: SecretString,
        settings: IdecoProviderSettings,
    ) -> Self {
        Session {
            gate: LoginGate::for_login(VENDOR, &http.url(""), &[login.expose(), password.expose()]),
            http,
            login,
            password,
            settings,
            state: tokio::sync::Mutex::new(State::default()),
        }
    }

    pub fn http(&self) -> &VendorHttp {
        &self.http
    }

    /// Send an authenticated request; `build` makes it (again, after a re-login).
    pub async fn send<F>(&self, operation: &str, build: F) -> VendorResult<HttpResponse>
    where
        F: Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    {
        let mut attempt = 0;
        loop {
            let (cookie, generation) = self.current().await?;
            let resp = self
                .http
                .execute(operation, build(self.http.client()).header(COOKIE, cookie))
                .await?;
            if !needs_login(&resp) {
                return Ok(resp);
            }
            self.drop_session(generation).await;
            attempt += 1;
            if attempt == 2 {
                let kind = if resp.status == 403 {
                    ErrorKind::Forbidden
                } else {
                    ErrorKind::Unauthorized
                };
                return Err(VendorError::new(
                    VENDOR,
                    operation,
                    kind,
                    "right after a fresh login the device still asks for one (401, 403, a redirect or its login page)",
                )
                .with_status(resp.status)
                .refused_after_fresh_login());
            }
            tracing::info!(
                vendor = VENDOR,
                operation,
                status = resp.status,
                "session no longer valid; logging in again"
            );
        }
    }

    /// End the session on the device (operator shutdown or configuration change).
    pub async fn logout(&self) {
        let mut state = self.state.lock().await;
        let Some(cookie) = state.cookie.take() else {
            return;
        };
        let path = self
            .settings
            .logout_path
            .as_deref()
            .unwrap_or(&self.settings.login_path);
        let operation = format!("DELETE {path}");
        let request = self
            .http
            .client()
            .delete(self.http.url(path))
            .header(COOKIE, cookie);
        match self.http.execute(&operation, request).await {
            Ok(resp) if resp.is_success() => {
                tracing::info!(vendor = VENDOR, operation, "logged out")
            }
            Ok(resp) => tracing::warn!(
                vendor = VENDOR,
                operation,
                status = resp.status,
                "logout refused"
            ),
            Err(e) => tracing::warn!(vendor = VENDOR, operation, error = %e, "logout failed"),
        }
    }

    async fn current(&self) -> VendorResult<(String, u64)> {
        let mut state = self.state.lock().await;
        if let Some(cookie) = &state.cookie {
            return Ok((cookie.clone(), state.generation));
        }
        self.gate.check()?;
        match self.login().await {
            Ok(cookie) => {
                self.gate.accepted();
                state.generation += 1;
                state.cookie = Some(cookie.clone());
                Ok((cookie, state.generation))
            }
            Err(e) if e.kind == ErrorKind::Unauthorized => Err(self.gate.refused(e, "")),
            Err(e) => Err(e),
        }
    }

    async fn drop_session(&self, generation: u64) {
        let mut state = self.state.lock().await;
        if state.generation == generation {
            state.cookie = None;
        }
    }

    async fn login(&self) -> VendorResult<String> {
        let path = &self.settings.login_path;
        let operation = format!("POST {path}");
        let body = json!({
            "login": self.login.expose(),
            "password": self.password.expose(),
            "rest_path": self.settings.rest_path,
        });
        let resp = self
            .http
            .execute(
                &operation,
                self.http.client().post(self.http.url(path)).json(&body),
            )
            .await?;
        if matches!(resp.status, 400 | 401 | 403) {
            return Err(VendorError::new(
                VENDOR,
                &operation,
                ErrorKind::Unauthorized,
                "the device refused the login and password",
            )
            .with_status(resp.status));
        }
        if !resp.is_success() {
            return Err(errors::from_response(&operation, &resp));
        }
        let cookie = cookie_header(&resp.headers).ok_or_else(|| {
            errors::protocol(&operation, "the login answer set no session cookie")
        })?;
        tracing::info!(vendor = VENDOR, operation, "logged in");
        Ok(cookie)
    }
}

/// The `Cookie` header for the cookies a login answer sets; cleared cookies (empty value, as
/// in the logout answer) are left out.
pub fn cookie_header(headers: &HeaderMap) -> Option<String> {
    let pairs: Vec<String> = headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| {
            let pair = v.split(';').next()?.trim();
            let (name, value) = pair.split_once('=')?;
            let value = value.trim();
            (!name.trim().is_empty() && !value.is_empty() && value != "\"\"")
                .then(|| format!("{}={value}", name.trim()))
        })
        .collect();
    (!pairs.is_empty()).then(|| pairs.join("; "))
}

/// Whether an answer means "log in again": 401, 403, a redirect (GUESS: to the login page), or
/// an HTML page where the API answers JSON (a followed redirect to the login page).
pub fn needs_login(resp: &HttpResponse) -> bool {
    let html = resp
        .header(CONTENT_TYPE.as_str())
        .is_some_and(|t| t.trim_start().starts_with("text/html"));
    matches!(resp.status, 401 | 403)
        || (300..400).contains(&resp.status)
        || (resp.is_success() && html)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn response(status: u16, content_type: Option<&str>) -> HttpResponse {
        let mut headers = HeaderMap::new();
        if let Some(t) = content_type {
            headers.insert(CONTENT_TYPE, HeaderValue::from_str(t).unwrap());
        }
        HttpResponse {
            status,
            headers,
            body: Default::default(),
        }
    }

    #[test]
    fn the_cookie_header_carries_every_session_cookie() {
        let mut h = HeaderMap::new();
        h.append(
            SET_COOKIE,
            HeaderValue::from_static("insecure-ideco-session=02428c1c; Path=/"),
        );
        h.append(
            SET_COOKIE,
            HeaderValue::from_static(
                "__Secure-ideco-3ea5=df16:1663839003; HttpOnly; Path=/; SameSite=Strict; Secure",
            ),
        );
        h.append(
            SET_COOKIE,
            HeaderValue::from_static("stale=\"\"; Max-Age=0; Path=/"),
        );
        assert_eq!(
            cookie_header(&h).as_deref(),
            Some("insecure-ideco-session=02428c1c; __Secure-ideco-3ea5=df16:1663839003")
        );
        assert_eq!(cookie_header(&HeaderMap::new()), None);
    }

    #[test]
    fn expired_sessions_are_recognised() {
        assert!(needs_login(&response(401, None)));
        assert!(needs_login(&response(403, Some("application/json"))));
        assert!(needs_login(&response(302, None)));
        assert!(needs_login(&response(
            200,
            Some("text/html; charset=utf-8")
        )));
        assert!(!needs_login(&response(200, Some("application/json"))));
        assert!(!needs_login(&response(200, None)));
        assert!(!needs_login(&response(404, Some("text/html"))));
    }
}
