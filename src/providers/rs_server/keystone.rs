//! The OpenStack identity (Keystone v3) exchange that yields RS server's `X-Auth-Token`. The RS
//! server document only says a token is needed and that getting one is described elsewhere;
//! this follows the Keystone v3 API: `POST /v3/auth/tokens` with the password method and a
//! project scope, token in the `X-Subject-Token` response header, `token.expires_at` in the body.

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use super::VENDOR;
use crate::engine::hub::SecretString;
use crate::vendor::error::{ErrorKind, VendorError, VendorResult};
use crate::vendor::http::HttpResponse;

/// Operation label of the login call.
pub const LOGIN: &str = "POST /v3/auth/tokens";
/// Operation label of the logout call.
pub const LOGOUT: &str = "DELETE /v3/auth/tokens";

/// The project a token is scoped to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectScope {
    Id(String),
    Name { name: String, domain: String },
}

impl std::fmt::Display for ProjectScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProjectScope::Id(id) => write!(f, "project id {id}"),
            ProjectScope::Name { name, domain } => write!(f, "project {name} in domain {domain}"),
        }
    }
}

/// A token Keystone issued.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub value: SecretString,
    pub expires_at: Option<jiff::Timestamp>,
}

/// Path of the token resource below the identity endpoint, which users write with or without
/// the `/v3` suffix (both forms are common in OpenStack `auth_url`s).
pub fn tokens_path(identity_endpoint: &str) -> &'static str {
    if identity_endpoint.trim_end_matches('/').ends_with("/v3") {
        "/auth/tokens"
    } else {
        "/v3/auth/tokens"
    }
}

/// The password-method request body. It holds the password: build it only to send it.
pub fn password_request(
    username: &str,
    password: &str,
    user_domain: &str,
    scope: &ProjectScope,
) -> serde_json::Value {
    let project = match scope {
        ProjectScope::Id(id) => json!({ "id": id }),
        ProjectScope::Name { name, domain } => {
            json!({ "name": name, "domain": { "name": domain } })
        }
    };
    json!({
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": { "user": { "name": username, "domain": { "name": user_domain }, "password": password } }
            },
            "scope": { "project": project }
        }
    })
}

#[derive(Deserialize)]
struct TokenBody {
    token: TokenInfo,
}

#[derive(Deserialize)]
struct TokenInfo {
    #[serde(default)]
    expires_at: Option<String>,
}

/// The token of a successful login response.
pub fn parse_issued(resp: &HttpResponse) -> VendorResult<IssuedToken> {
    let value = resp
        .header("x-subject-token")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            VendorError::new(
                VENDOR,
                LOGIN,
                ErrorKind::Protocol,
                "Keystone answered without an X-Subject-Token header",
            )
        })?;
    let body: TokenBody = serde_json::from_slice(&resp.body).map_err(|e| {
        VendorError::new(
            VENDOR,
            LOGIN,
            ErrorKind::Protocol,
            format!("Keystone's token body is not a v3 token: {e}"),
        )
    })?;
    let expires_at = match body.token.expires_at {
        Some(t) => Some(t.parse::<jiff::Timestamp>().map_err(|e| {
            VendorError::new(
                VENDOR,
                LOGIN,
                ErrorKind::Protocol,
                format!("token.expires_at '{t}' is not a timestamp: {e}"),
            )
        })?),
        None => None,
    };
    Ok(IssuedToken {
        value: SecretString::new(value),
        expires_at,
    })
}

/// Whether a token must be replaced before use: it expires within `margin` of `now`. A token
/// without an expiry is kept until the vendor refuses it.
pub fn needs_renewal(
    expires_at: Option<jiff::Timestamp>,
    now: jiff::Timestamp,
    margin: Duration,
) -> bool {
    let margin = jiff::SignedDuration::try_from(margin).unwrap_or(jiff::SignedDuration::MAX);
    expires_at.is_some_and(|exp| now.checked_add(margin).map(|t| t >= exp).unwrap_or(true))
}

#[derive(Deserialize)]
struct KeystoneError {
    error: KeystoneErrorBody,
}

#[derive(Deserialize)]
struct KeystoneErrorBody {
    #[serde(default)]
    message: String,
    #[serde(default)]
    title: String,
}

/// The typed error of a failed Keystone call (`{"error": {"code", "title", "message"}}`,
/// with real HTTP statuses, unlike RS server).
pub fn error_from_response(operation: &str, resp: &HttpResponse) -> VendorError {
    let message = match serde_json::from_slice::<KeystoneError>(&resp.body) {
        Ok(KeystoneError { error }) if !error.message.trim().is_empty() => error.message,
        Ok(KeystoneError { error }) if !error.title.trim().is_empty() => error.title,
        _ => super::errors::excerpt_or_none(resp),
    };
    VendorError::new(
        VENDOR,
        operation,
        VendorError::kind_for_status(resp.status),
        format!("Keystone: {message}"),
    )
    .with_status(resp.status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};

    fn response(status: u16, token: Option<&str>, body: &str) -> HttpResponse {
        let mut headers = HeaderMap::new();
        if let Some(t) = token {
            headers.insert("x-subject-token", HeaderValue::from_str(t).unwrap());
        }
        HttpResponse {
            status,
            headers,
            body: bytes::Bytes::from(body.to_string()),
        }
    }

    #[test]
    fn the_token_path_accepts_endpoints_with_and_without_v3() {
        assert_eq!(tokens_path("https://controller:5000"), "/v3/auth/tokens");
        assert_eq!(tokens_path("https://controller:5000/"), "/v3/auth/tokens");
        assert_eq!(tokens_path("https://controller:5000/v3"), "/auth/tokens");
        assert_eq!(tokens_path("https://cloud/identity/v3/"), "/auth/tokens");
    }

    #[test]
    fn the_request_has_the_password_method_and_the_scope() {
        let scope = ProjectScope::Name {
            name: "admin".into(),
            domain: "Default".into(),
        };
        let body = password_request("svc-backup", "pw", "Default", &scope);
        assert_eq!(body["auth"]["identity"]["methods"], json!(["password"]));
        assert_eq!(
            body["auth"]["identity"]["password"]["user"]["name"],
            "svc-backup"
        );
        assert_eq!(
            body["auth"]["identity"]["password"]["user"]["domain"]["name"],
            "Default"
        );
        assert_eq!(
            body["auth"]["scope"]["project"],
            json!({"name": "admin", "domain": {"name": "Default"}})
        );
        let by_id = password_request("u", "pw", "Default", &ProjectScope::Id("c445".into()));
        assert_eq!(by_id["auth"]["scope"]["project"], json!({"id": "c445"}));
    }

    #[test]
    fn a_login_response_gives_the_header_token_and_its_expiry() {
        let r = response(
            201,
            Some("gAAAAABtoken"),
            r#"{"token": {"expires_at": "2030-01-02T03:04:05.000000Z", "methods": ["password"]}}"#,
        );
        let t = parse_issued(&r).unwrap();
        assert_eq!(t.value.expose(), "gAAAAABtoken");
        assert_eq!(t.expires_at.unwrap().to_string(), "2030-01-02T03:04:05Z");
    }

    #[test]
    fn a_login_response_without_the_header_is_a_protocol_error() {
        let e = parse_issued(&response(201, None, r#"{"token": {}}"#)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Protocol);
        let e = parse_issued(&response(
            201,
            Some("t"),
            r#"{"token": {"expires_at": "soon"}}"#,
        ))
        .unwrap_err();
        assert!(e.message.contains("'soon'"), "{e}");
    }

    #[test]
    fn renewal_happens_within_the_margin_of_expiry() {
        let now: jiff::Timestamp = "2030-01-01T00:00:00Z".parse().unwrap();
        let m = Duration::from_secs(300);
        assert!(!needs_renewal(
            Some("2030-01-01T01:00:00Z".parse().unwrap()),
            now,
            m
        ));
        assert!(needs_renewal(
            Some("2030-01-01T00:04:00Z".parse().unwrap()),
            now,
            m
        ));
        assert!(needs_renewal(
            Some("2029-12-31T00:00:00Z".parse().unwrap()),
            now,
            m
        ));
        assert!(!needs_renewal(None, now, m));
    }

    #[test]
    fn keystone_errors_keep_their_http_status_meaning() {
        let body = r#"{"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}"#;
        let e = error_from_response(LOGIN, &response(401, None, body));
        assert_eq!(e.kind, ErrorKind::Unauthorized);
        assert_eq!(
            e.message,
            "Keystone: The request you have made requires authentication."
        );
        let e = error_from_response(LOGIN, &response(503, None, "busy"));
        assert_eq!(e.kind, ErrorKind::Unavailable);
        let e = error_from_response(
            LOGIN,
            &response(
                400,
                None,
                r#"{"error": {"code": 400, "title": "Bad Request"}}"#,
            ),
        );
        assert_eq!(
            (e.kind, e.message.as_str()),
            (ErrorKind::Rejected, "Keystone: Bad Request")
        );
        // An envelope with neither message nor title said only "Keystone: ".
        let body = r#"{"error": {"code": 400}}"#;
        let e = error_from_response(LOGIN, &response(400, None, body));
        assert_eq!(e.message, format!("Keystone: {body}"));
    }
}
