//! Policy applications (§2.10.4): applying a plan to contexts, revoking it, and running it once
//! (`:run`, a long operation followed by polling the applications, §2.9).

use jiff::Timestamp;
use reqwest::Method;
use serde_json::json;

use super::VENDOR;
use super::catalog::Catalog;
use super::filter::{Filter, Query};
use super::models::issues_text;
use super::run::{self, StartedRun};
use crate::vendor::error::VendorResult;

/// Contexts per revoke call, so the query string stays short.
const REVOKE_BATCH: usize = 50;

/// A run call the vendor accepted (202): when rampart called, and the newest run start the
/// plan's applications showed just before (none when the plan never ran).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunCall {
    pub called_at: Timestamp,
    pub after: Option<Timestamp>,
}

/// Why a plan was not run now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotRun {
    /// An application is still being deployed to its device.
    Deploying,
    /// A run is in progress on an application.
    Busy,
}

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

    /// Run the plan once (`:run`, §2.10.4.7) if it can run now: its applications, read afresh,
    /// are all deployed and none is running (the vendor starts no run beside a running one, so
    /// the call would start nothing). 202 carries no handle (§2.9): the answer says when rampart
    /// called and the newest run start the applications showed just before, so that the run
    /// this call started is the first to start after it. Shared by the Policy's
    /// `run-requested-at` and the Backup kind.
    pub async fn run_plan(&self, pid: &str) -> VendorResult<Result<RunCall, NotRun>> {
        let apps = self.plan_applications(pid).await?;
        let deployed = apps
            .iter()
            .all(|a| a.deployment_state().as_deref() == Some("DEPLOYED"));
        if !deployed {
            return Ok(Err(NotRun::Deploying));
        }
        if run::busy(&apps) {
            return Ok(Err(NotRun::Busy));
        }
        let call = RunCall {
            called_at: Timestamp::now(),
            after: run::newest_start(&apps),
        };
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
        tracing::info!(vendor = VENDOR, policy = pid, after = ?call.after, "the vendor accepted a run of the plan");
        Ok(Ok(call))
    }

    /// The Policy's run request `requested_at`: run the plan if it can run now, and keep the
    /// call until the status records it. Whether the call was made.
    pub async fn start_run(&self, pid: &str, requested_at: &str) -> VendorResult<bool> {
        let Ok(call) = self.run_plan(pid).await? else {
            return Ok(false);
        };
        self.runs.lock().unwrap().insert(
            pid.to_string(),
            StartedRun {
                requested_at: requested_at.to_string(),
                called_at: call.called_at,
                after: call.after,
            },
        );
        Ok(true)
    }
}
