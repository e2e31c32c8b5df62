//! What each berth process runs beside its requests, when one or several
//! share a database.
//!
//! **The lease.** The background work that must happen once — placing
//! sessions (the scheduler), reconciling and probing agents, idle checks,
//! the sweeper — runs only in the replica holding the lease
//! (`store::Lease`: a PostgreSQL advisory lock on a connection of its
//! own; with SQLite, always this process). The others try for it every
//! [`LEASE_POLL`]; the holder checks every [`LEASE_POLL`] that its
//! connection (and so the lock) is still there, and stops that work when
//! it is not. Taking over starts with the same recovery a restart runs
//! (recount, then reconcile: launches the old holder left are run again or
//! adopted, running containers are watched again).
//!
//! **Every replica** keeps its engines in step with the agents table (an
//! agent registered through another replica) and probes its local engine
//! for `/healthz`; on PostgreSQL it sends its session events to the others
//! and publishes theirs to its own subscribers (LISTEN/NOTIFY).

use std::time::Duration;

use berth_shared::sessions::SessionEvent;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::services::Shared;
use crate::store::{Lease, StoreError, EVENTS_CHANNEL, NOTIFY_MAX};

/// How often a replica without the lease tries for it, and how often the
/// holder checks it still has it.
pub const LEASE_POLL: Duration = Duration::from_secs(1);

/// How often every replica reads the agents and probes its local engine.
const UPKEEP_EVERY: Duration = Duration::from_secs(2);

/// Starts this process's part: the lease (taken now if free, with the
/// recovery run before this returns, as a lone server's start always
/// did), the upkeep and, on PostgreSQL, the event feed.
pub async fn start(ctx: &Shared) -> Result<(), StoreError> {
    if ctx.store().shared() {
        feed(ctx);
    }
    spawn_upkeep(ctx.clone());
    let first = ctx.store().try_lease().await?;
    let led = match first {
        Some(lease) => Some((lease, lead(ctx).await)),
        None => {
            tracing::info!("another replica holds the scheduler's lease; waiting for it");
            None
        }
    };
    tokio::spawn(hold(ctx.clone(), led));
    Ok(())
}

/// Takes the lease's work on: recovery, then the loops, all ended by the
/// token returned.
async fn lead(ctx: &Shared) -> CancellationToken {
    let stop = ctx.shutdown().child_token();
    let reconciled = match crate::sessions::recover(ctx).await {
        Ok(done) => done,
        Err(e) => {
            tracing::error!(error = %e, "reconciling after taking the lease failed; retrying");
            false
        }
    };
    crate::sessions::reconcile::spawn(ctx.clone(), reconciled, stop.clone());
    crate::scheduler::spawn(ctx.clone(), stop.clone());
    crate::idle::spawn(ctx.clone(), stop.clone());
    crate::server::spawn_sweeper(ctx.clone(), stop.clone());
    ctx.set_leading(true);
    stop
}

/// Holds the lease while it lasts, and waits for it when another has it.
async fn hold(ctx: Shared, mut led: Option<(Lease, CancellationToken)>) {
    loop {
        let (mut lease, stop) = match led.take() {
            Some(l) => l,
            None => {
                let lease = loop {
                    tokio::select! {
                        _ = ctx.shutdown().cancelled() => return,
                        _ = tokio::time::sleep(LEASE_POLL) => {}
                    }
                    match ctx.store().try_lease().await {
                        Ok(Some(lease)) => break lease,
                        Ok(None) => {}
                        Err(e) => tracing::warn!(error = %e, "could not ask for the scheduler's lease"),
                    }
                };
                tracing::info!("took the scheduler's lease over");
                let stop = lead(&ctx).await;
                (lease, stop)
            }
        };
        loop {
            tokio::select! {
                _ = ctx.shutdown().cancelled() => return,
                _ = tokio::time::sleep(LEASE_POLL) => {}
            }
            if !lease.held().await {
                tracing::error!("lost the scheduler's lease (its database connection ended); stopping the background work");
                stop.cancel();
                ctx.set_leading(false);
                break;
            }
        }
    }
}

/// Every replica: its engines follow the agents table, and its local
/// engine's answer is what `/healthz` reports.
fn spawn_upkeep(ctx: Shared) {
    tokio::spawn(async move {
        loop {
            ctx.remember_engine(ctx.runtime().health().await);
            match ctx.store().agents().await {
                Ok(rows) => crate::resources::agents::sync_engines(&ctx, &rows),
                Err(e) => tracing::warn!(error = %e, "could not read the agents"),
            }
            tokio::select! {
                _ = ctx.shutdown().cancelled() => return,
                _ = tokio::time::sleep(UPKEEP_EVERY) => {}
            }
        }
    });
}

/// A session event on its way between replicas.
#[derive(Debug, Serialize, Deserialize)]
struct Relayed {
    /// The replica that published it.
    from: String,
    event: SessionEvent,
}

/// Sends this replica's events to the others, and publishes theirs here.
fn feed(ctx: &Shared) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<SessionEvent>();
    ctx.events().relay_to(tx);
    let out = ctx.clone();
    tokio::spawn(async move {
        while let Some(event) = rx.recv().await {
            let relayed = Relayed {
                from: out.replica_id().to_string(),
                event,
            };
            let Ok(payload) = serde_json::to_string(&relayed) else {
                continue;
            };
            if payload.len() > NOTIFY_MAX {
                tracing::warn!(session = %relayed.event.session_id, bytes = payload.len(), "an event too large to send to the other replicas");
                continue;
            }
            if let Err(e) = out.store().notify(EVENTS_CHANNEL, &payload).await {
                tracing::warn!(error = %e, "could not send an event to the other replicas");
            }
        }
    });
    let inbound = ctx.clone();
    tokio::spawn(async move {
        loop {
            let mut listener = match inbound.store().listen(EVENTS_CHANNEL).await {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for the other replicas' events; retrying");
                    tokio::select! {
                        _ = inbound.shutdown().cancelled() => return,
                        _ = tokio::time::sleep(LEASE_POLL) => continue,
                    }
                }
            };
            loop {
                let note = tokio::select! {
                    _ = inbound.shutdown().cancelled() => return,
                    n = listener.recv() => n,
                };
                match note {
                    Ok(note) => match serde_json::from_str::<Relayed>(note.payload()) {
                        Ok(r) if r.from != inbound.replica_id() => {
                            inbound.events().publish_here(r.event);
                        }
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "an unreadable event from another replica"),
                    },
                    Err(e) => {
                        tracing::warn!(error = %e, "the other replicas' event feed broke; listening again");
                        break;
                    }
                }
            }
        }
    });
}
