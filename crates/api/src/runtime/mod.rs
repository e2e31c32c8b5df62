//! The Docker driver: the only module that talks to a Docker engine
//! (through bollard). It connects lazily and negotiates the API version,
//! reads images, and runs, stops, watches and reads containers
//! (`containers.rs`), their output (`logs.rs`), their stats (`stats.rs`)
//! and each session's own network (`networks.rs`). It knows sessions only
//! as the ids in its labels: callers hand it a `ContainerSpec`.

mod containers;
mod engines;
mod exec;
mod images;
mod logs;
mod networks;
mod stats;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use berth_shared::health::DockerHealth;
use bollard::Docker;
use tokio::sync::OnceCell;

pub use containers::*;
pub use engines::{Engines, LOCAL};
pub use exec::{ExecLimits, ExecOutput, Tty};
pub use images::{in_registry, names_a_registry, split_reference};
pub use logs::{tail_of, LogTail, KEPT_LOG_BYTES};
pub use networks::{free_subnet, network_name, SESSION_PREFIX};
pub use stats::{usage_of, Usage};

/// Seconds bollard waits for one engine request.
const REQUEST_TIMEOUT_SECS: u64 = 120;
/// How long a health probe waits for the engine.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// Why an engine operation failed.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The engine does not answer (not running, wrong address).
    #[error("the Docker engine at {host} does not answer: {reason}")]
    Unreachable {
        /// Configured address.
        host: String,
        /// What happened.
        reason: String,
    },
    /// No such image on the engine.
    #[error("image {0} is not on the engine")]
    ImageNotFound(String),
    /// No such container on the engine.
    #[error("container {0} is not on the engine")]
    ContainerNotFound(String),
    /// Every subnet of the session network pool is taken.
    #[error("no free subnet for the session's network: all of {pool} is in use ({in_use} networks); widen --session-subnets")]
    NoSubnet {
        /// The configured pool.
        pool: String,
        /// Networks using it.
        in_use: usize,
    },
    /// A command the server ran in a container printed more than it reads.
    #[error("the command printed more than {0} bytes, the most the server reads")]
    ExecOutputTooLarge(usize),
    /// A command the server ran in a container did not end in time.
    #[error("the command did not end within {0} s")]
    ExecTimedOut(u64),
    /// The engine refused or failed a request.
    #[error("Docker engine error: {0}")]
    Engine(#[from] bollard::errors::Error),
    /// A push to or a pull from the image registry failed (the engine's
    /// words).
    #[error("the image registry: {0}")]
    Registry(String),
}

impl RuntimeError {
    /// The engine could not be reached (or did not answer in time), as
    /// opposed to an engine that answered with an error: "cannot tell now".
    pub fn is_unreachable(&self) -> bool {
        use bollard::errors::Error as E;
        match self {
            RuntimeError::Unreachable { .. } => true,
            RuntimeError::Engine(e) => matches!(
                e,
                E::IOError { .. }
                    | E::HyperLegacyError { .. }
                    | E::RequestTimeoutError
                    | E::SocketNotFoundError(_)
            ),
            _ => false,
        }
    }
}

/// An image as the server cares about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    /// Image id (`sha256:…`).
    pub id: String,
    /// Its `repo:tag` names.
    pub tags: Vec<String>,
    /// All its labels.
    pub labels: HashMap<String, String>,
    /// Bytes (unpacked), as the engine reports them.
    pub size: u64,
}

/// A lazily connected, version-negotiated client of one engine. The server
/// starts even when the engine is down and connects on first use.
#[derive(Debug)]
pub struct Runtime {
    host: String,
    /// Docker's TLS folder (`ca.pem`, `cert.pem`, `key.pem`) for `tcp://`.
    tls: Option<PathBuf>,
    /// No engine: every call answers "unreachable" (an agent not registered).
    absent: bool,
    client: OnceCell<Docker>,
}

/// The files of a Docker TLS folder, as `DOCKER_CERT_PATH` holds them.
pub const TLS_FILES: [&str; 3] = ["ca.pem", "cert.pem", "key.pem"];

impl Runtime {
    /// A runtime for the engine at `host` (`unix:///…` or `tcp://…`).
    pub fn new(host: impl Into<String>) -> Self {
        Self {
            host: host.into(),
            tls: None,
            absent: false,
            client: OnceCell::new(),
        }
    }

    /// A runtime for a `tcp://` engine that wants TLS client certificates:
    /// `dir` holds `ca.pem`, `cert.pem` and `key.pem`.
    pub fn with_tls(host: impl Into<String>, dir: impl Into<PathBuf>) -> Self {
        Self {
            tls: Some(dir.into()),
            ..Self::new(host)
        }
    }

    /// A runtime with no engine behind it, named `what`: for an agent that
    /// is not (or no longer) registered. Every call is "unreachable".
    pub fn absent(what: impl Into<String>) -> Self {
        Self {
            absent: true,
            ..Self::new(what)
        }
    }

    /// The configured engine address.
    pub fn host(&self) -> &str {
        &self.host
    }

    fn unreachable(&self, reason: impl ToString) -> RuntimeError {
        RuntimeError::Unreachable {
            host: self.host.clone(),
            reason: reason.to_string(),
        }
    }

    /// The connected client. bollard speaks a newer API than Docker 20.10
    /// by default, so the version is negotiated before first use.
    pub async fn client(&self) -> Result<&Docker, RuntimeError> {
        self.client
            .get_or_try_init(|| async {
                if self.absent {
                    return Err(self.unreachable("no such agent is registered"));
                }
                let docker = if let Some(dir) = &self.tls {
                    Docker::connect_with_ssl(
                        &self.host,
                        &dir.join("key.pem"),
                        &dir.join("cert.pem"),
                        &dir.join("ca.pem"),
                        REQUEST_TIMEOUT_SECS,
                        bollard::API_DEFAULT_VERSION,
                    )
                } else if self.host.starts_with("unix://") || self.host.starts_with('/') {
                    Docker::connect_with_unix(
                        &self.host,
                        REQUEST_TIMEOUT_SECS,
                        bollard::API_DEFAULT_VERSION,
                    )
                } else {
                    Docker::connect_with_http(
                        &self.host,
                        REQUEST_TIMEOUT_SECS,
                        bollard::API_DEFAULT_VERSION,
                    )
                }
                .map_err(|e| self.unreachable(e))?;
                tokio::time::timeout(PROBE_TIMEOUT, docker.negotiate_version())
                    .await
                    .map_err(|_| self.unreachable("timed out"))?
                    .map_err(|e| self.unreachable(e))
            })
            .await
    }

    /// Whether the engine answers, with its versions.
    pub async fn health(&self) -> DockerHealth {
        let down = |e: RuntimeError| DockerHealth {
            ok: false,
            api_version: None,
            engine_version: None,
            error: Some(e.to_string()),
        };
        let docker = match self.client().await {
            Ok(d) => d,
            Err(e) => return down(e),
        };
        match tokio::time::timeout(PROBE_TIMEOUT, docker.version()).await {
            Ok(Ok(v)) => DockerHealth {
                ok: true,
                api_version: Some(docker.client_version().to_string()),
                engine_version: v.version,
                error: None,
            },
            Ok(Err(e)) => down(self.unreachable(e)),
            Err(_) => down(self.unreachable("timed out")),
        }
    }

    /// Reads one image by reference (`name:tag` or id).
    pub async fn inspect_image(&self, reference: &str) -> Result<ImageInfo, RuntimeError> {
        let docker = self.client().await?;
        match docker.inspect_image(reference).await {
            Ok(img) => Ok(ImageInfo {
                id: img.id.unwrap_or_default(),
                tags: img.repo_tags.unwrap_or_default(),
                labels: img.config.and_then(|c| c.labels).unwrap_or_default(),
                size: img.size.unwrap_or(0).max(0) as u64,
            }),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Err(RuntimeError::ImageNotFound(reference.to_string())),
            Err(e) => Err(e.into()),
        }
    }
}
