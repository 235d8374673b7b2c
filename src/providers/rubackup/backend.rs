//! The client plus the shared copies of the collections rampart manages (pools, strategies,
//! strategy rules, strategy administrators, global schedule rules). Observation reads the
//! copies, so a steady-state resync costs list pages; a miss (an id or name not in the copy) is
//! looked up once at the vendor, and every write goes through to the copy.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::VENDOR;
use super::client::{Item, RuBackupClient, filter_equals, item_id};
use super::schedule::ServerSchedule;
use crate::vendor::error::{ErrorKind, VendorError, VendorResult};
use crate::vendor::snapshot::{Collection, Derived};

/// A RuBackup collection: its path, the key of its name in items, and its `filterdata` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    pub path: &'static str,
    /// What the kind is called in messages.
    pub label: &'static str,
    /// Key of the name in list items; None for unnamed objects.
    pub name_key: Option<&'static str>,
    /// Key to filter names by. The document's only example, `poolname="test"`, differs from the
    /// body's `pool_name`.
    pub filter_key: &'static str,
}

pub const POOLS: Kind = Kind {
    path: "/pool_list",
    label: "pool",
    name_key: Some("pool_name"),
    filter_key: "poolname",
};
pub const STRATEGIES: Kind = Kind {
    path: "/backup_strategies",
    label: "strategy",
    name_key: Some("name"),
    filter_key: "name",
};
pub const RULES: Kind = Kind {
    path: "/strategy_rules",
    label: "strategy rule",
    name_key: None,
    filter_key: "strategy_id",
};
pub const ADMINS: Kind = Kind {
    path: "/strategy_administrators",
    label: "strategy administrator",
    name_key: None,
    filter_key: "strategy",
};
pub const SCHEDULES: Kind = Kind {
    path: "/global_schedule",
    label: "global schedule rule",
    name_key: Some("name"),
    filter_key: "name",
};

/// The task queue and the repository, read for backup health (unnamed, never written).
pub const TASKS: Kind = Kind {
    path: "/task_queue",
    label: "task",
    name_key: None,
    filter_key: "rule",
};
pub const REPOSITORY: Kind = Kind {
    path: "/repository",
    label: "backup",
    name_key: None,
    filter_key: "rule",
};

/// The name of an item of `kind`: under the body's key (`pool_name`), or under the filter key
/// (`poolname`) for a server that lists its column names.
pub fn item_name(kind: Kind, item: &Item) -> Option<&str> {
    let key = kind.name_key?;
    item.get(key)
        .or_else(|| item.get(kind.filter_key))
        .and_then(Value::as_str)
}

/// An item with its name under the body's key. GUESS (L998): the document filters pools by
/// `poolname` while its bodies say `pool_name`; a server that lists its column names would show
/// only `poolname`, and comparing the spec's `pool_name` with nothing would PATCH the name on
/// every pass.
pub fn canonical(kind: Kind, mut item: Item) -> Item {
    if let Some(key) = kind.name_key
        && key != kind.filter_key
        && !item.contains_key(key)
        && let Some(name) = item.get(kind.filter_key).cloned()
    {
        item.insert(key.to_string(), name);
    }
    item
}

/// Tasks or repository records grouped by what made or holds them (a global rule's or a
/// strategy's id, a pool's name: the item's `rule`, `strategy` or `pool` as text).
pub type ByOwner = HashMap<String, Vec<Item>>;

/// The task queue and the repository grouped by one key, once per listing of each.
pub struct Grouped {
    key: &'static str,
    tasks: Derived<BTreeMap<String, Item>, ByOwner>,
    records: Derived<BTreeMap<String, Item>, ByOwner>,
}

impl Grouped {
    fn by(key: &'static str) -> Self {
        Grouped {
            key,
            tasks: Derived::default(),
            records: Derived::default(),
        }
    }

    fn group(&self, items: &BTreeMap<String, Item>) -> ByOwner {
        let mut grouped = ByOwner::new();
        for item in items.values() {
            if let Some(owner) = super::backup_runs::owner_of(item, self.key) {
                grouped.entry(owner).or_default().push(item.clone());
            }
        }
        grouped
    }
}

/// The items of `copy` named `name`.
fn named(kind: Kind, copy: &BTreeMap<String, Item>, name: &str) -> Vec<(String, Item)> {
    copy.iter()
        .filter(|(_, i)| item_name(kind, i) == Some(name))
        .map(|(id, i)| (id.clone(), i.clone()))
        .collect()
}

/// A shared copy of one collection.
pub struct Cached {
    pub kind: Kind,
    pub copy: Collection<Item>,
}

/// Everything the adapters of one provider configuration share.
pub struct Backend {
    pub client: RuBackupClient,
    pub pools: Cached,
    pub strategies: Cached,
    pub rules: Cached,
    pub admins: Cached,
    pub schedules: Cached,
    pub tasks: Cached,
    pub repository: Cached,
    /// Tasks and repository records by the global schedule rule they name, per listing
    /// (every Policy of a resync asks).
    /// Tasks and records by global schedule rule, by strategy and by pool (backup health).
    pub by_rule: Grouped,
    pub by_strategy: Grouped,
    pub by_pool: Grouped,
    /// How the server reads schedules.
    pub schedule: ServerSchedule,
}

impl Backend {
    pub fn new(client: RuBackupClient, ttl: Duration, schedule: ServerSchedule) -> Self {
        let cached = |kind| Cached {
            kind,
            copy: Collection::new(ttl),
        };
        Backend {
            client,
            pools: cached(POOLS),
            strategies: cached(STRATEGIES),
            rules: cached(RULES),
            admins: cached(ADMINS),
            schedules: cached(SCHEDULES),
            tasks: cached(TASKS),
            repository: cached(REPOSITORY),
            by_rule: Grouped::by("rule"),
            by_strategy: Grouped::by("strategy"),
            by_pool: Grouped::by("pool"),
            schedule,
        }
    }

    /// A list call, its items read by [`canonical`].
    async fn list(&self, c: &Cached, filter: Option<String>) -> VendorResult<Vec<Item>> {
        let items = self.client.list(c.kind.path, filter).await?;
        Ok(items.into_iter().map(|i| canonical(c.kind, i)).collect())
    }

    /// A GET of one item, read by [`canonical`].
    async fn get(&self, c: &Cached, id: &str) -> VendorResult<Option<Item>> {
        let item = self.client.get(c.kind.path, id).await?;
        Ok(item.map(|i| canonical(c.kind, i)))
    }

    /// The tasks and the repository records grouped as `g` says (each collection listed when
    /// its copy is older than the poll interval).
    pub async fn grouped(&self, g: &Grouped) -> VendorResult<(Arc<ByOwner>, Arc<ByOwner>)> {
        let tasks = self.all(&self.tasks, false).await?;
        let records = self.all(&self.repository, false).await?;
        Ok((
            g.tasks.get(&tasks, |t| g.group(t)),
            g.records.get(&records, |r| g.group(r)),
        ))
    }

    /// The runs of the one known as any of `names` (an id, a name) under `g`'s key, and the
    /// backups the repository holds for it.
    pub async fn runs_of(
        &self,
        g: &Grouped,
        names: &[&str],
        tz: &jiff::tz::TimeZone,
    ) -> VendorResult<(Vec<crate::health::BackupRun>, usize)> {
        let (tasks, records) = self.grouped(g).await?;
        let mut names = names.to_vec();
        names.dedup();
        let of = |m: &ByOwner| -> Vec<Item> {
            names
                .iter()
                .flat_map(|n| m.get(*n).cloned().unwrap_or_default())
                .collect()
        };
        Ok(super::backup_runs::runs_of(
            &of(&tasks),
            &of(&records),
            g.key,
            &names,
            tz,
        ))
    }

    /// The whole collection (listed when the copy is older than the poll interval).
    pub async fn all(&self, c: &Cached, fresh: bool) -> VendorResult<Arc<BTreeMap<String, Item>>> {
        c.copy
            .get(fresh, || async {
                let items = self.list(c, None).await?;
                Ok(items
                    .into_iter()
                    .filter_map(|i| item_id(&i).map(|id| (id, i)))
                    .collect())
            })
            .await
    }

    /// One item by id: from the copy, or (a miss) from the vendor.
    pub async fn by_id(&self, c: &Cached, id: &str, fresh: bool) -> VendorResult<Option<Item>> {
        if let Some(item) = self.all(c, fresh).await?.get(id) {
            return Ok(Some(item.clone()));
        }
        let item = self.get(c, id).await?;
        if let Some(item) = &item {
            c.copy.upsert(id.to_string(), item.clone());
        }
        Ok(item)
    }

    /// The item named `name`: from the copy, or (a miss in a copy that was not listed just now)
    /// from the vendor. Two items with one name are a conflict rampart does not resolve by
    /// guessing.
    pub async fn by_name(
        &self,
        c: &Cached,
        name: &str,
        fresh: bool,
    ) -> VendorResult<Option<(String, Item)>> {
        let copy = self.all(c, fresh).await?;
        let mut found = named(c.kind, &copy, name);
        if found.is_empty() && !fresh {
            found = self.lookup(c, name).await?;
        }
        match found.len() {
            0 => Ok(None),
            1 => Ok(found.pop()),
            n => Err(VendorError::new(
                VENDOR,
                format!("GET {}", c.kind.path),
                ErrorKind::Conflict,
                format!(
                    "{n} {}s are named '{name}'; rampart will not pick one (set rampart.dev/external-name to the id)",
                    c.kind.label
                ),
            )),
        }
    }

    /// Ask the vendor for items named `name`, and record them in the copy. The filter is a
    /// hint, never the answer: GUESS (L994-1004) the filter key is the document's example
    /// (`poolname`) or the body's name key, and `=` may not mean "equals" to a real server; so
    /// the matches are checked exactly, and a filter the server refuses or that finds nothing
    /// is confirmed by listing the whole collection (a wrong "not there" would create a
    /// duplicate).
    async fn lookup(&self, c: &Cached, name: &str) -> VendorResult<Vec<(String, Item)>> {
        let filtered = self
            .list(c, Some(filter_equals(c.kind.filter_key, name)))
            .await;
        let listed = match filtered {
            Ok(listed) => listed,
            Err(e) if e.kind == ErrorKind::Rejected => {
                tracing::debug!(vendor = VENDOR, collection = c.kind.path, error = %e, "the name filter was refused; listing the collection");
                Vec::new()
            }
            Err(e) => return Err(e),
        };
        let found: Vec<(String, Item)> = listed
            .into_iter()
            .filter(|i| item_name(c.kind, i) == Some(name))
            .filter_map(|i| item_id(&i).map(|id| (id, i)))
            .collect();
        if found.is_empty() {
            return Ok(named(c.kind, &*self.all(c, true).await?, name));
        }
        for (id, item) in &found {
            c.copy.upsert(id.clone(), item.clone());
        }
        Ok(found)
    }

    /// Find an object right after creating it: the create response carries no id.
    pub async fn created(&self, c: &Cached, name: &str) -> VendorResult<(String, Item)> {
        let mut found = self.lookup(c, name).await?;
        match found.len() {
            1 => Ok(found.pop().unwrap()),
            n => Err(VendorError::new(
                VENDOR,
                format!("GET {}", c.kind.path),
                ErrorKind::Protocol,
                format!(
                    "after creating {} '{name}', RuBackup lists {n} with that name",
                    c.kind.label
                ),
            )),
        }
    }

    /// Read one item again after a write and record it.
    pub async fn reread(&self, c: &Cached, id: &str) -> VendorResult<Option<Item>> {
        let item = self.get(c, id).await?;
        match &item {
            Some(i) => c.copy.upsert(id.to_string(), i.clone()),
            None => c.copy.remove(id),
        }
        Ok(item)
    }

    /// Delete one item and forget it; true when it existed.
    pub async fn delete(&self, c: &Cached, id: &str) -> VendorResult<bool> {
        let existed = self.client.delete(c.kind.path, id).await?;
        c.copy.remove(id);
        Ok(existed)
    }

    /// The items whose `key` holds `value` (children of a strategy), refreshed from the vendor
    /// after the caller changed them.
    pub async fn children(
        &self,
        c: &Cached,
        key: &str,
        value: &str,
        fresh: bool,
    ) -> VendorResult<Vec<(String, Item)>> {
        let copy = self.all(c, fresh).await?;
        Ok(copy
            .iter()
            .filter(|(_, i)| i.get(key).and_then(Value::as_str) == Some(value))
            .map(|(id, i)| (id.clone(), i.clone()))
            .collect())
    }

    /// Re-read the children of a strategy after changing them, and bring the copy in line.
    pub async fn refresh_children(
        &self,
        c: &Cached,
        key: &str,
        value: &str,
        before: &[String],
    ) -> VendorResult<()> {
        let filtered = self
            .list(c, Some(filter_equals(c.kind.filter_key, value)))
            .await;
        let listed = match filtered {
            Ok(listed) => listed,
            // A server that does not filter by this key: list it all (which refreshes the copy).
            Err(e) if e.kind == ErrorKind::Rejected => {
                self.all(c, true).await?;
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        for id in before {
            c.copy.remove(id);
        }
        for item in listed
            .into_iter()
            .filter(|i| i.get(key).and_then(Value::as_str) == Some(value))
        {
            if let Some(id) = item_id(&item) {
                c.copy.upsert(id, item);
            }
        }
        Ok(())
    }
}
