//! One file per page.

pub mod data;
pub mod launch;
pub mod login;
pub mod not_found;
pub mod sessions;
