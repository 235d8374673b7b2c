//! Calls to `/api/<version>/…`: bearer token, one renewal after a 401, the document's advice
//! for 50x on reads ("repeat twice, 1–2 s apart"), error bodies, and cursor paging.

use std::time::Duration;

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::VENDOR;
use super::errors::error_from_response;
use super::filter::Query;
use super::models::{Page, parse_page};
use super::session::Session;
use crate::vendor::error::{ErrorKind, VendorError, VendorResult};
use crate::vendor::http::{HttpResponse, VendorHttp};

/// Pages a list may have before we suspect a cursor loop.
const MAX_PAGES: usize = 100_000;

/// One API call, rebuilt for each attempt.
pub struct Call<'a> {
    pub method: Method,
    /// Path below `/api/<version>`, for example `/policies/<id>`.
    pub path: String,
    pub query: &'a [(String, String)],
    pub body: Option<&'a Value>,
    /// How long to wait for the answer when it must not be lost (a write the document gives
    /// no way to find again); the provider's request timeout when `None`.
    pub patience: Option<Duration>,
}

/// The authenticated client of one Cyber Backup installation.
pub struct Client {
    http: VendorHttp,
    session: Session,
    api_prefix: String,
    page_size: usize,
    read_retry_delay: Duration,
}

impl Client {
    pub fn new(http: VendorHttp, session: Session, api_version: &str, page_size: usize) -> Self {
        Client {
            http,
            session,
            api_prefix: format!("/api/{api_version}"),
            page_size: page_size.max(1),
            read_retry_delay: Duration::from_secs(1),
        }
    }

    /// Shorten the pause between read retries (tests).
    pub fn with_read_retry_delay(mut self, d: Duration) -> Self {
        self.read_retry_delay = d;
        self
    }

    pub fn page_size(&self) -> usize {
        self.page_size
    }

    /// A bearer token, logging in if needed (the provider health check uses this).
    pub async fn login(&self) -> VendorResult<()> {
        self.session.bearer(&self.http).await.map(|_| ())
    }

    /// Send a call and return its successful response. `operation` is the stable label
    /// (`GET /policies/{id}`). Reads are repeated on 50x as the document advises.
    pub async fn send(&self, operation: &str, call: &Call<'_>) -> VendorResult<HttpResponse> {
        let attempts = if call.method == Method::GET { 3 } else { 1 };
        let mut last = None;
        for attempt in 0..attempts {
            if attempt > 0 {
                tokio::time::sleep(self.read_retry_delay).await;
            }
            match self.send_once(operation, call).await {
                // Not a session dropped after a fresh login (a 401): that is the vendor's
                // sessions, not the 50x the document means, and each repeat would log in twice.
                Err(e) if e.kind == ErrorKind::Unavailable && e.status != Some(401) => {
                    last = Some(e)
                }
                other => return other,
            }
        }
        Err(last.expect("at least one attempt"))
    }

    async fn send_once(&self, operation: &str, call: &Call<'_>) -> VendorResult<HttpResponse> {
        let token = self.session.bearer(&self.http).await?;
        let resp = self
            .http
            .execute(operation, self.request(call, &token))
            .await?;
        let resp = if resp.status == 401 {
            // Expired (two hours at most) or revoked: log in again once.
            tracing::debug!(
                vendor = VENDOR,
                operation,
                "token refused; logging in again"
            );
            self.session.reject(&token).await;
            let token = self.session.bearer(&self.http).await?;
            let again = self
                .http
                .execute(operation, self.request(call, &token))
                .await?;
            if again.status == 401 {
                return Err(error_from_response(operation, &again).refused_after_fresh_login());
            }
            again
        } else {
            resp
        };
        if resp.is_success() {
            Ok(resp)
        } else {
            Err(error_from_response(operation, &resp))
        }
    }

    fn request(
        &self,
        call: &Call<'_>,
        token: &crate::engine::hub::SecretString,
    ) -> reqwest::RequestBuilder {
        let url = self.http.url(&format!("{}{}", self.api_prefix, call.path));
        let mut r = self
            .http
            .client()
            .request(call.method.clone(), url)
            .bearer_auth(token.expose())
            .header(reqwest::header::ACCEPT, "application/json");
        if !call.query.is_empty() {
            r = r.query(call.query);
        }
        if let Some(body) = call.body {
            r = r.json(body);
        }
        if let Some(patience) = call.patience {
            r = r.timeout(patience);
        }
        r
    }

    /// GET a JSON body.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        operation: &str,
        path: String,
        query: &Query,
    ) -> VendorResult<T> {
        let resp = self
            .send(
                operation,
                &Call {
                    method: Method::GET,
                    path,
                    query: query.pairs(),
                    body: None,
                    patience: None,
                },
            )
            .await?;
        decode(operation, &resp.body)
    }

    /// Send a JSON body with `method` (POST, PATCH).
    pub async fn send_json(
        &self,
        operation: &str,
        method: Method,
        path: String,
        body: &Value,
    ) -> VendorResult<HttpResponse> {
        self.send(
            operation,
            &Call {
                method,
                path,
                query: &[],
                body: Some(body),
                patience: None,
            },
        )
        .await
    }

    /// POST a JSON body and wait up to `patience` for the answer: for a create whose object
    /// cannot be found again if its answer is lost.
    pub async fn post_patiently(
        &self,
        operation: &str,
        path: String,
        body: &Value,
        patience: Duration,
    ) -> VendorResult<HttpResponse> {
        self.send(
            operation,
            &Call {
                method: Method::POST,
                path,
                query: &[],
                body: Some(body),
                patience: Some(patience),
            },
        )
        .await
    }

    /// The provider's request timeout.
    pub fn request_timeout(&self) -> Duration {
        self.http.timeout()
    }

    /// DELETE with query parameters.
    pub async fn delete(
        &self,
        operation: &str,
        path: String,
        query: &Query,
    ) -> VendorResult<HttpResponse> {
        self.send(
            operation,
            &Call {
                method: Method::DELETE,
                path,
                query: query.pairs(),
                body: None,
                patience: None,
            },
        )
        .await
    }

    /// Every item of a paginated list: `limit` pages, following `paging.cursors.after` until it
    /// is empty. `wrapper` is the key each item is wrapped in (`policy`).
    pub async fn list_all<T: DeserializeOwned>(
        &self,
        operation: &str,
        path: &str,
        query: &Query,
        wrapper: Option<&str>,
    ) -> VendorResult<Vec<T>> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut q = query.clone().param("limit", &self.page_size.to_string());
            if let Some(cursor) = &after {
                q = q.param("after", cursor);
            }
            let resp = self
                .send(
                    operation,
                    &Call {
                        method: Method::GET,
                        path: path.to_string(),
                        query: q.pairs(),
                        body: None,
                        patience: None,
                    },
                )
                .await?;
            let page: Page = parse_page(&resp.body, wrapper).map_err(|m| protocol(operation, m))?;
            for item in page.items {
                out.push(
                    serde_json::from_value(item)
                        .map_err(|e| protocol(operation, format!("unexpected item: {e}")))?,
                );
            }
            match page.after {
                Some(next) if Some(&next) != after.as_ref() => after = Some(next),
                Some(_) => {
                    return Err(protocol(
                        operation,
                        "the vendor repeated a page cursor".to_string(),
                    ));
                }
                None => return Ok(out),
            }
        }
        Err(protocol(operation, format!("more than {MAX_PAGES} pages")))
    }
}

pub fn protocol(operation: &str, message: String) -> VendorError {
    VendorError::new(VENDOR, operation, ErrorKind::Protocol, message)
}

pub fn decode<T: DeserializeOwned>(operation: &str, body: &[u8]) -> VendorResult<T> {
    serde_json::from_slice(body)
        .map_err(|e| protocol(operation, format!("unexpected response: {e}")))
}
