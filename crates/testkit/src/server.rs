//! A real server for one test.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use berth_api::config::Config;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::client::{replicas, Api};
use crate::docker::remove_containers;
use crate::{ADMIN_EMAIL, ADMIN_PASSWORD, USER_PASSWORD};

/// A berth server on a random port with its own data dir and database.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its data dir (the SQLite file lives here).
    pub dir: tempfile::TempDir,
    /// Its parts (instance id, store, shutdown); with a replica pair, the
    /// first replica's.
    pub ctx: berth_api::services::Shared,
    /// With a replica pair (`BERTH_TEST_REPLICAS=2`): the second replica's
    /// parts, and the balancer in front of both.
    pair: Option<Pair>,
    config: Config,
    keep_containers: bool,
    stop: Option<oneshot::Sender<()>>,
}

/// The workspace root.
fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

impl TestServer {
    /// A server with the default test settings.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// A server with the default test settings serving the built web UI.
    pub async fn start_ui() -> Self {
        Self::start_with_ui(|_| {}).await
    }

    /// A server serving the built web UI (`dist/`), for browser tests.
    /// Panics, saying what to do, when the UI has not been built.
    pub async fn start_with_ui(tweak: impl FnOnce(&mut Config)) -> Self {
        let dist = workspace().join("dist");
        assert!(
            dist.join("index.html").exists(),
            "no built UI in {}: run `make setup` (trunk build --release) first",
            dist.display()
        );
        Self::start_with(move |c| {
            c.static_dir = dist;
            tweak(c);
        })
        .await
    }

    /// Starts a server after `tweak` adjusts its settings.
    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut config = Config::for_data_dir(dir.path(), addr);
        config.admin_email = ADMIN_EMAIL.into();
        config.admin_password = Some(ADMIN_PASSWORD.into());
        config.scheduler_tick_ms = 200;
        config.stop_grace_secs = 2;
        if let Some(url) = postgres_database().await {
            config.db.database_url = url;
            // many servers run at once against one PostgreSQL (max_connections
            // 100); a replica pair's each hold three more (lease, listener,
            // notifier)
            config.db.db_max_connections = Some(if replicas() > 1 { 3 } else { 4 });
        }
        tweak(&mut config);
        Self::boot(dir, listener, config).await
    }

    async fn boot(dir: tempfile::TempDir, listener: TcpListener, config: Config) -> Self {
        let addr = listener.local_addr().expect("addr");
        let paired = replicas() == 2 && config.db.database_url.starts_with("postgres");
        let (listener, pair) = if paired {
            // two replicas on the database, and a balancer on the address the
            // test knows that hands each connection to the next replica
            let first = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let second = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let backends = [
                first.local_addr().expect("addr"),
                second.local_addr().expect("addr"),
            ];
            let balancer = tokio::spawn(balance(listener, backends));
            (first, Some((second, balancer, backends)))
        } else {
            (listener, None)
        };
        let app = berth_api::server::build(config.clone())
            .await
            .expect("server builds");
        // names this test's instance in its output (kept in the run's JUnit
        // report): what a killed test leaves on the engine is traced to it
        eprintln!("berth test instance {}", app.ctx.instance());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(berth_api::server::serve(listener, app.router, async move {
            let _ = stopped.await;
        }));
        let pair = match pair {
            Some((second, balancer, backends)) => {
                let twin = berth_api::server::build(config.clone())
                    .await
                    .expect("the second replica builds");
                let (twin_stop, twin_stopped) = oneshot::channel::<()>();
                tokio::spawn(berth_api::server::serve(second, twin.router, async move {
                    let _ = twin_stopped.await;
                }));
                Some(Pair {
                    ctx: twin.ctx,
                    bases: backends.map(|a| format!("http://{a}")),
                    stop: Some(twin_stop),
                    balancer,
                })
            }
            None => None,
        };
        TestServer {
            base: format!("http://{addr}"),
            addr,
            dir,
            ctx: app.ctx,
            pair,
            config,
            keep_containers: false,
            stop: Some(stop),
        }
    }

    /// Each replica's own address, the one holding the scheduler's lease
    /// first (the balancer's, with one replica): per-replica things, such
    /// as `/metrics`, are read from each.
    pub fn replica_bases(&self) -> Vec<String> {
        match &self.pair {
            None => vec![self.base.clone()],
            Some(p) if p.ctx.leading() => vec![p.bases[1].clone(), p.bases[0].clone()],
            Some(p) => p.bases.to_vec(),
        }
    }

    /// Every replica's parts (one, or two with `BERTH_TEST_REPLICAS=2`).
    pub fn replicas(&self) -> Vec<&berth_api::services::Shared> {
        let mut all = vec![&self.ctx];
        all.extend(self.pair.as_ref().map(|p| &p.ctx));
        all
    }

    /// Stops this server (its event streams end, its containers stay) and
    /// starts a new one on the same port, data dir and database, as after a
    /// crash or an upgrade.
    pub async fn restart(mut self) -> Self {
        self.halt();
        let placeholder = tempfile::tempdir().expect("temp dir");
        let data = std::mem::replace(&mut self.dir, placeholder);
        let config = self.config.clone();
        let mut listener = None;
        for _ in 0..50 {
            match TcpListener::bind(self.addr).await {
                Ok(l) => {
                    listener = Some(l);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        let listener = listener.expect("rebind the same port");
        // the new server takes the containers over
        self.keep_containers = true;
        Self::boot(data, listener, config).await
    }

    fn halt(&mut self) {
        self.ctx.shutdown().cancel();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(pair) = &mut self.pair {
            pair.balancer.abort();
            pair.ctx.shutdown().cancel();
            if let Some(stop) = pair.stop.take() {
                let _ = stop.send(());
            }
        }
    }

    /// Its settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The instance id labelling this server's containers.
    pub fn instance(&self) -> String {
        self.ctx.instance().to_string()
    }

    /// Runs one SQL statement on this server's database behind its back,
    /// binding `args` as text (for tests of what it makes of data it did
    /// not write); the rows it changed.
    pub async fn execute_sql(&self, sql: &str, args: &[&str]) -> u64 {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&self.config.db.database_url)
            .await
            .expect("the test database answers");
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()));
        for a in args {
            q = q.bind(*a);
        }
        q.execute(&mut conn).await.expect(sql).rows_affected()
    }

    /// An absolute URL on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A client with its own cookie jar, not signed in.
    pub fn client(&self) -> Api {
        Api::new(&self.base)
    }

    /// A client that sends `headers` with every request (an API token, a
    /// forged cookie) instead of signing in.
    pub fn client_with(&self, headers: &[(&'static str, &str)]) -> Api {
        Api::with_headers(&self.base, headers)
    }

    /// A client that sends `Authorization: Bearer <token>`.
    pub fn token_client(&self, token: &str) -> Api {
        self.client_with(&[("authorization", &format!("Bearer {token}"))])
    }

    /// A client signed in as `email` (asserting that the login works).
    pub async fn login(&self, email: &str, password: &str) -> Api {
        let c = self.client();
        let res = c.try_login(email, password).await;
        assert!(res.status().is_success(), "login of {email} failed");
        c
    }

    /// The first superadmin, signed in.
    pub async fn admin(&self) -> Api {
        self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await
    }

    /// Creates an account (full name "Test User") through the admin API
    /// as `admin`; the user's JSON.
    pub async fn create_user(&self, admin: &Api, email: &str, password: &str, role: &str) -> Value {
        let res = admin
            .post(
                "/api/v1/users",
                &json!({"email": email, "password": password, "full_name": "Test User", "role": role}),
            )
            .await;
        assert_eq!(res.status(), 201, "creating {email}");
        res.json().await.expect("user json")
    }

    /// A new account with `role` (`user`, `admin`), made by the superadmin
    /// with [`USER_PASSWORD`], signed in; and its JSON.
    pub async fn new_user(&self, email: &str, role: &str) -> (Api, Value) {
        let admin = self.admin().await;
        let user = self.create_user(&admin, email, USER_PASSWORD, role).await;
        (self.login(email, USER_PASSWORD).await, user)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.halt();
        if !self.keep_containers {
            let in_flight = self.replicas().iter().any(|ctx| {
                ctx.tasks().any(berth_api::sessions::Task::Launching) || ctx.commits().any()
            });
            remove_containers(&self.instance(), in_flight);
        }
    }
}

/// The second replica of a pair, and the balancer in front of both.
struct Pair {
    ctx: berth_api::services::Shared,
    /// `http://` addresses of the first replica and this one.
    bases: [String; 2],
    stop: Option<oneshot::Sender<()>>,
    balancer: tokio::task::JoinHandle<()>,
}

/// A TCP balancer: each accepted connection goes to the next backend in
/// turn, bytes copied each way on its own. A backend that answers before
/// it read the whole request (413) and closes still has its answer
/// delivered: what the client goes on sending is read and dropped until
/// the answer is through.
async fn balance(listener: TcpListener, backends: [SocketAddr; 2]) {
    use tokio::io::AsyncWriteExt;
    let mut next = 0usize;
    loop {
        let Ok((inbound, client)) = listener.accept().await else {
            continue;
        };
        let backend = backends[next % backends.len()];
        next += 1;
        tokio::spawn(async move {
            // from the client's own loopback address, so the replica sees
            // who it is (as an HTTP balancer's X-Forwarded-For would say)
            let Ok(socket) = tokio::net::TcpSocket::new_v4() else {
                return;
            };
            if socket.bind(SocketAddr::new(client.ip(), 0)).is_err() {
                return;
            }
            let Ok(outbound) = socket.connect(backend).await else {
                return;
            };
            let (mut client_r, mut client_w) = inbound.into_split();
            let (mut server_r, mut server_w) = outbound.into_split();
            let (answered, mut answer_sent) = tokio::sync::watch::channel(false);
            let up = async {
                if tokio::io::copy(&mut client_r, &mut server_w).await.is_ok() {
                    let _ = server_w.shutdown().await;
                }
                let mut sink = tokio::io::sink();
                tokio::select! {
                    _ = tokio::io::copy(&mut client_r, &mut sink) => {}
                    _ = async {
                        let _ = answer_sent.wait_for(|sent| *sent).await;
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    } => {}
                }
            };
            let down = async {
                let _ = tokio::io::copy(&mut server_r, &mut client_w).await;
                let _ = client_w.shutdown().await;
                let _ = answered.send(true);
            };
            tokio::join!(up, down);
        });
    }
}

/// With `BERTH_TEST_POSTGRES=postgres://user:pw@host:port` set, each test
/// server gets a fresh PostgreSQL database there (the same suite as on
/// SQLite). `scripts/test.sh` drops them all after the run: dropping one
/// while another test's connection is mid-handshake stalls for a minute.
pub async fn postgres_database() -> Option<String> {
    use sqlx::Connection;
    let base = std::env::var("BERTH_TEST_POSTGRES").ok()?;
    let name = format!("berth_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(&format!("{base}/postgres"))
        .await
        .expect("BERTH_TEST_POSTGRES reachable");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("create test database");
    Some(format!("{base}/{name}"))
}
