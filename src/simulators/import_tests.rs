//! A simulator is a second, independent reading of its vendor's document: if it imported the
//! client's code, a client bug would pass on both sides. This test fails, naming the file and
//! line, when a simulator file refers to `src/providers`.

use std::path::{Path, PathBuf};

/// Every vendor simulator.
const COVERED: [&str; 5] = [
    "huawei_cbr",
    "rubackup",
    "ideco",
    "rs_server",
    "cyberbackup",
];

/// Files that are only tests and may drive the simulator with the client.
fn is_test_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n == "tests.rs" || n.ends_with("_tests.rs"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") && !is_test_file(&path) {
            out.push(path);
        }
    }
}

/// Whether a line of code (comments already cut off) names the client's module.
fn names_providers(code: &str) -> bool {
    code.contains("providers::") || (code.contains("crate::{") && code.contains("providers"))
}

/// `file:line: text` for every line of `text` that refers to the client.
fn offending_lines(path: &Path, text: &str) -> Vec<String> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| names_providers(line.split("//").next().unwrap_or_default()))
        .map(|(i, line)| format!("{}:{}: {}", path.display(), i + 1, line.trim()))
        .collect()
}

#[test]
fn no_covered_simulator_imports_client_code() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/simulators");
    let mut files = Vec::new();
    // The harness, TLS listener and PKI every simulator shares.
    for entry in std::fs::read_dir(&root).expect("src/simulators") {
        let path = entry.expect("a directory entry").path();
        if path.is_file() && path.extension().is_some_and(|e| e == "rs") && !is_test_file(&path) {
            files.push(path);
        }
    }
    for vendor in COVERED {
        rust_files(&root.join(vendor), &mut files);
    }
    assert!(files.len() > 20, "the walk found the simulators: {files:?}");
    let offences: Vec<String> = files
        .iter()
        .flat_map(|f| offending_lines(f, &std::fs::read_to_string(f).expect("readable")))
        .collect();
    assert!(
        offences.is_empty(),
        "simulators must not use the client's code (src/providers):\n{}",
        offences.join("\n")
    );
}

#[test]
fn the_check_sees_every_way_of_naming_the_client() {
    let at = Path::new("src/simulators/x/y.rs");
    for bad in [
        "use crate::providers::rubackup::cron::FieldSet;",
        "    let c = crate::providers::rubackup::fields::normalize_client(s);",
        "use crate::{api::Vault, providers::ideco::order};",
        "use super::super::super::providers::ideco;",
    ] {
        let found = offending_lines(at, bad);
        assert_eq!(found.len(), 1, "{bad}");
        assert!(
            found[0].starts_with("src/simulators/x/y.rs:1: "),
            "{}",
            found[0]
        );
    }
    for fine in [
        "use crate::vendor::tls;",
        "// unlike crate::providers::ideco, this reads the document",
        "let providers = 3;",
    ] {
        assert!(offending_lines(at, fine).is_empty(), "{fine}");
    }
    assert!(is_test_file(Path::new("a/tests.rs")) && is_test_file(Path::new("a/client_tests.rs")));
    assert!(!is_test_file(Path::new("a/values.rs")));
}
