//! A protection plan's `settings`, checked field by field against §2.10.3.6 (L1629–2593) and the
//! create example (L2614–2770): required sections, types, the values the examples show for each
//! enumeration, and ranges. The formal schemas are dead links (`MachineBackupSettings` and its
//! kin, L5258–5264), so keys the document never shows are accepted as they are (the real
//! settings hold more than the examples), and every enumeration value or range not printed in
//! the document is marked GUESS.

use serde_json::{Map, Value};

use super::fields::{
    Checked, WEEKDAYS, boolean, each, get, integer, join, object, one_of, refuse, required,
    section, string,
};

/// What settings may refer to outside themselves.
pub trait Known {
    /// Whether a credentials record with this id exists.
    fn credentials(&self, id: &str) -> bool;
}

/// Check a plan's settings as a whole (create, and the result of every PATCH).
pub fn validate(settings: &Value, known: &dyn Known) -> Checked<()> {
    let s = object(settings, "settings")?;
    let at = "settings";
    scheduling(object(
        required(s, "scheduling", at)?,
        "settings.scheduling",
    )?)?;
    destination(
        object(required(s, "destination", at)?, "settings.destination")?,
        known,
    )?;
    // The create example puts `retention` beside `destination` (L2654), every other example
    // inside it; both places are read the same way.
    section(s, "retention", at, retention)?;
    section(s, "alerts", at, |m, p| {
        boolean(m, "enabled", p)?;
        integer(m, "max_days_without_backup", p, 0, 3650).map(drop)
    })?;
    section(s, "archive", at, archive)?;
    one_of(
        s,
        "cbt",
        at,
        &["USE_IF_ENABLED", "ENABLE_AND_USE", "DO_NOT_USE"],
    )?;
    for key in ["error_handling", "vm_snapshot_error_handling"] {
        section(s, key, at, retry_rule)?;
    }
    for flag in FLAGS {
        boolean(s, flag, at)?;
    }
    section(s, "notarization", at, |m, p| {
        boolean(m, "enabled", p).map(drop)
    })?;
    section(s, "vss", at, |m, p| {
        boolean(m, "enabled", p)?;
        // GUESS: the examples show NATIVE and TARGET_SYSTEM_DEFINED; Acronis also has SOFTWARE.
        one_of(
            m,
            "provider",
            p,
            &["NATIVE", "TARGET_SYSTEM_DEFINED", "SOFTWARE"],
        )
        .map(drop)
    })?;
    section(s, "windows_event_log", at, |m, p| {
        boolean(m, "enabled", p)?;
        string(m, "level", p, true).map(drop)
    })?;
    section(s, "express_backup_usage", at, |m, p| {
        boolean(m, "continue_files_tracking", p)?;
        boolean(m, "dont_create_session", p)?;
        string(m, "fallback_mode", p, true)?;
        integer(m, "session_timeout", p, 0, i64::MAX).map(drop)
    })?;
    for key in ["file_filters", "selection", "tapes", "forensic", "cluster"] {
        section(s, key, at, |_, _| Ok(()))?;
    }
    for key in [
        "owner_id",
        "file_level_backup_snapshot",
        "metadata_to_include",
    ] {
        string(s, key, at, true)?;
    }
    if let Some(v) = get(s, "dag_list") {
        super::fields::array(v, "settings.dag_list")?;
    }
    Ok(())
}

/// The boolean switches the examples show at the top of `settings`.
const FLAGS: [&str; 15] = [
    "check_file_timestamp",
    "exclude_asz",
    "exclude_page_files",
    "fast_backup_enabled",
    "fixed_drive_behavior_for_removable",
    "ignore_bad_sectors",
    "lvm_snapshotting_enabled",
    "multi_volume_snapshotting_enabled",
    "preserve_file_security_settings",
    "quiesce_snapshotting_enabled",
    "reset_free_blocks_list",
    "sector_by_sector",
    "silent_mode_enabled",
    "truncate_logs",
    "validate_backup",
];

fn scheduling(m: &Map<String, Value>) -> Checked<()> {
    let at = "settings.scheduling";
    let enabled = boolean(m, "enabled", at)?.unwrap_or(true);
    // The examples show these three schemes (L1760, L1870, L2584).
    one_of(
        m,
        "scheme",
        at,
        &[
            "WEEKLY_FULL_DAILY_INCREMENTAL",
            "ALWAYS_FULL",
            "ALWAYS_INCREMENTAL",
        ],
    )?;
    one_of(m, "weekly_backup_day", at, &WEEKDAYS)?;
    section(m, "rand_max_delay", at, delay)?;
    // GUESS: the examples run 1, 2 and 8 backups at once; no limit is printed.
    integer(m, "max_parallel_backups", at, 1, 1000)?;
    section(m, "task_failure", at, retry_rule)?;
    let sets = each(m, "backup_sets", at, backup_set)?;
    // GUESS: a plan whose schedule is switched off may have no backup sets (it runs only on
    // demand); a scheduled plan needs at least one.
    if enabled && sets.is_none_or(|s| s.is_empty()) {
        return refuse(
            &join(at, "backup_sets"),
            "a scheduled plan (scheduling.enabled true) needs at least one backup set",
        );
    }
    Ok(())
}

/// `rand_max_delay`: `{count, type: MINUTES}` (L1748).
fn delay(m: &Map<String, Value>, p: &str) -> Checked<()> {
    // GUESS: the examples show 30; 0 (no spreading) up to a day is taken.
    integer(m, "count", p, 0, 24 * 60)?;
    // GUESS: HOURS beside the documented MINUTES.
    one_of(m, "type", p, &["MINUTES", "HOURS"])?;
    required(m, "count", p).map(drop)
}

fn backup_set(v: &Value, p: &str) -> Checked<()> {
    let m = object(v, p)?;
    // GUESS: the examples show AUTO and FULL; INCREMENTAL and DIFFERENTIAL complete the set.
    one_of(
        m,
        "type",
        p,
        &["AUTO", "FULL", "INCREMENTAL", "DIFFERENTIAL"],
    )?;
    required(m, "type", p)?;
    let sp = join(p, "schedule");
    let s = object(required(m, "schedule", p)?, &sp)?;
    let kind = one_of(s, "type", &sp, &["DAILY", "WEEKLY", "MONTHLY"])?;
    let Some(kind) = kind else {
        return refuse(&join(&sp, "type"), "is required");
    };
    boolean(s, "prevent_sleep", &sp)?;
    section(s, "conditions", &sp, |c, cp| {
        boolean(c, "users_idle", cp).map(drop)
    })?;
    let ap = join(&sp, "alarms");
    let alarms = object(required(s, "alarms", &sp)?, &ap)?;
    let tp = join(&ap, "time");
    let time = object(required(alarms, "time", &ap)?, &tp)?;
    let starts = each(time, "repeat_at", &tp, start_time)?;
    if starts.is_none_or(|s| s.is_empty()) {
        return refuse(&join(&tp, "repeat_at"), "needs at least one start time");
    }
    section(time, "rand_max_delay", &tp, delay)?;
    let weekdays = each(time, "weekdays", &tp, |d, dp| match d.as_str() {
        Some(day) if WEEKDAYS.contains(&day) => Ok(()),
        _ => refuse(dp, format!("{d} is not one of {}", WEEKDAYS.join(", "))),
    })?;
    let monthdays = each(time, "monthdays", &tp, |d, dp| day_number(d, dp, 31))?;
    each(time, "months", &tp, |d, dp| day_number(d, dp, 12))?;
    match kind {
        "MONTHLY" if monthdays.is_none_or(|d| d.is_empty()) => refuse(
            &join(&tp, "monthdays"),
            "a MONTHLY schedule needs days of the month",
        ),
        "DAILY" | "WEEKLY" if weekdays.is_none_or(|d| d.is_empty()) => refuse(
            &join(&tp, "weekdays"),
            format!("a {kind} schedule needs days of the week"),
        ),
        _ => Ok(()),
    }
}

fn day_number(v: &Value, p: &str, max: i64) -> Checked<()> {
    match v.as_i64() {
        Some(n) if (1..=max).contains(&n) => Ok(()),
        _ => refuse(p, format!("{v} is outside 1..{max}")),
    }
}

/// `{hour, minute, second}` of `repeat_at` (`second` is `null` in the create example).
fn start_time(v: &Value, p: &str) -> Checked<()> {
    let m = object(v, p)?;
    required(m, "hour", p)?;
    required(m, "minute", p)?;
    integer(m, "hour", p, 0, 23)?;
    integer(m, "minute", p, 0, 59)?;
    integer(m, "second", p, 0, 59).map(drop)
}

/// `error_handling`, `vm_snapshot_error_handling`, `task_failure`: `{enabled, interval: {count,
/// type}, max_attempts, silent_mode?}`.
fn retry_rule(m: &Map<String, Value>, p: &str) -> Checked<()> {
    boolean(m, "enabled", p)?;
    boolean(m, "silent_mode", p)?;
    integer(m, "max_attempts", p, 1, 10_000)?;
    section(m, "interval", p, |i, ip| {
        integer(i, "count", ip, 1, i64::from(u32::MAX))?;
        // The examples show SECONDS, MINUTES and HOURS; GUESS: DAYS.
        one_of(i, "type", ip, &["SECONDS", "MINUTES", "HOURS", "DAYS"]).map(drop)
    })
}

fn archive(m: &Map<String, Value>, p: &str) -> Checked<()> {
    // The examples show NORMAL, HIGH and MAX; GUESS: NONE (no compression).
    one_of(m, "compression", p, &["NONE", "NORMAL", "HIGH", "MAX"])?;
    // The examples show "12" and "AUTO"; GUESS: "11", the previous archive format.
    one_of(m, "format", p, &["AUTO", "11", "12"])?;
    string(m, "name", p, true)?;
    for key in ["comments", "display_name", "slice_comments"] {
        string(m, key, p, false)?;
    }
    section(m, "splitting", p, |s, sp| {
        let size = integer(s, "size", sp, 1, i64::MAX)?;
        let auto = boolean(s, "auto", sp)?;
        match (size, auto) {
            (Some(_), Some(true)) => refuse(sp, "set size or auto, not both"),
            (None, None) => refuse(sp, "needs size or auto"),
            _ => Ok(()),
        }
    })?;
    section(m, "encryption", p, |e, ep| {
        // The example shows AES192; GUESS: the other AES key lengths and NONE.
        one_of(e, "algorithm", ep, &["NONE", "AES128", "AES192", "AES256"])?;
        string(e, "password", ep, false).map(drop)
    })
}

fn destination(m: &Map<String, Value>, known: &dyn Known) -> Checked<()> {
    let at = "settings.destination";
    let lp = join(at, "location");
    location(object(required(m, "location", at)?, &lp)?, &lp, known)?;
    section(m, "retention", at, retention)?;
    section(m, "performance_window", at, |w, wp| {
        boolean(w, "enabled", wp)?;
        each(w, "presets", wp, preset).map(drop)
    })
}

fn location(m: &Map<String, Value>, p: &str, known: &dyn Known) -> Checked<()> {
    // GUESS: the create example has no `type` (L2639); a location without one is a VAULT.
    let kind = one_of(m, "type", p, &["VAULT", "LOCAL_FOLDER_TEMPLATE"])?.unwrap_or("VAULT");
    string(m, "display_name", p, false)?;
    let sp = join(p, "settings");
    let s = object(required(m, "settings", p)?, &sp)?;
    if kind == "LOCAL_FOLDER_TEMPLATE" {
        required(s, "path", &sp)?;
        return string(s, "path", &sp, true).map(drop);
    }
    required(s, "uri", &sp)?;
    string(s, "uri", &sp, true)?;
    string(s, "name", &sp, true)?;
    // The examples show LOCAL_FOLDER; GUESS: any upper-case storage type name.
    if let Some(t) = string(s, "storage_type", &sp, true)?
        && !t
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    {
        return refuse(
            &join(&sp, "storage_type"),
            format!("{t:?} is not a storage type"),
        );
    }
    let own = boolean(s, "use_policy_credentials", &sp)?.unwrap_or(true);
    let credentials = string(s, "credentials", &sp, false)?.unwrap_or_default();
    if !own && credentials.is_empty() {
        return refuse(
            &join(&sp, "credentials"),
            "use_policy_credentials is false, so the location needs the id of a credentials record",
        );
    }
    if !credentials.is_empty() && !known.credentials(credentials) {
        return refuse(
            &join(&sp, "credentials"),
            format!("credentials {credentials} not found"),
        );
    }
    Ok(())
}

/// `retention` (L1685–1694, L1838–1864): `execution` and `rules`, each rule by count or by age.
pub fn retention(m: &Map<String, Value>, p: &str) -> Checked<()> {
    // The examples show AFTER_BACKUP; GUESS: BEFORE_BACKUP.
    one_of(m, "execution", p, &["AFTER_BACKUP", "BEFORE_BACKUP"])?;
    // GUESS: an empty list of rules keeps every backup.
    required(m, "rules", p)?;
    each(m, "rules", p, |r, rp| {
        let rule = object(r, rp)?;
        let count = integer(rule, "max_count", rp, 1, 100_000)?;
        let age = get(rule, "max_age");
        // GUESS: the examples show DAILY, WEEKLY and MONTHLY sets.
        let set = one_of(rule, "backup_set", rp, &["DAILY", "WEEKLY", "MONTHLY"])?;
        match (count, age) {
            (Some(_), Some(_)) => refuse(rp, "a rule keeps by max_count or by max_age, not both"),
            (None, None) => refuse(rp, "a rule needs max_count or max_age"),
            (Some(_), None) if set.is_some() => {
                refuse(&join(rp, "backup_set"), "goes with max_age rules only")
            }
            (Some(_), None) => Ok(()),
            (None, Some(a)) => {
                let ap = join(rp, "max_age");
                let a = object(a, &ap)?;
                required(a, "count", &ap)?;
                integer(a, "count", &ap, 1, 100_000)?;
                // The examples show DAYS, WEEKS, MONTHS and (L2668) HOURS.
                one_of(a, "type", &ap, &["HOURS", "DAYS", "WEEKS", "MONTHS"])?;
                required(a, "type", &ap).map(drop)
            }
        }
    })
    .map(drop)
}

/// A performance window preset (L2211–2261).
fn preset(v: &Value, p: &str) -> Checked<()> {
    let m = object(v, p)?;
    one_of(m, "id", p, &["HIGH", "LOW", "CANCEL"])?;
    // GUESS: HIGH beside the documented LOW and NORMAL.
    one_of(m, "cpu_priority", p, &["LOW", "NORMAL", "HIGH"])?;
    section(m, "speed_limit", p, |s, sp| {
        // GUESS: only PERCENT is shown; its value is a percentage.
        one_of(s, "type", sp, &["PERCENT"])?;
        integer(s, "value", sp, 0, 100).map(drop)
    })?;
    each(m, "timetable", p, |t, tp| {
        let t = object(t, tp)?;
        each(t, "days_of_week", tp, |d, dp| match d.as_str() {
            Some(day) if WEEKDAYS.contains(&day) => Ok(()),
            _ => refuse(dp, format!("{d} is not a weekday")),
        })?;
        for key in ["time_from", "time_to"] {
            if let Some(v) = get(t, key) {
                start_time(v, &join(tp, key))?;
            }
        }
        Ok(())
    })
    .map(drop)
}

#[cfg(test)]
mod tests;
