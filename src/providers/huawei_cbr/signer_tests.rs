//! The signer against vectors made by Huawei's own Python SDK core
//! (`tests/vectors/cbr_signer_vectors.py`). With `RAMPART_SIGNER_ORACLE=1` the SDK is run again
//! and its fresh output must equal both the committed file and this signer.

use super::*;
use serde::Deserialize;

#[derive(Deserialize)]
struct VectorFile {
    access_key: String,
    secret_key: String,
    sdk_date: String,
    vectors: Vec<Vector>,
}

#[derive(Deserialize)]
struct Vector {
    name: String,
    method: String,
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Option<String>,
    canonical_request: String,
    string_to_sign: String,
    authorization: String,
    uri: String,
}

const COMMITTED: &str = include_str!("../../../tests/vectors/cbr_signer_vectors.json");

fn check_file(text: &str) -> usize {
    let file: VectorFile = serde_json::from_str(text).expect("vector file parses");
    let now = parse_sdk_date(&file.sdk_date).expect("vector date parses");
    for v in &file.vectors {
        let body = v.body.as_deref().unwrap_or("").as_bytes();
        let req = SigningRequest {
            method: &v.method,
            path: &v.path,
            query: &v.query,
            headers: &v.headers,
            body,
        };
        let signed = sign(&req, &file.access_key, &file.secret_key, now);
        assert_eq!(signed.sdk_date, file.sdk_date, "{}", v.name);
        let mut dated = v.headers.clone();
        dated.push((SDK_DATE_HEADER.to_string(), signed.sdk_date.clone()));
        let canonical = canonical_request(&SigningRequest {
            headers: &dated,
            ..req
        });
        assert_eq!(
            canonical, v.canonical_request,
            "canonical request of '{}'",
            v.name
        );
        assert_eq!(
            string_to_sign(&canonical, &file.sdk_date),
            v.string_to_sign,
            "string to sign of '{}'",
            v.name
        );
        assert_eq!(
            signed.authorization, v.authorization,
            "Authorization of '{}'",
            v.name
        );
        let query = canonical_query(&v.query);
        let uri = if query.is_empty() {
            v.path.clone()
        } else {
            format!("{}?{query}", v.path)
        };
        assert_eq!(uri, v.uri, "request URI of '{}'", v.name);
    }
    file.vectors.len()
}

#[test]
fn matches_vectors_from_huawei_sdk_core() {
    assert!(check_file(COMMITTED) >= 10);
}

#[test]
fn sdk_oracle_regenerates_the_committed_vectors() {
    if std::env::var("RAMPART_SIGNER_ORACLE").as_deref() != Ok("1") {
        eprintln!(
            "RAMPART_SIGNER_ORACLE is not 1: the SDK oracle is not run (committed vectors are checked above)"
        );
        return;
    }
    let root = env!("CARGO_MANIFEST_DIR");
    let out = tempfile::NamedTempFile::new().unwrap();
    let status = std::process::Command::new("bash")
        .arg(format!("{root}/tests/vectors/cbr_signer_oracle.sh"))
        .arg(out.path())
        .status()
        .expect("run the signer oracle");
    assert!(status.success(), "the signer oracle failed");
    let fresh = std::fs::read_to_string(out.path()).unwrap();
    check_file(&fresh);
    assert_eq!(
        fresh, COMMITTED,
        "the SDK output differs from tests/vectors/cbr_signer_vectors.json: regenerate and commit it"
    );
}

#[test]
fn a_changed_byte_changes_the_signature() {
    let headers = vec![
        ("Host".to_string(), "h".to_string()),
        (SDK_DATE_HEADER.to_string(), "20240101T000000Z".to_string()),
    ];
    let base = SigningRequest {
        method: "POST",
        path: "/v3/p/vaults",
        query: &[],
        headers: &headers,
        body: b"{}",
    };
    let (_, a) = signature(&base, "sk");
    let (_, b) = signature(
        &SigningRequest {
            body: b"{ }",
            ..base
        },
        "sk",
    );
    let (_, c) = signature(&base, "sk2");
    let (_, d) = signature(
        &SigningRequest {
            method: "PUT",
            ..base
        },
        "sk",
    );
    assert_ne!(a, b);
    assert_ne!(a, c);
    assert_ne!(a, d);
}

#[test]
fn headers_with_underscores_are_not_signed_and_names_are_case_insensitive() {
    let headers = vec![
        ("X_Custom".to_string(), "x".to_string()),
        ("HOST".to_string(), " h ".to_string()),
        (SDK_DATE_HEADER.to_string(), "20240101T000000Z".to_string()),
    ];
    let req = SigningRequest {
        method: "get",
        path: "",
        query: &[],
        headers: &headers,
        body: b"",
    };
    let canonical = canonical_request(&req);
    assert!(
        canonical.starts_with("GET\n/\n\nhost:h\nx-sdk-date:20240101T000000Z\n\nhost;x-sdk-date\n"),
        "{canonical}"
    );
}

#[test]
fn parses_its_own_authorization_header() {
    let headers = vec![("Host".to_string(), "h".to_string())];
    let req = SigningRequest {
        method: "GET",
        path: "/",
        query: &[],
        headers: &headers,
        body: b"",
    };
    let signed = sign(&req, "AK1", "SK1", "2024-03-01T10:20:30Z".parse().unwrap());
    assert_eq!(signed.sdk_date, "20240301T102030Z");
    let parsed = parse_authorization(&signed.authorization).unwrap();
    assert_eq!(parsed.access_key, "AK1");
    assert_eq!(parsed.signed_headers, vec!["host", "x-sdk-date"]);
    assert_eq!(parsed.signature.len(), 64);
    assert_eq!(parse_authorization("Bearer abc"), None);
    assert_eq!(
        parse_sdk_date("20240301T102030Z"),
        Some("2024-03-01T10:20:30Z".parse().unwrap())
    );
    assert_eq!(parse_sdk_date("yesterday"), None);
}
