//! `CbrClient`: every CBR call rampart makes, for one project, through the shared HTTP edge
//! (budget, timeouts, 429, metrics). Lists are paged with `limit`/`offset` until `count`.

use std::sync::Arc;

use reqwest::Method;
use serde_json::json;

use super::VENDOR;
use super::models::*;
use super::request::{config, read_list};
use super::session::{CbrAuth, PasswordLogin};
use crate::api::vendors::huawei_cbr::{CbrAuthMethod, CbrProviderSettings};
use crate::engine::hub::ResolvedProvider;
use crate::vendor::error::VendorResult;
use crate::vendor::http::VendorHttp;

/// The largest page CBR serves (`limit` 1–1000).
pub const MAX_PAGE_SIZE: u32 = 1000;

/// A CBR client for one project.
#[derive(Clone)]
pub struct CbrClient {
    pub(super) http: VendorHttp,
    pub(super) project_id: String,
    pub(super) auth: Arc<CbrAuth>,
    pub(super) page_size: u32,
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
        let http = VendorHttp::for_provider(VENDOR, &p.spec.endpoint, &p.spec)?;
        let auth = auth_from_settings(p, settings, &http)?;
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
        read_list("GET /policies", resp.status, &resp.body, "policies").map(|(items, _)| items)
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

    // ----- backups -----

    /// Every backup matching `filter` (`GET /backups`, section 4.5.2), page by page.
    pub async fn list_backups(&self, filter: &BackupFilter) -> VendorResult<Vec<Backup>> {
        self.list_all("GET /backups", "/backups", filter.query(), "backups")
            .await
    }

    /// `GET /backups/{id}` (section 4.5.1); a missing backup is `NotFound` (BackupService.6200).
    pub async fn get_backup(&self, id: &str) -> VendorResult<Backup> {
        self.fetch(
            self.call(Method::GET, "GET /backups/{id}", format!("/backups/{id}")),
            "backup",
        )
        .await
    }

    /// `DELETE /backups/{id}` (204); a missing backup is `NotFound` (BackupService.6200).
    pub async fn delete_backup(&self, id: &str) -> VendorResult<()> {
        self.send(self.call(
            Method::DELETE,
            "DELETE /backups/{id}",
            format!("/backups/{id}"),
        ))
        .await
        .map(drop)
    }

    /// `POST /backups/{id}/restore` (202, no body: the restore task is found in the
    /// operation logs).
    pub async fn restore_backup(&self, id: &str, restore: &BackupRestore) -> VendorResult<()> {
        let call = self
            .call(
                Method::POST,
                "POST /backups/{id}/restore",
                format!("/backups/{id}/restore"),
            )
            .json(&json!({ "restore": restore }));
        self.send(call).await.map(drop)
    }

    // ----- restore points -----

    /// `POST /checkpoints`: back up a vault now. The restore point comes back `protecting`.
    pub async fn create_checkpoint(&self, create: &CheckpointCreate) -> VendorResult<Checkpoint> {
        let call = self
            .call(Method::POST, "POST /checkpoints", "/checkpoints".into())
            .json(&json!({ "checkpoint": create }));
        self.fetch(call, "checkpoint").await
    }

    /// `GET /checkpoints/{id}`; a missing restore point is `NotFound` (BackupService.6217).
    pub async fn get_checkpoint(&self, id: &str) -> VendorResult<Checkpoint> {
        self.fetch(
            self.call(
                Method::GET,
                "GET /checkpoints/{id}",
                format!("/checkpoints/{id}"),
            ),
            "checkpoint",
        )
        .await
    }

    // ----- tasks -----

    /// `GET /operation-logs/{id}` (section 4.1.1).
    pub async fn get_operation_log(&self, id: &str) -> VendorResult<OperationLog> {
        self.fetch(
            self.call(
                Method::GET,
                "GET /operation-logs/{id}",
                format!("/operation-logs/{id}"),
            ),
            "operation_log",
        )
        .await
    }

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
}

fn auth_from_settings(
    p: &ResolvedProvider,
    settings: &CbrProviderSettings,
    http: &VendorHttp,
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
            let iam = http.sibling(iam_endpoint);
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
