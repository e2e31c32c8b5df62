//! A stand-in for an engine outage: a unix socket that forwards to the
//! real Docker engine and can be cut and restored. Cutting it makes the
//! engine unreachable for one test server only (a real `dockerd` stop
//! would take every parallel test down with it); the containers keep
//! running behind it, as with an engine restarted with live-restore.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::net::{UnixListener, UnixStream};
use tokio::task::AbortHandle;

const ENGINE: &str = "/var/run/docker.sock";

/// A cuttable path to the engine.
pub struct EngineProxy {
    dir: tempfile::TempDir,
    tasks: Arc<Mutex<Vec<AbortHandle>>>,
}

impl EngineProxy {
    /// A proxy, forwarding.
    pub fn start() -> Self {
        let p = EngineProxy {
            dir: tempfile::tempdir().expect("temp dir"),
            tasks: Arc::default(),
        };
        p.restore();
        p
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("docker.sock")
    }

    /// `unix://…`, for `Config::docker_host`.
    pub fn host(&self) -> String {
        format!("unix://{}", self.path().display())
    }

    /// Cuts every connection and stops answering.
    pub fn cut(&self) {
        for t in self
            .tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
        {
            t.abort();
        }
        let _ = std::fs::remove_file(self.path());
    }

    /// Forwards again.
    pub fn restore(&self) {
        let listener = UnixListener::bind(self.path()).expect("bind the proxy socket");
        let tasks = self.tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let conn = tokio::spawn(async move {
                    if let Ok(mut engine) = UnixStream::connect(ENGINE).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut engine).await;
                    }
                });
                tasks
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(conn.abort_handle());
            }
        });
        self.tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(accept.abort_handle());
    }
}

impl Drop for EngineProxy {
    fn drop(&mut self) {
        self.cut();
    }
}
