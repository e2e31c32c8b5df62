//! The server's Prometheus metrics, served at `GET /metrics` in the
//! OpenMetrics text format (`prometheus-client`). Counters and histograms
//! are recorded as things happen (requests, status changes); what is a
//! state — sessions by status, queues, agents, the process — is read
//! afresh at each scrape. One registry per server (no global recorder), so
//! servers in one process never mix their figures. `scrape.rs` reads the
//! states for a scrape.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use berth_shared::sessions::SessionStatus;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Registry, Unit};

use crate::store::{AgentRow, StatusTally};

pub mod scrape;

/// A metric's labels, in order.
type Labels = Vec<(&'static str, String)>;
/// A gauge of a float value.
type FloatGauge = Gauge<f64, AtomicU64>;
/// A family of histograms with the request buckets.
type Timings = Family<Labels, Histogram, fn() -> Histogram>;

/// Seconds from 5 ms to ~80 s: requests, scheduling, starts.
fn seconds_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.005, 2.0, 15))
}

/// Seconds from 0.1 s to ~14 min: image copies.
fn copy_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.1, 2.0, 14))
}

/// One image copy as it runs (see [`Metrics::image_copy`]).
#[derive(Debug)]
pub struct CopyMeter<'a> {
    metrics: &'a Metrics,
    why: &'static str,
    started: std::time::Instant,
    sent: Arc<SentBytes>,
}

/// The bytes an image copy has sent so far (its progress callback sets it).
#[derive(Debug, Default)]
pub struct SentBytes(AtomicU64);

impl SentBytes {
    /// All sent so far.
    pub fn set(&self, bytes: u64) {
        self.0.store(bytes, Ordering::Relaxed);
    }
}

impl CopyMeter<'_> {
    /// A handle for the copy's progress callback.
    pub fn sent(&self) -> Arc<SentBytes> {
        self.sent.clone()
    }

    /// Records the copy: its outcome, bytes and time.
    pub fn finish(self, ok: bool) {
        let bytes = self.sent.0.load(Ordering::Relaxed);
        let secs = self.started.elapsed().as_secs_f64();
        self.metrics.image_copied(self.why, ok, bytes, secs);
    }
}

/// Which way bytes go through the app proxy.
#[derive(Debug, Clone, Copy)]
pub enum Direction {
    /// From the user's browser or client to the app.
    ToApp,
    /// From the app back.
    FromApp,
}

/// Every metric of one server.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    http_requests: Family<Labels, Counter>,
    http_seconds: Timings,
    scheduling_seconds: Histogram,
    start_seconds: Histogram,
    /// When each session now SCHEDULED was placed (ms), until it runs or ends.
    scheduled_at: Mutex<HashMap<String, i64>>,
    sessions: Family<Labels, Gauge>,
    queue_length: Family<Labels, Gauge>,
    queue_oldest_seconds: Family<Labels, FloatGauge>,
    agent_up: Family<Labels, Gauge>,
    agent_cpu: Family<Labels, FloatGauge>,
    agent_memory_bytes: Family<Labels, Gauge>,
    image_copies: Family<Labels, Counter>,
    image_copy_bytes: Family<Labels, Counter>,
    image_copy_seconds: Family<Labels, Histogram, fn() -> Histogram>,
    idle_reclaims: Family<Labels, Counter>,
    commits: Family<Labels, Counter>,
    open_apps: Gauge,
    leader: Gauge,
    proxy_bytes: Family<Labels, Counter>,
    resident_bytes: Gauge,
    cpu_seconds: FloatGauge,
    open_fds: Gauge,
    start_time_seconds: FloatGauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every family, all empty.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("berth");
        let m = Metrics {
            registry: Registry::default(),
            http_requests: Family::default(),
            http_seconds: Family::new_with_constructor(seconds_buckets),
            scheduling_seconds: seconds_buckets(),
            start_seconds: seconds_buckets(),
            scheduled_at: Mutex::default(),
            sessions: Family::default(),
            queue_length: Family::default(),
            queue_oldest_seconds: Family::default(),
            agent_up: Family::default(),
            agent_cpu: Family::default(),
            agent_memory_bytes: Family::default(),
            image_copies: Family::default(),
            image_copy_bytes: Family::default(),
            image_copy_seconds: Family::new_with_constructor(copy_buckets),
            idle_reclaims: Family::default(),
            leader: Gauge::default(),
            commits: Family::default(),
            open_apps: Gauge::default(),
            proxy_bytes: Family::default(),
            resident_bytes: Gauge::default(),
            cpu_seconds: FloatGauge::default(),
            open_fds: Gauge::default(),
            start_time_seconds: FloatGauge::default(),
        };
        m.start_time_seconds
            .set(chrono::Utc::now().timestamp_millis() as f64 / 1000.0);
        registry.register(
            "http_requests",
            "HTTP requests by route template, method and status",
            m.http_requests.clone(),
        );
        registry.register_with_unit(
            "http_request_duration",
            "HTTP request latency by route template and method",
            Unit::Seconds,
            m.http_seconds.clone(),
        );
        registry.register_with_unit(
            "scheduling_latency",
            "Time from PENDING to SCHEDULED",
            Unit::Seconds,
            m.scheduling_seconds.clone(),
        );
        registry.register_with_unit(
            "start_latency",
            "Time from SCHEDULED to RUNNING",
            Unit::Seconds,
            m.start_seconds.clone(),
        );
        registry.register(
            "sessions",
            "Sessions by status and resource group",
            m.sessions.clone(),
        );
        registry.register(
            "queue_length",
            "PENDING sessions per resource group",
            m.queue_length.clone(),
        );
        registry.register_with_unit(
            "queue_oldest_wait",
            "How long the longest-waiting PENDING session of a group has waited",
            Unit::Seconds,
            m.queue_oldest_seconds.clone(),
        );
        registry.register(
            "agent_up",
            "1 when the agent answers (ALIVE), 0 when LOST",
            m.agent_up.clone(),
        );
        registry.register(
            "agent_cpu",
            "An agent's CPU: its capacity and what sessions hold",
            m.agent_cpu.clone(),
        );
        registry.register_with_unit(
            "agent_memory",
            "An agent's memory: its capacity and what sessions hold",
            Unit::Bytes,
            m.agent_memory_bytes.clone(),
        );
        registry.register(
            "scheduler_leader",
            "1 when this replica holds the scheduler's lease (runs the scheduler, reconciliation and idle checks)",
            m.leader.clone(),
        );
        registry.register(
            "image_copies",
            "Images copied between engines, by why (launch, commit) and outcome",
            m.image_copies.clone(),
        );
        registry.register_with_unit(
            "image_copy",
            "Bytes of images copied between engines, by why",
            Unit::Bytes,
            m.image_copy_bytes.clone(),
        );
        registry.register_with_unit(
            "image_copy_duration",
            "How long an image copy between engines took, by why",
            Unit::Seconds,
            m.image_copy_seconds.clone(),
        );
        registry.register(
            "idle_reclaims",
            "Sessions the idle checks ended, by the rule that ended them",
            m.idle_reclaims.clone(),
        );
        registry.register(
            "commits",
            "Sessions saved as images, by outcome (done, failed, cancelled)",
            m.commits.clone(),
        );
        registry.register(
            "open_apps",
            "Apps open through the proxy now",
            m.open_apps.clone(),
        );
        registry.register_with_unit(
            "proxy",
            "Bytes through the app proxy, by direction (to_app, from_app)",
            Unit::Bytes,
            m.proxy_bytes.clone(),
        );
        let process = registry.sub_registry_with_prefix("process");
        process.register_with_unit(
            "resident_memory",
            "Resident memory of the server process",
            Unit::Bytes,
            m.resident_bytes.clone(),
        );
        process.register_with_unit(
            "cpu",
            "CPU time the server process used",
            Unit::Seconds,
            m.cpu_seconds.clone(),
        );
        process.register(
            "open_fds",
            "File descriptors the server process holds",
            m.open_fds.clone(),
        );
        process.register_with_unit(
            "start_time",
            "When the server started (Unix time)",
            Unit::Seconds,
            m.start_time_seconds.clone(),
        );
        Metrics { registry, ..m }
    }

    /// Counts a request answered: `route` is its template
    /// (`/api/v1/sessions/{id}`), never the path itself.
    pub fn http_request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let route = route.to_string();
        self.http_requests
            .get_or_create(&vec![
                ("route", route.clone()),
                ("method", method.to_string()),
                ("status", status.to_string()),
            ])
            .inc();
        self.http_seconds
            .get_or_create(&vec![("route", route), ("method", method.to_string())])
            .observe(seconds);
    }

    /// Whether this replica holds the scheduler's lease.
    pub fn set_leader(&self, leading: bool) {
        self.leader.set(i64::from(leading));
    }

    /// An image copy between engines begins: `why` is `launch` or
    /// `commit`; the meter hears its bytes and records it at its end.
    pub fn image_copy(&self, why: &'static str) -> CopyMeter<'_> {
        CopyMeter {
            metrics: self,
            why,
            started: std::time::Instant::now(),
            sent: Arc::default(),
        }
    }

    /// An image copy between engines ended.
    fn image_copied(&self, why: &str, ok: bool, bytes: u64, seconds: f64) {
        let outcome = if ok { "done" } else { "failed" };
        self.image_copies
            .get_or_create(&vec![
                ("why", why.to_string()),
                ("outcome", outcome.to_string()),
            ])
            .inc();
        let why = vec![("why", why.to_string())];
        self.image_copy_bytes.get_or_create(&why).inc_by(bytes);
        self.image_copy_seconds.get_or_create(&why).observe(seconds);
    }

    /// The idle checks ended a session by `rule`.
    pub fn idle_reclaimed(&self, rule: &str) {
        self.idle_reclaims
            .get_or_create(&vec![("rule", rule.to_string())])
            .inc();
    }

    /// A commit ended: `done`, `failed` or `cancelled`.
    pub fn committed(&self, outcome: &str) {
        self.commits
            .get_or_create(&vec![("outcome", outcome.to_string())])
            .inc();
    }

    /// The counter of bytes through the app proxy one way (a handle to
    /// the family's own: what is added to it is counted).
    pub fn proxy_bytes(&self, direction: Direction) -> Counter {
        let direction = match direction {
            Direction::ToApp => "to_app",
            Direction::FromApp => "from_app",
        };
        self.proxy_bytes
            .get_or_create(&vec![("direction", direction.to_string())])
            .clone()
    }

    /// A session went from `from` (since `since_ms`) to `to` at `now_ms`.
    pub fn status_changed(
        &self,
        session_id: &str,
        from: Option<SessionStatus>,
        since_ms: i64,
        to: SessionStatus,
        now_ms: i64,
    ) {
        let secs = |from_ms: i64| (now_ms - from_ms).max(0) as f64 / 1000.0;
        let mut placed = self.scheduled_at.lock().unwrap_or_else(|e| e.into_inner());
        match to {
            SessionStatus::Scheduled => {
                if from == Some(SessionStatus::Pending) {
                    self.scheduling_seconds.observe(secs(since_ms));
                }
                placed.insert(session_id.to_string(), now_ms);
            }
            SessionStatus::Running => {
                if let Some(at) = placed.remove(session_id) {
                    self.start_seconds.observe(secs(at));
                }
            }
            to if to.is_finished() => {
                placed.remove(session_id);
            }
            _ => {}
        }
    }

    /// The text a scrape gets: the recorded families, and the states read
    /// now from `tallies` and `agents`.
    pub fn render(
        &self,
        tallies: &[StatusTally],
        agents: &[AgentRow],
        open_apps: usize,
        now_ms: i64,
    ) -> String {
        self.open_apps.set(open_apps as i64);
        self.sessions.clear();
        self.queue_length.clear();
        self.queue_oldest_seconds.clear();
        for t in tallies {
            let group = ("resource_group", t.resource_group.clone());
            self.sessions
                .get_or_create(&vec![("status", t.status.clone()), group.clone()])
                .set(t.sessions);
            if t.status == SessionStatus::Pending.as_str() {
                self.queue_length
                    .get_or_create(&vec![group.clone()])
                    .set(t.sessions);
                self.queue_oldest_seconds
                    .get_or_create(&vec![group])
                    .set((now_ms - t.since).max(0) as f64 / 1000.0);
            }
        }
        self.agent_up.clear();
        self.agent_cpu.clear();
        self.agent_memory_bytes.clear();
        for a in agents {
            let agent = || ("agent", a.id.clone());
            let up = i64::from(a.lost_at.is_none());
            self.agent_up.get_or_create(&vec![agent()]).set(up);
            for (kind, cpu, mem) in [
                ("capacity", a.cpu_total, a.mem_total),
                ("used", a.cpu_used, a.mem_used),
            ] {
                let labels = vec![agent(), ("kind", kind.to_string())];
                self.agent_cpu.get_or_create(&labels).set(cpu);
                self.agent_memory_bytes.get_or_create(&labels).set(mem);
            }
        }
        let process = process_figures();
        self.resident_bytes.set(process.resident_bytes);
        self.cpu_seconds.set(process.cpu_seconds);
        self.open_fds.set(process.open_fds);
        let mut out = String::new();
        // (writing to a String cannot fail)
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// The process's own figures, from `/proc/self` (zero where it is absent).
#[derive(Debug, Default)]
struct ProcessFigures {
    resident_bytes: i64,
    cpu_seconds: f64,
    open_fds: i64,
}

fn process_figures() -> ProcessFigures {
    // the kernel's units on Linux: 4 KiB pages, 100 clock ticks a second
    const PAGE: i64 = 4096;
    const TICKS: f64 = 100.0;
    // both are one line of numbers, well under this
    const PROC_MAX: u64 = 64 << 10;
    let mut f = ProcessFigures::default();
    if let Ok(statm) = crate::bounded::read_prefix("/proc/self/statm", PROC_MAX) {
        if let Some(pages) = statm
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse::<i64>().ok())
        {
            f.resident_bytes = pages * PAGE;
        }
    }
    if let Ok(stat) = crate::bounded::read_prefix("/proc/self/stat", PROC_MAX) {
        // after the command name's closing parenthesis: fields 3…; utime
        // and stime are the 14th and 15th
        if let Some((_, rest)) = stat.rsplit_once(')') {
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let ticks = |i: usize| {
                fields
                    .get(i)
                    .and_then(|v| v.parse::<f64>().ok())
                    .unwrap_or(0.0)
            };
            f.cpu_seconds = (ticks(11) + ticks(12)) / TICKS;
        }
    }
    if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
        f.open_fds = fds.count() as i64;
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_are_observed_across_the_statuses_between() {
        let m = Metrics::new();
        m.status_changed(
            "s1",
            Some(SessionStatus::Pending),
            1_000,
            SessionStatus::Scheduled,
            1_500,
        );
        m.status_changed(
            "s1",
            Some(SessionStatus::Scheduled),
            1_500,
            SessionStatus::Preparing,
            1_600,
        );
        m.status_changed(
            "s1",
            Some(SessionStatus::Preparing),
            1_600,
            SessionStatus::Running,
            3_500,
        );
        // one that ends before it runs leaves nothing behind
        m.status_changed(
            "s2",
            Some(SessionStatus::Pending),
            0,
            SessionStatus::Scheduled,
            10,
        );
        m.status_changed(
            "s2",
            Some(SessionStatus::Scheduled),
            10,
            SessionStatus::Cancelled,
            20,
        );
        let text = m.render(&[], &[], 0, 0);
        assert!(
            text.contains("berth_scheduling_latency_seconds_count 2"),
            "{text}"
        );
        assert!(
            text.contains("berth_scheduling_latency_seconds_sum 0.51"),
            "{text}"
        );
        assert!(
            text.contains("berth_start_latency_seconds_count 1"),
            "{text}"
        );
        assert!(
            text.contains("berth_start_latency_seconds_sum 2.0"),
            "{text}"
        );
        assert!(m.scheduled_at.lock().unwrap().is_empty());
    }

    #[test]
    fn states_are_read_afresh_at_each_scrape() {
        let m = Metrics::new();
        let (pending, running) = (
            SessionStatus::Pending.as_str(),
            SessionStatus::Running.as_str(),
        );
        let tally = |status: &str, n| StatusTally {
            status: status.into(),
            resource_group: "default".into(),
            sessions: n,
            since: 1_000,
        };
        let sessions = |status: &str| {
            format!(r#"berth_sessions{{status="{status}",resource_group="default"}}"#)
        };
        let text = m.render(&[tally(pending, 3), tally(running, 2)], &[], 0, 31_000);
        assert!(text.contains(&format!("{} 3", sessions(pending))), "{text}");
        assert!(
            text.contains(r#"berth_queue_length{resource_group="default"} 3"#),
            "{text}"
        );
        assert!(
            text.contains(r#"berth_queue_oldest_wait_seconds{resource_group="default"} 30.0"#),
            "{text}"
        );
        // the queue emptied: its figures go, not stay at their last value
        let text = m.render(&[tally(running, 5)], &[], 0, 31_000);
        assert!(!text.contains("berth_queue_length{"), "{text}");
        assert!(text.contains(&format!("{} 5", sessions(running))), "{text}");
        assert!(
            text.contains("berth_process_resident_memory_bytes "),
            "{text}"
        );
    }
}
