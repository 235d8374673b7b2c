//! What the runs leave, read through the API: `GET /repository` and `GET /repository/{id}`
//! (L3541-3545, L3590-3594), `GET /task_queue` and `GET /task_queue/{id}` (L4862-4866,
//! L4936-4947), `GET /task_status` (L4965-4971), and the forced run
//! `POST /global_schedule/{id}/execution` (L4497-4507). The same paths take the writes other
//! modules serve: `urgent` (`POST /task_queue`, `DELETE /task_queue/{id}`), `records`
//! (`DELETE`/`PATCH /repository/{id}`) and `restore` (`POST /repository/{id}/restoring`).
//! Lists take the same paging, sorting and
//! `filterdata` as every other collection (`listing`), in the same envelope. Every read first
//! brings the tables up to the server clock (`runs`).
//!
//! GUESS: the document lists no 404 for `GET /repository/{id}`; the simulator answers one with
//! the text the repository's deletes use ("Резервная копия не найдена", L3562).
//! GUESS: `GET /task_status` lists `{"id": n, "name": "Done"}` items; a task's `status` holds
//! the name, as `pool_id` holds a pool's name (L3781).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::Sim;
use super::kinds::SCHEDULE_RULE;
use super::listing::{self, ListQuery};
use super::reply;
use super::runs::STATUSES;
use super::store::{Item, REPOSITORY, TASKS};
use super::{records, restore, urgent};

pub const NO_RECORD: &str = "Резервная копия не найдена";
pub const NO_TASK: &str = "Задача не найдена в очереди";

pub fn routes() -> Router<Arc<Sim>> {
    let list = |table: &'static str| {
        get(
            move |s: State<Arc<Sim>>, q: Query<HashMap<String, String>>| async move {
                s.catch_up();
                let items = s
                    .store
                    .lock()
                    .unwrap()
                    .table(table)
                    .values()
                    .cloned()
                    .collect();
                page(&s, &q, items)
            },
        )
    };
    let one = |table: &'static str, missing: &'static str| {
        get(
            move |s: State<Arc<Sim>>, Path(id): Path<String>| async move {
                s.catch_up();
                let store = s.store.lock().unwrap();
                match id
                    .parse()
                    .ok()
                    .and_then(|id: i64| store.table(table).get(&id))
                {
                    Some(item) => reply::ok(Value::Object(item.clone())),
                    None => reply::not_found(missing),
                }
            },
        )
    };
    Router::new()
        .route("/api/v1/repository", list(REPOSITORY))
        .route(
            "/api/v1/repository/{id}",
            one(REPOSITORY, NO_RECORD)
                .delete(records::delete)
                .patch(records::patch),
        )
        .route("/api/v1/repository/{id}/restoring", post(restore::create))
        .route("/api/v1/task_queue", list(TASKS).post(urgent::create))
        .route(
            "/api/v1/task_queue/{id}",
            one(TASKS, NO_TASK).delete(urgent::delete),
        )
        .route(
            "/api/v1/task_status",
            get(
                |s: State<Arc<Sim>>, q: Query<HashMap<String, String>>| async move {
                    let items = STATUSES
                        .iter()
                        .zip(1..)
                        .map(|(name, id)| {
                            let v = json!({"id": id, "name": name});
                            v.as_object().cloned().unwrap_or_default()
                        })
                        .collect();
                    page(&s, &q, items)
                },
            ),
        )
        .route("/api/v1/global_schedule/{id}/execution", post(execute))
}

fn page(sim: &Sim, query: &HashMap<String, String>, items: Vec<Item>) -> Response {
    let q = match ListQuery::read(query, &sim.config.page_param, &sim.config.limit_param) {
        Ok(q) => q,
        Err(e) => return reply::bad_request(&e),
    };
    match listing::page(items, &q, &[]) {
        Ok(page) => reply::ok(Value::Array(page.into_iter().map(Value::Object).collect())),
        Err(e) => reply::bad_request(&e),
    }
}

/// L4497-4507: 200 "Правило глобального расписания выполнено", 404 for an unknown rule.
async fn execute(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> Response {
    match id.parse().ok().and_then(|id| sim.run_now(id)) {
        Some(_) => {
            sim.record(format!("POST /global_schedule/{id}/execution"), Value::Null);
            reply::done("Правило глобального расписания выполнено")
        }
        None => reply::not_found(SCHEDULE_RULE.not_found),
    }
}
