//! The CBR vault a Vault spec asks for, and how an observed vault differs from it. Pure: the
//! adapter resolves ids (policy, inventory) first and hands them in.

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};

use super::models::{
    BillingCreate, BillingUpdate, BindRules, ResourceCreate, ResourceExtraInfo, Tag, Vault,
    VaultCreate, VaultUpdate,
};
use super::vault_name::derived_vault_name;
use crate::api::common::Drift;
use crate::api::vault::{ObservedResource, VaultObservation};
use crate::api::vendors::huawei_cbr::{CbrResource, CbrTag, CbrVault};

/// Tag key of rampart's ownership marker on vaults it creates.
pub const OWNER_TAG: &str = "rampart-owner";

/// Everything the spec asks for, with references already resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredVault<'a> {
    pub spec: &'a CbrVault,
    pub name: String,
    /// Listed resources plus those selected from an inventory, by id.
    pub resources: BTreeMap<String, CbrResource>,
    /// The policy the vault should be bound to (resolved `policyRef`), if any.
    pub policy_id: Option<String>,
}

impl<'a> DesiredVault<'a> {
    /// `metadata_name` is the object's: the vault's name when the spec gives none (shortened
    /// to CBR's limit).
    pub fn new(
        spec: &'a CbrVault,
        metadata_name: &str,
        selected: Vec<CbrResource>,
        policy_id: Option<String>,
    ) -> Self {
        let mut resources: BTreeMap<String, CbrResource> = BTreeMap::new();
        // Listed resources win over selected ones (they may carry excludeVolumes).
        for r in selected.into_iter().chain(spec.resources.iter().cloned()) {
            resources.insert(r.id.clone(), r);
        }
        DesiredVault {
            spec,
            name: spec
                .name
                .clone()
                .unwrap_or_else(|| derived_vault_name(metadata_name)),
            resources,
            policy_id,
        }
    }

    /// The create request, carrying the ownership tag and `resources` (at most 255: see
    /// `vault_resources::split_for_create`).
    pub fn create_request(&self, marker: &str, resources: Vec<ResourceCreate>) -> VaultCreate {
        let s = self.spec;
        let mut billing = BillingCreate::new(s.object_type, s.size_gb);
        billing.consistent_level = s.consistent_level.clone();
        billing.charging_mode = Some(s.charging_mode.clone());
        billing.is_auto_renew = s.is_auto_renew;
        billing.is_auto_pay = s.is_auto_pay;
        billing.console_url = s.console_url.clone();
        billing.is_multi_az = s.is_multi_az;
        let mut tags: Vec<Tag> = s.tags.iter().map(tag).collect();
        tags.push(Tag {
            key: OWNER_TAG.into(),
            value: Some(marker.into()),
        });
        VaultCreate {
            name: self.name.clone(),
            billing,
            description: s.description.clone(),
            resources,
            tags,
            backup_policy_id: self.policy_id.clone(),
            auto_bind: s.auto_bind,
            bind_rules: s.bind_rules.as_ref().map(|t| BindRules {
                tags: t.iter().map(tag).collect(),
            }),
            backup_name_prefix: s.backup_name_prefix.clone(),
            enterprise_project_id: s.enterprise_project_id.clone(),
        }
    }

    /// Hash of the write-only fields (`smnNotify`, `threshold`) the vendor never returns.
    pub fn write_only_hash(&self) -> Option<String> {
        let s = self.spec;
        if s.smn_notify.is_none() && s.threshold.is_none() {
            return None;
        }
        let text = format!("smn_notify={:?};threshold={:?}", s.smn_notify, s.threshold);
        Some(hex::encode(&Sha256::digest(text.as_bytes())[..8]))
    }

    /// The fields a PUT must change (only those that differ), plus the write-only fields when
    /// `write_only` is set.
    pub fn update_request(&self, observed: &Vault, write_only: bool) -> VaultUpdate {
        let s = self.spec;
        let mut u = VaultUpdate::default();
        if observed.name != self.name {
            u.name = Some(self.name.clone());
        }
        if observed.billing.size.is_some_and(|size| size < s.size_gb) {
            u.billing = Some(BillingUpdate { size: s.size_gb });
        }
        if let Some(b) = s.auto_bind
            && observed.auto_bind.unwrap_or(false) != b
        {
            u.auto_bind = Some(b);
        }
        if let Some(rules) = &s.bind_rules
            && !same_tags(rules, &observed.bind_rules.tags)
        {
            u.bind_rules = Some(BindRules {
                tags: rules.iter().map(tag).collect(),
            });
        }
        if let Some(e) = s.auto_expand
            && observed.auto_expand.unwrap_or(false) != e
        {
            u.auto_expand = Some(e);
        }
        if write_only {
            u.smn_notify = s.smn_notify;
            u.threshold = s.threshold;
        }
        u
    }

    /// Resources to add: wanted, not in the vault (`None` before it exists), and not held by
    /// another vault (`elsewhere`: CBR would refuse the whole call for one of them).
    pub fn to_add(
        &self,
        observed: Option<&Vault>,
        elsewhere: &BTreeSet<String>,
    ) -> Vec<ResourceCreate> {
        self.to_add_ids(observed, elsewhere)
            .into_iter()
            .map(|id| resource_create(&self.resources[id]))
            .collect()
    }

    /// Resources in the vault that the spec neither lists nor selects.
    pub fn unmanaged(&self, observed: &Vault) -> Vec<String> {
        observed
            .resources
            .iter()
            .filter(|r| !self.resources.contains_key(&r.id))
            .map(|r| r.id.clone())
            .collect()
    }

    /// Field-by-field differences. `bound_policy` is the policy CBR reports for the vault;
    /// resources `elsewhere` are not missing (another vault holds them), and only resources
    /// the prune decision lets go now (`removable`) are extra.
    pub fn drift(
        &self,
        observed: &Vault,
        bound_policy: Option<&str>,
        elsewhere: &BTreeSet<String>,
        removable: &[String],
    ) -> Vec<Drift> {
        let s = self.spec;
        let mut d = Vec::new();
        let mut push = |field: &str, desired: String, seen: String| {
            d.push(Drift {
                field: format!("spec.huaweiCbr.{field}"),
                desired,
                observed: seen,
            });
        };
        if observed.name != self.name {
            push("name", json(&self.name), json(&observed.name));
        }
        // A vault larger than asked (auto-expanded, or grown by hand) is fine: CBR cannot
        // shrink, and more room loses nothing.
        if let Some(size) = observed.billing.size
            && size < s.size_gb
        {
            push("sizeGB", s.size_gb.to_string(), size.to_string());
        }
        if let Some(b) = s.auto_bind
            && observed.auto_bind.unwrap_or(false) != b
        {
            push(
                "autoBind",
                b.to_string(),
                observed.auto_bind.unwrap_or(false).to_string(),
            );
        }
        if let Some(rules) = &s.bind_rules
            && !same_tags(rules, &observed.bind_rules.tags)
        {
            let seen: Vec<String> = observed
                .bind_rules
                .tags
                .iter()
                .map(|t| format!("{}={}", t.key, t.value.as_deref().unwrap_or("")))
                .collect();
            let want: Vec<String> = rules
                .iter()
                .map(|t| format!("{}={}", t.key, t.value))
                .collect();
            push("bindRules", json(&want), json(&seen));
        }
        if let Some(e) = s.auto_expand
            && observed.auto_expand.unwrap_or(false) != e
        {
            push(
                "autoExpand",
                e.to_string(),
                observed.auto_expand.unwrap_or(false).to_string(),
            );
        }
        let missing: Vec<&str> = self.to_add_ids(Some(observed), elsewhere);
        if !missing.is_empty() {
            push("resources", json(&missing), "missing from the vault".into());
        }
        if s.prune_resources && !removable.is_empty() {
            push("resources", "pruned".into(), json(&removable));
        }
        if self.policy_id.as_deref() != bound_policy {
            push("policyRef", json(&self.policy_id), json(&bound_policy));
        }
        d
    }

    fn to_add_ids(&self, observed: Option<&Vault>, elsewhere: &BTreeSet<String>) -> Vec<&str> {
        let have: BTreeSet<&str> = observed
            .iter()
            .flat_map(|v| v.resources.iter().map(|r| r.id.as_str()))
            .collect();
        self.resources
            .keys()
            .map(String::as_str)
            .filter(|id| !have.contains(id) && !elsewhere.contains(*id))
            .collect()
    }
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn tag(t: &CbrTag) -> Tag {
    Tag {
        key: t.key.clone(),
        value: Some(t.value.clone()),
    }
}

fn same_tags(want: &[CbrTag], have: &[Tag]) -> bool {
    let a: BTreeSet<(&str, &str)> = want
        .iter()
        .map(|t| (t.key.as_str(), t.value.as_str()))
        .collect();
    let b: BTreeSet<(&str, &str)> = have
        .iter()
        .map(|t| (t.key.as_str(), t.value.as_deref().unwrap_or("")))
        .collect();
    a == b
}

fn resource_create(r: &CbrResource) -> ResourceCreate {
    ResourceCreate {
        id: r.id.clone(),
        type_: r.type_,
        name: r.name.clone(),
        extra_info: (!r.exclude_volumes.is_empty()).then(|| ResourceExtraInfo {
            exclude_volumes: r.exclude_volumes.clone(),
        }),
    }
}

/// `status.atProvider` of a vault.
pub fn observation(
    v: &Vault,
    bound_policy: Option<&str>,
    unmanaged: Vec<String>,
    selected: &[CbrResource],
) -> VaultObservation {
    let mut details = BTreeMap::new();
    for (k, val) in [
        ("specCode", v.billing.spec_code.clone()),
        ("allocatedGB", v.billing.allocated.map(|a| a.to_string())),
        ("frozenScene", v.billing.frozen_scene.clone()),
        ("providerId", v.provider_id.clone()),
        ("autoExpand", v.auto_expand.map(|b| b.to_string())),
    ] {
        if let Some(val) = val {
            details.insert(k.to_string(), val);
        }
    }
    VaultObservation {
        id: Some(v.id.clone()),
        name: Some(v.name.clone()),
        state: v.billing.status.clone(),
        capacity_gb: v.billing.size,
        used_mb: v.billing.used,
        resource_count: Some(v.resources.len() as i32),
        resources: v
            .resources
            .iter()
            .map(|r| ObservedResource {
                id: r.id.clone(),
                type_: Some(r.type_.clone()),
                name: r.name.clone(),
                protect_status: r.protect_status.clone(),
            })
            .collect(),
        unmanaged_resources: unmanaged,
        selected_resources: selected
            .iter()
            .map(|r| ObservedResource {
                id: r.id.clone(),
                type_: serde_json::to_value(r.type_)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from)),
                name: r.name.clone(),
                protect_status: None,
            })
            .collect(),
        policy_id: bound_policy.map(String::from),
        details,
        // Prune state and resources held elsewhere come from the adapter's decisions.
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::vendors::huawei_cbr::{CbrObjectType, CbrResourceType};
    use crate::providers::huawei_cbr::models::{Billing, VaultResource};

    fn spec() -> CbrVault {
        serde_json::from_value(serde_json::json!({
            "objectType": "server", "sizeGB": 100,
            "resources": [{"id": "s1", "type": "OS::Nova::Server", "excludeVolumes": ["d9"]}],
            "tags": [{"key": "team", "value": "a"}],
            "autoBind": true, "smnNotify": true, "threshold": 70
        }))
        .unwrap()
    }

    fn observed(name: &str, size: i64, resources: &[&str]) -> Vault {
        Vault {
            id: "v1".into(),
            name: name.into(),
            billing: Billing {
                size: Some(size),
                status: Some("available".into()),
                ..Default::default()
            },
            resources: resources
                .iter()
                .map(|id| VaultResource {
                    id: id.to_string(),
                    type_: "OS::Nova::Server".into(),
                    ..Default::default()
                })
                .collect(),
            auto_bind: Some(true),
            ..Default::default()
        }
    }

    #[test]
    fn create_request_carries_every_field_and_the_owner_tag() {
        let s = spec();
        let d = DesiredVault::new(&s, "ns-v", vec![], Some("pol-1".into()));
        let c = d.create_request("abc123", d.to_add(None, &BTreeSet::new()));
        assert_eq!(c.name, "ns-v");
        assert_eq!(c.billing.object_type, CbrObjectType::Server);
        assert_eq!(c.billing.size, 100);
        assert_eq!(c.billing.consistent_level, "crash_consistent");
        assert_eq!(c.backup_policy_id.as_deref(), Some("pol-1"));
        assert_eq!(
            c.resources[0].extra_info.as_ref().unwrap().exclude_volumes,
            vec!["d9"]
        );
        assert!(c.tags.contains(&Tag {
            key: OWNER_TAG.into(),
            value: Some("abc123".into())
        }));
        assert!(c.tags.contains(&Tag {
            key: "team".into(),
            value: Some("a".into())
        }));
        assert_eq!(c.auto_bind, Some(true));
    }

    #[test]
    fn in_sync_vault_has_no_drift_and_a_larger_vault_is_fine() {
        let s = spec();
        let d = DesiredVault::new(&s, "ns-v", vec![], None);
        assert!(drift(&d, &observed("ns-v", 100, &["s1"]), None).is_empty());
        assert!(drift(&d, &observed("ns-v", 500, &["s1"]), None).is_empty());
    }

    #[test]
    fn each_difference_is_named_and_the_update_carries_only_it() {
        let s = spec();
        let d = DesiredVault::new(&s, "ns-v", vec![], Some("p2".into()));
        let o = observed("renamed", 50, &[]);
        let fields: Vec<String> = drift(&d, &o, Some("p1"))
            .into_iter()
            .map(|x| x.field)
            .collect();
        assert_eq!(
            fields,
            [
                "spec.huaweiCbr.name",
                "spec.huaweiCbr.sizeGB",
                "spec.huaweiCbr.resources",
                "spec.huaweiCbr.policyRef"
            ]
        );
        let u = d.update_request(&o, false);
        assert_eq!(u.name.as_deref(), Some("ns-v"));
        assert_eq!(u.billing, Some(BillingUpdate { size: 100 }));
        assert_eq!(u.auto_bind, None, "autoBind already matches");
        assert_eq!(
            u.smn_notify, None,
            "write-only fields only when their hash changed"
        );
        let u = d.update_request(&observed("ns-v", 100, &["s1"]), true);
        assert_eq!((u.smn_notify, u.threshold), (Some(true), Some(70)));
        assert!(u.name.is_none() && u.billing.is_none());
    }

    fn drift(d: &DesiredVault<'_>, o: &Vault, bound: Option<&str>) -> Vec<Drift> {
        d.drift(o, bound, &BTreeSet::new(), &[])
    }

    #[test]
    fn extra_resources_are_drift_only_when_pruning_lets_them_go_now() {
        let mut s = spec();
        let o = observed("ns-v", 100, &["s1", "stranger"]);
        let removable = vec!["stranger".to_string()];
        let none = BTreeSet::new();
        assert!(
            DesiredVault::new(&s, "ns-v", vec![], None)
                .drift(&o, None, &none, &removable)
                .is_empty(),
            "not without pruneResources"
        );
        assert_eq!(
            DesiredVault::new(&s, "ns-v", vec![], None).unmanaged(&o),
            vec!["stranger"]
        );
        s.prune_resources = true;
        let d = DesiredVault::new(&s, "ns-v", vec![], None);
        assert!(
            d.drift(&o, None, &none, &[]).is_empty(),
            "not while the prune decision holds it"
        );
        let fields: Vec<String> = d
            .drift(&o, None, &none, &removable)
            .into_iter()
            .map(|x| x.field)
            .collect();
        assert_eq!(fields, ["spec.huaweiCbr.resources"]);
    }

    #[test]
    fn resources_another_vault_holds_are_neither_sent_nor_missing() {
        let s = spec();
        let d = DesiredVault::new(&s, "ns-v", vec![], None);
        let elsewhere = BTreeSet::from(["s1".to_string()]);
        assert!(d.to_add(None, &elsewhere).is_empty());
        assert!(
            d.drift(&observed("ns-v", 100, &[]), None, &elsewhere, &[])
                .is_empty()
        );
        assert_eq!(d.to_add(None, &BTreeSet::new()).len(), 1);
    }

    #[test]
    fn a_long_object_name_becomes_a_vault_name_cbr_accepts() {
        let s = spec();
        let long = "n".repeat(70);
        let d = DesiredVault::new(&s, &long, vec![], None);
        assert_eq!(d.name.chars().count(), 64);
        let mut named = spec();
        named.name = Some("chosen".into());
        assert_eq!(
            DesiredVault::new(&named, &long, vec![], None).name,
            "chosen"
        );
    }

    #[test]
    fn selected_resources_merge_with_listed_ones() {
        let s = spec();
        let selected = vec![
            CbrResource {
                id: "s2".into(),
                type_: CbrResourceType::Server,
                name: Some("vm-2".into()),
                exclude_volumes: vec![],
            },
            CbrResource {
                id: "s1".into(),
                type_: CbrResourceType::Server,
                name: None,
                exclude_volumes: vec![],
            },
        ];
        let d = DesiredVault::new(&s, "ns-v", selected, None);
        assert_eq!(d.resources.keys().collect::<Vec<_>>(), ["s1", "s2"]);
        assert_eq!(
            d.resources["s1"].exclude_volumes,
            vec!["d9"],
            "the listed entry wins"
        );
        let add: Vec<String> = d
            .to_add(Some(&observed("ns-v", 100, &["s1"])), &BTreeSet::new())
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(add, ["s2"]);
    }

    #[test]
    fn write_only_hash_changes_with_the_values_and_is_absent_when_unset() {
        let s = spec();
        let h1 = DesiredVault::new(&s, "n", vec![], None).write_only_hash();
        let mut s2 = spec();
        s2.threshold = Some(71);
        let h2 = DesiredVault::new(&s2, "n", vec![], None).write_only_hash();
        assert!(h1.is_some() && h1 != h2);
        let mut s3 = spec();
        s3.smn_notify = None;
        s3.threshold = None;
        assert_eq!(
            DesiredVault::new(&s3, "n", vec![], None).write_only_hash(),
            None
        );
    }
}
