//! rampart's own event publisher on a real API server: a repeat within the window is counted
//! on the first event (a series), a different note is an event of its own, and a note longer
//! than the API server accepts is cut rather than lost.

use k8s_openapi::api::core::v1::{ConfigMap, ObjectReference};
use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, ListParams, PostParams};
use rampart::engine::events::{Event as Note, EventPublisher};

use crate::support::{env, namespace};

fn note(reason: &'static str, text: &str) -> Note {
    Note::warning(reason, "Update", text)
}

#[tokio::test]
async fn repeats_are_counted_and_new_notes_are_new_events() {
    let client = env().client().await;
    let ns = namespace(&client, "events").await;
    let cm: ConfigMap =
        serde_json::from_value(serde_json::json!({"metadata": {"name": "subject"}})).unwrap();
    let cm = Api::<ConfigMap>::namespaced(client.clone(), &ns)
        .create(&PostParams::default(), &cm)
        .await
        .unwrap();
    let regarding = ObjectReference {
        api_version: Some("v1".into()),
        kind: Some("ConfigMap".into()),
        namespace: Some(ns.clone()),
        name: Some("subject".into()),
        uid: cm.metadata.uid.clone(),
        ..Default::default()
    };
    let events = EventPublisher::new(client.clone(), "rampart-test", None);
    for _ in 0..3 {
        events
            .publish(&regarding, &note("UpdateFailed", "vendor said no"))
            .await
            .unwrap();
    }
    events
        .publish(&regarding, &note("UpdateFailed", "vendor said no again"))
        .await
        .unwrap();
    let long = "x".repeat(5000);
    events
        .publish(&regarding, &note("UpdateFailed", &long))
        .await
        .unwrap();

    let mut listed = Api::<Event>::namespaced(client.clone(), &ns)
        .list(&ListParams::default())
        .await
        .unwrap()
        .items;
    listed.sort_by_key(|e| e.event_time.as_ref().map(|t| t.0));
    let seen: Vec<(String, i32)> = listed
        .iter()
        .map(|e| {
            let note = e.note.clone().unwrap_or_default();
            (
                note.chars().take(20).collect(),
                e.series.as_ref().map_or(1, |s| s.count),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            ("vendor said no".to_string(), 3),
            ("vendor said no again".to_string(), 1),
            ("x".repeat(20), 1),
        ]
    );
    let first = &listed[0];
    assert_eq!(first.reporting_controller.as_deref(), Some("rampart-test"));
    assert_eq!(first.type_.as_deref(), Some("Warning"));
    assert_eq!(
        first.regarding.as_ref().and_then(|r| r.uid.clone()),
        cm.metadata.uid
    );
    assert!(
        listed[2].note.as_ref().unwrap().len() <= 1003,
        "the long note is cut"
    );
    assert_eq!(events.remembered(), 3);
}
