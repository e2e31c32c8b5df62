//! The session launcher wizard.

pub mod state;
