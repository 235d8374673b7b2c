//! RS server: module info (licence as object or text), project/server/volume-assignment lists,
//! the `{"error": {"code", …}}` error model (refused tokens come as HTTP 400), and Keystone's
//! token answer and errors.

use proptest::prelude::*;
use rampart::providers::rs_server::readers::{
    describe_license, error_from_response, keystone_error_from_response, parse_info, parse_issued,
    parse_projects, parse_servers, parse_volume_assignments,
};
use reqwest::header::HeaderValue;

use crate::support::{self, bodies, names_the_problem, response};

const EXAMPLES: &str = include_str!("examples/rs_server.json");

/// A parse error is serde's, which says what it expected and where.
fn named(e: serde_json::Error) -> Result<(), TestCaseError> {
    prop_assert!(!e.to_string().trim().is_empty());
    Ok(())
}

proptest! {
    #![proptest_config(support::config(1024))]

    #[test]
    fn every_success_body_reads_or_names_its_problem(
        body in bodies(EXAMPLES),
        now in any::<i64>(),
    ) {
        match parse_info(&body) {
            Ok(info) => {
                if let Some(l) = info.license {
                    prop_assert!(!describe_license(&l, now).is_empty());
                }
            }
            Err(e) => named(e)?,
        }
        parse_projects(&body).map(drop).or_else(named)?;
        parse_servers(&body).map(drop).or_else(named)?;
        parse_volume_assignments(&body).map(drop).or_else(named)?;
    }

    #[test]
    fn every_error_body_becomes_an_error_naming_the_call(
        status in prop_oneof![Just(400u16), 0u16..=700],
        body in bodies(EXAMPLES),
    ) {
        let resp = response(status, body);
        let op = "GET /v1/servers/";
        names_the_problem(&error_from_response(op, &resp), op)?;
        let op = "POST /v3/auth/tokens";
        names_the_problem(&keystone_error_from_response(op, &resp), op)?;
    }

    #[test]
    fn a_keystone_answer_gives_a_token_or_names_its_problem(
        token in proptest::option::of(prop_oneof!["tok-[a-z0-9]{8,20}", "[ -~]{0,4}"]),
        body in bodies(EXAMPLES),
    ) {
        let mut resp = response(201, body);
        if let Some(t) = token.as_deref().and_then(|t| HeaderValue::from_str(t).ok()) {
            resp.headers.insert("x-subject-token", t);
        }
        match parse_issued(&resp) {
            Ok(issued) => prop_assert!(!issued.value.expose().is_empty()),
            Err(e) => {
                names_the_problem(&e, "POST /v3/auth/tokens")?;
                if let Some(t) = token.filter(|t| t.starts_with("tok-")) {
                    prop_assert!(!e.to_string().contains(&t), "the token is in {}", e);
                }
            }
        }
    }
}
