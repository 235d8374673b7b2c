//! The odd shapes, with bodies taken from the document's examples.

use super::*;
use serde_json::json;

#[test]
fn create_answers_a_typed_reference_in_an_array() {
    // §2.10.3.7
    let body = br#"{"result": ["256f2ee5-c9fd-4aad-8607-97a977deeaee@policy.backup.machine"]}"#;
    assert_eq!(
        parse_created_policy_id(body).unwrap(),
        "256f2ee5-c9fd-4aad-8607-97a977deeaee"
    );
    assert!(parse_created_policy_id(br#"{"result": []}"#).is_err());
    assert!(parse_created_policy_id(br#"{"id": "x"}"#).is_err());
}

#[test]
fn plan_ids_lose_their_type_suffix_and_case() {
    assert_eq!(
        plan_id("5AFCBCF6-6070-47A9-9569-69C8D3E68CE5@policy.backup.machine"),
        "5afcbcf6-6070-47a9-9569-69c8d3e68ce5"
    );
    assert_eq!(plan_id("abc"), "abc");
}

#[test]
fn policy_lists_wrap_each_item_and_end_on_an_empty_cursor() {
    // §2.10.3.8, trimmed.
    let body = json!({
        "items": [
            {"policy": {"id": "f5e556c4-27e0-4767-b596-e48fe8d005af", "name": "", "enabled": true,
                        "is_features": "BPCompression|BPRetentionRules", "type": "policy.backup.machine",
                        "plan_hash": "00000000-0000-0000-0000-000000000000", "settings": {"alerts": {"enabled": false}}}},
            {"policy": {"id": "0183b910-0107-4ea8-b6b0-dedd2e2f5f8d", "name": "rename_12", "type": "policy.backup.files"}}
        ],
        "paging": {"cursors": {"after": ""}}
    });
    let page = parse_page(body.to_string().as_bytes(), Some("policy")).unwrap();
    assert_eq!(page.after, None);
    let plans: Vec<Plan> = page
        .items
        .into_iter()
        .map(|v| serde_json::from_value(v).unwrap())
        .collect();
    assert_eq!(plans[0].id, "f5e556c4-27e0-4767-b596-e48fe8d005af");
    assert_eq!(plans[0].settings["alerts"]["enabled"], false);
    assert_eq!(
        plans[0].is_features.as_deref(),
        Some("BPCompression|BPRetentionRules")
    );
    assert_eq!(plans[1].type_, "policy.backup.files");
    assert!(!plans[1].enabled);
}

#[test]
fn get_by_id_is_a_one_item_list() {
    // §2.10.3.9: `items` with one wrapped policy.
    let body = json!({"items": [{"policy": {"id": "f5e556c4", "name": "x", "ls_features": "Notary"}}], "paging": {"cursors": {"after": ""}}});
    let page = parse_page(body.to_string().as_bytes(), Some("policy")).unwrap();
    assert_eq!(page.items.len(), 1);
    let plan: Plan = serde_json::from_value(page.items[0].clone()).unwrap();
    assert_eq!(
        plan.is_features.as_deref(),
        Some("Notary"),
        "the table's ls_features spelling is read too"
    );
}

#[test]
fn a_next_page_cursor_is_kept() {
    let body = br#"{"items": [], "paging": {"cursors": {"after": "0A8AAAAAAAAAAAAA=="}}}"#;
    assert_eq!(
        parse_page(body, None).unwrap().after.as_deref(),
        Some("0A8AAAAAAAAAAAAA==")
    );
    // Lists without paging (archives), with `null`, or with only `total` (applications) end.
    assert_eq!(parse_page(br#"{"items": []}"#, None).unwrap().after, None);
    assert_eq!(
        parse_page(
            br#"{"items": [], "paging": {"cursors": {"after": null}}}"#,
            None
        )
        .unwrap()
        .after,
        None
    );
    assert_eq!(
        parse_page(
            br#"{"items": [], "paging": {"total_count": 51, "cursors": {}}}"#,
            None
        )
        .unwrap()
        .after,
        None
    );
    assert!(parse_page(br#"{"items": {}}"#, None).is_err());
}

fn in_progress_upper_case() -> serde_json::Value {
    // §2.9.2.2 verbatim (keys upper-case, values lower-case).
    json!({"items": [[{
        "id": "296a5dba-d31d-4026-a21c-2cff2ecb120f",
        "created_at": "2024-11-28T09:53:05.499539125Z", "updated_at": "2024-11-29T06:22:51.484848419Z",
        "deleted_at": null, "enabled": true,
        "DEPLOYMENT": {"STATE": "deployed"},
        "RUNNING": {"STATE": "running", "PROGRESS": "20"},
        "last_success_time": "2024-11-28T11:13:45Z", "last_runtime": "2024-11-29T06:22:51Z",
        "last_activity": "policy.backup.machine", "next_run_time": "2024-11-29T10:01:14Z",
        "next_activity": "policy.backup.machine", "STATUS": "running",
        "agent_id": "bc083994-98f4-4365-97a5-7662e18ba0b2",
        "context": {"id": "5b6ff2dc-9095-4718-bc93-d25c70aaa130", "type": "resource.machine"},
        "policy": {"id": "53b86e12-3c65-4721-bf31-92ddebfa769f", "type": "policy.backup.machine", "name": "ol_test_plan_02"},
        "tenant_id": "17189", "context_tenant_id": "17190",
        "origin_contexts": ["5b6ff2dc-9095-4718-bc93-d25c70aaa130"]
    }]], "paging": {"cursors": {"total": 1}}})
}

fn idle_lower_case() -> serde_json::Value {
    // §2.10.4.4 verbatim (keys lower-case, values upper-case).
    json!({"items": [[{
        "agent_id": "0d47f411-3b67-42c8-b9d5-33a48b2bbe82",
        "context": {"id": "b19cf0fe-95eb-4657-a743-9d4ce6bc34f6", "type": "resource.machine"},
        "created_at": "2025-10-29T11:13:51.1782663Z", "deleted_at": null,
        "deployment": {"state": "DEPLOYED"}, "enabled": true,
        "id": "7d61b4b9-8f39-42ad-824c-d508a6ccbf59",
        "last_activity": "policy.backup.machine", "next_activity": "policy.backup.machine",
        "next_run_time": "2025-10-29T20:00:00Z",
        "origin_contexts": ["b19cf0fe-95eb-4657-a743-9d4ce6bc34f6"],
        "policy": {"id": "5ea704d9-a214-4e81-97d9-d228098f8431", "name": "Новый план защиты", "type": "policy.backup.machine"},
        "running": {"state": "IDLE"}, "status": "OK",
        "tenant_id": "00000000-0000-0000-0000-000000000000", "updated_at": "2025-10-29T11:13:51.7559748Z"
    }]], "paging": {"cursors": {"total": 1}}})
}

fn applications(body: serde_json::Value) -> Vec<Application> {
    let page = parse_page(body.to_string().as_bytes(), None).unwrap();
    assert_eq!(page.after, None);
    page.items
        .into_iter()
        .map(|v| serde_json::from_value(v).unwrap())
        .collect()
}

#[test]
fn applications_in_both_casings_read_the_same() {
    let running = &applications(in_progress_upper_case())[0];
    assert_eq!(running.deployment_state().as_deref(), Some("DEPLOYED"));
    assert_eq!(running.running_state().as_deref(), Some("RUNNING"));
    assert_eq!(running.status_text().as_deref(), Some("RUNNING"));
    assert_eq!(running.progress().as_deref(), Some("20"));
    assert_eq!(running.policy.id, "53b86e12-3c65-4721-bf31-92ddebfa769f");

    let idle = &applications(idle_lower_case())[0];
    assert_eq!(idle.deployment_state().as_deref(), Some("DEPLOYED"));
    assert_eq!(idle.running_state().as_deref(), Some("IDLE"));
    assert_eq!(idle.status_text().as_deref(), Some("OK"));
    assert_eq!(idle.progress(), None);
    assert_eq!(idle.next_run_time.as_deref(), Some("2025-10-29T20:00:00Z"));
    assert_eq!(
        idle.applied_contexts(),
        vec!["b19cf0fe-95eb-4657-a743-9d4ce6bc34f6"]
    );
}

#[test]
fn nested_and_flat_application_arrays_are_flattened_together() {
    let body = json!({"items": [
        [{"context": {"id": "A"}, "policy": {"id": "p"}}, {"context": {"id": "B"}, "policy": {"id": "p"}}],
        {"context": {"id": "C"}, "policy": {"id": "p"}, "origin_contexts": ["G1"]}
    ]});
    let apps = applications(body);
    let contexts: Vec<_> = apps
        .iter()
        .flat_map(Application::applied_contexts)
        .collect();
    assert_eq!(contexts, vec!["a", "b", "g1"]);
}

#[test]
fn a_numeric_progress_is_read_as_text() {
    let app: Application = serde_json::from_value(json!({
        "context": {"id": "c"}, "policy": {"id": "p"}, "running": {"state": "running", "progress": 55}
    }))
    .unwrap();
    assert_eq!(app.progress().as_deref(), Some("55"));
}

#[test]
fn credentials_archives_and_backups_parse_from_the_examples() {
    let c: Credentials = serde_json::from_value(json!({
        "scope": {"type": "folder", "subtype": ""}, "description": "новое описание", "identity": "user_name",
        "id": "b12e9914-ecea-4869-8e55-3e62a6dd8bb8", "tenant": "8f2ce031-3a88-448a-b6b6-84fc8728eab4",
        "version": 0, "secret_autogenerated": true, "created_at": "2025-11-05T14:15:50Z", "updated_at": "2025-11-05T14:15:50Z"
    }))
    .unwrap();
    assert_eq!(c.scope.type_, "folder");
    let a: Archive = serde_json::from_value(json!({
        "id": "5ab0433d-991a-3d0f-1328-4b1874d621a3", "vault_id": "21882913-cc56-646e-1036-9eac88c3977a",
        "size": 20480, "last_backup_created_at": "1970-01-01T00:00:00Z", "deleted": false,
        "vault": {"id": "21882913-cc56-646e-1036-9eac88c3977a", "name": "pk-customer", "storage_type": "ONLINE"}
    }))
    .unwrap();
    assert_eq!(a.vault.as_ref().unwrap().name, "pk-customer");
    assert_eq!(meaningful_time(a.last_backup_created_at.as_deref()), None);
    let page = parse_page(
        br#"{"items": [{"backup_id": "b79a69d6", "vault_id": "21882913", "created_at": "2025-09-29T16:02:45Z", "resource_ids": ["E68393C6"], "type": "FULL", "deleted": false}], "paging": {"total_count": 51, "cursors": {}}}"#,
        None,
    )
    .unwrap();
    let b: Backup = serde_json::from_value(page.items[0].clone()).unwrap();
    assert_eq!(b.backup_id, "b79a69d6");
}

#[test]
fn zero_timestamps_are_not_reported() {
    assert_eq!(meaningful_time(Some("0001-01-01T00:00:00Z")), None);
    assert_eq!(meaningful_time(Some("1970-01-01T00:00:00Z")), None);
    assert_eq!(
        meaningful_time(Some("2025-09-29T16:02:45Z")).as_deref(),
        Some("2025-09-29T16:02:45Z")
    );
}

#[test]
fn issues_become_text() {
    assert_eq!(
        issues_text(br#"{"issues": ["a", {"message": "b"}, 3]}"#),
        vec!["a", "b", "3"]
    );
    assert!(issues_text(b"").is_empty());
}
