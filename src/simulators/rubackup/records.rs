//! The repository's writes on one record (L3596-3623): `DELETE /repository/{id}` (200
//! "Резервная копия удалена", 404) and `PATCH /repository/{id}` with
//! `{"data": {"store_until": "2024-09-07T22:06:09.801038"}}` (200 "Период хранения резервной
//! копии изменен", 400, 404). The reads are in `history`.
//!
//! GUESS (L3600-3622): the answers' messages are the document's texts, as `history`'s forced run answers.
//! GUESS (L3619-3622): an unknown record is a 404 before the body is looked at (as `resources`' PATCH);
//! `store_until` is read as every date-time is (`values::datetime`), and any date is taken,
//! past ones included (the document states no bound). GUESS (L3596-3604): a record a restore is reading is
//! deleted all the same. The document's configuration keys that may refuse a delete
//! (`immutable_archives`, `mandatory_storage_time`, L1600-1700) are not played.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::Value;

use super::Sim;
use super::history::NO_RECORD;
use super::reply;
use super::schedule::instant;
use super::store::REPOSITORY;
use super::urgent::data;
use super::values;

pub async fn delete(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> Response {
    sim.catch_up();
    let Ok(id) = id.parse::<i64>() else {
        return reply::not_found(NO_RECORD);
    };
    let removed = sim.store.lock().unwrap().table_mut(REPOSITORY).remove(&id);
    if removed.is_none() {
        return reply::not_found(NO_RECORD);
    }
    sim.record(format!("DELETE /repository/{id}"), Value::Null);
    reply::done("Резервная копия удалена")
}

/// The new `store_until` of a PATCH body, as the server keeps it.
fn store_until(body: &Bytes) -> Result<String, String> {
    let data = data(body)?;
    let text = data
        .get("store_until")
        .ok_or("store_until is required")?
        .as_str()
        .ok_or("store_until: must be a date-time string")?;
    values::datetime(text).ok_or_else(|| {
        format!("store_until: {text} is not a date-time such as 2024-09-07T22:06:09")
    })
}

pub async fn patch(State(sim): State<Arc<Sim>>, Path(id): Path<String>, body: Bytes) -> Response {
    sim.catch_up();
    let mut store = sim.store.lock().unwrap();
    let Some(id) = id
        .parse::<i64>()
        .ok()
        .filter(|id| store.table(REPOSITORY).contains_key(id))
    else {
        return reply::not_found(NO_RECORD);
    };
    let until = match store_until(&body) {
        Ok(u) => u,
        Err(e) => return reply::bad_request(&e),
    };
    let secs = instant(&until, &store.zone());
    if let Some(record) = store.table_mut(REPOSITORY).get_mut(&id) {
        record.insert("store_until".into(), Value::from(until));
    }
    // An earlier end is looked at when it comes, not only at the old one.
    if let Some(secs) = secs {
        store.store_until_changed(id, secs);
    }
    drop(store);
    sim.record(
        format!("PATCH /repository/{id}"),
        serde_json::from_slice(&body).unwrap_or(Value::Null),
    );
    reply::done("Период хранения резервной копии изменен")
}
