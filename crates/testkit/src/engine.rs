//! A private Docker engine for one test: its own `dockerd` beside the
//! shared one, with its own socket, data root, exec root, pid file and a
//! bridge made for it (never `--bridge=none`: that engine would delete the
//! shared engine's `docker0`). It runs without iptables rules, so nothing
//! of it outlives the test but what `Drop` removes. Optionally it also
//! listens on loopback TCP with TLS client verification, with certificates
//! the test makes (`openssl`).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::dockerd::Dockerd;

/// A `dockerd` of one test.
pub struct PrivateEngine {
    dir: tempfile::TempDir,
    dockerd: Dockerd,
    bridge: String,
    tls_port: Option<u16>,
}

/// Runs a command, panicking with its output when it fails.
pub(crate) fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} cannot run: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A /24 on 172.31.x.0 that no interface of this host uses yet.
fn free_bridge_subnet() -> u8 {
    let used = run("ip", &["-4", "-o", "addr"]);
    loop {
        let x: u8 = rand_byte();
        if !used.contains(&format!("172.31.{x}.")) {
            return x;
        }
    }
}

fn rand_byte() -> u8 {
    uuid::Uuid::new_v4().as_bytes()[0]
}

impl PrivateEngine {
    /// Starts an engine (unix socket only) holding copies of `images` from
    /// the shared engine.
    pub async fn start(images: &[&str]) -> Self {
        Self::start_inner(images, false).await
    }

    /// Starts an engine that also serves loopback TCP with TLS: clients
    /// must show a certificate the test's CA signed. [`Self::client_certs`]
    /// is the folder berth is given.
    pub async fn start_tls(images: &[&str]) -> Self {
        Self::start_inner(images, true).await
    }

    async fn start_inner(images: &[&str], tls: bool) -> Self {
        // short: a unix socket path has at most 107 bytes
        let dir = tempfile::Builder::new()
            .prefix("bk")
            .tempdir_in("/tmp")
            .expect("temp dir");
        let bridge = format!("bk{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let x = free_bridge_subnet();
        run("ip", &["link", "add", "name", &bridge, "type", "bridge"]);
        run(
            "ip",
            &["addr", "add", &format!("172.31.{x}.1/24"), "dev", &bridge],
        );
        run("ip", &["link", "set", &bridge, "up"]);
        let tls_port = tls.then(|| {
            make_certs(dir.path(), "127.0.0.1");
            std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map(|a| a.port())
                .expect("a free port")
        });
        let dockerd = Dockerd::new(
            format!("unix://{}", dir.path().join("d.sock").display()),
            dir.path().join("dockerd.log"),
        );
        let engine = PrivateEngine {
            dir,
            dockerd,
            bridge,
            tls_port,
        };
        engine.launch_dockerd().await;
        for image in images {
            engine.copy_image(image);
        }
        engine
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The engine's unix socket, as berth registers it.
    pub fn host(&self) -> String {
        self.dockerd.socket.clone()
    }

    /// The engine's TLS address (`tcp://127.0.0.1:PORT`), if it has one.
    pub fn tls_host(&self) -> Option<String> {
        self.tls_port.map(|p| format!("tcp://127.0.0.1:{p}"))
    }

    /// The folder with the client's `ca.pem`, `cert.pem` and `key.pem`.
    pub fn client_certs(&self) -> PathBuf {
        self.path("client")
    }

    async fn launch_dockerd(&self) {
        let _ = std::fs::remove_file(self.path("d.pid"));
        let mut args: Vec<String> = vec![
            format!("--host={}", self.host()),
            format!("--data-root={}", self.path("root").display()),
            format!("--exec-root={}", self.path("exec").display()),
            format!("--pidfile={}", self.path("d.pid").display()),
            format!("--bridge={}", self.bridge),
            "--iptables=false".into(),
            // its containers outlive a stop of the engine, as a machine cut off from berth keeps running
            "--live-restore".into(),
        ];
        if let Some(port) = self.tls_port {
            let c = |f: &str| self.path("server").join(f).display().to_string();
            args.extend([
                format!("--host=tcp://127.0.0.1:{port}"),
                "--tlsverify".into(),
                format!("--tlscacert={}", c("ca.pem")),
                format!("--tlscert={}", c("cert.pem")),
                format!("--tlskey={}", c("key.pem")),
            ]);
        }
        self.dockerd.spawn("dockerd", &args).await;
    }

    /// Runs `docker ARGS` against this engine; its output, trimmed.
    pub fn docker(&self, args: &[&str]) -> String {
        let host = self.host();
        let mut all = vec!["-H", host.as_str()];
        all.extend_from_slice(args);
        run("docker", &all)
    }

    /// Copies an image from the shared engine (`docker save | docker load`).
    pub fn copy_image(&self, image: &str) {
        let cmd = format!("docker save {image} | docker -H {} load -q", self.host());
        run("sh", &["-c", &cmd]);
    }

    /// Stops the engine (as a machine going away would: berth hears
    /// nothing), waiting until it is gone. Its containers keep running
    /// (live restore).
    pub async fn stop(&self) {
        self.dockerd.end();
    }

    /// Starts the engine again on the same data (after [`Self::stop`]).
    pub async fn start_again(&self) {
        self.launch_dockerd().await;
    }
}

impl Drop for PrivateEngine {
    fn drop(&mut self) {
        // never panic here: it may run while a test fails
        self.dockerd.remove_containers();
        self.dockerd.end();
        let _ = Command::new("ip")
            .args(["link", "del", &self.bridge])
            .output();
        // what a killed engine left mounted would keep its files
        let root = self.dir.path().display().to_string();
        if let Ok(mounts) = std::fs::read_to_string("/proc/mounts") {
            let mut ours: Vec<&str> = mounts
                .lines()
                .filter_map(|l| l.split_whitespace().nth(1))
                .filter(|m| m.starts_with(&root))
                .collect();
            ours.sort_by_key(|m| std::cmp::Reverse(m.len()));
            for m in ours {
                let _ = Command::new("umount").args(["-l", m]).output();
            }
        }
    }
}

/// A CA, a server certificate for `server_ip` and a client certificate,
/// in `dir/server` and `dir/client` (Docker's file names).
pub(crate) fn make_certs(dir: &Path, server_ip: &str) {
    let server = dir.join("server");
    let client = dir.join("client");
    std::fs::create_dir_all(&server).expect("dir");
    std::fs::create_dir_all(&client).expect("dir");
    let p = |d: &Path, f: &str| d.join(f).display().to_string();
    let ca_key = p(dir, "ca-key.pem");
    let ca = p(&server, "ca.pem");
    run("openssl", &["genrsa", "-out", &ca_key, "2048"]);
    run(
        "openssl",
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            &ca_key,
            "-days",
            "2",
            "-subj",
            "/CN=berth test CA",
            "-out",
            &ca,
        ],
    );
    let sign = |d: &Path, cn: &str, ext: &str| {
        let key = p(d, "key.pem");
        let csr = p(d, "req.csr");
        let extfile = p(d, "ext.cnf");
        std::fs::write(&extfile, ext).expect("ext");
        run("openssl", &["genrsa", "-out", &key, "2048"]);
        run(
            "openssl",
            &[
                "req",
                "-new",
                "-key",
                &key,
                "-subj",
                &format!("/CN={cn}"),
                "-out",
                &csr,
            ],
        );
        run(
            "openssl",
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                &ca,
                "-CAkey",
                &ca_key,
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                &extfile,
                "-out",
                &p(d, "cert.pem"),
            ],
        );
    };
    sign(
        &server,
        server_ip,
        &format!("subjectAltName=IP:{server_ip}\nextendedKeyUsage=serverAuth\n"),
    );
    sign(&client, "berth", "extendedKeyUsage=clientAuth\n");
    std::fs::copy(&ca, client.join("ca.pem")).expect("ca");
}
