//! What every vendor simulator shares: a loopback HTTP (or HTTPS) server, fault injection
//! (latency, 5xx, 429 with Retry-After, hangs, dropped connections), a vendor rate limit, token
//! revocation and per-operation request counters. Tests in the same process use [`SimControl`]
//! directly; tests and tools in other processes use the `/_sim/*` control endpoints, which are
//! never counted and never faulted.
//!
//! Two records exist only for tests: who sent each request (its `User-Agent`, which names the
//! replica with leader election), so that a test can count one replica's vendor writes; and
//! every secret the simulator handed out (tokens, session cookies, CSRF values), so that a
//! test can grep the operator's output for all of them (`/_sim/issued-secrets`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::serve::Listener;
use axum::{Json, Router};
use rand::Rng;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::tls_listener::{TlsIdentity, TlsListener};

/// Faults applied to vendor requests. Rates are fractions of requests in `0.0..=1.0`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Faults {
    /// Added to every response, before the request is handled.
    pub latency_ms: u64,
    /// Held after the request is handled: the vendor has acted but the caller hears nothing
    /// yet (a crash in this window is the create-without-record case).
    pub respond_after_ms: u64,
    /// Fraction answered with `error_status` (default 503) and the vendor's error body.
    pub error_rate: f64,
    /// Status used for injected errors; 0 means 503.
    pub error_status: u16,
    /// Fraction answered 429 with `Retry-After: retry_after_secs`.
    pub throttle_rate: f64,
    /// Seconds in the injected `Retry-After`.
    pub retry_after_secs: u64,
    /// Fraction that hang for `hang_ms` before answering (a client timeout, from its side).
    pub hang_rate: f64,
    /// How long a hanging request hangs.
    pub hang_ms: u64,
    /// Fraction whose connection is cut after the status line (the body never arrives).
    pub drop_rate: f64,
    /// Every `late_every`-th write the vendor carries out is handled at once and
    /// answered only `late_ms` later: the vendor has acted, and a caller whose timeout is
    /// shorter hears nothing (an answer after the timeout). Counted, not drawn, so that a run
    /// with enough writes is sure to meet some. 0: none.
    pub late_every: u64,
    /// How late a late answer comes.
    pub late_ms: u64,
    /// Vendor rate limit: requests per second above which the vendor answers 429.
    pub rate_limit_qps: Option<f64>,
    /// Burst allowed by the vendor rate limit (default: one second of `rate_limit_qps`).
    pub rate_limit_burst: Option<f64>,
    /// Apply the faults above only to this operation (`"POST /v3/{project_id}/vaults"`).
    pub only_operation: Option<String>,
    /// Apply the faults above only to writes (every method but GET and HEAD): with
    /// `respond_after_ms`, writes stay in flight long enough for a kill to land in one.
    pub writes_only: bool,
    /// Every session is dead the moment it is issued, as if the vendor restarted right after
    /// each login: a login succeeds and the call made with its token is refused.
    pub revoke_on_issue: bool,
}

/// Builds the vendor's own error response for an injected fault.
pub type ErrorBody = fn(StatusCode, &str) -> Response;

/// One vendor request, as the request log keeps it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggedRequest {
    #[serde(skip)]
    pub at: Instant,
    /// Arrival on the wall clock, to compare with times other processes write (a Lease's
    /// renewTime).
    pub wall: SystemTime,
    /// "METHOD /concrete/path".
    pub request: String,
    /// "METHOD /route/{template}", as the counters name it.
    pub operation: String,
    /// The caller's `User-Agent` (rampart names its replica there).
    pub agent: String,
    /// When the simulator was done with it: answered, or given up because the caller went away
    /// (a killed operator, a client timeout). `None` while still in the simulator.
    #[serde(skip)]
    pub done: Option<Instant>,
    /// Faults injected into it: "latency" is not one; "limit" (the vendor rate limit's 429),
    /// "throttle", "error", "hang", "drop", "late".
    pub faults: Vec<&'static str>,
}

impl LoggedRequest {
    /// Anything but a read.
    pub fn is_write(&self) -> bool {
        !self.request.starts_with("GET ") && !self.request.starts_with("HEAD ")
    }

    /// Whether the simulator had it but had not finished with it at `t`.
    pub fn in_flight_at(&self, t: Instant) -> bool {
        self.at <= t && self.done.is_none_or(|d| d > t)
    }
}

/// Marks a logged request done when the fault layer lets go of it, however it ends (answered,
/// or dropped because the caller disconnected).
struct Logged {
    ctl: Arc<SimControl>,
    index: usize,
    at: Instant,
}

impl Logged {
    fn with_entry(&self, f: impl FnOnce(&mut LoggedRequest)) {
        if let Some(entry) = self
            .ctl
            .log
            .lock()
            .unwrap()
            .as_mut()
            .and_then(|log| log.get_mut(self.index))
            .filter(|e| e.at == self.at)
        {
            f(entry);
        }
    }

    fn fault(&self, kind: &'static str) {
        self.with_entry(|e| e.faults.push(kind));
    }
}

impl Drop for Logged {
    fn drop(&mut self) {
        self.with_entry(|e| e.done = Some(Instant::now()));
    }
}

/// Shared control block of one simulator.
pub struct SimControl {
    faults: Mutex<Faults>,
    /// When recording: every vendor request, in arrival order.
    log: Mutex<Option<Vec<LoggedRequest>>>,
    /// Every secret value this simulator issued (tokens, session cookies, CSRF tokens).
    issued: Mutex<Vec<String>>,
    counters: Mutex<BTreeMap<String, u64>>,
    limiter: Mutex<Option<(f64, Instant)>>,
    token_epoch: AtomicU64,
    throttled: AtomicU64,
    /// Writes that met fault settings with `late_every`, for choosing the late ones.
    writes_seen: AtomicU64,
    error_body: ErrorBody,
}

impl SimControl {
    pub fn new(error_body: ErrorBody) -> Arc<Self> {
        Arc::new(SimControl {
            faults: Mutex::new(Faults::default()),
            log: Mutex::new(None),
            issued: Mutex::new(Vec::new()),
            counters: Mutex::new(BTreeMap::new()),
            limiter: Mutex::new(None),
            token_epoch: AtomicU64::new(0),
            throttled: AtomicU64::new(0),
            writes_seen: AtomicU64::new(0),
            error_body,
        })
    }

    pub fn set_faults(&self, faults: Faults) {
        *self.faults.lock().unwrap() = faults;
        *self.limiter.lock().unwrap() = None;
    }

    pub fn faults(&self) -> Faults {
        self.faults.lock().unwrap().clone()
    }

    /// Requests per operation (`"GET /v3/{project_id}/vaults"`), since the last reset.
    pub fn counters(&self) -> BTreeMap<String, u64> {
        self.counters.lock().unwrap().clone()
    }

    /// Requests for one operation.
    pub fn count(&self, operation: &str) -> u64 {
        self.counters
            .lock()
            .unwrap()
            .get(operation)
            .copied()
            .unwrap_or(0)
    }

    /// Requests answered 429 (rate limit or injected), since the last reset.
    pub fn throttled(&self) -> u64 {
        self.throttled.load(Ordering::SeqCst)
    }

    /// All counted requests.
    pub fn total(&self) -> u64 {
        self.counters.lock().unwrap().values().sum()
    }

    pub fn reset_counters(&self) {
        self.counters.lock().unwrap().clear();
        self.throttled.store(0, Ordering::SeqCst);
    }

    /// Start (or restart, emptied) the request log used to time individual calls.
    pub fn record_requests(&self) {
        *self.log.lock().unwrap() = Some(Vec::new());
    }

    /// Arrival times of the logged requests whose "METHOD /path" satisfies `matches`.
    pub fn request_times(&self, matches: impl Fn(&str) -> bool) -> Vec<Instant> {
        let log = self.log.lock().unwrap();
        log.iter()
            .flatten()
            .filter(|r| matches(&r.request))
            .map(|r| r.at)
            .collect()
    }

    /// The logged requests, in arrival order (empty unless recording).
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.log.lock().unwrap().clone().unwrap_or_default()
    }

    /// Remember a secret value this simulator handed out, for tests that grep for it.
    pub fn remember_issued(&self, secret: &str) {
        if !secret.is_empty() {
            self.issued.lock().unwrap().push(secret.to_string());
        }
        if self.faults.lock().unwrap().revoke_on_issue {
            self.revoke_tokens();
        }
    }

    /// Every secret value this simulator handed out so far.
    pub fn issued_secrets(&self) -> Vec<String> {
        self.issued.lock().unwrap().clone()
    }

    /// When the first request whose "METHOD /path" satisfies `matches` arrived after `after`.
    pub fn first_request_after(
        &self,
        after: Instant,
        matches: impl Fn(&str) -> bool,
    ) -> Option<Instant> {
        let log = self.log.lock().unwrap();
        log.as_ref()?
            .iter()
            .find(|r| r.at >= after && matches(&r.request))
            .map(|r| r.at)
    }

    /// The current token generation. A simulator stamps each token it issues with it and
    /// refuses tokens of an older generation, so bumping it revokes every session at once
    /// (an expired/revoked token, or a vendor restart that lost its sessions).
    pub fn token_epoch(&self) -> u64 {
        self.token_epoch.load(Ordering::SeqCst)
    }

    pub fn revoke_tokens(&self) {
        self.token_epoch.fetch_add(1, Ordering::SeqCst);
    }

    fn count_request(&self, operation: String) {
        *self.counters.lock().unwrap().entry(operation).or_default() += 1;
    }

    /// Token bucket of the vendor rate limit; false means "answer 429".
    fn admit(&self, qps: f64, burst: Option<f64>) -> bool {
        let cap = burst.unwrap_or(qps).max(1.0);
        let now = Instant::now();
        let mut guard = self.limiter.lock().unwrap();
        let (tokens, last) = guard.get_or_insert((cap, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * qps).min(cap);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

async fn fault_layer(State(ctl): State<Arc<SimControl>>, req: Request, next: Next) -> Response {
    let template = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| req.uri().path().to_string());
    let operation = format!("{} {}", req.method(), template);
    ctl.count_request(operation.clone());
    let logged = ctl.log.lock().unwrap().as_mut().map(|log| {
        let agent = req
            .headers()
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let at = Instant::now();
        log.push(LoggedRequest {
            at,
            wall: SystemTime::now(),
            request: format!("{} {}", req.method(), req.uri().path()),
            operation: operation.clone(),
            agent: agent.to_string(),
            done: None,
            faults: Vec::new(),
        });
        Logged {
            ctl: ctl.clone(),
            index: log.len() - 1,
            at,
        }
    });
    let fault = |kind| {
        if let Some(l) = &logged {
            l.fault(kind);
        }
    };
    let f = ctl.faults();
    let read = matches!(
        *req.method(),
        axum::http::Method::GET | axum::http::Method::HEAD
    );
    if f.only_operation
        .as_ref()
        .is_some_and(|only| *only != operation)
        || (f.writes_only && read)
    {
        return next.run(req).await;
    }
    if f.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(f.latency_ms)).await;
    }
    if let Some(qps) = f.rate_limit_qps
        && !ctl.admit(qps, f.rate_limit_burst)
    {
        fault("limit");
        return throttled(&ctl, 1);
    }
    let (hang, fail, throttle, drop) = {
        let mut rng = rand::rng();
        (
            rng.random_bool(f.hang_rate.clamp(0.0, 1.0)),
            rng.random_bool(f.error_rate.clamp(0.0, 1.0)),
            rng.random_bool(f.throttle_rate.clamp(0.0, 1.0)),
            rng.random_bool(f.drop_rate.clamp(0.0, 1.0)),
        )
    };
    if hang {
        fault("hang");
        tokio::time::sleep(Duration::from_millis(f.hang_ms)).await;
    }
    if throttle {
        fault("throttle");
        return throttled(&ctl, f.retry_after_secs);
    }
    if fail {
        fault("error");
        let status =
            StatusCode::from_u16(f.error_status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let status = if status.is_server_error() {
            status
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        return (ctl.error_body)(status, "injected fault");
    }
    // Counted among the writes the vendor carries out, so that every `late_every`-th is late.
    let late = !read
        && f.late_every > 0
        && ctl.writes_seen.fetch_add(1, Ordering::SeqCst) % f.late_every == f.late_every - 1;
    let response = next.run(req).await;
    if f.respond_after_ms > 0 {
        tokio::time::sleep(Duration::from_millis(f.respond_after_ms)).await;
    }
    if late {
        fault("late");
        tokio::time::sleep(Duration::from_millis(f.late_ms)).await;
    }
    if drop {
        fault("drop");
        // Headers go out, then the body stream fails: the client sees the connection cut.
        let (parts, _) = response.into_parts();
        let broken = futures::stream::once(async {
            Err::<axum::body::Bytes, std::io::Error>(std::io::Error::other(
                "injected connection drop",
            ))
        });
        return Response::from_parts(parts, Body::from_stream(broken));
    }
    response
}

fn throttled(ctl: &SimControl, retry_after_secs: u64) -> Response {
    ctl.throttled.fetch_add(1, Ordering::SeqCst);
    let mut r = (ctl.error_body)(StatusCode::TOO_MANY_REQUESTS, "too many requests");
    r.headers_mut().insert(
        "retry-after",
        retry_after_secs.max(1).to_string().parse().unwrap(),
    );
    r
}

fn control_routes(ctl: Arc<SimControl>) -> Router {
    Router::new()
        .route(
            "/_sim/counters",
            get(|State(c): State<Arc<SimControl>>| async move { Json(c.counters()) }),
        )
        .route(
            "/_sim/faults",
            get(|State(c): State<Arc<SimControl>>| async move { Json(c.faults()) }).put(
                |State(c): State<Arc<SimControl>>, Json(f): Json<Faults>| async move {
                    c.set_faults(f);
                    StatusCode::NO_CONTENT
                },
            ),
        )
        .route(
            "/_sim/reset-counters",
            post(|State(c): State<Arc<SimControl>>| async move {
                c.reset_counters();
                StatusCode::NO_CONTENT
            }),
        )
        .route(
            "/_sim/requests",
            get(|State(c): State<Arc<SimControl>>| async move { Json(c.requests()) }),
        )
        .route(
            "/_sim/issued-secrets",
            get(|State(c): State<Arc<SimControl>>| async move { Json(c.issued_secrets()) }),
        )
        .route(
            "/_sim/revoke-tokens",
            post(|State(c): State<Arc<SimControl>>| async move {
                c.revoke_tokens();
                StatusCode::NO_CONTENT
            }),
        )
        .with_state(ctl)
}

/// A running simulator. Dropping it stops the server.
pub struct SimServer {
    pub addr: SocketAddr,
    pub control: Arc<SimControl>,
    scheme: &'static str,
    shutdown: Option<oneshot::Sender<()>>,
}

impl SimServer {
    /// Base URL, for example `http://127.0.0.1:41234` (`https://` when serving TLS).
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// Serve `vendor` (the simulator's routes, state already attached) on a loopback address
    /// (`127.0.0.1:0` picks a free port), with the fault layer around it and the `/_sim` control
    /// routes beside it. `extra` adds vendor-specific control routes (also never faulted).
    pub async fn start(
        vendor: Router,
        extra: Router,
        control: Arc<SimControl>,
        addr: SocketAddr,
    ) -> std::io::Result<SimServer> {
        Self::start_with(vendor, extra, control, addr, None).await
    }

    /// As [`SimServer::start`], over HTTPS with `identity` (see `LoopbackPki`).
    pub async fn start_tls(
        vendor: Router,
        extra: Router,
        control: Arc<SimControl>,
        addr: SocketAddr,
        identity: TlsIdentity,
    ) -> std::io::Result<SimServer> {
        Self::start_with(vendor, extra, control, addr, Some(identity)).await
    }

    /// Plain HTTP without `tls`, HTTPS with it; the control routes are served the same way.
    pub async fn start_with(
        vendor: Router,
        extra: Router,
        control: Arc<SimControl>,
        addr: SocketAddr,
        tls: Option<TlsIdentity>,
    ) -> std::io::Result<SimServer> {
        let app = vendor
            .route_layer(middleware::from_fn_with_state(control.clone(), fault_layer))
            .merge(control_routes(control.clone()))
            .merge(extra);
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        let stopped = async {
            let _ = rx.await;
        };
        let scheme = match tls {
            None => {
                tokio::spawn(serve(listener, app, stopped));
                "http"
            }
            Some(identity) => {
                tokio::spawn(serve(TlsListener::new(listener, &identity)?, app, stopped));
                "https"
            }
        };
        Ok(SimServer {
            addr,
            control,
            scheme,
            shutdown: Some(tx),
        })
    }
}

async fn serve<L>(listener: L, app: Router, stopped: impl Future<Output = ()> + Send + 'static)
where
    L: Listener,
    L::Addr: std::fmt::Debug,
{
    let _ = axum::serve(listener, app)
        .with_graceful_shutdown(stopped)
        .await;
}

impl Drop for SimServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
