//! The session: expiry and logout on the device mid-run are transparent (one re-login), a wrong
//! password is Unauthorized and not retried hot, shutdown logs out; and the device-wide
//! conditions read through it.

use crate::ideco_support::*;
use rampart::api::vendors::ideco::IdecoSection;
use rampart::engine::external::ExternalError;
use rampart::simulators::ideco::{ExpiredAnswer, IdecoSimOptions};
use rampart::vendor::error::ErrorKind;
use serde_json::json;

#[tokio::test]
async fn an_expired_session_is_renewed_transparently_however_the_device_says_it() {
    let f = Fixture::start().await;
    let rt = f.runtime().await;
    let mut objects = ordered_rules("r", 3, IdecoSection::Input, json!({"block": "Top"}), |i| {
        i as i32
    });
    converge(&f, &rt, &mut objects).await;
    assert_eq!(f.sim.stats().logins, 1);

    for (round, answer) in [
        ExpiredAnswer::Unauthorized,
        ExpiredAnswer::Forbidden,
        ExpiredAnswer::Redirect,
    ]
    .into_iter()
    .enumerate()
    {
        f.sim.set_expired_answer(answer);
        f.sim.expire_sessions();
        let id = objects[1].id();
        f.sim
            .human_edit(IdecoSection::Input, id, json!({"enabled": false}))
            .unwrap();
        ideco_runtime(&rt).invalidate_snapshots();
        assert_eq!(
            reconcile(&f, &rt, &mut objects[1]).await.unwrap(),
            Step::Updated,
            "{answer:?}"
        );
        assert_eq!(
            f.sim.rules(IdecoSection::Input)[1]["enabled"],
            true,
            "{answer:?}"
        );
        assert_eq!(
            f.sim.stats().logins,
            round as u64 + 2,
            "one re-login after {answer:?}"
        );
    }
}

#[tokio::test]
async fn revoked_tokens_after_a_device_restart_are_renewed_too() {
    let f = Fixture::start().await;
    let rt = f.runtime().await;
    rt.check().await.unwrap();
    f.server.control.revoke_tokens();
    ideco_runtime(&rt).invalidate_snapshots();
    rt.check().await.unwrap();
    assert_eq!(f.count("POST /web/auth/login"), 2);
}

/// A session the device drops right after opening it is a passing outage (`Unavailable`, backed
/// off), not refused credentials (`Unauthorized`, five minutes' wait).
#[tokio::test]
async fn a_session_dropped_right_after_the_login_is_an_outage_not_refused_credentials() {
    let f = Fixture::start().await;
    let rt = f.runtime().await;
    f.server
        .control
        .set_faults(rampart::simulators::harness::Faults {
            revoke_on_issue: true,
            ..Default::default()
        });
    let e = rt.check().await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unavailable, "{e}");
    assert_eq!(
        f.count("POST /web/auth/login"),
        2,
        "one login, one re-login"
    );
    f.server.control.set_faults(Default::default());
    rt.check().await.unwrap();
}

#[tokio::test]
async fn a_wrong_password_is_unauthorized_and_not_retried_hot() {
    let secret = "not-the-password-42";
    let f = Fixture::with_password(secret).await;
    let rt = f.runtime().await;
    let err = rt.check().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unauthorized);
    assert!(!err.to_string().contains(secret), "{err}");

    let t = Tracked::new(ordered_rule(
        "a",
        IdecoSection::Forward,
        json!({"block": "Top"}),
        0,
    ));
    let ctx = f.world.ctx(&t.marker, false, None);
    let err = rt
        .adapters()
        .get::<rampart::api::FirewallRule>()
        .unwrap()
        .observe(&t.cr, None, &ctx)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ExternalError::Vendor(e) if e.kind == ErrorKind::Unauthorized),
        "{err}"
    );
    assert_eq!(
        f.sim.stats().refused_logins,
        1,
        "the refused login is remembered, not repeated"
    );
}

#[tokio::test]
async fn shutdown_logs_out() {
    let f = Fixture::start().await;
    let rt = f.runtime().await;
    rt.check().await.unwrap();
    assert_eq!(f.sim.stats().live_sessions, 1);
    rt.shutdown().await;
    let stats = f.sim.stats();
    assert_eq!((stats.logouts, stats.live_sessions), (1, 0));
    assert_eq!(f.count("DELETE /web/auth/login"), 1);
    // A runtime with no session has nothing to log out of.
    rt.shutdown().await;
    assert_eq!(f.count("DELETE /web/auth/login"), 1);
}

#[tokio::test]
async fn the_login_handler_path_is_configurable() {
    let options = IdecoSimOptions {
        login_path: "/rest/web/auth/login".into(),
        logout_path: Some("/rest/web/admin/auth/login".into()),
        ..IdecoSimOptions::default()
    };
    let (server, sim) =
        rampart::simulators::ideco::start("127.0.0.1:0".parse().unwrap(), options.clone())
            .await
            .unwrap();
    let world = rampart::providers::test_world();
    let key = rampart::engine::hub::ProviderKey {
        kind: rampart::api::common::ProviderConfigKind::ClusterProviderConfig,
        namespace: None,
        name: "ngfw".into(),
    };
    let spec = serde_json::from_value(json!({
        "type": "Ideco", "endpoint": server.url(),
        "ideco": {"loginPath": "/rest/web/auth/login", "logoutPath": "/rest/web/admin/auth/login", "restPath": "/rest"}
    }))
    .unwrap();
    world.source.set(
        key.clone(),
        spec,
        &[("login", &options.login), ("password", &options.password)],
    );
    let rt = world.hub.runtime(&key).await.unwrap();
    rt.check().await.unwrap();
    world.hub.shutdown().await;
    assert_eq!(server.control.count("POST /rest/web/auth/login"), 1);
    assert_eq!(server.control.count("DELETE /rest/web/admin/auth/login"), 1);
    assert_eq!(sim.stats().live_sessions, 0);
}

#[tokio::test]
async fn the_device_state_shows_as_conditions_and_is_never_changed() {
    let f = Fixture::start().await;
    let rt = f.runtime().await;
    f.sim.set_firewall_enabled(false);
    f.sim.set_services(json!([{"name": "rules-in-kernel", "status": "failed", "msg": ["iptables-restore failed"]}]));
    let mut t = Tracked::new(ordered_rule(
        "a",
        IdecoSection::Forward,
        json!({"block": "Top"}),
        0,
    ));
    converge(&f, &rt, std::slice::from_mut(&mut t)).await;
    let (_, obs) = reconcile_observed(&f, &rt, &mut t).await.unwrap();
    let find = |ty: &str| {
        obs.conditions
            .iter()
            .find(|c| c.type_ == ty)
            .unwrap()
            .clone()
    };
    assert!(!find("FirewallEnabled").status);
    assert!(find("DeviceReachable").status);
    let rules = find("RulesInKernel");
    assert!(
        !rules.status && rules.message.contains("iptables-restore failed"),
        "{rules:?}"
    );
    let writes: u64 = f
        .server
        .control
        .counters()
        .iter()
        .filter(|(op, _)| {
            op.starts_with("PUT /firewall/settings") || op.starts_with("PUT /firewall/watch")
        })
        .map(|(_, n)| n)
        .sum();
    assert_eq!(writes, 0);
    assert_eq!(obs.at_provider.details["firewallLogMode"], "selected");
    assert_eq!(obs.at_provider.position, Some(1));
}
