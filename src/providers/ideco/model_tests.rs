use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;

use super::*;

fn rule(id: i64) -> DeviceRule {
    DeviceRule::from_json(json!({"id": id, "comment": format!("r{id}")})).unwrap()
}

fn table(ids: &[i64]) -> Vec<DeviceRule> {
    ids.iter().map(|i| rule(*i)).collect()
}

fn ids(t: &[DeviceRule]) -> Vec<i64> {
    t.iter().map(|r| r.id).collect()
}

/// Each edit lands where the device puts it, and laying it again changes nothing (a listing
/// that already shows it).
#[test]
fn edits_land_where_asked_and_are_idempotent() {
    let cases: Vec<(Edit, Vec<i64>)> = vec![
        (
            Edit::Created {
                rule: rule(9),
                anchor: Some((2, true)),
            },
            vec![1, 2, 9, 3],
        ),
        (
            Edit::Created {
                rule: rule(9),
                anchor: Some((1, false)),
            },
            vec![9, 1, 2, 3],
        ),
        (
            Edit::Created {
                rule: rule(9),
                anchor: None,
            },
            vec![1, 2, 3, 9],
        ),
        (
            Edit::Moved(Move {
                id: 3,
                anchor: 1,
                insert_after: true,
            }),
            vec![1, 3, 2],
        ),
        (Edit::Deleted(2), vec![1, 3]),
    ];
    for (edit, expected) in cases {
        let mut t = table(&[1, 2, 3]);
        assert!(edit.apply(&mut t), "{edit:?}");
        assert_eq!(ids(&t), expected, "{edit:?}");
        assert!(edit.apply(&mut t));
        assert_eq!(ids(&t), expected, "{edit:?} laid twice");
    }
    let mut t = table(&[1, 2]);
    let fields = json!({"comment": "new"}).as_object().cloned().unwrap();
    assert!(
        Edit::Updated {
            id: 2,
            fields: fields.clone()
        }
        .apply(&mut t)
    );
    assert_eq!(t[1].fields, fields);
    // What an edit rests on is missing: it says so (the create goes to the end).
    let mut t = table(&[1]);
    let orphan = Edit::Created {
        rule: rule(9),
        anchor: Some((7, true)),
    };
    assert!(!orphan.apply(&mut t));
    assert_eq!(ids(&t), [1, 9]);
    assert!(!Edit::Updated { id: 5, fields }.apply(&mut t));
    assert!(
        !Edit::Moved(Move {
            id: 5,
            anchor: 1,
            insert_after: true
        })
        .apply(&mut t)
    );
}

async fn list(calls: &AtomicUsize, ids: &[i64]) -> VendorResult<Vec<DeviceRule>> {
    calls.fetch_add(1, Ordering::SeqCst);
    Ok(table(ids))
}

/// Writes are laid over the model, so reads after them cost nothing until the poll interval or
/// a doubt; `fresh` always lists.
#[tokio::test]
async fn the_model_serves_reads_until_it_is_old_or_in_doubt() {
    let m = SectionModel::new(Duration::from_secs(60));
    let calls = AtomicUsize::new(0);
    m.read(false, || list(&calls, &[1, 2])).await.unwrap();
    assert!(m.apply(Edit::Created {
        rule: rule(3),
        anchor: Some((1, true)),
    }));
    assert!(m.unconfirmed());
    let seen = m.read(false, || list(&calls, &[])).await.unwrap();
    assert_eq!(ids(&seen), [1, 3, 2]);
    assert_eq!(calls.load(Ordering::SeqCst), 1, "the write cost no listing");

    // A listing confirms the writes.
    m.read(true, || list(&calls, &[1, 3, 2])).await.unwrap();
    assert!(!m.unconfirmed());
    assert_eq!(calls.load(Ordering::SeqCst), 2);

    // An answer the model did not expect puts it in doubt: the next read lists.
    assert!(!m.apply(Edit::Updated {
        id: 8,
        fields: Map::new()
    }));
    assert!(m.current().is_none());
    let seen = m.read(false, || list(&calls, &[1, 3, 2, 8])).await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(ids(&seen), [1, 3, 2, 8]);
    assert!(m.current().is_some());

    let short = SectionModel::new(Duration::ZERO);
    short.read(false, || list(&calls, &[1])).await.unwrap();
    short.read(false, || list(&calls, &[1])).await.unwrap();
    assert_eq!(
        calls.load(Ordering::SeqCst),
        5,
        "an old model is listed again"
    );
}

/// A listing that began before a write and was answered after it may or may not show the
/// write: the write is laid over it again, so a rule just created is never lost.
#[tokio::test]
async fn a_listing_in_flight_during_a_write_keeps_the_write() {
    let m = Arc::new(SectionModel::new(Duration::from_secs(60)));
    m.read(false, || async { Ok(table(&[1, 2])) })
        .await
        .unwrap();
    let (release, wait) = tokio::sync::oneshot::channel::<()>();
    let slow = {
        let m = m.clone();
        tokio::spawn(async move {
            m.read(true, || async move {
                let _ = wait.await;
                // Listed before the create below reached the device.
                Ok(table(&[1, 2]))
            })
            .await
            .unwrap()
        })
    };
    while m.listing.try_lock().is_ok() {
        tokio::task::yield_now().await;
    }
    m.apply(Edit::Created {
        rule: rule(3),
        anchor: Some((1, true)),
    });
    release.send(()).unwrap();
    assert_eq!(ids(&slow.await.unwrap()), [1, 3, 2]);
    assert_eq!(ids(&m.current().unwrap()), [1, 3, 2]);
    assert!(m.unconfirmed(), "the listing may not show the write");
}

/// A listing that began before a doubt serves its caller but does not end the doubt.
#[tokio::test]
async fn a_listing_from_before_a_doubt_is_not_kept() {
    let m = Arc::new(SectionModel::new(Duration::from_secs(60)));
    let (release, wait) = tokio::sync::oneshot::channel::<()>();
    let slow = {
        let m = m.clone();
        tokio::spawn(async move {
            m.read(true, || async move {
                let _ = wait.await;
                Ok(table(&[1]))
            })
            .await
            .unwrap()
        })
    };
    while m.listing.try_lock().is_ok() {
        tokio::task::yield_now().await;
    }
    m.doubt();
    release.send(()).unwrap();
    assert_eq!(ids(&slow.await.unwrap()), [1]);
    assert!(m.current().is_none());
}
