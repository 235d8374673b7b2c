//! The vault name rampart derives when the spec gives none. CBR allows 1–64 characters
//! (VaultCreate `name`, L1741); a Kubernetes name may have 253. A longer name is cut and ends
//! in a hash of the whole name: the same object always gets the same name, and two long names
//! that share their first 55 characters still differ.

use sha2::{Digest, Sha256};

/// CBR's longest vault name (L1741, L2490).
pub const NAME_MAX: usize = 64;
/// Hex digits of the hash a shortened name ends with.
const HASH_DIGITS: usize = 8;

/// `metadata_name`, or when longer than CBR allows, its first characters, `-` and a hash.
pub fn derived_vault_name(metadata_name: &str) -> String {
    if metadata_name.chars().count() <= NAME_MAX {
        return metadata_name.to_string();
    }
    let hash = hex::encode(Sha256::digest(metadata_name.as_bytes()));
    let keep = NAME_MAX - 1 - HASH_DIGITS;
    let head: String = metadata_name.chars().take(keep).collect();
    // A cut that ends in a separator would read as a double one.
    let head = head.trim_end_matches(['-', '.']);
    format!("{head}-{}", &hash[..HASH_DIGITS])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_are_kept_and_long_ones_cut_with_a_hash() {
        let exact = "a".repeat(64);
        assert_eq!(derived_vault_name("app"), "app");
        assert_eq!(derived_vault_name(&exact), exact);
        let long = format!("{}-backups-of-the-team", "x".repeat(60));
        let name = derived_vault_name(&long);
        assert_eq!(name.chars().count(), 64);
        assert!(name.starts_with(&"x".repeat(55)), "{name}");
        assert_eq!(name, derived_vault_name(&long), "deterministic");
        let sibling = format!("{}-backups-of-the-other-team", "x".repeat(60));
        assert_ne!(
            derived_vault_name(&sibling),
            name,
            "same head, different name"
        );
    }

    #[test]
    fn a_cut_at_a_separator_leaves_no_double_dash() {
        let long = format!("{}-{}", "a".repeat(54), "b".repeat(20));
        let name = derived_vault_name(&long);
        assert!(!name.contains("--"), "{name}");
        assert!(name.chars().count() <= NAME_MAX);
    }
}
