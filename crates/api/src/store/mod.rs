//! The database: connection, migrations, and one file of queries per table
//! group. The only module that holds SQL.
//!
//! sqlx's `Any` driver runs the same statements on SQLite (embedded, the
//! default) and PostgreSQL, so the schema keeps to the types both decode
//! through `Any`: TEXT ids, BIGINT epoch-millisecond timestamps, INTEGER flags.

mod agents;
mod devices;
mod folders;
mod groups;
mod history;
pub mod json;
mod kernels;
mod lease;
mod logins;
mod meta;
mod policies;
mod presets;
mod projects;
mod session_status;
mod sessions;
mod tallies;
mod tokens;
mod users;

use std::str::FromStr;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor};

pub use agents::*;
pub use folders::*;
pub use history::*;
pub use kernels::*;
pub use lease::*;
pub use policies::*;
pub use presets::*;
pub use projects::*;
pub use session_status::*;
pub use sessions::*;
pub use tallies::*;
pub use tokens::*;
pub use users::*;

use crate::config::DatabaseArgs;

/// A failed database operation.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the row (e.g. an email already taken).
    #[error("already exists")]
    Conflict,
    /// The database could not be opened or prepared.
    #[error("cannot open the database {url}: {source}")]
    Open {
        /// The URL, without credentials.
        url: String,
        /// The cause.
        source: sqlx::Error,
    },
    /// Migrating the schema failed.
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Any other database failure.
    #[error("database error: {0}")]
    Db(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e.as_database_error() {
            Some(db) if db.is_unique_violation() => StoreError::Conflict,
            _ => StoreError::Db(e),
        }
    }
}

/// Result of a store operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// Which database the pool talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// The connection pool; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// The database's address (its own connections: the lease, the
    /// event feed).
    url: String,
}

/// Milliseconds since the Unix epoch, the unit of every stored timestamp.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Store {
    /// Opens (creating if needed) and migrates the database.
    pub async fn open(args: &DatabaseArgs) -> StoreResult<Store> {
        sqlx::any::install_default_drivers();
        private_dir(&args.data_dir).map_err(|e| StoreError::Open {
            url: args.data_dir.display().to_string(),
            source: sqlx::Error::Io(e),
        })?;
        let (url, backend) = normalise_url(&args.database_url)?;
        let open_err = |source| StoreError::Open {
            url: redact(&url),
            source,
        };
        if backend == Backend::Sqlite {
            // journal_mode persists in the file; set it once, before the pool exists.
            let mut conn = AnyConnectOptions::from_str(&url)
                .map_err(open_err)?
                .connect()
                .await
                .map_err(open_err)?;
            conn.execute("PRAGMA journal_mode=WAL")
                .await
                .map_err(open_err)?;
        }
        let pool = AnyPoolOptions::new()
            .max_connections(
                args.db_max_connections
                    .unwrap_or(if backend == Backend::Sqlite { 8 } else { 16 }),
            )
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute("PRAGMA synchronous=NORMAL").await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(open_err)?;
        sqlx::migrate!("src/store/migrations").run(&pool).await?;
        if let Some(path) = sqlite_path(&url) {
            // the database holds password hashes and every session's kept
            // output: only the server's own account reads it
            for suffix in ["", "-wal", "-shm"] {
                let mut file = path.clone().into_os_string();
                file.push(suffix);
                owner_only(std::path::Path::new(&file), 0o600);
            }
        }
        Ok(Store { pool, backend, url })
    }

    /// The pool, for the query modules.
    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Answers when the database does.
    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

/// Makes `dir` (and missing parents) and keeps it to the server's own
/// account (0700): the database, the folders and uploads live there.
pub fn private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    owner_only(dir, 0o700);
    Ok(())
}

/// Sets `mode` on a file of the server's own (a missing one is skipped; a
/// failure is logged, as the server still works).
fn owner_only(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "could not restrict permissions")
        }
    }
}

/// SQLite URLs get `mode=rwc` so a missing file is created.
fn normalise_url(url: &str) -> StoreResult<(String, Backend)> {
    if url.starts_with("sqlite:") {
        let url = if url.contains("mode=") {
            url.to_string()
        } else if url.contains('?') {
            format!("{url}&mode=rwc")
        } else {
            format!("{url}?mode=rwc")
        };
        if let Some(parent) = sqlite_path(&url).and_then(|p| p.parent().map(|p| p.to_path_buf())) {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(&parent).map_err(|e| StoreError::Open {
                    url: url.clone(),
                    source: sqlx::Error::Io(e),
                })?;
            }
        }
        Ok((url, Backend::Sqlite))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok((url.to_string(), Backend::Postgres))
    } else {
        Err(StoreError::Open {
            url: redact(url),
            source: sqlx::Error::Configuration("use a sqlite:// or postgres:// URL".into()),
        })
    }
}

fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then(|| path.into())
}

/// Hides a password in a URL before it reaches a log or an error.
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Rows for unit tests elsewhere in the crate.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::SessionRow;

    /// A RUNNING batch session holding one `cuda.device`.
    pub fn session_row() -> SessionRow {
        SessionRow {
            id: "s1".into(),
            name: "n".into(),
            owner_id: "u".into(),
            created_by: "u".into(),
            project_id: "p".into(),
            access_key: "AK".into(),
            resource_group: "default".into(),
            session_type: "batch".into(),
            image: "i".into(),
            cpu: 1.0,
            mem: 1,
            shmem: 1,
            accelerators: r#"{"cuda.device":1.0}"#.into(),
            env: "{}".into(),
            nthreads: 1,
            startup_command: None,
            starts_at: None,
            batch_timeout: None,
            designated_agent: None,
            agent: None,
            cluster_mode: "single-node".into(),
            cluster_size: 1,
            status: berth_shared::sessions::SessionStatus::Running
                .as_str()
                .into(),
            status_info: None,
            status_data: None,
            status_changed_at: 0,
            created_at: 0,
            started_at: None,
            terminated_at: None,
            allocated: 0,
            preopen_ports: "[8000]".into(),
            service_secret: None,
            image_name: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_get_create_mode() {
        assert_eq!(
            normalise_url("sqlite://x.db").unwrap().0,
            "sqlite://x.db?mode=rwc"
        );
        assert_eq!(
            normalise_url("sqlite:x.db?cache=shared").unwrap().0,
            "sqlite:x.db?cache=shared&mode=rwc"
        );
        assert_eq!(
            normalise_url("sqlite://x.db?mode=ro").unwrap().0,
            "sqlite://x.db?mode=ro"
        );
        assert!(normalise_url("mysql://x").is_err());
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(
            redact("sqlite://./data/berth.db"),
            "sqlite://./data/berth.db"
        );
    }
}
