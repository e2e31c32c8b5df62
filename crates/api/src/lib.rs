//! The berth server as a library: `main.rs` only parses the command line and
//! calls in here, and the integration and browser tests start the very same
//! server on a random port. ARCHITECTURE.md at the repo root is the map.
//!
//! One module per concern:
//! - `cli`, `config`, `server`, `services`: the command line, the settings,
//!   start and stop, and the parts every request and task shares;
//! - `http`: routes, extractors and the problem+json error; handlers parse,
//!   authorize and call one operation;
//! - `accounts`, `sessions`, `folders`, `resources`, `environments`,
//!   `history`: the operations (users and credentials; sessions and their
//!   status machine; storage folders and the files in them; agents, groups,
//!   presets, policies; environment images; the launcher history);
//! - `images`: customized images (a session saved as an image);
//! - `apps`: a session's apps and the proxy that serves them on ports of a
//!   pool;
//! - `scheduler`: the pure decision core and the loop that feeds it;
//! - `idle`: the idle rules (pure) and the task that samples running
//!   sessions, reports, warns and ends idle ones;
//! - `events`: the in-process bus behind the SSE stream;
//! - `facade`: the reference platform's API (its client's calls) at
//!   `/backend.ai`, translated into the same operations;
//! - `bounded`: reads of files the server does not size, with a cap;
//! - `store`: the only module with SQL; `runtime`: the only one that talks
//!   to a Docker engine.

pub mod accounts;
pub mod apps;
pub mod bounded;
pub mod cli;
pub mod config;
pub mod environments;
pub mod events;
pub mod facade;
pub mod folders;
pub mod held;
pub mod history;
pub mod http;
pub mod idle;
pub mod images;
pub mod metrics;
pub mod origin;
pub mod replicas;
pub mod resources;
pub mod runtime;
pub mod scheduler;
pub mod server;
pub mod services;
pub mod sessions;
pub mod store;
