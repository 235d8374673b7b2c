use super::*;
use crate::providers::cyberbackup::settings::{Compare, Section};

fn section(field: &str, pointer: &str, compare: Compare) -> Section {
    Section {
        field: field.into(),
        pointer: pointer.into(),
        compare,
        remembered: false,
    }
}

/// A plan writing to a VAULT with retention, as rampart wants it.
fn desired(location: Value) -> DesiredPlan {
    DesiredPlan {
        name: "prod/a [rampart:m]".into(),
        type_: "policy.backup.machine",
        enabled: true,
        settings: json!({"destination": {"location": location, "retention": {"execution": "AFTER_BACKUP", "rules": []}},
                         "scheduling": {"rand_max_delay": {"count": 0, "type": "MINUTES"}}}),
        sections: vec![
            section("spec.vaultRef", "/destination/location", Compare::Exact),
            section("spec.retention", "/destination/retention", Compare::Holds),
            section(
                "spec.cyberBackup.randomDelayMinutes",
                "/scheduling/rand_max_delay",
                Compare::Exact,
            ),
        ],
        dropped: vec![],
    }
}

fn vault() -> Value {
    json!({"type": "VAULT", "display_name": "b", "settings": {"name": "b", "uri": "E:/b/", "storage_type": "LOCAL_FOLDER", "credentials": "", "use_policy_credentials": true}})
}

/// The vendor's plan: a folder template, rules, a performance window rampart does not manage.
fn vendor() -> Value {
    json!({"destination": {"location": {"type": "LOCAL_FOLDER_TEMPLATE", "settings": {"path": "F:/a/"}},
                           "retention": {"execution": "AFTER_BACKUP", "rules": [{"max_count": 7}]},
                           "performance_window": {"enabled": false}},
           "scheduling": {"rand_max_delay": {"count": 0, "type": "MINUTES"}, "enabled": true},
           "alerts": {"enabled": true}})
}

#[test]
fn a_section_goes_whole_over_the_vendors_own_with_unmanaged_keys_kept() {
    let p = build(&desired(vault()), "prod/a [rampart:m]", &vendor(), None).unwrap();
    let settings = &p.body["subject"]["policy"][0]["settings"];
    assert!(
        p.body["subject"]["policy"][0].get("name").is_none(),
        "the name is in line"
    );
    assert!(
        settings.get("scheduling").is_none() && settings.get("alerts").is_none(),
        "only sections that differ"
    );
    assert_eq!(
        settings["destination"],
        json!({"location": vault(), "retention": {"execution": "AFTER_BACKUP", "rules": []},
               "performance_window": {"enabled": false}})
    );
    assert_eq!(p.removals, vec!["/destination/location/settings/path"]);
}

#[test]
fn both_readings_of_patch_end_with_no_key_of_the_old_destination() {
    let d = desired(vault());
    // A replacing server: one PATCH, no nulls.
    let p = build(&d, &d.name, &vendor(), Some(Semantics::Replace)).unwrap();
    let mut replaced = vendor();
    apply(
        Semantics::Replace,
        &mut replaced,
        &p.body["subject"]["policy"][0]["settings"],
    );
    assert_eq!(replaced["destination"]["location"], vault());
    assert!(remaining(&p.removals, &replaced).is_empty());
    // A merging server: the same PATCH leaves `path`, which the nulls then remove.
    let unknown = build(&d, &d.name, &vendor(), None).unwrap();
    let mut merged = vendor();
    apply(
        Semantics::Merge,
        &mut merged,
        &unknown.body["subject"]["policy"][0]["settings"],
    );
    let left = remaining(&unknown.removals, &merged);
    assert_eq!(left, vec!["/destination/location/settings/path"]);
    merge_patch(
        &mut merged,
        &nulls(&left)["subject"]["policy"][0]["settings"],
    );
    assert_eq!(merged["destination"]["location"], vault());
    // Known to merge: the nulls go in the first PATCH.
    let known = build(&d, &d.name, &vendor(), Some(Semantics::Merge)).unwrap();
    let mut once = vendor();
    apply(
        Semantics::Merge,
        &mut once,
        &known.body["subject"]["policy"][0]["settings"],
    );
    assert_eq!(once["destination"]["location"], vault());
    assert_eq!(
        once["destination"]["performance_window"],
        json!({"enabled": false})
    );
}

#[test]
fn a_rename_alone_sends_the_name_alone() {
    let d = desired(vault());
    let mut v = vendor();
    v["destination"]["location"] = vault();
    v["destination"]["retention"] = json!({"execution": "AFTER_BACKUP", "rules": []});
    assert_eq!(build(&d, &d.name, &v, None), None, "nothing differs");
    let p = build(&d, "renamed by hand", &v, None).unwrap();
    assert_eq!(
        p.body,
        json!({"subject": {"policy": [{"name": "prod/a [rampart:m]"}]}})
    );
}

#[test]
fn keys_with_slashes_round_trip_through_pointers() {
    let mut v = json!({});
    set(&mut v, "/a~1b/c", json!(1));
    assert_eq!(v, json!({"a/b": {"c": 1}}));
    assert_eq!(remaining(&["/a~1b/c".into()], &v), vec!["/a~1b/c"]);
}
