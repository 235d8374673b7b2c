//! `POST /repository/{id}/restoring` (L3651-3691): restore a record. The body is
//! `{"data": {"restore_task": {"target_client" ❶, "destination_path" ❶, "data_deployment",
//! "granular_restore_files"}, "module_extensions": {"parameters": {"new_name"}},
//! "common_modules_extensions": …}}`; 201, 400 for a body the server cannot take, 404 for no
//! such record. The task is queued by `oneshot`.
//!
//! GUESS (L3686-3691): an unknown record is a 404 before the body is looked at, as the PATCHes answer
//! (`resources`). GUESS (L3658-3664): `target_client` must be an authorised client (as every `client`),
//! `destination_path` a non-empty string, `data_deployment` a boolean, `granular_restore_files`
//! a list of strings (the example's `[""]` included), `new_name` a string. GUESS (L3686 shows no
//! body): the 201 answers as the urgent backup's does, naming the task in the queue, unless
//! `SimConfig::restore_message_names_task` is false, when it carries the document's text only.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::Sim;
use super::history::NO_RECORD;
use super::reply;
use super::store::{Item, REPOSITORY, Store};
use super::urgent::{data, extensions};
use super::values::{self, FieldType};

/// What the restore task keeps of the request, checked.
fn read(store: &Store, body: &Bytes) -> Result<Item, String> {
    let data = data(body)?;
    let task = data
        .get("restore_task")
        .and_then(Value::as_object)
        .ok_or("data has no restore_task object")?;
    let required = |key: &str| match task.get(key) {
        None | Some(Value::Null) => Err(format!("{key} is required")),
        Some(Value::String(s)) if s.is_empty() => Err(format!("{key} is required")),
        Some(v) => Ok(v),
    };
    let mut kept = Item::new();
    let client = values::read(
        store,
        "target_client",
        FieldType::Client,
        required("target_client")?,
    )?;
    kept.insert("client".into(), client);
    let path = required("destination_path")?;
    let path = values::read(store, "destination_path", FieldType::Name, path)?;
    kept.insert("destination_path".into(), path);
    if let Some(v) = task.get("data_deployment") {
        let v = values::read(store, "data_deployment", FieldType::Bool, v)?;
        kept.insert("data_deployment".into(), v);
    }
    if let Some(v) = task.get("granular_restore_files") {
        let files = v.as_array().filter(|a| a.iter().all(Value::is_string));
        let files = files.ok_or("granular_restore_files: must be a list of paths")?;
        kept.insert("granular_restore_files".into(), json!(files));
    }
    extensions(store, &data, &mut kept)?;
    let new_name = kept
        .get("module_extensions")
        .and_then(|m| m["parameters"].get("new_name"));
    if new_name.is_some_and(|n| !n.is_string()) {
        return Err("module_extensions: new_name must be a string".into());
    }
    Ok(kept)
}

pub async fn create(State(sim): State<Arc<Sim>>, Path(id): Path<String>, body: Bytes) -> Response {
    sim.catch_up();
    let now = sim.now();
    let mut store = sim.store.lock().unwrap();
    let Some(record) = id
        .parse::<i64>()
        .ok()
        .filter(|id| store.table(REPOSITORY).contains_key(id))
    else {
        return reply::not_found(NO_RECORD);
    };
    let request = match read(&store, &body) {
        Ok(r) => r,
        Err(e) => return reply::bad_request(&e),
    };
    let sent = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let Some(task) = store.queue_restore(record, request, sent.clone(), now) else {
        return reply::not_found(NO_RECORD);
    };
    drop(store);
    sim.record(format!("POST /repository/{record}/restoring"), sent);
    if sim.config.restore_message_names_task {
        reply::queued("Task Queue", task)
    } else {
        let text = "Задача на восстановление резервной копии создана";
        reply::envelope(StatusCode::CREATED, json!({}), text, json!({}))
    }
}
