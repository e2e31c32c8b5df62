//! Reusable widgets, one file each.

pub mod dialog;
pub mod field;
pub mod history;
pub mod notifications;
pub mod session_actions;
pub mod session_detail;
pub mod shell;
pub mod status;
