//! Test support shared by the API suites (`crates/api/tests`) and the
//! browser suites (`e2e/`): a real berth server per test on a random port,
//! with its own data dir and database (SQLite, or a throwaway PostgreSQL
//! database when `BERTH_TEST_POSTGRES` is set), the real Docker engine, and
//! logged-in clients per role. Dropping the server stops it and removes
//! every container it labelled, also when the test failed.

mod client;
mod docker;
mod dockerd;
mod engine;
mod engine_proxy;
mod process;
mod registry;
mod remote;
mod server;

pub use client::{events_until, field_errors, problem, replicas, Api};
pub use docker::{container_ip, containers_of, docker, networks_settle, remove_containers};
pub use engine::PrivateEngine;
pub use engine_proxy::EngineProxy;
pub use process::ServerProcess;
pub use registry::Registry;
pub use remote::{RemoteHost, REMOTE_TLS_PORT};
pub use server::{postgres_database, TestServer};

/// The first superadmin of every test server.
pub const ADMIN_EMAIL: &str = "root@test.berth";
/// Its password.
pub const ADMIN_PASSWORD: &str = "root-password-1";
/// The password of users made by [`TestServer::new_user`].
pub const USER_PASSWORD: &str = "user-password-1";

/// Where `make setup` puts the tools the tests use (npm packages, the
/// Python venvs): `BERTH_TOOLS_DIR`, default `~/.cache/berth-tools`.
pub fn tools_dir() -> std::path::PathBuf {
    std::env::var_os("BERTH_TOOLS_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/berth-tools")
        })
}
