//! Faults injected by the harness come back as classified, retryable errors.

use std::time::Duration;

use super::*;
use crate::simulators::harness::Faults;

#[tokio::test]
async fn injected_faults_are_classified() {
    let rig = Rig::new().await;
    let rt = rig.runtime().await;
    rt.check().await.unwrap();
    let control = &rig.sim.server.control;

    control.set_faults(Faults {
        error_rate: 1.0,
        ..Default::default()
    });
    let err = rt.check().await.unwrap_err();
    assert_eq!((err.kind, err.status), (ErrorKind::Unavailable, Some(503)));
    assert!(
        err.message.contains("injected fault") && err.is_retryable(),
        "{err}"
    );

    control.set_faults(Faults {
        drop_rate: 1.0,
        ..Default::default()
    });
    let err = rt.check().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Transport, "{err}");

    control.set_faults(Faults::default());
    rt.check().await.unwrap();

    control.set_faults(Faults {
        throttle_rate: 1.0,
        retry_after_secs: 1,
        ..Default::default()
    });
    let err = rt.check().await.unwrap_err();
    assert_eq!(
        (err.kind, err.retry_after),
        (ErrorKind::Throttled, Some(Duration::from_secs(1)))
    );
    // None of this was a reason to log in again.
    assert_eq!(rig.sim.count("POST /auth/login"), 1);
}
