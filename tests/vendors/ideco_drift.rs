//! People at the device: an edited or moved rule is put back, a deleted one is re-created in its
//! place, fields rampart does not model survive, duplicates are cleaned up; and the lifecycle
//! around them: delete, adoption after a crash, placement conflicts, a missing sentinel.

use std::sync::Arc;

use crate::ideco_support::*;
use rampart::api::common::ManagementAction;
use rampart::api::vendors::ideco::IdecoSection;
use rampart::engine::external::{Deleted, ExternalError, Readiness};
use rampart::engine::hub::VendorRuntime;
use rampart::simulators::harness::Faults;
use serde_json::{Value, json};

const FORWARD: IdecoSection = IdecoSection::Forward;

fn rule_json(f: &Fixture, section: IdecoSection, id: i64) -> Value {
    f.sim
        .rules(section)
        .into_iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("rule {id} is gone"))
}

/// Three rampart rules on top of two rules of people, converged.
async fn three_on_top() -> (Fixture, Arc<dyn VendorRuntime>, Vec<Tracked>, Vec<i64>) {
    let f = Fixture::start().await;
    let people = add_people_rules(&f.sim, FORWARD, "people", 2);
    let rt = f.runtime().await;
    let mut objects: Vec<Tracked> = ["a", "b", "c"]
        .iter()
        .enumerate()
        .map(|(i, n)| Tracked::new(ordered_rule(n, FORWARD, json!({"block": "Top"}), i as i32)))
        .collect();
    converge(&f, &rt, &mut objects).await;
    (f, rt, objects, people)
}

fn ids(objects: &[Tracked]) -> Vec<i64> {
    objects.iter().map(Tracked::id).collect()
}

#[tokio::test]
async fn a_rule_edited_and_moved_on_the_device_is_put_back() {
    let (f, rt, mut objects, people) = three_on_top().await;
    let expected = f.sim.rules(FORWARD);
    let b = objects[1].id();
    f.sim
        .human_edit(
            FORWARD,
            b,
            // The marker stays: it is still rampart's rule, edited.
            json!({"action": "drop", "destination_ports": ["22"],
                   "comment": format!("b, edited by hand [rampart:{}]", marker_of("b"))}),
        )
        .unwrap();
    f.sim
        .human_move(FORWARD, b, *people.last().unwrap(), true)
        .unwrap();
    ideco_runtime(&rt).invalidate_snapshots();

    let (step, obs) = reconcile_observed(&f, &rt, &mut objects[1]).await.unwrap();
    assert_eq!(step, Step::Updated);
    let drifted: Vec<&str> = obs.drift.iter().map(|d| d.field.as_str()).collect();
    for field in [
        "spec.ideco.action",
        "spec.ideco.comment",
        "spec.ideco.destinationPorts",
        "spec.ideco.placement",
    ] {
        assert!(drifted.contains(&field), "{drifted:?}");
    }
    assert_eq!(
        f.sim.rules(FORWARD),
        expected,
        "content and place restored, people's rules untouched"
    );
    assert_eq!(f.moves(), 1);
    converge(&f, &rt, &mut objects).await;
}

/// Issue 15, item 2: the recorded id now holds a person's rule (a device reset re-used it, or
/// the marker was removed by hand). rampart neither writes nor moves nor deletes it: it puts
/// its own rule back beside it.
#[tokio::test]
async fn a_persons_rule_at_the_recorded_id_is_never_taken_over() {
    let (f, rt, mut objects, _) = three_on_top().await;
    let b = objects[1].id();
    let persons =
        json!({"action": "drop", "destination_ports": ["22"], "comment": "ops: block ssh"});
    f.sim.human_edit(FORWARD, b, persons).unwrap();
    ideco_runtime(&rt).invalidate_snapshots();
    let theirs = rule_json(&f, FORWARD, b);
    f.server.control.reset_counters();

    assert_eq!(
        reconcile(&f, &rt, &mut objects[1]).await.unwrap(),
        Step::Created
    );
    assert_ne!(objects[1].id(), b, "rampart's own rule again, at a new id");
    assert_eq!(
        rule_json(&f, FORWARD, b),
        theirs,
        "the person's rule is untouched"
    );
    assert_eq!(f.count("PUT /firewall/rules/{section}/{id}"), 0);
    let events = f.engine.cluster.reasons("b");
    assert!(events.contains(&"ExternalNotOwned"), "{events:?}");
    converge(&f, &rt, &mut objects).await;
    assert_eq!(rule_json(&f, FORWARD, b), theirs, "and stays untouched");

    // Deleting the FirewallRule deletes rampart's rule only.
    let mine = objects[1].id();
    delete(&f, &objects[1]).await;
    let ids = f.sim.ids(FORWARD);
    assert!(ids.contains(&b) && !ids.contains(&mine), "{ids:?}");
}

#[tokio::test]
async fn a_rule_deleted_on_the_device_is_recreated_in_its_place() {
    let (f, rt, mut objects, _) = three_on_top().await;
    let before = ids(&objects);
    f.sim.human_delete(FORWARD, before[1]).unwrap();
    ideco_runtime(&rt).invalidate_snapshots();
    f.server.control.reset_counters();

    assert_eq!(
        reconcile(&f, &rt, &mut objects[1]).await.unwrap(),
        Step::Created
    );
    let recreated = objects[1].id();
    assert_ne!(recreated, before[1]);
    assert_eq!(&f.sim.ids(FORWARD)[..3], &[before[0], recreated, before[2]]);
    assert_eq!(f.moves(), 0, "created directly in its place");
    converge(&f, &rt, &mut objects).await;
}

#[tokio::test]
async fn delete_removes_only_the_rule() {
    let (f, rt, objects, people) = three_on_top().await;
    let adapter = rt.adapters().get::<rampart::api::FirewallRule>().unwrap();
    let b = &objects[1];
    let ctx = f.world.ctx(&b.marker, false, None);
    let remaining = vec![objects[0].id(), objects[2].id(), people[0], people[1]];
    // Deleting again finds nothing and is still done.
    for _ in 0..2 {
        let deleted = adapter
            .delete(&b.cr, &b.id().to_string(), &ctx)
            .await
            .unwrap();
        assert_eq!(deleted, Deleted::Gone);
        assert_eq!(f.sim.ids(FORWARD), remaining);
    }
}

#[tokio::test]
async fn fields_rampart_does_not_model_survive_an_update() {
    let f = Fixture::start().await;
    let rt = f.runtime().await;
    let cr = firewall_rule(
        "web-dnat",
        json!({"section": "dnat", "action": "dnat", "destinationPorts": ["443"], "placement": {"block": "Bottom"},
               "extraFields": {"change_destination_address": "10.0.0.5"}}),
    );
    let mut t = vec![Tracked::new(cr)];
    converge(&f, &rt, &mut t).await;
    let id = t[0].id();
    assert_eq!(
        rule_json(&f, IdecoSection::Dnat, id)["change_destination_address"],
        "10.0.0.5"
    );

    f.sim
        .human_edit(
            IdecoSection::Dnat,
            id,
            json!({"enabled": false, "change_destination_port": "8443"}),
        )
        .unwrap();
    ideco_runtime(&rt).invalidate_snapshots();
    assert_eq!(reconcile(&f, &rt, &mut t[0]).await.unwrap(), Step::Updated);
    let rule = rule_json(&f, IdecoSection::Dnat, id);
    assert_eq!(rule["enabled"], true);
    assert_eq!(
        rule["change_destination_port"], "8443",
        "a field nobody declared survives"
    );
    assert_eq!(rule["change_destination_address"], "10.0.0.5");

    // A declared extra field is drift like any other.
    f.sim
        .human_edit(
            IdecoSection::Dnat,
            id,
            json!({"change_destination_address": "10.9.9.9"}),
        )
        .unwrap();
    ideco_runtime(&rt).invalidate_snapshots();
    let (step, obs) = reconcile_observed(&f, &rt, &mut t[0]).await.unwrap();
    assert_eq!(step, Step::Updated);
    assert_eq!(
        obs.drift[0].field,
        "spec.ideco.extraFields.change_destination_address"
    );
    assert_eq!(
        rule_json(&f, IdecoSection::Dnat, id)["change_destination_address"],
        "10.0.0.5"
    );
}

#[tokio::test]
async fn duplicate_markers_are_cleaned_up_to_one() {
    let (f, rt, mut objects, people) = three_on_top().await;
    let a = objects[0].id();
    let comment = rule_json(&f, FORWARD, a)["comment"].clone();
    f.sim
        .human_insert(
            FORWARD,
            json!({"comment": comment}),
            Some((people[0], true)),
        )
        .unwrap();
    f.sim
        .human_insert(FORWARD, json!({"comment": comment}), None)
        .unwrap();
    ideco_runtime(&rt).invalidate_snapshots();

    let (step, obs) = reconcile_observed(&f, &rt, &mut objects[0]).await.unwrap();
    assert_eq!(step, Step::Updated);
    assert!(
        obs.drift
            .iter()
            .any(|d| d.field == "spec.ideco" && d.observed.contains("\"rulesWithMarker\":3")),
        "{:?}",
        obs.drift
    );
    let copies: Vec<i64> = f
        .sim
        .rules(FORWARD)
        .iter()
        .filter(|r| r["comment"] == comment)
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(copies, vec![a], "the rule rampart knows is the one kept");
    converge(&f, &rt, &mut objects).await;
}

#[tokio::test]
async fn a_crash_between_create_and_status_write_adopts_instead_of_doubling() {
    let f = Fixture::start().await;
    let rt = f.runtime().await;
    let mut t = Tracked::new(ordered_rule("a", FORWARD, json!({"block": "Top"}), 0));
    let ctx = f.world.ctx(&t.marker, false, None);
    let lost = rt
        .adapters()
        .get::<rampart::api::FirewallRule>()
        .unwrap()
        .create(&t.cr, &ctx)
        .await
        .unwrap();
    // The engine restarts: no external name, create pending, so it observes fresh.
    t.create_pending = true;
    let (step, obs) = reconcile_observed(&f, &rt, &mut t).await.unwrap();
    assert_eq!(step, Step::InSync);
    assert_eq!(obs.external_name, Some(lost.external_name));
    assert_eq!(f.count("POST /firewall/rules/{section}"), 1);
}

/// The chaos suite's race, made deterministic: the section's listing fails right after a
/// create, so the listing from before the create is the last one rampart holds. The next observe
/// must list again and find the new rule, not call it gone.
#[tokio::test]
async fn a_rule_created_just_before_its_section_stops_listing_is_not_called_gone() {
    let (f, rt, _, _) = three_on_top().await;
    let mut t = Tracked::new(ordered_rule("d", FORWARD, json!({"block": "Top"}), 3));
    let adapter = rt.adapters().get::<rampart::api::FirewallRule>().unwrap();
    let ctx = f.world.ctx(&t.marker, false, None);
    let post = "POST /firewall/rules/{section}";
    let list = "GET /firewall/rules/{section}";
    // The device answers the create late; meanwhile its section starts refusing lists.
    f.server.control.set_faults(Faults {
        respond_after_ms: 200,
        only_operation: Some(post.into()),
        ..Faults::default()
    });
    let posts_before = f.count(post);
    let refuse_lists = async {
        while f.count(post) == posts_before {
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        f.server.control.set_faults(Faults {
            error_rate: 1.0,
            only_operation: Some(list.into()),
            ..Faults::default()
        });
    };
    let lists_before = f.count(list);
    let (created, ()) = tokio::join!(adapter.create(&t.cr, &ctx), refuse_lists);
    let created = created.expect("the rule exists; its ordering is left for the next pass");
    assert!(
        f.count(list) > lists_before + 1,
        "the re-list after the create was tried (and refused)"
    );
    f.server.control.set_faults(Faults::default());
    t.external_name = Some(created.external_name.clone());
    let obs = adapter
        .observe(&t.cr, t.external_name.as_deref(), &ctx)
        .await
        .unwrap();
    assert!(
        obs.exists,
        "the new rule {} was called gone",
        created.external_name
    );
    assert_eq!(f.count(post), posts_before + 1, "created once");
}

#[tokio::test]
async fn conflicting_placements_are_reported_on_every_rule_and_nothing_moves() {
    let (f, rt, mut objects, _) = three_on_top().await;
    objects[2].spec_mut().placement.block = rampart::api::vendors::ideco::IdecoBlock::Bottom;
    f.server.control.reset_counters();
    // The changed object is reconciled first (its spec changed), then the others.
    for t in objects.iter_mut().rev() {
        let (_, obs) = reconcile_observed(&f, &rt, t).await.unwrap();
        let c = obs
            .conditions
            .iter()
            .find(|c| c.type_ == "PlacementConflict")
            .unwrap();
        assert!(
            c.status && c.message.contains("team/c") && c.message.contains("team/a"),
            "{c:?}"
        );
        assert!(matches!(obs.readiness, Readiness::Unavailable(_)));
    }
    assert_eq!(f.moves(), 0);
    let mut newcomer = Tracked::new(ordered_rule("d", FORWARD, json!({"block": "Top"}), 9));
    let err = reconcile(&f, &rt, &mut newcomer).await.unwrap_err();
    assert!(
        matches!(&err, ExternalError::InvalidSpec { field, .. } if field == "spec.ideco.placement"),
        "{err}"
    );

    // Agreeing again lifts the conflict.
    objects[2].spec_mut().placement.block = rampart::api::vendors::ideco::IdecoBlock::Top;
    converge(&f, &rt, &mut objects).await;
    let (_, obs) = reconcile_observed(&f, &rt, &mut objects[0]).await.unwrap();
    assert!(
        !obs.conditions
            .iter()
            .find(|c| c.type_ == "PlacementConflict")
            .unwrap()
            .status
    );
}

#[tokio::test]
async fn a_rule_waits_for_its_sentinel() {
    let f = Fixture::start().await;
    add_people_rules(&f.sim, FORWARD, "people", 2);
    let rt = f.runtime().await;
    let mut t = Tracked::new(ordered_rule(
        "a",
        FORWARD,
        json!({"block": "AfterSentinel", "sentinelComment": "--- k8s ---"}),
        0,
    ));
    let err = reconcile(&f, &rt, &mut t).await.unwrap_err();
    assert!(matches!(err, ExternalError::Waiting { .. }), "{err}");
    let sentinel = f
        .sim
        .human_insert(
            FORWARD,
            json!({"comment": "--- k8s ---"}),
            Some((f.sim.ids(FORWARD)[0], true)),
        )
        .unwrap();
    assert_eq!(reconcile(&f, &rt, &mut t).await.unwrap(), Step::Created);
    let order = f.sim.ids(FORWARD);
    assert_eq!(
        order[order.iter().position(|i| *i == sentinel).unwrap() + 1],
        t.id()
    );
}

#[tokio::test]
async fn a_spec_the_device_cannot_take_is_refused_before_any_call() {
    let f = Fixture::start().await;
    let rt = f.runtime().await;
    let mut t = Tracked::new(firewall_rule(
        "bad",
        json!({"section": "log", "action": "accept", "placement": {"block": "Top"}}),
    ));
    let err = reconcile(&f, &rt, &mut t).await.unwrap_err();
    assert!(
        matches!(&err, ExternalError::InvalidSpec { field, .. } if field == "spec.ideco.action"),
        "{err}"
    );
    assert_eq!(f.server.control.total(), 0);
}

#[tokio::test]
async fn a_rule_rampart_may_not_update_reports_its_place_but_never_moves() {
    let (f, rt, mut objects, people) = three_on_top().await;
    let (a, b, c) = (objects[0].id(), objects[1].id(), objects[2].id());
    objects[2].cr.spec.managed.management_policies = vec![ManagementAction::Observe];
    f.sim.human_move(FORWARD, c, a, false).unwrap();
    f.sim.human_move(FORWARD, a, people[1], true).unwrap();
    ideco_runtime(&rt).invalidate_snapshots();

    let adapter = rt.adapters().get::<rampart::api::FirewallRule>().unwrap();
    let ctx = f.world.ctx(&objects[2].marker, false, None);
    let obs = adapter
        .observe(&objects[2].cr, Some(&c.to_string()), &ctx)
        .await
        .unwrap();
    assert!(
        obs.drift.iter().any(|d| d.field == "spec.ideco.placement"),
        "{:?}",
        obs.drift
    );

    assert_eq!(
        reconcile(&f, &rt, &mut objects[0]).await.unwrap(),
        Step::Updated
    );
    assert_eq!(f.sim.ids(FORWARD), vec![a, c, b, people[0], people[1]]);
    assert_eq!(f.moves(), 1, "only the rule rampart may move was moved");
}
