//! The strategy fields a `ruBackup` Strategy block asks for: every key of the document's
//! `POST`/`PATCH /backup_strategies` body that the spec sets, with the spec path drift is
//! reported under. Backup types map to the `full_`, `inc_` and `diff_` keys.

use super::common_fields::{FieldList, Portable};
use super::fields::{Compare, Desired};
use super::schedule::ServerSchedule;
use crate::api::vendors::rubackup::{
    RuBackupBackupTypeSchedule, RuBackupStrategy, STRATEGY_MOVE_COPY_REFS,
};
use crate::engine::external::ExternalResult;

/// The backup types: spec block, vendor key prefix, and the spec path of its move target.
pub const TYPES: [(&str, &str, &str); 3] = [
    ("full", "full_", STRATEGY_MOVE_COPY_REFS[0]),
    ("incremental", "inc_", STRATEGY_MOVE_COPY_REFS[1]),
    ("differential", "diff_", STRATEGY_MOVE_COPY_REFS[2]),
];

pub fn type_blocks(rb: &RuBackupStrategy) -> [Option<&RuBackupBackupTypeSchedule>; 3] {
    [
        rb.full.as_ref(),
        rb.incremental.as_ref(),
        rb.differential.as_ref(),
    ]
}

/// Pool names the spec refers to, resolved: the destination and each type's move target.
#[derive(Debug, Clone, Default)]
pub struct StrategyPools {
    pub pool: Option<String>,
    pub move_copy: [Option<String>; 3],
}

/// The strategy fields the spec asks for.
pub fn strategy_fields(
    rb: &RuBackupStrategy,
    pools: &StrategyPools,
    server: &ServerSchedule,
) -> ExternalResult<Vec<Desired>> {
    let base = "spec.ruBackup";
    let p = |f: &str| format!("{base}.{f}");
    let mut f = FieldList::default();
    f.push("name", p("name"), rb.name.as_str(), Compare::Exact);
    f.status(&p("enabled"), rb.enabled);
    let pool_path = if rb.vault_ref.is_some() {
        p("vaultRef")
    } else {
        p("pool")
    };
    f.opt("pool_id", &pool_path, &pools.pool);
    f.opt("crypto", &p("crypto"), &rb.crypto);
    f.opt("description", &p("description"), &rb.description);
    f.copies(base, &rb.copies, "notify_strategy_validity")?;
    for (((name, prefix, _), t), move_pool) in TYPES
        .iter()
        .zip(type_blocks(rb))
        .zip(pools.move_copy.iter())
    {
        let Some(t) = t else { continue };
        let block = p(name);
        f.push(
            format!("{prefix}archive_enabled"),
            format!("{block}.enabled"),
            t.enabled.unwrap_or(true),
            Compare::Exact,
        );
        let portable = Portable {
            schedule: t.schedule.as_ref(),
            schedule_path: format!("{block}.schedule"),
            retention: t.retention.as_ref(),
            retention_path: format!("{block}.retention"),
        };
        f.timing(
            prefix,
            &block,
            &t.timing,
            portable,
            move_pool.clone(),
            server,
        )?;
    }
    Ok(f.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::schedule::{Retention, Schedule};
    use crate::api::vendors::rubackup::RuBackupTiming;
    use crate::engine::external::ExternalError;
    use serde_json::Value;

    fn spec() -> RuBackupStrategy {
        RuBackupStrategy {
            name: "nightly".into(),
            full: Some(RuBackupBackupTypeSchedule {
                schedule: Some(Schedule {
                    cron: "0 1 * * 0".into(),
                    time_zone: None,
                    grace_minutes: None,
                }),
                retention: Some(Retention {
                    keep_days: Some(30),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            incremental: Some(RuBackupBackupTypeSchedule {
                enabled: Some(false),
                timing: RuBackupTiming {
                    storage_duration: Some("7 days".into()),
                    ..Default::default()
                },
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn backup_types_map_to_their_prefixed_fields() {
        let pools = StrategyPools {
            pool: Some("Default".into()),
            ..Default::default()
        };
        let body = super::super::fields::create_body(
            &strategy_fields(&spec(), &pools, &ServerSchedule::in_zone("UTC")).unwrap(),
        );
        assert_eq!(
            Value::Object(body),
            serde_json::json!({
                "name": "nightly", "status": "run", "pool_id": "Default",
                "full_archive_enabled": true, "full_min": 0, "full_hour": 1, "full_dom": "*", "full_mon": "*", "full_dow": 0,
                "full_storage_duration": "30 days",
                "inc_archive_enabled": false, "inc_storage_duration": "7 days"
            })
        );
    }

    #[test]
    fn drift_paths_name_the_spec_field() {
        let desired = strategy_fields(
            &spec(),
            &StrategyPools::default(),
            &ServerSchedule::in_zone("UTC"),
        )
        .unwrap();
        let paths: Vec<&str> = desired.iter().map(|d| d.path.as_str()).collect();
        assert!(paths.contains(&"spec.ruBackup.full.schedule"));
        assert!(paths.contains(&"spec.ruBackup.full.retention"));
        assert!(paths.contains(&"spec.ruBackup.incremental.storageDuration"));
        assert!(
            desired.iter().all(|d| d.mutable),
            "every strategy field is in the document's PATCH"
        );
    }

    #[test]
    fn an_inexpressible_type_schedule_names_its_block() {
        let mut s = spec();
        s.full.as_mut().unwrap().schedule = Some(Schedule {
            cron: "0 1 1 * *".into(),
            time_zone: Some("Europe/Moscow".into()),
            grace_minutes: None,
        });
        let e = strategy_fields(
            &s,
            &StrategyPools::default(),
            &ServerSchedule::in_zone("UTC"),
        )
        .unwrap_err();
        assert!(
            matches!(e, ExternalError::InvalidSpec { ref field, .. } if field == "spec.ruBackup.full.schedule.cron"),
            "{e}"
        );
    }
}
