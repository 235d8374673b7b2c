//! The RS server calls rampart makes: all reads, all with `X-Auth-Token`. A refused token
//! (code 24, HTTP 400) is replaced once by a fresh Keystone login when the session can do so.

use super::VENDOR;
use super::errors;
use super::models::{self, ModuleInfo, TrsProject, TrsServer, UserVolume};
use super::session::{Session, sensitive};
use crate::vendor::error::{ErrorKind, VendorError, VendorResult};
use crate::vendor::http::VendorHttp;

pub const GET_INFO: &str = "GET /v1/info";
pub const LIST_PROJECTS: &str = "GET /v1/projects/";
pub const LIST_SERVERS: &str = "GET /v1/servers/";
pub const LIST_VOLUME_ASSIGNMENTS: &str = "GET /v1/volume-assignments/";

pub struct RsServerClient {
    http: VendorHttp,
    session: Session,
}

impl RsServerClient {
    pub fn new(http: VendorHttp, session: Session) -> Self {
        RsServerClient { http, session }
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    /// `GET /v1/info`: version and licence.
    pub async fn info(&self) -> VendorResult<ModuleInfo> {
        let body = self.get(GET_INFO, "/v1/info", &[]).await?;
        models::parse_info(&body).map_err(|e| protocol(GET_INFO, e))
    }

    /// Every TRS project the token can see, with its Keystone name (`with_os_object`).
    // GUESS (L158-222, L456-504): lists are not paginated (the document shows no paging
    // parameters or links); a paged answer is refused by `whole_list` rather than read as all.
    pub async fn projects(&self) -> VendorResult<Vec<TrsProject>> {
        let body = self
            .get(
                LIST_PROJECTS,
                "/v1/projects/",
                &[("with_os_object", "true")],
            )
            .await?;
        whole_list(LIST_PROJECTS, &body)?;
        models::parse_projects(&body).map_err(|e| protocol(LIST_PROJECTS, e))
    }

    /// The TRS machines of one project, with their Nova names and statuses.
    pub async fn servers(&self, project_id: &str) -> VendorResult<Vec<TrsServer>> {
        let query = [("project_id", project_id), ("with_os_object", "true")];
        let body = self.get(LIST_SERVERS, "/v1/servers/", &query).await?;
        whole_list(LIST_SERVERS, &body)?;
        models::parse_servers(&body).map_err(|e| protocol(LIST_SERVERS, e))
    }

    /// The user volumes assigned in one project.
    pub async fn user_volumes(&self, project_id: &str) -> VendorResult<Vec<UserVolume>> {
        let body = self
            .get(
                LIST_VOLUME_ASSIGNMENTS,
                "/v1/volume-assignments/",
                &[("project_id", project_id)],
            )
            .await?;
        whole_list(LIST_VOLUME_ASSIGNMENTS, &body)?;
        models::parse_volume_assignments(&body).map_err(|e| protocol(LIST_VOLUME_ASSIGNMENTS, e))
    }

    async fn get(
        &self,
        operation: &str,
        path: &str,
        query: &[(&str, &str)],
    ) -> VendorResult<bytes::Bytes> {
        let mut renewed = false;
        loop {
            let token = self.session.token().await?;
            let request = self
                .http
                .client()
                .get(self.http.url(path))
                .query(query)
                .header("X-Auth-Token", sensitive(token.value.expose())?);
            let resp = self.http.execute(operation, request).await?;
            if resp.is_success() {
                return Ok(resp.body);
            }
            let mut e = errors::from_response(operation, &resp);
            if e.kind == ErrorKind::Unauthorized && self.session.renewable() && !renewed {
                tracing::debug!(
                    vendor = VENDOR,
                    operation,
                    "RS server refused the token; logging in again"
                );
                self.session.discard(&token).await;
                renewed = true;
                continue;
            }
            if renewed {
                e = e.refused_after_fresh_login();
            } else if e.kind == ErrorKind::Unauthorized {
                e.message = format!("{}; {}", e.message, self.session.refusal_hint());
            }
            if let Some(secret) = self.session.static_token() {
                e.message = errors::redact(&e.message, secret.expose());
            }
            return Err(e);
        }
    }
}

/// Refuse a list answer that says it is one page of more: OpenStack-style `<name>_links` or a
/// `next` link. rampart reads RS server lists whole (GUESS above); taking one page for all would
/// make the projects and machines on the other pages look absent.
pub fn whole_list(operation: &str, body: &[u8]) -> VendorResult<()> {
    let Ok(serde_json::Value::Object(top)) = serde_json::from_slice(body) else {
        return Ok(());
    };
    let paged = top.iter().find(|(k, v)| {
        let link = k.ends_with("_links") || k.as_str() == "links" || k.as_str() == "next";
        link && !v.is_null() && v.as_array().is_none_or(|a| !a.is_empty())
    });
    match paged {
        Some((key, _)) => Err(VendorError::new(
            VENDOR,
            operation,
            ErrorKind::Protocol,
            format!(
                "RS server answered one page of the list ('{key}' points to more); rampart reads these lists whole, as the document shows them, and will not act on part of one"
            ),
        )),
        None => Ok(()),
    }
}

fn protocol(operation: &str, e: serde_json::Error) -> VendorError {
    VendorError::new(
        VENDOR,
        operation,
        ErrorKind::Protocol,
        format!("the response does not have the document's shape: {e}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_paged_list_is_refused_and_a_whole_one_read() {
        let paged =
            br#"{"projects": [], "projects_links": [{"rel": "next", "href": "?marker=x"}]}"#;
        let e = whole_list(LIST_PROJECTS, paged).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Protocol);
        assert!(e.message.contains("projects_links"), "{e}");
        assert!(
            whole_list(
                LIST_SERVERS,
                br#"{"servers": [], "next": "/v1/servers/?page=2"}"#
            )
            .is_err()
        );
        assert!(whole_list(LIST_PROJECTS, br#"{"projects": [{"id": "a"}]}"#).is_ok());
        assert!(whole_list(LIST_PROJECTS, br#"{"projects": [], "projects_links": []}"#).is_ok());
        assert!(whole_list(LIST_PROJECTS, br#"{"projects": [], "next": null}"#).is_ok());
    }
}
