use serde_json::json;

use super::*;
use crate::api::backup::{BackupSource, CbrBackupOptions, RuBackupBackupOptions};
use crate::api::common::LocalObjectRef;
use crate::api::{Backup, BackupSpec, Policy, Strategy, Vault};

const PLAN: &str = "53b86e12-3c65-4721-bf31-92ddebfa769f";

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn policy(cyber_backup: bool) -> Policy {
    let mut spec = json!({"providerConfigRef": {"kind": "ProviderConfig", "name": "cb"}});
    if cyber_backup {
        spec["cyberBackup"] = json!({"type": "policy.backup.machine"});
    }
    Policy::new("nightly", serde_json::from_value(spec).unwrap())
}

fn order() -> BackupOrder {
    let spec = BackupSpec {
        source: BackupSource {
            vault_ref: None,
            policy_ref: Some(LocalObjectRef {
                name: "nightly".into(),
            }),
            strategy_ref: None,
        },
        description: None,
        retention_days: None,
        deletion_policy: None,
        huawei_cbr: None,
        ru_backup: None,
    };
    BackupOrder {
        backup: Arc::new(Backup::new("now", spec)),
        source: SourceObject::Policy(Arc::new(policy(true))),
        source_id: PLAN.into(),
        marker: "rampart:cb-tests/Backup/prod/now".into(),
    }
}

fn any<T: serde::de::DeserializeOwned>() -> T {
    serde_json::from_value(json!({"providerConfigRef": {"kind": "ProviderConfig", "name": "cb"}}))
        .unwrap()
}

#[test]
fn a_run_ref_reads_back_what_it_wrote() {
    let r = RunRef {
        plan: PLAN.into(),
        after: Some(t("2024-11-29T06:22:38Z")),
        called_at: t("2024-11-29T08:00:00.5Z"),
    };
    assert_eq!(
        r.vendor_id(),
        format!("plan={PLAN};after=2024-11-29T06:22:38Z;called=2024-11-29T08:00:00.5Z")
    );
    assert_eq!(RunRef::parse(&r.vendor_id()), Some(r.clone()));
    let first = RunRef { after: None, ..r };
    assert_eq!(RunRef::parse(&first.vendor_id()), Some(first));
    for bad in [
        "",
        "1628761130376499200",
        "plan=x;after=;called=soon",
        "plan=x;after=;called=2024-11-29T08:00:00Z;more=1",
    ] {
        assert_eq!(RunRef::parse(bad), None, "{bad}");
    }
}

/// A change to a Backup's spec.
type Edit = fn(&mut BackupSpec);

#[test]
fn a_backup_a_run_cannot_carry_is_refused_naming_the_field() {
    assert_eq!(check(&order()), Ok(()));
    let refused = |f: &dyn Fn(&mut BackupOrder)| {
        let mut o = order();
        f(&mut o);
        check(&o).expect_err("refused")
    };
    let spec = |f: Edit| {
        move |o: &mut BackupOrder| {
            let mut b = (*o.backup).clone();
            f(&mut b.spec);
            o.backup = Arc::new(b);
        }
    };
    let r = refused(&|o| o.source = SourceObject::Vault(Arc::new(Vault::new("v", any()))));
    assert_eq!(r.field, "spec.source.vaultRef");
    assert!(
        r.message
            .contains("name the Policy in spec.source.policyRef")
    );
    let r = refused(&|o| o.source = SourceObject::Strategy(Arc::new(Strategy::new("s", any()))));
    assert_eq!(r.field, "spec.source.strategyRef");
    let r = refused(&|o| o.source = SourceObject::Policy(Arc::new(policy(false))));
    assert_eq!(r.field, "spec.source.policyRef");
    let cases: [(Edit, &str); 4] = [
        (
            |s| s.huawei_cbr = Some(CbrBackupOptions::default()),
            "spec.huaweiCbr",
        ),
        (
            |s| s.ru_backup = Some(RuBackupBackupOptions::default()),
            "spec.ruBackup",
        ),
        (|s| s.retention_days = Some(7), "spec.retentionDays"),
        (
            |s| s.description = Some("before the upgrade".into()),
            "spec.description",
        ),
    ];
    for (f, field) in cases {
        assert_eq!(refused(&spec(f)).field, field);
    }
}

fn app(last_runtime: &str) -> Application {
    serde_json::from_value(
        json!({"context": {"id": "m1"}, "policy": {"id": PLAN}, "last_runtime": last_runtime}),
    )
    .unwrap()
}

fn task(plan: &str, started: &str) -> Task {
    serde_json::from_value(
        json!({"id": "1", "started_at": started, "context": {"persistent": {"id": plan}}}),
    )
    .unwrap()
}

#[test]
fn the_first_start_at_or_after_the_mark_is_the_lost_run() {
    let from = t("2024-11-29T08:00:00Z");
    let tasks = [
        task(PLAN, "2024-11-29T07:59:59Z"),
        task(&PLAN.to_uppercase(), "2024-11-29T08:00:00Z"),
        task(
            "5ea704d9-a214-4e81-97d9-d228098f8431",
            "2024-11-29T08:00:00Z",
        ),
    ];
    // The run ended (its task) and a later one runs (the application).
    let apps = [app("2024-11-29T09:00:00Z")];
    assert_eq!(
        first_start(PLAN, &apps, tasks.iter(), from),
        Some(t("2024-11-29T08:00:00Z"))
    );
    // Only another plan's task at the mark: the application's run is the first of this plan.
    assert_eq!(
        first_start(PLAN, &apps, tasks[2..].iter(), from),
        Some(t("2024-11-29T09:00:00Z"))
    );
    assert_eq!(
        first_start(
            PLAN,
            &[app("2024-11-29T07:00:00Z")],
            tasks[..1].iter(),
            from
        ),
        None
    );
}
