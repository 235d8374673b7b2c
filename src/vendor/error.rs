//! One error type for every vendor call, classified so the engine knows whether to retry hot,
//! back off, or stop and say why. Messages are built from vendor error bodies and our own
//! words, never from credentials.

use std::time::Duration;

/// What went wrong, in terms the engine acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Connection refused, reset, dropped, or timed out. Retryable.
    Transport,
    /// 429 or a vendor "busy, try later" code. Retryable after `retry_after`.
    Throttled,
    /// 5xx or a vendor "try again later" code. Retryable.
    Unavailable,
    /// The credentials were refused (401, bad login). Not retried hot: a login failure can lock
    /// an account.
    Unauthorized,
    /// The call is not allowed for these credentials (403). Terminal.
    Forbidden,
    /// The object does not exist (404 or the vendor's not-found code).
    NotFound,
    /// The object already exists or is in a conflicting state.
    Conflict,
    /// The vendor rejected the request as invalid (400): a spec the vendor does not accept.
    /// Terminal until the spec changes.
    Rejected,
    /// A response we could not understand. Retried slowly.
    Protocol,
    /// Our side is misconfigured (missing Secret key, bad endpoint, bad CA). Terminal until the
    /// configuration changes.
    Config,
}

/// An error from one vendor call.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{vendor} {operation}: {}{}{message}", status.map(|s| format!("HTTP {s} ")).unwrap_or_default(), code.as_deref().map(|c| format!("{c}: ")).unwrap_or_default())]
pub struct VendorError {
    pub vendor: &'static str,
    pub operation: String,
    pub kind: ErrorKind,
    pub status: Option<u16>,
    /// The vendor's own error code, for example `BackupService.6101`.
    pub code: Option<String>,
    pub message: String,
    /// How long the vendor asked us to wait (429 `Retry-After`).
    pub retry_after: Option<Duration>,
}

/// The longest message kept, in characters. Messages quote vendor bodies, and they end up in
/// status conditions and events: a vendor answering with megabytes of text must not make the
/// status write fail (that would turn a terminal error into a retried one).
pub const MAX_MESSAGE_CHARS: usize = 1000;

impl VendorError {
    pub fn new(
        vendor: &'static str,
        operation: impl Into<String>,
        kind: ErrorKind,
        message: impl Into<String>,
    ) -> Self {
        let mut message: String = message.into();
        if let Some((cut, _)) = message.char_indices().nth(MAX_MESSAGE_CHARS) {
            message.truncate(cut);
            message.push('…');
        }
        VendorError {
            vendor,
            operation: operation.into(),
            kind,
            status: None,
            code: None,
            message,
            retry_after: None,
        }
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// This 401 came right after a login the vendor accepted: the credentials are good, and the
    /// vendor dropped the new session too (a restart, sessions revoked). That passes, so it is
    /// `Unavailable`, retried with backoff; `Unauthorized` would wait five minutes as refused
    /// credentials (found by `tests/chaos/faults.rs`, which revokes sessions every two seconds).
    pub fn refused_after_fresh_login(mut self) -> Self {
        if self.kind == ErrorKind::Unauthorized {
            self.kind = ErrorKind::Unavailable;
            self.message = format!(
                "{} (the vendor dropped a session it had just opened; retried)",
                self.message
            );
        }
        self
    }

    /// Whether retrying the same call later can succeed without anything else changing.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Transport
                | ErrorKind::Throttled
                | ErrorKind::Unavailable
                | ErrorKind::Protocol
        )
    }

    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::NotFound
    }

    /// The kind an HTTP status implies when the vendor's body says nothing more specific.
    pub fn kind_for_status(status: u16) -> ErrorKind {
        match status {
            401 => ErrorKind::Unauthorized,
            403 => ErrorKind::Forbidden,
            404 => ErrorKind::NotFound,
            409 => ErrorKind::Conflict,
            408 => ErrorKind::Transport,
            429 => ErrorKind::Throttled,
            s if s >= 500 => ErrorKind::Unavailable,
            _ => ErrorKind::Rejected,
        }
    }
}

pub type VendorResult<T> = Result<T, VendorError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_names_vendor_operation_status_and_code() {
        let e = VendorError::new(
            "huawei-cbr",
            "POST /vaults",
            ErrorKind::Rejected,
            "Invalid vault capacity.",
        )
        .with_status(400)
        .with_code("BackupService.6101");
        assert_eq!(
            e.to_string(),
            "huawei-cbr POST /vaults: HTTP 400 BackupService.6101: Invalid vault capacity."
        );
        assert!(!e.is_retryable());
    }

    #[test]
    fn a_huge_vendor_message_is_cut() {
        // Vendor messages were kept whole, however long; tests/fuzz checks the bound too.
        let e = VendorError::new("v", "op", ErrorKind::Rejected, "я".repeat(5000));
        assert_eq!(e.message.chars().count(), MAX_MESSAGE_CHARS + 1);
        assert!(e.message.ends_with('…'));
        let short = VendorError::new(
            "v",
            "op",
            ErrorKind::Rejected,
            "x".repeat(MAX_MESSAGE_CHARS),
        );
        assert_eq!(short.message, "x".repeat(MAX_MESSAGE_CHARS));
    }

    #[test]
    fn statuses_map_to_kinds() {
        assert_eq!(VendorError::kind_for_status(503), ErrorKind::Unavailable);
        assert_eq!(VendorError::kind_for_status(429), ErrorKind::Throttled);
        assert_eq!(VendorError::kind_for_status(401), ErrorKind::Unauthorized);
        assert_eq!(VendorError::kind_for_status(400), ErrorKind::Rejected);
        assert_eq!(VendorError::kind_for_status(404), ErrorKind::NotFound);
    }
}
