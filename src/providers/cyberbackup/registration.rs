//! Credentials registrations whose answers are never lost. Cyber Backup has no call that lists
//! credentials records (L4117–4122), so a `POST /credentials` whose answer came after the client
//! stopped waiting would leave a record nobody can find, and the next create would make another.
//! So rampart never stops listening: each registration runs as its own task with a long
//! patience, the pass that started it waits for it one request timeout, and an answer that comes
//! later is kept for the object's next pass (its create, or its observe, which adopts it). While
//! one registration of an object is in flight, no other goes out for it.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use futures::FutureExt;
use tokio::task::JoinHandle;

use crate::engine::external::{ExternalError, ExternalResult};

/// A registration without its answer: like a timeout, it does not prove that no record was
/// made, so the engine keeps the object's create-pending mark (a `Waiting` error would clear it,
/// and a record whose answer then never came would be left unreported: found by
/// `tests/chaos/faults.rs`, five records for four Vaults and no `CreatePendingNotFound`).
fn unanswered(message: impl Into<String>) -> ExternalError {
    ExternalError::Vendor(crate::vendor::error::VendorError::new(
        super::VENDOR,
        "POST /credentials",
        crate::vendor::error::ErrorKind::Transport,
        message,
    ))
}

/// How long a registration's answer is awaited in the background.
pub const PATIENCE: Duration = Duration::from_secs(600);

enum Slot {
    InFlight(JoinHandle<ExternalResult<String>>),
    /// A record id that came after its pass stopped waiting, not yet taken by the object.
    Answered(String),
}

/// Registrations by the ownership marker of the object that asked for them.
#[derive(Default)]
pub struct Registrations {
    slots: Mutex<HashMap<String, Slot>>,
}

impl Registrations {
    /// The id of `owner`'s registration when one was answered after its pass stopped waiting
    /// (kept until `taken`); `None` while none is, or one is still in flight.
    pub fn late_answer(&self, owner: &str) -> Option<String> {
        let mut slots = self.slots.lock().unwrap();
        if let Some(Slot::InFlight(handle)) = slots.get_mut(owner)
            && let Some(done) = handle.now_or_never()
        {
            match done {
                Ok(Ok(id)) => {
                    tracing::info!(credentials = %id, "a registration was answered after its pass stopped waiting; the record is kept for its object");
                    slots.insert(owner.to_string(), Slot::Answered(id));
                }
                _ => {
                    slots.remove(owner);
                }
            }
        }
        match slots.get(owner) {
            Some(Slot::Answered(id)) => Some(id.clone()),
            _ => None,
        }
    }

    /// `owner` now records `id`: a late answer with that id is no longer held for it.
    pub fn taken(&self, owner: &str, id: &str) {
        let mut slots = self.slots.lock().unwrap();
        if matches!(slots.get(owner), Some(Slot::Answered(held)) if held == id) {
            slots.remove(owner);
        }
    }

    /// `owner`'s registration: the answer of one in flight or answered late if there is one,
    /// else `post` started now. Either is awaited at most `wait`; past that, the registration
    /// goes on and the answer is a passing failure that says so.
    pub async fn register<F>(&self, owner: &str, wait: Duration, post: F) -> ExternalResult<String>
    where
        F: Future<Output = ExternalResult<String>> + Send + 'static,
    {
        let taken = self.slots.lock().unwrap().remove(owner);
        let mut handle = match taken {
            Some(Slot::Answered(id)) => return Ok(id),
            Some(Slot::InFlight(handle)) => handle,
            None => tokio::spawn(post),
        };
        match tokio::time::timeout(wait, &mut handle).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(join)) => Err(unanswered(format!(
                "the credentials registration stopped before its answer: {join}"
            ))),
            Err(_) => {
                self.slots
                    .lock()
                    .unwrap()
                    .insert(owner.to_string(), Slot::InFlight(handle));
                Err(unanswered(
                    "Cyber Backup has not answered the credentials registration within the request timeout; rampart keeps waiting for that answer (the document gives no way to find the record otherwise) and sends no other registration meanwhile",
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_late_answer_is_kept_and_no_second_registration_goes_out_meanwhile() {
        let r = Registrations::default();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let slow = async move {
            rx.await.ok();
            Ok("rec-1".to_string())
        };
        let first = r.register("m", Duration::from_millis(10), slow).await;
        assert!(first.is_err(), "not answered in time");
        assert_eq!(r.late_answer("m"), None, "still in flight");

        // Another pass while it is in flight sends nothing new.
        let second = r
            .register("m", Duration::from_millis(10), async {
                panic!("a second registration went out")
            })
            .await;
        assert!(second.is_err());

        tx.send(()).unwrap();
        tokio::task::yield_now().await;
        let mut late = None;
        for _ in 0..100 {
            late = r.late_answer("m");
            if late.is_some() {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert_eq!(late.as_deref(), Some("rec-1"), "kept for the object");
        assert_eq!(
            r.register("m", Duration::from_millis(10), async {
                panic!("answered already")
            })
            .await
            .unwrap(),
            "rec-1"
        );
        assert_eq!(r.late_answer("m"), None, "taken by the create");
    }
}
