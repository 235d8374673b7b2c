//! `/v1/servers/...`, `/v1/users/{id}/servers/` and `/v1/groups/{id}/servers/`: TRS machines and
//! the users and groups assigned to them.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::Caller;
use super::errors::{INVALID_BODY, RsError, invalid_body, not_trs, parse_body, rs_error, unknown};
use super::state::{Server, SimState, World, reservation_id};
use super::wire::{self, flag};

/// The longest server name the document allows.
const MAX_NAME: usize = 245;

#[derive(Deserialize)]
struct CreateBody {
    server: NewServer,
}

#[derive(Deserialize)]
struct NewServer {
    name: String,
    #[serde(default)]
    count: Option<u32>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    users: Vec<String>,
    #[serde(default)]
    groups: Vec<String>,
}

/// `POST /v1/servers/`. The body names no project: the machines go to the token's project.
// GUESS: several machines are named `<name>-1`, `<name>-2`, ... as Nova names a multi-create.
pub async fn create(
    State(state): State<Arc<SimState>>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Response {
    let CreateBody { server } = match parse_body(&body) {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    let count = server.count.unwrap_or(1);
    if server.name.is_empty() || server.name.chars().count() > MAX_NAME || count == 0 {
        return rs_error(INVALID_BODY, json!({ "name": server.name, "count": count }));
    }
    let project = caller.project_id.unwrap_or_default();
    state.with(|w| {
        if w.trs_project(&project).is_none() {
            return not_trs(&project);
        }
        let reservation = reservation_id();
        let ids: Vec<Value> = (1..=count)
            .map(|i| {
                let name = if count == 1 {
                    server.name.clone()
                } else {
                    format!("{}-{i}", server.name)
                };
                let id = w.insert_server(&project, &name, &reservation);
                let s = w.servers.get_mut(&id).expect("just inserted");
                s.description = server.description.clone();
                s.users = server.users.clone();
                s.groups = server.groups.clone();
                json!({ "id": id })
            })
            .collect();
        Json(json!({ "servers": ids, "reservation_id": reservation })).into_response()
    })
}

#[derive(Deserialize)]
struct UpdateBody {
    server: Assignees,
}

#[derive(Deserialize)]
struct Assignees {
    #[serde(default)]
    users: Option<Vec<String>>,
    #[serde(default)]
    groups: Option<Vec<String>>,
}

/// `PUT /v1/servers/{server_id}`: sets users and groups.
// GUESS: the lists given replace the current ones (adding has its own POST routes).
pub async fn update(
    State(state): State<Arc<SimState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let UpdateBody { server } = match parse_body(&body) {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    state.with(|w| {
        let Some(s) = w.servers.get_mut(&id) else {
            return unknown("instance_id", &id);
        };
        if let Some(users) = server.users {
            s.users = users;
        }
        if let Some(groups) = server.groups {
            s.groups = groups;
        }
        Json(json!({ "server": wire::server_summary(s, false) })).into_response()
    })
}

fn listed(s: &Server, q: &HashMap<String, String>) -> bool {
    let assigned = !(s.users.is_empty() && s.groups.is_empty());
    q.get("project_id").is_none_or(|p| *p == s.project_id)
        && flag(q.get("assigned")).is_none_or(|a| a == assigned)
        && q.get("user").is_none_or(|u| s.users.contains(u))
        && q.get("group").is_none_or(|g| s.groups.contains(g))
}

/// `GET /v1/servers/`, filtered by `project_id`, `assigned`, `user`, `group` (the table says
/// `In: path`, L465-469; read from the query, as the paths have no place for them).
// GUESS (L456-504): the whole list in one answer, no pagination, and no "modifiers" (L471 names
// them but the document never defines them).
pub async fn list(
    State(state): State<Arc<SimState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let os = flag(q.get("with_os_object")).unwrap_or(false);
    let servers: Vec<Value> = state.with(|w| {
        w.servers
            .values()
            .filter(|s| listed(s, &q))
            .map(|s| wire::server_summary(s, os))
            .collect()
    });
    Json(json!({ "servers": servers })).into_response()
}

/// `GET /v1/servers/{server_id}`.
pub async fn get(
    State(state): State<Arc<SimState>>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let os = flag(q.get("with_os_object")).unwrap_or(false);
    state.with(|w| match w.servers.get(&id) {
        Some(s) => Json(json!({ "server": wire::server_summary(s, os) })).into_response(),
        None => unknown("instance_id", &id),
    })
}

/// Which assignment list of a server a route works on.
#[derive(Clone, Copy)]
pub enum Members {
    Users,
    Groups,
}

impl Members {
    fn key(self) -> &'static str {
        match self {
            Members::Users => "users",
            Members::Groups => "groups",
        }
    }

    fn of(self, s: &mut Server) -> &mut Vec<String> {
        match self {
            Members::Users => &mut s.users,
            Members::Groups => &mut s.groups,
        }
    }
}

fn add_member(w: &mut World, server: &str, which: Members, member: &str) -> bool {
    let Some(s) = w.servers.get_mut(server) else {
        return false;
    };
    let list = which.of(s);
    if !list.iter().any(|m| m == member) {
        list.push(member.to_string());
    }
    true
}

/// The single array a body of `{"<key>": [...]}` carries.
fn id_list(body: &[u8], key: &str) -> Result<Vec<String>, RsError> {
    let v: HashMap<String, Vec<String>> = parse_body(body)?;
    v.get(key)
        .cloned()
        .ok_or_else(|| invalid_body(json!({ "missing": key })))
}

/// `POST /v1/servers/{server_id}/users/` and `.../groups/`: adds to the server's list.
pub async fn add_members(
    which: Members,
    state: Arc<SimState>,
    id: String,
    body: Bytes,
) -> Response {
    let members = match id_list(&body, which.key()) {
        Ok(m) => m,
        Err(r) => return r.into_response(),
    };
    state.with(
        |w| match members.iter().all(|m| add_member(w, &id, which, m)) {
            true => StatusCode::NO_CONTENT.into_response(),
            false => unknown("instance_id", &id),
        },
    )
}

/// `POST /v1/users/{user_id}/servers/` and `/v1/groups/{group_id}/servers/`.
pub async fn add_to_servers(
    which: Members,
    state: Arc<SimState>,
    member: String,
    body: Bytes,
) -> Response {
    let servers = match id_list(&body, "servers") {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    state.with(
        |w| match servers.iter().find(|s| !w.servers.contains_key(*s)) {
            Some(missing) => unknown("instance_id", missing),
            None => {
                for s in &servers {
                    add_member(w, s, which, &member);
                }
                StatusCode::NO_CONTENT.into_response()
            }
        },
    )
}

/// `GET /v1/servers/{server_id}/users/` and `.../groups/`: `{"users": [{"id": ...}]}`.
pub async fn list_members(which: Members, state: Arc<SimState>, id: String) -> Response {
    state.with(|w| match w.servers.get_mut(&id) {
        Some(s) => {
            let members: Vec<Value> = which.of(s).iter().map(|m| json!({ "id": m })).collect();
            Json(json!({ which.key(): members })).into_response()
        }
        None => unknown("instance_id", &id),
    })
}

/// `DELETE /v1/servers/{server_id}/users/{user_id}` and `.../groups/{group_id}`.
pub async fn remove_member(
    which: Members,
    state: Arc<SimState>,
    id: String,
    member: String,
) -> Response {
    state.with(|w| match w.servers.get_mut(&id) {
        Some(s) => {
            which.of(s).retain(|m| *m != member);
            StatusCode::NO_CONTENT.into_response()
        }
        None => unknown("instance_id", &id),
    })
}

/// `GET /v1/users/{user_id}/servers/`: `{"servers": [{instance_id, project_id, project_name}]}`.
pub async fn of_user(State(state): State<Arc<SimState>>, Path(user): Path<String>) -> Response {
    let servers: Vec<Value> = state.with(|w| {
        w.servers
            .values()
            .filter(|s| s.users.contains(&user))
            .map(|s| {
                let name = w.projects.get(&s.project_id).map(|p| p.name.clone());
                json!({ "instance_id": s.id, "project_id": s.project_id, "project_name": name })
            })
            .collect()
    });
    Json(json!({ "servers": servers })).into_response()
}
