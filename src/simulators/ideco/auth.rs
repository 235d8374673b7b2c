//! The simulated session login. GUESS, like the client's: the traffic-rules document has no
//! authentication, so this follows Ideco's public "description of handlers" page: `POST` the
//! login handler with `{"login", "password", "rest_path"}`, get `insecure-ideco-session` and a
//! `__Secure-ideco-<uuid>` cookie, send both on every call, `DELETE` the handler to log out. How
//! the device answers an expired session is not documented either; the simulator answers 401 by
//! default and can answer 403 or redirect to its login page instead.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::{Request, State};
use axum::http::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::{Shared, error_body};

const SESSION_COOKIE: &str = "insecure-ideco-session";

/// How the simulator answers a call without a valid session.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ExpiredAnswer {
    #[default]
    Unauthorized,
    Forbidden,
    /// `302` to the login page, which answers HTML.
    Redirect,
}

struct Session {
    secure_name: String,
    secure_value: String,
    epoch: u64,
}

/// Live sessions and login statistics.
#[derive(Default)]
pub struct Sessions {
    live: HashMap<String, Session>,
    pub logins: u64,
    pub refused_logins: u64,
    pub logouts: u64,
}

impl Sessions {
    pub fn live(&self) -> usize {
        self.live.len()
    }

    /// Forget every session, as a device restart or an administrator's "log everyone out" does.
    pub fn clear(&mut self) {
        self.live.clear();
    }
}

fn uuid() -> String {
    let b: [u8; 16] = rand::rng().random();
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

fn cookies(headers: &HeaderMap) -> HashMap<String, String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| {
            pair.trim()
                .split_once('=')
                .map(|(n, v)| (n.to_string(), v.to_string()))
        })
        .collect()
}

#[derive(Deserialize)]
pub(super) struct LoginBody {
    login: String,
    password: String,
    #[serde(default)]
    rest_path: Option<String>,
}

/// `POST <login path>`.
pub(super) async fn login(State(sim): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    let Ok(body) = serde_json::from_slice::<LoginBody>(&body) else {
        return error_body(StatusCode::BAD_REQUEST, "login and password are required");
    };
    let mut sessions = sim.sessions.lock().unwrap();
    if body.login != sim.options.login || body.password != sim.options.password {
        sessions.refused_logins += 1;
        // GUESS: the refusal status and body are not documented.
        return error_body(StatusCode::UNAUTHORIZED, "Неверный логин или пароль");
    }
    let sid = uuid();
    let session = Session {
        secure_name: format!("__Secure-ideco-{}", uuid()),
        secure_value: format!("{}:{}", uuid(), jiff::Timestamp::now().as_second()),
        epoch: sim.control.token_epoch(),
    };
    sim.control.remember_issued(&sid);
    sim.control.remember_issued(&session.secure_value);
    let path = body.rest_path.unwrap_or_else(|| "/".to_string());
    let mut headers = HeaderMap::new();
    headers.append(
        SET_COOKIE,
        format!("{SESSION_COOKIE}={sid}; Path={path}")
            .parse()
            .unwrap(),
    );
    let secure = format!(
        "{}={}; HttpOnly; Path={path}; SameSite=Strict; Secure",
        session.secure_name, session.secure_value
    );
    headers.append(SET_COOKIE, secure.parse().unwrap());
    sessions.live.insert(sid, session);
    sessions.logins += 1;
    (StatusCode::OK, headers).into_response()
}

/// `DELETE <logout path>`: ends the session and clears its cookies.
pub(super) async fn logout(State(sim): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let jar = cookies(&headers);
    let mut sessions = sim.sessions.lock().unwrap();
    let Some(session) = jar
        .get(SESSION_COOKIE)
        .and_then(|sid| sessions.live.remove(sid))
    else {
        return expired(&sim);
    };
    sessions.logouts += 1;
    let mut out = HeaderMap::new();
    let clear_session =
        format!("{SESSION_COOKIE}=\"\"; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/");
    out.append(SET_COOKIE, clear_session.parse().unwrap());
    let clear_secure = format!(
        "{}=\"\"; HttpOnly; Max-Age=0; Path=/; SameSite=Strict; Secure",
        session.secure_name
    );
    out.append(SET_COOKIE, clear_secure.parse().unwrap());
    (StatusCode::OK, out).into_response()
}

/// The web interface's login page, where an expired session is redirected to.
pub(super) async fn login_page() -> Response {
    (
        [(CONTENT_TYPE, "text/html; charset=utf-8")],
        "<!doctype html><html><body><form>Ideco NGFW: log in</form></body></html>",
    )
        .into_response()
}

fn expired(sim: &Shared) -> Response {
    match *sim.expired_answer.lock().unwrap() {
        ExpiredAnswer::Unauthorized => {
            error_body(StatusCode::UNAUTHORIZED, "Требуется авторизация")
        }
        ExpiredAnswer::Forbidden => error_body(StatusCode::FORBIDDEN, "Доступ запрещён"),
        ExpiredAnswer::Redirect => (StatusCode::FOUND, [(LOCATION, "/login")]).into_response(),
    }
}

/// Refuse calls without a live session of the current token epoch; count writes in flight.
pub(super) async fn require_session(
    State(sim): State<Arc<Shared>>,
    req: Request,
    next: Next,
) -> Response {
    let jar = cookies(req.headers());
    let valid = {
        let sessions = sim.sessions.lock().unwrap();
        jar.get(SESSION_COOKIE)
            .and_then(|sid| sessions.live.get(sid))
            .is_some_and(|s| {
                s.epoch == sim.control.token_epoch()
                    && jar.get(&s.secure_name) == Some(&s.secure_value)
            })
    };
    if !valid {
        return expired(&sim);
    }
    if req.method() == Method::GET {
        return next.run(req).await;
    }
    let now = sim.writes_in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    sim.max_writes_in_flight.fetch_max(now, Ordering::SeqCst);
    let hold = *sim.write_hold.lock().unwrap();
    if !hold.is_zero() {
        tokio::time::sleep(hold).await;
    }
    let response = next.run(req).await;
    sim.writes_in_flight.fetch_sub(1, Ordering::SeqCst);
    response
}
