//! The client plus the shared copies of the collections rampart manages (pools, strategies,
//! strategy rules, strategy administrators, global schedule rules). Observation reads the
//! copies, so a steady-state resync costs list pages; a miss (an id or name not in the copy) is
//! looked up once at the vendor, and every write goes through to the copy.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::VENDOR;
use super::client::{Item, RuBackupClient, filter_equals, item_id};
use crate::vendor::error::{ErrorKind, VendorError, VendorResult};
use crate::vendor::snapshot::Collection;

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

/// The name of an item of `kind` (pools also carry `poolname`, the filter key).
pub fn item_name(kind: Kind, item: &Item) -> Option<&str> {
    let key = kind.name_key?;
    item.get(key)
        .or_else(|| item.get(kind.filter_key))
        .and_then(Value::as_str)
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
    /// Time zone the server reads cron fields in.
    pub server_tz: String,
}

impl Backend {
    pub fn new(client: RuBackupClient, ttl: Duration, server_tz: String) -> Self {
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
            server_tz,
        }
    }

    /// The whole collection (listed when the copy is older than the poll interval).
    pub async fn all(&self, c: &Cached, fresh: bool) -> VendorResult<Arc<BTreeMap<String, Item>>> {
        c.copy
            .get(fresh, || async {
                let items = self.client.list(c.kind.path, None).await?;
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
        let item = self.client.get(c.kind.path, id).await?;
        if let Some(item) = &item {
            c.copy.upsert(id.to_string(), item.clone());
        }
        Ok(item)
    }

    /// The item named `name`: from the copy, or (a miss) from a filtered list. Two items with
    /// one name are a conflict rampart does not resolve by guessing.
    pub async fn by_name(
        &self,
        c: &Cached,
        name: &str,
        fresh: bool,
    ) -> VendorResult<Option<(String, Item)>> {
        let copy = self.all(c, fresh).await?;
        let mut found: Vec<(String, Item)> = copy
            .iter()
            .filter(|(_, i)| item_name(c.kind, i) == Some(name))
            .map(|(id, i)| (id.clone(), i.clone()))
            .collect();
        if found.is_empty() {
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

    /// Ask the vendor for items named `name`, and record them in the copy.
    async fn lookup(&self, c: &Cached, name: &str) -> VendorResult<Vec<(String, Item)>> {
        let listed = self
            .client
            .list(c.kind.path, Some(filter_equals(c.kind.filter_key, name)))
            .await?;
        // The filter is a hint (`~` semantics, unknown keys): keep exact matches only.
        let found: Vec<(String, Item)> = listed
            .into_iter()
            .filter(|i| item_name(c.kind, i) == Some(name))
            .filter_map(|i| item_id(&i).map(|id| (id, i)))
            .collect();
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
        let item = self.client.get(c.kind.path, id).await?;
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
        let listed = self
            .client
            .list(c.kind.path, Some(filter_equals(c.kind.filter_key, value)))
            .await?;
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
