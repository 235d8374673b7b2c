//! Ideco FirewallRules end to end: 20 rules with mixed priorities across two sections among 10
//! rules that people own, through the real API server and the operator. Order, exact move
//! counts, device edits put back, and deletion by policy.

use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::Client;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use rampart::api::vendors::ideco::IdecoSection;
use rampart::api::{FirewallRule, ProviderConfig};
use rampart::providers::ideco::order::{self, Anchor, Entry, Slot};
use rampart::simulators::harness::SimServer;
use rampart::simulators::ideco::{self, IdecoSim, IdecoSimOptions};
use serde_json::{Value, json};

use crate::cbr_world::{T, patch_spec};
use crate::support::{env, has_condition, is_ready, namespace, wait_for};

const SENTINEL: &str = "--- rampart rules below ---";

struct IdecoWorld {
    server: SimServer,
    sim: IdecoSim,
    ns: String,
    client: Client,
}

impl IdecoWorld {
    async fn new(prefix: &str) -> Self {
        let client = env().client().await;
        let options = IdecoSimOptions::default();
        let (server, sim) = ideco::start("127.0.0.1:0".parse().unwrap(), options.clone())
            .await
            .unwrap();
        let ns = namespace(&client, prefix).await;
        let secret: Secret = serde_json::from_value(json!({
            "metadata": {"name": "ngfw-login"},
            "stringData": {"login": options.login, "password": options.password}
        }))
        .unwrap();
        Api::<Secret>::namespaced(client.clone(), &ns)
            .create(&PostParams::default(), &secret)
            .await
            .unwrap();
        let pc: ProviderConfig = serde_json::from_value(json!({
            "apiVersion": "rampart.dev/v1alpha1", "kind": "ProviderConfig", "metadata": {"name": "ngfw"},
            "spec": {"type": "Ideco", "endpoint": server.url(), "credentials": {"secretRef": {"name": "ngfw-login"}},
                     "pollIntervalSeconds": 5, "budget": {"qps": 200, "burst": 200}, "ideco": {}}
        }))
        .unwrap();
        let pcs = Api::<ProviderConfig>::namespaced(client.clone(), &ns);
        pcs.create(&PostParams::default(), &pc).await.unwrap();
        wait_for(&pcs, "ngfw", is_ready(), T).await;
        IdecoWorld {
            server,
            sim,
            ns,
            client,
        }
    }

    fn rules(&self) -> Api<FirewallRule> {
        Api::namespaced(self.client.clone(), &self.ns)
    }

    async fn create(&self, name: &str, section: IdecoSection, placement: Value, extra: Value) {
        let action = if section == IdecoSection::Log {
            "mark_log"
        } else {
            "accept"
        };
        let mut block = json!({"section": section.as_str(), "action": action, "comment": name, "placement": placement});
        if let (Some(b), Some(e)) = (block.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        let fr: FirewallRule = serde_json::from_value(json!({
            "apiVersion": "rampart.dev/v1alpha1", "kind": "FirewallRule", "metadata": {"name": name},
            "spec": {"providerConfigRef": {"name": "ngfw"}, "deletionPolicy": "Delete", "ideco": block}
        }))
        .unwrap();
        self.rules()
            .create(&PostParams::default(), &fr)
            .await
            .unwrap();
    }

    fn comments(&self, section: IdecoSection) -> Vec<String> {
        self.sim
            .rules(section)
            .iter()
            .map(|r| r["comment"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// The names of rampart's rules in device order (the comment without the marker).
    fn owned_in_order(&self, section: IdecoSection) -> Vec<String> {
        self.comments(section)
            .iter()
            .filter_map(|c| c.split_once(" [rampart:").map(|(n, _)| n.to_string()))
            .collect()
    }

    fn people(&self, section: IdecoSection) -> Vec<Value> {
        self.sim
            .rules(section)
            .into_iter()
            .filter(|r| {
                !r["comment"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("[rampart:")
            })
            .collect()
    }

    fn moves(&self) -> u64 {
        self.server
            .control
            .count("PATCH /firewall/rules/{section}/move")
    }

    /// Wait until the device shows `expected` as rampart's order in `section`.
    async fn until_order(&self, section: IdecoSection, expected: &[String]) {
        let deadline = tokio::time::Instant::now() + T;
        while self.owned_in_order(section) != expected {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{section:?} never reached {expected:?}; device: {:#?}",
                self.comments(section)
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// Declared order of (name, priority) pairs: by priority, then by name.
fn declared(mut rules: Vec<(String, i32)>) -> Vec<String> {
    rules.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    rules.into_iter().map(|r| r.0).collect()
}

fn predicted_moves(
    w: &IdecoWorld,
    section: IdecoSection,
    want: &[String],
    anchor: Anchor,
) -> usize {
    let entries: Vec<Entry> = w
        .sim
        .rules(section)
        .iter()
        .map(|r| {
            let comment = r["comment"].as_str().unwrap();
            let slot = match comment.split_once(" [rampart:") {
                Some((name, _)) => Slot::Owned(want.iter().position(|d| d == name).unwrap()),
                None => Slot::Foreign,
            };
            Entry {
                id: r["id"].as_i64().unwrap(),
                slot,
            }
        })
        .collect();
    order::moves_needed(&entries, anchor).unwrap()
}

#[tokio::test]
async fn twenty_rules_keep_their_declared_order_among_people_s_rules() {
    let w = IdecoWorld::new("ideco-order").await;
    for i in 0..3 {
        w.sim
            .human_insert(
                IdecoSection::Forward,
                json!({"comment": format!("people-forward-{i}")}),
                None,
            )
            .unwrap();
    }
    let sentinel = w
        .sim
        .human_insert(
            IdecoSection::Forward,
            json!({"comment": SENTINEL, "enabled": false}),
            None,
        )
        .unwrap();
    for i in 0..2 {
        w.sim
            .human_insert(
                IdecoSection::Forward,
                json!({"comment": format!("people-late-{i}")}),
                None,
            )
            .unwrap();
    }
    for i in 0..4 {
        w.sim
            .human_insert(
                IdecoSection::Input,
                json!({"comment": format!("people-input-{i}")}),
                None,
            )
            .unwrap();
    }
    let people_before = (
        w.people(IdecoSection::Forward),
        w.people(IdecoSection::Input),
    );
    assert_eq!(people_before.0.len() + people_before.1.len(), 10);

    let (mut forward, mut input) = (Vec::new(), Vec::new());
    for i in 0..20 {
        let name = format!("rule-{i:02}");
        let priority = ((i * 7) % 5) * 10;
        if i % 5 < 3 {
            w.create(&name, IdecoSection::Forward, json!({"block": "AfterSentinel", "sentinelComment": SENTINEL, "priority": priority}), json!({})).await;
            forward.push((name, priority));
        } else {
            w.create(
                &name,
                IdecoSection::Input,
                json!({"block": "Top", "priority": priority}),
                json!({}),
            )
            .await;
            input.push((name, priority));
        }
    }
    for i in 0..20 {
        wait_for(&w.rules(), &format!("rule-{i:02}"), is_ready(), T).await;
    }
    w.until_order(IdecoSection::Forward, &declared(forward.clone()))
        .await;
    w.until_order(IdecoSection::Input, &declared(input.clone()))
        .await;
    assert_eq!(
        (
            w.people(IdecoSection::Forward),
            w.people(IdecoSection::Input)
        ),
        people_before,
        "people's rules untouched"
    );
    let fwd = w.comments(IdecoSection::Forward);
    let at = fwd.iter().position(|c| c == SENTINEL).unwrap();
    assert!(
        fwd[at + 1..at + 13].iter().all(|c| c.contains("[rampart:")),
        "the block follows the sentinel: {fwd:#?}"
    );
    assert!(
        w.comments(IdecoSection::Input)[..8]
            .iter()
            .all(|c| c.contains("[rampart:")),
        "the input block is on top"
    );

    // One priority change: exactly the moves the longest in-order run predicts.
    let last = declared(forward.clone()).pop().unwrap();
    forward.iter_mut().find(|r| r.0 == last).unwrap().1 = -5;
    let want = declared(forward.clone());
    let predicted = predicted_moves(&w, IdecoSection::Forward, &want, Anchor::After(sentinel));
    assert_eq!(predicted, 1);
    w.server.control.reset_counters();
    patch_spec(
        &w.rules(),
        &last,
        json!({"ideco": {"placement": {"priority": -5}}}),
    )
    .await;
    w.until_order(IdecoSection::Forward, &want).await;
    wait_for(&w.rules(), &last, is_ready(), T).await;
    assert_eq!(
        w.moves() as usize,
        predicted,
        "moves for one priority change"
    );
    assert_eq!(
        w.server.control.count("PUT /firewall/rules/{section}/{id}"),
        0,
        "only the place changed"
    );
}

#[tokio::test]
async fn device_edits_are_put_back_and_deletion_follows_the_policy() {
    let w = IdecoWorld::new("ideco-edit").await;
    w.sim
        .human_insert(IdecoSection::Forward, json!({"comment": "people-0"}), None)
        .unwrap();
    let names: Vec<String> = (0..3).map(|i| format!("r{i}")).collect();
    for (i, n) in names.iter().enumerate() {
        w.create(
            n,
            IdecoSection::Forward,
            json!({"block": "Bottom", "priority": i}),
            json!({"destinationPorts": ["443"]}),
        )
        .await;
    }
    for n in &names {
        wait_for(&w.rules(), n, is_ready(), T).await;
    }
    w.until_order(IdecoSection::Forward, &names).await;
    let id_of = |name: &str| {
        w.sim
            .rules(IdecoSection::Forward)
            .into_iter()
            .find(|r| {
                r["comment"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("{name} ["))
            })
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    // Edited by hand: put back at the next poll.
    w.sim
        .human_edit(
            IdecoSection::Forward,
            id_of("r1"),
            json!({"action": "drop"}),
        )
        .unwrap();
    // Moved by hand to the top: put back.
    let top = w.sim.ids(IdecoSection::Forward)[0];
    w.sim
        .human_move(IdecoSection::Forward, id_of("r2"), top, false)
        .unwrap();
    // Deleted by hand: re-created at its place.
    w.sim
        .human_delete(IdecoSection::Forward, id_of("r0"))
        .unwrap();
    let deadline = tokio::time::Instant::now() + T;
    loop {
        let rules = w.sim.rules(IdecoSection::Forward);
        let r1 = rules
            .iter()
            .find(|r| r["comment"].as_str().unwrap().starts_with("r1 ["));
        if w.owned_in_order(IdecoSection::Forward) == names
            && r1.is_some_and(|r| r["action"] == "accept")
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "device edits not put back: {rules:#?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        w.comments(IdecoSection::Forward)[0],
        "people-0",
        "people's rule stays on top"
    );

    // Delete removes the rule (Delete); Orphan leaves it.
    patch_spec(&w.rules(), "r2", json!({"deletionPolicy": "Orphan"})).await;
    for n in ["r0", "r2"] {
        w.rules().delete(n, &DeleteParams::default()).await.unwrap();
        crate::support::wait_gone(&w.rules(), n, T).await;
    }
    let left = w.owned_in_order(IdecoSection::Forward);
    assert_eq!(
        left,
        vec!["r1".to_string(), "r2".to_string()],
        "r0 deleted, r2 orphaned in place"
    );
}

/// Issue 15, item 10: status tells one story. When the ProviderConfig cannot log in, its
/// FirewallRules say so in `Synced` (not "the vendor object matches the spec"), and recover
/// when the Secret is fixed.
#[tokio::test]
async fn a_provider_that_cannot_log_in_is_what_its_rules_say() {
    let w = IdecoWorld::new("ideco-login").await;
    w.create(
        "web",
        IdecoSection::Forward,
        json!({"block": "Top"}),
        json!({}),
    )
    .await;
    wait_for(&w.rules(), "web", is_ready(), T).await;
    let secrets = Api::<Secret>::namespaced(w.client.clone(), &w.ns);
    let set_password = |p: &str| Patch::Merge(json!({"stringData": {"password": p}}));
    secrets
        .patch(
            "ngfw-login",
            &PatchParams::default(),
            &set_password("wrong"),
        )
        .await
        .unwrap();
    let pcs = Api::<ProviderConfig>::namespaced(w.client.clone(), &w.ns);
    wait_for(&pcs, "ngfw", has_condition("Ready", "False", None), T).await;
    let told = wait_for(
        &w.rules(),
        "web",
        has_condition("Synced", "False", Some("ReconcileError")),
        T,
    )
    .await;
    let message = crate::support::condition_message(&told, "Synced");
    assert!(message.contains("is not Ready"), "{message}");
    secrets
        .patch(
            "ngfw-login",
            &PatchParams::default(),
            &set_password(&IdecoSimOptions::default().password),
        )
        .await
        .unwrap();
    wait_for(&w.rules(), "web", has_condition("Synced", "True", None), T).await;
}
