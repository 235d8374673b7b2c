//! Ideco: the rule table, the create answer, the device's status/state/settings, error
//! answers, the session cookie, the ownership marker in comments, and the section view and move
//! plan built from whatever table the device lists.

use proptest::prelude::*;
use rampart::providers::ideco::client::{read_created_id, read_json, read_rules};
use rampart::providers::ideco::models::{
    DeviceFacts, DeviceRule, FirewallSettings, FirewallState, ServiceStatus,
};
use rampart::providers::ideco::registry::{BlockSpec, Member, SectionIntent};
use rampart::providers::ideco::session::cookie_header;
use rampart::providers::ideco::{conditions, errors, marker, section};
use reqwest::header::{HeaderMap, HeaderValue, SET_COOKIE};

use crate::support::{self, bodies, names_the_problem, response};

const EXAMPLES: &str = include_str!("examples/ideco.json");

const SENTINEL: &str = "=== managed below ===";

/// Every ownership marker of the table, recorded as a FirewallRule of this runtime.
fn intent(table: &[DeviceRule], block: BlockSpec, movable: bool) -> SectionIntent {
    let members = table
        .iter()
        .filter_map(DeviceRule::marker)
        .map(|m| Member {
            marker: m.to_string(),
            object: format!("ns/{m}"),
            id: None,
            movable,
            adopt_unmarked: true,
        })
        .collect();
    SectionIntent {
        members,
        block: Ok(Some(block)),
    }
}

fn block() -> impl Strategy<Value = BlockSpec> {
    prop_oneof![
        Just(BlockSpec::Top),
        Just(BlockSpec::Bottom),
        Just(BlockSpec::AfterSentinel(SENTINEL.into())),
    ]
}

proptest! {
    #![proptest_config(support::config(1024))]

    #[test]
    fn any_listed_table_reads_and_plans_or_names_its_problem(
        status in prop_oneof![4 => Just(200u16), 1 => 0u16..=700],
        body in bodies(EXAMPLES),
        block in block(),
        movable in any::<bool>(),
    ) {
        match read_rules(&response(status, body)) {
            Ok(table) => {
                let intent = intent(&table, block, movable);
                let view = section::classify(&table, &intent);
                let _ = section::pending_moves(&table, &view, &intent);
                if let Some(first) = intent.members.first() {
                    let _ = section::creation_anchor(&table, &view, &intent, &first.marker);
                }
            }
            Err(e) => names_the_problem(&e, "GET /firewall/rules/{section}")?,
        }
    }

    #[test]
    fn any_device_answer_reads_or_names_its_problem(
        status in prop_oneof![4 => Just(200u16), 1 => 0u16..=700],
        body in bodies(EXAMPLES),
    ) {
        let resp = response(status, body);
        if let Err(e) = read_created_id(&resp) {
            names_the_problem(&e, "POST /firewall/rules/{section}")?;
        }
        let op = "GET /firewall/status";
        let services = read_json::<Vec<ServiceStatus>>(op, &resp);
        let state = read_json::<FirewallState>(op, &resp);
        let settings = read_json::<FirewallSettings>(op, &resp);
        match (services, state, settings) {
            (Ok(services), Ok(state), Ok(settings)) => {
                let facts = DeviceFacts { services, state, settings };
                let _ = conditions::device_conditions(&facts);
                prop_assert!(!conditions::service_summary(&facts).is_empty());
            }
            (a, b, c) => {
                for e in [a.err(), b.err(), c.err()].into_iter().flatten() {
                    names_the_problem(&e, op)?;
                }
            }
        }
        let e = errors::from_response(op, &resp);
        names_the_problem(&e, op)?;
    }

    #[test]
    fn any_comment_yields_a_well_formed_marker_or_none(comment in support::tricky_text()) {
        if let Some(m) = marker::parse(&comment) {
            prop_assert!(!m.is_empty() && !m.contains(char::is_whitespace) && !m.contains('['));
        }
    }

    #[test]
    fn a_composed_comment_gives_its_marker_back(
        user in support::tricky_text(),
        m in "[0-9a-f]{16}",
    ) {
        let comment = marker::compose(&user, &m);
        prop_assert_eq!(marker::parse(&comment), Some(m.as_str()));
    }

    #[test]
    fn any_set_cookie_gives_a_sendable_cookie_or_none(
        values in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 0..4),
    ) {
        let mut headers = HeaderMap::new();
        for v in values.iter().filter_map(|v| HeaderValue::from_bytes(v).ok()) {
            headers.append(SET_COOKIE, v);
        }
        if let Some(cookie) = cookie_header(&headers) {
            prop_assert!(HeaderValue::from_str(&cookie).is_ok(), "{cookie:?}");
        }
    }
}
