//! `rampart run`: the operator. Wires the reflector caches, the provider hub, one controller per
//! managed kind (all running the generic reconciler), the provider configuration controllers,
//! the dependency triggers, and the metrics/health server.

pub mod kinds;
pub mod leader;
pub mod lookup;
pub mod oneshot;
pub mod options;
pub mod provider_config;
pub mod server;
pub mod source;
pub mod triggers;

use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::api::{Api, ListParams};
use kube::core::PartialObjectMeta;
use kube::runtime::controller::{self, Controller};
use kube::runtime::reflector::{self, ReflectHandle, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Resource};
use tracing::{error, info, warn};

use crate::api::{ClusterProviderConfig, ProviderConfig};
use crate::engine::cluster::KubeCluster;
use crate::engine::context::{Context, EngineSettings};
use crate::engine::events::EventPublisher;
use crate::engine::hub::ProviderHub;
use kinds::{Kinds, KindsBuilder, Wiring};
pub use options::RunOptions;
use provider_config::{PcContext, ProviderConfigResource};
use triggers::{ProviderConfigs, Trigger};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(
        "cannot build a Kubernetes client (is KUBECONFIG set, or is this running in a cluster?): {0}"
    )]
    Client(String),
    #[error("cannot reach the Kubernetes API server: {0}")]
    Unreachable(String),
    #[error(
        "the operator may not list {0}: {1} (check its RBAC: the chart's ClusterRole/Role, or the user in KUBECONFIG)"
    )]
    Forbidden(String, String),
    #[error("the {0} CRD is not installed (kubectl apply --server-side -f crds/): {1}")]
    MissingCrd(String, String),
    #[error("metrics server on {0}: {1}")]
    Server(String, std::io::Error),
    #[error(transparent)]
    Leader(#[from] leader::LeaderError),
}

pub(crate) fn scoped<K>(client: &Client, namespace: &Option<String>) -> Api<K>
where
    K: Resource<DynamicType = (), Scope = kube::core::NamespaceResourceScope>,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

pub(crate) async fn preflight<
    K: Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
>(
    api: &Api<K>,
    kind: &str,
) -> Result<(), StartError> {
    let kind = kind.to_string();
    match api.list(&ListParams::default().limit(1)).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 404 => Err(StartError::MissingCrd(kind, e.message)),
        Err(kube::Error::Api(e)) if e.code == 401 || e.code == 403 => {
            Err(StartError::Forbidden(kind, e.message))
        }
        Err(kube::Error::Api(e)) => Err(StartError::MissingCrd(
            kind,
            format!("{} ({})", e.message, e.code),
        )),
        Err(e) => Err(StartError::Unreachable(format!(
            "{e}: {}",
            source_chain(&e)
        ))),
    }
}

/// The error's causes, innermost last ("connection refused" rather than "client error").
fn source_chain(e: &dyn std::error::Error) -> String {
    let mut parts = Vec::new();
    let mut cur = e.source();
    while let Some(c) = cur {
        parts.push(c.to_string());
        cur = c.source();
    }
    parts.join(": ")
}

async fn cluster_id(client: &Client, flag: Option<String>) -> String {
    if let Some(id) = flag {
        return id;
    }
    let namespaces: Api<Namespace> = Api::all(client.clone());
    match namespaces
        .get("kube-system")
        .await
        .map(|ns| ns.metadata.uid)
    {
        Ok(Some(uid)) => uid,
        other => {
            // Ownership markers include the cluster id: two clusters sharing a vendor with the
            // same id could adopt each other's objects.
            warn!(
                error = ?other.err().map(|e| e.to_string()),
                "cannot read the kube-system namespace's uid; using cluster id 'default' (set --cluster-id when clusters share a vendor system)"
            );
            "default".into()
        }
    }
}

/// A shared reflector of `api`: the store, the future that drives its one watch, and
/// subscribers for `subscribers` readers (a controller, a trigger).
fn shared<K>(
    api: Api<K>,
    subscribers: usize,
) -> (
    Store<K>,
    impl std::future::Future<Output = ()>,
    Vec<ReflectHandle<K>>,
)
where
    K: Resource<DynamicType = ()>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + Sync
        + 'static,
{
    let (reader, writer) = reflector::store_shared(1024);
    let handles = (0..subscribers)
        .map(|_| writer.subscribe().expect("a shared store"))
        .collect();
    let stream = watcher(api, watcher::Config::default().any_semantic())
        .default_backoff()
        .modify(slim::<K>)
        .reflect_shared(writer)
        .applied_objects();
    let drive = async move {
        futures::pin_mut!(stream);
        while stream.next().await.is_some() {}
    };
    (reader, drive, handles)
}

/// Polls for re-parenting: std offers no parent-death signal, and one second is soon enough.
async fn exit_with_parent(parent: u32) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    loop {
        tick.tick().await;
        if std::os::unix::process::parent_id() != parent {
            warn!(parent, "the process that started rampart exited; stopping");
            std::process::exit(0);
        }
    }
}

/// Run the operator until SIGTERM/SIGINT.
pub async fn run(opts: RunOptions) -> Result<(), StartError> {
    if let Some(parent) = opts.exit_with_parent {
        tokio::spawn(exit_with_parent(parent));
    }
    crate::vendor::tls::install_crypto_provider();
    let client = Client::try_default()
        .await
        .map_err(|e| StartError::Client(e.to_string()))?;
    let ns = opts.namespace.clone();
    let mut builder = KindsBuilder::default();
    kinds::managed_kinds(&mut builder);
    for check in builder.preflights(&client, &ns) {
        check.await?;
    }
    preflight(
        &scoped::<ProviderConfig>(&client, &ns),
        "providerconfigs.rampart.dev",
    )
    .await?;
    preflight(
        &Api::<ClusterProviderConfig>::all(client.clone()),
        "clusterproviderconfigs.rampart.dev",
    )
    .await?;
    preflight(
        &scoped::<crate::api::Backup>(&client, &ns),
        "backups.rampart.dev",
    )
    .await?;
    preflight(
        &scoped::<crate::api::Restore>(&client, &ns),
        "restores.rampart.dev",
    )
    .await?;
    // Health endpoints answer while a standby waits for leadership.
    let ready = server::Readiness::default();
    let addr = opts.metrics_addr;
    let server = {
        let ready = ready.clone();
        tokio::spawn(async move {
            server::serve(addr, ready)
                .await
                .map_err(|e| StartError::Server(addr.to_string(), e))
        })
    };
    if opts.leader.leader_elect {
        leader::acquire(client.clone(), &opts.leader).await?;
    }
    let cluster_id = cluster_id(&client, opts.cluster_id.clone()).await;
    info!(%cluster_id, namespace = ns.as_deref().unwrap_or("(all)"), "starting rampart");

    // One watch per type, shared by the caches, controllers and triggers that read it.
    let (pc_store, pc_drive, mut pc_subs) = shared(scoped::<ProviderConfig>(&client, &ns), 2);
    let (cpc_store, cpc_drive, mut cpc_subs) =
        shared(Api::<ClusterProviderConfig>::all(client.clone()), 2);
    let (secret_store, secret_drive, mut secret_subs) =
        shared(scoped::<PartialObjectMeta<Secret>>(&client, &ns), 1);
    let source = Arc::new(source::K8sProviderSource {
        client: client.clone(),
        provider_configs: pc_store.clone(),
        cluster_provider_configs: cpc_store.clone(),
        secrets: secret_store,
    });
    let hub = Arc::new(ProviderHub::new(
        source,
        Arc::new(crate::providers::connect),
    ));

    let (pct, pcrx) = Trigger::new();
    let (cpct, cpcrx) = Trigger::new();
    let configs = ProviderConfigs {
        namespaced: (pc_store.clone(), pct),
        cluster: (cpc_store.clone(), cpct),
    };
    let events = Arc::new(EventPublisher::new(
        client.clone(),
        "rampart",
        std::env::var("POD_NAME").ok(),
    ));
    let settings = EngineSettings {
        cluster_id,
        clock: crate::engine::backup_health::WallClock::ahead_by(opts.health_clock_offset_seconds),
        ..EngineSettings::default()
    };
    let oneshot = oneshot::OneShotKinds::new(&client, &ns);
    let mut oneshot_ctx = None;
    let (kinds, managed) = builder.build(|kinds| {
        let lookup = Arc::new(lookup::KindsLookup {
            client: client.clone(),
            kinds: kinds.clone(),
            backups: Some(oneshot.backups.clone()),
        });
        let cluster = Arc::new(KubeCluster::new(client.clone(), events.clone()));
        let ctx = Arc::new(
            Context::new(cluster, hub.clone(), lookup, settings).with_waker(kinds.clone()),
        );
        oneshot_ctx = Some(ctx.clone());
        Wiring {
            client: client.clone(),
            namespace: ns.clone(),
            ctx,
            kinds,
            config: controller::Config::default().concurrency(opts.concurrency),
        }
    });
    let pc_ctx = Arc::new(PcContext {
        client: client.clone(),
        hub: hub.clone(),
        kinds: kinds.clone(),
    });

    let shutdown = shutdown_signal();
    let oneshot = oneshot.run(
        oneshot_ctx.expect("the context was built"),
        controller::Config::default().concurrency(opts.concurrency),
    );
    let managed = futures::future::join(futures::future::join_all(managed), oneshot);
    let provider_configs = futures::future::join(
        run_provider_configs(
            Controller::for_shared_stream(pc_subs.pop().expect("subscriber"), pc_store.clone()),
            pcrx,
            pc_ctx.clone(),
        ),
        run_provider_configs(
            Controller::for_shared_stream(cpc_subs.pop().expect("subscriber"), cpc_store.clone()),
            cpcrx,
            pc_ctx.clone(),
        ),
    );
    let dependencies = futures::future::join3(
        triggers::wake_users_on_change(pc_subs.pop().expect("subscriber"), kinds.clone()),
        triggers::wake_users_on_change(cpc_subs.pop().expect("subscriber"), kinds.clone()),
        triggers::wake_users_on_secret_change(
            secret_subs.pop().expect("subscriber"),
            configs,
            kinds.clone(),
        ),
    );
    let caches = futures::future::join3(pc_drive, cpc_drive, secret_drive);
    let ready_gauge = report_ready(kinds.clone());
    tokio::spawn(forget_old_events(events.clone()));
    // Ready once every cache has listed its objects (a refused watch keeps it unready).
    let readiness = {
        let ready = ready.clone();
        let kinds = kinds.clone();
        let (pcs, cpcs) = (pc_store.clone(), cpc_store.clone());
        async move {
            let _ = futures::future::join3(
                futures::future::join_all(kinds.iter().map(|k| k.wait_until_ready())),
                pcs.wait_until_ready(),
                cpcs.wait_until_ready(),
            )
            .await;
            ready.set_ready();
            info!("caches synced; ready");
            std::future::pending::<()>().await
        }
    };
    tokio::select! {
        _ = managed => error!("managed-object controllers stopped"),
        _ = provider_configs => error!("provider configuration controllers stopped"),
        _ = caches => error!("caches stopped"),
        _ = dependencies => error!("dependency triggers stopped"),
        _ = ready_gauge => error!("ready gauge stopped"),
        _ = readiness => {},
        r = server => match r {
            Ok(result) => result?,
            Err(join) => return Err(StartError::Server(addr.to_string(), std::io::Error::other(join))),
        },
        _ = shutdown => info!("shutting down"),
    }
    hub.shutdown().await;
    Ok(())
}

/// Drop what rampart never reads before an object is cached: server-side-apply bookkeeping and
/// kubectl's copy of the last applied manifest are most of an object's size (found by measuring
/// resident memory per object in the benchmark).
pub(crate) fn slim<K: Resource>(obj: &mut K) {
    let meta = obj.meta_mut();
    meta.managed_fields = None;
    if let Some(a) = meta.annotations.as_mut() {
        a.remove("kubectl.kubernetes.io/last-applied-configuration");
    }
}

async fn run_provider_configs<P: ProviderConfigResource>(
    c: Controller<P>,
    trigger: futures::channel::mpsc::UnboundedReceiver<reflector::ObjectRef<P>>,
    ctx: Arc<PcContext>,
) {
    c.reconcile_on(trigger)
        .run(
            provider_config::reconcile,
            provider_config::error_policy,
            ctx,
        )
        .for_each(|_| futures::future::ready(()))
        .await;
}

/// Keep the `rampart_objects` and `rampart_objects_ready` gauges current from the
/// controllers' caches.
async fn report_ready(kinds: Arc<Kinds>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(10));
    loop {
        tick.tick().await;
        for k in kinds.iter() {
            crate::telemetry::metrics::objects_ready(k.kind(), k.ready() as i64);
            crate::telemetry::metrics::objects_total(k.kind(), k.total() as i64);
        }
    }
}

/// The event publisher remembers recent events to count repeats; this forgets the old ones.
async fn forget_old_events(events: Arc<EventPublisher>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tick.tick().await;
        events.forget_old();
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = ctrl_c => {},
        _ = term.recv() => {},
    }
}
