//! The portable schedule and retention that every backup vendor's dialect is compiled from
//! (CBR RRULE + operation_definition, RuBackup cron fields + intervals, Cyber Backup settings).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// When backups run, as a standard five-field cron expression in a time zone.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Schedule {
    /// Five-field cron expression: minute, hour, day of month, month, day of week
    /// (for example `30 2 * * *` for 02:30 every day, `0 */6 * * 1-5` every six hours on
    /// weekdays). Lists, ranges and steps are allowed; each vendor supports a subset and a
    /// schedule it cannot express is reported with a condition naming the field.
    #[schemars(
        length(min = 9, max = 128),
        regex(pattern = r"^\S+\s+\S+\s+\S+\s+\S+\s+\S+$")
    )]
    pub cron: String,
    /// IANA time zone the cron expression is read in (for example `Europe/Moscow`).
    /// Defaults to `UTC`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub time_zone: Option<String>,
    /// How long after a scheduled run a successful backup may still arrive before
    /// `BackupHealthy` says `BackupMissed`. Defaults to the schedule's interval (a run counts as
    /// missed once the next one is due).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 527040))]
    pub grace_minutes: Option<i32>,
}

/// How long backups are kept. Every field is optional; set the ones you need.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Retention {
    /// Keep at most this many backups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 99999))]
    pub keep_last: Option<i32>,
    /// Keep each backup for this many days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 99999))]
    pub keep_days: Option<i32>,
    /// Also keep the latest backup of each of the last N days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub daily: Option<i32>,
    /// Also keep the latest backup of each of the last N weeks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub weekly: Option<i32>,
    /// Also keep the latest backup of each of the last N months.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub monthly: Option<i32>,
    /// Also keep the latest backup of each of the last N years.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub yearly: Option<i32>,
}
