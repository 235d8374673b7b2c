use serde_json::{Value, json};

use super::*;

fn examples() -> Value {
    serde_json::from_str(include_str!("examples.json")).expect("the examples are JSON")
}

struct Registered(&'static [&'static str]);

impl Known for Registered {
    fn credentials(&self, id: &str) -> bool {
        self.0.contains(&id)
    }
}

const NONE: Registered = Registered(&[]);

/// The machine example with `edit` applied at `pointer`.
fn machine_with(pointer: &str, edit: Value) -> Value {
    let mut s = examples()["machine"].clone();
    *s.pointer_mut(pointer)
        .unwrap_or_else(|| panic!("{pointer}")) = edit;
    s
}

fn refused(settings: &Value) -> String {
    validate(settings, &NONE)
        .expect_err("the settings should be refused")
        .to_string()
}

#[test]
fn every_document_example_is_accepted() {
    let e = examples();
    for name in ["machine", "disks", "mssql", "create"] {
        if let Err(r) = validate(&e[name], &NONE) {
            panic!("the document's {name} example is refused: {r}");
        }
    }
    let mut with_window = e["mssql"].clone();
    with_window["destination"]["performance_window"] = e["exchange_performance_window"].clone();
    validate(&with_window, &NONE).unwrap();
}

#[test]
fn required_sections_are_required() {
    let mut s = examples()["machine"].clone();
    s.as_object_mut().unwrap().remove("destination");
    assert_eq!(refused(&s), "settings.destination: is required");
    let mut s = examples()["machine"].clone();
    s["scheduling"]["backup_sets"] = json!([]);
    assert!(refused(&s).starts_with("settings.scheduling.backup_sets: a scheduled plan"));
    s["scheduling"]["enabled"] = json!(false);
    validate(&s, &NONE).expect("an unscheduled plan may have no backup sets");
    assert!(refused(&json!([])).contains("must be an object"));
}

#[test]
fn schedule_fields_are_checked_by_type_enum_and_range() {
    let at = "/scheduling/backup_sets/0/schedule";
    assert_eq!(
        refused(&machine_with(&format!("{at}/type"), json!("HOURLY"))),
        "settings.scheduling.backup_sets[0].schedule.type: \"HOURLY\" is not one of DAILY, WEEKLY, MONTHLY"
    );
    assert_eq!(
        refused(&machine_with(
            &format!("{at}/alarms/time/repeat_at/0/hour"),
            json!(24)
        )),
        "settings.scheduling.backup_sets[0].schedule.alarms.time.repeat_at[0].hour: 24 is outside 0..23"
    );
    assert!(
        refused(&machine_with(
            &format!("{at}/alarms/time/weekdays"),
            json!(["MONDAY"])
        ))
        .contains("weekdays[0]")
    );
    assert!(
        refused(&machine_with(
            &format!("{at}/alarms/time/repeat_at"),
            json!([])
        ))
        .contains("at least one start time")
    );
    assert!(refused(&machine_with("/scheduling/scheme", json!("SOMETIMES"))).contains("scheme"));
    assert!(
        refused(&machine_with(
            "/scheduling/rand_max_delay",
            json!({"count": "30", "type": "MINUTES"})
        ))
        .contains("rand_max_delay.count: must be a whole number")
    );
    assert!(refused(&machine_with("/scheduling/enabled", json!("yes"))).contains("true or false"));
    // A monthly schedule needs its days.
    let mut s = examples()["disks"].clone();
    s["scheduling"]["backup_sets"][0]["schedule"]["alarms"]["time"]
        .as_object_mut()
        .unwrap()
        .remove("monthdays");
    assert!(refused(&s).contains("a MONTHLY schedule needs days of the month"));
}

#[test]
fn retention_rules_are_by_count_or_by_age() {
    let at = "/destination/retention";
    let with = |v: Value| refused(&machine_with(at, v));
    assert!(with(json!({"execution": "AFTER_BACKUP"})).ends_with("retention.rules: is required"));
    assert!(
        with(json!({"execution": "AFTER_BACKUP", "rules": [{"max_count": 7, "max_age": {"count": 1, "type": "DAYS"}}]}))
            .contains("not both")
    );
    assert!(with(json!({"rules": [{}]})).contains("needs max_count or max_age"));
    assert!(with(json!({"rules": [{"max_count": 0}]})).contains("0 is outside 1.."));
    assert!(
        with(json!({"rules": [{"max_age": {"count": 7, "type": "YEARS"}}]}))
            .contains("max_age.type")
    );
    assert!(
        with(json!({"rules": [{"backup_set": "DAILY", "max_count": 3}]}))
            .contains("goes with max_age")
    );
    assert!(with(json!({"execution": "NEVER", "rules": []})).contains("execution"));
    validate(
        &machine_with(at, json!({"execution": "AFTER_BACKUP", "rules": []})),
        &NONE,
    )
    .expect("no rules keeps everything");
}

#[test]
fn a_location_needs_what_its_type_needs_and_known_credentials() {
    let at = "/destination/location";
    let vault = |settings: Value| json!({"type": "VAULT", "settings": settings});
    assert!(
        refused(&machine_with(at, vault(json!({"name": "n"}))))
            .ends_with("location.settings.uri: is required")
    );
    assert!(
        refused(&machine_with(
            at,
            json!({"type": "LOCAL_FOLDER_TEMPLATE", "settings": {"uri": "E:"}})
        ))
        .ends_with("location.settings.path: is required")
    );
    assert!(
        refused(&machine_with(at, json!({"type": "TAPE", "settings": {}})))
            .contains("location.type")
    );
    assert!(
        refused(&machine_with(
            at,
            vault(json!({"uri": "E:", "use_policy_credentials": false}))
        ))
        .contains("needs the id of a credentials record")
    );
    let named = machine_with(
        at,
        vault(json!({"uri": "E:", "use_policy_credentials": false, "credentials": "b12e9914"})),
    );
    assert!(refused(&named).contains("credentials b12e9914 not found"));
    validate(&named, &Registered(&["b12e9914"])).expect("a registered record is accepted");
}

#[test]
fn archive_and_other_sections_are_checked() {
    assert!(
        refused(&machine_with("/archive/compression", json!("ULTRA")))
            .contains("archive.compression")
    );
    assert!(
        refused(&machine_with(
            "/archive/splitting",
            json!({"size": 10, "auto": true})
        ))
        .contains("set size or auto, not both")
    );
    assert!(refused(&machine_with("/archive/splitting", json!({}))).contains("needs size or auto"));
    assert!(refused(&machine_with("/cbt", json!("ALWAYS"))).contains("settings.cbt"));
    assert!(refused(&machine_with("/vss/provider", json!(3))).contains("must be a string"));
    assert!(
        refused(&machine_with("/error_handling/max_attempts", json!(0))).contains("max_attempts")
    );
    assert!(refused(&machine_with("/validate_backup", json!("true"))).contains("validate_backup"));
    assert!(
        refused(&machine_with("/alerts", json!([]))).contains("settings.alerts: must be an object")
    );
}

#[test]
fn keys_the_document_never_shows_are_kept_as_they_are() {
    let mut s = examples()["machine"].clone();
    s["some_future_setting"] = json!({"anything": [1, 2]});
    s["scheduling"]["backup_sets"][0]["schedule"]["extra"] = json!(true);
    validate(&s, &NONE).unwrap();
}
