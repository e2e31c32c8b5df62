//! The berth server as a library: `main.rs` only parses the command line and
//! calls in here, and the integration and browser tests start the very same
//! server on a random port.
//!
//! One folder per concern (see DESIGN.md §2): `http` parses and authorizes,
//! `accounts` holds the operations on users and credentials, `store` is the
//! only place with SQL, `runtime` the only place that talks to Docker.

pub mod accounts;
pub mod cli;
pub mod config;
pub mod events;
pub mod history;
pub mod http;
pub mod runtime;
pub mod scheduler;
pub mod server;
pub mod services;
pub mod sessions;
pub mod store;
