//! The IAM token call (`POST /v3/auth/tokens`) and the authentication every CBR route checks:
//! an `X-Auth-Token` this simulator issued (of the current token epoch, not expired, scoped to
//! the path's project), or an AK/SK signature verified with rampart's signer.

use std::time::Duration;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Shared;
use super::error::SimError;
use super::model::{TokenRecord, new_id};
use crate::providers::huawei_cbr::signer::{self, SigningRequest};

/// How far `X-Sdk-Date` may be from the simulator's clock.
// GUESS: the document does not say; Huawei's API gateway allows 15 minutes.
const SIGNATURE_SKEW: Duration = Duration::from_secs(15 * 60);

fn iam_error(status: StatusCode, message: &str) -> Response {
    // GUESS: the IAM API is outside the document; its errors have Keystone's shape.
    let body = json!({"error": {"code": status.as_u16(), "title": status.canonical_reason().unwrap_or(""), "message": message}});
    (status, Json(body)).into_response()
}

/// `POST /v3/auth/tokens`: password identity, project scope by name.
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
    let (Some(name), Some(password), Some(domain)) = (
        user["name"].as_str(),
        user["password"].as_str(),
        user["domain"]["name"].as_str(),
    ) else {
        return iam_error(
            StatusCode::BAD_REQUEST,
            "auth.identity.password.user needs name, password and domain.name.",
        );
    };
    // CBR is a project-level service: the scope must name a project (auth.scope, not a sibling).
    let Some(project_name) = auth["scope"]["project"]["name"].as_str() else {
        return iam_error(
            StatusCode::BAD_REQUEST,
            "auth.scope.project.name is required.",
        );
    };
    let known = sim
        .config
        .users
        .iter()
        .any(|u| u.name == name && u.password == password && u.domain == domain);
    if !methods_ok || !known {
        return iam_error(
            StatusCode::UNAUTHORIZED,
            "The username or password is wrong.",
        );
    }
    let Some(project_id) = sim
        .config
        .projects
        .iter()
        .find(|(n, _)| n == project_name)
        .map(|(_, id)| id.clone())
    else {
        return iam_error(StatusCode::NOT_FOUND, "The project does not exist.");
    };
    let token = format!("MIIsim{}", new_id().replace('-', ""));
    let mut store = sim.store.lock().unwrap();
    let now = store.now();
    let expires_at = now
        .saturating_add(
            jiff::SignedDuration::try_from(sim.config.token_lifetime).unwrap_or_default(),
        )
        .unwrap_or(now);
    store.tokens.insert(
        token.clone(),
        TokenRecord {
            project_id: project_id.clone(),
            epoch: sim.control.token_epoch(),
            expires_at,
        },
    );
    let body = json!({"token": {
        "expires_at": expires_at.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        "issued_at": now.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        "methods": ["password"],
        "project": {"id": project_id, "name": project_name, "domain": {"name": domain}},
        "user": {"name": name, "domain": {"name": domain}},
        "catalog": []}});
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
        // GUESS: a token scoped to one project is refused for another project's paths.
        if rec.project_id != project {
            return Err("the token is scoped to another project");
        }
        return Ok(());
    }
    let auth =
        header(&parts.headers, "authorization").ok_or("no X-Auth-Token or Authorization header")?;
    let parsed = signer::parse_authorization(auth).ok_or("unsupported Authorization header")?;
    let sk = sim
        .config
        .access_keys
        .iter()
        .find(|(ak, _)| *ak == parsed.access_key)
        .map(|(_, sk)| sk.clone())
        .ok_or("unknown access key")?;
    let date = header(&parts.headers, signer::SDK_DATE_HEADER)
        .and_then(signer::parse_sdk_date)
        .ok_or("missing or malformed X-Sdk-Date")?;
    let now = sim.store.lock().unwrap().now();
    if now.duration_since(date).unsigned_abs() > SIGNATURE_SKEW {
        return Err("X-Sdk-Date is too far from the server time");
    }
    if !parsed.signed_headers.iter().any(|h| h == "x-sdk-date")
        || !parsed.signed_headers.iter().any(|h| h == "host")
    {
        return Err("host and x-sdk-date must be signed");
    }
    // GUESS: an X-Project-Id that contradicts the path is refused.
    if header(&parts.headers, "x-project-id").is_some_and(|p| p != project) {
        return Err("X-Project-Id does not match the path");
    }
    let mut headers = Vec::new();
    for name in &parsed.signed_headers {
        let value = header(&parts.headers, name).ok_or("a signed header is missing")?;
        headers.push((name.clone(), value.to_string()));
    }
    let query: Vec<(String, String)> = parts
        .uri
        .query()
        .map(|q| {
            q.split('&')
                .filter(|kv| !kv.is_empty())
                .map(|kv| {
                    let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                    let dec = |s: &str| {
                        percent_encoding::percent_decode_str(s)
                            .decode_utf8_lossy()
                            .into_owned()
                    };
                    (dec(k), dec(v))
                })
                .collect()
        })
        .unwrap_or_default();
    let request = SigningRequest {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: &query,
        headers: &headers,
        body,
    };
    let (_, expected) = signer::signature(&request, &sk);
    if expected != parsed.signature {
        return Err("the signature does not match");
    }
    Ok(())
}
