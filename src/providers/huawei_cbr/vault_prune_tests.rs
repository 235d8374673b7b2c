//! The prune decision: agreement of two listings a poll apart, the share limit, and the
//! confirmation that names one set.

use super::*;

const POLL: Duration = Duration::from_secs(60);

fn at(secs: i64) -> Timestamp {
    Timestamp::from_second(1_700_000_000 + secs).unwrap()
}

fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn input<'a>(
    in_vault: usize,
    unwanted: &'a [String],
    remembered: &'a [PendingRemoval],
    listed_at: Timestamp,
) -> PruneInput<'a> {
    PruneInput {
        in_vault,
        unwanted,
        remembered,
        listed_at,
        poll_interval: POLL,
        max_percent: DEFAULT_MAX_PRUNE_PERCENT,
        confirmation: None,
    }
}

#[test]
fn a_resource_leaves_only_when_a_listing_a_poll_later_agrees() {
    let gone = ids(&["s1"]);
    // First listing without it: remembered, not removed.
    let first = plan(&input(20, &gone, &[], at(0)));
    assert_eq!(first.remove, Vec::<String>::new());
    assert_eq!(first.waiting, gone);
    assert_eq!(first.pending[0].missing_since, at(0).to_string());
    // The same listing read again (a cache), or one taken sooner than a poll later: still waiting.
    for t in [0, 1, 59] {
        let again = plan(&input(20, &gone, &first.pending, at(t)));
        assert!(again.remove.is_empty(), "listing at +{t}s removed it");
        assert_eq!(again.pending, first.pending, "missing-since is kept");
    }
    // A listing a poll interval later agrees.
    let second = plan(&input(20, &gone, &first.pending, at(60)));
    assert_eq!(second.remove, gone);
    assert!(second.held.is_empty() && second.waiting.is_empty());
}

#[test]
fn a_resource_back_in_a_listing_starts_over() {
    let gone = ids(&["s1"]);
    let first = plan(&input(20, &gone, &[], at(0)));
    // Listed again at +30 s: no longer unwanted, so status forgets it.
    let back = plan(&input(20, &[], &first.pending, at(30)));
    assert!(back.pending.is_empty());
    // Missing again at +90 s: a new first listing, not agreement with the one at 0.
    let again = plan(&input(20, &gone, &back.pending, at(90)));
    assert!(again.remove.is_empty());
    assert_eq!(again.pending[0].missing_since, at(90).to_string());
}

#[test]
fn an_unreadable_or_future_memory_restarts_the_wait() {
    let gone = ids(&["s1"]);
    for since in ["yesterday", &at(500).to_string()] {
        let remembered = vec![PendingRemoval {
            id: "s1".into(),
            missing_since: since.to_string(),
        }];
        let p = plan(&input(20, &gone, &remembered, at(100)));
        assert!(p.remove.is_empty(), "{since}");
        assert_eq!(p.pending[0].missing_since, at(100).to_string());
    }
}

#[test]
fn more_than_the_share_is_held_until_that_exact_set_is_confirmed() {
    // 3 of 20 is 15%, over the default 10%.
    let gone = ids(&["s1", "s2", "s3"]);
    let first = plan(&input(20, &gone, &[], at(0)));
    let held = plan(&input(20, &gone, &first.pending, at(60)));
    assert!(held.remove.is_empty());
    assert_eq!(held.held, gone);
    let code = held.confirmation.clone().expect("a confirmation code");
    assert_eq!(code.len(), 10);

    let confirm = |value: &str, unwanted: &[String], remembered: &[PendingRemoval]| {
        let mut i = input(20, unwanted, remembered, at(120));
        i.confirmation = Some(value);
        plan(&i)
    };
    assert!(
        confirm("0000000000", &gone, &first.pending)
            .remove
            .is_empty(),
        "a wrong value confirms nothing"
    );
    assert_eq!(confirm(&code, &gone, &first.pending).remove, gone);

    // A stale confirmation does not approve a different set...
    let more = ids(&["s1", "s2", "s3", "s4"]);
    let mut remembered = first.pending.clone();
    remembered.push(PendingRemoval {
        id: "s4".into(),
        missing_since: at(0).to_string(),
    });
    let p = confirm(&code, &more, &remembered);
    assert!(p.remove.is_empty() && p.held == more);
    assert_ne!(p.confirmation.as_deref(), Some(code.as_str()));
    // ...nor the same ids gone missing again at another time.
    let later: Vec<PendingRemoval> = gone
        .iter()
        .map(|id| PendingRemoval {
            id: id.clone(),
            missing_since: at(30).to_string(),
        })
        .collect();
    assert!(confirm(&code, &gone, &later).remove.is_empty());
}

#[test]
fn the_share_is_configurable_from_never_to_always() {
    let gone = ids(&["s1", "s2"]);
    let first = plan(&input(20, &gone, &[], at(0)));
    let with = |max_percent: i32| {
        let mut i = input(20, &gone, &first.pending, at(60));
        i.max_percent = max_percent;
        plan(&i)
    };
    assert_eq!(with(10).remove, gone, "2 of 20 is exactly 10%: allowed");
    assert_eq!(with(9).held, gone);
    assert_eq!(with(0).held, gone, "0 holds every removal");
    let one = ids(&["s1"]);
    let only = plan(&input(1, &one, &[], at(0)));
    let mut i = input(1, &one, &only.pending, at(60));
    i.max_percent = 100;
    assert_eq!(plan(&i).remove, one, "100 never holds");
}

#[test]
fn only_agreed_resources_count_and_wait_separately() {
    // s1 agreed (missing since 0), s2 new at 60: s1 goes, s2 waits.
    let remembered = vec![PendingRemoval {
        id: "s1".into(),
        missing_since: at(0).to_string(),
    }];
    let both = ids(&["s1", "s2"]);
    let p = plan(&input(20, &both, &remembered, at(60)));
    assert_eq!(p.remove, ids(&["s1"]));
    assert_eq!(p.waiting, ids(&["s2"]));
}

#[test]
fn the_condition_says_what_is_held_how_to_confirm_and_what_waits() {
    let held = PrunePlan {
        held: ids(&["s1", "s2", "s3"]),
        waiting: ids(&["s9"]),
        confirmation: Some("abcdef0123".into()),
        ..Default::default()
    };
    let c = condition(&held, 20, 10, POLL);
    assert!(c.status);
    assert_eq!(c.reason, "ConfirmationRequired");
    for needle in [
        "s1, s2, s3",
        "15% of the vault's 20",
        "rampart.dev/confirm-prune: \"abcdef0123\"",
        "s9",
        "60s",
    ] {
        assert!(c.message.contains(needle), "{needle}: {}", c.message);
    }
    let waiting = PrunePlan {
        waiting: ids(&["s9"]),
        ..Default::default()
    };
    assert_eq!(
        condition(&waiting, 20, 10, POLL).reason,
        "AwaitingSecondListing"
    );
    let none = condition(&PrunePlan::default(), 20, 10, POLL);
    assert!(!none.status);
    let many: Vec<String> = (0..25).map(|i| format!("s{i:02}")).collect();
    let long = PrunePlan {
        waiting: many,
        ..Default::default()
    };
    assert!(
        condition(&long, 100, 10, POLL)
            .message
            .contains("and 5 more (see status.atProvider)")
    );
}
