//! `insert_after=false` (L158, L240: "на месте указанного в anchor_item_id") is read by rampart
//! as "right before the anchor", a guess. rampart asks for `false` only where nothing else
//! reaches (the very top of a table), and when a device reads it otherwise rampart says so
//! instead of moving the same rule again and again.

use crate::ideco_support::*;
use rampart::api::vendors::ideco::IdecoSection;
use rampart::simulators::ideco::InsertAfterFalse;
use serde_json::json;

const FORWARD: IdecoSection = IdecoSection::Forward;

#[tokio::test]
async fn a_rule_ranked_first_is_created_after_the_rule_above_its_neighbour() {
    let f = Fixture::start().await;
    f.sim.set_insert_after_false(InsertAfterFalse::AfterAnchor);
    add_people_rules(&f.sim, FORWARD, "people", 1);
    let rt = f.runtime().await;
    let mut second = Tracked::new(ordered_rule(
        "second",
        FORWARD,
        json!({"block": "Bottom"}),
        2,
    ));
    let mut first = Tracked::new(ordered_rule(
        "first",
        FORWARD,
        json!({"block": "Bottom"}),
        1,
    ));
    assert_eq!(
        reconcile(&f, &rt, &mut second).await.unwrap(),
        Step::Created
    );
    assert_eq!(reconcile(&f, &rt, &mut first).await.unwrap(), Step::Created);
    let names: Vec<String> = comments(&f.sim, FORWARD)
        .into_iter()
        .map(|c| c.split(" [rampart:").next().unwrap().to_string())
        .collect();
    assert_eq!(names, ["people-0", "first", "second"]);
    // Created in its place with insert_after=true after `people-0`: nothing had to move, on a
    // device whose reading of false would have put it after `second`.
    assert_eq!(f.moves(), 0);
}

#[tokio::test]
async fn a_device_that_reads_false_otherwise_is_reported_not_fought() {
    let f = Fixture::start().await;
    f.sim.set_insert_after_false(InsertAfterFalse::AfterAnchor);
    add_people_rules(&f.sim, FORWARD, "people", 3);
    let rt = f.runtime().await;
    let mut top = Tracked::new(ordered_rule("top", FORWARD, json!({"block": "Top"}), 0));
    // Created (the create cannot fail for a placement), but not at the top: people-0 is first.
    // In the same reconcile the order drift is seen, the move tried once, and the misreading
    // reported with the document's line.
    let misread = |e: &rampart::engine::external::ExternalError| {
        let text = e.to_string();
        assert!(
            text.contains("insert_after=false") && text.contains("L240"),
            "{text}"
        );
    };
    misread(&reconcile(&f, &rt, &mut top).await.unwrap_err());
    assert!(top.external_name.is_some(), "created");
    assert_ne!(
        comments(&f.sim, FORWARD)[0].split(" [rampart:").next(),
        Some("top")
    );
    let moves = f.moves();
    assert!(moves <= 2, "one try per write, not a loop: {moves} moves");
    // Every further pass tries the move once more, no more.
    misread(&reconcile(&f, &rt, &mut top).await.unwrap_err());
    assert_eq!(f.moves(), moves + 1);
}

#[tokio::test]
async fn with_the_documents_reading_the_same_rule_reaches_the_top() {
    let f = Fixture::start().await;
    add_people_rules(&f.sim, FORWARD, "people", 3);
    let rt = f.runtime().await;
    let mut top = Tracked::new(ordered_rule("top", FORWARD, json!({"block": "Top"}), 0));
    converge(&f, &rt, std::slice::from_mut(&mut top)).await;
    assert!(comments(&f.sim, FORWARD)[0].starts_with("top [rampart:"));
}
