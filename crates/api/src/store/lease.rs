//! Replicas on one PostgreSQL: the lease on the background work (the
//! scheduler, reconciliation, agent liveness, idle checks) and the feed
//! that carries session events from one replica to the others.
//!
//! The lease is a session-level advisory lock on a connection of its
//! own: PostgreSQL lets one connection hold it, and lets it go the moment
//! that connection ends, so a replica killed with `kill -9` hands it over
//! as soon as its socket closes, with no expiry to wait out and no clock
//! to trust. SQLite is one process's database: there the lease is
//! always this process's.

use sqlx::postgres::{PgConnection, PgListener};
use sqlx::Connection;

use super::{Backend, Store, StoreResult};

/// The advisory lock's key ("berth" in ASCII, then 1: the scheduler).
const LEASE_KEY: i64 = 0x6265_7274_6801;

/// The channel replicas' session events travel on.
pub const EVENTS_CHANNEL: &str = "berth_events";

/// PostgreSQL's limit on a notification's payload, less a margin.
pub const NOTIFY_MAX: usize = 7_900;

/// Sends notes on a connection of its own ([`Store::notifier`]).
#[derive(Debug)]
pub struct Notifier(PgConnection);

impl Notifier {
    /// Sends `payload` on `channel` to every replica listening.
    pub async fn send(&mut self, channel: &str, payload: &str) -> StoreResult<()> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(channel)
            .bind(payload)
            .execute(&mut self.0)
            .await?;
        Ok(())
    }
}

/// The background work's lease, while this process holds it.
#[derive(Debug)]
pub enum Lease {
    /// SQLite: the only process.
    Sole,
    /// PostgreSQL: the connection holding the advisory lock.
    Held(Box<PgConnection>),
}

impl Lease {
    /// Whether it is still held (its connection answers); a lost
    /// connection let the lock go.
    pub async fn held(&mut self) -> bool {
        match self {
            Lease::Sole => true,
            Lease::Held(conn) => sqlx::query("SELECT 1").execute(conn.as_mut()).await.is_ok(),
        }
    }
}

impl Store {
    /// Takes the lease if no other replica holds it.
    pub async fn try_lease(&self) -> StoreResult<Option<Lease>> {
        if self.backend == Backend::Sqlite {
            return Ok(Some(Lease::Sole));
        }
        let mut conn = PgConnection::connect(&self.url).await?;
        let (got,): (bool,) = sqlx::query_as("SELECT pg_try_advisory_lock($1)")
            .bind(LEASE_KEY)
            .fetch_one(&mut conn)
            .await?;
        if got {
            Ok(Some(Lease::Held(Box::new(conn))))
        } else {
            let _ = conn.close().await;
            Ok(None)
        }
    }

    /// Whether other replicas may share this database (PostgreSQL).
    pub fn shared(&self) -> bool {
        self.backend == Backend::Postgres
    }

    /// A connection of its own that sends notes to every replica
    /// listening (PostgreSQL only): a busy pool never holds a note up.
    pub async fn notifier(&self) -> StoreResult<Notifier> {
        Ok(Notifier(PgConnection::connect(&self.url).await?))
    }

    /// A connection listening on `channel` (PostgreSQL only).
    pub async fn listen(&self, channel: &str) -> StoreResult<PgListener> {
        let mut listener = PgListener::connect(&self.url).await?;
        listener.listen(channel).await?;
        Ok(listener)
    }
}
