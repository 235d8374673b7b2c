use jiff::Timestamp;
use serde_json::json;

use super::*;
use crate::providers::cyberbackup::backup_runs::index_backups;
use crate::providers::cyberbackup::models::Task;

const PLAN: &str = "edd0ec02-67df-4017-abd8-ee37611dbeb5";
const OTHER: &str = "5ea704d9-a214-4e81-97d9-d228098f8431";

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn keyed<T: serde::de::DeserializeOwned>(
    items: Value,
    key: impl Fn(&T) -> String,
) -> BTreeMap<String, T> {
    let items: Vec<T> = serde_json::from_value(items).unwrap();
    items.into_iter().map(|i| (key(&i), i)).collect()
}

fn archives() -> BTreeMap<String, Archive> {
    keyed(
        json!([
            {"id": "A1", "name": format!("m1_{PLAN}A"), "vault": {"id": "V1", "name": "pk-customer"}},
            {"id": "a2", "name": format!("m1_{OTHER}A"), "vault": {"id": "v1", "name": "pk-customer"}},
            {"id": "a3", "name": format!("m2_{PLAN}A"), "vault": {"id": "v2", "name": "offsite"}},
            {"id": "a4", "deleted": true, "vault": {"id": "v1", "name": "pk-customer"}},
            {"id": "a5", "name": "no vault object"}
        ]),
        |a: &Archive| a.id.clone(),
    )
}

fn backups() -> BTreeMap<String, Backup> {
    keyed(
        json!([
            {"backup_id": "b1", "archive_id": "a1", "vault_id": "v1", "created_at": "2026-12-01T02:00:05Z"},
            {"backup_id": "b2", "archive_id": "A2", "vault_id": "v1", "created_at": "2026-12-02T02:00:05Z"},
            {"backup_id": "b3", "archive_id": "a3", "vault_id": "v2", "created_at": "2026-12-02T02:00:05Z"},
            {"backup_id": "b4", "archive_id": "a1", "vault_id": "v1", "created_at": "2026-12-02T02:00:05Z", "deleted": true},
            {"backup_id": "b5", "archive_id": "a4", "vault_id": "v1", "created_at": "2026-12-02T02:00:05Z"},
            {"backup_id": "b6", "archive_id": "a5", "vault_id": "V1", "created_at": "2026-12-03T02:00:05Z"},
            {"backup_id": "b7", "archive_id": "not-listed-yet", "vault_id": "v2", "created_at": "2026-12-03T02:00:05Z"},
            {"backup_id": "b8", "archive_id": "a5", "created_at": "2026-12-03T02:00:05Z"}
        ]),
        |b: &Backup| b.backup_id.clone(),
    )
}

fn plans() -> BTreeMap<String, Plan> {
    keyed(
        json!([
            {"id": PLAN.to_uppercase(), "settings": {"destination": {"location": {"type": "VAULT", "settings": {"name": "pk-customer", "uri": "E:/"}}}}},
            {"id": OTHER, "settings": {"destination": {"location": {"type": "LOCAL_FOLDER_TEMPLATE", "settings": {"path": "F:/auto/"}}}}},
            {"id": "no-destination", "settings": {}}
        ]),
        |p: &Plan| plan_id(&p.id),
    )
}

fn ids(runs: &[BackupRun]) -> Vec<&str> {
    runs.iter().map(|r| r.id.as_str()).collect()
}

#[test]
fn a_plan_writes_to_its_location_s_name_or_its_folder_template_s_path() {
    let vault =
        json!({"destination": {"location": {"settings": {"name": "pk-customer", "path": "x"}}}});
    assert_eq!(plan_location(&vault).as_deref(), Some("pk-customer"));
    let folder =
        json!({"destination": {"location": {"settings": {"name": "", "path": "F:/auto/"}}}});
    assert_eq!(plan_location(&folder).as_deref(), Some("F:/auto/"));
    assert_eq!(plan_location(&json!({"destination": {}})), None);
}

#[test]
fn backups_are_placed_through_their_archive_s_vault_whatever_plan_made_them() {
    let index = index_locations(&archives(), &backups(), &plans());
    let held = |l: &str| {
        let mut v: Vec<&str> = index.backups[l]
            .iter()
            .map(|b| b.backup_id.as_str())
            .collect();
        v.sort();
        v
    };
    // b1 and b2 are two plans' backups at one location; b6's archive does not name its vault,
    // its vault id does; b4 is deleted and b5's archive is; b8 says nothing of where it is.
    assert_eq!(held("pk-customer"), ["b1", "b2", "b6"]);
    // b7's archive is not listed yet: placed by its vault id.
    assert_eq!(held("offsite"), ["b3", "b7"]);
    assert_eq!(index.backups.len(), 2);
    assert_eq!(index.writers("pk-customer"), [PLAN]);
    assert_eq!(index.writers("F:/auto/"), [OTHER]);
    assert!(index.writers("offsite").is_empty());
}

#[test]
fn a_location_s_runs_are_its_backups_and_the_failures_of_the_plans_writing_to_it() {
    let index = index_locations(&archives(), &backups(), &plans());
    let tasks: BTreeMap<String, Task> = keyed(
        json!([
            {"id": "17", "result": {"code": "ERROR", "payload": "no space left"}, "started_at": "2026-12-04T02:00:00Z", "context": {"persistent": {"id": PLAN}}}
        ]),
        |t: &Task| t.id.clone(),
    );
    let plan_index = index_backups(&archives(), &backups(), &tasks);
    let app = |plan: &str, v: Value| {
        let mut base =
            json!({"id": format!("app-{plan}"), "context": {"id": "ctx1"}, "policy": {"id": plan}});
        crate::providers::cyberbackup::settings::merge(&mut base, &v);
        serde_json::from_value::<Application>(base).unwrap()
    };
    let apps: BTreeMap<String, Vec<Application>> = [
        (
            PLAN.to_string(),
            vec![app(
                PLAN,
                json!({"status": "ERROR", "last_runtime": "2026-12-04T02:00:00Z", "last_success_time": "2026-12-01T02:00:05Z"}),
            )],
        ),
        (
            OTHER.to_string(),
            vec![app(
                OTHER,
                json!({"status": "RUNNING", "running": {"state": "RUNNING"}, "last_runtime": "2026-12-04T03:00:00Z"}),
            )],
        ),
    ]
    .into();
    let (runs, held) = location_runs("pk-customer", &index, &apps, &plan_index);
    assert_eq!(held, 3);
    assert_eq!(
        ids(&runs),
        ["b1", "b2", "b6", &format!("application app-{PLAN} run")]
    );
    assert_eq!(
        runs.last().unwrap(),
        &BackupRun {
            id: format!("application app-{PLAN} run"),
            at: at("2026-12-04T02:00:00Z"),
            result: RunResult::Failed("no space left (Cyber Backup task 17, ERROR)".into())
        },
        "the failure of the plan writing here, with its task's message"
    );
    // OTHER made b2 here but writes to a folder template now: its run going is the template's.
    let (runs, held) = location_runs("F:/auto/", &index, &apps, &plan_index);
    assert_eq!(
        (ids(&runs), held),
        (vec![&*format!("application app-{OTHER} run")], 0)
    );
    assert_eq!(runs[0].result, RunResult::Running);
    // Backups and no plan: what the archives show.
    let (runs, held) = location_runs("offsite", &index, &apps, &plan_index);
    assert_eq!((ids(&runs), held), (vec!["b3", "b7"], 2));
    assert_eq!(
        location_runs("empty", &index, &apps, &plan_index),
        (vec![], 0)
    );
}
