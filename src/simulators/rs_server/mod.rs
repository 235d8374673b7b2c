//! Simulator of RS server (TRS), written from seeds/rs-server-api.txt: the module info, TRS
//! projects, TRS machines with their user and group assignments, users' floating IPs, volume
//! assignments and Celery tasks, behind `X-Auth-Token`, with the document's shapes and its
//! error model (HTTP 400 and a numeric code for every failure). A minimal Keystone v3 token API
//! (`POST`/`DELETE /v3/auth/tokens`) is served on the same address, since the document sends
//! users elsewhere for tokens. The broker API (port 9365) and sessions are not simulated:
//! rampart does not use them.

mod auth;
mod control;
mod errors;
mod module;
mod projects;
mod servers;
mod state;
mod users;
mod volumes;
mod wire;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::middleware;
use axum::routing::{get, post};

use crate::simulators::harness::{SimControl, SimServer};
use crate::simulators::tls_listener::TlsIdentity;
use servers::Members;
pub use state::{Assignment, Project, Server, SimState, User, World};

type S = State<Arc<SimState>>;

/// A running RS server simulator. Dropping it stops the server.
pub struct RsServerSim {
    pub server: SimServer,
    pub state: Arc<SimState>,
}

impl RsServerSim {
    /// Serve on `addr` (`127.0.0.1:0` picks a free port).
    pub async fn start(addr: SocketAddr) -> std::io::Result<Self> {
        Self::start_with(addr, None).await
    }

    /// Serve over HTTPS with `identity` (see `LoopbackPki`).
    pub async fn start_tls(addr: SocketAddr, identity: TlsIdentity) -> std::io::Result<Self> {
        Self::start_with(addr, Some(identity)).await
    }

    async fn start_with(addr: SocketAddr, tls: Option<TlsIdentity>) -> std::io::Result<Self> {
        let control = SimControl::new(errors::fault_body);
        let state = SimState::new(control.clone());
        let server = SimServer::start_with(
            router(state.clone()),
            control::routes(state.clone()),
            control,
            addr,
            tls,
        )
        .await?;
        Ok(RsServerSim { server, state })
    }

    /// Serve on a free loopback port.
    pub async fn start_local() -> std::io::Result<Self> {
        Self::start(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Base URL of both the RS server API and the Keystone token API.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Faults, counters and token revocation.
    pub fn control(&self) -> &Arc<SimControl> {
        &self.server.control
    }
}

/// The vendor routes: RS server behind the token check, Keystone beside it.
pub fn router(state: Arc<SimState>) -> Router {
    let members = |which: Members| {
        (
            post(move |State(s): S, Path(id): Path<String>, body: Bytes| {
                servers::add_members(which, s, id, body)
            })
            .get(move |State(s): S, Path(id): Path<String>| servers::list_members(which, s, id)),
            axum::routing::delete(move |State(s): S, Path((id, m)): Path<(String, String)>| {
                servers::remove_member(which, s, id, m)
            }),
            post(move |State(s): S, Path(m): Path<String>, body: Bytes| {
                servers::add_to_servers(which, s, m, body)
            }),
        )
    };
    let (user_members, user_remove, user_to_servers) = members(Members::Users);
    let (group_members, group_remove, group_to_servers) = members(Members::Groups);
    let rs = Router::new()
        .route("/v1/info", get(module::info))
        .route("/v1/projects/", post(projects::create).get(projects::list))
        .route("/v1/projects/actions/get-settings", get(projects::settings))
        .route(
            "/v1/projects/{project_id}",
            get(projects::get).put(projects::update),
        )
        .route(
            "/v1/projects/{project_id}/statistics",
            get(projects::statistics),
        )
        .route(
            "/v1/projects/{project_id}/actions/auto-allocate-users",
            post(projects::auto_allocate),
        )
        .route("/v1/servers/", post(servers::create).get(servers::list))
        .route(
            "/v1/servers/{server_id}",
            get(servers::get).put(servers::update),
        )
        .route("/v1/servers/{server_id}/users/", user_members)
        .route("/v1/servers/{server_id}/users/{user_id}", user_remove)
        .route("/v1/servers/{server_id}/groups/", group_members)
        .route("/v1/servers/{server_id}/groups/{group_id}", group_remove)
        .route("/v1/users/", get(users::list))
        .route("/v1/users/{user_id}", get(users::get))
        .route(
            "/v1/users/{user_id}/servers/",
            user_to_servers.get(servers::of_user),
        )
        .route(
            "/v1/users/{user_id}/floating-ip",
            post(users::set_floating_ip)
                .put(users::set_floating_ip)
                .delete(users::remove_floating_ip),
        )
        .route("/v1/groups/{group_id}/servers/", group_to_servers)
        .route(
            "/v1/volume-assignments/",
            get(volumes::list).post(volumes::create),
        )
        .route(
            "/v1/volume-assignments/{assignment_id}",
            get(volumes::get).delete(volumes::delete),
        )
        .route("/v1/tasks/", get(module::tasks))
        .route("/v1/tasks", get(module::tasks))
        .route("/v1/tasks/{task_id}", get(module::task))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ));
    let keystone = Router::new().route("/v3/auth/tokens", post(auth::issue).delete(auth::revoke));
    rs.merge(keystone).with_state(state)
}
