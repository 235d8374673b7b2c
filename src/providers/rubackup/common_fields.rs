//! Spec blocks that strategies, strategy rules and global schedule rules share, turned into
//! RuBackup fields: schedule, storage duration, validity, verification, copy moves, obsolete
//! copies, notifications, scripts and module parameters. `key` prefixes (`full_`, `inc_`, ``)
//! and spec paths are the caller's.

use serde_json::{Map, Value, json};

use super::fields::{Compare, Desired};
use super::object::{datetime, interval};
use super::schedule::{self, CronFields, Inexpressible};
use crate::api::schedule::{Retention, Schedule};
use crate::api::vendors::rubackup::{
    RuBackupCron, RuBackupMoveCopy, RuBackupNotifications, RuBackupNotify, RuBackupObsoleteCopies,
    RuBackupScripts, RuBackupValidity, RuBackupVerify,
};
use crate::engine::external::{ExternalError, ExternalResult};

fn invalid(e: Inexpressible) -> ExternalError {
    ExternalError::invalid(e.field, e.message)
}

/// The desired fields of one object, built up block by block.
#[derive(Default)]
pub struct FieldList(pub Vec<Desired>);

impl FieldList {
    pub fn push(
        &mut self,
        key: impl Into<String>,
        path: impl Into<String>,
        value: impl Into<Value>,
        compare: Compare,
    ) {
        self.0.push(Desired::new(key, path, value, compare));
    }

    pub fn push_create_only(
        &mut self,
        key: &str,
        path: impl Into<String>,
        value: impl Into<Value>,
        compare: Compare,
    ) {
        self.0.push(Desired::create_only(key, path, value, compare));
    }

    /// A plain optional value.
    pub fn opt<T: Clone + Into<Value>>(&mut self, key: &str, path: &str, value: &Option<T>) {
        if let Some(v) = value {
            self.push(key, path, v.clone(), Compare::Exact);
        }
    }

    /// An optional interval.
    pub fn opt_interval(
        &mut self,
        key: &str,
        path: &str,
        value: &Option<String>,
    ) -> ExternalResult<()> {
        if let Some(v) = value {
            self.push(key, path, interval(v, path)?, Compare::Interval);
        }
        Ok(())
    }

    /// The five cron fields, under `prefix` (`full_min`, or `min`).
    pub fn cron(&mut self, prefix: &str, path: &str, cron: &CronFields) {
        for set in cron.fields() {
            self.push(
                format!("{prefix}{}", set.field.vendor_suffix()),
                path,
                set.to_vendor(),
                Compare::Cron(set.field),
            );
        }
    }

    /// `validity_start_period`, `validity_end_period`.
    pub fn validity(&mut self, path: &str, v: &Option<RuBackupValidity>) -> ExternalResult<()> {
        let Some(v) = v else { return Ok(()) };
        for (key, name, value) in [
            ("validity_start_period", "start", &v.start),
            ("validity_end_period", "end", &v.end),
        ] {
            if let Some(text) = value {
                let p = format!("{path}.{name}");
                self.push(key, &p, datetime(text, &p)?, Compare::DateTime);
            }
        }
        Ok(())
    }

    /// `verify_flag`, `verify_interval`.
    pub fn verify(&mut self, path: &str, v: &Option<RuBackupVerify>) -> ExternalResult<()> {
        let Some(v) = v else { return Ok(()) };
        self.opt("verify_flag", &format!("{path}.enabled"), &v.enabled);
        self.opt_interval("verify_interval", &format!("{path}.interval"), &v.interval)
    }

    /// `auto_delete_obsoleted_copy_flag`, `inform_when_obsoleted_copy`.
    pub fn obsolete(&mut self, path: &str, v: &Option<RuBackupObsoleteCopies>) {
        let Some(v) = v else { return };
        self.opt(
            "auto_delete_obsoleted_copy_flag",
            &format!("{path}.autoDelete"),
            &v.auto_delete,
        );
        self.opt(
            "inform_when_obsoleted_copy",
            &format!("{path}.informGroup"),
            &v.inform_group,
        );
    }

    /// `<prefix>move_copy_flag`, `_while`, `_pool`; `pool` is the resolved target pool name.
    pub fn move_copy(
        &mut self,
        prefix: &str,
        path: &str,
        v: &Option<RuBackupMoveCopy>,
        pool: Option<String>,
    ) -> ExternalResult<()> {
        let Some(v) = v else { return Ok(()) };
        self.opt(
            &format!("{prefix}move_copy_flag"),
            &format!("{path}.enabled"),
            &v.enabled,
        );
        self.opt_interval(
            &format!("{prefix}move_copy_while"),
            &format!("{path}.after"),
            &v.after,
        )?;
        let pool_path = format!(
            "{path}.{}",
            if v.vault_ref.is_some() {
                "vaultRef"
            } else {
                "pool"
            }
        );
        self.opt(&format!("{prefix}move_copy_pool"), &pool_path, &pool);
        Ok(())
    }

    /// `notify_*` and `notify_*_cc`; `validity_key` is `notify_strategy_validity` or
    /// `notify_rule_validity`.
    pub fn notifications(
        &mut self,
        path: &str,
        n: &Option<RuBackupNotifications>,
        validity_key: &str,
    ) {
        let Some(n) = n else { return };
        let entries: [(&str, &str, &Option<RuBackupNotify>); 5] = [
            ("notify_normal", "normal", &n.normal),
            ("notify_exception", "exception", &n.exception),
            ("notify_verify", "verify", &n.verify),
            (validity_key, "validity", &n.validity),
            (
                "notify_end_storage_capacity",
                "endStorageCapacity",
                &n.end_storage_capacity,
            ),
        ];
        for (key, name, notify) in entries {
            if let Some(notify) = notify {
                self.opt(key, &format!("{path}.{name}.group"), &notify.group);
                self.opt(
                    &format!("{key}_cc"),
                    &format!("{path}.{name}.cc"),
                    &notify.cc,
                );
            }
        }
    }

    /// Scripts under the keys the object uses (strategy rules and global schedule rules name
    /// them differently).
    pub fn scripts(&mut self, path: &str, s: &Option<RuBackupScripts>, keys: [&str; 3]) {
        let Some(s) = s else { return };
        self.opt(keys[0], &format!("{path}.normal"), &s.normal);
        self.opt(keys[1], &format!("{path}.exception"), &s.exception);
        self.opt(keys[2], &format!("{path}.restore"), &s.restore);
    }

    /// `module_extensions` / `common_modules_extensions` parameters: only the keys given count.
    pub fn parameters(&mut self, key: &str, path: &str, params: &Option<Map<String, Value>>) {
        if let Some(p) = params {
            self.push(key, path, json!({ "parameters": p }), Compare::Subset);
        }
    }
}

/// The schedule from a portable block at `portable_path` or a native `cron` at `native_path`,
/// with the spec path drift is reported under.
pub fn schedule(
    portable: Option<&Schedule>,
    portable_path: &str,
    native: Option<&RuBackupCron>,
    native_path: &str,
    server_tz: &str,
) -> ExternalResult<Option<(CronFields, String)>> {
    match (portable, native) {
        (Some(_), Some(_)) => Err(ExternalError::invalid(
            portable_path,
            format!("set {portable_path} or {native_path}, not both"),
        )),
        (Some(s), None) => Ok(Some((
            schedule::portable_cron(s, portable_path, server_tz, jiff::Timestamp::now())
                .map_err(invalid)?,
            portable_path.to_string(),
        ))),
        (None, Some(c)) => Ok(Some((
            schedule::native_cron(c, native_path).map_err(invalid)?,
            native_path.to_string(),
        ))),
        (None, None) => Ok(None),
    }
}

/// The storage duration from a portable retention or a native interval, with its spec path.
pub fn storage_duration(
    portable: Option<&Retention>,
    portable_path: &str,
    native: Option<&String>,
    native_path: &str,
) -> ExternalResult<Option<(Value, String)>> {
    match (portable, native) {
        (Some(_), Some(_)) => Err(ExternalError::invalid(
            portable_path,
            format!("set {portable_path} or {native_path}, not both"),
        )),
        (Some(r), None) => Ok(Some((
            Value::from(
                schedule::portable_retention(r, portable_path)
                    .map_err(invalid)?
                    .to_postgres(),
            ),
            portable_path.to_string(),
        ))),
        (None, Some(n)) => Ok(Some((interval(n, native_path)?, native_path.to_string()))),
        (None, None) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portable_and_native_forms_exclude_each_other() {
        let s = Schedule {
            cron: "0 1 * * *".into(),
            time_zone: None,
        };
        let c = RuBackupCron {
            minute: "0".into(),
            hour: "1".into(),
            day_of_month: "*".into(),
            month: "*".into(),
            day_of_week: "*".into(),
        };
        let e = schedule(
            Some(&s),
            "spec.schedule",
            Some(&c),
            "spec.ruBackup.cron",
            "UTC",
        )
        .unwrap_err();
        assert!(
            matches!(e, ExternalError::InvalidSpec { ref field, .. } if field == "spec.schedule")
        );
        let (fields, path) = schedule(None, "spec.schedule", Some(&c), "spec.ruBackup.cron", "UTC")
            .unwrap()
            .unwrap();
        assert_eq!(path, "spec.ruBackup.cron");
        assert_eq!(fields.hour.to_vendor(), json!(1));
        let r = Retention {
            keep_days: Some(7),
            ..Default::default()
        };
        let (v, path) = storage_duration(
            Some(&r),
            "spec.retention",
            None,
            "spec.ruBackup.storageDuration",
        )
        .unwrap()
        .unwrap();
        assert_eq!((v, path.as_str()), (json!("7 days"), "spec.retention"));
        assert!(
            storage_duration(Some(&r), "spec.retention", Some(&"1 day".to_string()), "n").is_err()
        );
    }

    #[test]
    fn notifications_map_to_their_keys() {
        let mut f = FieldList::default();
        let n = RuBackupNotifications {
            validity: Some(RuBackupNotify {
                group: Some("ops".into()),
                cc: Some("ops@example.org".into()),
            }),
            ..Default::default()
        };
        f.notifications(
            "spec.ruBackup.notifications",
            &Some(n),
            "notify_rule_validity",
        );
        let keys: Vec<&str> = f.0.iter().map(|d| d.key.as_str()).collect();
        assert_eq!(keys, ["notify_rule_validity", "notify_rule_validity_cc"]);
        assert_eq!(f.0[1].path, "spec.ruBackup.notifications.validity.cc");
    }
}
