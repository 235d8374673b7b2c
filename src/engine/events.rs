//! Kubernetes Events about managed objects (`events.k8s.io/v1`), with repeats counted as a
//! series instead of piling up.
//!
//! kube's `Recorder` does the same but keeps every event it sent (about 3 kB each) and forgets
//! them only when it publishes the next one: after a burst of 10,000 "Created" events its cache
//! stayed for good, the largest single use of memory in the steady-state benchmark (found with
//! heaptrack). This publisher keeps a small fingerprint per event and forgets on a timer.
//! It also counts an event as a repeat only when its note is the same: kube's key leaves the
//! note out, so a new message was folded into the series of an older one and never shown.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::{Event as K8sEvent, EventSeries};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::api::{Api, ObjectMeta, Patch, PatchParams, PostParams};
use serde_json::json;

/// A repeat within this window is counted on the first event; later it is a new event.
pub const REPEAT_WINDOW: Duration = Duration::from_secs(6 * 60);
/// The API server refuses notes over 1 kB; a long vendor error must still be seen.
const MAX_NOTE_BYTES: usize = 1000;

/// Normal or Warning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventType {
    Normal,
    Warning,
}

impl EventType {
    fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

/// What happened: `reason` is a CamelCase word, `action` the operation, `note` for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub type_: EventType,
    pub reason: &'static str,
    pub action: &'static str,
    pub note: String,
}

impl Event {
    pub fn normal(reason: &'static str, action: &'static str, note: impl Into<String>) -> Self {
        Event {
            type_: EventType::Normal,
            reason,
            action,
            note: note.into(),
        }
    }

    pub fn warning(reason: &'static str, action: &'static str, note: impl Into<String>) -> Self {
        Event {
            type_: EventType::Warning,
            reason,
            action,
            note: note.into(),
        }
    }
}

/// An event already sent, to count its repeats.
struct Sent {
    name: String,
    count: i32,
    at: Instant,
}

/// Publishes events as one reporting controller (and instance, the pod).
pub struct EventPublisher {
    client: kube::Client,
    controller: String,
    instance: String,
    sent: Mutex<HashMap<u64, Sent>>,
}

impl EventPublisher {
    pub fn new(client: kube::Client, controller: &str, instance: Option<String>) -> Self {
        EventPublisher {
            client,
            controller: controller.to_string(),
            instance: instance.unwrap_or_else(|| controller.to_string()),
            sent: Mutex::new(HashMap::new()),
        }
    }

    /// Create the event, or count it on the same event sent within the repeat window.
    pub async fn publish(
        &self,
        regarding: &ObjectReference,
        what: &Event,
    ) -> Result<(), kube::Error> {
        let note = truncate_note(&what.note);
        let key = fingerprint(regarding, what, &note);
        let namespace = regarding.namespace.as_deref().unwrap_or("default");
        let api: Api<K8sEvent> = Api::namespaced(self.client.clone(), namespace);
        let now = Instant::now();
        // Sweeping here too would scan every remembered event per publish (quadratic in a burst
        // of creates); the timer sweeps, and an entry past the window is simply not a repeat.
        let repeat = self
            .sent
            .lock()
            .unwrap()
            .get(&key)
            .filter(|s| now.saturating_duration_since(s.at) < REPEAT_WINDOW)
            .map(|s| (s.name.clone(), s.count + 1));
        let (name, count) = match repeat {
            Some((name, count)) => {
                let series = EventSeries {
                    count,
                    last_observed_time: MicroTime(jiff::Timestamp::now()),
                };
                api.patch(
                    &name,
                    &PatchParams::default(),
                    &Patch::Merge(json!({ "series": series })),
                )
                .await?;
                (name, count)
            }
            None => {
                let event = self.build(regarding, what, note);
                let created = api.create(&PostParams::default(), &event).await?;
                (created.metadata.name.unwrap_or_default(), 1)
            }
        };
        self.sent.lock().unwrap().insert(
            key,
            Sent {
                name,
                count,
                at: now,
            },
        );
        Ok(())
    }

    /// Forget events older than the repeat window; the operator runs this on a timer.
    pub fn forget_old(&self) {
        forget_old(&mut self.sent.lock().unwrap(), Instant::now());
    }

    /// Events remembered for counting repeats (for tests and diagnostics).
    pub fn remembered(&self) -> usize {
        self.sent.lock().unwrap().len()
    }

    fn build(&self, regarding: &ObjectReference, what: &Event, note: String) -> K8sEvent {
        let now = jiff::Timestamp::now();
        let base = regarding.name.as_deref().unwrap_or(&self.controller);
        K8sEvent {
            metadata: ObjectMeta {
                name: Some(format!("{base}.{:x}", now.as_nanosecond())),
                namespace: regarding.namespace.clone(),
                ..Default::default()
            },
            event_time: Some(MicroTime(now)),
            type_: Some(what.type_.as_str().to_string()),
            reason: Some(what.reason.to_string()),
            action: Some(what.action.to_string()),
            note: Some(note),
            regarding: Some(regarding.clone()),
            reporting_controller: Some(self.controller.clone()),
            reporting_instance: Some(self.instance.clone()),
            ..Default::default()
        }
    }
}

/// Drop what is past the window; give the table back once most of it is empty (a burst of
/// creates grows it to the number of objects).
fn forget_old(sent: &mut HashMap<u64, Sent>, now: Instant) {
    sent.retain(|_, s| now.saturating_duration_since(s.at) < REPEAT_WINDOW);
    if sent.capacity() > 64 && sent.capacity() > 4 * sent.len() {
        sent.shrink_to_fit();
    }
}

/// The same object, type, reason, action and note: a repeat.
fn fingerprint(regarding: &ObjectReference, what: &Event, note: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (
        &regarding.uid,
        &regarding.kind,
        &regarding.namespace,
        &regarding.name,
    )
        .hash(&mut h);
    (what.type_, what.reason, what.action, note).hash(&mut h);
    h.finish()
}

fn truncate_note(note: &str) -> String {
    if note.len() <= MAX_NOTE_BYTES {
        return note.to_string();
    }
    let cut = (0..=MAX_NOTE_BYTES)
        .rev()
        .find(|i| note.is_char_boundary(*i))
        .unwrap_or(0);
    format!("{}…", &note[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(name: &str) -> ObjectReference {
        ObjectReference {
            kind: Some("Vault".into()),
            namespace: Some("team-a".into()),
            name: Some(name.into()),
            uid: Some(format!("uid-{name}")),
            ..Default::default()
        }
    }

    fn note(reason: &'static str, text: &str) -> Event {
        Event::normal(reason, "Update", text)
    }

    #[test]
    fn a_repeat_is_the_same_object_reason_and_note() {
        let a = fingerprint(
            &obj("v1"),
            &note("Updated", "updated sizeGB"),
            "updated sizeGB",
        );
        let same = fingerprint(
            &obj("v1"),
            &note("Updated", "updated sizeGB"),
            "updated sizeGB",
        );
        let other_note = fingerprint(&obj("v1"), &note("Updated", "updated name"), "updated name");
        let other_object = fingerprint(
            &obj("v2"),
            &note("Updated", "updated sizeGB"),
            "updated sizeGB",
        );
        let other_reason = fingerprint(
            &obj("v1"),
            &note("Created", "updated sizeGB"),
            "updated sizeGB",
        );
        assert_eq!(a, same);
        for different in [other_note, other_object, other_reason] {
            assert_ne!(a, different);
        }
    }

    #[test]
    fn old_events_are_forgotten_and_the_table_shrinks() {
        let now = Instant::now();
        let mut sent: HashMap<u64, Sent> = (0..10_000u64)
            .map(|i| {
                let at = if i < 10 {
                    now
                } else {
                    now - REPEAT_WINDOW - Duration::from_secs(1)
                };
                (
                    i,
                    Sent {
                        name: format!("e{i}"),
                        count: 1,
                        at,
                    },
                )
            })
            .collect();
        let grown = sent.capacity();
        forget_old(&mut sent, now);
        assert_eq!(sent.len(), 10);
        assert!(
            sent.capacity() < grown / 100,
            "capacity {} of {grown}",
            sent.capacity()
        );
    }

    #[test]
    fn long_notes_are_cut_on_a_character_boundary() {
        let long = "ж".repeat(700); // 1,400 bytes
        let cut = truncate_note(&long);
        assert!(cut.len() <= MAX_NOTE_BYTES + "…".len());
        assert!(cut.ends_with('…'));
        assert_eq!(truncate_note("short"), "short");
    }
}
