//! The section sync: after any change to a section, remove duplicate copies of rampart's rules
//! and move rampart's rules into their declared order. It plans from rampart's model of the
//! section; before it deletes or moves anything it lists the section once during its turn (only
//! rampart's own rules move, and people edit the same table), then applies the whole plan, each
//! answer laid over the model, without listing between moves. A move that asks for
//! `insert_after=false` is checked at once with a listing (GUESS, L240). Runs in the device's
//! write turn.

use super::VENDOR;
use super::models::DeviceRule;
use super::order::Move;
use super::order::landed;
use super::writer::SectionWriter;
use crate::api::vendors::ideco::IdecoSection;
use crate::vendor::error::{ErrorKind, VendorError, VendorResult};

impl SectionWriter<'_> {
    /// Bring the section in order. A section that cannot be ordered (conflicting placements, a
    /// missing sentinel) is left as it is: the FirewallRules report why.
    pub async fn sync(&self) -> VendorResult<()> {
        let section = self.section();
        // Each round lists, removes a duplicate or applies a whole plan; more rounds than that
        // mean people edit the section at the same time: give up and try again later.
        let limit = 2 * self.model().await?.len() + 8;
        for _ in 0..limit {
            let judged = {
                let table = self.model().await?;
                self.device().judge(section, &table)
            };
            let moves = match &judged.ordering {
                Ok(moves) => moves.clone(),
                Err(blocked) if judged.view.duplicates.is_empty() => {
                    tracing::info!(vendor = VENDOR, section = section.as_str(), reason = %blocked, "leaving the order of the section alone");
                    return Ok(());
                }
                Err(_) => Vec::new(),
            };
            if moves.is_empty() && judged.view.duplicates.is_empty() {
                return Ok(());
            }
            if !self.listed_in_turn() {
                self.listed().await?;
                continue;
            }
            if let Some(&copy) = judged.view.duplicates.first() {
                tracing::info!(
                    vendor = VENDOR,
                    section = section.as_str(),
                    rule = copy,
                    "removing a duplicate of a rampart rule"
                );
                self.delete(copy).await?;
                continue;
            }
            for next in &moves {
                tracing::info!(
                    vendor = VENDOR,
                    section = section.as_str(),
                    rule = next.id,
                    anchor = next.anchor,
                    insert_after = next.insert_after,
                    "moving a rule into its declared place"
                );
                self.move_rule(next).await?;
                if !next.insert_after {
                    // Where the device put it is a guess until a listing shows it; the rest of
                    // the plan is made again from that listing.
                    let table = self.list_now().await?;
                    if let Some(e) = misread_false(section, &table, next, MOVE) {
                        return Err(e);
                    }
                    break;
                }
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
