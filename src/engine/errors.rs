//! Engine errors and what to do about them: terminal errors get a clear condition and no hot
//! retry; retryable ones back off exponentially with jitter; credential failures wait long
//! (a login failure can lock an account) or until the Secret changes.

use std::time::Duration;

use rand::Rng;

use super::external::ExternalError;
use super::hub::{HubError, ProviderKey};
use crate::vendor::error::ErrorKind;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    #[error(transparent)]
    External(#[from] ExternalError),
    #[error(transparent)]
    Hub(#[from] HubError),
    /// The spec is invalid in a way admission could not catch (for example a vendor block that
    /// does not match the provider configuration's type).
    #[error("{0}")]
    Spec(String),
    /// The provider configuration's own check says it cannot be used (refused credentials, a
    /// configuration the vendor rejects): nothing is asked of the vendor until that changes.
    #[error("{key} is not Ready: {why}")]
    ProviderNotReady { key: ProviderKey, why: String },
}

/// How the engine reacts to an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Nothing helps until the spec or configuration changes: Stalled, long requeue.
    Terminal,
    /// Transient: exponential backoff with jitter, at least `min` (a vendor's Retry-After).
    Retry { min: Option<Duration> },
    /// Credentials refused: wait long; a Secret change re-triggers sooner.
    Credentials,
    /// A dependency is not ready yet: check again soon, quietly.
    Waiting,
}

impl Error {
    pub fn class(&self) -> Class {
        match self {
            Error::Kube(e) => kube_class(e),
            Error::Spec(_) => Class::Terminal,
            // Woken when the configuration recovers; until then a quiet, slow retry.
            Error::ProviderNotReady { .. } => Class::Waiting,
            Error::Hub(HubError::NotFound(_)) => Class::Waiting,
            Error::Hub(HubError::Credentials { .. }) => Class::Credentials,
            Error::Hub(HubError::Connect { source, .. }) => {
                vendor_class(source.kind, source.retry_after)
            }
            Error::External(e) => external_class(e.cause()),
        }
    }

    /// Short CamelCase name for Events and metrics.
    pub fn reason(&self) -> &'static str {
        match self.class() {
            Class::Terminal => "TerminalError",
            Class::Retry { .. } => "ReconcileError",
            Class::Credentials => "CredentialsRefused",
            Class::Waiting => "Waiting",
        }
    }
}

fn external_class(e: &ExternalError) -> Class {
    match e {
        ExternalError::InvalidSpec { .. } => Class::Terminal,
        ExternalError::Waiting { .. } => Class::Waiting,
        ExternalError::Vendor(v) => vendor_class(v.kind, v.retry_after),
        // `cause` has taken the note off.
        ExternalError::AfterCreate(inner) => external_class(inner),
    }
}

/// What a refusal of rampart's own write to Kubernetes means. Most are transient (the object
/// changed under us, the API server is busy or restarting); a write the API server refuses as
/// malformed or forbidden fails the same way every time, so it is terminal, not hot-retried.
fn kube_class(e: &kube::Error) -> Class {
    let kube::Error::Api(status) = e else {
        // Transport, TLS, a dropped watch: the API server will be back.
        return Class::Retry { min: None };
    };
    match status.code {
        // The object moved on since it was read (a resourceVersion conflict, or the `test` of a
        // guarded JSON patch, which the API server answers 422): the next reconcile reads it anew.
        409 => Class::Retry { min: None },
        422 if is_failed_patch_test(status) => Class::Retry { min: None },
        // Our request is malformed or violates the schema, or RBAC does not allow it: the same
        // write fails again until rampart or its permissions change.
        400 | 403 | 405 | 413 | 415 | 422 => Class::Terminal,
        // 401 (a rotated service-account token is re-read), 404 and 410 (the object or the
        // watch went away), 429, 5xx.
        _ => Class::Retry { min: None },
    }
}

/// A JSON patch that did not apply to the object as it is now (its `test` failed, or a path it
/// names is gone): kube-apiserver answers 422 `Invalid` with only its generic message and no
/// causes (checked against the real server by `tests/e2e/security.rs`). A schema violation is
/// also 422, but names the object and lists its causes.
fn is_failed_patch_test(status: &kube::core::Status) -> bool {
    status.message == PATCH_NOT_APPLICABLE
        && status.details.as_ref().is_none_or(|d| d.causes.is_empty())
}

/// kube-apiserver's whole message for a JSON patch that does not apply.
pub const PATCH_NOT_APPLICABLE: &str =
    "the server rejected our request due to an error in our request";

fn vendor_class(kind: ErrorKind, retry_after: Option<Duration>) -> Class {
    match kind {
        ErrorKind::Transport
        | ErrorKind::Unavailable
        | ErrorKind::Protocol
        | ErrorKind::NotFound
        | ErrorKind::Conflict => Class::Retry { min: None },
        ErrorKind::Throttled => Class::Retry { min: retry_after },
        ErrorKind::Unauthorized => Class::Credentials,
        ErrorKind::Forbidden | ErrorKind::Rejected | ErrorKind::Config => Class::Terminal,
    }
}

/// Backoff policy for retryable errors.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
    pub terminal: Duration,
    pub credentials: Duration,
    pub waiting: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_millis(500),
            max: Duration::from_secs(300),
            terminal: Duration::from_secs(600),
            credentials: Duration::from_secs(300),
            waiting: Duration::from_secs(5),
        }
    }
}

impl Backoff {
    /// Delay before retry number `attempt` (0-based) of an error of `class`, before jitter.
    pub fn delay(&self, class: Class, attempt: u32) -> Duration {
        match class {
            Class::Terminal => self.terminal,
            Class::Credentials => self.credentials,
            Class::Waiting => {
                (self.waiting * 2u32.saturating_pow(attempt.min(4))).min(Duration::from_secs(60))
            }
            Class::Retry { min } => {
                let exp = self
                    .base
                    .saturating_mul(2u32.saturating_pow(attempt.min(20)))
                    .min(self.max);
                exp.max(min.unwrap_or_default())
            }
        }
    }

    /// `delay` spread by ±25% so that objects that failed together do not retry together.
    pub fn jittered(&self, class: Class, attempt: u32) -> Duration {
        let d = self.delay(class, attempt);
        let factor = rand::rng().random_range(0.75..1.25);
        let spread = d.mul_f64(factor);
        // Never retry before the vendor's Retry-After.
        match class {
            Class::Retry { min: Some(min) } => spread.max(min),
            _ => spread,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendor::error::VendorError;

    fn vendor(kind: ErrorKind) -> Error {
        Error::External(ExternalError::Vendor(VendorError::new(
            "v", "op", kind, "m",
        )))
    }

    #[test]
    fn vendor_errors_are_classified() {
        assert_eq!(
            vendor(ErrorKind::Unavailable).class(),
            Class::Retry { min: None }
        );
        assert_eq!(
            vendor(ErrorKind::Transport).class(),
            Class::Retry { min: None }
        );
        assert_eq!(vendor(ErrorKind::Rejected).class(), Class::Terminal);
        assert_eq!(vendor(ErrorKind::Forbidden).class(), Class::Terminal);
        assert_eq!(vendor(ErrorKind::Unauthorized).class(), Class::Credentials);
        assert_eq!(
            Error::External(ExternalError::invalid("spec.x", "bad")).class(),
            Class::Terminal
        );
        assert_eq!(
            Error::External(ExternalError::waiting("later")).class(),
            Class::Waiting
        );
    }

    fn kube(code: u16, reason: &str, message: &str) -> Error {
        Error::Kube(kube::Error::Api(
            kube::core::Status::failure(message, reason)
                .with_code(code)
                .boxed(),
        ))
    }

    #[test]
    fn kubernetes_refusals_are_terminal_only_when_the_same_write_would_fail_again() {
        let retry = Class::Retry { min: None };
        // What kube-apiserver v1.36 answers a JSON patch whose `test` failed (tests/e2e/security.rs
        // checks it against the real server).
        let failed_test = kube(422, "Invalid", PATCH_NOT_APPLICABLE);
        assert_eq!(failed_test.class(), retry, "a stale copy is read again");
        assert_eq!(
            kube(409, "Conflict", "the object has been modified").class(),
            retry
        );
        for (code, reason) in [
            (500, "InternalError"),
            (503, "ServiceUnavailable"),
            (504, "Timeout"),
            (429, "TooManyRequests"),
            (404, "NotFound"),
            (410, "Gone"),
            (401, "Unauthorized"),
        ] {
            assert_eq!(kube(code, reason, "m").class(), retry, "{code}");
        }
        let invalid = kube(
            422,
            "Invalid",
            "Vault.rampart.dev \"v\" is invalid: status.conditions[0].status: Required value",
        );
        assert_eq!(invalid.class(), Class::Terminal, "a schema violation");
        assert_eq!(
            kube(403, "Forbidden", "cannot patch").class(),
            Class::Terminal
        );
        assert_eq!(
            kube(400, "BadRequest", "bad patch").class(),
            Class::Terminal
        );
        let transport = Error::Kube(kube::Error::Service("connection reset".into()));
        assert_eq!(transport.class(), retry);
    }

    #[test]
    fn retry_backs_off_exponentially_up_to_the_cap() {
        let b = Backoff::default();
        let r = Class::Retry { min: None };
        assert_eq!(b.delay(r, 0), Duration::from_millis(500));
        assert_eq!(b.delay(r, 1), Duration::from_secs(1));
        assert_eq!(b.delay(r, 3), Duration::from_secs(4));
        assert_eq!(b.delay(r, 30), Duration::from_secs(300));
    }

    #[test]
    fn retry_after_is_a_floor_even_with_jitter() {
        let b = Backoff::default();
        let c = Class::Retry {
            min: Some(Duration::from_secs(7)),
        };
        for _ in 0..100 {
            assert!(b.jittered(c, 0) >= Duration::from_secs(7));
        }
    }

    #[test]
    fn terminal_and_credential_errors_do_not_retry_hot() {
        let b = Backoff::default();
        for attempt in (0..50).chain([1000, u32::MAX]) {
            assert_eq!(b.delay(Class::Terminal, attempt), Duration::from_secs(600));
            // Jitter spreads terminal requeues, never below 7.5 minutes.
            assert!(b.jittered(Class::Terminal, attempt) >= Duration::from_secs(450));
            assert!(b.delay(Class::Credentials, attempt) >= Duration::from_secs(300));
        }
    }

    #[test]
    fn jitter_spreads_within_a_quarter() {
        let b = Backoff::default();
        let c = Class::Retry { min: None };
        let samples: Vec<Duration> = (0..200).map(|_| b.jittered(c, 2)).collect();
        assert!(
            samples
                .iter()
                .all(|d| *d >= Duration::from_millis(1500) && *d <= Duration::from_millis(2500))
        );
        assert!(samples.iter().any(|d| *d != samples[0]), "jitter varies");
    }
}
