//! The apps of a session: the services its image offers (from the
//! `ai.backend.service-ports` label), its preopen ports, and the built-in
//! terminal; opening one through the server's proxy.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How an app is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum AppProtocol {
    /// A web app, proxied over HTTP (and WebSocket).
    Http,
    /// A TCP service (sshd), forwarded as raw TCP.
    Tcp,
    /// The built-in terminal (a WebSocket to a TTY in the container).
    Pty,
}

impl AppProtocol {
    /// The lowercase name (as in the service-ports label).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "http" => Some(Self::Http),
            "tcp" => Some(Self::Tcp),
            "pty" => Some(Self::Pty),
            _ => None,
        }
    }
}

/// Where an app comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum AppKind {
    /// A service of the image (started on first open).
    Service,
    /// A port the session asked to have open (the user runs the server).
    Preopen,
    /// The built-in terminal.
    Terminal,
}

/// An app as it is open now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OpenedApp {
    /// Where it is (a web app: a browser URL on a host name of its own;
    /// a TCP app: the host and port). A browser that is not signed in to
    /// the app yet enters through [`AppOpened::launch_url`].
    pub url: String,
    /// The port it is reached on (a TCP app's proxy port; a web app's is
    /// the server's own).
    pub port: u16,
    /// Anyone with the URL may use it (no login).
    pub public: bool,
}

/// One app of a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppInfo {
    /// Name (`jupyter`, `sshd`, `terminal`; a preopen port's is its number).
    pub name: String,
    /// How it is reached.
    pub protocol: AppProtocol,
    /// Where it comes from.
    pub kind: AppKind,
    /// Its port inside the container (none for the terminal).
    pub port: Option<u16>,
    /// A TCP app the proxy forwards with no login and no key: whoever
    /// reaches its port reaches the service (sshd is not one: it asks for
    /// the session's key; web apps are not: the proxy checks the login and
    /// adds the session's secret).
    #[serde(default)]
    pub unauthenticated: bool,
    /// Set while it is open.
    pub open: Option<OpenedApp>,
}

/// Traffic between users and a session through the proxy and terminal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Traffic {
    /// Bytes in both directions since the server started.
    pub bytes: u64,
    /// The last time any passed.
    pub last_activity: Option<DateTime<Utc>>,
}

/// `GET /api/v1/sessions/{id}/apps`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppList {
    /// Its apps.
    pub items: Vec<AppInfo>,
    /// Whether "open to public" may be asked for.
    pub open_to_public: bool,
    /// Whether a preferred port may be asked for, and the range it must be
    /// in (`None`: the option is off).
    pub preferred_ports: Option<(u16, u16)>,
    /// Traffic so far.
    pub traffic: Traffic,
}

/// `POST /api/v1/sessions/{id}/apps/{app}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OpenAppRequest {
    /// Let anyone with the URL in (no login).
    #[serde(default)]
    pub open_to_public: bool,
    /// Serve it on this proxy port when free (else another one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_port: Option<u16>,
}

/// How long the one-time code in [`AppOpened::launch_url`] may wait to be
/// used, in seconds.
pub const LAUNCH_CODE_SECS: u64 = 60;

/// The path on a web app's host where a launch code is exchanged for the
/// app's cookie (no app is served there).
pub const LAUNCH_PATH: &str = "/.berth/launch";

/// The answer to opening an app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppOpened {
    /// The app, now open.
    pub app: AppInfo,
    /// Whether the preferred port was used (`None` when none was asked).
    pub preferred_port_used: Option<bool>,
    /// For a web app that needs a login: the app's URL with a one-time
    /// code (good once, for [`LAUNCH_CODE_SECS`]) that signs this browser
    /// in to the app's own host. Open it, don't share it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_url: Option<String>,
    /// For sshd: the command that logs in with the session's key.
    pub ssh_command: Option<String>,
    /// For sshd: the command that opens an SFTP session.
    pub sftp_command: Option<String>,
}

/// What the terminal page sends on `GET /api/v1/sessions/{id}/terminal`
/// (a WebSocket), as text frames. The server sends the TTY's output as
/// binary frames.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum TerminalMessage {
    /// Keys typed.
    Input {
        /// The text.
        data: String,
    },
    /// The terminal's new size.
    Resize {
        /// Columns.
        cols: u16,
        /// Rows.
        rows: u16,
    },
}

/// Query of the terminal WebSocket: its first size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct TerminalQuery {
    /// Columns.
    #[serde(default = "default_cols")]
    pub cols: u16,
    /// Rows.
    #[serde(default = "default_rows")]
    pub rows: u16,
}

fn default_cols() -> u16 {
    80
}

fn default_rows() -> u16 {
    24
}
