//! The server's integration tests: real servers on random ports against
//! real SQLite files (or PostgreSQL databases) and the real Docker engine.
//! One binary, so the suites link once; each module is a suite, and
//! `scripts/test.sh` runs them with cargo-nextest (a process per test).

mod agents;
mod apps;
mod architecture;
mod auth;
mod authorization;
mod backendai;
mod capacity;
mod clusters;
mod database;
mod docker;
mod events;
mod folders;
mod hardening;
mod health_and_cli;
mod history;
mod idle;
mod images;
mod metrics;
mod openapi;
mod process;
mod reconcile;
mod remote;
mod replicas;
mod resource_groups;
mod sessions;
mod tenants;
mod ui_assets;
mod users;
