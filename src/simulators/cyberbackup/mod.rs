//! A stateful simulator of Cyber Backup 18.5's public API, written from
//! seeds/cyberbackup-18.5-api.txt: `/idp/token` and `/api/v1/{resources, policies,
//! policy_applications, credentials, archives, backups, tasks}` with the document's envelopes, status
//! codes, error bodies and quirks, the applications' deployment/run state machine on a clock
//! tests can move, and vendor control routes under `/_sim/cyberbackup/`.

pub mod applications;
pub mod auth;
pub mod catalog;
pub mod control;
pub mod fields;
pub mod patch;
pub mod plan_settings;
pub mod policies;
pub mod query;
pub mod runs;
pub mod state;
pub mod views;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use serde_json::{Value, json};

use super::harness::{SimControl, SimServer};
use super::tls_listener::TlsIdentity;
pub use patch::PatchSemantics;
pub use state::{SimConfig, SimState};

/// The "All" group (§2.10.1.5 `parent_group_ids`).
pub const ALL_GROUP_ID: &str = "301d1574-849e-4714-859f-3a2ec12a218b";
/// The dynamic group of §2.10.1.5.
pub const DYNAMIC_GROUP_ID: &str = "054b939a-3627-41c9-a351-151be3de0980";
/// The machine of §2.10.1.8.
pub const DESKTOP_ID: &str = "23effcf6-2798-4631-9a52-5785bf3af657";

/// What every handler gets.
#[derive(Clone)]
pub struct AppState {
    pub sim: Arc<SimState>,
    pub control: Arc<SimControl>,
}

/// A running simulator: the server (with the harness's faults and counters) and its state.
pub struct CyberBackupSim {
    pub server: SimServer,
    pub state: Arc<SimState>,
}

impl CyberBackupSim {
    /// Start on `addr` (`127.0.0.1:0` for a free port) with the configured administrator
    /// accounts and the resources of the document's examples: the "All" group, a dynamic group
    /// and two machines (ids as the document prints them where it prints one).
    pub async fn start(addr: SocketAddr, config: SimConfig) -> std::io::Result<CyberBackupSim> {
        Self::start_with(addr, config, None).await
    }

    /// As [`CyberBackupSim::start`], served over HTTPS with `identity` (see `LoopbackPki`).
    pub async fn start_tls(
        addr: SocketAddr,
        config: SimConfig,
        identity: TlsIdentity,
    ) -> std::io::Result<CyberBackupSim> {
        Self::start_with(addr, config, Some(identity)).await
    }

    async fn start_with(
        addr: SocketAddr,
        config: SimConfig,
        tls: Option<TlsIdentity>,
    ) -> std::io::Result<CyberBackupSim> {
        let sim = Arc::new(SimState::new(config));
        sim.add_resource_with_id(ALL_GROUP_ID, "All", "resource.group.all");
        sim.add_resource_with_id(
            DYNAMIC_GROUP_ID,
            "Dynamic group",
            "resource.group.computers",
        );
        sim.add_resource_with_id(DESKTOP_ID, "DESKTOP-JRPTA4A", "resource.machine");
        sim.add_resource("win10x64simple", "resource.machine");
        let control = SimControl::new(vendor_error);
        let app = AppState {
            sim: sim.clone(),
            control: control.clone(),
        };
        let server = SimServer::start_with(
            vendor_routes(app.clone()),
            control::routes(app),
            control,
            addr,
            tls,
        )
        .await?;
        Ok(CyberBackupSim { server, state: sim })
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    pub fn control(&self) -> &Arc<SimControl> {
        &self.server.control
    }
}

/// The vendor's routes: `/idp/token` open, everything under `/api/v1` behind the bearer token.
pub fn vendor_routes(app: AppState) -> Router {
    let api = Router::new()
        .route("/api/v1/resources", get(catalog::list_resources))
        .route("/api/v1/resources/{id}", get(catalog::get_resource))
        .route(
            "/api/v1/policies",
            get(policies::list).post(policies::create),
        )
        .route(
            "/api/v1/policies/{id}",
            get(policies::get_one)
                .patch(policies::edit)
                .delete(policies::remove),
        )
        .route(
            "/api/v1/policy_applications",
            get(applications::list)
                .post(applications::apply)
                .delete(applications::revoke),
        )
        .route(
            "/api/v1/policy_applications/enabled",
            patch(applications::set_enabled),
        )
        .route("/api/v1/policy_applications:run", post(applications::run))
        .route("/api/v1/credentials", post(catalog::create_credentials))
        .route(
            "/api/v1/credentials/{id}",
            get(catalog::get_credentials).delete(catalog::delete_credentials),
        )
        .route("/api/v1/archives", get(catalog::list_archives))
        .route("/api/v1/backups", get(catalog::list_backups))
        .route("/api/v1/tasks", get(runs::list_tasks))
        .route_layer(axum::middleware::from_fn_with_state(
            app.clone(),
            auth::require_bearer,
        ));
    Router::new()
        .route("/idp/token", post(auth::token))
        .merge(api)
        .with_state(app)
}

/// The error body of §2.7.1: `{"error": {"code", "message", "context", "domain"}}`, with the
/// domain the document's table gives the status.
pub fn error(status: StatusCode, message: &str, context: Value) -> Response {
    let domain = match status.as_u16() {
        401 | 403 => "Access",
        _ => "General",
    };
    let body = json!({"error": {"code": status.as_u16(), "message": message, "context": context, "domain": domain}});
    ok_json(status, body)
}

/// The harness's injected faults answer in the vendor's shape.
pub fn vendor_error(status: StatusCode, message: &str) -> Response {
    error(status, message, json!({}))
}

/// A refused request, answered with the document's error body.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub context: Value,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>, context: Value) -> Self {
        ApiError {
            status,
            message: message.into(),
            context,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        error(self.status, &self.message, self.context)
    }
}

/// What a vendor handler answers.
pub type Answer = Result<Response, ApiError>;

pub fn not_found(what: &str, id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("{what} not found"),
        json!({"id": id}),
    )
}

pub fn bad_request(message: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, message, json!({}))
}

/// A JSON body with the vendor's Content-Type.
pub fn ok_json(status: StatusCode, body: Value) -> Response {
    (
        status,
        [("content-type", "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

/// An empty success (`204 No Content`).
pub fn no_content() -> Answer {
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Read a JSON request body: 415 without `Content-Type: application/json` (§2.7.2), 400 when
/// it does not parse.
pub fn json_body(headers: &HeaderMap, body: &[u8]) -> Result<Value, ApiError> {
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !ct.starts_with("application/json") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json",
            json!({}),
        ));
    }
    serde_json::from_slice(body).map_err(|e| bad_request(&format!("malformed JSON: {e}")))
}

/// Query parameters of a list call, with the paging and ordering ones separated from filters.
pub struct ListParams {
    pub pairs: Vec<(String, String)>,
}

impl ListParams {
    const RESERVED: [&'static str; 6] = [
        "limit",
        "after",
        "before",
        "order",
        "include_settings",
        "count",
    ];

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Filters, with attribute names mapped through `aliases` (`policy_id` → `policy.id`).
    pub fn filters(&self, aliases: &[(&str, &str)]) -> Vec<(String, String)> {
        self.pairs
            .iter()
            .filter(|(k, _)| !Self::RESERVED.contains(&k.as_str()))
            .map(|(k, v)| {
                let path = aliases
                    .iter()
                    .find(|(a, _)| a == k)
                    .map(|(_, p)| p.to_string())
                    .unwrap_or_else(|| k.clone());
                (path, v.clone())
            })
            .collect()
    }

    /// Filter, order and page `items`: the page, its `cursors`, and how many items matched.
    pub fn apply(
        &self,
        items: Vec<Value>,
        aliases: &[(&str, &str)],
        default_limit: usize,
    ) -> Result<(Vec<Value>, Value, usize), ApiError> {
        let mut items =
            query::filter(items, &self.filters(aliases)).map_err(|m| bad_request(&m))?;
        if let Some(spec) = self.get("order") {
            query::order(&mut items, spec).map_err(|m| bad_request(&m))?;
        }
        let limit = match self.get("limit") {
            Some(l) => l
                .parse::<usize>()
                .map_err(|_| bad_request("limit must be a positive number"))?,
            None => default_limit,
        };
        let total = items.len();
        let (page, cursors) = query::page(items, limit, self.get("after"), self.get("before"))
            .map_err(|m| bad_request(&m))?;
        Ok((page, cursors, total))
    }
}
