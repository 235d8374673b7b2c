//! The simulated server's data: one table per collection, ids from one sequence, and the
//! name-based references between them (pools and strategies are referred to by name, so a
//! rename carries over to the referring objects, as a database with foreign keys would show).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::SimConfig;
use super::oneshot::OneShots;
use super::runs::Runs;
use super::values::is_pool_key;

pub type Item = Map<String, Value>;

pub const POOLS: &str = "pool_list";
pub const STRATEGIES: &str = "backup_strategies";
pub const RULES: &str = "strategy_rules";
pub const ADMINS: &str = "strategy_administrators";
pub const SCHEDULES: &str = "global_schedule";
/// The backups made (`GET /repository`, L3541) and the task queue (`GET /task_queue`, L4862),
/// filled by the runs of global schedule rules and strategies (`runs`), urgent backups and
/// restores (`oneshot`).
pub const REPOSITORY: &str = "repository";
pub const TASKS: &str = "task_queue";
pub const TABLES: [&str; 7] = [
    POOLS, STRATEGIES, RULES, ADMINS, SCHEDULES, REPOSITORY, TASKS,
];

pub struct Store {
    pub config: SimConfig,
    next_id: i64,
    tables: BTreeMap<&'static str, BTreeMap<i64, Item>>,
    /// Where the runs of global schedule rules stand.
    pub runs: Runs,
    /// Failures ordered for urgent backups and restores, and the restores asked.
    pub oneshots: OneShots,
}

impl Store {
    /// A fresh server: the `Default` pool every example of the document refers to.
    pub fn new(config: SimConfig) -> Self {
        let mut store = Store {
            config,
            next_id: 1,
            tables: TABLES.iter().map(|t| (*t, BTreeMap::new())).collect(),
            runs: Runs::default(),
            oneshots: OneShots::default(),
        };
        let default_pool = json!({
            "pool_name": "Default", "pool_type": "File system",
            "media_server": store.config.media_servers.first().cloned().unwrap_or_else(|| "rubackup-server".into()),
            "compression_type": "None", "description": "", "retention_period": "1 year", "ignore_free_space_check": false
        });
        store.insert(POOLS, default_pool.as_object().unwrap().clone());
        store
    }

    /// The table of a collection name, if the simulator has it.
    pub fn table_name(name: &str) -> Option<&'static str> {
        TABLES.iter().copied().find(|t| *t == name)
    }

    pub fn table(&self, t: &'static str) -> &BTreeMap<i64, Item> {
        &self.tables[t]
    }

    pub fn table_mut(&mut self, t: &'static str) -> &mut BTreeMap<i64, Item> {
        self.tables.get_mut(t).expect("every table exists")
    }

    /// Insert with the next id; returns it.
    pub fn insert(&mut self, t: &'static str, mut item: Item) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        item.insert("id".into(), json!(id));
        self.table_mut(t).insert(id, item);
        id
    }

    /// Items of `t` whose `key` is `value`, other than `except`.
    pub fn with(&self, t: &'static str, key: &str, value: &str, except: Option<i64>) -> Vec<i64> {
        self.table(t)
            .iter()
            .filter(|(id, i)| {
                Some(**id) != except && i.get(key).and_then(Value::as_str) == Some(value)
            })
            .map(|(id, _)| *id)
            .collect()
    }

    pub fn pool_exists(&self, name: &str) -> bool {
        !self.with(POOLS, "pool_name", name, None).is_empty()
    }

    pub fn strategy_exists(&self, name: &str) -> bool {
        !self.with(STRATEGIES, "name", name, None).is_empty()
    }

    /// Carry a pool or strategy rename over to everything that names it.
    pub fn renamed(&mut self, t: &'static str, old: &str, new: &str) {
        let refers = |table: &str, key: &str| match t {
            POOLS => is_pool_key(key),
            STRATEGIES => {
                (table == RULES && key == "strategy_id") || (table == ADMINS && key == "strategy")
            }
            _ => false,
        };
        for (table, items) in self.tables.iter_mut() {
            for item in items.values_mut() {
                for (key, value) in item.iter_mut() {
                    if refers(table, key) && value.as_str() == Some(old) {
                        *value = Value::from(new);
                    }
                }
            }
        }
    }

    /// What still refers to the pool or strategy `name` (GUESS: RuBackup refuses to delete a
    /// pool or strategy in use; the document lists no code for it).
    pub fn users_of(&self, t: &'static str, name: &str) -> Vec<String> {
        let mut users = Vec::new();
        for (table, items) in &self.tables {
            for (id, item) in items {
                let uses = item.iter().any(|(key, value)| {
                    value.as_str() == Some(name)
                        && match t {
                            POOLS => is_pool_key(key),
                            STRATEGIES => {
                                (*table == RULES && key == "strategy_id")
                                    || (*table == ADMINS && key == "strategy")
                            }
                            _ => false,
                        }
                });
                if uses {
                    users.push(format!("{table}/{id}"));
                }
            }
        }
        users
    }
}
