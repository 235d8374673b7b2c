//! Policy applications (§2.10.4): applying a plan to contexts, revoking it, and running it once
//! (`:run`, a long operation followed by polling the applications, §2.9).

use reqwest::Method;
use serde_json::json;

use super::VENDOR;
use super::catalog::Catalog;
use super::filter::{Filter, Query};
use super::models::issues_text;
use super::run::StartedRun;
use crate::vendor::error::VendorResult;

/// Contexts per revoke call, so the query string stays short.
const REVOKE_BATCH: usize = 50;

impl Catalog {
    /// Apply the plan to contexts in one call (204, or 200 with warnings).
    pub async fn apply(&self, pid: &str, contexts: &[String]) -> VendorResult<Vec<String>> {
        let body = json!({"policy_id": pid, "context": {"items": contexts}});
        let resp = self
            .client
            .send_json(
                "POST /policy_applications",
                Method::POST,
                "/policy_applications".into(),
                &body,
            )
            .await?;
        Ok(issues_text(&resp.body))
    }

    /// Revoke the plan from contexts, a batch of contexts per call.
    pub async fn revoke(&self, pid: &str, contexts: &[String]) -> VendorResult<Vec<String>> {
        let mut issues = Vec::new();
        for batch in contexts.chunks(REVOKE_BATCH) {
            let q = Query::new()
                .filter("policy_id", Filter::Eq(pid.into()))
                .filter("context_id", Filter::Or(batch.to_vec()));
            match self
                .client
                .delete(
                    "DELETE /policy_applications",
                    "/policy_applications".into(),
                    &q,
                )
                .await
            {
                Ok(resp) => issues.extend(issues_text(&resp.body)),
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e),
            }
        }
        Ok(issues)
    }

    /// Keep the warnings of a 200 answer for the Policy's status.
    pub fn warn(&self, pid: &str, issues: Vec<String>) {
        if !issues.is_empty() {
            tracing::warn!(vendor = VENDOR, policy = pid, issues = ?issues, "Cyber Backup accepted the change with warnings");
            self.warnings
                .lock()
                .unwrap()
                .insert(pid.to_string(), issues);
        }
    }

    /// Run the plan once (`:run`, §2.10.4.7). `after` is the newest run start the
    /// applications showed just before: the run this call starts is the one that starts after
    /// it (202 carries no handle, §2.9).
    pub async fn start_run(
        &self,
        pid: &str,
        requested_at: &str,
        after: Option<jiff::Timestamp>,
    ) -> VendorResult<()> {
        let called_at = jiff::Timestamp::now();
        // §2.10.4.7: without context_ids the plan runs on everything it is applied to.
        let body = json!({"state": "RUNNING", "policy_id": pid});
        self.client
            .send_json(
                "POST /policy_applications:run",
                Method::POST,
                "/policy_applications:run".into(),
                &body,
            )
            .await?;
        self.runs.lock().unwrap().insert(
            pid.to_string(),
            StartedRun {
                requested_at: requested_at.to_string(),
                called_at,
                after,
            },
        );
        Ok(())
    }
}
