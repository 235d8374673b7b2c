//! Authenticated calls to the RuBackup API. Every request carries `Authorization: Bearer
//! <access_token>` and `X-CSRF-TOKEN` (§7.2; §8: "every method of every endpoint", GETs
//! included). A 401 means the tokens died (expiry, restart, revocation): the session renews them
//! and the request is sent once more.

use std::collections::BTreeSet;
use std::sync::Arc;

use reqwest::Method;
use serde_json::{Map, Value};

use super::VENDOR;
use super::envelope::{self, Envelope};
use super::session::{Endpoint, LoginSettings, Session};
use crate::vendor::error::{ErrorKind, VendorError, VendorResult};
use crate::vendor::login_gate::LoginGate;

/// A vendor object as RuBackup lists it.
pub type Item = Map<String, Value>;

/// The vendor id of an item (`id`, a number in every example).
pub fn item_id(item: &Item) -> Option<String> {
    match item.get("id")? {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// A `filterdata` equality (`poolname="test"`, §8). Names with `"` are refused at admission.
pub fn filter_equals(key: &str, value: &str) -> String {
    format!("{key}=\"{value}\"")
}

/// How list calls page. GUESS (L984-993): the document lists a page number and a display limit
/// without naming them; `page` and `limit` are the names it gives paging inside the tree bodies
/// (L2728-2731). Both names and the page size are provider settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paging {
    pub page_parameter: String,
    pub limit_parameter: String,
    pub page_size: usize,
}

impl Default for Paging {
    fn default() -> Self {
        Paging {
            page_parameter: "page".into(),
            limit_parameter: "limit".into(),
            page_size: 100,
        }
    }
}

/// The RuBackup API of one provider configuration.
pub struct RuBackupClient {
    pub endpoint: Endpoint,
    pub session: Arc<Session>,
    gate: LoginGate,
    login: LoginSettings,
    paging: Paging,
}

impl RuBackupClient {
    pub fn new(endpoint: Endpoint, login: LoginSettings, gate: LoginGate, paging: Paging) -> Self {
        let session = Session::shared(&endpoint, &login);
        RuBackupClient {
            endpoint,
            session,
            gate,
            login,
            paging: Paging {
                page_size: paging.page_size.max(1),
                ..paging
            },
        }
    }

    /// One authenticated request, renewing the tokens once if the server refuses them.
    pub async fn send(
        &self,
        operation: &str,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> VendorResult<Envelope> {
        let mut renewed = false;
        loop {
            let auth = self
                .session
                .authorize(&self.endpoint, &self.gate, &self.login)
                .await?;
            let mut req = self
                .endpoint
                .http
                .client()
                .request(method.clone(), self.endpoint.url(path))
                .header("Authorization", format!("Bearer {}", auth.access.expose()))
                .header("X-CSRF-TOKEN", auth.csrf.expose())
                .header("accept", "application/json");
            if !query.is_empty() {
                req = req.query(query);
            }
            if let Some(body) = body {
                req = req.json(body);
            }
            let resp = self.endpoint.http.execute(operation, req).await?;
            if resp.status == 401 && !renewed {
                tracing::debug!(
                    operation,
                    "RuBackup refused the access token; renewing the session"
                );
                self.session.rejected(auth.generation).await;
                renewed = true;
                continue;
            }
            let answer = envelope::read(operation, &resp);
            if renewed {
                return answer.map_err(VendorError::refused_after_fresh_login);
            }
            return answer;
        }
    }

    /// Every item of a collection, page by page (see [`Paging`]), optionally filtered
    /// (`filterdata`). Paging stops at a short page, or at a page that brings nothing new (a
    /// server that ignores the page number and answers the whole list, or the same page, again).
    pub async fn list(&self, collection: &str, filter: Option<String>) -> VendorResult<Vec<Item>> {
        let operation = format!("GET {collection}");
        let mut items = Vec::new();
        let mut seen = BTreeSet::new();
        let p = &self.paging;
        for page in 1.. {
            let mut query = vec![
                (p.page_parameter.as_str(), page.to_string()),
                (p.limit_parameter.as_str(), p.page_size.to_string()),
            ];
            if let Some(f) = &filter {
                query.push(("filterdata", f.clone()));
            }
            let env = self
                .send(&operation, Method::GET, collection, &query, None)
                .await?;
            let batch = env
                .items()
                .ok_or_else(|| protocol(&operation, "data is not a list"))?;
            let count = batch.len();
            let mut fresh = 0;
            for value in batch {
                let Value::Object(item) = value else {
                    return Err(protocol(&operation, "a list item is not an object"));
                };
                if seen.insert(item_id(&item).unwrap_or_default()) {
                    fresh += 1;
                    items.push(item);
                }
            }
            if fresh == 0 && page > 1 && count == p.page_size {
                // A full page again with nothing new: the server cut the list to the page size
                // but did not read the page number, so the rest cannot be reached.
                return Err(VendorError::new(
                    VENDOR,
                    &operation,
                    ErrorKind::Config,
                    format!(
                        "RuBackup answered page {page} with the items of an earlier page: it limits lists to {} items but does not read the page number from '{}'; set spec.ruBackup.pageParameter (and limitParameter) to the names the server uses",
                        p.page_size, p.page_parameter
                    ),
                ));
            }
            if count < p.page_size || fresh == 0 {
                break;
            }
        }
        Ok(items)
    }

    /// One item by id, or None when RuBackup says it does not exist.
    pub async fn get(&self, collection: &str, id: &str) -> VendorResult<Option<Item>> {
        let operation = format!("GET {collection}/{{id}}");
        match self
            .send(
                &operation,
                Method::GET,
                &format!("{collection}/{id}"),
                &[],
                None,
            )
            .await
        {
            Ok(env) => match env.data {
                Value::Object(item) => Ok(Some(item)),
                _ => Err(protocol(&operation, "data is not an object")),
            },
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A create (`201` with an empty `data`: the new id is not returned, §7.2).
    pub async fn create(&self, collection: &str, body: &Value) -> VendorResult<()> {
        self.send(
            &format!("POST {collection}"),
            Method::POST,
            collection,
            &[],
            Some(body),
        )
        .await
        .map(drop)
    }

    /// A change of one item.
    pub async fn patch(&self, collection: &str, id: &str, body: &Value) -> VendorResult<()> {
        let operation = format!("PATCH {collection}/{{id}}");
        self.send(
            &operation,
            Method::PATCH,
            &format!("{collection}/{id}"),
            &[],
            Some(body),
        )
        .await
        .map(drop)
    }

    /// A change of the collection itself (the bulk status changes of §8.7.1 and §8.8.1).
    pub async fn patch_collection(&self, collection: &str, body: &Value) -> VendorResult<()> {
        self.send(
            &format!("PATCH {collection}"),
            Method::PATCH,
            collection,
            &[],
            Some(body),
        )
        .await
        .map(drop)
    }

    /// Delete one item; false when it was already gone.
    pub async fn delete(&self, collection: &str, id: &str) -> VendorResult<bool> {
        let operation = format!("DELETE {collection}/{{id}}");
        match self
            .send(
                &operation,
                Method::DELETE,
                &format!("{collection}/{id}"),
                &[],
                None,
            )
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Delete several items at once (`{"ids": [...]}`, not wrapped in `data`).
    pub async fn delete_many(&self, collection: &str, ids: &[i64]) -> VendorResult<()> {
        let body = serde_json::json!({ "ids": ids });
        match self
            .send(
                &format!("DELETE {collection}"),
                Method::DELETE,
                collection,
                &[],
                Some(&body),
            )
            .await
        {
            Err(e) if !e.is_not_found() => Err(e),
            _ => Ok(()),
        }
    }
}

fn protocol(operation: &str, what: &str) -> VendorError {
    VendorError::new(VENDOR, operation, ErrorKind::Protocol, what.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_and_filters() {
        assert_eq!(
            item_id(json!({"id": 7}).as_object().unwrap()),
            Some("7".into())
        );
        assert_eq!(
            item_id(json!({"id": "7"}).as_object().unwrap()),
            Some("7".into())
        );
        assert_eq!(item_id(json!({"name": "x"}).as_object().unwrap()), None);
        assert_eq!(filter_equals("poolname", "test"), r#"poolname="test""#);
    }
}
