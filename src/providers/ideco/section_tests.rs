use super::*;
use crate::api::vendors::ideco::IdecoSection;
use crate::providers::ideco::registry::{Intent, resolve};
use serde_json::json;

fn rule(id: i64, comment: &str) -> DeviceRule {
    DeviceRule::from_json(json!({"id": id, "comment": comment})).unwrap()
}

fn intent(members: &[(&str, i32, Option<i64>)], block: BlockSpec) -> SectionIntent {
    resolve(
        members
            .iter()
            .map(|(m, p, id)| {
                let i = Intent {
                    section: IdecoSection::Forward,
                    block: block.clone(),
                    priority: *p,
                    object: format!("ns/{m}"),
                    id: *id,
                    movable: true,
                    adopt_unmarked: true,
                };
                (m.to_string(), i)
            })
            .collect(),
    )
}

#[test]
fn rules_are_people_s_transparent_or_owned() {
    let table = vec![
        rule(1, "people"),
        rule(2, "x [rampart:other]"),
        rule(3, "y [rampart:a]"),
        rule(4, ""),
    ];
    let view = classify(&table, &intent(&[("a", 0, None)], BlockSpec::Top));
    let slots: Vec<Slot> = view.entries.iter().map(|e| e.slot).collect();
    assert_eq!(
        slots,
        vec![
            Slot::Foreign,
            Slot::Transparent,
            Slot::Owned(0),
            Slot::Foreign
        ]
    );
    assert_eq!(view.owned["a"], 3);
    assert!(view.duplicates.is_empty());
}

#[test]
fn the_known_id_wins_and_other_copies_are_duplicates() {
    let table = vec![
        rule(1, "[rampart:a]"),
        rule(2, "edited by a human"),
        rule(3, "[rampart:a]"),
    ];
    let view = classify(&table, &intent(&[("a", 0, Some(2))], BlockSpec::Top));
    assert_eq!(view.owned["a"], 2);
    assert_eq!(view.duplicates, vec![1, 3]);
    // Without a known id, the first copy in the table is kept.
    let view = classify(&table, &intent(&[("a", 0, None)], BlockSpec::Top));
    assert_eq!(view.owned["a"], 1);
    assert_eq!(view.duplicates, vec![3]);
}

#[test]
fn a_known_id_carrying_another_marker_is_not_taken() {
    let table = vec![rule(5, "[rampart:b]")];
    let view = classify(&table, &intent(&[("a", 0, Some(5))], BlockSpec::Top));
    assert!(view.owned.is_empty());
    assert_eq!(view.entries[0].slot, Slot::Transparent);
}

#[test]
fn the_sentinel_is_a_rule_of_people() {
    let table = vec![
        rule(1, "--- below [rampart:x]"),
        rule(2, " --- below "),
        rule(3, "--- below"),
    ];
    let i = intent(
        &[("a", 0, None)],
        BlockSpec::AfterSentinel("--- below".into()),
    );
    let view = classify(&table, &i);
    assert_eq!(find_sentinel(&table, &view, "--- below"), Some(2));
    assert_eq!(anchor(&table, &view, &i), Ok(Some(Anchor::After(2))));
    let missing = intent(&[("a", 0, None)], BlockSpec::AfterSentinel("nope".into()));
    assert_eq!(
        anchor(&table, &view, &missing),
        Err(Blocked::SentinelMissing("nope".into()))
    );
}

#[test]
fn new_rules_are_created_next_to_their_neighbours_in_rank() {
    let table = vec![
        rule(1, "people"),
        rule(2, "[rampart:a]"),
        rule(3, "[rampart:c]"),
        rule(4, "people"),
    ];
    let i = intent(
        &[
            ("a", 1, None),
            ("b", 2, None),
            ("c", 3, None),
            ("z", 0, None),
        ],
        BlockSpec::Bottom,
    );
    let view = classify(&table, &i);
    assert_eq!(creation_anchor(&table, &view, &i, "b"), Ok(Some((2, true))));
    // Right before `a` is asked as right after the rule above it: `insert_after=false` has a
    // guessed meaning (L158) and is kept for the top of the table.
    assert_eq!(creation_anchor(&table, &view, &i, "z"), Ok(Some((1, true))));
    let top = vec![rule(2, "[rampart:a]"), rule(4, "people")];
    let view = classify(&top, &i);
    assert_eq!(creation_anchor(&top, &view, &i, "z"), Ok(Some((2, false))));
}

#[test]
fn the_first_rule_of_a_block_goes_to_its_start() {
    let table = vec![rule(1, "people"), rule(2, "sentinel")];
    for (block, expected) in [
        (BlockSpec::Top, Some((1, false))),
        (BlockSpec::Bottom, None),
        (BlockSpec::AfterSentinel("sentinel".into()), Some((2, true))),
    ] {
        let i = intent(&[("a", 0, None)], block);
        let view = classify(&table, &i);
        assert_eq!(creation_anchor(&table, &view, &i, "a"), Ok(expected));
    }
    let i = intent(&[("a", 0, None)], BlockSpec::Top);
    assert_eq!(creation_anchor(&[], &classify(&[], &i), &i, "a"), Ok(None));
}

#[test]
fn a_conflict_blocks_ordering_and_creation() {
    let wish = |m: &str, block| {
        (
            m.to_string(),
            Intent {
                section: IdecoSection::Forward,
                block,
                priority: 0,
                object: m.into(),
                id: None,
                movable: true,
                adopt_unmarked: true,
            },
        )
    };
    let i = resolve(vec![
        wish("a", BlockSpec::Top),
        wish("b", BlockSpec::Bottom),
    ]);
    let table = vec![rule(1, "[rampart:a]")];
    let view = classify(&table, &i);
    assert!(matches!(
        pending_moves(&table, &view, &i),
        Err(Blocked::Conflict(_))
    ));
    assert!(matches!(
        creation_anchor(&table, &view, &i, "b"),
        Err(Blocked::Conflict(_))
    ));
}

#[test]
fn rules_rampart_may_not_change_neither_move_nor_lose_copies() {
    let table = vec![
        rule(1, "[rampart:a]"),
        rule(2, "[rampart:a]"),
        rule(3, "[rampart:b]"),
    ];
    let mut i = intent(&[("a", 0, None), ("b", 1, None)], BlockSpec::Top);
    i.members[0].movable = false;
    let view = classify(&table, &i);
    assert_eq!(view.owned["a"], 1, "still found, for its own observation");
    let slots: Vec<Slot> = view.entries.iter().map(|e| e.slot).collect();
    assert_eq!(
        slots,
        vec![Slot::Transparent, Slot::Transparent, Slot::Owned(1)]
    );
    assert!(view.duplicates.is_empty());
}

/// The judgement every observe reads says what classify and the planner say, plus the
/// per-rule lookups (place, rank, copies) each FirewallRule needs.
#[test]
fn a_judgement_answers_each_rule_of_the_section() {
    let table = vec![
        rule(1, "people"),
        rule(2, "[rampart:b]"),
        rule(3, "[rampart:a]"),
        rule(4, "copy [rampart:b]"),
    ];
    let intent = intent(&[("a", 0, None), ("b", 1, Some(2))], BlockSpec::Top);
    let judged = SectionJudgement::new(&table, Arc::new(intent.clone()));
    let view = classify(&table, &intent);
    assert_eq!(judged.view, view);
    assert_eq!(judged.ordering, pending_moves(&table, &view, &intent));
    assert!(
        !judged.ordering.as_ref().unwrap().is_empty(),
        "b's rule sits before a's and the block is at the top"
    );
    assert_eq!(judged.position[&3], 2);
    assert_eq!(judged.owned_position("a"), Some(2));
    assert_eq!(judged.owned_position("b"), Some(1));
    assert_eq!(judged.owned_position("other"), None);
    assert_eq!(judged.rank_of("a"), Some(0));
    assert_eq!(judged.rank_of("b"), Some(1));
    assert_eq!(judged.rank_of("other"), None);
    assert_eq!(judged.copies("b", 2), vec![4]);
    assert!(judged.copies("a", 3).is_empty());
}
