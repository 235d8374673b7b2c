//! The HTTP edge every vendor client goes through: TLS settings from the provider config, the
//! API budget, a timeout, 429 handling, and metrics per vendor/operation/status code.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;

use super::budget::Budget;
use super::error::{ErrorKind, VendorError, VendorResult};
use crate::api::provider_config::ProviderConfigCommon;
use crate::telemetry::metrics;
use crate::vendor::tls::TlsFailure;

/// TLS trust for one vendor endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct TlsSettings {
    /// Extra PEM CA certificates trusted beside the system roots.
    pub ca_bundle: Option<String>,
    /// Skip verification (explicit, and reported as a warning condition).
    pub insecure_skip_verify: bool,
}

/// A response with its body read.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: bytes::Bytes,
}

impl HttpResponse {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Body as text, cut to a length that is safe to quote in a condition message.
    pub fn body_excerpt(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let mut s: String = text.chars().take(300).collect();
        if text.chars().count() > 300 {
            s.push('…');
        }
        s
    }
}

/// An HTTP client bound to one vendor endpoint and its budget.
#[derive(Clone)]
pub struct VendorHttp {
    pub vendor: &'static str,
    base: String,
    client: reqwest::Client,
    budget: Arc<Budget>,
    timeout: Duration,
}

impl VendorHttp {
    pub fn new(
        vendor: &'static str,
        base: &str,
        tls: &TlsSettings,
        budget: Arc<Budget>,
        timeout: Duration,
    ) -> VendorResult<Self> {
        crate::vendor::tls::install_crypto_provider();
        let builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .pool_max_idle_per_host(32)
            .user_agent(super::fence::user_agent());
        let builder = apply_trust(builder, vendor, tls)?;
        let client = builder.build().map_err(|e| {
            VendorError::new(vendor, "configure HTTP", ErrorKind::Config, e.to_string())
        })?;
        Ok(VendorHttp {
            vendor,
            base: base.trim_end_matches('/').to_string(),
            client,
            budget,
            timeout,
        })
    }

    /// The HTTP edge of one provider configuration (the one connect step every vendor shares):
    /// `base` (the spec's endpoint, or what the vendor derives from it), the spec's TLS trust
    /// and request timeout, and a new API budget from `spec.budget`.
    pub fn for_provider(
        vendor: &'static str,
        base: &str,
        spec: &ProviderConfigCommon,
    ) -> VendorResult<Self> {
        let tls = TlsSettings {
            ca_bundle: spec.ca_bundle.clone(),
            insecure_skip_verify: spec.insecure_skip_verify,
        };
        let timeout = Duration::from_secs(spec.request_timeout_seconds.max(1) as u64);
        let budget = Arc::new(Budget::new(&spec.budget));
        VendorHttp::new(vendor, base, &tls, budget, timeout)
    }

    /// A second endpoint of the same vendor system (an identity service) with the same trust
    /// and timeout, drawing on the same budget: the vendor is one appliance.
    pub fn sibling(&self, base: &str) -> Self {
        VendorHttp {
            vendor: self.vendor,
            base: base.trim_end_matches('/').to_string(),
            client: self.client.clone(),
            budget: self.budget.clone(),
            timeout: self.timeout,
        }
    }

    /// Absolute URL of a path on this endpoint.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// How long a request may take before the caller stops waiting for its answer.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    pub fn budget(&self) -> &Arc<Budget> {
        &self.budget
    }

    /// Send one request within the budget and read its body. `operation` is a stable label such
    /// as `GET /vaults` (used in metrics and error messages; never contains ids or secrets).
    /// 429 pauses the whole endpoint for `Retry-After` and comes back as `Throttled`; other
    /// statuses are returned for the vendor client to interpret.
    pub async fn execute(
        &self,
        operation: &str,
        request: reqwest::RequestBuilder,
    ) -> VendorResult<HttpResponse> {
        let _permit = self.budget.acquire().await;
        // Checked after the wait for the budget, just before sending: a replica that lost its
        // lease while waiting (or frozen) sends nothing.
        if let Err(lapsed) = super::fence::check() {
            return Err(VendorError::new(
                self.vendor,
                operation,
                ErrorKind::Unavailable,
                lapsed.to_string(),
            ));
        }
        let started = Instant::now();
        let sent = request.send().await;
        let result = match sent {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let headers = resp.headers().clone();
                match resp.bytes().await {
                    Ok(body) => Ok(HttpResponse {
                        status,
                        headers,
                        body,
                    }),
                    Err(e) => Err(self.transport_error(operation, &e)),
                }
            }
            Err(e) => Err(self.transport_error(operation, &e)),
        };
        let code = match &result {
            Ok(r) => r.status.to_string(),
            Err(_) => "transport".to_string(),
        };
        metrics::vendor_request(self.vendor, operation, &code, started.elapsed());
        let resp = result?;
        if resp.status == 429 {
            let after = resp
                .header("retry-after")
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs)
                .unwrap_or(Duration::from_secs(1));
            self.budget.pause_for(after);
            let mut err = VendorError::new(
                self.vendor,
                operation,
                ErrorKind::Throttled,
                "vendor asked us to slow down",
            )
            .with_status(429);
            err.retry_after = Some(after);
            return Err(err);
        }
        Ok(resp)
    }

    fn transport_error(&self, operation: &str, e: &reqwest::Error) -> VendorError {
        // A refused certificate is our trust configuration, not a flaky network: say so, and
        // do not retry it hot.
        if let Some(tls) = crate::vendor::tls::find_rustls_error(e) {
            let (failure, message) = crate::vendor::tls::describe_tls_failure(&self.base, tls);
            let kind = match failure {
                TlsFailure::Untrusted => ErrorKind::Config,
                TlsFailure::Handshake => ErrorKind::Transport,
            };
            return VendorError::new(self.vendor, operation, kind, message);
        }
        // reqwest's Display includes the URL, which holds no secrets (credentials never go in
        // URLs); keep the chain short for conditions.
        let what = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "could not connect"
        } else if e.is_body() || e.is_decode() {
            "connection dropped while reading the response"
        } else {
            "request failed"
        };
        VendorError::new(
            self.vendor,
            operation,
            ErrorKind::Transport,
            format!("{what} ({})", self.base),
        )
    }
}

/// The provider's trust settings on a client builder: `caBundle` roots added to the system
/// roots, or no verification at all for `insecureSkipVerify`. Every vendor client is built
/// here, so every vendor honours both the same way.
fn apply_trust(
    mut builder: reqwest::ClientBuilder,
    vendor: &'static str,
    tls: &TlsSettings,
) -> VendorResult<reqwest::ClientBuilder> {
    if let Some(pem) = &tls.ca_bundle {
        let config_error =
            |message: String| VendorError::new(vendor, "configure TLS", ErrorKind::Config, message);
        let roots = crate::vendor::tls::ca_bundle_certificates(pem)
            .map_err(config_error)?
            .iter()
            .map(|der| reqwest::Certificate::from_der(der.as_ref()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| config_error(format!("caBundle: {e}")))?;
        builder = builder.tls_certs_merge(roots);
    }
    if tls.insecure_skip_verify {
        builder = builder.tls_danger_accept_invalid_certs(true);
    }
    Ok(builder)
}
