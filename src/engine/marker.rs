//! The ownership marker: a short, stable hash of (cluster id, kind, namespace, name). Adapters
//! put it on the vendor object (tag, deterministic name, comment suffix), so rampart only ever
//! touches what it made or adopted, a re-created object finds its vendor object again, and a
//! crash between create and status write never leads to a duplicate.

use sha2::{Digest, Sha256};

/// 16 lowercase hex characters (64 bits): short enough for a firewall comment, long enough that
/// two objects never collide in practice.
pub fn ownership_marker(cluster_id: &str, kind: &str, namespace: &str, name: &str) -> String {
    let mut h = Sha256::new();
    for part in [cluster_id, kind, namespace, name] {
        h.update(part.len().to_le_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(&h.finalize()[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_is_stable_and_distinguishes_each_part() {
        let m = ownership_marker("c1", "Vault", "ns", "a");
        assert_eq!(m.len(), 16);
        assert!(
            m.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_eq!(m, ownership_marker("c1", "Vault", "ns", "a"));
        assert_ne!(m, ownership_marker("c2", "Vault", "ns", "a"));
        assert_ne!(m, ownership_marker("c1", "Policy", "ns", "a"));
        assert_ne!(m, ownership_marker("c1", "Vault", "ns2", "a"));
        assert_ne!(m, ownership_marker("c1", "Vault", "ns", "b"));
        // Length-prefixing keeps ("ab","c") and ("a","bc") apart.
        assert_ne!(
            ownership_marker("c", "K", "ab", "c"),
            ownership_marker("c", "K", "a", "bc")
        );
    }
}
