//! The server's parts, shared by the HTTP layer, the scheduler loop and the
//! session watchers.

use std::sync::Arc;

use berth_shared::health::{ComponentHealth, DockerHealth, Health};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::accounts::throttle::Throttle;
use crate::apps::registry::Registry;
use crate::config::Config;
use crate::events::Events;
use crate::folders::fs::Storage;
use crate::idle::monitor::Monitor;
use crate::images::commits::Commits;
use crate::metrics::Metrics;
use crate::runtime::{Engines, Runtime};
use crate::sessions::networks::Networks;
use crate::sessions::pages::Pages;
use crate::sessions::tasks::Tasks;
use crate::store::Store;

/// Everything a request or a background task may need.
#[derive(Debug)]
pub struct Services {
    config: Config,
    store: Store,
    engines: Engines,
    storage: Storage,
    apps: Registry,
    idle: Monitor,
    commits: Commits,
    prepulls: crate::images::pulls::PrePulls,
    events: Events,
    wake: Notify,
    login_throttle: std::sync::Mutex<Throttle>,
    held: crate::held::Held,
    tasks: Tasks,
    networks: Networks,
    pages: Pages,
    metrics: Metrics,
    accounts_changed: tokio::sync::watch::Sender<u64>,
    engine: std::sync::RwLock<Option<DockerHealth>>,
    images_seen: std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, bool)>>,
    instance: String,
    /// This process among the replicas (events it relays carry it).
    replica_id: String,
    /// Whether this process holds the scheduler's lease.
    leading: std::sync::atomic::AtomicBool,
    shutdown: CancellationToken,
}

/// Shared handle to the services.
pub type Shared = Arc<Services>;

impl Services {
    /// Bundles the parts. `instance` labels this server's containers.
    pub fn new(
        config: Config,
        store: Store,
        runtime: Runtime,
        storage: Storage,
        instance: String,
    ) -> Shared {
        let networks = Networks::new(&instance, config.session_subnets);
        Arc::new(Services {
            config,
            store,
            engines: Engines::new(crate::runtime::LOCAL, runtime),
            storage,
            apps: Registry::default(),
            idle: Monitor::default(),
            commits: Commits::default(),
            prepulls: Default::default(),
            events: Events::default(),
            wake: Notify::new(),
            login_throttle: Default::default(),
            held: Default::default(),
            tasks: Tasks::default(),
            networks,
            pages: Pages::default(),
            metrics: Metrics::new(),
            accounts_changed: tokio::sync::watch::Sender::new(0),
            engine: Default::default(),
            images_seen: Default::default(),
            instance,
            replica_id: uuid::Uuid::new_v4().simple().to_string(),
            leading: std::sync::atomic::AtomicBool::new(false),
            shutdown: CancellationToken::new(),
        })
    }

    /// Settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The database.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The local Docker engine.
    pub fn runtime(&self) -> &Runtime {
        self.engines.local()
    }

    /// Whether some engine had `image` when last asked, if that was less
    /// than `fresh` ago.
    pub fn images_seen(&self, image: &str, fresh: std::time::Duration) -> Option<bool> {
        let seen = self.images_seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.get(image)
            .filter(|(at, _)| at.elapsed() < fresh)
            .map(|(_, present)| *present)
    }

    /// Remembers whether some engine has `image` (for `images_seen`).
    pub fn remember_image(&self, image: &str, present: bool) {
        let mut seen = self.images_seen.lock().unwrap_or_else(|e| e.into_inner());
        // a bounded memory: the images of waiting sessions are few
        if seen.len() > 1000 {
            seen.clear();
        }
        seen.insert(image.to_string(), (std::time::Instant::now(), present));
    }

    /// The engines by agent id.
    pub fn engines(&self) -> &Engines {
        &self.engines
    }

    /// The engine of `agent` (the local one for `None`).
    pub fn runtime_of(&self, agent: Option<&str>) -> Arc<Runtime> {
        self.engines.of(agent)
    }

    /// The storage folders on disk.
    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// The idle task's samples and reports.
    pub fn idle(&self) -> &Monitor {
        &self.idle
    }

    /// Commits in progress.
    pub fn commits(&self) -> &Commits {
        &self.commits
    }

    /// The last pre-pulls of images to resource groups.
    pub fn prepulls(&self) -> &crate::images::pulls::PrePulls {
        &self.prepulls
    }

    /// The open apps and each session's traffic.
    pub fn apps(&self) -> &Registry {
        &self.apps
    }

    /// Session events.
    pub fn events(&self) -> &Events {
        &self.events
    }

    /// What this process is doing to which session (launch, watch, stop).
    pub fn tasks(&self) -> &Tasks {
        &self.tasks
    }

    /// The session networks this process holds (free or lent).
    pub fn networks(&self) -> &Networks {
        &self.networks
    }

    /// Says that some login, token or account changed (logout, revoke,
    /// disable, role change): open event streams check their caller again.
    pub fn accounts_changed(&self) {
        self.events
            .tell_others(crate::events::Note::AccountsChanged);
        self.accounts_changed_here();
    }

    /// [`Services::accounts_changed`] for this process only (another
    /// replica said so).
    pub fn accounts_changed_here(&self) {
        self.accounts_changed
            .send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Follows [`Services::accounts_changed`].
    pub fn watch_accounts(&self) -> tokio::sync::watch::Receiver<u64> {
        self.accounts_changed.subscribe()
    }

    /// The Prometheus metrics (see `metrics`).
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Serialized pages of ended sessions (see `sessions::pages`).
    pub fn pages(&self) -> &Pages {
        &self.pages
    }

    /// Keeps the engine's latest probe (the reconciler probes it).
    pub fn remember_engine(&self, health: DockerHealth) {
        *self
            .engine
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(health);
    }

    /// The engine's latest probe, if any yet.
    pub fn engine(&self) -> Option<DockerHealth> {
        self.engine
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Failed-login counts (see `accounts::throttle`).
    pub fn login_throttle(&self) -> &std::sync::Mutex<Throttle> {
        &self.login_throttle
    }

    /// What each user holds open (event streams, terminals, uploads).
    pub fn held(&self) -> &crate::held::Held {
        &self.held
    }

    /// This server's instance id (label `berth.instance` on its containers).
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// Wakes the scheduler (a new session, freed capacity).
    pub fn wake_scheduler(&self) {
        self.wake.notify_one();
    }

    /// Resolves when someone wakes the scheduler.
    pub async fn scheduler_woken(&self) {
        self.wake.notified().await
    }

    /// The database (pinged) and the engine: probed now when `deep` or
    /// when no probe was made yet, else its latest probe. The server keeps
    /// serving with the engine down (`degraded`); without the database it
    /// is `unavailable`.
    pub async fn health(&self, deep: bool) -> Health {
        let engine = async {
            match self.engine().filter(|_| !deep) {
                Some(h) => h,
                None => {
                    let h = self.runtime().health().await;
                    self.remember_engine(h.clone());
                    h
                }
            }
        };
        let (db, docker) = tokio::join!(self.store.ping(), engine);
        let database = ComponentHealth {
            ok: db.is_ok(),
            error: db.err().map(|e| e.to_string()),
        };
        let status = match (database.ok, docker.ok) {
            (false, _) => "unavailable",
            (true, false) => "degraded",
            (true, true) => "ok",
        };
        Health {
            status: status.into(),
            version: env!("CARGO_PKG_VERSION").into(),
            database,
            docker,
            scheduler: Some(self.leading()),
        }
    }

    /// This process's id among replicas.
    pub fn replica_id(&self) -> &str {
        &self.replica_id
    }

    /// Whether this process holds the scheduler's lease (runs the
    /// scheduler, reconciliation and idle checks).
    pub fn leading(&self) -> bool {
        self.leading.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Records whether it holds the lease.
    pub fn set_leading(&self, leading: bool) {
        self.leading
            .store(leading, std::sync::atomic::Ordering::SeqCst);
        self.metrics.set_leader(leading);
    }

    /// Cancelled when the server stops; background tasks end with it.
    pub fn shutdown(&self) -> &CancellationToken {
        &self.shutdown
    }
}
