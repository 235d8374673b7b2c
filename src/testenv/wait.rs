//! Waiting on the API server instead of sleeping: a watch until an object meets a condition.

use std::time::Duration;

use kube::Resource;
use kube::api::Api;
use kube::runtime::wait::{Condition, await_condition};
use serde::de::DeserializeOwned;

/// Wait until `cond` holds for `name`; panic with the object's last state and `context()`
/// (an operator log, say) when it is deleted, the watch fails, or `timeout` passes.
pub async fn wait_for<K, C>(
    api: &Api<K>,
    name: &str,
    cond: C,
    timeout: Duration,
    context: &dyn Fn() -> String,
) -> K
where
    K: Resource + Clone + std::fmt::Debug + DeserializeOwned + Send + 'static,
    C: Condition<K>,
{
    match tokio::time::timeout(timeout, await_condition(api.clone(), name, cond)).await {
        Ok(Ok(Some(obj))) => obj,
        Ok(Ok(None)) => panic!("{name} was deleted while waiting"),
        Ok(Err(e)) => panic!("watch of {name} failed: {e}"),
        Err(_) => {
            let last = api.get_opt(name).await.ok().flatten();
            panic!(
                "timed out after {timeout:?} waiting for {name}; last seen: {last:#?}\n{}",
                context()
            );
        }
    }
}
