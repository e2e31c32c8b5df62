//! Types and input rules shared by the berth server (`berth-api`) and its
//! browser client (`berth-frontend`).
//!
//! This crate is the single source of truth for every request and response
//! body and for every rule an input must satisfy, so the launcher wizard and
//! the server can never disagree about what is valid. It does no I/O and
//! compiles for both `wasm32-unknown-unknown` and native targets.

pub mod agents;
pub mod apps;
pub mod auth;
pub mod bytes;
pub mod compat;
pub mod folders;
pub mod health;
pub mod history;
pub mod images;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod problem;
pub mod resources;
pub mod sessions;
pub mod ui;
pub mod users;
pub mod validate;

pub use problem::{FieldError, Problem};
