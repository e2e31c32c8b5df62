//! Compute sessions: the status machine, what a client asks (the create
//! body and the rules every field must satisfy, shared by the launcher and
//! the server), and the session as the API shows it.

mod checks;
mod idle;
pub mod limits;
mod ports;
mod request;
mod status;
mod view;

use serde::{Deserialize, Serialize};

pub use checks::*;
pub use idle::*;
pub use ports::*;
pub use request::*;
pub use status::*;
pub use view::*;

/// Interactive sessions live until someone ends them; batch sessions run a
/// command and end with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SessionType {
    /// Used through apps and a terminal.
    #[default]
    Interactive,
    /// Runs `startup_command`.
    Batch,
}

impl SessionType {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionType::Interactive => "interactive",
            SessionType::Batch => "batch",
        }
    }
    /// Parses the lowercase name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "interactive" => Some(Self::Interactive),
            "batch" => Some(Self::Batch),
            _ => None,
        }
    }
}
