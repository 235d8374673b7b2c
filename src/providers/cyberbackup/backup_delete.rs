//! Deleting backups by id (`DELETE /backups`, §2.10.7.5): the call names the backup, its
//! archive, its vault and the agent of its resource's machine, which the Backup kind does not
//! keep; they are read from the backup listing (§2.10.7.4) and the resources (§2.10.1.8).

use std::collections::BTreeMap;

use tracing::info;

use super::catalog::Catalog;
use super::client::protocol;
use super::filter::Query;
use super::models::{Backup, Resource};
use crate::vendor::error::VendorResult;

const OPERATION: &str = "DELETE /backups";

/// The parameters one `DELETE /backups` call shares: archive, vault, machine.
type Group = (String, String, Option<String>);

/// The calls deleting `ids`: one per (archive, vault, machine), naming each of its backups
/// (`&backup_id=…&backup_id=…`, §2.10.7.5). Backups not listed (or listed deleted) are gone
/// already and need no call. Errors: a listed backup without the archive or vault the call
/// must name.
pub fn delete_calls(
    ids: &[String],
    listed: &BTreeMap<String, Backup>,
    resources: &BTreeMap<String, Resource>,
) -> Result<Vec<Query>, String> {
    let mut groups: BTreeMap<Group, Vec<&str>> = BTreeMap::new();
    for id in ids {
        let Some(b) = listed.get(id).filter(|b| !b.deleted) else {
            info!(vendor = super::VENDOR, backup = %id, "backup gone already");
            continue;
        };
        let (Some(archive), Some(vault)) = (b.archive_id.clone(), b.vault_id.clone()) else {
            return Err(format!(
                "the listing names no archive_id or vault_id for backup {id}"
            ));
        };
        // The agent of the backed-up resource's machine (§2.10.7.5 step 6).
        let machine = b
            .resource_ids
            .first()
            .and_then(|r| resources.get(&r.to_ascii_lowercase()))
            .and_then(|r| r.agent_id.clone());
        groups
            .entry((archive, vault, machine))
            .or_default()
            .push(id);
    }
    Ok(groups
        .into_iter()
        .map(|((archive, vault, machine), backups)| {
            let mut q = Query::new();
            for b in backups {
                q = q.param("backup_id", b);
            }
            q = q.param("archive_id", &archive).param("vault_id", &vault);
            match &machine {
                Some(m) => q.param("machine_id", m),
                None => q,
            }
        })
        .collect())
}

impl Catalog {
    /// Delete these backups; one gone already (not listed, or 404) is fine.
    pub async fn delete_backups(&self, ids: &[String]) -> VendorResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let listed = self.backup_list(true).await?;
        let resources = self.resources(false).await?;
        let calls = delete_calls(ids, &listed, &resources).map_err(|m| protocol(OPERATION, m))?;
        for q in calls {
            match self.client.delete(OPERATION, "/backups".into(), &q).await {
                Ok(_) => info!(vendor = super::VENDOR, query = ?q.pairs(), "deleted backups"),
                Err(e) if e.is_not_found() => {
                    info!(vendor = super::VENDOR, query = ?q.pairs(), "backups gone already")
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn by<T>(items: serde_json::Value, key: fn(&T) -> String) -> BTreeMap<String, T>
    where
        T: serde::de::DeserializeOwned,
    {
        let items: Vec<T> = serde_json::from_value(items).unwrap();
        items.into_iter().map(|i| (key(&i), i)).collect()
    }

    #[test]
    fn each_archive_is_one_call_naming_its_backups_vault_and_machine() {
        let listed: BTreeMap<String, Backup> = by(
            json!([
                {"backup_id": "b1", "archive_id": "a1", "vault_id": "v", "resource_ids": ["E68393C6-E69E-3765-815F-E056D6A6F50E"]},
                {"backup_id": "b2", "archive_id": "a1", "vault_id": "v", "resource_ids": ["E68393C6-E69E-3765-815F-E056D6A6F50E"]},
                {"backup_id": "b3", "archive_id": "a2", "vault_id": "v"},
                {"backup_id": "b4", "archive_id": "a2", "vault_id": "v", "deleted": true},
                {"backup_id": "b5", "vault_id": "v"}
            ]),
            |b| b.backup_id.clone(),
        );
        let resources: BTreeMap<String, Resource> = by(
            json!([{"id": "e68393c6-e69e-3765-815f-e056d6a6f50e", "agent_id": "agent-1"}]),
            |r| r.id.to_ascii_lowercase(),
        );
        let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let calls =
            delete_calls(&ids(&["b1", "b2", "b3", "b4", "gone"]), &listed, &resources).unwrap();
        let pairs: Vec<Vec<(String, String)>> = calls.iter().map(|q| q.pairs().to_vec()).collect();
        let p = |k: &str, v: &str| (k.to_string(), v.to_string());
        assert_eq!(
            pairs,
            [
                vec![
                    p("backup_id", "b1"),
                    p("backup_id", "b2"),
                    p("archive_id", "a1"),
                    p("vault_id", "v"),
                    p("machine_id", "agent-1"),
                ],
                vec![
                    p("backup_id", "b3"),
                    p("archive_id", "a2"),
                    p("vault_id", "v")
                ],
            ]
        );
        assert!(delete_calls(&ids(&["b5"]), &listed, &resources).is_err());
        assert!(
            delete_calls(&ids(&["b4"]), &listed, &resources)
                .unwrap()
                .is_empty()
        );
    }
}
