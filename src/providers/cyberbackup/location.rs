//! A Vault's destination as protection plans write it (`settings.destination.location`), and
//! the name archives report for it.

use serde_json::{Map, Value, json};

use crate::api::vendors::cyberbackup::{CyberBackupLocationType, CyberBackupVault};

/// The storage type when the Vault does not say (the document's examples use `LOCAL_FOLDER`).
pub const DEFAULT_STORAGE_TYPE: &str = "LOCAL_FOLDER";

/// The name the vendor knows the destination by: the location `name` for `VAULT` (what
/// archives report as `vault.name`), the `path` for `LOCAL_FOLDER_TEMPLATE`.
pub fn location_name(block: &CyberBackupVault, object_name: &str) -> String {
    match block.location_type {
        CyberBackupLocationType::Vault => block
            .name
            .clone()
            .unwrap_or_else(|| object_name.to_string()),
        CyberBackupLocationType::LocalFolderTemplate => block.path.clone().unwrap_or_default(),
    }
}

/// `destination.location` for a plan writing to this Vault. With registered credentials the
/// plan names them (`credentials`, `use_policy_credentials: false`); without, it uses the
/// plan's own (`use_policy_credentials: true`), as the document's examples do.
pub fn location_json(
    block: &CyberBackupVault,
    object_name: &str,
    credentials_id: Option<&str>,
) -> Value {
    let mut settings = Map::new();
    let type_ = match block.location_type {
        CyberBackupLocationType::Vault => {
            settings.insert("name".into(), json!(location_name(block, object_name)));
            settings.insert(
                "storage_type".into(),
                json!(
                    block
                        .storage_type
                        .as_deref()
                        .unwrap_or(DEFAULT_STORAGE_TYPE)
                ),
            );
            settings.insert("uri".into(), json!(block.uri.clone().unwrap_or_default()));
            "VAULT"
        }
        CyberBackupLocationType::LocalFolderTemplate => {
            settings.insert("path".into(), json!(block.path.clone().unwrap_or_default()));
            "LOCAL_FOLDER_TEMPLATE"
        }
    };
    let vault = block.location_type == CyberBackupLocationType::Vault;
    match credentials_id {
        Some(id) => {
            settings.insert("credentials".into(), json!(id));
            settings.insert("use_policy_credentials".into(), json!(false));
        }
        // Without registered credentials a VAULT says so in full, as the create example does
        // (`credentials: ""`): every VAULT location has the same keys, so moving a plan from
        // one Vault to another overwrites each of them under either PATCH reading.
        None if vault => {
            settings.insert("credentials".into(), json!(""));
            settings.insert("use_policy_credentials".into(), json!(true));
        }
        // GUESS: a folder template without credentials needs no credentials flag; the
        // document's template example has none.
        None => {}
    }
    let mut location = Map::new();
    location.insert("type".into(), json!(type_));
    // The create example names a VAULT in the console by its location name.
    let display = block
        .display_name
        .clone()
        .or_else(|| vault.then(|| location_name(block, object_name)));
    if let Some(d) = display {
        location.insert("display_name".into(), json!(d));
    }
    location.insert("settings".into(), Value::Object(settings));
    Value::Object(location)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vault_location_is_the_machine_example_location() {
        let block = CyberBackupVault {
            name: Some("customer-dg09".into()),
            uri: Some("E:".into()),
            ..Default::default()
        };
        // §2.10.3.6 whole-machine example, with the create example's `credentials: ""` and
        // `display_name`.
        assert_eq!(
            location_json(&block, "ignored", None),
            json!({"display_name": "customer-dg09", "settings": {"credentials": "", "name": "customer-dg09", "storage_type": "LOCAL_FOLDER", "uri": "E:", "use_policy_credentials": true}, "type": "VAULT"})
        );
        assert_eq!(location_name(&block, "ignored"), "customer-dg09");
    }

    #[test]
    fn registered_credentials_and_a_display_name_are_named() {
        let block = CyberBackupVault {
            uri: Some("smb://nas/b".into()),
            storage_type: Some("NETWORK_SHARE".into()),
            display_name: Some("NAS".into()),
            ..Default::default()
        };
        let v = location_json(&block, "nas", Some("b12e9914"));
        assert_eq!(v["display_name"], "NAS");
        assert_eq!(
            v["settings"]["name"], "nas",
            "defaults to the object's name"
        );
        assert_eq!(v["settings"]["credentials"], "b12e9914");
        assert_eq!(v["settings"]["use_policy_credentials"], false);
        assert_eq!(v["settings"]["storage_type"], "NETWORK_SHARE");
    }

    #[test]
    fn a_folder_template_is_the_disk_example_location() {
        let block = CyberBackupVault {
            location_type: CyberBackupLocationType::LocalFolderTemplate,
            path: Some("F:/local_auto_backups/".into()),
            ..Default::default()
        };
        // §2.10.3.6 disk example.
        assert_eq!(
            location_json(&block, "x", None),
            json!({"settings": {"path": "F:/local_auto_backups/"}, "type": "LOCAL_FOLDER_TEMPLATE"})
        );
        assert_eq!(location_name(&block, "x"), "F:/local_auto_backups/");
    }
}
