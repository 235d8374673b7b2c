//! The section sync: after any change to a section, remove duplicate copies of rampart's rules
//! and move rampart's rules into their declared order, one call at a time, listing the section
//! again after every call (people edit the same table, and only ids are stable). Runs under the
//! device's write lock.

use std::sync::Arc;

use super::VENDOR;
use super::models::DeviceRule;
use super::order::{Move, landed};
use super::runtime::IdecoDevice;
use crate::api::vendors::ideco::IdecoSection;
use crate::vendor::error::{ErrorKind, VendorError, VendorResult};

impl IdecoDevice {
    /// Bring `section` in order, starting from `table` (listed under the write lock). Returns
    /// the section as last listed. A section that cannot be ordered (conflicting placements, a
    /// missing sentinel) is left as it is: the FirewallRules report why.
    pub(super) async fn sync_section(
        &self,
        section: IdecoSection,
        mut table: Arc<Vec<DeviceRule>>,
    ) -> VendorResult<Arc<Vec<DeviceRule>>> {
        // Each step removes a duplicate or shortens the plan by one, unless people edit the
        // section at the same time; give up after twice its size and try again later.
        let limit = 2 * table.len() + 8;
        for _ in 0..limit {
            let judged = self.judge(section, &table);
            if let Some(&copy) = judged.view.duplicates.first() {
                tracing::info!(
                    vendor = VENDOR,
                    section = section.as_str(),
                    rule = copy,
                    "removing a duplicate of a rampart rule"
                );
                self.write(section, self.client.delete_rule(section, copy))
                    .await?;
                table = self.table(section, true).await?;
                continue;
            }
            let moves = match &judged.ordering {
                Ok(moves) => moves,
                Err(blocked) => {
                    tracing::info!(vendor = VENDOR, section = section.as_str(), reason = %blocked, "leaving the order of the section alone");
                    return Ok(table);
                }
            };
            let Some(next) = moves.first() else {
                return Ok(table);
            };
            tracing::info!(
                vendor = VENDOR,
                section = section.as_str(),
                rule = next.id,
                anchor = next.anchor,
                insert_after = next.insert_after,
                remaining = moves.len(),
                "moving a rule into its declared place"
            );
            self.write(section, self.client.move_rule(section, next))
                .await?;
            table = self.table(section, true).await?;
            if let Some(e) = misread_false(section, &table, next, MOVE) {
                return Err(e);
            }
        }
        Err(VendorError::new(
            VENDOR,
            "order section",
            ErrorKind::Unavailable,
            format!(
                "section {} kept changing while rampart ordered it; trying again later",
                section.as_str()
            ),
        ))
    }
}

const MOVE: &str = "PATCH /firewall/rules/{section}/move";

/// The error to report when `table`, listed after a write that asked for `mv` with
/// `insert_after=false`, shows the rule elsewhere than right before the anchor: the device reads
/// `false` otherwise than rampart does (GUESS, L158 and L240), and another try would land in the
/// same wrong place. None when the write landed as asked, used `true`, or either rule is gone
/// (someone changed the section meanwhile; the next pass plans again).
pub fn misread_false(
    section: IdecoSection,
    table: &[DeviceRule],
    mv: &Move,
    operation: &str,
) -> Option<VendorError> {
    let present = |id: i64| table.iter().any(|r| r.id == id);
    if mv.insert_after || landed(table, mv) || !present(mv.id) || !present(mv.anchor) {
        return None;
    }
    let after = Move {
        insert_after: true,
        ..*mv
    };
    let found = if landed(table, &after) {
        "right after it"
    } else {
        "elsewhere"
    };
    Some(VendorError::new(
        VENDOR,
        operation,
        ErrorKind::Protocol,
        format!(
            "rampart asked for rule {} in the place of rule {} (insert_after=false) in section {}, and the device put it {found}: it does not read insert_after=false as \"right before the anchor\" (rampart's reading of the document, L158 and L240), so rampart cannot put rules at the top of this section; place them after a sentinel rule or at the bottom",
            mv.id,
            mv.anchor,
            section.as_str()
        ),
    ))
}
