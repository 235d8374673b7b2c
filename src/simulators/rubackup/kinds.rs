//! The collections the simulator serves, as the document describes their bodies: the fields and
//! their types, required fields (❶), the `data` wrapper, what a PATCH may change, the bulk
//! status change, and the checks a real server would make across fields. Omitted fields take the
//! document's example values (GUESS: the document does not say what an omitted field becomes).
//! Keys the document does not give for a collection are ignored and not kept (GUESS, the way
//! the pool POST ignores parameters that do not fit, L2140-2142).

use serde_json::{Value, json};

use super::cron::{CronFields, CronKey};
use super::store::{self, Item, Store};
use super::values::{Choice, FieldType};

/// What a PATCH of one item may change.
#[derive(Debug, Clone, Copy)]
pub enum Patch {
    /// No `PATCH /{id}` route (strategy administrators).
    None,
    /// Every field of the create body.
    All,
    /// Only these keys; others in the body are ignored (GUESS, as above).
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
    /// The type of each key the document gives the collection; None for any other key.
    pub field: fn(&str) -> Option<FieldType>,
    pub required: &'static [&'static str],
    /// Unique name key (GUESS for strategies and global schedule rules).
    pub name_key: Option<&'static str>,
    /// `filterdata` keys that stand for an item key. GUESS (L998): the document's filter
    /// example `poolname="test"` names the pool's name `poolname`, while the bodies call it
    /// `pool_name`; the server filters by its column names, the items carry the body names.
    pub filter_aliases: &'static [(&'static str, &'static str)],
    pub patch: Patch,
    /// Key of the id in the bulk status PATCH on the collection (§8.7.1 `strategy_id`,
    /// §8.8.1 `id`).
    pub bulk_status: Option<&'static str>,
    pub defaults: fn(&Store) -> Item,
    /// Drop keys the item ignores before they are read (`existing` on a PATCH).
    pub prepare: fn(Option<&Item>, &mut Item),
    /// Checks across fields of the merged item; `id` is the item's own id on a PATCH.
    pub check: fn(&Store, &Item, Option<i64>) -> Result<(), String>,
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

/// A schedule field's example value as this server keeps it (see [`CronFields`]).
fn cron_value(store: &Store, n: u32) -> Value {
    match store.config.cron_fields {
        CronFields::Text => Value::from(n.to_string()),
        CronFields::IntegersOnly => Value::from(n),
    }
}

/// The schedule, retention and copy-move fields of the document's examples, under `prefix`.
fn schedule_defaults(store: &Store, item: &mut Item, prefix: &str) {
    let fields = json!({
        "periodic_launch": "00:01:00", "storage_duration": "1 day",
        "move_copy_flag": false, "move_copy_while": "1 day", "move_copy_pool": "Default"
    });
    for (k, v) in obj(fields) {
        item.insert(format!("{prefix}{k}"), v);
    }
    for (k, n) in [("min", 0), ("hour", 0), ("dom", 1), ("mon", 1), ("dow", 1)] {
        item.insert(format!("{prefix}{k}"), cron_value(store, n));
    }
}

fn notify_defaults(item: &mut Item, validity_key: &str) {
    for key in NOTIFY_KEYS.iter().chain([&validity_key]) {
        item.insert(key.to_string(), json!("Nobody"));
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

const NOTIFY_KEYS: [&str; 4] = [
    "notify_normal",
    "notify_exception",
    "notify_verify",
    "notify_end_storage_capacity",
];

/// Quota, validity, verification, obsolete copies and the destination: the fields strategies and
/// global schedule rules share (L3779-3791, L4311-4331).
fn copies_field(key: &str) -> Option<FieldType> {
    Some(match key {
        "status" => FieldType::Status,
        "pool_id" => FieldType::Pool,
        "crypto" => FieldType::OneOf(Choice::Crypto),
        "storage_capacity" => FieldType::Int(0),
        "validity_start_period" | "validity_end_period" => FieldType::DateTime,
        "verify_flag" | "auto_delete_obsoleted_copy_flag" | "client_delete_flag" => FieldType::Bool,
        "verify_interval" => FieldType::Interval,
        "inform_when_obsoleted_copy" => FieldType::UserGroup,
        _ => return None,
    })
}

/// Schedule, retention and copy moves, without their `full_`/`inc_`/`diff_` prefix.
fn timing_field(key: &str) -> Option<FieldType> {
    if let Some(k) = CronKey::of(key) {
        return Some(FieldType::Cron(k));
    }
    Some(match key {
        "periodic_launch" | "storage_duration" | "move_copy_while" => FieldType::Interval,
        "move_copy_flag" => FieldType::Bool,
        "move_copy_pool" => FieldType::Pool,
        _ => return None,
    })
}

/// Notification groups and their e-mail copies; `validity_key` is the kind's own.
fn notify_field(key: &str, validity_key: &str) -> Option<FieldType> {
    let base = key.strip_suffix("_cc").unwrap_or(key);
    if !NOTIFY_KEYS.contains(&base) && base != validity_key {
        return None;
    }
    Some(if base == key {
        FieldType::UserGroup
    } else {
        FieldType::Text
    })
}

fn pool_field(key: &str) -> Option<FieldType> {
    Some(match key {
        "pool_name" | "algorithm" => FieldType::Name,
        "pool_type" => FieldType::OneOf(Choice::PoolType),
        "media_server" => FieldType::OneOf(Choice::MediaServer),
        "compression_type" => FieldType::OneOf(Choice::Compression),
        "description" => FieldType::Text,
        "retention_period" => FieldType::Interval,
        "ignore_free_space_check" => FieldType::Bool,
        "block_size" | "hash_length" => FieldType::Int(1),
        "meta_data_pool" => FieldType::Pool,
        _ => return None,
    })
}

fn pool_defaults(_: &Store) -> Item {
    obj(
        json!({"compression_type": "None", "description": "", "retention_period": "1 year", "ignore_free_space_check": false}),
    )
}

/// L2140-2148: parameters that do not fit the pool type are ignored; `compression_type` is not
/// for Block device and Client defined pools, the block-device parameters only for Block device.
fn pool_prepare(existing: Option<&Item>, given: &mut Item) {
    let pool_type = existing
        .unwrap_or(given)
        .get("pool_type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if pool_type == "Block device" || pool_type == "Client defined" {
        given.remove("compression_type");
    }
    if pool_type != "Block device" {
        for k in ["algorithm", "block_size", "hash_length", "meta_data_pool"] {
            given.remove(k);
        }
    }
}

fn strategy_field(key: &str) -> Option<FieldType> {
    match key {
        "name" => return Some(FieldType::Name),
        "description" => return Some(FieldType::Text),
        _ => {}
    }
    if let Some(rest) = ["full_", "inc_", "diff_"]
        .iter()
        .find_map(|p| key.strip_prefix(p))
    {
        return match rest {
            "archive_enabled" => Some(FieldType::Bool),
            _ => timing_field(rest),
        };
    }
    copies_field(key).or_else(|| notify_field(key, "notify_strategy_validity"))
}

fn strategy_defaults(store: &Store) -> Item {
    let mut item = obj(json!({"description": ""}));
    common_defaults(&mut item);
    for t in ["full_", "inc_", "diff_"] {
        item.insert(format!("{t}archive_enabled"), json!(false));
        schedule_defaults(store, &mut item, t);
    }
    notify_defaults(&mut item, "notify_strategy_validity");
    item
}

fn no_prepare(_: Option<&Item>, _: &mut Item) {}

fn no_check(_: &Store, _: &Item, _: Option<i64>) -> Result<(), String> {
    Ok(())
}

fn extension_field(key: &str) -> Option<FieldType> {
    matches!(key, "module_extensions" | "common_modules_extensions")
        .then_some(FieldType::Extensions)
}

fn rule_field(key: &str) -> Option<FieldType> {
    Some(match key {
        "client_id" => FieldType::Client,
        "strategy_id" => FieldType::Strategy,
        "resource_type" => FieldType::OneOf(Choice::ResourceType),
        "resource" => FieldType::Name,
        "normal_execution_script" | "exception_execution_script" | "restore_script" => {
            FieldType::Text
        }
        "priority" => FieldType::Int(0),
        _ => return extension_field(key),
    })
}

fn rule_defaults(_: &Store) -> Item {
    let mut item = obj(
        json!({"normal_execution_script": "", "exception_execution_script": "", "priority": 100, "restore_script": ""}),
    );
    extensions_defaults(&mut item);
    item
}

/// GUESS: one rule per client resource in a strategy (the document does not say).
fn rule_check(store: &Store, item: &Item, id: Option<i64>) -> Result<(), String> {
    let keys = ["strategy_id", "client_id", "resource_type", "resource"];
    let same = store
        .table(store::RULES)
        .iter()
        .any(|(other, r)| Some(*other) != id && keys.iter().all(|k| r.get(*k) == item.get(*k)));
    if same {
        return Err("the strategy already has a rule for this client resource".into());
    }
    Ok(())
}

fn admin_field(key: &str) -> Option<FieldType> {
    Some(match key {
        "strategy" => FieldType::Strategy,
        "administrator" => FieldType::User,
        _ => return None,
    })
}

fn admin_check(store: &Store, item: &Item, _: Option<i64>) -> Result<(), String> {
    let same = store.table(store::ADMINS).values().any(|a| {
        a.get("strategy") == item.get("strategy")
            && a.get("administrator") == item.get("administrator")
    });
    if same {
        return Err("the administrator is already assigned to the strategy".into());
    }
    Ok(())
}

fn schedule_rule_field(key: &str) -> Option<FieldType> {
    Some(match key {
        "name" | "resource" => FieldType::Name,
        "client_id" => FieldType::Client,
        "resource_type" => FieldType::OneOf(Choice::ResourceType),
        "backup_type" => FieldType::OneOf(Choice::BackupType),
        "priority" => FieldType::Int(0),
        "notify_normal_script" | "notify_exception_script" | "restore_script" => FieldType::Text,
        _ => {
            return copies_field(key)
                .or_else(|| timing_field(key))
                .or_else(|| notify_field(key, "notify_rule_validity"))
                .or_else(|| extension_field(key));
        }
    })
}

fn schedule_rule_defaults(store: &Store) -> Item {
    let mut item = obj(json!({
        "backup_type": "full", "priority": 100, "notify_normal_script": "", "notify_exception_script": "", "restore_script": ""
    }));
    common_defaults(&mut item);
    schedule_defaults(store, &mut item, "");
    notify_defaults(&mut item, "notify_rule_validity");
    extensions_defaults(&mut item);
    item
}

/// The keys of the document's `PATCH /global_schedule/{id}` body (35 of the 40 POST keys, plus
/// the extension blocks, L4396-4458).
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
    field: pool_field,
    required: &["pool_name", "pool_type", "media_server"],
    name_key: Some("pool_name"),
    filter_aliases: &[("poolname", "pool_name")],
    // L2183-2189.
    patch: Patch::Only(&[
        "pool_name",
        "compression_type",
        "description",
        "retention_period",
        "ignore_free_space_check",
    ]),
    bulk_status: None,
    defaults: pool_defaults,
    prepare: pool_prepare,
    check: no_check,
};

pub static STRATEGY: KindDef = KindDef {
    table: store::STRATEGIES,
    label: "Backup Strategy",
    not_found: "Стратегия не найдена",
    wrapper: None,
    field: strategy_field,
    required: &["name"],
    name_key: Some("name"),
    filter_aliases: &[],
    patch: Patch::All,
    bulk_status: Some("strategy_id"),
    defaults: strategy_defaults,
    prepare: no_prepare,
    check: no_check,
};

pub static RULE: KindDef = KindDef {
    table: store::RULES,
    label: "Strategy Rule",
    not_found: "Правило стратегии не найдено",
    wrapper: Some("strategy_rule"),
    field: rule_field,
    // ❶ marks resource_type and resource (L4065-4066). GUESS: a rule without its client or its
    // strategy means nothing, so the server needs them too.
    required: &["resource_type", "resource", "client_id", "strategy_id"],
    name_key: None,
    filter_aliases: &[],
    patch: Patch::All,
    bulk_status: None,
    defaults: rule_defaults,
    prepare: no_prepare,
    check: rule_check,
};

pub static ADMIN: KindDef = KindDef {
    table: store::ADMINS,
    label: "Strategy Administrator",
    not_found: "Администратор стратегии не найден",
    wrapper: None,
    field: admin_field,
    required: &["strategy", "administrator"],
    name_key: None,
    filter_aliases: &[],
    patch: Patch::None,
    bulk_status: None,
    defaults: |_| Item::new(),
    prepare: no_prepare,
    check: admin_check,
};

pub static SCHEDULE_RULE: KindDef = KindDef {
    table: store::SCHEDULES,
    label: "Global Schedule",
    not_found: "Правило глобального расписания не найдено",
    wrapper: Some("global_schedule"),
    field: schedule_rule_field,
    required: &["name", "client_id", "resource_type", "resource"],
    name_key: Some("name"),
    filter_aliases: &[],
    patch: Patch::Only(SCHEDULE_PATCH),
    bulk_status: Some("id"),
    defaults: schedule_rule_defaults,
    prepare: no_prepare,
    check: no_check,
};

pub static ALL: [&KindDef; 5] = [&POOL, &STRATEGY, &RULE, &ADMIN, &SCHEDULE_RULE];

/// The collection definition of a table.
pub fn of_table(table: &str) -> Option<&'static KindDef> {
    ALL.iter().copied().find(|k| k.table == table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_of_the_documents_bodies_has_a_type() {
        // The strategy POST body (L3779-3836) and the global schedule POST body (L4307-4348).
        let strategy = [
            "name",
            "status",
            "pool_id",
            "crypto",
            "storage_capacity",
            "description",
            "validity_start_period",
            "validity_end_period",
            "verify_flag",
            "verify_interval",
            "auto_delete_obsoleted_copy_flag",
            "inform_when_obsoleted_copy",
            "client_delete_flag",
            "full_archive_enabled",
            "full_periodic_launch",
            "full_storage_duration",
            "full_min",
            "full_hour",
            "full_dom",
            "full_mon",
            "full_dow",
            "full_move_copy_flag",
            "full_move_copy_while",
            "full_move_copy_pool",
            "inc_dow",
            "diff_move_copy_pool",
            "notify_normal",
            "notify_normal_cc",
            "notify_exception",
            "notify_exception_cc",
            "notify_verify",
            "notify_verify_cc",
            "notify_strategy_validity",
            "notify_strategy_validity_cc",
            "notify_end_storage_capacity",
            "notify_end_storage_capacity_cc",
        ];
        for k in strategy {
            assert!(strategy_field(k).is_some(), "strategy {k}");
        }
        assert!(strategy_field("notify_rule_validity").is_none());
        assert!(strategy_field("priority").is_none());
        for k in SCHEDULE_PATCH.iter().chain(&[
            "client_id",
            "resource_type",
            "resource",
            "backup_type",
            "crypto",
        ]) {
            assert!(schedule_rule_field(k).is_some(), "global schedule {k}");
        }
        assert!(schedule_rule_field("full_min").is_none());
        assert!(schedule_rule_field("notify_strategy_validity").is_none());
        assert!(pool_field("poolname").is_none());
    }
}
