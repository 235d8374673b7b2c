//! AK/SK request signing (`SDK-HMAC-SHA256`), the scheme Huawei's signing SDKs use and CBR
//! accepts besides IAM tokens. Pure: the caller passes the clock reading, so the same function
//! signs requests in the client and verifies them in the simulator.
//!
//! Canonicalisation, as Huawei's SDK core performs it (checked against its own output in
//! `tests/vectors/cbr_signer_vectors.json`):
//! - path: percent-decoded, split on `/`, each segment re-encoded (everything but
//!   `A-Za-z0-9-_.~`), and a trailing `/` added when missing;
//! - query: pairs sorted by key then value, keys and values encoded the same way, joined by `&`;
//! - headers: every header whose name has no `_`, names lower-cased and sorted, values trimmed;
//! - payload: hex SHA-256 of the body (of the empty string when there is none).

use hmac::{KeyInit, Mac};
use jiff::Timestamp;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha2::{Digest, Sha256};

/// The algorithm name at the start of the string to sign and of `Authorization`.
pub const ALGORITHM: &str = "SDK-HMAC-SHA256";
/// Header carrying the signing time.
pub const SDK_DATE_HEADER: &str = "X-Sdk-Date";
const SDK_DATE_FORMAT: &str = "%Y%m%dT%H%M%SZ";

/// Characters left as they are: RFC 3986 unreserved.
const ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The parts of a request that the signature covers.
#[derive(Debug, Clone, Copy)]
pub struct SigningRequest<'a> {
    pub method: &'a str,
    /// The path as sent (it may contain percent escapes).
    pub path: &'a str,
    /// Query parameters, decoded; a key may repeat.
    pub query: &'a [(String, String)],
    /// Headers to sign (`Host` included); `X-Sdk-Date` is added by [`sign`].
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// The headers [`sign`] adds to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    pub sdk_date: String,
    pub authorization: String,
}

/// Percent-encode one path segment, query key or value.
pub fn encode(s: &str) -> String {
    utf8_percent_encode(s, ENCODE).to_string()
}

/// `X-Sdk-Date` value of an instant.
pub fn sdk_date(now: Timestamp) -> String {
    now.strftime(SDK_DATE_FORMAT).to_string()
}

/// Parse an `X-Sdk-Date` value.
pub fn parse_sdk_date(value: &str) -> Option<Timestamp> {
    jiff::civil::DateTime::strptime(SDK_DATE_FORMAT, value.trim().trim_end_matches('Z'))
        .or_else(|_| {
            jiff::civil::DateTime::strptime("%Y%m%dT%H%M%S", value.trim().trim_end_matches('Z'))
        })
        .ok()
        .and_then(|dt| dt.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|z| z.timestamp())
}

/// The query string in canonical order and encoding. Sending exactly this string keeps what
/// the server sees and what was signed the same.
pub fn canonical_query(query: &[(String, String)]) -> String {
    let mut pairs: Vec<&(String, String)> = query.iter().collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn canonical_path(path: &str) -> String {
    let decoded = percent_decode_str(path).decode_utf8_lossy();
    let mut uri = decoded.split('/').map(encode).collect::<Vec<_>>().join("/");
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// Lower-cased names of the signed headers, sorted, and their trimmed values.
fn canonical_headers(headers: &[(String, String)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (name, value) in headers.iter().filter(|(n, _)| !n.contains('_')) {
        let name = name.to_ascii_lowercase();
        out.retain(|(n, _)| *n != name);
        out.push((name, value.trim().to_string()));
    }
    out.sort();
    out
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// The canonical request: method, path, query, headers, signed header names, payload hash.
pub fn canonical_request(req: &SigningRequest<'_>) -> String {
    let headers = canonical_headers(req.headers);
    let lines: String = headers.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    let names: Vec<&str> = headers.iter().map(|(n, _)| n.as_str()).collect();
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        req.method.to_ascii_uppercase(),
        canonical_path(req.path),
        canonical_query(req.query),
        lines,
        names.join(";"),
        sha256_hex(req.body)
    )
}

/// The string whose HMAC is the signature.
pub fn string_to_sign(canonical_request: &str, sdk_date: &str) -> String {
    format!(
        "{ALGORITHM}\n{sdk_date}\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
}

/// Signature and signed header names of a request whose headers already hold `X-Sdk-Date`.
pub fn signature(req: &SigningRequest<'_>, secret_key: &str) -> (String, String) {
    let date = req
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(SDK_DATE_HEADER))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default();
    let canonical = canonical_request(req);
    let names: Vec<String> = canonical_headers(req.headers)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(secret_key.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(string_to_sign(&canonical, &date).as_bytes());
    (names.join(";"), hex::encode(mac.finalize().into_bytes()))
}

/// Sign a request at `now`: the `X-Sdk-Date` and `Authorization` headers to add to it.
pub fn sign(
    req: &SigningRequest<'_>,
    access_key: &str,
    secret_key: &str,
    now: Timestamp,
) -> SignedHeaders {
    let date = sdk_date(now);
    let mut headers = req.headers.to_vec();
    headers.push((SDK_DATE_HEADER.to_string(), date.clone()));
    let (names, sig) = signature(
        &SigningRequest {
            headers: &headers,
            ..*req
        },
        secret_key,
    );
    SignedHeaders {
        sdk_date: date,
        authorization: format!(
            "{ALGORITHM} Access={access_key}, SignedHeaders={names}, Signature={sig}"
        ),
    }
}

/// The parts of an `Authorization: SDK-HMAC-SHA256 …` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAuthorization {
    pub access_key: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

/// Parse an `Authorization` header of this scheme; `None` for anything else.
pub fn parse_authorization(value: &str) -> Option<ParsedAuthorization> {
    let rest = value.trim().strip_prefix(ALGORITHM)?.trim_start();
    let (mut access, mut names, mut sig) = (None, None, None);
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        match k {
            "Access" => access = Some(v.to_string()),
            "SignedHeaders" => names = Some(v.split(';').map(str::to_string).collect()),
            "Signature" => sig = Some(v.to_string()),
            _ => return None,
        }
    }
    Some(ParsedAuthorization {
        access_key: access?,
        signed_headers: names?,
        signature: sig?,
    })
}

#[cfg(test)]
#[path = "signer_tests.rs"]
mod tests;
