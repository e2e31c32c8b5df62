//! Server settings: command-line flags with `BERTH_*` environment variables
//! as fallbacks. The names are an interface that scripts, the README and
//! CI rely on: extend, don't rename.

use std::net::SocketAddr;
use std::path::PathBuf;

use std::collections::BTreeMap;

use berth_shared::bytes::ByteSize;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::Args;

use crate::idle::rules::Operator;
use crate::scheduler::core::Strategy;

fn parse_size(s: &str) -> Result<ByteSize, String> {
    ByteSize::parse(s).ok_or_else(|| format!("{s:?} is not a size like 8g or 512m"))
}

/// `name=amount,name=amount`: accelerator slots, utilization thresholds.
fn parse_accelerators(s: &str) -> Result<BTreeMap<String, f64>, String> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p
                .split_once('=')
                .ok_or_else(|| format!("{p:?}: use slot=amount"))?;
            let v: f64 = v
                .trim()
                .parse()
                .map_err(|_| format!("{p:?}: the amount is not a number"))?;
            Ok((k.trim().to_string(), v))
        })
        .collect()
}

/// `--session-subnets`: an IPv4 pool wide enough for one session's subnet.
fn parse_subnet_pool(s: &str) -> Result<ipnet::Ipv4Net, String> {
    let pool: ipnet::Ipv4Net = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not an IPv4 network like 10.213.0.0/16"))?;
    let most = crate::runtime::SESSION_PREFIX;
    if pool.prefix_len() > most {
        return Err(format!(
            "{s:?} is smaller than one session's subnet (/{most}); use /{most} or wider"
        ));
    }
    Ok(pool.trunc())
}

/// `--scheduler-strategy`: the command line's names for the scheduler
/// core's strategies (the core itself knows nothing of the CLI).
fn strategy_parser() -> impl TypedValueParser<Value = Strategy> {
    PossibleValuesParser::new(["dispersed", "concentrated"]).map(|s| match s.as_str() {
        "concentrated" => Strategy::Concentrated,
        _ => Strategy::Dispersed,
    })
}

fn operator_parser() -> impl TypedValueParser<Value = Operator> {
    PossibleValuesParser::new(["and", "or"]).map(|s| match s.as_str() {
        "or" => Operator::Or,
        _ => Operator::And,
    })
}

/// `LO-HI`: the proxy's port pool.
fn parse_port_range(s: &str) -> Result<(u16, u16), String> {
    let (lo, hi) = s
        .split_once('-')
        .ok_or_else(|| format!("{s:?}: use LOW-HIGH, e.g. 30000-30999"))?;
    let num = |v: &str| {
        v.trim()
            .parse::<u16>()
            .map_err(|_| format!("{v:?} is not a port number"))
    };
    let (lo, hi) = (num(lo)?, num(hi)?);
    if lo == 0 || lo > hi {
        return Err(format!("{s:?}: the range must go up from 1"));
    }
    Ok((lo, hi))
}

/// `--trusted-proxy`: a network (`10.0.0.0/8`) or one address.
fn parse_net(s: &str) -> Result<ipnet::IpNet, String> {
    let s = s.trim();
    s.parse::<ipnet::IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map(|n| n.trunc())
        .map_err(|_| format!("{s:?} is not a network like 10.0.0.0/8 or an address"))
}

/// `--apps-domain`: a DNS name (labels of letters, digits and `-`).
fn parse_domain(s: &str) -> Result<String, String> {
    let d = s.trim().trim_end_matches('.').to_ascii_lowercase();
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if d.len() > 200 || !d.split('.').all(label_ok) {
        return Err(format!("{s:?} is not a domain name like apps.example.org"));
    }
    Ok(d)
}

/// Where the database lives.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Database URL: `sqlite://PATH` (embedded, the default) or `postgres://…`.
    #[arg(
        long,
        env = "BERTH_DATABASE_URL",
        default_value = "sqlite://./data/berth.db"
    )]
    pub database_url: String,
    /// Directory for the server's own files (database, storage folders).
    #[arg(long, env = "BERTH_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Most database connections (default: 8 on SQLite, 16 on PostgreSQL).
    #[arg(long, env = "BERTH_DB_MAX_CONNECTIONS")]
    pub db_max_connections: Option<u32>,
}

/// Everything `berth serve` needs.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "BERTH_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Docker engine of the local agent: `unix:///path` or `tcp://host:port`.
    #[arg(
        long,
        env = "BERTH_DOCKER_HOST",
        default_value = "unix:///var/run/docker.sock"
    )]
    pub docker_host: String,
    /// Directory with `ca.pem`, `cert.pem` and `key.pem` for a `tcp://`
    /// local engine that verifies clients (TLS): replicas on several
    /// machines share one engine as the catalogue this way.
    #[arg(long, env = "BERTH_DOCKER_CERT_DIR")]
    pub docker_cert_dir: Option<PathBuf>,
    /// Directory holding the built web UI (Trunk's `dist/`).
    #[arg(long, env = "BERTH_STATIC_DIR", default_value = "./dist")]
    pub static_dir: PathBuf,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "BERTH_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Ports the app proxy serves opened apps on (one per app).
    #[arg(long, env = "BERTH_APP_PORTS", default_value = "30000-30999", value_parser = parse_port_range)]
    pub app_ports: (u16, u16),
    /// An image registry (`host:port`) every agent's engine can pull
    /// from (each engine trusts it: `/etc/docker/certs.d/<host:port>/`).
    /// Agents pull the images they lack from it, and commits are pushed
    /// there; without one, images are copied between engines through the
    /// server.
    #[arg(long, env = "BERTH_REGISTRY")]
    pub registry: Option<String>,
    /// Host ports a remote agent's kernels publish their apps and SSH on
    /// (an agent's own `port_range` first); only the app proxy and SSH
    /// with the session's key use them.
    #[arg(long, env = "BERTH_AGENT_PORTS", default_value = "40000-40999", value_parser = parse_port_range)]
    pub agent_ports: (u16, u16),
    /// Let users open an app to public (anyone with its address, no login).
    #[arg(long, env = "BERTH_ALLOW_PUBLIC_APPS", default_value_t = true, action = clap::ArgAction::Set)]
    pub allow_public_apps: bool,
    /// Let users ask for a preferred proxy port when opening an app.
    #[arg(long, env = "BERTH_ALLOW_PREFERRED_PORT", default_value_t = true, action = clap::ArgAction::Set)]
    pub allow_preferred_port: bool,
    /// Most preopen ports one session may ask for.
    #[arg(long, env = "BERTH_MAX_PREOPEN_PORTS", default_value_t = berth_shared::sessions::DEFAULT_MAX_PREOPEN_PORTS)]
    pub max_preopen_ports: u32,
    /// Address the app proxy's ports listen on.
    #[arg(long, env = "BERTH_APP_HOST", default_value = "127.0.0.1")]
    pub app_host: std::net::IpAddr,
    /// Largest file the folder explorer accepts in one upload, e.g. `16g`.
    #[arg(long, env = "BERTH_MAX_UPLOAD_BYTES", default_value = "16g", value_parser = parse_size)]
    pub max_upload_bytes: ByteSize,
    /// How long a browser login lasts, in hours.
    #[arg(long, env = "BERTH_LOGIN_TTL_HOURS", default_value_t = 12)]
    pub login_ttl_hours: u32,
    /// Let sessions name images that are not listed environments.
    #[arg(long, env = "BERTH_ALLOW_MANUAL_IMAGE", default_value_t = false)]
    pub allow_manual_image: bool,
    /// The folder store (default `<data dir>/folders`). With agents on
    /// other hosts it is a shared filesystem (NFS, CephFS…) that each such
    /// agent's host mounts too: give each agent the path where its host
    /// sees it (`storage_path`). The local agent sees it here.
    #[arg(long, env = "BERTH_STORAGE_ROOT")]
    pub storage_root: Option<PathBuf>,
    /// CPU cores the local agent offers (default: the engine's CPU count).
    #[arg(long, env = "BERTH_AGENT_CPU")]
    pub agent_cpu: Option<f64>,
    /// Memory the local agent offers, e.g. `8g` (default: the engine's memory).
    #[arg(long, env = "BERTH_AGENT_MEM", value_parser = parse_size)]
    pub agent_mem: Option<ByteSize>,
    /// Accelerators the local agent declares, e.g. `cuda.device=2,fake.gpu=1`.
    #[arg(long, env = "BERTH_AGENT_ACCELERATORS", default_value = "", value_parser = parse_accelerators)]
    pub agent_accelerators: BTreeMap<String, f64>,
    /// How the scheduler picks among agents that fit.
    #[arg(long, env = "BERTH_SCHEDULER_STRATEGY", value_parser = strategy_parser(), default_value = "dispersed")]
    pub scheduler_strategy: Strategy,
    /// Seconds a session may wait for room before later sessions of its
    /// resource group stop overtaking it (0: they always may). Keeps a large
    /// request from starving behind a stream of small ones.
    #[arg(long, env = "BERTH_SCHEDULER_AGING_SECS", default_value_t = 300)]
    pub scheduler_aging_secs: u64,
    /// Period of the scheduler's tick, in milliseconds (it also wakes on events).
    #[arg(long, env = "BERTH_SCHEDULER_TICK_MS", default_value_t = 1000)]
    pub scheduler_tick_ms: u64,
    /// Seconds a container gets to stop after SIGTERM before it is killed.
    #[arg(long, env = "BERTH_STOP_GRACE_SECS", default_value_t = 10)]
    pub stop_grace_secs: u32,
    /// Seconds in-flight requests get to finish after SIGTERM or Ctrl-C
    /// before the server exits anyway (event streams end at once).
    #[arg(long, env = "BERTH_SHUTDOWN_GRACE_SECS", default_value_t = 10)]
    pub shutdown_grace_secs: u64,
    /// Most processes and threads one session's container may run (a fork
    /// bomb stops there instead of exhausting the host).
    #[arg(long, env = "BERTH_PIDS_LIMIT", default_value_t = 2048)]
    pub pids_limit: u32,
    /// The address pool session networks are cut from: every session gets
    /// its own bridge network with a /27 of it (a /16 holds 2,048). Pick a
    /// range your site's networks do not use.
    #[arg(long, env = "BERTH_SESSION_SUBNETS", default_value = "10.213.0.0/16", value_parser = parse_subnet_pool)]
    pub session_subnets: ipnet::Ipv4Net,
    /// Give every session a bridge network of its own even on an engine
    /// whose default bridge already keeps containers apart (`dockerd
    /// --icc=false`), where one-kernel sessions otherwise run on that
    /// bridge and start as fast as a plain `docker run`.
    #[arg(long, env = "BERTH_OWN_NETWORKS")]
    pub own_networks: bool,
    /// Days the kept output of ended sessions stays in the database (0 =
    /// forever); the session records themselves stay.
    #[arg(long, env = "BERTH_LOG_RETENTION_DAYS", default_value_t = 30)]
    pub log_retention_days: u32,
    /// Mark the login cookie `Secure` (set it when users reach berth over
    /// HTTPS, e.g. behind a TLS proxy).
    #[arg(long, env = "BERTH_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// How often running sessions are sampled and the idle rules applied,
    /// in milliseconds.
    #[arg(long, env = "BERTH_IDLE_CHECK_INTERVAL_MS", default_value_t = 15_000)]
    pub idle_check_interval_ms: u64,
    /// Network idle timeout: an interactive session with no traffic through
    /// its apps, terminal or SSH for this long ends (seconds; 0 = off).
    #[arg(long, env = "BERTH_IDLE_NETWORK_TIMEOUT_SECS", default_value_t = 0)]
    pub idle_network_timeout_secs: u64,
    /// Utilization thresholds in percent, e.g. `cpu_util=5,mem=3` (empty:
    /// the utilization rule is off).
    #[arg(long, env = "BERTH_IDLE_UTILIZATION", default_value = "", value_parser = parse_accelerators)]
    pub idle_utilization: BTreeMap<String, f64>,
    /// The window the utilization averages cover (seconds).
    #[arg(
        long,
        env = "BERTH_IDLE_UTILIZATION_WINDOW_SECS",
        default_value_t = 600
    )]
    pub idle_utilization_window_secs: u64,
    /// No utilization judgement before a session is this old (seconds).
    #[arg(long, env = "BERTH_IDLE_GRACE_PERIOD_SECS", default_value_t = 300)]
    pub idle_grace_period_secs: u64,
    /// `and`: idle when every thresholded resource is below; `or`: any.
    #[arg(long, env = "BERTH_IDLE_OPERATOR", value_parser = operator_parser(), default_value = "and")]
    pub idle_operator: Operator,
    /// How long before a rule ends a session its owner is warned (seconds).
    #[arg(long, env = "BERTH_IDLE_WARN_BEFORE_SECS", default_value_t = 600)]
    pub idle_warn_before_secs: u64,
    /// Addresses of reverse proxies (CIDRs, comma-separated) whose
    /// `X-Forwarded-For` names the real client (the login throttle counts
    /// that address). Empty: the peer's own address is the client.
    #[arg(long, env = "BERTH_TRUSTED_PROXY", value_delimiter = ',', value_parser = parse_net)]
    pub trusted_proxy: Vec<ipnet::IpNet>,
    /// Accept agents on plain `tcp://` engines off this host (unencrypted,
    /// unauthenticated: whoever reaches the port owns the engine).
    #[arg(long, env = "BERTH_ALLOW_INSECURE_ENGINES")]
    pub allow_insecure_engines: bool,
    /// The domain open web apps are served under: each gets the host name
    /// `<random id>.<domain>` on this server's port, so an app never sees
    /// the UI's login and cannot set its cookies. `localhost` needs no DNS
    /// (browsers and curl resolve every `*.localhost` to the loopback); in
    /// production, a wildcard DNS name pointing at berth (or its proxy).
    #[arg(long, env = "BERTH_APPS_DOMAIN", default_value = "localhost", value_parser = parse_domain)]
    pub apps_domain: String,
    /// Longest the server waits for a command it runs in a container (a
    /// service definition read, the SSH key step), in seconds; the session
    /// goes on without it.
    #[arg(long, env = "BERTH_EXEC_TIMEOUT_SECS", default_value_t = 30)]
    pub exec_timeout_secs: u64,
    /// Start each session's main web service (Jupyter) as the session
    /// starts, so its first open does not wait for it; off (the default
    /// for now: a commit right after the start was seen to hang in tests),
    /// it starts on first open.
    #[arg(long, env = "BERTH_WARM_APPS", default_value_t = false, action = clap::ArgAction::Set)]
    pub warm_apps: bool,
    /// Most personal API tokens one user may hold.
    #[arg(long, env = "BERTH_MAX_TOKENS_PER_USER", default_value_t = 50)]
    pub max_tokens_per_user: u32,
    /// Most event streams one user may hold open at once.
    #[arg(long, env = "BERTH_MAX_STREAMS_PER_USER", default_value_t = 16)]
    pub max_streams_per_user: u32,
    /// Most terminals one user may hold open at once.
    #[arg(long, env = "BERTH_MAX_TERMINALS_PER_USER", default_value_t = 16)]
    pub max_terminals_per_user: u32,
    /// Most uploads into folders one user may run at once.
    #[arg(long, env = "BERTH_MAX_PARALLEL_UPLOADS", default_value_t = 4)]
    pub max_parallel_uploads: u32,
    /// An upload whose body sends nothing for this long is cut off (seconds).
    #[arg(long, env = "BERTH_UPLOAD_STALL_SECS", default_value_t = 60)]
    pub upload_stall_secs: u64,
    /// Most entries a folder listing returns (then `truncated`).
    #[arg(long, env = "BERTH_MAX_DIR_ENTRIES", default_value_t = 10_000)]
    pub max_dir_entries: usize,
    /// Email of the first superadmin, created when no superadmin exists.
    #[arg(long, env = "BERTH_ADMIN_EMAIL", default_value = "admin@berth.local")]
    pub admin_email: String,
    /// Password of the first superadmin; generated and printed once if unset.
    #[arg(long, env = "BERTH_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
}

impl Config {
    /// Settings for a server on `listen` whose files all live under `data_dir`
    /// (used by tests and embedders; the CLI fills the same struct).
    pub fn for_data_dir(data_dir: impl Into<PathBuf>, listen: SocketAddr) -> Self {
        let data_dir = data_dir.into();
        Self {
            listen,
            db: DatabaseArgs {
                database_url: format!("sqlite://{}", data_dir.join("berth.db").display()),
                data_dir: data_dir.clone(),
                db_max_connections: None,
            },
            docker_host: "unix:///var/run/docker.sock".into(),
            docker_cert_dir: None,
            static_dir: data_dir.join("dist"),
            max_body_bytes: 1024 * 1024,
            max_upload_bytes: ByteSize(16 << 30),
            app_ports: (30000, 30999),
            max_preopen_ports: berth_shared::sessions::DEFAULT_MAX_PREOPEN_PORTS,
            allow_public_apps: true,
            allow_preferred_port: true,
            app_host: std::net::IpAddr::from([127, 0, 0, 1]),
            login_ttl_hours: 12,
            allow_manual_image: false,
            storage_root: None,
            agent_ports: (40000, 40999),
            registry: None,
            agent_cpu: None,
            agent_mem: None,
            agent_accelerators: BTreeMap::new(),
            scheduler_strategy: Strategy::Dispersed,
            scheduler_aging_secs: 300,
            scheduler_tick_ms: 1000,
            stop_grace_secs: 10,
            shutdown_grace_secs: 10,
            secure_cookies: false,
            pids_limit: 2048,
            session_subnets: ipnet::Ipv4Net::new_assert(std::net::Ipv4Addr::new(10, 213, 0, 0), 16),
            own_networks: false,
            log_retention_days: 30,
            idle_check_interval_ms: 15_000,
            idle_network_timeout_secs: 0,
            idle_utilization: BTreeMap::new(),
            idle_utilization_window_secs: 600,
            idle_grace_period_secs: 300,
            idle_operator: Operator::And,
            idle_warn_before_secs: 600,
            trusted_proxy: vec![],
            allow_insecure_engines: false,
            apps_domain: "localhost".into(),
            exec_timeout_secs: 30,
            warm_apps: false,
            max_tokens_per_user: 50,
            max_streams_per_user: 16,
            max_terminals_per_user: 16,
            max_parallel_uploads: 4,
            upload_stall_secs: 60,
            max_dir_entries: 10_000,
            admin_email: "admin@berth.local".into(),
            admin_password: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        config: Config,
    }

    fn parse(args: &[&str]) -> Result<Config, clap::Error> {
        Cli::try_parse_from(std::iter::once("berth").chain(args.iter().copied())).map(|c| c.config)
    }

    #[test]
    fn flags_parse_into_the_config() {
        let c = parse(&[
            "--listen",
            "0.0.0.0:9000",
            "--app-ports",
            "31000-31010",
            "--idle-utilization",
            "cpu_util=5, mem=3",
            "--scheduler-strategy",
            "concentrated",
            "--agent-mem",
            "2g",
            "--secure-cookies",
            "--shutdown-grace-secs",
            "4",
        ])
        .unwrap();
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.app_ports, (31000, 31010));
        assert_eq!(c.idle_utilization.get("mem"), Some(&3.0));
        assert_eq!(c.scheduler_strategy, Strategy::Concentrated);
        assert_eq!(c.agent_mem, Some(ByteSize(2 << 30)));
        assert!(c.secure_cookies);
        assert_eq!(c.shutdown_grace_secs, 4);
        let c = parse(&[
            "--trusted-proxy",
            "10.0.0.0/8,::1",
            "--apps-domain",
            "Apps.Example.org.",
        ])
        .unwrap();
        assert_eq!(c.trusted_proxy.len(), 2);
        assert_eq!(c.trusted_proxy[1].to_string(), "::1/128");
        assert_eq!(c.apps_domain, "apps.example.org");
        // defaults
        assert_eq!(c.pids_limit, 2048);
        assert_eq!(c.session_subnets.to_string(), "10.213.0.0/16");
        assert_eq!(c.db.database_url, "sqlite://./data/berth.db");
    }

    #[test]
    fn bad_values_are_refused_with_a_reason() {
        for (args, says) in [
            (&["--app-ports", "5-1"][..], "must go up"),
            (&["--agent-mem", "lots"][..], "not a size"),
            (&["--idle-utilization", "cpu"][..], "slot=amount"),
            (&["--scheduler-strategy", "random"][..], "random"),
            (&["--session-subnets", "10.213.0.0/28"][..], "smaller than"),
            (&["--session-subnets", "fe80::/64"][..], "not an IPv4"),
            (&["--trusted-proxy", "10.0.0.0/33"][..], "not a network"),
            (&["--apps-domain", "a_b.example"][..], "not a domain"),
        ] {
            let err = parse(args).unwrap_err().to_string();
            assert!(err.contains(says), "{args:?}: {err}");
        }
    }

    #[test]
    fn environment_variables_are_the_fallback() {
        // a name no other test reads
        std::env::set_var("BERTH_LOG_RETENTION_DAYS", "7");
        let c = parse(&[]).unwrap();
        std::env::remove_var("BERTH_LOG_RETENTION_DAYS");
        assert_eq!(c.log_retention_days, 7);
        let c = parse(&["--log-retention-days", "9"]).unwrap();
        assert_eq!(c.log_retention_days, 9, "a flag wins");
    }
}
