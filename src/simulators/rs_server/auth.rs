//! Authentication of the simulated cloud: Keystone v3's token API (outside the RS server
//! document, which points to another page for it) and the `X-Auth-Token` check in front of
//! every RS server route.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::errors::{LICENSE_EXPIRED, TOKEN_INVALID, rs_error};
use super::state::{DOMAIN_ID, DOMAIN_NAME, SimState, World};

/// Who is calling, for routes that act in the token's project (`POST /v1/servers/`).
#[derive(Debug, Clone)]
pub struct Caller {
    pub project_id: Option<String>,
}

/// Every RS server route: a valid `X-Auth-Token`, then a valid licence.
// GUESS: a missing token is answered like an invalid one (code 24); an expired licence fails
// every call except `/v1/info`, which is how a user finds out.
pub async fn require_token(
    State(state): State<Arc<SimState>>,
    mut req: Request,
    next: Next,
) -> Response {
    let token = req
        .headers()
        .get("x-auth-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some(record) = state.validate_token(token) else {
        return rs_error(TOKEN_INVALID, json!({}));
    };
    let is_info = req
        .extensions()
        .get::<MatchedPath>()
        .is_some_and(|p| p.as_str() == "/v1/info");
    if !is_info && state.with(|w| w.license_expired) {
        return rs_error(LICENSE_EXPIRED, json!({}));
    }
    req.extensions_mut().insert(Caller {
        project_id: record.project_id,
    });
    next.run(req).await
}

#[derive(Deserialize)]
struct AuthRequest {
    auth: Auth,
}

#[derive(Deserialize)]
struct Auth {
    identity: Identity,
    #[serde(default)]
    scope: Option<Scope>,
}

#[derive(Deserialize)]
struct Identity {
    methods: Vec<String>,
    password: Option<PasswordMethod>,
}

#[derive(Deserialize)]
struct PasswordMethod {
    user: UserRef,
}

#[derive(Deserialize)]
struct UserRef {
    #[serde(flatten)]
    who: NamedRef,
    password: String,
}

#[derive(Deserialize)]
struct DomainRef {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

impl DomainRef {
    fn is_default(&self) -> bool {
        self.id.as_deref() == Some(DOMAIN_ID) || self.name.as_deref() == Some(DOMAIN_NAME)
    }
}

#[derive(Deserialize)]
struct Scope {
    project: NamedRef,
}

/// A user or project by id, or by name within a domain.
#[derive(Deserialize)]
struct NamedRef {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    domain: Option<DomainRef>,
}

impl NamedRef {
    /// Whether this names the object with `id`, or `name` in the default domain (Keystone
    /// takes a name only with its domain).
    fn names(&self, id: &str, name: &str) -> bool {
        let in_domain = self.domain.as_ref().is_some_and(DomainRef::is_default);
        self.id.as_deref() == Some(id) || (in_domain && self.name.as_deref() == Some(name))
    }
}

fn keystone_error(status: StatusCode, title: &str, message: &str) -> Response {
    (
        status,
        Json(json!({ "error": { "code": status.as_u16(), "title": title, "message": message } })),
    )
        .into_response()
}

fn unauthorized() -> Response {
    keystone_error(
        StatusCode::UNAUTHORIZED,
        "Unauthorized",
        "The request you have made requires authentication.",
    )
}

/// `POST /v3/auth/tokens`, password method, optionally project-scoped.
pub async fn issue(State(state): State<Arc<SimState>>, body: Bytes) -> Response {
    let Ok(AuthRequest { auth }) = serde_json::from_slice::<AuthRequest>(&body) else {
        return keystone_error(
            StatusCode::BAD_REQUEST,
            "Bad Request",
            "Expecting to find auth in request body.",
        );
    };
    let Some(password) = auth
        .identity
        .password
        .filter(|_| auth.identity.methods.iter().any(|m| m == "password"))
    else {
        return keystone_error(
            StatusCode::BAD_REQUEST,
            "Bad Request",
            "Only the password method is supported here.",
        );
    };
    let found = state.with(|w| {
        let user = find_user(w, &password.user)?;
        let project = match &auth.scope {
            None => None,
            Some(s) => Some(find_project(w, &s.project)?),
        };
        Some((user, project))
    });
    let Some((user, project)) = found else {
        return unauthorized();
    };
    let token = state.issue_token(&user.0, project.as_ref().map(|p| p.0.as_str()));
    // Read from the record itself: a token revoked the moment it was issued still has one.
    let expires_at = state
        .with(|w| w.tokens.get(&token).map(|t| t.expires_at.to_string()))
        .unwrap_or_default();
    let mut body = json!({
        "token": {
            "methods": ["password"],
            "expires_at": expires_at,
            "issued_at": jiff::Timestamp::now().to_string(),
            "user": { "id": user.0, "name": user.1, "domain": { "id": DOMAIN_ID, "name": DOMAIN_NAME } },
            "roles": [{ "id": "admin", "name": "admin" }],
            "catalog": []
        }
    });
    if let Some((id, name)) = project {
        body["token"]["project"] =
            json!({ "id": id, "name": name, "domain": { "id": DOMAIN_ID, "name": DOMAIN_NAME } });
    }
    let mut resp = (StatusCode::CREATED, Json(body)).into_response();
    resp.headers_mut().insert(
        "x-subject-token",
        token.parse().expect("tokens are header-safe"),
    );
    resp
}

/// `DELETE /v3/auth/tokens`: revoke `X-Subject-Token` (the caller proves itself with
/// `X-Auth-Token`).
pub async fn revoke(State(state): State<Arc<SimState>>, headers: HeaderMap) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    if state.validate_token(&header("x-auth-token")).is_none() {
        return unauthorized();
    }
    let subject = header("x-subject-token");
    match state.with(|w| w.tokens.remove(&subject)) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => keystone_error(StatusCode::NOT_FOUND, "Not Found", "Could not find token."),
    }
}

/// (id, name) of the user whose name or id and password match.
fn find_user(w: &World, u: &UserRef) -> Option<(String, String)> {
    let found = w
        .users
        .values()
        .find(|x| u.who.names(&x.id, &x.name) && x.password == u.password);
    found.map(|x| (x.id.clone(), x.name.clone()))
}

/// (id, name) of the scope project.
fn find_project(w: &World, p: &NamedRef) -> Option<(String, String)> {
    let found = w.projects.values().find(|x| p.names(&x.id, &x.name));
    found.map(|x| (x.id.clone(), x.name.clone()))
}
