//! Writes to a protection plan: `PATCH /policies/{id}` (§2.10.3.10) and the switches of
//! `PATCH /policy_applications/enabled` (§2.10.3.11), with rampart's copy of the plan kept in
//! line with what each write did.

use reqwest::Method;
use serde_json::{Value, json};

use super::VENDOR;
use super::catalog::Catalog;
use super::models::{Plan, issues_text, plan_id};
use super::plan_patch::{self, Semantics};
use super::settings::DesiredPlan;
use crate::vendor::error::VendorResult;

impl Catalog {
    /// One `PATCH /policies/{id}`; warnings of a 200 answer are kept for the status.
    pub async fn patch_plan(&self, pid: &str, body: &Value) -> VendorResult<()> {
        let resp = self
            .client
            .send_json(
                "PATCH /policies/{id}",
                Method::PATCH,
                format!("/policies/{pid}"),
                body,
            )
            .await?;
        self.warn(pid, issues_text(&resp.body));
        Ok(())
    }

    /// Bring the plan's name and settings in line with `desired`; the plan as the vendor holds
    /// it afterwards. Nothing is sent when nothing differs.
    pub async fn correct_plan(&self, desired: &DesiredPlan, mut plan: Plan) -> VendorResult<Plan> {
        let known = *self.semantics.lock().unwrap();
        let Some(patch) = plan_patch::build(desired, &plan.name, &plan.settings, known) else {
            return Ok(plan);
        };
        let pid = plan_id(&plan.id);
        self.patch_plan(&pid, &patch.body).await?;
        let element = &patch.body["subject"]["policy"][0];
        if let Some(name) = element.get("name").and_then(Value::as_str) {
            plan.name = name.to_string();
        }
        let Some(sent) = element.get("settings") else {
            self.upsert_plan(plan.clone());
            return Ok(plan);
        };
        match known {
            Some(semantics) => plan_patch::apply(semantics, &mut plan.settings, sent),
            // Without removals both readings give the same plan.
            None if patch.removals.is_empty() => plan_patch::merge_patch(&mut plan.settings, sent),
            None => {
                // The first removal shows which kind of server this is.
                let fresh = self.read_plan(&pid).await?.unwrap_or_else(|| plan.clone());
                plan.settings = fresh.settings;
                let left = plan_patch::remaining(&patch.removals, &plan.settings);
                let learned = if left.is_empty() {
                    Semantics::Replace
                } else {
                    Semantics::Merge
                };
                tracing::info!(vendor = VENDOR, policy = %pid, semantics = ?learned, "learned how the server combines PATCH bodies");
                *self.semantics.lock().unwrap() = Some(learned);
                if !left.is_empty() {
                    let body = plan_patch::nulls(&left);
                    self.patch_plan(&pid, &body).await?;
                    plan_patch::merge_patch(
                        &mut plan.settings,
                        &body["subject"]["policy"][0]["settings"],
                    );
                }
            }
        }
        self.upsert_plan(plan.clone());
        Ok(plan)
    }

    /// Switch a plan on or off: the whole plan, or only on `contexts` (`context_ids`).
    pub async fn set_enabled(
        &self,
        pid: &str,
        contexts: Option<&[String]>,
        value: bool,
    ) -> VendorResult<()> {
        let mut body = json!({"policy_ids": [pid], "value": value});
        if let Some(c) = contexts {
            body["context_ids"] = json!(c);
        }
        self.client
            .send_json(
                "PATCH /policy_applications/enabled",
                Method::PATCH,
                "/policy_applications/enabled".into(),
                &body,
            )
            .await?;
        Ok(())
    }
}
