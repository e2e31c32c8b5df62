//! One `dockerd` process of a test (a private engine's, a remote host's):
//! started with its output in a log file and waited for until it answers
//! on its unix socket, its containers removed, and stopped (SIGTERM, then
//! killed after 30 s).

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

/// A test's `dockerd`.
pub(crate) struct Dockerd {
    child: Mutex<Option<std::process::Child>>,
    /// `unix://…`: what the test's own `docker` calls use.
    pub(crate) socket: String,
    log: PathBuf,
}

impl Dockerd {
    pub(crate) fn new(socket: String, log: PathBuf) -> Self {
        Self {
            child: Mutex::new(None),
            socket,
            log,
        }
    }

    fn child(&self) -> std::sync::MutexGuard<'_, Option<std::process::Child>> {
        self.child.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `program args` (dockerd, or a wrapper that execs it) and waits
    /// until the engine answers; panics with its log otherwise.
    pub(crate) async fn spawn(&self, program: &str, args: &[String]) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log file");
        let child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("dockerd starts");
        *self.child() = Some(child);
        for _ in 0..300 {
            if self.answers() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "the test's dockerd did not come up: {}",
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
    }

    /// Whether the engine answers on its socket.
    pub(crate) fn answers(&self) -> bool {
        Command::new("docker")
            .args(["-H", &self.socket, "info"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Removes every container on the engine (never panics: it may run
    /// while a test fails).
    pub(crate) fn remove_containers(&self) {
        if !self.answers() {
            return;
        }
        let ids = Command::new("docker")
            .args(["-H", &self.socket, "ps", "-aq"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
            .unwrap_or_default();
        for id in ids.split_whitespace() {
            let _ = Command::new("docker")
                .args(["-H", &self.socket, "rm", "-f", id])
                .output();
        }
    }

    /// Asks dockerd to stop (SIGTERM) and reaps it; killed after 30 s.
    pub(crate) fn end(&self) {
        let Some(mut child) = self.child().take() else {
            return;
        };
        let _ = Command::new("kill").arg(child.id().to_string()).status();
        for _ in 0..600 {
            if matches!(child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}
