//! Cyber Backup: cursor pages with wrapped and nested items, the item models behind them, the
//! create answer's `"<uuid>@<type>"`, warnings, error bodies, the token answer, and what is
//! built from what was read (the Policy observation, backup-set summaries, on-demand runs).

use proptest::prelude::*;
use rampart::providers::cyberbackup::client::decode;
use rampart::providers::cyberbackup::errors::error_from_response;
use rampart::providers::cyberbackup::models::{
    Application, Archive, Backup, CreatedId, Credentials, Plan, Resource, issues_text,
    parse_created_policy_id, parse_page,
};
use rampart::providers::cyberbackup::session::{MAX_TOKEN_LIFETIME, read_token, usable_lifetime};
use rampart::providers::cyberbackup::{policy_view, run};
use serde::de::DeserializeOwned;

use crate::support::{self, bodies, instant, names_the_problem, response};

const EXAMPLES: &str = include_str!("examples/cyberbackup.json");

/// The items of a page as `T`, the way `list_all` reads them (an item that does not fit is a
/// protocol error there; here it is left out).
fn items<T: DeserializeOwned>(body: &[u8], wrapper: Option<&str>) -> Result<Vec<T>, TestCaseError> {
    match parse_page(body, wrapper) {
        Ok(page) => Ok(page
            .items
            .into_iter()
            .filter_map(|v| serde_json::from_value(v).ok())
            .collect()),
        Err(why) => {
            prop_assert!(!why.trim().is_empty());
            Ok(Vec::new())
        }
    }
}

proptest! {
    #![proptest_config(support::config(1024))]

    #[test]
    fn every_list_body_reads_or_names_its_problem(
        body in bodies(EXAMPLES),
        now in instant(),
        since in instant(),
    ) {
        let plans: Vec<Plan> = items(&body, Some("policy"))?;
        let apps: Vec<Application> = items(&body, None)?;
        items::<Resource>(&body, None)?;
        items::<Archive>(&body, None)?;
        items::<Backup>(&body, None)?;
        for plan in &plans {
            let warnings = issues_text(&body);
            let _ = policy_view::observation(plan, &apps, None, &warnings, &[]);
            let _ = policy_view::schedule_summaries(&plan.settings);
        }
        let _ = (run::newest_start(&apps), run::busy(&apps));
        let followed = run::Followed {
            requested_at: "2025-01-01T00:00:00Z".into(),
            called_at: Some(since),
            after: run::newest_start(&apps),
            outcome: None,
        };
        let outcome = run::outcome(&followed, &apps, now);
        prop_assert!(!outcome.state.is_empty());
    }

    #[test]
    fn every_object_body_reads_or_names_its_problem(body in bodies(EXAMPLES)) {
        let op = "GET /credentials/{id}";
        if let Err(e) = decode::<Credentials>(op, &body) {
            names_the_problem(&e, op)?;
        }
        if let Err(e) = decode::<CreatedId>(op, &body) {
            names_the_problem(&e, op)?;
        }
        match parse_created_policy_id(&body) {
            Ok(id) => prop_assert!(!id.is_empty() && !id.contains('@')),
            Err(why) => prop_assert!(!why.trim().is_empty()),
        }
    }

    #[test]
    fn every_error_body_becomes_an_error_naming_the_call(
        status in prop_oneof![400u16..=599, 0u16..=1000],
        body in bodies(EXAMPLES),
    ) {
        let op = "DELETE /policies/{id}";
        let e = error_from_response(op, &response(status, body));
        names_the_problem(&e, op)?;
        prop_assert_eq!(e.status, Some(status));
    }

    #[test]
    fn a_token_answer_never_outlives_two_hours_or_leaks(
        body in bodies(EXAMPLES),
        now in any::<i64>(),
    ) {
        match read_token(&body) {
            Ok(t) => {
                let lifetime = usable_lifetime(t.expires_in, t.expires_on, now);
                prop_assert!(lifetime <= MAX_TOKEN_LIFETIME);
            }
            Err(e) => {
                names_the_problem(&e, "POST /idp/token")?;
                prop_assert!(!e.to_string().contains("tok-5f0c1e2d"), "{}", e);
            }
        }
    }

    #[test]
    fn any_expiry_gives_a_lifetime_within_two_hours(
        expires_in in proptest::option::of(any::<i64>()),
        expires_on in proptest::option::of(any::<i64>()),
        now in any::<i64>(),
    ) {
        prop_assert!(usable_lifetime(expires_in, expires_on, now) <= MAX_TOKEN_LIFETIME);
    }
}
