//! AK/SK verification as the API gateway in front of CBR performs it, written from the document
//! (L202: `Host` is sent; L210: the signer adds `Authorization` and `X-Sdk-Date`; L321: bodies of
//! at most 12 MB; L328: the algorithm is in Huawei's "API Request Signing Guide") and that guide's
//! `SDK-HMAC-SHA256` scheme. This is the simulator's own reading; it shares nothing with the
//! client's signer.
//!
//! The request is rebuilt from what arrived on the wire, then signed again with the secret key:
//! - canonical request: method, canonical URI, canonical query, one `name:value` line per signed
//!   header, the `SignedHeaders` list, the hex SHA-256 of the body;
//! - string to sign: `SDK-HMAC-SHA256`, the `X-Sdk-Date` value, the hex SHA-256 of the canonical
//!   request;
//! - signature: hex HMAC-SHA256 of the string to sign keyed with the secret key.
//!
//! The signature covers exactly the headers the client listed in `SignedHeaders`, in its order:
//! Huawei's Go SDK signs `user-agent;x-project-id;x-sdk-date`, its Terraform provider
//! `accept;content-type;user-agent;x-sdk-date`, its Python SDK `host` too. Only `x-sdk-date` must
//! be among them.

use std::time::Duration;

use axum::http::HeaderMap;
use hmac::{KeyInit, Mac};
use jiff::Timestamp;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha2::{Digest, Sha256};

const ALGORITHM: &str = "SDK-HMAC-SHA256";

/// How far `X-Sdk-Date` may be from the gateway's clock.
// GUESS (L328): the document leaves the signing rules to the Signing Guide; the gateway allows
// 15 minutes either way.
pub const SIGNATURE_SKEW: Duration = Duration::from_secs(15 * 60);

/// Everything of a request the verification reads, as it arrived.
pub struct WireRequest<'a> {
    pub method: &'a str,
    /// The path as sent, percent escapes included.
    pub raw_path: &'a str,
    /// The query string as sent, without `?`.
    pub raw_query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// The fields of `Authorization: SDK-HMAC-SHA256 Access=…, SignedHeaders=…, Signature=…`.
#[derive(Debug, PartialEq, Eq)]
pub struct Credential<'a> {
    pub access_key: &'a str,
    pub signed_headers: Vec<&'a str>,
    pub signature: &'a str,
}

/// Read the `Authorization` header; `None` when it is not this scheme or a field is missing.
pub fn credential(authorization: &str) -> Option<Credential<'_>> {
    let fields = authorization.trim().strip_prefix(ALGORITHM)?;
    if !fields.starts_with(' ') {
        return None;
    }
    let (mut access_key, mut signed, mut signature) = (None, None, None);
    for field in fields.split(',') {
        let (name, value) = field.trim().split_once('=')?;
        match name {
            "Access" => access_key = Some(value),
            "SignedHeaders" => signed = Some(value.split(';').collect::<Vec<_>>()),
            "Signature" => signature = Some(value),
            // GUESS (L328): the scheme has exactly these three fields; anything else is refused.
            _ => return None,
        }
    }
    Some(Credential {
        access_key: access_key.filter(|a| !a.is_empty())?,
        signed_headers: signed.filter(|s| s.iter().all(|h| !h.is_empty()))?,
        signature: signature?,
    })
}

/// `X-Sdk-Date` (`YYYYMMDDTHHMMSSZ`, UTC) as an instant.
pub fn sdk_date(value: &str) -> Option<Timestamp> {
    let civil = jiff::civil::DateTime::strptime("%Y%m%dT%H%M%SZ", value.trim()).ok()?;
    civil
        .to_zoned(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp())
}

/// RFC 3986 unreserved characters stay as they are; every other byte is `%XX` (upper case).
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn escape(raw: &str) -> String {
    utf8_percent_encode(raw, UNRESERVED).to_string()
}

fn unescape(sent: &str) -> String {
    percent_decode_str(sent).decode_utf8_lossy().into_owned()
}

/// Each path segment decoded and escaped again, with a trailing `/`.
fn canonical_uri(raw_path: &str) -> String {
    let mut uri = raw_path
        .split('/')
        .map(|segment| escape(&unescape(segment)))
        .collect::<Vec<_>>()
        .join("/");
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// Query pairs decoded, sorted by name then value, escaped again and joined with `&`.
// GUESS (L328): a `+` is a literal plus, not a space; Huawei's SDKs send spaces as `%20`.
fn canonical_query(raw_query: Option<&str>) -> String {
    let mut pairs: Vec<(String, String)> = raw_query
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (unescape(name), unescape(value))
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(name, value)| format!("{}={}", escape(name), escape(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// One `name:value` line per value of each signed header, in the client's order.
// GUESS (L328): a header sent more than once contributes each value, sorted, as Huawei's Go SDK
// canonicalises it.
fn canonical_headers(signed: &[&str], headers: &HeaderMap) -> Result<String, &'static str> {
    let mut lines = String::new();
    for name in signed {
        let mut values = headers
            .get_all(*name)
            .iter()
            .map(|v| v.to_str().map(str::trim))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| "a signed header is not text")?;
        if values.is_empty() {
            return Err("a header listed in SignedHeaders was not sent");
        }
        values.sort_unstable();
        for value in values {
            lines.push_str(&format!("{name}:{value}\n"));
        }
    }
    Ok(lines)
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// The body's hash line: its SHA-256, or the value of `X-Sdk-Content-Sha256` when the client
/// declared the payload unsigned.
// GUESS (L328): Huawei's SDKs send `X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD` for bodies that are
// not JSON and sign that literal in place of the hash.
fn payload_hash(headers: &HeaderMap, body: &[u8]) -> String {
    match headers
        .get("x-sdk-content-sha256")
        .and_then(|v| v.to_str().ok())
    {
        Some("UNSIGNED-PAYLOAD") => "UNSIGNED-PAYLOAD".into(),
        _ => sha256_hex(body),
    }
}

/// The canonical request the client must have signed.
pub fn canonical_request(req: &WireRequest<'_>, signed: &[&str]) -> Result<String, &'static str> {
    Ok(format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        req.method.to_ascii_uppercase(),
        canonical_uri(req.raw_path),
        canonical_query(req.raw_query),
        canonical_headers(signed, req.headers)?,
        signed.join(";"),
        payload_hash(req.headers, req.body)
    ))
}

/// Check an AK/SK signed request at `now`; `secret_of` finds the secret key of an access key.
/// The error says why, without any key material.
pub fn verify(
    req: &WireRequest<'_>,
    secret_of: impl Fn(&str) -> Option<String>,
    now: Timestamp,
) -> Result<(), &'static str> {
    let header = |name: &str| req.headers.get(name).and_then(|v| v.to_str().ok());
    let authorization = header("authorization").ok_or("no X-Auth-Token or Authorization header")?;
    let credential = credential(authorization).ok_or("unsupported Authorization header")?;
    if header("host").is_none_or(str::is_empty) {
        return Err("the Host header is required for AK/SK authentication");
    }
    let date = header("x-sdk-date").ok_or("X-Sdk-Date is missing")?;
    let signed_at = sdk_date(date).ok_or("X-Sdk-Date is not YYYYMMDDTHHMMSSZ")?;
    if now.duration_since(signed_at).unsigned_abs() > SIGNATURE_SKEW {
        return Err("X-Sdk-Date is too far from the server time");
    }
    if !credential.signed_headers.contains(&"x-sdk-date") {
        return Err("x-sdk-date must be signed");
    }
    // GUESS (L328): header names in SignedHeaders are lower case, as every Huawei signer writes
    // them; an upper-case name is refused rather than matched loosely.
    if credential
        .signed_headers
        .iter()
        .any(|h| h.bytes().any(|b| b.is_ascii_uppercase()))
    {
        return Err("SignedHeaders must be lower case");
    }
    let secret = secret_of(credential.access_key).ok_or("unknown access key")?;
    let canonical = canonical_request(req, &credential.signed_headers)?;
    let string_to_sign = format!(
        "{ALGORITHM}\n{}\n{}",
        date.trim(),
        sha256_hex(canonical.as_bytes())
    );
    let claimed = hex::decode(credential.signature).map_err(|_| "the signature is not hex")?;
    let mut mac =
        hmac::Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(string_to_sign.as_bytes());
    mac.verify_slice(&claimed)
        .map_err(|_| "the signature does not match")
}

#[cfg(test)]
#[path = "aksk_tests.rs"]
mod tests;
