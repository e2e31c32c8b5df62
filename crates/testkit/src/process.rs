//! The real `berth serve` binary as a child process, for what an
//! in-process server cannot show: signals (SIGTERM, kill -9), the printed
//! first password, flags and environment variables. SQLite in its data
//! dir, unless started on a database (replicas on one PostgreSQL).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::process::{Child, Command};

use crate::client::Api;
use crate::docker::remove_containers;
use crate::{ADMIN_EMAIL, ADMIN_PASSWORD};

/// A `berth serve` process on a free port with its own data dir.
pub struct ServerProcess {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Its data dir (the SQLite file and its output log live here).
    pub dir: tempfile::TempDir,
    bin: PathBuf,
    addr: SocketAddr,
    args: Vec<String>,
    env: Vec<(String, String)>,
    child: Option<Child>,
    instance: Option<String>,
    starts: u32,
    /// The database it runs on, when not its own SQLite file.
    database: Option<String>,
}

impl ServerProcess {
    /// Starts `bin serve` (pass `env!("CARGO_BIN_EXE_berth")`) with the
    /// test admin's password and `args`, and waits until it answers.
    pub async fn start(bin: &str, args: &[&str]) -> Self {
        Self::start_with_env(bin, args, &[("BERTH_ADMIN_PASSWORD", ADMIN_PASSWORD)]).await
    }

    /// Like [`ServerProcess::start`] with these environment variables
    /// instead of the admin password.
    pub async fn start_with_env(bin: &str, args: &[&str], env: &[(&str, &str)]) -> Self {
        Self::start_full(bin, args, env, None).await
    }

    /// Like [`ServerProcess::start`] on `database` (a replica of the
    /// servers sharing it).
    pub async fn start_on(bin: &str, args: &[&str], database: &str) -> Self {
        Self::start_full(
            bin,
            args,
            &[("BERTH_ADMIN_PASSWORD", ADMIN_PASSWORD)],
            Some(database.to_string()),
        )
        .await
    }

    async fn start_full(
        bin: &str,
        args: &[&str],
        env: &[(&str, &str)],
        database: Option<String>,
    ) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let addr = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            l.local_addr().expect("addr")
        };
        let mut p = ServerProcess {
            base: format!("http://{addr}"),
            dir,
            bin: bin.into(),
            addr,
            args: args.iter().map(|s| s.to_string()).collect(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            child: None,
            instance: None,
            starts: 0,
            database,
        };
        p.start_again().await;
        p
    }

    /// Starts the binary again on the same port and data dir (after it
    /// exited or was killed) and waits until it answers.
    pub async fn start_again(&mut self) {
        assert!(self.child.is_none(), "the previous process still runs");
        self.starts += 1;
        let log = std::fs::File::create(self.log_path()).expect("log file");
        let child = Command::new(&self.bin)
            .arg("serve")
            .args(["--listen", &self.addr.to_string()])
            .args(["--data-dir", &self.dir.path().display().to_string()])
            .args(["--admin-email", ADMIN_EMAIL])
            .args(["--scheduler-tick-ms", "200", "--stop-grace-secs", "2"])
            .args(&self.args)
            .env_remove("BERTH_ADMIN_PASSWORD")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("BERTH_DATABASE_URL", self.database_url())
            .env("RUST_LOG", "info")
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("berth starts");
        self.child = Some(child);
        for _ in 0..600 {
            if let Ok(r) = reqwest::get(format!("{}/healthz", self.base)).await {
                if r.status().is_success() {
                    let instance = self.read_instance().await;
                    eprintln!("berth test instance {instance}");
                    self.instance = Some(instance);
                    return;
                }
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("berth exited with {status} at start:\n{}", self.output());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("berth never answered:\n{}", self.output());
    }

    fn database_url(&self) -> String {
        match &self.database {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.dir.path().join("berth.db").display()),
        }
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join(format!("berth-{}.log", self.starts))
    }

    /// What the current (or last) process printed.
    pub fn output(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    async fn read_instance(&self) -> String {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&self.database_url())
            .await
            .expect("its database opens");
        let (v,): (String,) =
            sqlx::query_as("SELECT value FROM server_meta WHERE key = 'instance_id'")
                .fetch_one(&mut conn)
                .await
                .expect("its instance id");
        v
    }

    /// The first column of `sql`'s rows, read from its database behind its
    /// back (also while it is stopped: SQLite's WAL lets a reader in).
    pub async fn sql_strings(&self, sql: &str) -> Vec<String> {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&self.database_url())
            .await
            .expect("its database opens");
        let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_all(&mut conn)
            .await
            .expect("the query runs");
        rows.into_iter().map(|(v,)| v).collect()
    }

    /// The instance id labelling its containers.
    pub fn instance(&self) -> String {
        self.instance.clone().expect("started once")
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child
            .as_ref()
            .and_then(Child::id)
            .expect("a running process")
    }

    /// Sends `signal` (`TERM`, `KILL`, …) to it.
    pub async fn signal(&self, signal: &str) {
        let ok = Command::new("kill")
            .args(["-s", signal, &self.pid().to_string()])
            .status()
            .await
            .expect("kill runs");
        assert!(ok.success(), "kill -s {signal} failed");
    }

    /// Waits for it to exit, at most `bound` (a bound against hangs, not a
    /// timed assertion); `None` when it still runs.
    pub async fn wait_exit(&mut self, bound: Duration) -> Option<ExitStatus> {
        let child = self.child.as_mut().expect("a process");
        let status = tokio::time::timeout(bound, child.wait()).await.ok()?;
        self.child = None;
        Some(status.expect("wait"))
    }

    /// Whether it holds the scheduler's lease (its `/healthz`, as an
    /// admin, says); `None` when it does not answer.
    pub async fn schedules(&self) -> Option<bool> {
        let c = self.client();
        let res = c
            .http()
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&serde_json::json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
            .send()
            .await
            .ok()?;
        if !res.status().is_success() {
            return None;
        }
        let health: serde_json::Value = c
            .http()
            .get(format!("{}/healthz", self.base))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        health["scheduler"].as_bool()
    }

    /// A client, not signed in.
    pub fn client(&self) -> Api {
        Api::new(&self.base)
    }

    /// The first superadmin, signed in.
    pub async fn admin(&self) -> Api {
        let c = self.client();
        let res = c.try_login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert!(res.status().is_success(), "admin login");
        c
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Some(c) = self.child.as_mut() {
            let _ = c.start_kill();
        }
        if let Some(i) = &self.instance {
            remove_containers(i, true);
        }
    }
}
