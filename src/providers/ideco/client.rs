//! Typed calls to the firewall endpoints of the document (L9-253). Operation labels are the
//! path templates, so metrics and simulator counters line up and never carry ids.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::errors;
use super::models::{
    CreatedRule, DeviceRule, FirewallSettings, FirewallState, MoveParams, MoveRequest,
    ServiceStatus, integer,
};
use super::order::Move;
use super::session::Session;
use crate::api::vendors::ideco::IdecoSection;
use crate::vendor::error::VendorResult;
use crate::vendor::http::HttpResponse;

const LIST: &str = "GET /firewall/rules/{section}";
const CREATE: &str = "POST /firewall/rules/{section}";
const UPDATE: &str = "PUT /firewall/rules/{section}/{id}";
const MOVE: &str = "PATCH /firewall/rules/{section}/move";
const DELETE: &str = "DELETE /firewall/rules/{section}/{id}";

pub struct IdecoClient {
    session: Session,
}

impl IdecoClient {
    pub fn new(session: Session) -> Self {
        IdecoClient { session }
    }

    /// The rules of a section, in table order (the order is the evaluation order).
    pub async fn list_rules(&self, section: IdecoSection) -> VendorResult<Vec<DeviceRule>> {
        let url = self.rules_url(section, "");
        let resp = self.session.send(LIST, |c| c.get(&url)).await?;
        read_rules(&resp)
    }

    /// Create a rule; with an anchor it lands right after it (`insert_after`) or in its place
    /// (GUESS, L158: right before it; see `order::Move`), without one at the end of the table
    /// (L156-158). Returns the new id.
    pub async fn create_rule(
        &self,
        section: IdecoSection,
        body: &Map<String, Value>,
        anchor: Option<(i64, bool)>,
    ) -> VendorResult<i64> {
        let url = self.rules_url(section, "");
        let query: Vec<(&str, String)> = anchor
            .map(|(id, after)| {
                vec![
                    ("anchor_item_id", id.to_string()),
                    ("insert_after", after.to_string()),
                ]
            })
            .unwrap_or_default();
        let resp = self
            .session
            .send(CREATE, |c| c.post(&url).query(&query).json(body))
            .await?;
        read_created_id(&resp)
    }

    /// Replace a rule's body (L184-214). Its place does not change.
    pub async fn update_rule(
        &self,
        section: IdecoSection,
        id: i64,
        body: &Map<String, Value>,
    ) -> VendorResult<()> {
        let url = self.rules_url(section, &format!("/{id}"));
        let resp = self
            .session
            .send(UPDATE, |c| c.put(&url).json(body))
            .await?;
        expect_success(UPDATE, &resp)
    }

    /// Move a rule next to another (L216-240).
    pub async fn move_rule(&self, section: IdecoSection, mv: &Move) -> VendorResult<()> {
        let url = self.rules_url(section, "/move");
        let body = MoveRequest {
            params: MoveParams {
                id: mv.id,
                anchor_item_id: mv.anchor,
                insert_after: mv.insert_after,
            },
        };
        let resp = self
            .session
            .send(MOVE, |c| c.patch(&url).json(&body))
            .await?;
        expect_success(MOVE, &resp)
    }

    /// Delete a rule (L242-253). A rule already gone counts as deleted.
    pub async fn delete_rule(&self, section: IdecoSection, id: i64) -> VendorResult<()> {
        let url = self.rules_url(section, &format!("/{id}"));
        match self.session.send(DELETE, |c| c.delete(&url)).await {
            Ok(resp) if resp.status == 404 => Ok(()),
            Ok(resp) => expect_success(DELETE, &resp),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }

    pub async fn firewall_status(&self) -> VendorResult<Vec<ServiceStatus>> {
        self.get_json("GET /firewall/status", "/firewall/status")
            .await
    }

    pub async fn firewall_state(&self) -> VendorResult<FirewallState> {
        self.get_json("GET /firewall/state", "/firewall/state")
            .await
    }

    pub async fn firewall_settings(&self) -> VendorResult<FirewallSettings> {
        self.get_json("GET /firewall/settings", "/firewall/settings")
            .await
    }

    pub async fn logout(&self) {
        self.session.logout().await
    }

    async fn get_json<T: DeserializeOwned>(&self, operation: &str, path: &str) -> VendorResult<T> {
        let url = self.session.http().url(path);
        let resp = self.session.send(operation, |c| c.get(&url)).await?;
        read_json(operation, &resp)
    }

    fn rules_url(&self, section: IdecoSection, rest: &str) -> String {
        self.session
            .http()
            .url(&format!("/firewall/rules/{}{rest}", section.as_str()))
    }
}

fn expect_success(operation: &str, resp: &HttpResponse) -> VendorResult<()> {
    if resp.is_success() {
        Ok(())
    } else {
        Err(errors::from_response(operation, resp))
    }
}

// The readers below are public for the property tests in tests/fuzz.

/// The JSON body of a successful answer, or the error a failed one means.
pub fn read_json<T: DeserializeOwned>(operation: &str, resp: &HttpResponse) -> VendorResult<T> {
    expect_success(operation, resp)?;
    serde_json::from_slice(&resp.body).map_err(|e| errors::protocol(operation, e))
}

/// The rules of a `GET /firewall/rules/<section>` answer, in table order.
pub fn read_rules(resp: &HttpResponse) -> VendorResult<Vec<DeviceRule>> {
    let rows: Vec<Value> = read_json(LIST, resp)?;
    rows.into_iter()
        .map(|r| DeviceRule::from_json(r).map_err(|e| errors::protocol(LIST, e)))
        .collect()
}

/// The id of the rule a `POST /firewall/rules/<section>` answer created.
pub fn read_created_id(resp: &HttpResponse) -> VendorResult<i64> {
    let created: CreatedRule = read_json(CREATE, resp)?;
    integer(&created.id)
        .ok_or_else(|| errors::protocol(CREATE, "the new rule's id is not an integer"))
}
