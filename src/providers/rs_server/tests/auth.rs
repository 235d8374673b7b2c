//! Tokens from the Secret and from Keystone, refused tokens, refused passwords, logout.

use super::*;
use crate::vendor::error::ErrorKind;

const LOGIN: &str = "POST /v3/auth/tokens";

#[tokio::test]
async fn a_token_from_the_secret_reaches_info_without_keystone() {
    let f = Fixture::new().await;
    let admin = f.sim.state.project_id("admin").unwrap();
    let token = f.sim.state.issue_token(&f.user_id, Some(&admin));
    let rt = f
        .runtime(Fixture::token_settings(), &[("token", &token)])
        .await;
    let seen = rt.check().await.unwrap();
    assert_eq!(seen.version.as_deref(), Some("0.1.0"));
    let license = seen.license.unwrap();
    assert!(
        license.starts_with("RSserver, licensed to Laboratoria, verified, valid until "),
        "{license}"
    );
    assert!(seen.last_authenticated.is_some());
    assert_eq!((f.count("GET /v1/info"), f.count(LOGIN)), (1, 0));
}

#[tokio::test]
async fn a_token_from_keystone_is_obtained_once_and_reused() {
    let f = Fixture::new().await;
    let rt = f.password_runtime().await;
    rt.check().await.unwrap();
    rt.check().await.unwrap();
    assert_eq!((f.count("GET /v1/info"), f.count(LOGIN)), (2, 1));
}

#[tokio::test]
async fn a_bad_token_is_unauthorized_and_says_where_it_came_from_not_what_it_is() {
    let f = Fixture::new().await;
    let bad = "gAAAAAnot-a-token-0123456789";
    let rt = f
        .runtime(Fixture::token_settings(), &[("token", bad)])
        .await;
    let e = rt.check().await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unauthorized, "{e}");
    assert_eq!(e.code.as_deref(), Some("24"));
    let text = e.to_string();
    assert!(text.contains("Auth token is not valid."), "{text}");
    assert!(text.contains("Secret test/trs (key 'token')"), "{text}");
    assert!(!text.contains(bad), "the token leaked: {text}");
    assert_eq!(
        f.count(LOGIN),
        0,
        "a Secret token is never replaced by a login"
    );
}

#[tokio::test]
async fn a_refused_password_is_unauthorized_and_not_tried_again_at_once() {
    let f = Fixture::new().await;
    let rt = f
        .runtime(
            f.password_settings(),
            &[("username", USER), ("password", "wrong-pass-42")],
        )
        .await;
    let first = rt.check().await.unwrap_err();
    assert_eq!(first.kind, ErrorKind::Unauthorized, "{first}");
    assert_eq!(first.status, Some(401));
    let text = first.to_string();
    assert!(
        text.contains("Keystone: The request you have made requires authentication."),
        "{text}"
    );
    assert!(
        !text.contains("wrong-pass-42"),
        "the password leaked: {text}"
    );
    let second = rt.check().await.unwrap_err();
    assert_eq!(second.kind, ErrorKind::Unauthorized);
    assert_eq!(
        f.count(LOGIN),
        1,
        "a refused password must not be retried hot"
    );
    assert_eq!(f.count("GET /v1/info"), 0);
}

#[tokio::test]
async fn a_revoked_keystone_token_is_replaced_by_one_new_login() {
    let f = Fixture::new().await;
    let rt = f.password_runtime().await;
    rt.check().await.unwrap();
    f.sim.control().revoke_tokens();
    rt.check().await.unwrap();
    assert_eq!(f.count(LOGIN), 2);
    assert_eq!(
        f.count("GET /v1/info"),
        3,
        "one refused call, then the retry"
    );
}

#[tokio::test]
async fn a_token_about_to_expire_is_renewed_before_use() {
    let f = Fixture::new().await;
    // Shorter than the renewal margin: every use finds it about to expire.
    f.sim.state.set_token_lifetime(Duration::from_secs(120));
    let rt = f.password_runtime().await;
    rt.check().await.unwrap();
    rt.check().await.unwrap();
    assert_eq!(f.count(LOGIN), 2);
    assert_eq!(
        f.count("GET /v1/info"),
        2,
        "no call was made with a stale token"
    );
}

#[tokio::test]
async fn shutdown_revokes_the_token_it_obtained() {
    let f = Fixture::new().await;
    let rt = f.password_runtime().await;
    rt.check().await.unwrap();
    rt.shutdown().await;
    assert_eq!(f.count("DELETE /v3/auth/tokens"), 1);
    assert_eq!(
        f.sim.state.with(|w| w.tokens.len()),
        0,
        "the session's token is gone"
    );
}

#[tokio::test]
async fn an_expired_licence_shows_in_status_and_makes_lists_forbidden() {
    let f = Fixture::new().await;
    let project = f.sim.state.add_project("office");
    f.sim.state.set_license_expired(true);
    let rt = f.password_runtime().await;
    let seen = rt.check().await.unwrap();
    assert!(seen.license.unwrap().contains("EXPIRED at"));
    let e = rs(&rt)
        .resolve(&selector(by_id(&project), true, false, None))
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind, e.code.as_deref()),
        (ErrorKind::Forbidden, Some("2")),
        "{e}"
    );
}

#[tokio::test]
async fn missing_settings_and_secret_keys_are_config_errors_naming_them() {
    let f = Fixture::new().await;
    f.world.source.set(
        f.key.clone(),
        f.spec(Fixture::token_settings()),
        &[("username", USER)],
    );
    let e = f.world.hub.runtime(&f.key).await.err().unwrap().to_string();
    assert!(e.contains("has no key 'token'"), "{e}");
    let no_scope = RsServerProviderSettings {
        project_name: None,
        ..f.password_settings()
    };
    f.world.source.set(
        f.key.clone(),
        f.spec(no_scope),
        &[("username", USER), ("password", PASSWORD)],
    );
    let e = f.world.hub.runtime(&f.key).await.err().unwrap().to_string();
    assert!(
        e.contains("spec.rsServer.projectId or spec.rsServer.projectName"),
        "{e}"
    );
}

#[tokio::test]
async fn injected_server_errors_are_retryable() {
    let f = Fixture::new().await;
    let rt = f.password_runtime().await;
    rt.check().await.unwrap();
    f.sim
        .control()
        .set_faults(crate::simulators::harness::Faults {
            error_rate: 1.0,
            ..Default::default()
        });
    let e = rt.check().await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unavailable, "{e}");
    assert!(e.is_retryable());
}

/// A session the vendor drops right after opening it is a passing outage (`Unavailable`, backed
/// off), not refused credentials (`Unauthorized`, five minutes' wait).
#[tokio::test]
async fn a_token_dropped_right_after_the_login_is_an_outage_not_refused_credentials() {
    let f = Fixture::new().await;
    let rt = f.password_runtime().await;
    f.sim
        .control()
        .set_faults(crate::simulators::harness::Faults {
            revoke_on_issue: true,
            ..Default::default()
        });
    let e = rt.check().await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unavailable, "{e}");
    assert_eq!(f.count(LOGIN), 2, "one login, one re-login");
    f.sim.control().set_faults(Default::default());
    rt.check().await.unwrap();
}
