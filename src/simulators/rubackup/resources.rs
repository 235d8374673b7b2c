//! The handlers every collection shares: list (paged, filtered), get, create (201, no id),
//! PATCH of one item, bulk status PATCH, delete of one item (200, 404) and bulk delete
//! (`{"ids": [...]}`, not wrapped in `data`).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{delete, get};
use serde_json::{Map, Value};

use super::Sim;
use super::kinds::{KindDef, Patch};
use super::listing::{self, ListQuery};
use super::reply;
use super::store::{Item, POOLS, RULES, SCHEDULES, STRATEGIES, Store};
use super::values;

/// The routes of one collection under `/api/v1`.
pub fn routes(def: &'static KindDef) -> Router<Arc<Sim>> {
    let base = format!("/api/v1/{}", def.table);
    let mut collection =
        get(move |s: State<Arc<Sim>>, q: Query<HashMap<String, String>>| list(s, q, def))
            .post(move |s: State<Arc<Sim>>, b: Bytes| create(s, b, def))
            .delete(move |s: State<Arc<Sim>>, b: Bytes| delete_many(s, b, def));
    if def.bulk_status.is_some() {
        collection = collection.patch(move |s: State<Arc<Sim>>, b: Bytes| bulk_status(s, b, def));
    }
    let mut one = get(move |s: State<Arc<Sim>>, p: Path<String>| get_one(s, p, def)).merge(delete(
        move |s: State<Arc<Sim>>, p: Path<String>| delete_one(s, p, def),
    ));
    if !matches!(def.patch, Patch::None) {
        one =
            one.patch(move |s: State<Arc<Sim>>, p: Path<String>, b: Bytes| patch_one(s, p, b, def));
    }
    Router::new()
        .route(&base, collection)
        .route(&format!("{base}/{{id}}"), one)
}

async fn list(
    State(sim): State<Arc<Sim>>,
    Query(query): Query<HashMap<String, String>>,
    def: &'static KindDef,
) -> Response {
    let q = match ListQuery::read(&query, &sim.config.page_param, &sim.config.limit_param) {
        Ok(q) => q,
        Err(e) => return reply::bad_request(&e),
    };
    let store = sim.store.lock().unwrap();
    let items: Vec<Item> = store.table(def.table).values().cloned().collect();
    let aliases = if sim.config.column_filters {
        def.filter_aliases
    } else {
        &[]
    };
    match listing::page(items, &q, aliases) {
        Ok(page) => reply::ok(Value::Array(page.into_iter().map(Value::Object).collect())),
        Err(e) => reply::bad_request(&e),
    }
}

/// GUESS: the document lists no 404 for `GET /pool_list/{id}` and `GET /backup_strategies/{id}`
/// (L2217-2224, L3921-3928); the simulator answers 404 for an id that does not exist, as it does
/// for the other collections.
fn lookup(store: &Store, def: &KindDef, id: &str) -> Option<(i64, Item)> {
    let id: i64 = id.parse().ok()?;
    store.table(def.table).get(&id).map(|i| (id, i.clone()))
}

async fn get_one(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    def: &'static KindDef,
) -> Response {
    match lookup(&sim.store.lock().unwrap(), def, &id) {
        Some((_, item)) => reply::ok(Value::Object(item)),
        None => reply::not_found(def.not_found),
    }
}

/// The fields of a create or PATCH body, flattened: `data`, or for rule-like kinds
/// `data.<wrapper>` plus the extension blocks beside it (L4060-4096).
fn fields(body: &Bytes, def: &KindDef) -> Result<Item, String> {
    let body: Value =
        serde_json::from_slice(body).map_err(|_| "the body is not JSON".to_string())?;
    let data = body
        .get("data")
        .and_then(Value::as_object)
        .ok_or("the body has no data object")?;
    let Some(wrapper) = def.wrapper else {
        return Ok(data.clone());
    };
    let mut item = data
        .get(wrapper)
        .and_then(Value::as_object)
        .cloned()
        .ok_or(format!("data has no {wrapper} object"))?;
    for key in ["module_extensions", "common_modules_extensions"] {
        if let Some(ext) = data.get(key) {
            item.insert(key.to_string(), ext.clone());
        }
    }
    Ok(item)
}

/// Read every field of `given` the kind has (others are dropped) into what the server keeps.
fn read_fields(store: &Store, def: &KindDef, given: Item) -> Result<Item, String> {
    let mut kept = Item::new();
    for (key, value) in given {
        if let Some(ty) = (def.field)(&key) {
            kept.insert(key.clone(), values::read(store, &key, ty, &value)?);
        }
    }
    Ok(kept)
}

/// Checks shared by create and PATCH on the merged item: the kind's own, a unique name.
fn admit(store: &Store, def: &KindDef, item: &Item, id: Option<i64>) -> Result<(), String> {
    (def.check)(store, item, id)?;
    let unique = def.table != SCHEDULES || store.config.unique_schedule_names;
    if let Some(key) = def.name_key.filter(|_| unique) {
        let name = item.get(key).and_then(Value::as_str).unwrap_or_default();
        if !store.with(def.table, key, name, id).is_empty() {
            return Err(format!("{key} '{name}' already exists"));
        }
    }
    Ok(())
}

/// GUESS: the document lists only 201 for the creates (L2166); a body the server cannot take
/// is a 400 "Некорректное тело запроса", the answer its PATCHes document.
async fn create(State(sim): State<Arc<Sim>>, body: Bytes, def: &'static KindDef) -> Response {
    let mut given = match fields(&body, def) {
        Ok(f) => f,
        Err(e) => return reply::bad_request(&e),
    };
    if let Some(missing) = def
        .required
        .iter()
        .find(|k| given.get(**k).is_none_or(|v| v.is_null() || v == ""))
    {
        return reply::bad_request(&format!("{missing} is required"));
    }
    (def.prepare)(None, &mut given);
    let mut store = sim.store.lock().unwrap();
    let kept = match read_fields(&store, def, given) {
        Ok(k) => k,
        Err(e) => return reply::bad_request(&e),
    };
    let mut item = (def.defaults)(&store);
    item.extend(kept);
    if let Err(e) = admit(&store, def, &item, None) {
        return reply::bad_request(&e);
    }
    store.insert(def.table, item);
    drop(store);
    runs_changed(&sim, def);
    sim.record(format!("POST /{}", def.table), body_json(&body));
    reply::created(def.label)
}

async fn patch_one(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    body: Bytes,
    def: &'static KindDef,
) -> Response {
    runs_changed(&sim, def);
    let mut store = sim.store.lock().unwrap();
    let Some((id, mut item)) = lookup(&store, def, &id) else {
        return reply::not_found(def.not_found);
    };
    let mut given = match fields(&body, def) {
        Ok(f) => f,
        Err(e) => return reply::bad_request(&e),
    };
    if let Patch::Only(keys) = def.patch {
        given.retain(|k, _| keys.contains(&k.as_str()));
    }
    (def.prepare)(Some(&item), &mut given);
    let kept = match read_fields(&store, def, given) {
        Ok(k) => k,
        Err(e) => return reply::bad_request(&e),
    };
    let old_name = def
        .name_key
        .and_then(|k| item.get(k))
        .and_then(Value::as_str)
        .map(str::to_string);
    item.extend(kept);
    if let Err(e) = admit(&store, def, &item, Some(id)) {
        return reply::bad_request(&e);
    }
    let new_name = def
        .name_key
        .and_then(|k| item.get(k))
        .and_then(Value::as_str)
        .map(str::to_string);
    if let (Some(old), Some(new)) = (old_name, new_name)
        && old != new
    {
        store.renamed(def.table, &old, &new);
    }
    store.table_mut(def.table).insert(id, item);
    sim.record(format!("PATCH /{}/{id}", def.table), body_json(&body));
    reply::done("Параметры изменены")
}

/// `{"data": [{"<key>": 1, "status": "wait"}]}` (§8.7.1, §8.8.1).
async fn bulk_status(State(sim): State<Arc<Sim>>, body: Bytes, def: &'static KindDef) -> Response {
    let key = def.bulk_status.unwrap_or("id");
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return reply::bad_request("the body is not JSON");
    };
    let Some(entries) = body.get("data").and_then(Value::as_array) else {
        return reply::bad_request("data must be a list");
    };
    let mut changes = Vec::new();
    for e in entries {
        match (
            e.get(key).and_then(Value::as_i64),
            e.get("status").and_then(Value::as_str),
        ) {
            (Some(id), Some(status @ ("run" | "wait"))) => changes.push((id, status.to_string())),
            _ => {
                return reply::bad_request(&format!(
                    "every entry needs {key} and status run or wait"
                ));
            }
        }
    }
    runs_changed(&sim, def);
    let mut store = sim.store.lock().unwrap();
    if changes
        .iter()
        .any(|(id, _)| !store.table(def.table).contains_key(id))
    {
        return reply::not_found(def.not_found);
    }
    for (id, status) in changes {
        if let Some(item) = store.table_mut(def.table).get_mut(&id) {
            item.insert("status".into(), Value::from(status));
        }
    }
    sim.record(format!("PATCH /{}", def.table), body);
    reply::done("Статус изменен")
}

/// Before a write to a global schedule rule or a strategy (or its rules), make the runs due
/// under it as it was; after a create, start counting the new one's runs (`runs`).
fn runs_changed(sim: &Sim, def: &KindDef) {
    if [SCHEDULES, STRATEGIES, RULES].contains(&def.table) {
        sim.catch_up();
    }
}

fn body_json(body: &Bytes) -> Value {
    serde_json::from_slice(body).unwrap_or(Value::Null)
}

/// GUESS: a pool or strategy still referred to cannot be deleted.
fn in_use(store: &Store, def: &KindDef, item: &Map<String, Value>) -> Option<String> {
    let name = def
        .name_key
        .and_then(|k| item.get(k))
        .and_then(Value::as_str)?;
    let users = match def.table {
        POOLS | STRATEGIES => store.users_of(def.table, name),
        _ => return None,
    };
    (!users.is_empty()).then(|| format!("'{name}' is still used by {}", users.join(", ")))
}

async fn delete_one(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    def: &'static KindDef,
) -> Response {
    runs_changed(&sim, def);
    let mut store = sim.store.lock().unwrap();
    let Some((id, item)) = lookup(&store, def, &id) else {
        return reply::not_found(def.not_found);
    };
    if let Some(reason) = in_use(&store, def, &item) {
        return reply::bad_request(&reason);
    }
    store.table_mut(def.table).remove(&id);
    sim.record(format!("DELETE /{}/{id}", def.table), Value::Null);
    reply::done("Удалено")
}

async fn delete_many(State(sim): State<Arc<Sim>>, body: Bytes, def: &'static KindDef) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return reply::bad_request("the body is not JSON");
    };
    let Some(ids) = body
        .get("ids")
        .and_then(Value::as_array)
        .and_then(|a| a.iter().map(Value::as_i64).collect::<Option<Vec<_>>>())
    else {
        return reply::bad_request("ids (a list of integer ids) is required");
    };
    runs_changed(&sim, def);
    let mut store = sim.store.lock().unwrap();
    // GUESS: all or nothing.
    let Some(items) = ids
        .iter()
        .map(|id| store.table(def.table).get(id).cloned())
        .collect::<Option<Vec<_>>>()
    else {
        return reply::not_found(def.not_found);
    };
    if let Some(reason) = items.iter().find_map(|i| in_use(&store, def, i)) {
        return reply::bad_request(&reason);
    }
    for id in ids {
        store.table_mut(def.table).remove(&id);
    }
    sim.record(format!("DELETE /{}", def.table), body);
    reply::done("Удалено")
}
