//! A stateful simulator of the Ideco NGFW firewall API, written from
//! seeds/ideco-traffic-rules-api.txt: the five ordered sections, insertion with
//! `anchor_item_id`/`insert_after`, move, replace, delete, firewall status/state/settings,
//! counters, and the session login (GUESS, configurable path). People who edit the same tables
//! are played by tests through [`IdecoSim`] or the `/_sim/ideco/...` routes. Requests are read
//! with the simulator's own reading of the document (`section`, `device`), never with rampart's
//! client code; where the document is silent the choice is marked `GUESS:` with its line.

pub mod auth;
pub mod control;
pub mod device;
pub mod firewall;
pub mod section;

use std::net::SocketAddr;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, patch, post, put};
use axum::{Json, Router, middleware};
use serde_json::json;

use super::harness::{SimControl, SimServer};
use super::tls_listener::TlsIdentity;
pub use auth::ExpiredAnswer;
use auth::Sessions;
use device::Device;
pub use section::{InsertAfterFalse, Section};

/// The administrator the simulator accepts, and where its login handler lives.
#[derive(Clone, Debug)]
pub struct IdecoSimOptions {
    pub login: String,
    pub password: String,
    pub login_path: String,
    /// Where `DELETE` logs out; the login path when `None`.
    pub logout_path: Option<String>,
}

impl Default for IdecoSimOptions {
    fn default() -> Self {
        IdecoSimOptions {
            login: "admin".to_string(),
            password: "ideco-sim-password".to_string(),
            login_path: "/web/auth/login".to_string(),
            logout_path: None,
        }
    }
}

/// State shared by the handlers.
pub(crate) struct Shared {
    device: Mutex<Device>,
    sessions: Mutex<Sessions>,
    control: Arc<SimControl>,
    options: IdecoSimOptions,
    expired_answer: Mutex<ExpiredAnswer>,
    write_hold: Mutex<Duration>,
    writes_in_flight: AtomicUsize,
    max_writes_in_flight: AtomicUsize,
}

/// The simulator's error body. GUESS: the document shows none; a JSON object with `message`.
pub fn error_body(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"message": message}))).into_response()
}

/// A handle on a running simulator: its state, as people and tests see it.
#[derive(Clone)]
pub struct IdecoSim {
    shared: Arc<Shared>,
}

/// Start a simulator on `addr` (`127.0.0.1:0` for any free port).
pub async fn start(
    addr: SocketAddr,
    options: IdecoSimOptions,
) -> std::io::Result<(SimServer, IdecoSim)> {
    start_with(addr, options, None).await
}

/// Start a simulator served over HTTPS with `identity` (see `LoopbackPki`).
pub async fn start_tls(
    addr: SocketAddr,
    options: IdecoSimOptions,
    identity: TlsIdentity,
) -> std::io::Result<(SimServer, IdecoSim)> {
    start_with(addr, options, Some(identity)).await
}

async fn start_with(
    addr: SocketAddr,
    options: IdecoSimOptions,
    tls: Option<TlsIdentity>,
) -> std::io::Result<(SimServer, IdecoSim)> {
    let control = SimControl::new(error_body);
    let shared = Arc::new(Shared {
        device: Mutex::new(Device::default()),
        sessions: Mutex::new(Sessions::default()),
        control: control.clone(),
        options,
        expired_answer: Mutex::new(ExpiredAnswer::default()),
        write_hold: Mutex::new(Duration::ZERO),
        writes_in_flight: AtomicUsize::new(0),
        max_writes_in_flight: AtomicUsize::new(0),
    });
    let server = SimServer::start_with(
        vendor_routes(shared.clone()),
        control::routes(shared.clone()),
        control,
        addr,
        tls,
    )
    .await?;
    Ok((server, IdecoSim { shared }))
}

fn vendor_routes(shared: Arc<Shared>) -> Router {
    use firewall::*;
    let firewall = Router::new()
        .route("/firewall/status", get(status))
        .route("/firewall/state", get(state))
        .route("/firewall/settings", get(get_settings).put(put_settings))
        .route("/firewall/watch", get(get_watch).put(put_watch))
        .route("/firewall/counters/{section}", get(counters))
        .route("/firewall/rules/{section}", get(list).post(create))
        .route("/firewall/rules/{section}/move", patch(move_rule))
        .route("/firewall/rules/{section}/{id}", put(update).delete(delete))
        .route_layer(middleware::from_fn_with_state(
            shared.clone(),
            auth::require_session,
        ));
    let login_path = shared.options.login_path.clone();
    let logout_path = shared
        .options
        .logout_path
        .clone()
        .unwrap_or_else(|| login_path.clone());
    let session_routes = if logout_path == login_path {
        Router::new().route(&login_path, post(auth::login).delete(auth::logout))
    } else {
        Router::new()
            .route(&login_path, post(auth::login))
            .route(&logout_path, axum::routing::delete(auth::logout))
    };
    firewall
        .merge(session_routes)
        .route("/login", any(auth::login_page))
        .with_state(shared)
}
