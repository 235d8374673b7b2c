//! People at the device, for tests: edit the tables as the web interface would, switch the
//! firewall off, end sessions. Both as a Rust API on [`IdecoSim`] and as `/_sim/ideco/...`
//! routes for tests in other processes. Never counted, never faulted.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::Serialize;
use serde_json::{Value, json};

use super::device::{SimError, human_rule};
use super::firewall::{AnchorQuery, json_body, move_params, section};
use super::section::{InsertAfterFalse, Section};
use super::{ExpiredAnswer, IdecoSim, Shared};

/// Login and write statistics.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SimStats {
    pub logins: u64,
    pub refused_logins: u64,
    pub logouts: u64,
    pub live_sessions: usize,
    /// The most create/update/move/delete calls the device was serving at once.
    pub max_writes_in_flight: usize,
}

impl IdecoSim {
    /// A section as the API lists it.
    pub fn rules(&self, section: impl Into<Section>) -> Vec<Value> {
        self.shared.device.lock().unwrap().list(section.into())
    }

    /// The ids of a section, in order.
    pub fn ids(&self, section: impl Into<Section>) -> Vec<i64> {
        self.shared.device.lock().unwrap().ids(section.into())
    }

    /// Add a rule as a person would: unspecified fields get the web interface's defaults.
    pub fn human_insert(
        &self,
        section: impl Into<Section>,
        fields: Value,
        anchor: Option<(i64, bool)>,
    ) -> Result<i64, SimError> {
        let section = section.into();
        let rule = human_rule(section, fields)?;
        self.shared.device.lock().unwrap().insert(
            section,
            rule,
            anchor.map(|a| a.0),
            anchor.is_none_or(|a| a.1),
        )
    }

    /// Change some fields of a rule.
    pub fn human_edit(
        &self,
        section: impl Into<Section>,
        id: i64,
        patch: Value,
    ) -> Result<(), SimError> {
        self.shared
            .device
            .lock()
            .unwrap()
            .edit(section.into(), id, patch)
    }

    pub fn human_move(
        &self,
        section: impl Into<Section>,
        id: i64,
        anchor: i64,
        insert_after: bool,
    ) -> Result<(), SimError> {
        self.shared
            .device
            .lock()
            .unwrap()
            .move_rule(section.into(), id, anchor, insert_after)
    }

    pub fn human_delete(&self, section: impl Into<Section>, id: i64) -> Result<(), SimError> {
        self.shared
            .device
            .lock()
            .unwrap()
            .delete(section.into(), id)
    }

    /// Play a device that reads `insert_after=false` otherwise (see [`InsertAfterFalse`]).
    pub fn set_insert_after_false(&self, reading: InsertAfterFalse) {
        self.shared.device.lock().unwrap().insert_after_false = reading;
    }

    /// Switch the Firewall section on or off (the document has no call for this, L28-37).
    pub fn set_firewall_enabled(&self, enabled: bool) {
        self.shared.device.lock().unwrap().firewall_enabled = enabled;
    }

    /// Set what `GET /firewall/status` reports.
    pub fn set_services(&self, services: Value) {
        self.shared.device.lock().unwrap().services =
            services.as_array().cloned().unwrap_or_default();
    }

    /// End every session, as a device restart or an administrator's logout of everyone does.
    pub fn expire_sessions(&self) {
        self.shared.sessions.lock().unwrap().clear();
    }

    pub fn set_expired_answer(&self, answer: ExpiredAnswer) {
        *self.shared.expired_answer.lock().unwrap() = answer;
    }

    /// Keep every write in flight this long, so overlapping writes show in the statistics.
    pub fn set_write_hold(&self, hold: Duration) {
        *self.shared.write_hold.lock().unwrap() = hold;
    }

    pub fn stats(&self) -> SimStats {
        let s = self.shared.sessions.lock().unwrap();
        SimStats {
            logins: s.logins,
            refused_logins: s.refused_logins,
            logouts: s.logouts,
            live_sessions: s.live(),
            max_writes_in_flight: self.shared.max_writes_in_flight.load(Ordering::SeqCst),
        }
    }
}

type Answer = Result<Response, SimError>;

fn sim(shared: Arc<Shared>) -> IdecoSim {
    IdecoSim { shared }
}

async fn dump(State(s): State<Arc<Shared>>, Path(name): Path<String>) -> Answer {
    Ok(Json(sim(s).rules(section(&name)?)).into_response())
}

async fn insert(
    State(s): State<Arc<Shared>>,
    Path(name): Path<String>,
    Query(q): Query<AnchorQuery>,
    body: Bytes,
) -> Answer {
    let (anchor, after) = q.parse()?;
    let id = sim(s).human_insert(
        section(&name)?,
        json_body(&body)?,
        anchor.map(|a| (a, after)),
    )?;
    Ok(Json(json!({"id": id})).into_response())
}

async fn edit(
    State(s): State<Arc<Shared>>,
    Path((name, id)): Path<(String, i64)>,
    body: Bytes,
) -> Answer {
    sim(s).human_edit(section(&name)?, id, json_body(&body)?)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn remove(State(s): State<Arc<Shared>>, Path((name, id)): Path<(String, i64)>) -> Answer {
    sim(s).human_delete(section(&name)?, id)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn relocate(State(s): State<Arc<Shared>>, Path(name): Path<String>, body: Bytes) -> Answer {
    let (id, anchor, after) = move_params(&json!({"params": json_body(&body)?}))?;
    sim(s).human_move(section(&name)?, id, anchor, after)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn set_state(State(s): State<Arc<Shared>>, body: Bytes) -> Answer {
    let enabled = json_body(&body)?["enabled"]
        .as_bool()
        .ok_or_else(|| SimError::bad("enabled: a boolean is required"))?;
    sim(s).set_firewall_enabled(enabled);
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn set_services(State(s): State<Arc<Shared>>, body: Bytes) -> Answer {
    sim(s).set_services(json_body(&body)?);
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn expire(State(s): State<Arc<Shared>>) -> Response {
    sim(s).expire_sessions();
    StatusCode::NO_CONTENT.into_response()
}

async fn expiry_answer(State(s): State<Arc<Shared>>, body: Bytes) -> Answer {
    let answer: ExpiredAnswer = serde_json::from_value(json_body(&body)?["answer"].clone())
        .map_err(|_| SimError::bad("answer: unauthorized, forbidden or redirect"))?;
    sim(s).set_expired_answer(answer);
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn stats(State(s): State<Arc<Shared>>) -> Response {
    Json(sim(s).stats()).into_response()
}

pub(super) fn routes(shared: Arc<Shared>) -> axum::Router {
    axum::Router::new()
        .route("/_sim/ideco/rules/{section}", get(dump).post(insert))
        .route("/_sim/ideco/rules/{section}/move", post(relocate))
        .route(
            "/_sim/ideco/rules/{section}/{id}",
            axum::routing::patch(edit).delete(remove),
        )
        .route("/_sim/ideco/state", put(set_state))
        .route("/_sim/ideco/services", put(set_services))
        .route("/_sim/ideco/sessions/expire", post(expire))
        .route("/_sim/ideco/session-expiry", put(expiry_answer))
        .route("/_sim/ideco/stats", get(stats))
        .with_state(shared)
}
