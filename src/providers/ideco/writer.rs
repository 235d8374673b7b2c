//! Writes to one device, one at a time. A writer holds the device's turn for one section; each
//! of its calls lays the answer over the section's model (`model`), and a call the model did
//! not expect, or that failed, puts the model in doubt so the next read lists the section.
//! Whose rule is whose is decided on a listing made during the turn before anything is moved
//! or deleted; a create is placed from the model. When the last writer in line finishes and
//! the model holds writes no listing has shown yet, it lists the section once to confirm them.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use serde_json::{Map, Value};

use super::model::{Edit, SectionModel};
use super::models::DeviceRule;
use super::order::Move;
use super::runtime::IdecoDevice;
use crate::api::vendors::ideco::IdecoSection;
use crate::vendor::error::VendorResult;

/// Counts a writer in line or writing, from before it waits until it is done (also when its
/// future is dropped while it waits).
struct InLine<'a>(&'a AtomicUsize);

impl<'a> InLine<'a> {
    fn join(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        InLine(count)
    }
}

impl Drop for InLine<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The device's turn, taken for writes to one section.
pub struct SectionWriter<'a> {
    device: &'a IdecoDevice,
    section: IdecoSection,
    /// When the turn began: a listing that began after it shows every write before this turn.
    began: Instant,
    _turn: tokio::sync::MutexGuard<'a, ()>,
    in_line: InLine<'a>,
}

impl IdecoDevice {
    /// Wait for the device's turn to write to `section`.
    pub(super) async fn writer(&self, section: IdecoSection) -> SectionWriter<'_> {
        let in_line = InLine::join(&self.in_line);
        self.joined.notify_waiters();
        let turn = self.writes.lock().await;
        SectionWriter {
            device: self,
            section,
            began: Instant::now(),
            _turn: turn,
            in_line,
        }
    }
}

impl SectionWriter<'_> {
    pub fn device(&self) -> &IdecoDevice {
        self.device
    }

    pub fn section(&self) -> IdecoSection {
        self.section
    }

    fn model_of(&self) -> &SectionModel {
        self.device.model(self.section)
    }

    /// The section as the model holds it (listed first if the model cannot be used).
    pub async fn model(&self) -> VendorResult<Arc<Vec<DeviceRule>>> {
        self.device.table(self.section, false).await
    }

    /// Whether the model is not in doubt: every answer of this turn was what it expected.
    pub fn model_trusted(&self) -> bool {
        self.model_of().current().is_some()
    }

    /// Whether the model rests on a listing made during this turn.
    pub fn listed_in_turn(&self) -> bool {
        self.model_of().listed_since(self.began)
    }

    /// The section as listed during this turn, with this turn's writes laid over it: what a
    /// move, a delete or a read-modify-write rests on. Lists only if the turn has not yet.
    pub async fn listed(&self) -> VendorResult<Arc<Vec<DeviceRule>>> {
        if self.listed_in_turn()
            && let Some(table) = self.model_of().current()
        {
            return Ok(table);
        }
        self.list_now().await
    }

    /// A new listing of the section, whatever the model holds.
    pub async fn list_now(&self) -> VendorResult<Arc<Vec<DeviceRule>>> {
        self.device.table(self.section, true).await
    }

    /// Lay an answered write over the model, or doubt the model when the call failed (a call
    /// that failed may still have changed the device).
    fn answered<R>(
        &self,
        result: VendorResult<R>,
        edit: impl FnOnce(&R) -> Edit,
    ) -> VendorResult<R> {
        match &result {
            Ok(r) => {
                self.model_of().apply(edit(r));
            }
            Err(_) => self.model_of().doubt(),
        }
        result
    }

    /// Create a rule at `anchor` (see `client::create_rule`); its id.
    pub async fn create(
        &self,
        body: &Map<String, Value>,
        anchor: Option<(i64, bool)>,
    ) -> VendorResult<i64> {
        let result = self
            .device
            .client
            .create_rule(self.section, body, anchor)
            .await;
        if let Ok(id) = &result
            && self.model_of().holds(*id)
        {
            // A new rule with an id the model already holds: the model is not the section.
            self.model_of().doubt();
            return result;
        }
        self.answered(result, |id| Edit::Created {
            rule: DeviceRule {
                id: *id,
                fields: body.clone(),
            },
            anchor,
        })
    }

    /// Replace a rule's body.
    pub async fn update(&self, id: i64, body: Map<String, Value>) -> VendorResult<()> {
        let result = self
            .device
            .client
            .update_rule(self.section, id, &body)
            .await;
        self.answered(result, |_| Edit::Updated { id, fields: body })
    }

    /// Move a rule next to another.
    pub async fn move_rule(&self, mv: &Move) -> VendorResult<()> {
        let result = self.device.client.move_rule(self.section, mv).await;
        self.answered(result, |_| Edit::Moved(*mv))
    }

    /// Delete a rule (one already gone counts as deleted).
    pub async fn delete(&self, id: i64) -> VendorResult<()> {
        let result = self.device.client.delete_rule(self.section, id).await;
        self.answered(result, |_| Edit::Deleted(id))
    }

    /// Whether another writer is in line or writing.
    fn others_in_line(&self) -> bool {
        self.in_line.0.load(Ordering::SeqCst) > 1
    }

    /// End the turn. The last writer in line confirms the writes of the burst with one listing
    /// (and orders the section again if the listing shows what the model did not); while
    /// others wait, the listing is theirs to make. Before listing it leaves the turn and waits
    /// a moment (`SectionModel::confirm_grace`) for a writer to join: the next reconcile of a
    /// burst often comes just after the last write ended, and a listing per such gap, of a
    /// section that grows with each create, is what kept 10,000 rules from converging
    /// (issue 21). A writer that joins takes the confirmation over.
    pub async fn finish(self) -> VendorResult<()> {
        if self.others_in_line() || !self.model_of().unconfirmed() {
            return Ok(());
        }
        let (device, section) = (self.device, self.section);
        let grace = self.model_of().confirm_grace();
        // Listening before the turn is left, so a writer that joins right after is not missed.
        let joined = device.joined.notified();
        tokio::pin!(joined);
        joined.as_mut().enable();
        drop(self);
        if tokio::time::timeout(grace, joined).await.is_ok() {
            return Ok(());
        }
        let w = device.writer(section).await;
        if w.others_in_line() || !w.model_of().unconfirmed() {
            return Ok(());
        }
        w.list_now().await?;
        w.sync().await
    }
}
