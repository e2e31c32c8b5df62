//! Starting and stopping the server.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;

use crate::accounts::{self, AccountError, Bootstrapped};
use crate::config::Config;
use crate::folders::fs::Storage;
use crate::http::{self, ApiContext};
use crate::resources;
use crate::runtime::Runtime;
use crate::services::Services;
use crate::store::{Store, StoreError};

/// Why the server (or a CLI command) could not run.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Creating an account.
    #[error("{}", account_message(.0))]
    Account(#[from] AccountError),
    /// Binding or serving.
    #[error("cannot listen: {0}")]
    Io(#[from] std::io::Error),
    /// Preparing `<data dir>/folders`.
    #[error("cannot prepare the storage folders: {0}")]
    Storage(std::io::Error),
}

fn account_message(e: &AccountError) -> String {
    match e {
        AccountError::Invalid(errs) => errs
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

/// A built application, ready to serve.
#[derive(Debug)]
pub struct App {
    /// The router with every layer.
    pub router: Router,
    /// Its state.
    pub ctx: ApiContext,
    /// Set when this start created the first superadmin.
    pub bootstrapped: Option<Bootstrapped>,
}

/// Opens the database, creates the first superadmin if needed, and builds
/// the router. Background tasks start here too.
pub async fn build(config: Config) -> Result<App, StartError> {
    let store = Store::open(&config.db).await?;
    let bootstrapped = accounts::ensure_superadmin(
        &store,
        &config.admin_email,
        config.admin_password.as_deref(),
    )
    .await?;
    let runtime = match &config.docker_cert_dir {
        Some(dir) => Runtime::with_tls(config.docker_host.clone(), dir.clone()),
        None => Runtime::new(config.docker_host.clone()),
    };
    if !config.static_dir.join("index.html").exists() {
        tracing::warn!(dir = %config.static_dir.display(), "no web UI found; build it with `make setup`");
    }
    let instance = store
        .meta_get_or_init("instance_id", || uuid::Uuid::new_v4().simple().to_string())
        .await?;
    let storage = match &config.storage_root {
        Some(root) => Storage::open_at(&config.db.data_dir, root),
        None => Storage::open(&config.db.data_dir),
    }
    .map_err(StartError::Storage)?;
    let ctx = Services::new(config, store, runtime, storage, instance);
    resources::agents::refresh_local(&ctx).await;
    resources::agents::load_engines(&ctx).await?;
    crate::replicas::start(&ctx).await?;
    crate::apps::warm::spawn_warm_up(ctx.clone());
    Ok(App {
        router: http::router(ctx.clone()),
        ctx,
        bootstrapped,
    })
}

pub use crate::replicas::sweep;

/// Serves `router` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    // small answers (and the app proxy's relayed ones) go out at once,
    // not after the peer's delayed ACK
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY");
        }
    });
    // The peer address feeds the login throttle.
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// `berth serve`: runs until Ctrl-C or SIGTERM.
pub async fn run(config: Config) -> Result<(), StartError> {
    let listen = config.listen;
    let app = build(config).await?;
    if let Some(b) = &app.bootstrapped {
        match &b.generated_password {
            Some(pw) => println!(
                "\n  berth: created the first superadmin\n    email:    {}\n    password: {pw}\n  (shown once; set BERTH_ADMIN_PASSWORD to choose it)\n",
                b.email
            ),
            None => println!("berth: created the first superadmin {}", b.email),
        }
    }
    match app.ctx.runtime().client().await {
        Ok(d) => tracing::info!(api = %d.client_version(), "Docker engine reachable"),
        Err(e) => {
            tracing::warn!(error = %e, "Docker engine not reachable; sessions cannot start until it is")
        }
    }
    let listener = TcpListener::bind(listen).await?;
    println!("berth: serving on http://{}", listener.local_addr()?);
    let token = app.ctx.shutdown().clone();
    let grace = Duration::from_secs(app.ctx.config().shutdown_grace_secs);
    // The signal cancels the token first: event streams, terminals and the
    // background loops end on it, so `serve` only waits for plain requests.
    let signalled = token.clone();
    let server = serve(listener, app.router, async move {
        shutdown_signal().await;
        signalled.cancel();
    });
    tokio::select! {
        served = server => served?,
        () = async {
            token.cancelled().await;
            tokio::time::sleep(grace).await;
        } => tracing::warn!(grace_secs = grace.as_secs(), "requests still running after the shutdown grace; exiting"),
    }
    token.cancel();
    // the networks kept for launches that will not come now (bounded: an
    // engine that hangs must not hold the exit; the next start removes them)
    let svc = app.ctx.clone();
    let _ = tokio::time::timeout(Duration::from_secs(5), async move {
        svc.networks().remove_free(svc.engines()).await
    })
    .await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
