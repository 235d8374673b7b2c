//! The native forms of a Cyber Backup plan's scheduling and retention settings, used instead of
//! the portable `spec.schedule`/`spec.retention` (values as the document's examples show them).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `scheduling.scheme`: how full and incremental backups alternate.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CyberBackupScheme {
    /// One full backup, then incrementals.
    #[default]
    AlwaysIncremental,
    /// Every backup is full.
    AlwaysFull,
    /// A full backup on `weeklyBackupDay`, incrementals on the other days.
    WeeklyFullDailyIncremental,
}

/// A day of the week as Cyber Backup writes it.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, JsonSchema,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum CyberBackupWeekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

/// `backup_sets[].schedule.type`.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum CyberBackupScheduleType {
    /// On the given weekdays.
    #[default]
    Daily,
    /// On the given weekdays, every week.
    Weekly,
    /// On the given days of the given months.
    Monthly,
}

/// A start time (`repeat_at[]`).
#[derive(
    Serialize,
    Deserialize,
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct CyberBackupTimeOfDay {
    /// Hour, 0–23.
    #[schemars(range(min = 0, max = 23))]
    pub hour: i32,
    /// Minute, 0–59.
    #[schemars(range(min = 0, max = 59))]
    pub minute: i32,
}

/// One backup set of the native schedule (`scheduling.backup_sets[]`), used instead of the
/// portable `spec.schedule`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "self.scheduleType == 'MONTHLY' ? (has(self.monthdays) && !has(self.weekdays)) : (has(self.weekdays) && !has(self.monthdays) && !has(self.months))", "message": "MONTHLY schedules take monthdays (and months); DAILY and WEEKLY schedules take weekdays"}
]))]
pub struct CyberBackupSet {
    /// Backup type of the set: `AUTO` (the scheme decides) or `FULL`.
    #[serde(default = "default_set_type")]
    #[schemars(extend("enum" = ["AUTO", "FULL"]))]
    pub set_type: String,
    /// `DAILY`, `WEEKLY` or `MONTHLY`.
    #[serde(default)]
    pub schedule_type: CyberBackupScheduleType,
    /// Days of the week (`DAILY`, `WEEKLY`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 7))]
    #[schemars(extend("x-kubernetes-list-type" = "set"))]
    pub weekdays: Option<Vec<CyberBackupWeekday>>,
    /// Days of the month, 1–31 (`MONTHLY`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 31))]
    #[schemars(extend("x-kubernetes-list-type" = "set", "items" = {"type": "integer", "format": "int32", "minimum": 1, "maximum": 31}))]
    pub monthdays: Option<Vec<i32>>,
    /// Months, 1–12 (`MONTHLY`; default all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 12))]
    #[schemars(extend("x-kubernetes-list-type" = "set", "items" = {"type": "integer", "format": "int32", "minimum": 1, "maximum": 12}))]
    pub months: Option<Vec<i32>>,
    /// Start times (`alarms.time.repeat_at`).
    #[schemars(length(min = 1, max = 48))]
    pub repeat_at: Vec<CyberBackupTimeOfDay>,
}

fn default_set_type() -> String {
    "AUTO".to_string()
}

/// `backup_set` of an age-based retention rule.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum CyberBackupRetentionSet {
    Daily,
    Weekly,
    Monthly,
}

/// Unit of `max_age`.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum CyberBackupAgeUnit {
    Hours,
    Days,
    Weeks,
    Months,
}

/// One native retention rule (`destination.retention.rules[]`), used instead of the portable
/// `spec.retention`: either `maxCount`, or `maxAge` (optionally for one `backupSet`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(extend("x-kubernetes-validations" = [
    {"rule": "has(self.maxCount) != has(self.maxAgeCount)", "message": "set maxCount or maxAgeCount"},
    {"rule": "has(self.maxAgeCount) == has(self.maxAgeUnit)", "message": "maxAgeCount and maxAgeUnit go together"},
    {"rule": "!has(self.backupSet) || has(self.maxAgeCount)", "message": "backupSet applies to age rules"}
]))]
pub struct CyberBackupRetentionRule {
    /// Keep at most this many backups (`max_count`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 99999))]
    pub max_count: Option<i32>,
    /// The backup set the age rule applies to (`backup_set`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_set: Option<CyberBackupRetentionSet>,
    /// Maximum age (`max_age.count`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 99999))]
    pub max_age_count: Option<i32>,
    /// Unit of the maximum age (`max_age.type`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_unit: Option<CyberBackupAgeUnit>,
}
