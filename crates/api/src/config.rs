//! Server settings: command-line flags with `BERTH_*` environment variables
//! as fallbacks. The names are an interface (DESIGN.md §11): extend, don't
//! rename.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

/// Where the database lives.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Database URL: `sqlite://PATH` (embedded, the default) or `postgres://…`.
    #[arg(
        long,
        env = "BERTH_DATABASE_URL",
        default_value = "sqlite://./data/berth.db"
    )]
    pub database_url: String,
    /// Directory for the server's own files (database, storage folders).
    #[arg(long, env = "BERTH_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
}

/// Everything `berth serve` needs.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "BERTH_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Docker engine of the local agent: `unix:///path` or `tcp://host:port`.
    #[arg(
        long,
        env = "BERTH_DOCKER_HOST",
        default_value = "unix:///var/run/docker.sock"
    )]
    pub docker_host: String,
    /// Directory holding the built web UI (Trunk's `dist/`).
    #[arg(long, env = "BERTH_STATIC_DIR", default_value = "./dist")]
    pub static_dir: PathBuf,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "BERTH_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
    /// How long a browser login lasts, in hours.
    #[arg(long, env = "BERTH_LOGIN_TTL_HOURS", default_value_t = 12)]
    pub login_ttl_hours: u32,
    /// Email of the first superadmin, created when no superadmin exists.
    #[arg(long, env = "BERTH_ADMIN_EMAIL", default_value = "admin@berth.local")]
    pub admin_email: String,
    /// Password of the first superadmin; generated and printed once if unset.
    #[arg(long, env = "BERTH_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
}

impl Config {
    /// Settings for a server on `listen` whose files all live under `data_dir`
    /// (used by tests and embedders; the CLI fills the same struct).
    pub fn for_data_dir(data_dir: impl Into<PathBuf>, listen: SocketAddr) -> Self {
        let data_dir = data_dir.into();
        Self {
            listen,
            db: DatabaseArgs {
                database_url: format!("sqlite://{}", data_dir.join("berth.db").display()),
                data_dir: data_dir.clone(),
            },
            docker_host: "unix:///var/run/docker.sock".into(),
            static_dir: data_dir.join("dist"),
            max_body_bytes: 1024 * 1024,
            login_ttl_hours: 12,
            admin_email: "admin@berth.local".into(),
            admin_password: None,
        }
    }
}
