//! Tests of the move planner: hand-made cases, every section of up to seven rules with every
//! arrangement of ranks, and random large sections. Each plan is applied move by move and the
//! result checked against the rules independently of the planner.

use super::*;
use proptest::prelude::*;

fn f(id: i64) -> Entry {
    Entry {
        id,
        slot: Slot::Foreign,
    }
}
fn t(id: i64) -> Entry {
    Entry {
        id,
        slot: Slot::Transparent,
    }
}
fn o(id: i64, rank: usize) -> Entry {
    Entry {
        id,
        slot: Slot::Owned(rank),
    }
}

fn rank_of(e: &Entry) -> Option<usize> {
    match e.slot {
        Slot::Owned(r) => Some(r),
        _ => None,
    }
}

/// Whether index `i` of `list` is a place an owned rule may be, written without the planner.
fn allowed_at(list: &[Entry], anchor: Anchor, i: usize) -> bool {
    let foreign: Vec<usize> = (0..list.len())
        .filter(|&j| list[j].slot == Slot::Foreign)
        .collect();
    match anchor {
        Anchor::Top => foreign.iter().all(|&j| j > i),
        Anchor::Bottom => foreign.iter().all(|&j| j < i),
        Anchor::After(s) => {
            let s = list.iter().position(|e| e.id == s).unwrap();
            i > s && foreign.iter().all(|&j| j <= s || j > i)
        }
    }
}

/// The largest set of owned rules that can stay, by trying every subset.
fn brute_force_kept(list: &[Entry], anchor: Anchor) -> usize {
    let owned: Vec<usize> = (0..list.len())
        .filter(|&i| rank_of(&list[i]).is_some())
        .collect();
    let mut best = 0;
    for mask in 0u32..(1 << owned.len()) {
        let chosen: Vec<usize> = (0..owned.len())
            .filter(|b| mask & (1 << b) != 0)
            .map(|b| owned[b])
            .collect();
        let placed = chosen.iter().all(|&i| allowed_at(list, anchor, i));
        let ordered = chosen
            .windows(2)
            .all(|w| rank_of(&list[w[0]]) < rank_of(&list[w[1]]));
        if placed && ordered {
            best = best.max(chosen.len());
        }
    }
    best
}

/// The longest run in order inside the zone, by quadratic dynamic programming.
fn dp_kept(list: &[Entry], anchor: Anchor) -> usize {
    let ranks: Vec<usize> = (0..list.len())
        .filter(|&i| allowed_at(list, anchor, i))
        .filter_map(|i| rank_of(&list[i]))
        .collect();
    let mut best = vec![1usize; ranks.len()];
    for i in 0..ranks.len() {
        for j in 0..i {
            if ranks[j] < ranks[i] {
                best[i] = best[i].max(best[j] + 1);
            }
        }
    }
    best.into_iter().max().unwrap_or(0)
}

/// Plan, apply, and check every promise of the planner. Returns the number of moves.
fn check(list: &[Entry], anchor: Anchor, exact_kept: fn(&[Entry], Anchor) -> usize) -> usize {
    let moves = plan_moves(list, anchor).unwrap();
    let owned: Vec<&Entry> = list.iter().filter(|e| rank_of(e).is_some()).collect();
    let mut applied = list.to_vec();
    for m in &moves {
        assert!(
            owned.iter().any(|e| e.id == m.id),
            "{m:?} moves a rule rampart does not order in {list:?}"
        );
        assert!(
            apply_move(&mut applied, m),
            "{m:?} names a missing rule in {applied:?}"
        );
    }
    let others = |l: &[Entry]| {
        l.iter()
            .filter(|e| rank_of(e).is_none())
            .map(|e| e.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        others(list),
        others(&applied),
        "other rules changed order: {list:?} {anchor:?}"
    );
    let ranks: Vec<usize> = applied.iter().filter_map(rank_of).collect();
    assert!(
        ranks.windows(2).all(|w| w[0] < w[1]),
        "not in order: {applied:?} from {list:?} {anchor:?}"
    );
    for (i, e) in applied.iter().enumerate() {
        if rank_of(e).is_some() {
            assert!(
                allowed_at(&applied, anchor, i),
                "{e:?} outside its block in {applied:?} from {list:?} {anchor:?}"
            );
        }
    }
    assert_eq!(
        moves.len(),
        owned.len() - exact_kept(list, anchor),
        "not minimal for {list:?} {anchor:?}"
    );
    assert_eq!(moves_needed(list, anchor).unwrap(), moves.len());
    assert_eq!(
        plan_moves(&applied, anchor).unwrap(),
        vec![],
        "a second plan is not empty for {applied:?}"
    );
    moves.len()
}

fn permutations(k: usize) -> Vec<Vec<usize>> {
    if k == 0 {
        return vec![vec![]];
    }
    let mut out = Vec::new();
    for p in permutations(k - 1) {
        for at in 0..=p.len() {
            let mut q = p.clone();
            q.insert(at, k - 1);
            out.push(q);
        }
    }
    out
}

fn anchors(list: &[Entry]) -> Vec<Anchor> {
    let mut a = vec![Anchor::Top, Anchor::Bottom];
    a.extend(
        list.iter()
            .filter(|e| e.slot == Slot::Foreign)
            .map(|e| Anchor::After(e.id)),
    );
    a
}

#[test]
fn every_small_section_reaches_its_order_with_the_fewest_moves() {
    let mut cases = 0;
    for n in 0..=7u32 {
        for code in 0..3usize.pow(n) {
            let kinds: Vec<usize> = (0..n).map(|i| code / 3usize.pow(i) % 3).collect();
            let owned = kinds.iter().filter(|&&k| k == 2).count();
            for ranks in permutations(owned) {
                let mut next_rank = ranks.iter();
                let list: Vec<Entry> = kinds
                    .iter()
                    .enumerate()
                    .map(|(i, k)| match k {
                        0 => f(100 + i as i64),
                        1 => t(100 + i as i64),
                        _ => o(100 + i as i64, *next_rank.next().unwrap()),
                    })
                    .collect();
                for anchor in anchors(&list) {
                    check(&list, anchor, brute_force_kept);
                    cases += 1;
                }
            }
        }
    }
    assert!(cases > 100_000, "{cases}");
}

proptest! {
    #[test]
    fn large_sections_reach_their_order_with_the_fewest_moves(
        kinds in proptest::collection::vec(0u8..3, 0..60),
        seed in any::<u64>(),
        anchor_pick in any::<usize>(),
    ) {
        use rand::{SeedableRng, seq::SliceRandom};
        let owned = kinds.iter().filter(|&&k| k == 2).count();
        let mut ranks: Vec<usize> = (0..owned).collect();
        ranks.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed));
        let mut next_rank = ranks.into_iter();
        let list: Vec<Entry> = kinds.iter().enumerate().map(|(i, k)| match k {
            0 => f(i as i64 * 7 + 3),
            1 => t(i as i64 * 7 + 3),
            _ => o(i as i64 * 7 + 3, next_rank.next().unwrap()),
        }).collect();
        let choices = anchors(&list);
        check(&list, choices[anchor_pick % choices.len()], dp_kept);
    }
}

#[test]
fn moves_equal_owned_rules_minus_the_longest_run_in_order() {
    // Ten owned rules among five foreign ones; the zone (top) holds ranks 0 3 1 2 9 4, whose
    // longest increasing run is 0 1 2 4 (four rules), so 10 - 4 = 6 rules move.
    let list = vec![
        o(1, 0),
        o(2, 3),
        o(3, 1),
        o(4, 2),
        o(5, 9),
        t(50),
        o(6, 4),
        f(90),
        o(7, 5),
        f(91),
        o(8, 8),
        f(92),
        o(9, 6),
        f(93),
        o(10, 7),
        f(94),
    ];
    assert_eq!(check(&list, Anchor::Top, dp_kept), 6);
    let moves = plan_moves(&list, Anchor::Top).unwrap();
    assert!(
        moves.iter().all(|m| ![1, 3, 4, 6].contains(&m.id)),
        "the run in order stays: {moves:?}"
    );
}

#[test]
fn one_changed_priority_costs_one_move() {
    let mut list: Vec<Entry> = (0..20).map(|i| o(i as i64 + 1, i)).collect();
    list.insert(0, f(100));
    list.push(f(101));
    let sentinel = Anchor::After(100);
    assert_eq!(check(&list, sentinel, dp_kept), 0);
    // Rule 15 now sorts first.
    list[15] = o(15, 0);
    for e in list.iter_mut() {
        if let Slot::Owned(r) = e.slot
            && e.id != 15
            && r < 14
        {
            e.slot = Slot::Owned(r + 1);
        }
    }
    assert_eq!(
        plan_moves(&list, sentinel).unwrap(),
        vec![Move {
            id: 15,
            anchor: 100,
            insert_after: true
        }]
    );
}

#[test]
fn each_block_start_uses_the_documented_anchor() {
    let list = vec![f(1), o(2, 0), f(3)];
    assert_eq!(
        plan_moves(&list, Anchor::Top).unwrap(),
        vec![Move {
            id: 2,
            anchor: 1,
            insert_after: false
        }]
    );
    assert_eq!(
        plan_moves(&list, Anchor::Bottom).unwrap(),
        vec![Move {
            id: 2,
            anchor: 3,
            insert_after: true
        }]
    );
    assert_eq!(
        plan_moves(&list, Anchor::After(3)).unwrap(),
        vec![Move {
            id: 2,
            anchor: 3,
            insert_after: true
        }]
    );
    assert_eq!(plan_moves(&list, Anchor::After(1)).unwrap(), vec![]);
}

#[test]
fn transparent_rules_neither_move_nor_break_the_block() {
    let list = vec![o(1, 1), t(2), o(3, 2), t(4), f(5)];
    assert_eq!(plan_moves(&list, Anchor::Top).unwrap(), vec![]);
    let list = vec![t(2), o(3, 1), f(5), o(1, 0)];
    assert_eq!(
        plan_moves(&list, Anchor::Top).unwrap(),
        vec![Move {
            id: 1,
            anchor: 2,
            insert_after: false
        }]
    );
}

#[test]
fn a_missing_sentinel_is_an_error_not_a_guess() {
    assert_eq!(
        plan_moves(&[o(1, 0)], Anchor::After(9)),
        Err(PlanError::SentinelMissing(9))
    );
}

#[test]
fn longest_increasing_picks_a_longest_run() {
    assert_eq!(longest_increasing(&[]), Vec::<usize>::new());
    assert_eq!(longest_increasing(&[3, 1, 2]).len(), 2);
    let values = [0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15];
    let run = longest_increasing(&values);
    assert_eq!(run.len(), 6);
    assert!(
        run.windows(2)
            .all(|w| w[0] < w[1] && values[w[0]] < values[w[1]])
    );
}

#[test]
fn apply_move_follows_the_device() {
    let mut l = vec![1i64, 2, 3, 4];
    assert!(apply_move(
        &mut l,
        &Move {
            id: 4,
            anchor: 1,
            insert_after: false
        }
    ));
    assert_eq!(l, vec![4, 1, 2, 3]);
    assert!(apply_move(
        &mut l,
        &Move {
            id: 4,
            anchor: 3,
            insert_after: true
        }
    ));
    assert_eq!(l, vec![1, 2, 3, 4]);
    assert!(!apply_move(
        &mut l,
        &Move {
            id: 9,
            anchor: 3,
            insert_after: true
        }
    ));
    assert!(!apply_move(
        &mut l,
        &Move {
            id: 2,
            anchor: 2,
            insert_after: true
        }
    ));
}
