//! An image registry for one test: Debian's `docker-registry` over TLS on
//! an address of its own (on an empty bridge of this host), which the
//! shared engine and every remote host's engine reach and trust (its CA in
//! `/etc/docker/certs.d/<address>/`, which engines read per pull).

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::engine::{make_certs, run};

/// The port of every test registry (each has its own address).
const PORT: u16 = 5000;

/// A running registry.
pub struct Registry {
    dir: tempfile::TempDir,
    link: String,
    address: Ipv4Addr,
    child: Option<std::process::Child>,
}

impl Registry {
    /// Starts one, empty.
    pub async fn start() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("rg")
            .tempdir_in("/tmp")
            .expect("temp dir");
        let tag = &uuid::Uuid::new_v4().simple().to_string()[..8];
        let link = format!("rg{tag}");
        let used = run("ip", &["-4", "-o", "addr"]);
        let address = loop {
            let x = uuid::Uuid::new_v4().as_bytes()[0];
            if !used.contains(&format!("10.252.{x}.")) {
                break Ipv4Addr::new(10, 252, x, 1);
            }
        };
        // (a bridge with no ports: this kernel may lack the dummy module)
        run("ip", &["link", "add", "name", &link, "type", "bridge"]);
        let mut reg = Registry {
            dir,
            link: link.clone(),
            address,
            child: None,
        };
        run(
            "ip",
            &["addr", "add", &format!("{address}/32"), "dev", &link],
        );
        run("ip", &["link", "set", &link, "up"]);
        make_certs(reg.dir.path(), &address.to_string());
        let p = |f: &str| reg.dir.path().join(f).display().to_string();
        let config = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {data}\n  delete:\n    enabled: true\nhttp:\n  addr: {address}:{PORT}\n  tls:\n    certificate: {cert}\n    key: {key}\n",
            data = p("data"),
            cert = p("server/cert.pem"),
            key = p("server/key.pem"),
        );
        std::fs::write(p("config.yml"), config).expect("config");
        std::fs::create_dir_all(reg.trust_dir()).expect("certs.d");
        std::fs::copy(p("server/ca.pem"), reg.trust_dir().join("ca.crt")).expect("ca");
        let log = std::fs::File::create(p("registry.log")).expect("log");
        reg.child = Some(
            Command::new("docker-registry")
                .args(["serve", &p("config.yml")])
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("log"))
                .stderr(log)
                .spawn()
                .expect("docker-registry starts (make setup installs it)"),
        );
        for _ in 0..300 {
            if std::net::TcpStream::connect((address, PORT)).is_ok() {
                return reg;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "the registry did not come up: {}",
            std::fs::read_to_string(p("registry.log")).unwrap_or_default()
        );
    }

    /// `host:port`, as berth's `--registry` takes it.
    pub fn address(&self) -> String {
        format!("{}:{PORT}", self.address)
    }

    fn trust_dir(&self) -> PathBuf {
        PathBuf::from("/etc/docker/certs.d").join(self.address())
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        // its names on the shared engine (a push that failed half-way
        // leaves one): other tests list that engine's images
        let prefix = format!("{}/", self.address());
        let tags = Command::new("docker")
            .args(["images", "--format", "{{.Repository}}:{{.Tag}}"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
            .unwrap_or_default();
        for tag in tags.lines().filter(|t| t.starts_with(&prefix)) {
            let _ = Command::new("docker").args(["rmi", tag]).output();
        }
        let _ = std::fs::remove_dir_all(self.trust_dir());
        let _ = Command::new("ip")
            .args(["link", "del", &self.link])
            .output();
    }
}
