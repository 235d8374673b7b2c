//! `/_sim/cyberbackup/*`: what a human or the clock would do to the installation, for tests in
//! other processes (in-process tests call the same `SimState` methods). Never counted, never
//! faulted. `POST /_sim/cyberbackup/advance {"seconds"}` moves the clock (plans run on their
//! schedule as it passes their starts); `POST /_sim/cyberbackup/policies/{id}/fail {"runs",
//! "message"}` makes the plan's next runs fail with the message; `POST .../policies/{id}/run`
//! runs it now.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use axum::{Json, Router};
use jiff::SignedDuration;
use serde::Deserialize;
use serde_json::{Value, json};

use super::patch::merge_patch;
use super::state::{SimConfig, SimRun, SimState, stamp};
use super::{AppState, not_found};

/// A human's edit of a plan in the console.
#[derive(Deserialize, Default, Debug)]
#[serde(default)]
pub struct PlanEdit {
    pub name: Option<String>,
    pub enabled: Option<bool>,
    /// Merged into the settings (RFC 7396: `null` removes a key), unchecked: the console may
    /// leave a plan in any state.
    pub settings: Option<Value>,
}

/// A human's edit of a credentials record.
#[derive(Deserialize, Default, Debug)]
#[serde(default)]
pub struct CredentialsEdit {
    pub scope_type: Option<String>,
    pub subtype: Option<String>,
}

impl SimState {
    /// Edit a plan as a human would; false when it does not exist.
    pub fn edit_plan(&self, id: &str, edit: &PlanEdit) -> bool {
        let now = stamp(self.now());
        let mut w = self.world.lock().unwrap();
        let Some(p) = w.policies.get_mut(&id.to_ascii_lowercase()) else {
            return false;
        };
        if let Some(n) = &edit.name {
            p.name = n.clone();
        }
        if let Some(e) = edit.enabled {
            p.enabled = e;
        }
        if let Some(s) = &edit.settings {
            merge_patch(&mut p.settings, s);
        }
        p.updated_at = now;
        true
    }

    /// Delete a plan and its applications, as the console does.
    pub fn delete_plan(&self, id: &str) -> bool {
        let id = id.to_ascii_lowercase();
        let mut w = self.world.lock().unwrap();
        w.applications.retain(|_, a| a.policy_id != id);
        w.policies.remove(&id).is_some()
    }

    /// Revoke one application, as the console does.
    pub fn revoke_application(&self, policy_id: &str, context_id: &str) -> bool {
        let (p, c) = (
            policy_id.to_ascii_lowercase(),
            context_id.to_ascii_lowercase(),
        );
        let mut w = self.world.lock().unwrap();
        let before = w.applications.len();
        w.applications
            .retain(|_, a| !(a.policy_id == p && a.context_id == c));
        w.applications.len() != before
    }

    /// Switch a plan on or off on one device, as the console does (`context_ids`, L3661).
    pub fn set_application_enabled(
        &self,
        policy_id: &str,
        context_id: &str,
        enabled: bool,
    ) -> bool {
        let (p, c) = (
            policy_id.to_ascii_lowercase(),
            context_id.to_ascii_lowercase(),
        );
        let now = stamp(self.now());
        let mut w = self.world.lock().unwrap();
        let mut found = false;
        for a in w
            .applications
            .values_mut()
            .filter(|a| a.policy_id == p && a.context_id == c)
        {
            a.enabled = enabled;
            a.updated_at = now.clone();
            found = true;
        }
        found
    }

    /// Start a run of every deployed, enabled application of a plan, as its schedule would;
    /// how many started.
    pub fn start_scheduled_run(&self, policy_id: &str) -> usize {
        self.tick();
        let p = policy_id.to_ascii_lowercase();
        let now = self.now();
        let seconds = self.config().run_seconds;
        let mut w = self.world.lock().unwrap();
        let mut started = 0;
        for a in w
            .applications
            .values_mut()
            .filter(|a| a.policy_id == p && a.enabled && a.deployed_at <= now && a.run.is_none())
        {
            a.run = Some(SimRun {
                started: now,
                ends: now + SignedDuration::from_secs(seconds),
            });
            a.last_runtime = Some(now);
            a.updated_at = stamp(now);
            started += 1;
        }
        started
    }

    pub fn edit_credentials(&self, id: &str, edit: &CredentialsEdit) -> bool {
        let mut w = self.world.lock().unwrap();
        let Some(c) = w.credentials.get_mut(&id.to_ascii_lowercase()) else {
            return false;
        };
        if let Some(t) = &edit.scope_type {
            c.scope_type = t.clone();
        }
        if let Some(s) = &edit.subtype {
            c.subtype = s.clone();
        }
        true
    }

    pub fn delete_credentials(&self, id: &str) -> bool {
        self.world
            .lock()
            .unwrap()
            .credentials
            .remove(&id.to_ascii_lowercase())
            .is_some()
    }

    /// The whole installation as JSON (secrets left out).
    pub fn dump(&self) -> Value {
        self.tick();
        let w = self.world.lock().unwrap();
        let mut v = serde_json::to_value(&*w).unwrap_or(Value::Null);
        v["clock"] = json!(self.now().to_string());
        v
    }
}

fn done(found: bool, what: &str, id: &str) -> Response {
    if found {
        StatusCode::NO_CONTENT.into_response()
    } else {
        not_found(what, id).into_response()
    }
}

#[derive(Deserialize)]
struct Switch {
    enabled: bool,
}

#[derive(Deserialize)]
struct FailRuns {
    runs: u32,
    message: String,
}

#[derive(Deserialize)]
struct Advance {
    seconds: i64,
}

#[derive(Deserialize)]
struct NewResource {
    name: String,
    #[serde(rename = "type", default = "machine")]
    type_: String,
}

fn machine() -> String {
    "resource.machine".into()
}

pub fn routes(app: AppState) -> Router {
    Router::new()
        .route("/_sim/cyberbackup/state", get(|State(a): State<AppState>| async move { Json(a.sim.dump()) }))
        .route(
            "/_sim/cyberbackup/config",
            get(|State(a): State<AppState>| async move { Json(a.sim.config()) }).put(
                |State(a): State<AppState>, Json(c): Json<SimConfig>| async move {
                    *a.sim.config.lock().unwrap() = c;
                    StatusCode::NO_CONTENT
                },
            ),
        )
        .route(
            "/_sim/cyberbackup/advance",
            post(|State(a): State<AppState>, Json(b): Json<Advance>| async move {
                a.sim.advance(SignedDuration::from_secs(b.seconds));
                a.sim.tick();
                StatusCode::NO_CONTENT
            }),
        )
        .route(
            "/_sim/cyberbackup/settle",
            post(|State(a): State<AppState>| async move {
                a.sim.settle();
                StatusCode::NO_CONTENT
            }),
        )
        .route(
            "/_sim/cyberbackup/resources",
            post(|State(a): State<AppState>, Json(r): Json<NewResource>| async move {
                (StatusCode::CREATED, Json(json!({"id": a.sim.add_resource(&r.name, &r.type_)})))
            }),
        )
        .route(
            "/_sim/cyberbackup/policies/{id}",
            patch(|State(a): State<AppState>, Path(id): Path<String>, Json(e): Json<PlanEdit>| async move {
                done(a.sim.edit_plan(&id, &e), "Policy", &id)
            })
            .delete(|State(a): State<AppState>, Path(id): Path<String>| async move { done(a.sim.delete_plan(&id), "Policy", &id) }),
        )
        .route(
            "/_sim/cyberbackup/policies/{id}/run",
            post(|State(a): State<AppState>, Path(id): Path<String>| async move {
                Json(json!({"started": a.sim.start_scheduled_run(&id)}))
            }),
        )
        .route(
            "/_sim/cyberbackup/policies/{id}/fail",
            post(|State(a): State<AppState>, Path(id): Path<String>, Json(f): Json<FailRuns>| async move {
                done(a.sim.fail_runs(&id, f.runs, &f.message), "Policy", &id)
            }),
        )
        .route(
            "/_sim/cyberbackup/applications/{policy_id}/{context_id}",
            delete(|State(a): State<AppState>, Path((p, c)): Path<(String, String)>| async move {
                done(a.sim.revoke_application(&p, &c), "Application", &c)
            })
            .patch(|State(a): State<AppState>, Path((p, c)): Path<(String, String)>, Json(s): Json<Switch>| async move {
                done(a.sim.set_application_enabled(&p, &c, s.enabled), "Application", &c)
            }),
        )
        .route(
            "/_sim/cyberbackup/credentials/{id}",
            patch(|State(a): State<AppState>, Path(id): Path<String>, Json(e): Json<CredentialsEdit>| async move {
                done(a.sim.edit_credentials(&id, &e), "Credentials", &id)
            })
            .delete(|State(a): State<AppState>, Path(id): Path<String>| async move {
                done(a.sim.delete_credentials(&id), "Credentials", &id)
            }),
        )
        .with_state(app)
}
