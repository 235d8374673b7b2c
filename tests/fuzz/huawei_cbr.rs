//! CBR: the envelope readers every call goes through (`{"vault": …}`, `{"vaults": […],
//! "count"}`), the models behind them with their lenient number/bool/time readers, the error
//! bodies of CBR and IAM, IAM's token answer, the pattern normaliser applied to what CBR echoes,
//! and the observations built from what was read.

use jiff::Timestamp;
use proptest::prelude::*;
use rampart::providers::huawei_cbr::models::{OperationLog, Policy, PolicyBinding, Vault, de};
use rampart::providers::huawei_cbr::schedule::normalize_patterns;
use rampart::providers::huawei_cbr::session::read_token_response;
use rampart::providers::huawei_cbr::{
    errors, policy_desired, read_list, read_object, vault_desired,
};
use rampart::vendor::error::ErrorKind;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::support::{self, bodies, names_the_problem};

const EXAMPLES: &str = include_str!("examples/huawei_cbr.json");

/// Read an object envelope; an error must be a protocol error naming the operation.
fn object<T: DeserializeOwned>(body: &[u8], key: &str) -> Result<Option<T>, TestCaseError> {
    let op = "GET /thing/{id}";
    match read_object::<T>(op, 200, body, key) {
        Ok(v) => Ok(Some(v)),
        Err(e) => {
            names_the_problem(&e, op)?;
            prop_assert_eq!(e.kind, ErrorKind::Protocol);
            Ok(None)
        }
    }
}

fn list<T: DeserializeOwned>(body: &[u8], key: &str) -> Result<Vec<T>, TestCaseError> {
    let op = "GET /things";
    match read_list::<T>(op, 200, body, key) {
        Ok((items, _count)) => Ok(items),
        Err(e) => {
            names_the_problem(&e, op)?;
            prop_assert_eq!(e.kind, ErrorKind::Protocol);
            Ok(Vec::new())
        }
    }
}

/// What rampart does with a policy it read: observe it, compare its patterns.
fn use_policy(p: &Policy) -> Result<(), TestCaseError> {
    let _ = policy_desired::observation(p);
    let once = normalize_patterns(p.patterns());
    prop_assert_eq!(
        normalize_patterns(&once),
        once.clone(),
        "normalising twice changes it"
    );
    Ok(())
}

fn use_vault(v: &Vault) {
    let _ = vault_desired::observation(v, Some("p"), vec!["r".into()], &[]);
}

proptest! {
    #![proptest_config(support::config(1024))]

    #[test]
    fn every_success_body_reads_or_names_its_problem(body in bodies(EXAMPLES)) {
        if let Some(v) = object::<Vault>(&body, "vault")? {
            use_vault(&v);
        }
        if let Some(p) = object::<Policy>(&body, "policy")? {
            use_policy(&p)?;
        }
        object::<Vec<String>>(&body, "add_resource_ids")?;
        object::<PolicyBinding>(&body, "associate_policy")?;
        list::<Vault>(&body, "vaults")?.iter().for_each(use_vault);
        for p in list::<Policy>(&body, "policies")? {
            use_policy(&p)?;
        }
        list::<OperationLog>(&body, "operation_logs")?;
    }

    #[test]
    fn every_error_body_becomes_an_error_naming_the_call(
        status in prop_oneof![400u16..=599, 0u16..=1000],
        body in bodies(EXAMPLES),
    ) {
        let op = "POST /vaults";
        let e = errors::from_response(op, status, &body);
        names_the_problem(&e, op)?;
        prop_assert_eq!(e.status, Some(status));
        // The vendor's code is kept verbatim when the body has one.
        let sent = serde_json::from_slice::<Value>(&body).ok()
            .and_then(|v| v.get("error_code").and_then(Value::as_str).map(str::to_string))
            .filter(|c| !c.trim().is_empty());
        prop_assert_eq!(e.code, sent);
    }

    #[test]
    fn a_token_answer_always_has_an_expiry(
        header in proptest::option::of(support::tricky_text()),
        body in bodies(EXAMPLES),
        now in any::<i64>().prop_map(|s| {
            Timestamp::from_second(s % 253_402_207_200).unwrap_or(Timestamp::UNIX_EPOCH)
        }),
    ) {
        match read_token_response(header.as_deref(), &body, now) {
            Ok(t) => prop_assert!(!t.token.expose().trim().is_empty()),
            Err(e) => prop_assert!(!e.is_empty()),
        }
    }

    #[test]
    fn any_text_is_a_time_or_none(s in support::tricky_text()) {
        let _ = de::parse_time(&s);
    }

    #[test]
    fn echoed_patterns_normalise_idempotently(
        patterns in prop::collection::vec(echoed_pattern(), 0..30),
    ) {
        let once = normalize_patterns(&patterns);
        prop_assert_eq!(normalize_patterns(&once), once.clone());
    }
}

/// A pattern as CBR might echo it: the documented parts in any order, case and spacing, with
/// values in and out of range, and sometimes plain garbage.
fn echoed_pattern() -> impl Strategy<Value = String> {
    let part = prop_oneof![
        prop::sample::select(vec![
            "FREQ=WEEKLY",
            "FREQ=DAILY",
            "freq=daily",
            "FREQ=HOURLY"
        ])
        .prop_map(str::to_string),
        prop::collection::vec(
            prop::sample::select(vec!["MO", "TU", "WE", "TH", "FR", "SA", "SU", "su", "XX"]),
            0..8
        )
        .prop_map(|d| format!("BYDAY={}", d.join(","))),
        (-2i64..30).prop_map(|h| format!("BYHOUR={h}")),
        (-2i64..70).prop_map(|m| format!("BYMINUTE={m:02}")),
        (-1i64..4).prop_map(|i| format!(" INTERVAL = {i} ")),
        support::tricky_text(),
    ];
    prop::collection::vec(part, 0..6).prop_map(|parts| parts.join(";"))
}
