//! `rampart run`: the operator. Wires the reflector caches, the provider hub, one controller per
//! managed kind (all running the generic reconciler), the provider configuration controllers,
//! the dependency triggers, and the metrics/health server.

pub mod leader;
pub mod lookup;
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
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Resource};
use tracing::{error, info, warn};

use crate::api::{ClusterProviderConfig, FirewallRule, Policy, ProviderConfig, Strategy, Vault};
use crate::engine::context::{Context, EngineSettings};
use crate::engine::events::EventPublisher;
use crate::engine::hub::ProviderHub;
use crate::engine::managed::Managed;
use crate::engine::reconciler::{error_policy, reconcile};
pub use options::RunOptions;
use provider_config::{PcContext, ProviderConfigResource};
use triggers::{Dependents, Trigger};

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
    Forbidden(&'static str, String),
    #[error("the {0} CRD is not installed (kubectl apply --server-side -f crds/): {1}")]
    MissingCrd(&'static str, String),
    #[error("metrics server on {0}: {1}")]
    Server(String, std::io::Error),
    #[error(transparent)]
    Leader(#[from] leader::LeaderError),
}

fn scoped<K>(client: &Client, namespace: &Option<String>) -> Api<K>
where
    K: Resource<DynamicType = (), Scope = kube::core::NamespaceResourceScope>,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

async fn preflight<
    K: Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
>(
    api: &Api<K>,
    kind: &'static str,
) -> Result<(), StartError> {
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

/// A reflector-backed cache of `api`, driven in the background.
fn cache<K>(api: Api<K>) -> (Store<K>, impl std::future::Future<Output = ()>)
where
    K: Resource<DynamicType = ()>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + Sync
        + 'static,
{
    let (reader, writer) = reflector::store();
    let stream = reflector::reflector(
        writer,
        watcher(api, watcher::Config::default())
            .default_backoff()
            .modify(slim::<K>),
    )
    .applied_objects();
    let drive = async move {
        futures::pin_mut!(stream);
        while stream.next().await.is_some() {}
    };
    (reader, drive)
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
    preflight(&scoped::<Vault>(&client, &ns), "vaults.rampart.dev").await?;
    preflight(&scoped::<Policy>(&client, &ns), "policies.rampart.dev").await?;
    preflight(&scoped::<Strategy>(&client, &ns), "strategies.rampart.dev").await?;
    preflight(
        &scoped::<FirewallRule>(&client, &ns),
        "firewallrules.rampart.dev",
    )
    .await?;
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

    let (pc_store, pc_drive) = cache(scoped::<ProviderConfig>(&client, &ns));
    let (cpc_store, cpc_drive) = cache(Api::<ClusterProviderConfig>::all(client.clone()));
    let (secret_store, secret_writer) = reflector::store();
    let secret_api: Api<PartialObjectMeta<Secret>> = match &ns {
        Some(n) => Api::namespaced(client.clone(), n),
        None => Api::all(client.clone()),
    };
    let secret_drive = async move {
        let s = reflector::reflector(
            secret_writer,
            watcher(secret_api, watcher::Config::default()).default_backoff(),
        )
        .applied_objects();
        futures::pin_mut!(s);
        while s.next().await.is_some() {}
    };
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

    let config = controller::Config::default().concurrency(opts.concurrency);
    let vaults = managed_controller(scoped::<Vault>(&client, &ns));
    let policies = managed_controller(scoped::<Policy>(&client, &ns));
    let strategies = managed_controller(scoped::<Strategy>(&client, &ns));
    let rules = managed_controller(scoped::<FirewallRule>(&client, &ns));
    let pcs = Controller::new(
        scoped::<ProviderConfig>(&client, &ns),
        watcher::Config::default().any_semantic(),
    );
    let cpcs = Controller::new(
        Api::<ClusterProviderConfig>::all(client.clone()),
        watcher::Config::default().any_semantic(),
    );

    let (vt, vrx) = Trigger::new();
    let (pt, prx) = Trigger::new();
    let (st, srx) = Trigger::new();
    let (ft, frx) = Trigger::new();
    let (pct, pcrx) = Trigger::new();
    let (cpct, cpcrx) = Trigger::new();
    let deps = Arc::new(Dependents {
        vaults: (vaults.store(), vt),
        policies: (policies.store(), pt),
        strategies: (strategies.store(), st),
        firewall_rules: (rules.store(), ft),
        provider_configs: (pc_store.clone(), pct),
        cluster_provider_configs: (cpc_store.clone(), cpct),
    });
    let lookup = Arc::new(lookup::StoreLookup {
        client: client.clone(),
        vaults: vaults.store(),
        policies: policies.store(),
    });
    let events = EventPublisher::new(client.clone(), "rampart", std::env::var("POD_NAME").ok());
    let settings = EngineSettings {
        cluster_id,
        ..EngineSettings::default()
    };
    let ctx = Arc::new(Context::new(
        client.clone(),
        hub.clone(),
        events,
        lookup,
        settings,
    ));
    let pc_ctx = Arc::new(PcContext {
        client: client.clone(),
        hub: hub.clone(),
    });

    let shutdown = shutdown_signal();
    let managed = futures::future::join4(
        run_managed(vaults, vrx, config.clone(), ctx.clone()),
        run_managed(policies, prx, config.clone(), ctx.clone()),
        run_managed(strategies, srx, config.clone(), ctx.clone()),
        run_managed(rules, frx, config.clone(), ctx.clone()),
    );
    let configs = futures::future::join(
        run_provider_configs(pcs, pcrx, pc_ctx.clone()),
        run_provider_configs(cpcs, cpcrx, pc_ctx.clone()),
    );
    let caches = futures::future::join3(pc_drive, cpc_drive, secret_drive);
    let ready_gauge = report_ready(deps.clone());
    tokio::spawn(forget_old_events(ctx.clone()));
    let deps_watch = triggers::run(client.clone(), ns.clone(), deps.clone());
    // Ready once every cache has listed its objects (a refused watch keeps it unready).
    let readiness = {
        let ready = ready.clone();
        let deps = deps.clone();
        let (pcs, cpcs) = (pc_store.clone(), cpc_store.clone());
        async move {
            let _ = futures::future::join3(
                futures::future::join4(
                    deps.vaults.0.wait_until_ready(),
                    deps.policies.0.wait_until_ready(),
                    deps.strategies.0.wait_until_ready(),
                    deps.firewall_rules.0.wait_until_ready(),
                ),
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
        _ = configs => error!("provider configuration controllers stopped"),
        _ = caches => error!("caches stopped"),
        _ = deps_watch => error!("dependency watch stopped"),
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

/// What about a managed object asks for a reconcile: its spec (generation), annotations (pause,
/// external name, reconcile-requested-at), finalizers and deletion. Not its status, nor the
/// create-pending mark: rampart writes both itself, and a refused create set and cleared the
/// mark at every attempt, each write waking the object at once, past the error backoff (a
/// retry every 10 ms, found by an end-to-end test).
fn wake_up_hash<K: Managed>(obj: &K) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    let meta = obj.meta();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    meta.generation.hash(&mut h);
    meta.annotations
        .iter()
        .flatten()
        .filter(|(k, _)| k.as_str() != crate::engine::annotations::CREATE_PENDING)
        .for_each(|a| a.hash(&mut h));
    meta.finalizers.hash(&mut h);
    meta.deletion_timestamp
        .as_ref()
        .map(|t| t.0.to_string())
        .hash(&mut h);
    Some(h.finish())
}

/// A controller for a managed kind whose watch skips status-only changes.
fn managed_controller<K: Managed>(api: Api<K>) -> Controller<K> {
    let (reader, writer) = reflector::store();
    let stream = watcher(api, watcher::Config::default().any_semantic())
        .default_backoff()
        .modify(slim::<K>)
        .reflect(writer)
        .applied_objects()
        .predicate_filter(wake_up_hash::<K>, Default::default());
    Controller::for_stream(stream, reader)
}

/// Drop what rampart never reads before an object is cached: server-side-apply bookkeeping and
/// kubectl's copy of the last applied manifest are most of an object's size (found by measuring
/// resident memory per object in the benchmark).
fn slim<K: Resource>(obj: &mut K) {
    let meta = obj.meta_mut();
    meta.managed_fields = None;
    if let Some(a) = meta.annotations.as_mut() {
        a.remove("kubectl.kubernetes.io/last-applied-configuration");
    }
}

async fn run_managed<K: Managed>(
    c: Controller<K>,
    trigger: futures::channel::mpsc::UnboundedReceiver<reflector::ObjectRef<K>>,
    config: controller::Config,
    ctx: Arc<Context>,
) {
    c.with_config(config)
        .reconcile_on(trigger)
        .run(reconcile, error_policy, ctx)
        .for_each(|_| futures::future::ready(()))
        .await;
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

/// Keep the `rampart_objects_ready` gauge current from the controllers' caches.
async fn report_ready(deps: Arc<Dependents>) {
    fn count<K: Managed>(store: &Store<K>) -> i64 {
        store
            .state()
            .iter()
            .filter(|o| crate::engine::conditions::is_ready(o.managed_status()))
            .count() as i64
    }
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(10));
    loop {
        tick.tick().await;
        for (kind, n) in [
            ("Vault", count(&deps.vaults.0)),
            ("Policy", count(&deps.policies.0)),
            ("Strategy", count(&deps.strategies.0)),
            ("FirewallRule", count(&deps.firewall_rules.0)),
        ] {
            crate::telemetry::metrics::objects_ready(kind, n);
        }
    }
}

/// The event publisher remembers recent events to count repeats; this forgets the old ones.
async fn forget_old_events(ctx: Arc<Context>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tick.tick().await;
        ctx.events.forget_old();
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
