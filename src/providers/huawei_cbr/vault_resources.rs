//! Putting resources into a vault with partial progress instead of all-or-nothing. CBR takes
//! at most 255 resources in a create (L1744) and 1-256 per `addresources` call (L2820), and
//! refuses a whole call for one resource another vault already holds (BackupService.6103,
//! which does not say which). rampart leaves out what the vault listing shows elsewhere, sends
//! the rest in batches, and splits a refused batch until the refused resources are isolated:
//! every other resource is protected, and the refused ones are named.

use std::collections::VecDeque;
use std::future::Future;

use super::models::ResourceCreate;
use crate::vendor::error::{VendorError, VendorResult};

/// Resources a vault create may carry (VaultCreate `resources`, "Array Length: 0 - 255").
pub const CREATE_LIMIT: usize = 255;
/// Resources per `addresources` or `removeresources` call ("Array Length: 1 - 256").
pub const BATCH_LIMIT: usize = 256;

/// CBR's answer when a resource already sits in a vault (L5079).
pub fn in_another_vault(e: &VendorError) -> bool {
    e.code.as_deref() == Some("BackupService.6103")
}

/// The resources a create carries, and those added after it.
pub fn split_for_create(
    mut resources: Vec<ResourceCreate>,
) -> (Vec<ResourceCreate>, Vec<ResourceCreate>) {
    let rest = resources.split_off(resources.len().min(CREATE_LIMIT));
    (resources, rest)
}

/// What an add achieved.
#[derive(Debug, Default)]
pub struct Added {
    /// Ids CBR took.
    pub added: Vec<String>,
    /// Ids CBR refused because a vault already holds them.
    pub refused: Vec<String>,
    /// The failure that stopped the add (anything but 6103); what came before it stays done.
    pub stopped: Option<VendorError>,
}

/// Add `resources` through `add` (one `addresources` call) in batches of at most 256. A batch
/// refused with 6103 is halved until each refused resource stands alone: k refused resources
/// among n cost about 2·k·log2(n) extra calls, and no other resource is left out.
pub async fn add_isolating<F, Fut>(resources: Vec<ResourceCreate>, mut add: F) -> Added
where
    F: FnMut(Vec<ResourceCreate>) -> Fut,
    Fut: Future<Output = VendorResult<Vec<String>>>,
{
    let mut out = Added::default();
    let mut queue: VecDeque<Vec<ResourceCreate>> =
        resources.chunks(BATCH_LIMIT).map(<[_]>::to_vec).collect();
    while let Some(batch) = queue.pop_front() {
        let ids: Vec<String> = batch.iter().map(|r| r.id.clone()).collect();
        match add(batch.clone()).await {
            Ok(_) => out.added.extend(ids),
            Err(e) if in_another_vault(&e) && batch.len() == 1 => out.refused.extend(ids),
            Err(e) if in_another_vault(&e) => {
                let mut first = batch;
                let second = first.split_off(first.len() / 2);
                queue.push_front(second);
                queue.push_front(first);
            }
            Err(e) => {
                out.stopped = Some(e);
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::BTreeSet;

    use super::*;
    use crate::api::vendors::huawei_cbr::CbrResourceType;
    use crate::vendor::error::ErrorKind;

    fn resources(n: usize) -> Vec<ResourceCreate> {
        (0..n)
            .map(|i| ResourceCreate {
                id: format!("s{i:03}"),
                type_: CbrResourceType::Server,
                name: None,
                extra_info: None,
            })
            .collect()
    }

    fn error(code: &str) -> VendorError {
        VendorError::new("huawei-cbr", "POST addresources", ErrorKind::Conflict, "x")
            .with_status(400)
            .with_code(code)
    }

    /// A vendor that refuses any batch containing one of `held` (6103), and records batch sizes.
    async fn run(n: usize, held: &[&str], fail_call: Option<usize>) -> (Added, Vec<usize>) {
        let calls = RefCell::new(Vec::new());
        let added = add_isolating(resources(n), |batch| {
            calls.borrow_mut().push(batch.len());
            let call = calls.borrow().len();
            let refused = batch.iter().any(|r| held.contains(&r.id.as_str()));
            async move {
                if fail_call == Some(call) {
                    return Err(error("BackupService.9910"));
                }
                if refused {
                    return Err(error("BackupService.6103"));
                }
                Ok(batch.into_iter().map(|r| r.id).collect())
            }
        })
        .await;
        (added, calls.into_inner())
    }

    #[test]
    fn a_create_carries_at_most_255_and_the_rest_follow() {
        let (first, rest) = split_for_create(resources(600));
        assert_eq!((first.len(), rest.len()), (255, 345));
        let (first, rest) = split_for_create(resources(3));
        assert_eq!((first.len(), rest.len()), (3, 0));
    }

    #[tokio::test]
    async fn batches_hold_at_most_256_and_every_resource_goes_once() {
        let (added, calls) = run(600, &[], None).await;
        assert_eq!(calls, [256, 256, 88]);
        assert_eq!(added.added.len(), 600);
        assert!(added.refused.is_empty() && added.stopped.is_none());
    }

    #[tokio::test]
    async fn resources_held_elsewhere_are_isolated_and_the_rest_added() {
        let (added, calls) = run(300, &["s007", "s290"], None).await;
        assert_eq!(added.refused, ["s007", "s290"]);
        assert_eq!(added.added.len(), 298);
        let unique: BTreeSet<&String> = added.added.iter().collect();
        assert_eq!(unique.len(), 298, "nothing added twice");
        assert!(calls.len() <= 2 + 2 * 2 * 9, "{} calls", calls.len());
    }

    #[tokio::test]
    async fn another_failure_stops_and_keeps_what_was_done() {
        let (added, calls) = run(600, &[], Some(2)).await;
        assert_eq!(calls.len(), 2, "no call after the failure");
        assert_eq!(added.added.len(), 256);
        assert_eq!(
            added.stopped.unwrap().code.as_deref(),
            Some("BackupService.9910")
        );
    }
}
