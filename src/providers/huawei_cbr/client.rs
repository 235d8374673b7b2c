//! `CbrClient`: every CBR call rampart makes, for one project, through the shared HTTP edge
//! (budget, timeouts, 429, metrics). Lists are paged with `limit`/`offset` until `count`.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use super::auth::{CbrAuth, PasswordLogin};
use super::models::*;
use super::signer::{self, SigningRequest};
use super::{VENDOR, errors};
use crate::api::vendors::huawei_cbr::{CbrAuthMethod, CbrProviderSettings};
use crate::engine::hub::ResolvedProvider;
use crate::providers::budget::Budget;
use crate::providers::error::{ErrorKind, VendorError, VendorResult};
use crate::providers::http::{HttpResponse, VendorHttp};

/// The largest page CBR serves (`limit` 1–1000).
pub const MAX_PAGE_SIZE: u32 = 1000;
const TIMEOUT: Duration = Duration::from_secs(30);

/// A CBR client for one project.
#[derive(Clone)]
pub struct CbrClient {
    http: VendorHttp,
    project_id: String,
    auth: Arc<CbrAuth>,
    page_size: u32,
}

impl std::fmt::Debug for CbrClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CbrClient")
            .field("endpoint", &self.http.url(""))
            .field("project_id", &self.project_id)
            .field("auth", &self.auth)
            .finish()
    }
}

/// A call to make: method, stable operation label, path below `/v3/{project_id}`, query, body.
struct Call {
    method: Method,
    operation: &'static str,
    path: String,
    query: Vec<(String, String)>,
    body: Option<Vec<u8>>,
}

impl CbrClient {
    pub fn new(http: VendorHttp, project_id: impl Into<String>, auth: CbrAuth) -> Self {
        CbrClient {
            http,
            project_id: project_id.into(),
            auth: Arc::new(auth),
            page_size: MAX_PAGE_SIZE,
        }
    }

    /// The client of a `type: HuaweiCbr` provider configuration: endpoint, TLS, budget,
    /// `huaweiCbr` settings and the Secret's keys for the chosen `authMethod`.
    pub fn connect(p: &ResolvedProvider) -> VendorResult<Self> {
        let settings = p
            .spec
            .huawei_cbr
            .as_ref()
            .ok_or_else(|| config("spec.huaweiCbr is required for type HuaweiCbr"))?;
        let budget = Arc::new(Budget::new(&p.spec.budget));
        let http = VendorHttp::new(VENDOR, &p.spec.endpoint, &p.tls(), budget.clone(), TIMEOUT)?;
        let auth = auth_from_settings(p, settings, budget)?;
        Ok(CbrClient::new(http, settings.project_id.clone(), auth))
    }

    /// Records per list page (1–1000; default 1000).
    pub fn with_page_size(mut self, page_size: u32) -> Self {
        self.page_size = page_size.clamp(1, MAX_PAGE_SIZE);
        self
    }

    pub fn project_id(&self) -> &str {
        &self.project_id
    }

    pub fn auth(&self) -> &CbrAuth {
        &self.auth
    }

    // ----- vaults -----

    /// `POST /vaults`. The vault comes back already `available`.
    pub async fn create_vault(&self, vault: &VaultCreate) -> VendorResult<Vault> {
        let call = self
            .call(Method::POST, "POST /vaults", "/vaults".into())
            .json(&json!({ "vault": vault }));
        self.fetch(call, "vault").await
    }

    /// `GET /vaults/{id}`; a missing vault is `NotFound` (BackupService.6105).
    pub async fn get_vault(&self, id: &str) -> VendorResult<Vault> {
        self.fetch(
            self.call(Method::GET, "GET /vaults/{id}", format!("/vaults/{id}")),
            "vault",
        )
        .await
    }

    /// Every vault matching `filter`, page by page.
    pub async fn list_vaults(&self, filter: &VaultFilter) -> VendorResult<Vec<Vault>> {
        self.list_all("GET /vaults", "/vaults", filter.query(), "vaults")
            .await
    }

    /// One page of vaults and the total count.
    pub async fn list_vaults_page(
        &self,
        filter: &VaultFilter,
        limit: u32,
        offset: u64,
    ) -> VendorResult<(Vec<Vault>, Option<i64>)> {
        self.page(
            "GET /vaults",
            "/vaults",
            filter.query(),
            "vaults",
            limit,
            offset,
        )
        .await
    }

    /// `PUT /vaults/{id}` with only the fields set in `update`.
    pub async fn update_vault(&self, id: &str, update: &VaultUpdate) -> VendorResult<Vault> {
        let call = self
            .call(Method::PUT, "PUT /vaults/{id}", format!("/vaults/{id}"))
            .json(&json!({ "vault": update }));
        self.fetch(call, "vault").await
    }

    /// `DELETE /vaults/{id}` (204). Deletes every backup in the vault.
    pub async fn delete_vault(&self, id: &str) -> VendorResult<()> {
        self.send(self.call(
            Method::DELETE,
            "DELETE /vaults/{id}",
            format!("/vaults/{id}"),
        ))
        .await
        .map(drop)
    }

    /// `POST /vaults/{id}/addresources`; returns the ids added.
    pub async fn add_resources(
        &self,
        vault_id: &str,
        resources: &[ResourceCreate],
    ) -> VendorResult<Vec<String>> {
        let body = json!({ "resources": resources });
        let call = self.vault_action("POST /vaults/{id}/addresources", vault_id, body);
        self.fetch(call, "add_resource_ids").await
    }

    /// `POST /vaults/{id}/removeresources`; returns the ids removed. Their backups are deleted.
    pub async fn remove_resources(
        &self,
        vault_id: &str,
        resource_ids: &[String],
    ) -> VendorResult<Vec<String>> {
        let body = json!({ "resource_ids": resource_ids });
        let call = self.vault_action("POST /vaults/{id}/removeresources", vault_id, body);
        self.fetch(call, "remove_resource_ids").await
    }

    /// `POST /vaults/{id}/associatepolicy`.
    pub async fn associate_policy(
        &self,
        vault_id: &str,
        policy_id: &str,
    ) -> VendorResult<PolicyBinding> {
        let body = json!({ "policy_id": policy_id });
        let call = self.vault_action("POST /vaults/{id}/associatepolicy", vault_id, body);
        self.fetch(call, "associate_policy").await
    }

    /// `POST /vaults/{id}/dissociatepolicy`; a policy that is not applied is `NotFound`
    /// (BackupService.6002).
    pub async fn dissociate_policy(
        &self,
        vault_id: &str,
        policy_id: &str,
    ) -> VendorResult<PolicyBinding> {
        let body = json!({ "policy_id": policy_id });
        let call = self.vault_action("POST /vaults/{id}/dissociatepolicy", vault_id, body);
        self.fetch(call, "dissociate_policy").await
    }

    // ----- policies -----

    /// `POST /policies`.
    pub async fn create_policy(&self, policy: &PolicyCreate) -> VendorResult<Policy> {
        let call = self
            .call(Method::POST, "POST /policies", "/policies".into())
            .json(&json!({ "policy": policy }));
        self.fetch(call, "policy").await
    }

    /// `GET /policies/{id}`; a missing policy is `NotFound` (BackupService.6000).
    pub async fn get_policy(&self, id: &str) -> VendorResult<Policy> {
        self.fetch(
            self.call(Method::GET, "GET /policies/{id}", format!("/policies/{id}")),
            "policy",
        )
        .await
    }

    /// `GET /policies`: every policy in one unpaged call.
    pub async fn list_policies(&self, filter: &PolicyFilter) -> VendorResult<Vec<Policy>> {
        let mut call = self.call(Method::GET, "GET /policies", "/policies".into());
        call.query = filter.query();
        let resp = self.send(call).await?;
        parse_list(&resp, "GET /policies", "policies").map(|(items, _)| items)
    }

    /// `PUT /policies/{id}`. Send the whole desired `operation_definition`: CBR replaces it.
    pub async fn update_policy(&self, id: &str, update: &PolicyUpdate) -> VendorResult<Policy> {
        let call = self
            .call(Method::PUT, "PUT /policies/{id}", format!("/policies/{id}"))
            .json(&json!({ "policy": update }));
        self.fetch(call, "policy").await
    }

    /// `DELETE /policies/{id}` (204).
    pub async fn delete_policy(&self, id: &str) -> VendorResult<()> {
        self.send(self.call(
            Method::DELETE,
            "DELETE /policies/{id}",
            format!("/policies/{id}"),
        ))
        .await
        .map(drop)
    }

    // ----- tasks -----

    /// Every task matching `filter`, page by page.
    pub async fn list_operation_logs(
        &self,
        filter: &OperationLogFilter,
    ) -> VendorResult<Vec<OperationLog>> {
        self.list_all(
            "GET /operation-logs",
            "/operation-logs",
            filter.query(),
            "operation_logs",
        )
        .await
    }

    // ----- plumbing -----

    fn call(&self, method: Method, operation: &'static str, path: String) -> Call {
        Call {
            method,
            operation,
            path,
            query: Vec::new(),
            body: None,
        }
    }

    /// `POST /vaults/{vault_id}/<action>` with a flat body; the action is the operation's last
    /// path segment.
    fn vault_action(&self, operation: &'static str, vault_id: &str, body: Value) -> Call {
        let action = operation.rsplit('/').next().unwrap_or_default();
        self.call(
            Method::POST,
            operation,
            format!("/vaults/{vault_id}/{action}"),
        )
        .json(&body)
    }

    async fn list_all<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        path: &str,
        query: Vec<(String, String)>,
        key: &str,
    ) -> VendorResult<Vec<T>> {
        let mut all: Vec<T> = Vec::new();
        loop {
            let offset = all.len() as u64;
            let (items, count) = self
                .page(operation, path, query.clone(), key, self.page_size, offset)
                .await?;
            let got = items.len();
            all.extend(items);
            let done = match count {
                Some(total) => all.len() as i64 >= total,
                None => got < self.page_size as usize,
            };
            if done || got == 0 {
                return Ok(all);
            }
        }
    }

    async fn page<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        path: &str,
        mut query: Vec<(String, String)>,
        key: &str,
        limit: u32,
        offset: u64,
    ) -> VendorResult<(Vec<T>, Option<i64>)> {
        // GUESS: the request tables say offset is "positive, minimum 1", but the document's own
        // examples send offset=0 for the first page and its responses default offset to 0.
        query.push(("limit".into(), limit.clamp(1, MAX_PAGE_SIZE).to_string()));
        query.push(("offset".into(), offset.to_string()));
        let mut call = self.call(Method::GET, operation, path.to_string());
        call.query = query;
        let resp = self.send(call).await?;
        parse_list(&resp, operation, key)
    }

    async fn fetch<T: DeserializeOwned>(&self, call: Call, key: &str) -> VendorResult<T> {
        let operation = call.operation;
        let resp = self.send(call).await?;
        let mut map: Map<String, Value> = serde_json::from_slice(&resp.body)
            .map_err(|e| errors::protocol(operation, resp.status, e))?;
        let inner = map
            .remove(key)
            .filter(|v| !v.is_null())
            .ok_or_else(|| errors::protocol(operation, resp.status, format!("no '{key}'")))?;
        serde_json::from_value(inner).map_err(|e| errors::protocol(operation, resp.status, e))
    }

    /// Send a call, authenticated; after a 401 with a login token, log in again and retry once.
    async fn send(&self, call: Call) -> VendorResult<HttpResponse> {
        let path = format!("/v3/{}{}", self.project_id, call.path);
        let query = signer::canonical_query(&call.query);
        let url = if query.is_empty() {
            self.http.url(&path)
        } else {
            format!("{}?{query}", self.http.url(&path))
        };
        let host = host_header(&url)
            .ok_or_else(|| config(format!("endpoint {} has no host", self.http.url(""))))?;
        let headers = vec![
            ("Content-Type".to_string(), "application/json".to_string()),
            ("Host".to_string(), host),
            ("X-Project-Id".to_string(), self.project_id.clone()),
        ];
        let body = call.body.clone().unwrap_or_default();
        let signing = SigningRequest {
            method: call.method.as_str(),
            path: &path,
            query: &call.query,
            headers: &headers,
            body: &body,
        };
        for attempt in 0..2 {
            let auth = self.auth.headers(&signing).await?;
            let mut request = self.http.client().request(call.method.clone(), &url);
            for (name, value) in headers.iter().filter(|(n, _)| n != "Host") {
                request = request.header(name, value);
            }
            for (name, value) in &auth.headers {
                request = request.header(*name, value);
            }
            if call.body.is_some() {
                request = request.body(body.clone());
            }
            let resp = self.http.execute(call.operation, request).await?;
            if resp.is_success() {
                return Ok(resp);
            }
            let err = errors::from_response(call.operation, resp.status, &resp.body);
            tracing::debug!(vendor = VENDOR, operation = call.operation, status = resp.status, code = ?err.code, "CBR call failed");
            if err.kind == ErrorKind::Unauthorized && attempt == 0 && self.auth.refused(&auth).await
            {
                tracing::info!(
                    vendor = VENDOR,
                    operation = call.operation,
                    "token refused; logging in again"
                );
                continue;
            }
            return Err(err);
        }
        unreachable!("the loop returns on its second attempt")
    }
}

impl Call {
    fn json<T: Serialize>(mut self, body: &T) -> Self {
        self.body = Some(serde_json::to_vec(body).expect("request models serialize"));
        self
    }
}

/// `{key: [...], "count": N}` of a list response.
fn parse_list<T: DeserializeOwned>(
    resp: &HttpResponse,
    operation: &str,
    key: &str,
) -> VendorResult<(Vec<T>, Option<i64>)> {
    let mut map: Map<String, Value> = serde_json::from_slice(&resp.body)
        .map_err(|e| errors::protocol(operation, resp.status, e))?;
    let count = map.get("count").and_then(|c| {
        c.as_i64()
            .or_else(|| c.as_str().and_then(|s| s.parse().ok()))
    });
    let items = match map.remove(key) {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => {
            serde_json::from_value(v).map_err(|e| errors::protocol(operation, resp.status, e))?
        }
    };
    Ok((items, count))
}

/// The `Host` header a request to `url` carries: host, and the port when it is not the
/// scheme's default (what the HTTP client sends, so the signature covers the same value).
pub fn host_header(url: &str) -> Option<String> {
    let parsed = reqwest::Url::parse(url).ok()?;
    let host = parsed.host_str()?;
    Some(match parsed.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    })
}

fn config(message: impl Into<String>) -> VendorError {
    VendorError::new(VENDOR, "connect", ErrorKind::Config, message)
}

fn auth_from_settings(
    p: &ResolvedProvider,
    settings: &CbrProviderSettings,
    budget: Arc<Budget>,
) -> VendorResult<CbrAuth> {
    let secret = |key: &str| p.credentials.require(VENDOR, key).cloned();
    Ok(match settings.auth_method {
        CbrAuthMethod::Token => CbrAuth::token(secret("token")?),
        CbrAuthMethod::AkSk => CbrAuth::ak_sk(secret("accessKey")?, secret("secretKey")?),
        CbrAuthMethod::Password => {
            let iam_endpoint = settings.iam_endpoint.as_deref().ok_or_else(|| {
                config("huaweiCbr.iamEndpoint is required for authMethod Password")
            })?;
            let project_name = settings
                .project_name
                .clone()
                .or_else(|| settings.region.clone())
                .ok_or_else(|| {
                    config("huaweiCbr.projectName (or region) is required for authMethod Password")
                })?;
            let iam = VendorHttp::new(VENDOR, iam_endpoint, &p.tls(), budget, TIMEOUT)?;
            let login = PasswordLogin {
                username: secret("username")?,
                password: secret("password")?,
                domain_name: secret("domainName")?,
                project_name,
            };
            CbrAuth::password(iam, login)
        }
    })
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod client_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_header_keeps_only_non_default_ports() {
        assert_eq!(
            host_header("https://cbr.example.com/v3/p/vaults").as_deref(),
            Some("cbr.example.com")
        );
        assert_eq!(
            host_header("https://cbr.example.com:443/v3").as_deref(),
            Some("cbr.example.com")
        );
        assert_eq!(
            host_header("http://127.0.0.1:8443/v3").as_deref(),
            Some("127.0.0.1:8443")
        );
        assert_eq!(host_header("not a url"), None);
    }
}
