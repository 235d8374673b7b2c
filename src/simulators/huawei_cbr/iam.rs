//! The IAM token call (`POST /v3/auth/tokens`, L187-264, L273-315) and the authentication every
//! CBR route checks: an `X-Auth-Token` this simulator issued (of the current token epoch, not
//! expired, scoped to the path's project), or an AK/SK signature (see `aksk`).

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Shared;
use super::aksk::{self, WireRequest};
use super::error::SimError;

fn iam_error(status: StatusCode, message: &str) -> Response {
    // GUESS (L187-264): the IAM API is outside the document; its errors have Keystone's shape.
    let body = json!({"error": {"code": status.as_u16(), "title": status.canonical_reason().unwrap_or(""), "message": message}});
    (status, Json(body)).into_response()
}

/// What a token is scoped to (L231: "an account or a project under an account").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// A project: (name, id).
    Project(String, String),
    /// The account (IAM's "domain") itself.
    Domain,
}

/// An IAM user's account, as `{"id"}` or `{"name"}` in a request.
fn names_account(v: &Value, name: &str, id: &str) -> bool {
    match (v["id"].as_str(), v["name"].as_str()) {
        (Some(i), _) => i == id,
        (None, Some(n)) => n == name,
        (None, None) => false,
    }
}

/// Read `auth.scope`: `{"project": {"id"}}`, `{"project": {"name"[, "domain": {"id"|"name"}]}}`
/// or `{"domain": {"id"|"name"}}`. `projects` are (name, id) of the user's account.
pub fn scope(
    scope: &Value,
    projects: &[(String, String)],
    domain: (&str, &str),
) -> Result<Scope, (StatusCode, &'static str)> {
    let bad = |m| Err((StatusCode::BAD_REQUEST, m));
    // GUESS (L240-262): the first example places `scope` beside `auth`; the second (L284-306)
    // and the sentence before it put it in `auth`. Only `auth.scope` is read.
    match (scope.get("project"), scope.get("domain")) {
        (Some(_), Some(_)) => bad("auth.scope names either a project or a domain, not both"),
        (None, None) => bad("auth.scope.project or auth.scope.domain is required"),
        (None, Some(d)) => {
            // GUESS (L231): a user scopes a token to its own account only.
            if names_account(d, domain.0, domain.1) {
                Ok(Scope::Domain)
            } else {
                Err((StatusCode::UNAUTHORIZED, "The domain is not the user's."))
            }
        }
        (Some(p), None) => {
            let found = match (p["id"].as_str(), p["name"].as_str()) {
                (Some(id), _) => projects.iter().find(|(_, i)| i == id),
                (None, Some(name)) => {
                    // GUESS (L302): a project name needs no domain (the example sends none);
                    // a domain that is given must be the user's.
                    if p.get("domain")
                        .is_some_and(|d| !names_account(d, domain.0, domain.1))
                    {
                        return Err((StatusCode::UNAUTHORIZED, "The domain is not the user's."));
                    }
                    projects.iter().find(|(n, _)| n == name)
                }
                (None, None) => return bad("auth.scope.project needs id or name"),
            };
            found
                .map(|(n, i)| Scope::Project(n.clone(), i.clone()))
                .ok_or((StatusCode::NOT_FOUND, "The project does not exist."))
        }
    }
}

/// `POST /v3/auth/tokens`: password identity, scoped to a project or to the account.
pub async fn issue_token(State(sim): State<Shared>, body: Bytes) -> Response {
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return iam_error(
            StatusCode::BAD_REQUEST,
            "The request body is not valid JSON.",
        );
    };
    let auth = &v["auth"];
    let user = &auth["identity"]["password"]["user"];
    let methods_ok = auth["identity"]["methods"]
        .as_array()
        .is_some_and(|m| m.iter().any(|x| x == "password"));
    let (Some(name), Some(password)) = (user["name"].as_str(), user["password"].as_str()) else {
        return iam_error(
            StatusCode::BAD_REQUEST,
            "auth.identity.password.user needs name, password and domain.",
        );
    };
    // GUESS (L294-295): the user's account is named by `domain.name` (as in the example) or by
    // `domain.id`.
    let known = sim.config.users.iter().find(|u| {
        u.name == name
            && u.password == password
            && names_account(&user["domain"], &u.domain, &u.domain_id)
    });
    let (true, Some(known)) = (methods_ok, known) else {
        return iam_error(
            StatusCode::UNAUTHORIZED,
            "The username or password is wrong.",
        );
    };
    let account = (known.domain.as_str(), known.domain_id.as_str());
    let scope = match scope(&auth["scope"], &sim.config.projects, account) {
        Ok(s) => s,
        Err((status, message)) => return iam_error(status, message),
    };
    let project_id = match &scope {
        Scope::Project(_, id) => Some(id.clone()),
        Scope::Domain => None,
    };
    let (token, now, expires_at) = sim.store.lock().unwrap().issue_token(
        project_id,
        sim.control.token_epoch(),
        sim.config.token_lifetime,
    );
    sim.control.remember_issued(&token);
    let domain = json!({"id": known.domain_id, "name": known.domain});
    let mut body = json!({"token": {
        "expires_at": expires_at.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        "issued_at": now.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        "methods": ["password"],
        "user": {"name": name, "domain": domain},
        "roles": [],
        "catalog": []}});
    let (key, scoped) = match scope {
        Scope::Project(name, id) => ("project", json!({"id": id, "name": name, "domain": domain})),
        Scope::Domain => ("domain", domain),
    };
    body["token"][key] = scoped;
    let mut resp = (StatusCode::CREATED, Json(body)).into_response();
    resp.headers_mut()
        .insert("x-subject-token", token.parse().expect("token is ASCII"));
    resp
}

/// Middleware of every CBR route: authenticate, or answer 401.
pub async fn authenticate(State(sim): State<Shared>, req: Request, next: Next) -> Response {
    let project = req
        .uri()
        .path()
        .strip_prefix("/v3/")
        .and_then(|p| p.split('/').next())
        .unwrap_or("")
        .to_string();
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 12 * 1024 * 1024).await else {
        return SimError::invalid("request body too large (AK/SK requests are limited to 12 MB)")
            .into_response();
    };
    if let Err(why) = check(&sim, &parts, &bytes, &project) {
        return SimError::unauthorized(why).into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

fn check(
    sim: &Shared,
    parts: &axum::http::request::Parts,
    body: &[u8],
    project: &str,
) -> Result<(), &'static str> {
    if let Some(token) = header(&parts.headers, "x-auth-token") {
        let store = sim.store.lock().unwrap();
        let rec = store.tokens.get(token).ok_or("the token is not valid")?;
        if rec.epoch != sim.control.token_epoch() {
            return Err("the token has been revoked");
        }
        if store.now() >= rec.expires_at {
            return Err("the token has expired");
        }
        // L281: "CBR is a project-level service"; an account-scoped token does not reach it.
        // GUESS (L281): a token of one project is refused on another project's paths.
        return match &rec.project_id {
            None => Err("CBR needs a token scoped to a project, not to an account"),
            Some(p) if p != project => Err("the token is scoped to another project"),
            Some(_) => Ok(()),
        };
    }
    // GUESS (L205): an X-Project-Id that contradicts the path is refused.
    if header(&parts.headers, "x-project-id").is_some_and(|p| p != project) {
        return Err("X-Project-Id does not match the path");
    }
    let request = WireRequest {
        method: parts.method.as_str(),
        raw_path: parts.uri.path(),
        raw_query: parts.uri.query(),
        headers: &parts.headers,
        body,
    };
    let now = sim.store.lock().unwrap().now();
    let secret_of = |ak: &str| {
        sim.config
            .access_keys
            .iter()
            .find(|(a, _)| a == ak)
            .map(|(_, sk)| sk.clone())
    };
    aksk::verify(&request, secret_of, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn projects() -> Vec<(String, String)> {
        vec![("ru-moscow-1".into(), "p-id".into())]
    }
    const ACCOUNT: (&str, &str) = ("acme", "d-id");

    #[test]
    fn scopes_by_project_id_name_or_account() {
        let project = Ok(Scope::Project("ru-moscow-1".into(), "p-id".into()));
        for s in [
            json!({"project": {"id": "p-id"}}),
            json!({"project": {"name": "ru-moscow-1"}}),
            json!({"project": {"name": "ru-moscow-1", "domain": {"name": "acme"}}}),
            json!({"project": {"name": "ru-moscow-1", "domain": {"id": "d-id"}}}),
        ] {
            assert_eq!(scope(&s, &projects(), ACCOUNT), project, "{s}");
        }
        for s in [
            json!({"domain": {"id": "d-id"}}),
            json!({"domain": {"name": "acme"}}),
        ] {
            assert_eq!(scope(&s, &projects(), ACCOUNT), Ok(Scope::Domain), "{s}");
        }
    }

    #[test]
    fn refuses_unknown_projects_other_accounts_and_empty_scopes() {
        let status = |s: Value| scope(&s, &projects(), ACCOUNT).map_err(|e| e.0);
        assert_eq!(
            status(json!({"project": {"id": "nope"}})),
            Err(StatusCode::NOT_FOUND)
        );
        assert_eq!(
            status(json!({"project": {"name": "ru-moscow-1", "domain": {"name": "other"}}})),
            Err(StatusCode::UNAUTHORIZED)
        );
        assert_eq!(
            status(json!({"domain": {"id": "other"}})),
            Err(StatusCode::UNAUTHORIZED)
        );
        for s in [
            json!(null),
            json!({}),
            json!({"project": {}}),
            json!({"project": {"id": "p-id"}, "domain": {"id": "d-id"}}),
        ] {
            assert_eq!(status(s.clone()), Err(StatusCode::BAD_REQUEST), "{s}");
        }
    }
}
