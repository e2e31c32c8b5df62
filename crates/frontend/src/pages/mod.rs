//! One file per page.

pub mod agents;
pub mod data;
pub mod groups;
pub mod launch;
pub mod login;
pub mod not_found;
pub mod sessions;
