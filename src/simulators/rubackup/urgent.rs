//! The task queue's writes: the urgent full backup `POST /task_queue` (L4868-4912) and
//! `DELETE /task_queue/{id}` (L4924-4934), whose path also takes a status
//! (`DELETE /task_queue/{status}`, L4949-4961). The task itself is queued by `oneshot`.
//!
//! The body is `{"data": {"task": {…nine fields, all ❶…}, "module_extensions": …,
//! "common_modules_extensions": …}}`. Each field is read as the same field of a global schedule
//! rule is (`values`): `pool` and `client` must exist, `resource_type`, `backup_type` and
//! `crypto` be one of the server's lists, `storage_duration` an interval, `priority` a whole
//! number, `archiving` a boolean. GUESS (L4910 lists only 201): a body the server cannot take,
//! an unknown pool or client included, is a 400 "Некорректное тело запроса", as the other
//! creates answer (`resources`). GUESS (L4868, L4875): the title says "full", but `backup_type` is a field, so
//! any of `GET /backup_types` is taken. Keys the task does not have are ignored.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::Value;

use super::Sim;
use super::history::NO_TASK;
use super::reply;
use super::store::{Item, Store, TASKS};
use super::values::{self, Choice, FieldType};

/// The fields of `data.task`, every one required (L4872-4880).
const TASK_FIELDS: [(&str, FieldType); 9] = [
    ("resource_type", FieldType::OneOf(Choice::ResourceType)),
    ("resource", FieldType::Name),
    ("client", FieldType::Client),
    ("backup_type", FieldType::OneOf(Choice::BackupType)),
    ("pool", FieldType::Pool),
    ("crypto", FieldType::OneOf(Choice::Crypto)),
    ("priority", FieldType::Int(0)),
    ("storage_duration", FieldType::Interval),
    ("archiving", FieldType::Bool),
];

pub const EXTENSIONS: [&str; 2] = ["module_extensions", "common_modules_extensions"];

/// `data` of a body, or why there is none.
pub fn data(body: &Bytes) -> Result<Item, String> {
    let body: Value =
        serde_json::from_slice(body).map_err(|_| "the body is not JSON".to_string())?;
    body.get("data")
        .and_then(Value::as_object)
        .cloned()
        .ok_or_else(|| "the body has no data object".to_string())
}

/// The optional extension blocks beside the wrapped object, as sent, once they have the
/// `{"parameters": {…}}` shape.
pub fn extensions(store: &Store, data: &Item, into: &mut Item) -> Result<(), String> {
    for key in EXTENSIONS {
        if let Some(v) = data.get(key) {
            into.insert(
                key.into(),
                values::read(store, key, FieldType::Extensions, v)?,
            );
        }
    }
    Ok(())
}

/// The urgent backup's fields as the server keeps them.
fn read(store: &Store, body: &Bytes) -> Result<Item, String> {
    let data = data(body)?;
    let task = data
        .get("task")
        .and_then(Value::as_object)
        .ok_or("data has no task object")?;
    let mut kept = Item::new();
    for (key, ty) in TASK_FIELDS {
        match task.get(key) {
            None | Some(Value::Null) => return Err(format!("{key} is required")),
            Some(Value::String(s)) if s.is_empty() => return Err(format!("{key} is required")),
            Some(v) => kept.insert(key.into(), values::read(store, key, ty, v)?),
        };
    }
    extensions(store, &data, &mut kept)?;
    Ok(kept)
}

/// `POST /task_queue`: 201 with the documented message naming the task (`reply::queued`).
pub async fn create(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    sim.catch_up();
    let now = sim.now();
    let mut store = sim.store.lock().unwrap();
    let fields = match read(&store, &body) {
        Ok(f) => f,
        Err(e) => return reply::bad_request(&e),
    };
    let id = store.queue_urgent(fields, now);
    drop(store);
    sim.record(
        "POST /task_queue".into(),
        serde_json::from_slice(&body).unwrap_or(Value::Null),
    );
    reply::queued("Task Queue", id)
}

/// The task status a `DELETE /task_queue/{status}` word names (L4953-4955: `obsoleted` are
/// the ones `done`). GUESS (L4953): the words are matched as written there, lower case.
fn status_of(word: &str) -> Option<&'static str> {
    Some(match word {
        "error" => "Error",
        "killed" => "Killed",
        "obsoleted" => "Done",
        _ => return None,
    })
}

/// `DELETE /task_queue/{id}`: 200, 404. GUESS (L4924-4934): a task still `New` or executing is taken out
/// of the queue too, and then ends without a record (the document does not say it is refused).
/// A status word deletes every task in that status (200, 404 when there is none); any other
/// word is a 404 as an unknown id.
pub async fn delete(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> Response {
    sim.catch_up();
    let mut store = sim.store.lock().unwrap();
    let tasks = store.table_mut(TASKS);
    if let Ok(n) = id.parse::<i64>() {
        if tasks.remove(&n).is_none() {
            return reply::not_found(NO_TASK);
        }
        drop(store);
        sim.record(format!("DELETE /task_queue/{n}"), Value::Null);
        return reply::done("Задача удалена из очереди");
    }
    let Some(status) = status_of(&id) else {
        return reply::not_found(NO_TASK);
    };
    let before = tasks.len();
    tasks.retain(|_, t| t.get("status").and_then(Value::as_str) != Some(status));
    if tasks.len() == before {
        return reply::not_found("Задач с выбранным статусом не найдена в очереди");
    }
    drop(store);
    sim.record(format!("DELETE /task_queue/{id}"), Value::Null);
    reply::done("Задачи с выбранным статусом удалены из очереди")
}
