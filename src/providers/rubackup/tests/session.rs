//! The session: transparent renewal after expiry and restarts, one login for many callers,
//! and no hot retry of a refused login.

use std::time::Duration;

use futures::future::join_all;
use serde_json::json;

use super::*;
use crate::api::vendors::rubackup::{RuBackupAuthType, RuBackupLoginFormat};
use crate::simulators::rubackup::SimUser;

#[tokio::test]
async fn an_expired_access_token_is_refreshed_transparently() {
    let rig = Rig::new().await;
    let rt = rig.runtime().await;
    rt.check().await.unwrap();
    assert_eq!(rig.sim.count("POST /auth/login"), 1);
    // The server's clock passes the access token's 15 minutes; ours does not know.
    rig.sim.sim.advance_clock(Duration::from_secs(901));
    let seen = rt.check().await.unwrap();
    assert_eq!(seen.version.as_deref(), Some("2.4.0"));
    assert_eq!(
        rig.sim.count("GET /server_hello"),
        3,
        "one refused, one retried after the refresh"
    );
    assert_eq!(rig.sim.count("POST /auth/refresh"), 1);
    assert_eq!(rig.sim.count("POST /auth/login"), 1);
}

#[tokio::test]
async fn a_restart_of_the_api_means_a_new_login() {
    let rig = Rig::new().await;
    let rt = rig.runtime().await;
    let vault = vault_cr("main", pool_spec("k8s-main"));
    rt.adapters()
        .get::<crate::api::Vault>()
        .unwrap()
        .create(&vault, &rig.ctx())
        .await
        .unwrap();
    rig.sim.sim.restart();
    let obs = rt
        .adapters()
        .get::<crate::api::Vault>()
        .unwrap()
        .observe(&vault, None, &rig.fresh())
        .await
        .unwrap();
    assert!(obs.exists);
    // Refused request → refused refresh (old keys) → login → the request again.
    assert_eq!(rig.sim.count("POST /auth/refresh"), 1);
    assert_eq!(rig.sim.count("POST /auth/login"), 2);
}

#[tokio::test]
async fn many_callers_after_a_restart_share_one_login() {
    let rig = Rig::new().await;
    let rt = rig.runtime().await;
    rt.check().await.unwrap();
    rig.sim.sim.restart();
    let results = join_all((0..20).map(|_| rt.check())).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(rig.sim.count("POST /auth/login"), 2);
}

#[tokio::test]
async fn runtimes_of_the_same_endpoint_and_credentials_share_the_session() {
    let rig = Rig::new().await;
    let rt = rig.runtime().await;
    rt.check().await.unwrap();
    // A second configuration (for example a ClusterProviderConfig) with the same endpoint and Secret.
    let other = ProviderKey {
        kind: ProviderConfigKind::ClusterProviderConfig,
        namespace: None,
        name: "rb-cluster".into(),
    };
    let spec = rig.world.hub.config(&rig.key).unwrap();
    rig.world.source.set(
        other.clone(),
        spec,
        &[("username", USER), ("password", PASSWORD)],
    );
    rig.world
        .hub
        .runtime(&other)
        .await
        .unwrap()
        .check()
        .await
        .unwrap();
    assert_eq!(rig.sim.count("POST /auth/login"), 1);
}

#[tokio::test]
async fn a_wrong_password_is_tried_once_per_backoff_window() {
    let rig = Rig::with(
        SimConfig::new(&[(USER, PASSWORD)]),
        "wrong",
        Default::default(),
    )
    .await;
    let rt = rig.runtime().await;
    let vault = vault_cr("main", pool_spec("k8s-main"));
    for _ in 0..4 {
        let err = rt
            .adapters()
            .get::<crate::api::Vault>()
            .unwrap()
            .observe(&vault, None, &rig.fresh())
            .await
            .unwrap_err();
        assert_eq!(vendor_kind(&err), Some(ErrorKind::Unauthorized));
        let text = err.to_string();
        assert!(
            text.contains("next login attempt will be made at") && text.contains("test/rb"),
            "{text}"
        );
        assert!(
            !text.contains("wrong"),
            "the password never appears: {text}"
        );
    }
    assert_eq!(rig.sim.count("POST /auth/login"), 1);
    assert_eq!(rig.sim.sim.failed_logins(USER), 1);

    // The Secret is corrected: a new runtime, a clean slate, one login.
    rig.set_password(PASSWORD);
    let rt = rig.runtime().await;
    assert!(
        !rt.adapters()
            .get::<crate::api::Vault>()
            .unwrap()
            .observe(&vault, None, &rig.fresh())
            .await
            .unwrap()
            .exists
    );
    assert_eq!(rig.sim.count("POST /auth/login"), 2);
    assert_eq!(rig.sim.sim.failed_logins(USER), 0);
}

#[tokio::test]
async fn legacy_and_domain_logins() {
    let mut config = SimConfig::new(&[(USER, PASSWORD)]);
    config.users.push(SimUser {
        name: "testuser".into(),
        password: "P@ssw0rd".into(),
        domain: Some("RUBACKUP".into()),
    });
    let legacy = RuBackupProviderSettings {
        login_format: Some(RuBackupLoginFormat::Legacy),
        ..Default::default()
    };
    let rig = Rig::with(config.clone(), PASSWORD, legacy).await;
    rig.runtime().await.check().await.unwrap();

    let domain = RuBackupProviderSettings {
        auth_type: Some(RuBackupAuthType::Domain),
        domain: Some("rubackup".into()),
        ..Default::default()
    };
    let rig = Rig::with(config, "P@ssw0rd", domain).await;
    let spec = rig.world.hub.config(&rig.key).unwrap();
    rig.world.source.set(
        rig.key.clone(),
        spec,
        &[("username", "testuser"), ("password", "P@ssw0rd")],
    );
    rig.runtime().await.check().await.unwrap();
    assert_eq!(rig.sim.count("POST /auth/login"), 1);
}

#[tokio::test]
async fn the_simulator_locks_an_account_after_five_wrong_passwords() {
    let rig = Rig::new().await;
    crate::vendor::tls::install_crypto_provider();
    let http = reqwest::Client::new();
    let login = |password: &str| {
        http.post(format!("{}/api/v1/auth/login", rig.sim.url()))
            .json(&json!({"rubackup_database": "rubackup", "rubackup_user": USER, "password": password, "auth_type": "database", "domain": "rubackup"}))
            .send()
    };
    for _ in 0..5 {
        assert_eq!(login("nope").await.unwrap().status(), 401);
    }
    let blocked = login(PASSWORD).await.unwrap();
    assert_eq!(blocked.status(), 401);
    let body: serde_json::Value = blocked.json().await.unwrap();
    assert_eq!(body["is_error"], true);
    assert!(body["message"].as_str().unwrap().contains("blocked"));
    rig.sim.sim.advance_clock(Duration::from_secs(31 * 60));
    assert_eq!(login(PASSWORD).await.unwrap().status(), 200);
}

#[tokio::test]
async fn the_simulator_wants_the_csrf_token_on_every_request() {
    let rig = Rig::new().await;
    crate::vendor::tls::install_crypto_provider();
    let http = reqwest::Client::new();
    let url = |p: &str| format!("{}/api/v1{p}", rig.sim.url());
    let login: serde_json::Value = http
        .post(url("/auth/login"))
        .json(
            &json!({"rubackup_database": "rubackup", "rubackup_user": USER, "password": PASSWORD}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = login["data"]["access_token"].as_str().unwrap();
    let csrf = login["data"]["csrf_token"].as_str().unwrap();
    let get = |csrf: Option<&str>| {
        let mut r = http.get(url("/pool_list")).bearer_auth(access);
        if let Some(c) = csrf {
            r = r.header("X-CSRF-TOKEN", c);
        }
        r.send()
    };
    assert_eq!(get(None).await.unwrap().status(), 401);
    assert_eq!(get(Some("forged")).await.unwrap().status(), 401);
    let ok: serde_json::Value = get(Some(csrf)).await.unwrap().json().await.unwrap();
    assert_eq!(ok["data"][0]["pool_name"], "Default");
    // The create answer carries no id.
    let created = http
        .post(url("/pool_list"))
        .bearer_auth(access)
        .header("X-CSRF-TOKEN", csrf)
        .json(&json!({"data": {"pool_name": "p", "pool_type": "File system", "media_server": "rubackup-server"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let body: serde_json::Value = created.json().await.unwrap();
    assert_eq!(body["data"], json!({}));
}

#[tokio::test]
async fn revoked_tokens_mean_a_new_login() {
    let rig = Rig::new().await;
    let rt = rig.runtime().await;
    rt.check().await.unwrap();
    // The harness revokes every token issued so far (a server that lost its sessions).
    rig.sim.server.control.revoke_tokens();
    rt.check().await.unwrap();
    assert_eq!(
        rig.sim.count("POST /auth/refresh"),
        1,
        "the refresh token was revoked too"
    );
    assert_eq!(rig.sim.count("POST /auth/login"), 2);
}

/// A session the vendor drops right after opening it is a passing outage (`Unavailable`, backed
/// off), not refused credentials (`Unauthorized`, five minutes' wait).
#[tokio::test]
async fn a_session_dropped_right_after_the_login_is_an_outage_not_refused_credentials() {
    let rig = Rig::new().await;
    let rt = rig.runtime().await;
    rig.sim
        .server
        .control
        .set_faults(crate::simulators::harness::Faults {
            revoke_on_issue: true,
            ..Default::default()
        });
    let e = rt.check().await.unwrap_err();
    assert_eq!(
        (e.kind, e.status),
        (crate::vendor::error::ErrorKind::Unavailable, Some(401)),
        "{e}"
    );
    assert_eq!(
        rig.sim.count("POST /auth/login"),
        2,
        "one login, one re-login"
    );
    rig.sim.server.control.set_faults(Default::default());
    rt.check().await.unwrap();
}
