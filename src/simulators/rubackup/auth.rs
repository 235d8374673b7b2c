//! Authentication as the document describes it: `POST /auth/login` issues HS256 JWTs (access
//! 15 min, refresh 24 h, claims `fresh iat jti type sub nbf csrf exp family`, decoded from the
//! document's examples) and a CSRF token that lives until the service restarts;
//! `POST /auth/refresh` takes both tokens and rotates them; `DELETE /auth/logout` deactivates
//! them. Every other endpoint needs `Authorization: Bearer <access>` and `X-CSRF-TOKEN`.
//! Wrong passwords count towards `wrong_auth_attempts_count` (5), after which the account is
//! blocked for `wrong_auth_block_period` (30, GUESS: minutes).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use hmac::{KeyInit, Mac};
use rand::Rng;
use serde_json::{Value, json};

use super::Sim;
use super::reply;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Keys, CSRF token and live token families of one "process" of the API service.
pub struct AuthState {
    secret: [u8; 32],
    pub csrf: String,
    /// Token family → the harness token epoch it was issued in.
    families: HashMap<String, u64>,
    failures: HashMap<String, Failures>,
}

#[derive(Default, Clone)]
struct Failures {
    count: u32,
    blocked_until: Option<i64>,
    last_fail: Option<String>,
    last_success: Option<String>,
}

fn uuid() -> String {
    let b: [u8; 16] = rand::rng().random();
    let h = hex::encode(b);
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

fn family() -> String {
    let mut rng = rand::rng();
    (0..16)
        .map(|_| rng.random_range(b'a'..=b'z') as char)
        .collect()
}

impl AuthState {
    pub fn new() -> Self {
        AuthState {
            secret: rand::rng().random(),
            csrf: uuid(),
            families: HashMap::new(),
            failures: HashMap::new(),
        }
    }

    fn sign(&self, claims: &Value) -> String {
        let head = B64.encode(json!({"typ": "JWT", "alg": "HS256"}).to_string());
        let body = B64.encode(claims.to_string());
        let mut mac = HmacSha256::new_from_slice(&self.secret).expect("any key length");
        mac.update(format!("{head}.{body}").as_bytes());
        format!("{head}.{body}.{}", B64.encode(mac.finalize().into_bytes()))
    }

    /// The claims of a token this process signed, whatever its expiry.
    fn verify(&self, token: &str) -> Option<Value> {
        let mut parts = token.split('.');
        let (head, body, sig) = (parts.next()?, parts.next()?, parts.next()?);
        let mut mac = HmacSha256::new_from_slice(&self.secret).ok()?;
        mac.update(format!("{head}.{body}").as_bytes());
        mac.verify_slice(&B64.decode(sig).ok()?).ok()?;
        serde_json::from_slice(&B64.decode(body).ok()?).ok()
    }
}

impl Default for AuthState {
    fn default() -> Self {
        Self::new()
    }
}

impl Sim {
    fn issue(&self, auth: &mut AuthState, user: &str) -> (String, String) {
        let now = self.now();
        let fam = family();
        auth.families
            .insert(fam.clone(), self.control.token_epoch());
        let token = |kind: &str, ttl: u64| {
            auth.sign(&json!({
                "fresh": false, "iat": now, "jti": uuid(), "type": kind, "sub": user, "nbf": now,
                "csrf": auth.csrf, "exp": now + ttl as i64, "family": fam
            }))
        };
        let issued = (
            token("access", self.config.access_ttl.as_secs()),
            token("refresh", self.config.refresh_ttl.as_secs()),
        );
        for secret in [&issued.0, &issued.1, &auth.csrf] {
            self.control.remember_issued(secret);
        }
        issued
    }

    /// Claims of a live token of `kind`: signed here, of a family not revoked since, CSRF of
    /// this process, and (unless `ignore_expiry`) not expired.
    fn live(
        &self,
        auth: &AuthState,
        token: &str,
        kind: &str,
        ignore_expiry: bool,
    ) -> Result<Value, &'static str> {
        let claims = auth.verify(token).ok_or("Signature verification failed")?;
        if claims["type"] != kind {
            return Err("Wrong token type");
        }
        let fam = claims["family"].as_str().unwrap_or_default();
        if auth.families.get(fam) != Some(&self.control.token_epoch()) {
            return Err("Token has been revoked");
        }
        if claims["csrf"] != auth.csrf.as_str() {
            return Err("CSRF double submit tokens do not match");
        }
        if !ignore_expiry && claims["exp"].as_i64().unwrap_or(0) <= self.now() {
            return Err("Token has expired");
        }
        Ok(claims)
    }

    fn tokens_reply(
        &self,
        auth: &AuthState,
        user: &str,
        tokens: (String, String),
        login: Option<&Failures>,
    ) -> Response {
        let mut data = json!({
            "access_token": tokens.0, "csrf_token": auth.csrf, "package_version": self.config.version,
            "refresh_token": tokens.1, "role": ["superuser"], "rubackup_server_address": "127.0.0.1", "user_name": user
        });
        if let Some(f) = login {
            data["last_fail_login"] = json!(f.last_fail);
            data["last_success_login"] = json!(f.last_success);
        }
        let mut resp = reply::ok(data.clone());
        for (name, key) in [
            ("access_token_cookie", "access_token"),
            ("refresh_token_cookie", "refresh_token"),
        ] {
            let cookie = format!(
                "{name}={}; HttpOnly; Secure; Path=/",
                data[key].as_str().unwrap_or_default()
            );
            resp.headers_mut().append(
                header::SET_COOKIE,
                cookie.parse().expect("token is header-safe"),
            );
        }
        resp
    }
}

fn stamp(sim: &Sim) -> String {
    jiff::Timestamp::from_second(sim.now())
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%S%.6f").to_string())
        .unwrap_or_default()
}

/// `POST /auth/login`, with the 2.3 body (3 fields) or the 2.4 body (`auth_type`, `domain`).
pub async fn login(State(sim): State<Arc<Sim>>, body: axum::body::Bytes) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return reply::bad_request("body is not JSON");
    };
    let field = |k: &str| body.get(k).and_then(Value::as_str);
    let (Some(database), Some(user), Some(password)) = (
        field("rubackup_database"),
        field("rubackup_user"),
        field("password"),
    ) else {
        return reply::bad_request("rubackup_database, rubackup_user and password are required");
    };
    let domain_auth = match field("auth_type") {
        None | Some("database") => false,
        Some("domain") => true,
        Some(other) => return reply::bad_request(&format!("unknown auth_type '{other}'")),
    };
    let mut auth = sim.auth.lock().unwrap();
    let now = sim.now();
    let mut f = auth.failures.get(user).cloned().unwrap_or_default();
    if f.blocked_until.is_some_and(|t| t > now) {
        return reply::unauthorized("User is blocked after too many failed login attempts");
    }
    let known = sim.config.users.iter().find(|u| {
        u.name == user
            && u.password == password
            && database == sim.config.database
            && (!domain_auth
                || u.domain.as_deref().is_some_and(|d| {
                    Some(d.to_lowercase()) == field("domain").map(str::to_lowercase)
                }))
    });
    let Some(known) = known else {
        f.count += 1;
        f.last_fail = Some(stamp(&sim));
        if f.count >= sim.config.lockout_attempts {
            f.blocked_until = Some(now + sim.config.lockout_period.as_secs() as i64);
            f.count = 0;
        }
        auth.failures.insert(user.to_string(), f);
        return reply::unauthorized("Invalid credentials");
    };
    let user_name = if domain_auth {
        format!("_ms_ad_{}_rubackup", known.name)
    } else {
        known.name.clone()
    };
    let previous = f.clone();
    f = Failures {
        last_success: Some(stamp(&sim)),
        last_fail: f.last_fail,
        ..Default::default()
    };
    auth.failures.insert(user.to_string(), f);
    let tokens = sim.issue(&mut auth, &user_name);
    sim.tokens_reply(&auth, &user_name, tokens, Some(&previous))
}

fn bearer(headers: &HeaderMap, name: &str) -> Option<String> {
    let v = headers.get(name)?.to_str().ok()?.trim();
    Some(v.strip_prefix("Bearer ").unwrap_or(v).trim().to_string())
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    let all = headers.get(header::COOKIE)?.to_str().ok()?;
    all.split(';').find_map(|c| {
        c.trim()
            .strip_prefix(&format!("{name}="))
            .map(str::to_string)
    })
}

/// `POST /auth/refresh`: `Authorization-Access-Token: Bearer <access>` (may be expired) and
/// `Authorization: Bearer <refresh>`, or the cookies. New pair, new family, same CSRF.
pub async fn refresh(State(sim): State<Arc<Sim>>, headers: HeaderMap) -> Response {
    let access = bearer(&headers, "Authorization-Access-Token")
        .or_else(|| cookie(&headers, "access_token_cookie"));
    let refresh =
        bearer(&headers, "Authorization").or_else(|| cookie(&headers, "refresh_token_cookie"));
    let (Some(access), Some(refresh)) = (access, refresh) else {
        return reply::unauthorized("Один или оба токена не указаны");
    };
    let mut auth = sim.auth.lock().unwrap();
    let claims = match (
        sim.live(&auth, &access, "access", true),
        sim.live(&auth, &refresh, "refresh", false),
    ) {
        (Ok(a), Ok(r)) if a["family"] == r["family"] => r,
        (Err(e), _) | (_, Err(e)) => return reply::unauthorized(e),
        _ => return reply::unauthorized("The tokens belong to different sessions"),
    };
    let user = claims["sub"].as_str().unwrap_or_default().to_string();
    auth.families
        .remove(claims["family"].as_str().unwrap_or_default());
    let tokens = sim.issue(&mut auth, &user);
    sim.tokens_reply(&auth, &user, tokens, None)
}

/// `DELETE /auth/logout` (and `/logout`, as the curl example has it): the refresh token with
/// or without `Bearer`.
pub async fn logout(State(sim): State<Arc<Sim>>, headers: HeaderMap) -> Response {
    let Some(refresh) =
        bearer(&headers, "Authorization").or_else(|| cookie(&headers, "refresh_token_cookie"))
    else {
        return reply::unauthorized("Verification failed");
    };
    let mut auth = sim.auth.lock().unwrap();
    match sim.live(&auth, &refresh, "refresh", false) {
        Ok(claims) => {
            auth.families
                .remove(claims["family"].as_str().unwrap_or_default());
            reply::done("Токены деактивированы")
        }
        Err(_) => reply::unauthorized("Verification failed"),
    }
}

/// The guard in front of every resource endpoint: a live access token and the CSRF token of
/// this process (GUESS: 401 in the envelope, with flask-jwt-extended's messages).
pub async fn guard(State(sim): State<Arc<Sim>>, req: Request, next: Next) -> Response {
    let verdict = {
        let auth = sim.auth.lock().unwrap();
        let headers = req.headers();
        let csrf = headers.get("X-CSRF-TOKEN").and_then(|v| v.to_str().ok());
        let access =
            bearer(headers, "Authorization").or_else(|| cookie(headers, "access_token_cookie"));
        match (csrf, access) {
            (None, _) => Err("Missing CSRF token"),
            (Some(c), _) if c != auth.csrf => Err("CSRF double submit tokens do not match"),
            (_, None) => Err("Missing Authorization Header"),
            (_, Some(token)) => sim.live(&auth, &token, "access", false).map(drop),
        }
    };
    match verdict {
        Ok(()) => next.run(req).await,
        Err(message) => reply::unauthorized(message),
    }
}

impl Sim {
    /// A restart of `rubackup_api`: new keys and CSRF token, every token dead (§6.1).
    pub fn restart(&self) {
        let failures = std::mem::take(&mut self.auth.lock().unwrap().failures);
        *self.auth.lock().unwrap() = AuthState {
            failures,
            ..AuthState::new()
        };
        self.control.revoke_tokens();
    }

    /// Failed logins recorded for `user` since its last success or block.
    pub fn failed_logins(&self, user: &str) -> u32 {
        self.auth
            .lock()
            .unwrap()
            .failures
            .get(user)
            .map(|f| f.count)
            .unwrap_or(0)
    }
}
