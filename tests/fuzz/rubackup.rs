//! RuBackup: the `{"data", "errors", "is_error", "message"}` envelope and its list items, the
//! login/refresh answer (its tokens and their JWT lifetimes), cron fields as the vendor returns
//! them, the interval text of storage durations, and date-times.

use std::time::Instant;

use base64::Engine;
use proptest::prelude::*;
use rampart::providers::rubackup::cron::{CronField, FieldSet};
use rampart::providers::rubackup::envelope;
use rampart::providers::rubackup::fields::parse_datetime;
use rampart::providers::rubackup::interval::Interval;
use rampart::providers::rubackup::session::read_tokens;
use rampart::providers::rubackup::token::{Tokens, lifetime};
use serde_json::{Value, json};

use crate::support::{self, bodies, names_the_problem, response, tricky_text};

const EXAMPLES: &str = include_str!("examples/rubackup.json");

fn status() -> impl Strategy<Value = u16> {
    prop_oneof![4 => Just(200u16), 1 => 0u16..=700]
}

fn jwt(claims: &Value) -> String {
    let enc = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    format!("{}.{}.sig", enc(&json!({"alg": "HS256"})), enc(claims))
}

fn cron_field() -> impl Strategy<Value = CronField> {
    prop::sample::select(CronField::ALL.to_vec())
}

/// A cron field as the vendor might return it: a number or cron text.
fn vendor_field() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        (0u64..64).prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[0-9*/,-]{1,12}".prop_map(Value::from),
        "(jan|Feb|SUN|mon|[0-9]{1,2})(-(dec|sat|[0-9]{1,2}))?(/[0-9]{1,3})?".prop_map(Value::from),
        tricky_text().prop_map(Value::from),
    ]
}

/// Interval text: numbers of every size with units, times of day, `ago`, and junk.
fn interval_text() -> impl Strategy<Value = String> {
    let number = prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        (-1000i64..1000).prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| f.to_string()),
        Just("1e308".to_string()),
        Just("-0.5".to_string()),
    ];
    let unit = prop::sample::select(vec![
        "microseconds",
        "ms",
        "second",
        "mins",
        "hours",
        "days",
        "week",
        "mon",
        "years",
        "decades",
        "century",
        "millennia",
        "parsecs",
    ]);
    let part = prop_oneof![
        4 => (number.clone(), unit, any::<bool>())
            .prop_map(|(n, u, glued)| if glued { format!("{n}{u}") } else { format!("{n} {u}") }),
        1 => (number, 0i64..70, 0i64..70).prop_map(|(h, m, s)| format!("{h}:{m:02}:{s:02}")),
        1 => prop::sample::select(vec!["ago", "@", "-12:00", "+1:30:00.5"])
            .prop_map(str::to_string),
        1 => tricky_text(),
    ];
    prop::collection::vec(part, 0..5).prop_map(|parts| parts.join(" "))
}

proptest! {
    #![proptest_config(support::config(1024))]

    #[test]
    fn every_answer_reads_or_names_its_problem(status in status(), body in bodies(EXAMPLES)) {
        let op = "GET /rule_global_schedule";
        match envelope::read(op, &response(status, body)) {
            Ok(env) => {
                let _ = env.items();
            }
            Err(e) => names_the_problem(&e, op)?,
        }
    }

    #[test]
    fn a_login_answer_gives_tokens_or_an_error_that_does_not_quote_them(
        status in status(),
        body in bodies(EXAMPLES),
    ) {
        let op = "POST /auth/login";
        match read_tokens(op, &response(status, body), 1) {
            Ok(t) => {
                let _ = t.usable(Instant::now());
            }
            Err(e) => {
                names_the_problem(&e, op)?;
                for secret in ["secret-access", "secret-refresh", "secret-csrf"] {
                    prop_assert!(!e.to_string().contains(secret), "{} quotes a token", e);
                }
            }
        }
    }

    #[test]
    fn any_token_claims_give_a_usable_deadline(
        iat in proptest::option::of(any::<i64>()),
        exp in proptest::option::of(any::<i64>()),
        junk in tricky_text(),
    ) {
        let token = jwt(&json!({"iat": iat, "exp": exp}));
        let _ = lifetime(&junk);
        let t = Tokens::new(token.clone(), token, "csrf".into(), Instant::now(), 1);
        let _ = t.usable(Instant::now());
        let _ = t.refreshable(Instant::now());
    }

    #[test]
    fn a_vendor_cron_field_reads_back_as_it_renders(
        field in cron_field(),
        value in vendor_field(),
    ) {
        match FieldSet::from_vendor(field, &value) {
            Ok(set) => {
                let (lo, hi) = field.range();
                prop_assert!(set.values.iter().all(|v| (lo..=hi).contains(v)), "{set:?}");
                prop_assert_eq!(FieldSet::parse(field, &set.render()), Ok(set.clone()));
                prop_assert_eq!(FieldSet::from_vendor(field, &set.to_vendor()), Ok(set));
            }
            Err(why) => prop_assert!(!why.trim().is_empty()),
        }
    }

    #[test]
    fn an_interval_reads_back_as_it_prints(text in interval_text()) {
        match Interval::parse(&text) {
            Ok(iv) => prop_assert_eq!(Interval::parse(&iv.to_postgres()), Ok(iv), "{}", text),
            Err(e) => prop_assert!(e.to_string().contains("is not an interval")),
        }
    }

    #[test]
    fn any_text_is_a_date_time_or_none(text in tricky_text()) {
        let _ = parse_datetime(&text);
    }
}
