//! The one-shot kinds' controllers: Backup and Restore, each on its own shared watch. The
//! Backup cache also serves lookups (a Restore's `backupRef`).

use std::sync::Arc;

use futures::FutureExt;
use futures::StreamExt;
use futures::future::BoxFuture;
use kube::runtime::Controller;
use kube::runtime::controller;
use kube::runtime::reflector::Store;
use kube::{Api, Client};

use crate::api::{Backup, Restore};
use crate::engine::context::Context;
use crate::oneshot::{backup, restore};

/// The Backup cache and the futures that serve both kinds (run them once the context exists).
pub struct OneShotKinds {
    pub backups: Store<Backup>,
    drive: BoxFuture<'static, ()>,
    backup_events: kube::runtime::reflector::ReflectHandle<Backup>,
    client: Client,
    namespace: Option<String>,
}

impl OneShotKinds {
    pub fn new(client: &Client, namespace: &Option<String>) -> Self {
        let (backups, drive, mut subs) =
            super::shared(super::scoped::<Backup>(client, namespace), 1);
        OneShotKinds {
            backups,
            drive: drive.boxed(),
            backup_events: subs.pop().expect("a subscriber"),
            client: client.clone(),
            namespace: namespace.clone(),
        }
    }

    /// The controllers, with the shared context.
    pub fn run(self, ctx: Arc<Context>, config: controller::Config) -> BoxFuture<'static, ()> {
        let backups = Controller::for_shared_stream(self.backup_events, self.backups)
            .with_config(config.clone())
            .run(backup::reconcile, backup::error_policy, ctx.clone())
            .for_each(|_| futures::future::ready(()));
        let restores: Api<Restore> = super::scoped(&self.client, &self.namespace);
        let restores = Controller::new(restores, kube::runtime::watcher::Config::default())
            .with_config(config)
            .run(restore::reconcile, backup::error_policy, ctx)
            .for_each(|_| futures::future::ready(()));
        let drive = self.drive;
        async move {
            futures::join!(drive, backups, restores);
        }
        .boxed()
    }
}
