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
    // GUESS: lists are not paginated (the document shows no paging parameters or links).
    pub async fn projects(&self) -> VendorResult<Vec<TrsProject>> {
        let body = self
            .get(
                LIST_PROJECTS,
                "/v1/projects/",
                &[("with_os_object", "true")],
            )
            .await?;
        models::parse_projects(&body).map_err(|e| protocol(LIST_PROJECTS, e))
    }

    /// The TRS machines of one project, with their Nova names and statuses.
    pub async fn servers(&self, project_id: &str) -> VendorResult<Vec<TrsServer>> {
        let query = [("project_id", project_id), ("with_os_object", "true")];
        let body = self.get(LIST_SERVERS, "/v1/servers/", &query).await?;
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
            if e.kind == ErrorKind::Unauthorized {
                e.message = format!("{}; {}", e.message, self.session.refusal_hint());
            }
            if let Some(secret) = self.session.static_token() {
                e.message = errors::redact(&e.message, secret.expose());
            }
            return Err(e);
        }
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
