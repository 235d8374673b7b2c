//! The collections the simulator serves, as the document describes their bodies: required
//! fields (❶), the `data` wrapper, what a PATCH may change, the bulk status change, and the
//! checks a real server would make. Defaults are the document's example values (GUESS: the
//! document does not say what an omitted field becomes).

use serde_json::{Value, json};

use super::store::{self, Item, Store};

/// What a PATCH of one item may change.
#[derive(Debug, Clone, Copy)]
pub enum Patch {
    /// No `PATCH /{id}` route (strategy administrators).
    None,
    /// Every field of the create body.
    All,
    /// Only these keys; others in the body are ignored (GUESS, as the pool POST ignores
    /// parameters that do not fit, §8.6.1).
    Only(&'static [&'static str]),
}

/// One collection.
pub struct KindDef {
    pub table: &'static str,
    /// The name in the create message ("Resource with name '<label>' was created successfully!").
    pub label: &'static str,
    /// The 404 text.
    pub not_found: &'static str,
    /// Rule-like bodies nest the object: `{"data": {"strategy_rule": {...}, "module_extensions": ...}}`.
    pub wrapper: Option<&'static str>,
    pub required: &'static [&'static str],
    /// Unique name key (GUESS for strategies and global schedule rules).
    pub name_key: Option<&'static str>,
    pub patch: Patch,
    /// Key of the id in the bulk status PATCH on the collection (§8.7.1 `strategy_id`,
    /// §8.8.1 `id`).
    pub bulk_status: Option<&'static str>,
    pub defaults: fn(&Store) -> Item,
    /// Checks beyond the field values; `id` is the item's own id on a PATCH.
    pub check: fn(&Store, &mut Item, Option<i64>) -> Result<(), String>,
}

fn obj(v: Value) -> Item {
    v.as_object().cloned().unwrap_or_default()
}

fn one_year_from_now() -> (String, String) {
    let now = jiff::Zoned::now().datetime();
    let end = now.checked_add(jiff::Span::new().years(1)).unwrap_or(now);
    (
        now.strftime("%Y-%m-%dT%H:%M:%S").to_string(),
        end.strftime("%Y-%m-%dT%H:%M:%S").to_string(),
    )
}

/// The schedule, retention and copy-move fields of the document's examples, under `prefix`.
fn schedule_defaults(item: &mut Item, prefix: &str) {
    let fields = json!({
        "periodic_launch": "1 min", "storage_duration": "1 day", "min": 0, "hour": 0, "dom": 1, "mon": 1, "dow": 1,
        "move_copy_flag": false, "move_copy_while": "1 day", "move_copy_pool": "Default"
    });
    for (k, v) in obj(fields) {
        item.insert(format!("{prefix}{k}"), v);
    }
}

fn notify_defaults(item: &mut Item, validity_key: &str) {
    for key in [
        "notify_normal",
        "notify_exception",
        "notify_verify",
        validity_key,
        "notify_end_storage_capacity",
    ] {
        item.insert(key.into(), json!("Nobody"));
        item.insert(format!("{key}_cc"), json!(""));
    }
}

fn common_defaults(item: &mut Item) {
    let (start, end) = one_year_from_now();
    let fields = json!({
        "status": "wait", "pool_id": "Default", "crypto": "nocrypt", "storage_capacity": 0,
        "validity_start_period": start, "validity_end_period": end, "verify_flag": false, "verify_interval": "1 day",
        "auto_delete_obsoleted_copy_flag": false, "inform_when_obsoleted_copy": "Nobody", "client_delete_flag": true
    });
    item.extend(obj(fields));
}

fn extensions_defaults(item: &mut Item) {
    item.insert("module_extensions".into(), json!({"parameters": {}}));
    item.insert(
        "common_modules_extensions".into(),
        json!({"parameters": {}}),
    );
}

fn pool_defaults(_: &Store) -> Item {
    obj(
        json!({"compression_type": "None", "description": "", "retention_period": "1 year", "ignore_free_space_check": false}),
    )
}

fn pool_check(store: &Store, item: &mut Item, id: Option<i64>) -> Result<(), String> {
    let s = |k: &str| {
        item.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    if id.is_none() {
        if !store.config.pool_types.contains(&s("pool_type")) {
            return Err(format!(
                "pool_type '{}' is not one of {:?}",
                s("pool_type"),
                store.config.pool_types
            ));
        }
        if !store.config.media_servers.contains(&s("media_server")) {
            return Err(format!("media server '{}' is not known", s("media_server")));
        }
    }
    // §8.6.1: parameters that do not fit the pool type are ignored.
    let pool_type = s("pool_type");
    if pool_type == "Block device" || pool_type == "Client defined" {
        item.remove("compression_type");
    }
    if pool_type != "Block device" {
        for k in ["algorithm", "block_size", "hash_length", "meta_data_pool"] {
            item.remove(k);
        }
    }
    // GUESS: list items carry the filter key `poolname` (§8 filter example) beside `pool_name`.
    let name = item.get("pool_name").cloned().unwrap_or_default();
    item.insert("poolname".into(), name);
    Ok(())
}

fn strategy_defaults(_: &Store) -> Item {
    let mut item = obj(json!({"description": ""}));
    common_defaults(&mut item);
    for t in ["full_", "inc_", "diff_"] {
        item.insert(format!("{t}archive_enabled"), json!(false));
        schedule_defaults(&mut item, t);
    }
    notify_defaults(&mut item, "notify_strategy_validity");
    item
}

fn no_check(_: &Store, _: &mut Item, _: Option<i64>) -> Result<(), String> {
    Ok(())
}

fn rule_defaults(_: &Store) -> Item {
    let mut item = obj(
        json!({"normal_execution_script": "", "exception_execution_script": "", "priority": 100, "restore_script": ""}),
    );
    extensions_defaults(&mut item);
    item
}

fn rule_check(store: &Store, item: &mut Item, id: Option<i64>) -> Result<(), String> {
    let s = |k: &str| {
        item.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    if !store.strategy_exists(&s("strategy_id")) {
        return Err(format!("strategy '{}' does not exist", s("strategy_id")));
    }
    if s("client_id").is_empty() {
        return Err("client_id is required".into());
    }
    let same = store.table(store::RULES).iter().any(|(other, r)| {
        Some(*other) != id
            && ["strategy_id", "resource_type", "resource"]
                .iter()
                .all(|k| r.get(*k) == item.get(*k))
            && r.get("client_id")
                .and_then(Value::as_str)
                .map(crate::providers::rubackup::fields::normalize_client)
                == Some(crate::providers::rubackup::fields::normalize_client(&s(
                    "client_id",
                )))
    });
    if same {
        return Err("the strategy already has a rule for this client resource".into());
    }
    Ok(())
}

fn admin_check(store: &Store, item: &mut Item, _: Option<i64>) -> Result<(), String> {
    let s = |k: &str| {
        item.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    if !store.strategy_exists(&s("strategy")) {
        return Err(format!("strategy '{}' does not exist", s("strategy")));
    }
    if !store.config.administrators.contains(&s("administrator")) {
        return Err(format!("user '{}' does not exist", s("administrator")));
    }
    let same = store.table(store::ADMINS).values().any(|a| {
        a.get("strategy") == item.get("strategy")
            && a.get("administrator") == item.get("administrator")
    });
    if same {
        return Err("the administrator is already assigned to the strategy".into());
    }
    Ok(())
}

fn schedule_rule_defaults(_: &Store) -> Item {
    let mut item = obj(json!({
        "backup_type": "full", "priority": 100, "notify_normal_script": "", "notify_exception_script": "", "restore_script": ""
    }));
    common_defaults(&mut item);
    schedule_defaults(&mut item, "");
    notify_defaults(&mut item, "notify_rule_validity");
    extensions_defaults(&mut item);
    item
}

/// The keys of the document's `PATCH /global_schedule/{id}` body (35 of the 40 POST keys, plus
/// the extension blocks).
const SCHEDULE_PATCH: &[&str] = &[
    "name",
    "pool_id",
    "storage_capacity",
    "priority",
    "validity_start_period",
    "validity_end_period",
    "periodic_launch",
    "min",
    "hour",
    "dom",
    "mon",
    "dow",
    "verify_flag",
    "verify_interval",
    "storage_duration",
    "move_copy_flag",
    "move_copy_pool",
    "move_copy_while",
    "auto_delete_obsoleted_copy_flag",
    "inform_when_obsoleted_copy",
    "client_delete_flag",
    "notify_normal",
    "notify_normal_cc",
    "notify_exception",
    "notify_exception_cc",
    "notify_rule_validity",
    "notify_rule_validity_cc",
    "notify_verify",
    "notify_verify_cc",
    "status",
    "notify_normal_script",
    "notify_exception_script",
    "notify_end_storage_capacity",
    "notify_end_storage_capacity_cc",
    "restore_script",
    "module_extensions",
    "common_modules_extensions",
];

pub static POOL: KindDef = KindDef {
    table: store::POOLS,
    label: "Pool",
    not_found: "Пул не найден",
    wrapper: None,
    required: &["pool_name", "pool_type", "media_server"],
    name_key: Some("pool_name"),
    patch: Patch::Only(&[
        "pool_name",
        "compression_type",
        "description",
        "retention_period",
        "ignore_free_space_check",
    ]),
    bulk_status: None,
    defaults: pool_defaults,
    check: pool_check,
};

pub static STRATEGY: KindDef = KindDef {
    table: store::STRATEGIES,
    label: "Backup Strategy",
    not_found: "Стратегия не найдена",
    wrapper: None,
    required: &["name"],
    name_key: Some("name"),
    patch: Patch::All,
    bulk_status: Some("strategy_id"),
    defaults: strategy_defaults,
    check: no_check,
};

pub static RULE: KindDef = KindDef {
    table: store::RULES,
    label: "Strategy Rule",
    not_found: "Правило стратегии не найдено",
    wrapper: Some("strategy_rule"),
    required: &["resource_type", "resource"],
    name_key: None,
    patch: Patch::All,
    bulk_status: None,
    defaults: rule_defaults,
    check: rule_check,
};

pub static ADMIN: KindDef = KindDef {
    table: store::ADMINS,
    label: "Strategy Administrator",
    not_found: "Администратор стратегии не найден",
    wrapper: None,
    required: &["strategy", "administrator"],
    name_key: None,
    patch: Patch::None,
    bulk_status: None,
    defaults: |_| Item::new(),
    check: admin_check,
};

pub static SCHEDULE_RULE: KindDef = KindDef {
    table: store::SCHEDULES,
    label: "Global Schedule",
    not_found: "Правило глобального расписания не найдено",
    wrapper: Some("global_schedule"),
    required: &["name", "client_id", "resource_type", "resource"],
    name_key: Some("name"),
    patch: Patch::Only(SCHEDULE_PATCH),
    bulk_status: Some("id"),
    defaults: schedule_rule_defaults,
    check: no_check,
};

pub static ALL: [&KindDef; 5] = [&POOL, &STRATEGY, &RULE, &ADMIN, &SCHEDULE_RULE];
