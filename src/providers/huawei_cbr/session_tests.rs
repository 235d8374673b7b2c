//! Each authentication method against the CBR simulator: password login cached, refreshed
//! before expiry and renewed after a 401; a fixed token; AK/SK signatures.

use std::sync::atomic::Ordering;

use super::test_support::*;
use crate::api::vendors::huawei_cbr::CbrObjectType;
use crate::engine::hub::SecretString;
use crate::providers::huawei_cbr::CbrClient;
use crate::providers::huawei_cbr::models::*;
use crate::providers::huawei_cbr::session::CbrAuth;
use crate::simulators::huawei_cbr::{CbrSim, CbrSimConfig};
use crate::vendor::error::ErrorKind;

#[tokio::test]
async fn password_login_is_cached_refreshed_and_renewed_after_401() {
    let sim = CbrSim::start_default().await.unwrap();
    let (clock, offset) = test_clock();
    let c = password_client(&sim, clock);
    for _ in 0..3 {
        c.list_vaults(&VaultFilter::default()).await.unwrap();
    }
    assert_eq!(sim.control().count(LOGIN), 1, "one login for many calls");

    // Close to expiry the client replaces its token before using it: no 401 is seen.
    offset.store(24 * 3600 - 600, Ordering::SeqCst);
    sim.console()
        .advance_clock(jiff::SignedDuration::from_secs(24 * 3600 - 600));
    c.list_vaults(&VaultFilter::default()).await.unwrap();
    assert_eq!(sim.control().count(LOGIN), 2);
    assert_eq!(sim.control().count(LIST_VAULTS), 4);

    // The server expires the token while the client still trusts it: 401, login, retry.
    sim.console()
        .advance_clock(jiff::SignedDuration::from_secs(24 * 3600));
    c.list_vaults(&VaultFilter::default()).await.unwrap();
    assert_eq!(
        (sim.control().count(LOGIN), sim.control().count(LIST_VAULTS)),
        (3, 6)
    );

    // Revoked (vendor restart): same recovery.
    sim.control().revoke_tokens();
    c.list_vaults(&VaultFilter::default()).await.unwrap();
    assert_eq!(
        (sim.control().count(LOGIN), sim.control().count(LIST_VAULTS)),
        (4, 8)
    );
}

#[tokio::test]
async fn wrong_password_is_unauthorized_and_not_retried_hot() {
    let sim = CbrSim::start_default().await.unwrap();
    let auth = CbrAuth::password(http(&sim.url()), login("bad-pass-7Q"));
    let c = CbrClient::new(http(&sim.url()), PROJECT, auth);
    for _ in 0..2 {
        let e = c.list_vaults(&VaultFilter::default()).await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Unauthorized);
        assert!(!e.to_string().contains("bad-pass-7Q"), "{e}");
    }
    assert_eq!(sim.control().count(LOGIN), 1);
    assert_eq!(sim.control().count(LIST_VAULTS), 0);
}

#[tokio::test]
async fn fixed_token_works_until_revoked() {
    let sim = CbrSim::start_default().await.unwrap();
    let body = login(&CbrSimConfig::default().users[0].password).body();
    crate::vendor::tls::install_crypto_provider();
    let resp = reqwest::Client::new()
        .post(format!("{}/v3/auth/tokens", sim.url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let token = resp.headers()["x-subject-token"]
        .to_str()
        .unwrap()
        .to_string();
    let c = CbrClient::new(
        http(&sim.url()),
        PROJECT,
        CbrAuth::token(SecretString::new(token)),
    );
    c.list_policies(&PolicyFilter::default()).await.unwrap();
    sim.control().revoke_tokens();
    let e = c.list_policies(&PolicyFilter::default()).await.unwrap_err();
    assert_eq!(
        (e.kind, e.status, e.code.as_deref()),
        (ErrorKind::Unauthorized, Some(401), Some("APIGW.0301"))
    );
    assert_eq!(
        sim.control().count("GET /v3/{project_id}/policies"),
        2,
        "a fixed token is not retried"
    );
}

#[tokio::test]
async fn ak_sk_signatures_are_verified() {
    let sim = CbrSim::start_default().await.unwrap();
    let (_, sk) = &CbrSimConfig::default().access_keys[0];
    let (clock, offset) = test_clock();
    let c = ak_sk_client(&sim, sk, clock);
    let v = c.create_vault(&vault_create("signed", &[])).await.unwrap();
    let filter = VaultFilter {
        name: Some("sig ned:x".into()),
        object_type: Some(CbrObjectType::Server),
        ..Default::default()
    };
    assert!(c.list_vaults(&filter).await.unwrap().is_empty());
    c.delete_vault(&v.id).await.unwrap();
    assert_eq!(sim.control().count(LOGIN), 0);

    offset.store(3600, Ordering::SeqCst);
    let skewed = c.list_vaults(&VaultFilter::default()).await.unwrap_err();
    assert_eq!(skewed.kind, ErrorKind::Unauthorized);
    let wrong = ak_sk_client(&sim, "not-the-key", test_clock().0)
        .list_vaults(&VaultFilter::default())
        .await
        .unwrap_err();
    assert_eq!(
        (wrong.kind, wrong.status),
        (ErrorKind::Unauthorized, Some(401))
    );
}

/// A session the vendor drops right after opening it is a passing outage, not refused
/// credentials: the call fails as `Unavailable` (backed off and retried), not `Unauthorized`
/// (five minutes' wait), and works once the vendor keeps its sessions.
#[tokio::test]
async fn a_session_dropped_right_after_the_login_is_an_outage_not_refused_credentials() {
    let sim = CbrSim::start_default().await.unwrap();
    let c = password_client(&sim, test_clock().0);
    sim.control()
        .set_faults(crate::simulators::harness::Faults {
            revoke_on_issue: true,
            ..Default::default()
        });
    let e = c.list_vaults(&VaultFilter::default()).await.unwrap_err();
    assert_eq!(
        (e.kind, e.status),
        (ErrorKind::Unavailable, Some(401)),
        "{e}"
    );
    assert_eq!(sim.control().count(LOGIN), 2, "one login, one re-login");
    sim.control().set_faults(Default::default());
    c.list_vaults(&VaultFilter::default()).await.unwrap();
}
