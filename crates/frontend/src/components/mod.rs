//! Reusable widgets, one file each.

pub mod dialog;
pub mod field;
pub mod history;
pub mod shell;
