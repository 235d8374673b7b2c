//! The spec blocks that strategies, strategy rules and global schedule rules share, turned into
//! RuBackup fields: copy settings (quota, validity, verification, obsolete copies,
//! notifications), timing (schedule, periodic launch, storage duration, copy moves) and task
//! settings (priority, scripts, module parameters). Key prefixes (`full_`, `inc_`, none) and
//! spec paths are the caller's.

use serde_json::{Map, Value, json};

use super::cron::VendorSuffix;
use super::fields::{Compare, Desired};
use super::object::{datetime, interval};
use super::schedule::{self, CronFields, Inexpressible, ServerSchedule};
use crate::api::schedule::{Retention, Schedule};
use crate::api::vendors::rubackup::{
    RuBackupCopySettings, RuBackupCronFields, RuBackupNotifications, RuBackupNotify, RuBackupTask,
    RuBackupTiming,
};
use crate::engine::external::{ExternalError, ExternalResult};

fn invalid(e: Inexpressible) -> ExternalError {
    ExternalError::invalid(e.field, e.message)
}

/// The portable schedule and retention that stand beside a timing block, with their spec paths.
pub struct Portable<'a> {
    pub schedule: Option<&'a Schedule>,
    pub schedule_path: String,
    pub retention: Option<&'a Retention>,
    pub retention_path: String,
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

    /// A plain optional value.
    pub fn opt<T: Clone + Into<Value>>(&mut self, key: &str, path: &str, value: &Option<T>) {
        if let Some(v) = value {
            self.push(key, path, v.clone(), Compare::Exact);
        }
    }

    /// An optional interval.
    fn opt_interval(
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

    /// `status`: `run` when enabled (the default), else `wait`.
    pub fn status(&mut self, path: &str, enabled: Option<bool>) {
        let status = if enabled.unwrap_or(true) {
            "run"
        } else {
            "wait"
        };
        self.push("status", path, status, Compare::Exact);
    }

    /// Quota, validity, verification, obsolete copies and notifications of the block at `base`;
    /// `validity_key` is `notify_strategy_validity` or `notify_rule_validity`.
    pub fn copies(
        &mut self,
        base: &str,
        c: &RuBackupCopySettings,
        validity_key: &str,
    ) -> ExternalResult<()> {
        self.opt(
            "storage_capacity",
            &format!("{base}.storageCapacity"),
            &c.storage_capacity,
        );
        if let Some(v) = &c.validity {
            for (key, name, value) in [
                ("validity_start_period", "start", &v.start),
                ("validity_end_period", "end", &v.end),
            ] {
                if let Some(text) = value {
                    let p = format!("{base}.validity.{name}");
                    self.push(key, &p, datetime(text, &p)?, Compare::DateTime);
                }
            }
        }
        if let Some(v) = &c.verify {
            self.opt("verify_flag", &format!("{base}.verify.enabled"), &v.enabled);
            self.opt_interval(
                "verify_interval",
                &format!("{base}.verify.interval"),
                &v.interval,
            )?;
        }
        if let Some(o) = &c.obsolete_copies {
            self.opt(
                "auto_delete_obsoleted_copy_flag",
                &format!("{base}.obsoleteCopies.autoDelete"),
                &o.auto_delete,
            );
            self.opt(
                "inform_when_obsoleted_copy",
                &format!("{base}.obsoleteCopies.informGroup"),
                &o.inform_group,
            );
        }
        self.opt(
            "client_delete_flag",
            &format!("{base}.clientDeleteAllowed"),
            &c.client_delete_allowed,
        );
        self.notifications(
            &format!("{base}.notifications"),
            &c.notifications,
            validity_key,
        );
        Ok(())
    }

    fn notifications(&mut self, path: &str, n: &Option<RuBackupNotifications>, validity_key: &str) {
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

    /// Schedule (portable or native), periodic launch, storage duration (portable or native)
    /// and copy moves of the block at `base`, under key `prefix`; `move_pool` is the resolved
    /// name of the copy-move target.
    pub fn timing(
        &mut self,
        prefix: &str,
        base: &str,
        t: &RuBackupTiming,
        portable: Portable<'_>,
        move_pool: Option<String>,
        server: &ServerSchedule,
    ) -> ExternalResult<()> {
        let cron_path = format!("{base}.cron");
        let schedule = one_of(
            (portable.schedule, &portable.schedule_path),
            (t.cron.as_ref(), &cron_path),
            |s| {
                schedule::portable_cron(
                    s,
                    &portable.schedule_path,
                    &server.time_zone,
                    jiff::Timestamp::now(),
                )
            },
            |c| schedule::native_cron(c, &cron_path).map_err(invalid),
        )?;
        if let Some((cron, path)) = schedule {
            self.cron(prefix, &path, &cron, server.cron_fields)?;
        }
        self.opt_interval(
            &format!("{prefix}periodic_launch"),
            &format!("{base}.periodicLaunch"),
            &t.periodic_launch,
        )?;
        let native = format!("{base}.storageDuration");
        let duration = one_of(
            (portable.retention, &portable.retention_path),
            (t.storage_duration.as_ref(), &native),
            |r| {
                schedule::portable_retention(r, &portable.retention_path)
                    .map(|days| Value::from(days.to_postgres()))
            },
            |n| interval(n, &native),
        )?;
        if let Some((duration, path)) = duration {
            self.push(
                format!("{prefix}storage_duration"),
                path,
                duration,
                Compare::Interval,
            );
        }
        let Some(m) = &t.move_copy else { return Ok(()) };
        let path = format!("{base}.moveCopy");
        self.opt(
            &format!("{prefix}move_copy_flag"),
            &format!("{path}.enabled"),
            &m.enabled,
        );
        self.opt_interval(
            &format!("{prefix}move_copy_while"),
            &format!("{path}.after"),
            &m.after,
        )?;
        let target = if m.vault_ref.is_some() {
            "vaultRef"
        } else {
            "pool"
        };
        self.opt(
            &format!("{prefix}move_copy_pool"),
            &format!("{path}.{target}"),
            &move_pool,
        );
        Ok(())
    }

    /// The five cron fields, under `prefix` (`full_min`, or `min`). A server that takes
    /// integers only gets integers, or the spec field is refused (see [`RuBackupCronFields`]).
    fn cron(
        &mut self,
        prefix: &str,
        path: &str,
        cron: &CronFields,
        format: RuBackupCronFields,
    ) -> ExternalResult<()> {
        for set in cron.fields() {
            let value = set.to_vendor();
            if format == RuBackupCronFields::IntegersOnly && !value.is_number() {
                return Err(ExternalError::invalid(
                    path,
                    format!(
                        "the RuBackup server takes schedule fields as single integers (cronFields: IntegersOnly in the ProviderConfig), and the {} field here is '{}'; write a schedule whose every field is one number, or set cronFields: Text if the server takes crontab text",
                        set.field.spec_name(),
                        set.render()
                    ),
                ));
            }
            self.push(
                format!("{prefix}{}", set.field.vendor_suffix()),
                path,
                value,
                Compare::Cron(set.field),
            );
        }
        Ok(())
    }

    /// Priority, scripts (under the keys the object uses: strategy rules and global schedule
    /// rules name them differently) and module parameters of the block at `base`.
    pub fn task(&mut self, base: &str, t: &RuBackupTask, script_keys: [&str; 3]) {
        self.opt("priority", &format!("{base}.priority"), &t.priority);
        if let Some(s) = &t.scripts {
            for (key, name, value) in [
                (script_keys[0], "normal", &s.normal),
                (script_keys[1], "exception", &s.exception),
                (script_keys[2], "restore", &s.restore),
            ] {
                self.opt(key, &format!("{base}.scripts.{name}"), value);
            }
        }
        self.parameters(
            "module_extensions",
            &format!("{base}.moduleParameters"),
            &t.module_parameters,
        );
        self.parameters(
            "common_modules_extensions",
            &format!("{base}.commonModuleParameters"),
            &t.common_module_parameters,
        );
    }

    /// Only the keys given count: the server may add defaults.
    fn parameters(&mut self, key: &str, path: &str, params: &Option<Map<String, Value>>) {
        if let Some(p) = params {
            self.push(key, path, json!({ "parameters": p }), Compare::Subset);
        }
    }
}

/// A setting given in its portable or its native form (not both), converted, with the spec
/// path of the form used (drift is reported there).
fn one_of<P, N, T>(
    (portable, portable_path): (Option<P>, &str),
    (native, native_path): (Option<N>, &str),
    from_portable: impl FnOnce(P) -> Result<T, Inexpressible>,
    from_native: impl FnOnce(N) -> ExternalResult<T>,
) -> ExternalResult<Option<(T, String)>> {
    match (portable, native) {
        (Some(_), Some(_)) => Err(ExternalError::invalid(
            portable_path,
            format!("set {portable_path} or {native_path}, not both"),
        )),
        (Some(p), None) => Ok(Some((
            from_portable(p).map_err(invalid)?,
            portable_path.to_string(),
        ))),
        (None, Some(n)) => Ok(Some((from_native(n)?, native_path.to_string()))),
        (None, None) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::vendors::rubackup::{RuBackupCron, RuBackupMoveCopy, RuBackupScripts};

    fn portable<'a>(
        schedule: Option<&'a Schedule>,
        retention: Option<&'a Retention>,
    ) -> Portable<'a> {
        Portable {
            schedule,
            schedule_path: "spec.schedule".into(),
            retention,
            retention_path: "spec.retention".into(),
        }
    }

    fn cron() -> RuBackupCron {
        RuBackupCron {
            minute: "0".into(),
            hour: "1".into(),
            day_of_month: "*".into(),
            month: "*".into(),
            day_of_week: "*".into(),
        }
    }

    #[test]
    fn portable_and_native_forms_exclude_each_other() {
        let s = Schedule {
            cron: "0 1 * * *".into(),
            time_zone: None,
            grace_minutes: None,
        };
        let r = Retention {
            keep_days: Some(7),
            ..Default::default()
        };
        let field_of = |t: RuBackupTiming, p: Portable<'_>| match FieldList::default().timing(
            "",
            "spec.ruBackup",
            &t,
            p,
            None,
            &ServerSchedule::in_zone("UTC"),
        ) {
            Err(ExternalError::InvalidSpec { field, .. }) => field,
            other => panic!("expected an invalid spec, got {:?}", other.map(|_| ())),
        };
        let native_cron = RuBackupTiming {
            cron: Some(cron()),
            ..Default::default()
        };
        assert_eq!(
            field_of(native_cron, portable(Some(&s), None)),
            "spec.schedule"
        );
        let native_duration = RuBackupTiming {
            storage_duration: Some("1 day".into()),
            ..Default::default()
        };
        assert_eq!(
            field_of(native_duration, portable(None, Some(&r))),
            "spec.retention"
        );
    }

    #[test]
    fn timing_maps_to_prefixed_keys_with_the_spec_path_of_each_form() {
        let r = Retention {
            keep_days: Some(7),
            ..Default::default()
        };
        let t = RuBackupTiming {
            cron: Some(cron()),
            periodic_launch: Some("1 min".into()),
            move_copy: Some(RuBackupMoveCopy {
                enabled: Some(true),
                after: Some("2 days".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let mut f = FieldList::default();
        f.timing(
            "inc_",
            "spec.x.incremental",
            &t,
            portable(None, Some(&r)),
            Some("archive".into()),
            &ServerSchedule::in_zone("UTC"),
        )
        .unwrap();
        let got: Vec<(String, String, Value)> =
            f.0.into_iter().map(|d| (d.key, d.path, d.value)).collect();
        let want = [
            ("inc_min", "spec.x.incremental.cron", json!(0)),
            ("inc_hour", "spec.x.incremental.cron", json!(1)),
            ("inc_dom", "spec.x.incremental.cron", json!("*")),
            ("inc_mon", "spec.x.incremental.cron", json!("*")),
            ("inc_dow", "spec.x.incremental.cron", json!("*")),
            (
                "inc_periodic_launch",
                "spec.x.incremental.periodicLaunch",
                json!("00:01:00"),
            ),
            ("inc_storage_duration", "spec.retention", json!("7 days")),
            (
                "inc_move_copy_flag",
                "spec.x.incremental.moveCopy.enabled",
                json!(true),
            ),
            (
                "inc_move_copy_while",
                "spec.x.incremental.moveCopy.after",
                json!("2 days"),
            ),
            (
                "inc_move_copy_pool",
                "spec.x.incremental.moveCopy.pool",
                json!("archive"),
            ),
        ];
        let want: Vec<(String, String, Value)> = want
            .into_iter()
            .map(|(k, p, v)| (k.into(), p.into(), v))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn copies_and_tasks_map_to_their_keys() {
        let mut f = FieldList::default();
        let c = RuBackupCopySettings {
            notifications: Some(RuBackupNotifications {
                validity: Some(RuBackupNotify {
                    group: Some("ops".into()),
                    cc: Some("ops@example.org".into()),
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        f.copies("spec.ruBackup", &c, "notify_rule_validity")
            .unwrap();
        let t = RuBackupTask {
            scripts: Some(RuBackupScripts {
                restore: Some("/r.sh".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        f.task("spec.ruBackup", &t, ["a", "b", "restore_script"]);
        let keys: Vec<(&str, &str)> =
            f.0.iter()
                .map(|d| (d.key.as_str(), d.path.as_str()))
                .collect();
        assert_eq!(
            keys,
            [
                (
                    "notify_rule_validity",
                    "spec.ruBackup.notifications.validity.group"
                ),
                (
                    "notify_rule_validity_cc",
                    "spec.ruBackup.notifications.validity.cc"
                ),
                ("restore_script", "spec.ruBackup.scripts.restore"),
            ]
        );
    }
}
