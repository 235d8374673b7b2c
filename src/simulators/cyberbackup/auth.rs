//! `POST /idp/token` (§2.4.1) and the bearer check on every `/api` call.

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use jiff::SignedDuration;
use serde_json::json;

use super::state::new_id;
use super::{Answer, ApiError, AppState, bad_request, error};

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

/// Issue a token for HTTP Basic credentials and a form body `grant_type=password`.
pub async fn token(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Answer {
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !ct.starts_with("application/x-www-form-urlencoded") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/x-www-form-urlencoded",
            json!({}),
        ));
    }
    let form = url_decode_pairs(&String::from_utf8_lossy(&body));
    if !form
        .iter()
        .any(|(k, v)| k == "grant_type" && v == "password")
    {
        return Err(bad_request("grant_type must be password"));
    }
    let config = app.sim.config();
    let unauthorized = |m: &str| ApiError::new(StatusCode::UNAUTHORIZED, m, json!({}));
    let (user, password) = basic_credentials(&headers)
        .ok_or_else(|| unauthorized("UnauthorizedRequestError: HTTP Basic credentials required"))?;
    if config.users.get(&user) != Some(&password) {
        return Err(unauthorized(
            "UnauthorizedRequestError: invalid username or password",
        ));
    }
    let token = format!("{}{}", new_id().replace('-', ""), new_id().replace('-', ""));
    let expires = app.sim.now() + SignedDuration::from_secs(config.token_lifetime_seconds);
    app.sim
        .world
        .lock()
        .unwrap()
        .tokens
        .insert(token.clone(), (app.control.token_epoch(), expires));
    let id_token = new_id();
    app.control.remember_issued(&token);
    app.control.remember_issued(&id_token);
    let body = json!({
        "access_token": token,
        "token_type": "bearer",
        "expires_in": config.advertised_expires_in,
        "id_token": id_token,
        "scope": null,
    });
    Ok((
        StatusCode::OK,
        [
            ("content-type", "application/json; charset=utf-8"),
            ("cache-control", "no-store"),
            ("pragma", "no-cache"),
        ],
        body.to_string(),
    )
        .into_response())
}

fn url_decode_pairs(s: &str) -> Vec<(String, String)> {
    let decode = |t: &str| {
        percent_encoding::percent_decode_str(&t.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

/// 401 unless the request carries a token of the current generation that has not expired.
pub async fn require_bearer(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let token = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or_default()
        .to_string();
    let now = app.sim.now();
    let issued = app.sim.world.lock().unwrap().tokens.get(&token).copied();
    match issued {
        None => error(
            StatusCode::UNAUTHORIZED,
            "UnauthorizedRequestError: invalid token",
            json!({}),
        ),
        Some((epoch, _)) if epoch != app.control.token_epoch() => error(
            StatusCode::UNAUTHORIZED,
            "UnauthorizedRequestError: token revoked",
            json!({}),
        ),
        Some((_, expires)) if expires <= now => error(
            StatusCode::UNAUTHORIZED,
            "AuthenticationTimeoutError: token expired",
            json!({}),
        ),
        Some(_) => next.run(req).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_pairs_and_basic_credentials_decode() {
        assert_eq!(
            url_decode_pairs("grant_type=password&x=a%20b+c"),
            vec![
                ("grant_type".to_string(), "password".to_string()),
                ("x".to_string(), "a b c".to_string())
            ]
        );
        let mut h = HeaderMap::new();
        // The document's raw example encodes "user:pass" as dXNlcjpwYXNz.
        h.insert("authorization", "Basic dXNlcjpwYXNz".parse().unwrap());
        assert_eq!(basic_credentials(&h), Some(("user".into(), "pass".into())));
        h.insert("authorization", "Bearer dXNlcjpwYXNz".parse().unwrap());
        assert_eq!(
            basic_credentials(&h),
            None,
            "the document's Bearer typo is not accepted as Basic"
        );
    }
}
