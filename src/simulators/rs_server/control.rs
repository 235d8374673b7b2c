//! `/_sim/rs-server/...`: what a cloud administrator (or a test in another process) does around
//! RS server: add users, projects, machines and volumes, delete machines behind its back, mint
//! tokens, expire the licence. Never counted, never faulted.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::state::SimState;

#[derive(Deserialize)]
struct NewUser {
    name: String,
    password: String,
}

#[derive(Deserialize)]
struct Named {
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewServer {
    project_id: String,
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewVolume {
    project_id: String,
    user_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewToken {
    user_id: String,
    #[serde(default)]
    project_id: Option<String>,
}

#[derive(Deserialize)]
struct Status {
    status: String,
}

#[derive(Deserialize)]
struct License {
    expired: bool,
}

#[derive(Deserialize)]
struct Lifetime {
    seconds: u64,
}

fn done(found: bool) -> Response {
    if found {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::NOT_FOUND
    }
    .into_response()
}

type S = State<Arc<SimState>>;

pub fn routes(state: Arc<SimState>) -> Router {
    Router::new()
        .route("/_sim/rs-server/state", get(|State(s): S| async move { Json(s.dump()) }))
        .route(
            "/_sim/rs-server/users",
            post(|State(s): S, Json(u): Json<NewUser>| async move { Json(json!({ "id": s.add_user(&u.name, &u.password) })) }),
        )
        .route(
            "/_sim/rs-server/projects",
            post(|State(s): S, Json(p): Json<Named>| async move { Json(json!({ "id": s.add_project(&p.name) })) }),
        )
        .route(
            "/_sim/rs-server/servers",
            post(|State(s): S, Json(n): Json<NewServer>| async move {
                Json(json!({ "id": s.add_server(&n.project_id, &n.name) }))
            }),
        )
        .route(
            "/_sim/rs-server/servers/{id}",
            delete(|State(s): S, Path(id): Path<String>| async move { done(s.remove_server(&id)) }),
        )
        .route(
            "/_sim/rs-server/servers/{id}/status",
            put(|State(s): S, Path(id): Path<String>, Json(st): Json<Status>| async move {
                done(s.set_server_status(&id, &st.status))
            }),
        )
        .route(
            "/_sim/rs-server/volumes",
            post(|State(s): S, Json(v): Json<NewVolume>| async move {
                let (assignment, volume) = s.add_user_volume(&v.project_id, &v.user_id);
                Json(json!({ "assignmentId": assignment, "volumeId": volume }))
            }),
        )
        .route(
            "/_sim/rs-server/volumes/{volume_id}",
            delete(|State(s): S, Path(id): Path<String>| async move { done(s.remove_user_volume(&id)) }),
        )
        .route(
            "/_sim/rs-server/tokens",
            post(|State(s): S, Json(t): Json<NewToken>| async move {
                Json(json!({ "token": s.issue_token(&t.user_id, t.project_id.as_deref()) }))
            }),
        )
        .route(
            "/_sim/rs-server/license",
            put(|State(s): S, Json(l): Json<License>| async move {
                s.set_license_expired(l.expired);
                StatusCode::NO_CONTENT
            }),
        )
        .route(
            "/_sim/rs-server/token-lifetime",
            put(|State(s): S, Json(l): Json<Lifetime>| async move {
                s.set_token_lifetime(Duration::from_secs(l.seconds));
                StatusCode::NO_CONTENT
            }),
        )
        .with_state(state)
}
