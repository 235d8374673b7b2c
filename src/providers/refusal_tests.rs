//! Every vendor's refusal of a spec, as its simulator words it, is a terminal error that quotes
//! the vendor: the engine's error classes read through each vendor's error mapping.

use crate::engine::errors::{Backoff, Class, Error};
use crate::engine::external::ExternalError;

/// A vendor's answer as the simulator sends it: status and body.
async fn answer(r: axum::response::Response) -> (u16, bytes::Bytes) {
    let status = r.status().as_u16();
    let body = axum::body::to_bytes(r.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, body)
}

fn response(status: u16, body: bytes::Bytes) -> crate::vendor::http::HttpResponse {
    crate::vendor::http::HttpResponse {
        status,
        headers: Default::default(),
        body,
    }
}

#[tokio::test]
async fn a_spec_the_vendor_rejects_is_terminal_and_quotes_the_vendor() {
    use super::{cyberbackup, huawei_cbr, ideco};
    use crate::simulators::huawei_cbr::SimError;
    use axum::http::StatusCode;
    use axum::response::IntoResponse;

    // Admission passed, the vendor refused: CBR's capacity check (BackupService.6101),
    // Cyber Backup's 400, Ideco's 400, RS server's invalid-body code 9 (HTTP 400 too).
    let (status, body) = answer(SimError::code("BackupService.6101").into_response()).await;
    let cbr = huawei_cbr::errors::from_response("POST /vaults", status, &body);
    let (status, body) = answer(
        crate::simulators::cyberbackup::bad_request("Invalid scheduling settings").into_response(),
    )
    .await;
    let cb = cyberbackup::errors::error_from_response("POST /policies", &response(status, body));
    let (status, body) = answer(crate::simulators::ideco::error_body(
        StatusCode::BAD_REQUEST,
        "bad action",
    ))
    .await;
    let ic =
        ideco::errors::from_response("POST /firewall/rules/{section}", &response(status, body));
    let rs_body = br#"{"error": {"code": 9, "message": "Request body is invalid.", "data": {}}}"#;
    let rs = super::rs_server::readers::error_from_response(
        "GET /v1/servers/",
        &response(400, bytes::Bytes::from_static(rs_body)),
    );
    let cases = [
        (cbr, &["BackupService.6101", "Invalid vault capacity."][..]),
        (cb, &["HTTP 400", "Invalid scheduling settings"][..]),
        (ic, &["HTTP 400", "bad action"][..]),
        (rs, &["9", "Request body is invalid."][..]),
    ];
    let b = Backoff::default();
    for (vendor_error, quoted) in cases {
        let e = Error::External(ExternalError::Vendor(vendor_error));
        assert_eq!(e.class(), Class::Terminal, "{e}");
        assert_eq!(e.reason(), "TerminalError");
        let text = e.to_string();
        for q in quoted {
            assert!(text.contains(q), "{text} does not quote {q}");
        }
        // The same long delay on every attempt: a rejected spec never turns into a storm.
        for attempt in [0, 1, 5, 20, u32::MAX] {
            assert_eq!(b.delay(e.class(), attempt), b.terminal);
        }
    }
}
