//! A "remote host" for one test: a network namespace of its own with a
//! `dockerd` inside, reached only through a veth pair at the namespace's
//! address and the TLS port the engine listens on there, as if it were
//! across a network. Only what it publishes on that address is reachable
//! from outside; its containers' own addresses are routed nowhere outside
//! it. (Its unix socket is also kept, for the test's own `docker` calls.)
//! Its mount namespace is its own too: [`RemoteHost::mount_share`] mounts
//! a directory there the way an agent host mounts NFS.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::dockerd::Dockerd;
use crate::engine::{make_certs, run};

/// The TLS port of every remote engine (each has its own address).
pub const REMOTE_TLS_PORT: u16 = 2376;

/// A namespaced host with a Docker engine.
pub struct RemoteHost {
    dir: tempfile::TempDir,
    ns: String,
    veth: String,
    address: Ipv4Addr,
    dockerd: Dockerd,
}

/// A /24 on 10.251.x.0 that no interface of this host uses yet.
fn free_subnet() -> u8 {
    let used = run("ip", &["-4", "-o", "addr"]);
    loop {
        let x = uuid::Uuid::new_v4().as_bytes()[0];
        if !used.contains(&format!("10.251.{x}.")) {
            return x;
        }
    }
}

impl RemoteHost {
    /// Makes the namespace and its link, starts its engine and copies
    /// `images` into it from the shared engine.
    pub async fn start(images: &[&str]) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("rh")
            .tempdir_in("/tmp")
            .expect("temp dir");
        let tag = &uuid::Uuid::new_v4().simple().to_string()[..8];
        let ns = format!("berth-rh-{tag}");
        let veth = format!("rv{tag}h");
        let inner = format!("rv{tag}n");
        let x = free_subnet();
        let address = Ipv4Addr::new(10, 251, x, 2);
        run("ip", &["netns", "add", &ns]);
        let dockerd = Dockerd::new(
            format!("unix://{}", dir.path().join("d.sock").display()),
            dir.path().join("dockerd.log"),
        );
        let host = RemoteHost {
            dir,
            ns: ns.clone(),
            veth: veth.clone(),
            address,
            dockerd,
        };
        run(
            "ip",
            &["link", "add", &veth, "type", "veth", "peer", "name", &inner],
        );
        run("ip", &["link", "set", &inner, "netns", &ns]);
        run(
            "ip",
            &["addr", "add", &format!("10.251.{x}.1/24"), "dev", &veth],
        );
        run("ip", &["link", "set", &veth, "up"]);
        host.in_ns(&["ip", "link", "set", "lo", "up"]);
        host.in_ns(&["ip", "addr", "add", &format!("{address}/24"), "dev", &inner]);
        host.in_ns(&["ip", "link", "set", &inner, "up"]);
        host.in_ns(&[
            "ip",
            "route",
            "add",
            "default",
            "via",
            &format!("10.251.{x}.1"),
        ]);
        make_certs(host.dir.path(), &address.to_string());
        host.launch_dockerd().await;
        for image in images {
            host.copy_image(image);
        }
        host
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs a command inside the namespace; its output, trimmed.
    pub fn in_ns(&self, cmd: &[&str]) -> String {
        let mut all = vec!["netns", "exec", self.ns.as_str()];
        all.extend_from_slice(cmd);
        run("ip", &all)
    }

    /// The host's address, the only one the server reaches it at.
    pub fn address(&self) -> Ipv4Addr {
        self.address
    }

    /// Its engine as berth registers it: `tcp://ADDRESS:2376` (TLS).
    pub fn docker_host(&self) -> String {
        format!("tcp://{}:{REMOTE_TLS_PORT}", self.address)
    }

    /// The folder with the client's `ca.pem`, `cert.pem` and `key.pem`.
    pub fn client_certs(&self) -> PathBuf {
        self.path("client")
    }

    fn socket(&self) -> String {
        self.dockerd.socket.clone()
    }

    async fn launch_dockerd(&self) {
        let c = |f: &str| self.path("server").join(f).display().to_string();
        // the namespace's network, and a mount namespace of its own (not
        // `ip netns exec`, whose fresh /sys hides the cgroup mounts)
        let args: Vec<String> = vec![
            format!("--net=/run/netns/{}", self.ns),
            "unshare".into(),
            "--mount".into(),
            "--propagation".into(),
            "slave".into(),
            "dockerd".into(),
            format!("--host={}", self.socket()),
            format!("--host=tcp://{}:{REMOTE_TLS_PORT}", self.address),
            "--tlsverify".into(),
            format!("--tlscacert={}", c("ca.pem")),
            format!("--tlscert={}", c("cert.pem")),
            format!("--tlskey={}", c("key.pem")),
            format!("--data-root={}", self.path("root").display()),
            format!("--exec-root={}", self.path("exec").display()),
            format!("--pidfile={}", self.path("d.pid").display()),
            // its own netfilter would be the namespace's; published ports
            // are served by docker-proxy on the host's address
            "--iptables=false".into(),
            "--ip6tables=false".into(),
        ];
        self.dockerd.spawn("nsenter", &args).await;
    }

    /// Runs `docker ARGS` against this engine (through its unix socket,
    /// which berth is never given); its output, trimmed.
    pub fn docker(&self, args: &[&str]) -> String {
        let host = self.socket();
        let mut all = vec!["-H", host.as_str()];
        all.extend_from_slice(args);
        run("docker", &all)
    }

    /// Copies an image from the shared engine (`docker save | docker load`).
    pub fn copy_image(&self, image: &str) {
        let cmd = format!("docker save {image} | docker -H {} load -q", self.socket());
        run("sh", &["-c", &cmd]);
    }

    /// Mounts `source` (the server's folder store) at a path of the
    /// host's own, in the engine's mount namespace only, as an agent host
    /// mounts the shared storage; that path.
    pub fn mount_share(&self, source: &Path) -> PathBuf {
        let view = self.path("storage");
        std::fs::create_dir_all(&view).expect("view dir");
        let pid = std::fs::read_to_string(self.path("d.pid")).expect("dockerd pid");
        run(
            "nsenter",
            &[
                "--target",
                pid.trim(),
                "--mount",
                "mount",
                "--bind",
                &source.display().to_string(),
                &view.display().to_string(),
            ],
        );
        view
    }
}

impl Drop for RemoteHost {
    fn drop(&mut self) {
        // never panic here: it may run while a test fails (nsenter and
        // unshare exec dockerd: the child is dockerd itself)
        self.dockerd.remove_containers();
        self.dockerd.end();
        let _ = Command::new("ip")
            .args(["link", "del", &self.veth])
            .output();
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).output();
    }
}
