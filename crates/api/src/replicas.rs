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

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::accounts::throttle::Outcome;
use crate::events::Note;
use crate::services::Shared;
use crate::store::{now_ms, Lease, StoreError, EVENTS_CHANNEL, NOTIFY_MAX};

/// How often a replica without the lease tries for it, and how often the
/// holder checks it still has it.
pub const LEASE_POLL: Duration = Duration::from_secs(1);

/// Where the lease holder says since when the idle network rule counts.
const COUNTING_SINCE: &str = "idle_counting_since";

/// How often a replica tells the others what traffic passed through it.
const TRAFFIC_EVERY: Duration = Duration::from_secs(1);

/// How often every replica reads the agents and probes its local engine.
const UPKEEP_EVERY: Duration = Duration::from_secs(2);

/// Starts this process's part: the lease (taken now if free, with the
/// recovery run before this returns, as a lone server's start always
/// did), the upkeep and, on PostgreSQL, the event feed.
pub async fn start(ctx: &Shared) -> Result<(), StoreError> {
    // the idle network rule counts from one moment on every replica
    crate::idle::start_counting(ctx);
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
    spawn_sweeper(ctx.clone(), stop.clone());
    // the other replicas judge the network rule from the same moment
    let since = ctx
        .idle()
        .counting_since(crate::store::now_ms())
        .to_string();
    if let Err(e) = ctx.store().meta_set(COUNTING_SINCE, &since).await {
        tracing::warn!(error = %e, "could not share since when the idle network rule counts");
    }
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
                        Err(e) => {
                            tracing::warn!(error = %e, "could not ask for the scheduler's lease")
                        }
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
            if !ctx.leading() {
                if let Ok(Some(since)) = ctx.store().meta_get(COUNTING_SINCE).await {
                    if let Ok(ms) = since.parse() {
                        ctx.idle().count_from(ms);
                    }
                }
            }
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

/// A note on its way between replicas.
#[derive(Debug, Serialize, Deserialize)]
struct Relayed {
    /// The replica that sent it.
    from: String,
    note: Note,
}

/// What another replica said, done here.
fn heard(ctx: &Shared, note: Note) {
    match note {
        Note::Session(event) => ctx.events().publish_here(*event),
        Note::AccountsChanged => ctx.accounts_changed_here(),
        Note::App(note) => ctx.apps().heard(note),
        Note::Traffic {
            session_id,
            bytes,
            last_ms,
        } => ctx.apps().traffic(&session_id).absorb(bytes, last_ms),
        Note::PrePull(job) => ctx.prepulls().put(job),
        Note::Commit(note) => ctx.commits().heard(note),
        Note::NetworkBack { agent, id, session } => {
            let ctx = ctx.clone();
            tokio::spawn(async move {
                ctx.networks()
                    .heard_back(ctx.engines(), agent.as_deref(), id, &session)
                    .await;
            });
        }
        Note::IdleSample {
            session_id,
            at_ms,
            values,
            oldest_ms,
        } => ctx.idle().heard_sample(
            &session_id,
            crate::idle::rules::Sample { at_ms, values },
            oldest_ms,
        ),
        Note::Held {
            replica,
            kind,
            user,
            count,
        } => ctx.held().heard(replica, kind, user, count),
        // another's mark: not for this replica
        Note::Mark { .. } => {}
        Note::Login {
            addr,
            email,
            failed,
        } => {
            let outcome = if failed {
                Outcome::Failed
            } else {
                Outcome::Succeeded
            };
            ctx.login_throttle()
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .record(&email, addr, std::time::Instant::now(), outcome);
        }
    }
}

/// Sends this replica's notes (events, changed logins, logins' outcomes)
/// to the others, and does theirs here.
fn feed(ctx: &Shared) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Note>();
    ctx.events().relay_to(tx);
    ctx.apps().tell_others_through(ctx.events().clone());
    ctx.prepulls().tell_others_through(ctx.events().clone());
    ctx.commits().tell_others_through(ctx.events().clone());
    {
        let events = ctx.events().clone();
        ctx.networks()
            .tell_others_through(crate::sessions::networks::NetworkTeller(Box::new(
                move |agent, id, session| {
                    events.tell_others(Note::NetworkBack { agent, id, session });
                },
            )));
    }
    {
        let (events, me) = (ctx.events().clone(), ctx.replica_id().to_string());
        ctx.held()
            .tell_others_through(Box::new(move |kind, user: &str, count| {
                events.tell_others(Note::Held {
                    replica: me.clone(),
                    kind,
                    user: user.to_string(),
                    count,
                });
            }));
    }
    let holding = ctx.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = holding.shutdown().cancelled() => return,
                _ = tokio::time::sleep(crate::held::RETELL_EVERY) => {}
            }
            holding.held().retell();
        }
    });
    // the traffic that passed here, every second
    let counted = ctx.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = counted.shutdown().cancelled() => return,
                _ = tokio::time::sleep(TRAFFIC_EVERY) => {}
            }
            for (session_id, bytes, last_ms) in counted.apps().untold_traffic() {
                counted.events().tell_others(Note::Traffic {
                    session_id,
                    bytes,
                    last_ms,
                });
            }
        }
    });
    let out = ctx.clone();
    tokio::spawn(async move {
        let mut notifier = None;
        while let Some(note) = rx.recv().await {
            if let Note::Mark { n } = note {
                out.events().mark_leaving(n);
            }
            let relayed = Relayed {
                from: out.replica_id().to_string(),
                note,
            };
            match serde_json::to_string(&relayed) {
                Ok(payload) if payload.len() > NOTIFY_MAX => {
                    tracing::warn!(
                        bytes = payload.len(),
                        "a note too large to send to the other replicas"
                    );
                }
                Ok(payload) => {
                    if notifier.is_none() {
                        notifier = out.store().notifier().await.ok();
                    }
                    let sent = match notifier.as_mut() {
                        Some(n) => n
                            .send(EVENTS_CHANNEL, &payload)
                            .await
                            .map_err(|e| e.to_string()),
                        None => Err("no connection to the database".to_string()),
                    };
                    if let Err(e) = sent {
                        // a new connection for the next
                        notifier = None;
                        tracing::warn!(error = %e, "could not send a note to the other replicas");
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not write a note for the other replicas")
                }
            }
            out.events().note_sent();
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
                        Ok(r) if r.from != inbound.replica_id() => heard(&inbound, r.note),
                        Ok(Relayed {
                            note: Note::Mark { n },
                            ..
                        }) => inbound.events().mark_back(n),
                        Ok(_) => {}
                        Err(e) => {
                            tracing::warn!(error = %e, "an unreadable event from another replica")
                        }
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

/// Hourly (and at start): forgets expired logins, and the kept logs of
/// sessions that ended more than `--log-retention-days` ago.
fn spawn_sweeper(ctx: Shared, stop: tokio_util::sync::CancellationToken) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            sweep(&ctx).await;
        }
    });
}

/// One sweep (see [`spawn_sweeper`]).
pub async fn sweep(ctx: &Shared) {
    let now = now_ms();
    if let Err(e) = ctx.store().delete_expired_logins(now).await {
        tracing::warn!(error = %e, "could not delete expired logins");
    }
    let days = i64::from(ctx.config().log_retention_days);
    if days > 0 {
        let before = now.saturating_sub(days.saturating_mul(86_400_000));
        match ctx.store().forget_logs_before(before).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(kernels = n, days, "forgot the logs of long-ended sessions"),
            Err(e) => tracing::warn!(error = %e, "could not forget old logs"),
        }
    }
}
