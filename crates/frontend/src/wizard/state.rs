//! The launcher wizard's state and rules, as plain Rust (no view code), so
//! it is unit-tested natively. Every rule comes from `berth-shared`: the
//! wizard and the server judge a configuration the same way.
//!
//! Over 500 lines only because its unit tests sit below the code (about
//! 330 lines of code, the rest tests).
//!
//! The file is long for its tests: the code is the first part, and the
//! unit (and property) tests that pin it take the rest, beside it.

use std::collections::BTreeMap;

use berth_shared::bytes::{ByteSize, MIB};
use berth_shared::resources::{AgentInfo, EnvironmentVersion, ResourceBounds, ResourcePolicy};
use berth_shared::sessions::{
    env_rows, parse_port_list, preopen_ports_allowed, session_name, ClusterMode,
    CreateSessionRequest, Mount, PortRules, ResourceRequest, SessionType, DEFAULT_CPU, DEFAULT_MEM,
    DEFAULT_SHMEM,
};
use berth_shared::validate::{required, whole_number};
use berth_shared::FieldError;
use chrono::{DateTime, Utc};

/// Minutes, the unit of the maximum-run-time box (the request is in seconds).
pub const SECS_PER_MINUTE: u64 = 60;

/// The five pages, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Page {
    /// Type, name, batch options, owner.
    SessionType,
    /// Environment, env vars, resources.
    Environment,
    /// Folders to mount.
    Data,
    /// Preopen ports.
    Network,
    /// Summary and launch.
    Review,
}

impl Page {
    /// Every page, in order.
    pub const ALL: [Page; 5] = [
        Page::SessionType,
        Page::Environment,
        Page::Data,
        Page::Network,
        Page::Review,
    ];

    /// 0-based position.
    pub fn index(self) -> usize {
        Page::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }

    /// The page after this one.
    pub fn next(self) -> Option<Page> {
        Page::ALL.get(self.index() + 1).copied()
    }

    /// The page before this one.
    pub fn prev(self) -> Option<Page> {
        self.index().checked_sub(1).map(|i| Page::ALL[i])
    }

    /// Its name in element ids (`step-type`, `review-environment`, …).
    pub fn id(self) -> &'static str {
        match self {
            Page::SessionType => "type",
            Page::Environment => "environment",
            Page::Data => "data",
            Page::Network => "network",
            Page::Review => "review",
        }
    }

    /// The page that edits a request field (for errors from the server).
    pub fn of_field(field: &str) -> Page {
        let top = field.split(['.', '[']).next().unwrap_or("");
        match top {
            "type" | "name" | "startup_command" | "starts_at" | "batch_timeout" | "owner_email"
            | "project" => Page::SessionType,
            "mounts" => Page::Data,
            "preopen_ports" => Page::Network,
            _ => Page::Environment,
        }
    }
}

/// One environment-variable row as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvRow {
    /// Name.
    pub name: String,
    /// Value.
    pub value: String,
}

/// Everything the wizard edits. Defaults are what "Skip to review" launches.
#[derive(Debug, Clone, PartialEq)]
pub struct WizardState {
    /// Interactive or batch.
    pub session_type: SessionType,
    /// Optional name.
    pub name: String,
    /// Batch command.
    pub startup_command: String,
    /// Batch: not before (none = as soon as possible).
    pub starts_at: Option<DateTime<Utc>>,
    /// Set when a loaded configuration's start time had passed and was
    /// dropped (the page says so until the start time is edited).
    pub cleared_start: bool,
    /// Batch: maximum run time in seconds (none = no limit).
    pub batch_timeout: Option<u64>,
    /// Admins: launch for this user (email), once found.
    pub owner_email: Option<String>,
    /// Admins: the owner switch is on but no user is found for the email
    /// as it reads now (not searched yet, edited since, or none): Launch
    /// waits for a search that finds one.
    pub owner_unresolved: bool,
    /// Admins: the owner email box as typed (kept across pages).
    pub owner_text: String,
    /// Project (none = the owner's default).
    pub project: Option<String>,
    /// Resource group (none = the first allowed).
    pub resource_group: Option<String>,
    /// The agent chosen for a single session (none = automatic).
    pub agent: Option<String>,
    /// Environment name.
    pub environment: String,
    /// Environment version.
    pub version: String,
    /// A manual image reference instead (when the server allows it).
    pub manual_image: String,
    /// Environment variable rows.
    pub env: Vec<EnvRow>,
    /// CPU cores.
    pub cpu: f64,
    /// Memory.
    pub mem: ByteSize,
    /// Shared memory.
    pub shmem: ByteSize,
    /// Accelerators by slot.
    pub accelerators: BTreeMap<String, f64>,
    /// How many sessions.
    pub count: u32,
    /// All kernels on one agent, or over several.
    pub cluster_mode: ClusterMode,
    /// Kernels of each session (1 = no cluster).
    pub cluster_size: u32,
    /// Threads for OpenMP & co. (none = the CPU count).
    pub nthreads: Option<u32>,
    /// Storage folders to mount, in the order chosen.
    pub mounts: Vec<Mount>,
    /// Preopen ports as typed (commas or spaces between them).
    pub preopen: String,
    /// What the server allows of preopen ports (the image's service ports
    /// are taken; the most there may be); not part of the request.
    pub port_rules: PortRules,
    /// What CPU and memory must stay within (from the image, the agents and
    /// the owner's policy); not part of the request.
    pub bounds: ResourceBounds,
    /// Text typed in the whole-number boxes (`count`, `nthreads`,
    /// `batch_timeout` in minutes), by field: shown as typed, never
    /// rewritten, and flagged while it is not a number.
    pub typed: BTreeMap<&'static str, String>,
}

impl Default for WizardState {
    fn default() -> Self {
        Self {
            session_type: SessionType::Interactive,
            name: String::new(),
            startup_command: String::new(),
            starts_at: None,
            cleared_start: false,
            batch_timeout: None,
            owner_email: None,
            owner_unresolved: false,
            owner_text: String::new(),
            project: None,
            resource_group: None,
            agent: None,
            environment: String::new(),
            version: String::new(),
            manual_image: String::new(),
            env: Vec::new(),
            cpu: DEFAULT_CPU,
            mem: DEFAULT_MEM,
            shmem: DEFAULT_SHMEM,
            accelerators: BTreeMap::new(),
            count: 1,
            cluster_mode: ClusterMode::SingleNode,
            cluster_size: 1,
            nthreads: None,
            mounts: Vec::new(),
            preopen: String::new(),
            port_rules: PortRules::default(),
            bounds: ResourceBounds::default(),
            typed: BTreeMap::new(),
        }
    }
}

/// The bounds of one session's CPU and memory, as the server will judge
/// them: the chosen image version's minimums, the biggest agent of the
/// resource group (`group`; none yet = every agent counts), and the
/// owner's policy, when each is known.
pub fn bounds_for(
    version: Option<&EnvironmentVersion>,
    group: Option<&str>,
    agent: Option<&str>,
    agents: &[AgentInfo],
    policy: Option<&ResourcePolicy>,
) -> ResourceBounds {
    let in_group: Vec<&AgentInfo> = agents
        .iter()
        .filter(|a| group.is_none_or(|g| a.resource_group == g))
        .collect();
    // a chosen agent bounds the session alone (as the server judges it)
    let agents: Vec<&AgentInfo> = match agent {
        Some(id) if in_group.iter().any(|a| a.id == id) => {
            in_group.into_iter().filter(|a| a.id == id).collect()
        }
        _ => in_group,
    };
    let bounds = ResourceBounds {
        min_cpu: version.map_or(0.0, |v| v.min_cpu),
        min_mem: version.map(|v| v.min_mem).unwrap_or_default(),
        capacity_cpu: (!agents.is_empty())
            .then(|| agents.iter().map(|a| a.cpu_total).fold(0.0, f64::max)),
        capacity_mem: agents.iter().map(|a| a.mem_total).max(),
        ..Default::default()
    };
    match policy {
        Some(p) => bounds.with_policy(p),
        None => bounds,
    }
}

impl WizardState {
    /// The create body this state launches.
    pub fn to_request(&self) -> CreateSessionRequest {
        let batch = self.session_type == SessionType::Batch;
        let manual = self.manual_image.trim();
        CreateSessionRequest {
            session_type: self.session_type,
            name: self.name.trim().to_string(),
            image: (!manual.is_empty()).then(|| manual.to_string()),
            environment: (manual.is_empty()).then(|| self.environment.clone()),
            version: (manual.is_empty() && !self.version.is_empty()).then(|| self.version.clone()),
            resource_group: self.resource_group.clone(),
            resources: ResourceRequest {
                cpu: Some(self.cpu),
                mem: Some(self.mem),
                shmem: Some(self.shmem),
                accelerators: self
                    .accelerators
                    .iter()
                    .filter(|(_, v)| **v > 0.0)
                    .map(|(k, v)| (k.clone(), *v))
                    .collect(),
            },
            env: self
                .env
                .iter()
                .filter(|r| !r.name.is_empty())
                .map(|r| (r.name.clone(), r.value.clone()))
                .collect(),
            nthreads: self.nthreads,
            count: (self.count != 1).then_some(self.count),
            cluster_mode: self.cluster_mode,
            cluster_size: (self.cluster_size != 1).then_some(self.cluster_size),
            agent: self.agent.clone(),
            owner_email: self.owner_email.clone(),
            project: self.project.clone(),
            startup_command: batch.then(|| self.startup_command.clone()),
            starts_at: if batch { self.starts_at } else { None },
            batch_timeout: if batch { self.batch_timeout } else { None },
            mounts: self.mounts.clone(),
            // what does not parse is reported by `errors` and blocks launch
            preopen_ports: parse_port_list(&self.preopen).unwrap_or_default(),
        }
    }

    /// A state that launches `req` again (from the recent history).
    pub fn from_request(req: &CreateSessionRequest) -> Self {
        let d = WizardState::default();
        WizardState {
            session_type: req.session_type,
            name: req.name.clone(),
            startup_command: req.startup_command.clone().unwrap_or_default(),
            starts_at: req.starts_at,
            cleared_start: false,
            batch_timeout: req.batch_timeout,
            owner_email: req.owner_email.clone(),
            owner_unresolved: false,
            owner_text: req.owner_email.clone().unwrap_or_default(),
            project: req.project.clone(),
            resource_group: req.resource_group.clone(),
            agent: req.agent.clone(),
            environment: req.environment.clone().unwrap_or_default(),
            version: req.version.clone().unwrap_or_default(),
            manual_image: req.image.clone().unwrap_or_default(),
            env: req
                .env
                .iter()
                .map(|(k, v)| EnvRow {
                    name: k.clone(),
                    value: v.clone(),
                })
                .collect(),
            cpu: req.resources.cpu.unwrap_or(d.cpu),
            mem: req.resources.mem.unwrap_or(d.mem),
            shmem: req.resources.shmem.unwrap_or(d.shmem),
            accelerators: req.resources.accelerators.clone(),
            count: req.count.unwrap_or(1),
            cluster_mode: req.cluster_mode,
            cluster_size: req.cluster_size.unwrap_or(1),
            nthreads: req.nthreads,
            mounts: req.mounts.clone(),
            preopen: req
                .preopen_ports
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            port_rules: d.port_rules,
            bounds: d.bounds,
            typed: BTreeMap::new(),
        }
    }

    /// Takes what was typed in a whole-number box. A number sets the field
    /// (`batch_timeout` is typed in minutes); anything else leaves it as it
    /// was, and the text stays, flagged by [`WizardState::errors`].
    pub fn type_whole(&mut self, field: &'static str, text: &str) {
        self.typed.insert(field, text.to_string());
        let Ok(n) = whole_number(text) else { return };
        let small = n.map(u32::try_from);
        match (field, small) {
            ("count", Some(Ok(c))) => self.count = c,
            ("cluster_size", Some(Ok(c))) => self.cluster_size = c,
            ("nthreads", None) => self.nthreads = None,
            ("nthreads", Some(Ok(t))) => self.nthreads = Some(t),
            ("batch_timeout", _) => {
                self.batch_timeout = n.map(|m| m.saturating_mul(SECS_PER_MINUTE))
            }
            _ => {}
        }
    }

    /// The text a whole-number box shows: as typed, else the field's value.
    pub fn whole_text(&self, field: &str) -> String {
        if let Some(t) = self.typed.get(field) {
            return t.clone();
        }
        match field {
            "count" => self.count.to_string(),
            "cluster_size" => self.cluster_size.to_string(),
            "nthreads" => self.nthreads.map(|n| n.to_string()).unwrap_or_default(),
            "batch_timeout" => self
                .batch_timeout
                .map(|t| (t / SECS_PER_MINUTE).to_string())
                .unwrap_or_default(),
            _ => String::new(),
        }
    }

    /// What is wrong with the text in the whole-number boxes.
    fn typed_errors(&self) -> Vec<FieldError> {
        let batch = self.session_type == SessionType::Batch;
        self.typed
            .iter()
            // a hidden box (batch-only, on an interactive session) counts for nothing
            .filter(|(field, _)| batch || **field != "batch_timeout")
            .filter_map(|(field, text)| match whole_number(text) {
                Err(e) => Some(e.at(field)),
                Ok(None) if *field == "count" || *field == "cluster_size" => {
                    required(text).err().map(|e| e.at(field))
                }
                Ok(Some(n)) if *field != "batch_timeout" && u32::try_from(n).is_err() => {
                    Some(FieldError::new(*field, "out_of_range", "Too large."))
                }
                _ => None,
            })
            .collect()
    }

    /// Every rule the configuration breaks, with the field it belongs to.
    pub fn errors(&self) -> Vec<FieldError> {
        // what is typed comes first: the value behind it may be an older one
        let mut errs = self.typed_errors();
        if let Err(e) = self.to_request().validate() {
            errs.extend(e);
        }
        // env rows are judged as rows (duplicates, empty names), not as a map
        errs.retain(|e| !e.field.starts_with("env."));
        let rows: Vec<(String, String)> = self
            .env
            .iter()
            .map(|r| (r.name.clone(), r.value.clone()))
            .collect();
        if let Err(e) = env_rows(&rows) {
            // a row left blank is ignored (as by `to_request`), not an error
            let blank = |f: &str| {
                self.env.iter().enumerate().any(|(i, r)| {
                    r.name.is_empty() && r.value.is_empty() && f == format!("env[{i}].name")
                })
            };
            errs.extend(e.into_iter().filter(|e| !blank(&e.field)));
        }
        errs.extend(self.bounds.check(self.cpu, self.mem));
        if self.owner_unresolved {
            errs.push(FieldError::new(
                "owner_email",
                "owner_unresolved",
                "Find the owner by email first (Search).",
            ));
        }
        if !errs.iter().any(|e| e.field == "preopen_ports") {
            let ports = parse_port_list(&self.preopen)
                .and_then(|p| preopen_ports_allowed(&p, &self.port_rules));
            if let Err(e) = ports {
                errs.push(e.at("preopen_ports"));
            }
        }
        if !self.name.trim().is_empty() {
            if let Err(e) = session_name(self.name.trim()) {
                if !errs.iter().any(|x| x.field == "name") {
                    errs.push(e.at("name"));
                }
            }
        }
        errs
    }

    /// The errors that belong to one page.
    pub fn page_errors(&self, page: Page) -> Vec<FieldError> {
        self.errors()
            .into_iter()
            .filter(|e| Page::of_field(&e.field) == page)
            .collect()
    }

    /// The message for one field, if it is invalid.
    pub fn error_for(&self, field: &str) -> Option<FieldError> {
        self.errors().into_iter().find(|e| e.field == field)
    }

    /// Launch is possible only with no error on any page.
    pub fn can_launch(&self) -> bool {
        self.errors().is_empty()
    }

    /// Applies a preset's resources.
    pub fn apply_preset(
        &mut self,
        cpu: f64,
        mem: ByteSize,
        shmem: ByteSize,
        accelerators: &BTreeMap<String, f64>,
    ) {
        self.cpu = cpu;
        self.mem = mem;
        self.shmem = shmem;
        self.accelerators = accelerators.clone();
    }

    /// Whether the resources are exactly a preset's (a slot at 0 is the
    /// same as no slot): the preset box shows it, else "Custom".
    pub fn is_preset(
        &self,
        cpu: f64,
        mem: ByteSize,
        shmem: ByteSize,
        accelerators: &BTreeMap<String, f64>,
    ) -> bool {
        let nonzero = |m: &BTreeMap<String, f64>| -> Vec<(String, f64)> {
            m.iter()
                .filter(|(_, v)| **v != 0.0)
                .map(|(k, v)| (k.clone(), *v))
                .collect()
        };
        (self.cpu - cpu).abs() < 1e-9
            && self.mem == mem
            && self.shmem == shmem
            && nonzero(&self.accelerators) == nonzero(accelerators)
    }

    /// Memory in MiB (the unit of the memory slider).
    pub fn mem_mib(&self) -> u64 {
        self.mem.0 / MIB
    }

    /// Shared memory in MiB.
    pub fn shmem_mib(&self) -> u64 {
        self.shmem.0 / MIB
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready() -> WizardState {
        WizardState {
            environment: "berth/busybox".into(),
            version: "latest".into(),
            ..Default::default()
        }
    }

    fn fields(s: &WizardState) -> Vec<String> {
        s.errors().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn an_owner_not_found_for_the_email_as_it_reads_blocks_launch() {
        let mut s = WizardState::default();
        assert_eq!(s.error_for("owner_email"), None);
        s.owner_unresolved = true;
        assert_eq!(
            s.error_for("owner_email").map(|e| e.code).as_deref(),
            Some("owner_unresolved")
        );
        assert_eq!(Page::of_field("owner_email"), Page::SessionType);
        assert!(!s.can_launch());
    }

    #[test]
    fn the_preset_shown_follows_the_values() {
        let mut s = WizardState::default();
        let gpu = BTreeMap::from([("cuda.device".to_string(), 1.0)]);
        let (mem, shmem) = (ByteSize(1 << 30), ByteSize(64 << 20));
        s.apply_preset(1.0, mem, shmem, &gpu);
        assert!(s.is_preset(1.0, mem, shmem, &gpu));
        // a slider moves: no longer the preset (the box says Custom)
        s.cpu = 1.5;
        assert!(!s.is_preset(1.0, mem, shmem, &gpu));
        s.apply_preset(1.0, mem, shmem, &gpu);
        s.accelerators.insert("tpu".into(), 0.0);
        assert!(s.is_preset(1.0, mem, shmem, &gpu), "a slot at 0 is no slot");
        s.accelerators.insert("cuda.device".into(), 2.0);
        assert!(!s.is_preset(1.0, mem, shmem, &gpu));
    }

    #[test]
    fn whole_number_boxes_keep_what_is_typed_and_flag_it() {
        let mut s = WizardState::default();
        let code = |s: &WizardState, f: &str| s.error_for(f).map(|e| e.code);
        for bad in ["12.5", "-5", "1e3", "4 4"] {
            s.type_whole("count", bad);
            assert_eq!(s.whole_text("count"), bad, "never rewritten");
            assert_eq!(s.count, 1, "{bad} sets nothing");
            assert_eq!(code(&s, "count").as_deref(), Some("not_whole_number"));
            assert!(!s.can_launch());
        }
        s.type_whole("count", "");
        assert_eq!(code(&s, "count").as_deref(), Some("required"));
        s.type_whole("count", "3");
        assert_eq!((s.count, code(&s, "count")), (3, None));
        // past the field's own rule: the shared request rule says so
        s.type_whole("count", "1000");
        assert_eq!(code(&s, "count").as_deref(), Some("out_of_range"));
        s.type_whole("count", "99999999999");
        assert_eq!(code(&s, "count").as_deref(), Some("out_of_range"));

        s.type_whole("nthreads", "2.5");
        assert_eq!(
            (s.nthreads, code(&s, "nthreads").as_deref()),
            (None, Some("not_whole_number"))
        );
        s.type_whole("nthreads", "");
        assert_eq!(
            (s.nthreads, code(&s, "nthreads")),
            (None, None),
            "empty: the CPU count"
        );

        s.type_whole("batch_timeout", "90");
        assert_eq!(s.batch_timeout, Some(90 * 60), "typed in minutes");
        assert_eq!(s.whole_text("batch_timeout"), "90");
        s.type_whole("batch_timeout", "-1");
        assert_eq!(
            code(&s, "batch_timeout"),
            None,
            "hidden on an interactive session"
        );
        s.session_type = SessionType::Batch;
        assert_eq!(
            code(&s, "batch_timeout").as_deref(),
            Some("not_whole_number")
        );
    }

    #[test]
    fn resources_outside_the_bounds_block_launch_on_the_resources_page() {
        let mut s = ready();
        s.bounds = ResourceBounds {
            min_cpu: 0.5,
            capacity_cpu: Some(4.0),
            capacity_mem: Some(ByteSize(2 << 30)),
            policy_cpu: Some(2.0),
            ..Default::default()
        };
        assert!(s.can_launch());
        s.cpu = 3.0;
        assert_eq!(
            s.error_for("resources.cpu").map(|e| e.code),
            Some("exceeds_policy".to_string())
        );
        assert_eq!(s.page_errors(Page::Environment).len(), 1);
        assert!(!s.can_launch());
        s.cpu = 0.25;
        assert_eq!(
            s.error_for("resources.cpu").map(|e| e.code),
            Some("below_image_minimum".to_string())
        );
        s.cpu = 1.0;
        s.mem = ByteSize(3 << 30);
        assert_eq!(fields(&s), ["resources.mem"]);
    }

    #[test]
    fn defaults_launch_once_an_environment_is_chosen() {
        assert_eq!(fields(&WizardState::default()), ["environment"]);
        assert!(ready().can_launch());
        let req = ready().to_request();
        assert_eq!(req.environment.as_deref(), Some("berth/busybox"));
        assert_eq!(req.image, None);
        assert_eq!(req.count, None);
        assert_eq!(req.resources.mem, Some(DEFAULT_MEM));
    }

    #[test]
    fn a_blank_env_row_is_ignored_but_a_value_without_a_name_is_not() {
        let mut s = ready();
        s.env = vec![EnvRow::default(), EnvRow::default()];
        assert!(s.can_launch(), "{:?}", s.errors());
        assert!(s.to_request().env.is_empty());
        s.env[1].value = "orphan".into();
        let env: Vec<_> = s
            .page_errors(Page::Environment)
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(env, ["env[1].name"]);
    }

    #[test]
    fn errors_land_on_their_pages() {
        let mut s = ready();
        s.name = "has space".into();
        s.mem = ByteSize(128 * MIB);
        s.shmem = ByteSize(256 * MIB);
        s.env = vec![
            EnvRow {
                name: "A".into(),
                value: "1".into(),
            },
            EnvRow {
                name: "A".into(),
                value: "2".into(),
            },
            EnvRow {
                name: "9x".into(),
                value: "".into(),
            },
        ];
        assert!(!s.can_launch());
        let type_page: Vec<_> = s
            .page_errors(Page::SessionType)
            .into_iter()
            .map(|e| e.code)
            .collect();
        assert_eq!(type_page, ["invalid_session_name"]);
        let env_page: Vec<_> = s
            .page_errors(Page::Environment)
            .into_iter()
            .map(|e| (e.field, e.code))
            .collect();
        assert_eq!(
            env_page,
            [
                (
                    "resources.shmem".to_string(),
                    "shmem_exceeds_mem".to_string()
                ),
                ("env[1].name".to_string(), "duplicate".to_string()),
                ("env[2].name".to_string(), "invalid_env_name".to_string()),
            ]
        );
        assert!(s.page_errors(Page::Data).is_empty());
    }

    #[test]
    fn preopen_ports_are_typed_checked_and_sent() {
        let mut s = ready();
        s.preopen = "8080, 8081 9000".into();
        assert_eq!(s.to_request().preopen_ports, [8080, 8081, 9000]);
        assert!(s.can_launch());
        let code = |s: &WizardState| {
            s.page_errors(Page::Network)
                .into_iter()
                .map(|e| (e.field, e.code))
                .collect::<Vec<_>>()
        };
        for (typed, expected) in [
            ("80", "out_of_range"),
            ("8080 8080", "duplicate"),
            ("http", "invalid_port"),
            ("8081", "service_port"),
            ("8082 8083 8084", "too_many"),
        ] {
            s.preopen = typed.into();
            s.port_rules = PortRules {
                taken: vec![8081],
                max: Some(2),
            };
            assert_eq!(
                code(&s),
                [("preopen_ports".to_string(), expected.to_string())],
                "{typed}"
            );
        }
        s.preopen = "9000,9001".into();
        let again = WizardState::from_request(&s.to_request());
        assert_eq!(again.preopen, "9000, 9001");
    }

    #[test]
    fn batch_needs_a_command_and_interactive_drops_batch_fields() {
        let mut s = ready();
        s.session_type = SessionType::Batch;
        assert_eq!(fields(&s), ["startup_command"]);
        s.startup_command = "python train.py".into();
        s.batch_timeout = Some(3600);
        assert!(s.can_launch());
        s.session_type = SessionType::Interactive;
        let req = s.to_request();
        assert_eq!((req.startup_command, req.batch_timeout), (None, None));
        assert!(
            s.can_launch(),
            "switching back to interactive does not leave errors behind"
        );
    }

    #[test]
    fn manual_image_replaces_the_environment() {
        let mut s = ready();
        s.manual_image = " registry.local/x:1 ".into();
        let req = s.to_request();
        assert_eq!(req.image.as_deref(), Some("registry.local/x:1"));
        assert_eq!(req.environment, None);
        assert!(s.can_launch());
    }

    #[test]
    fn a_request_round_trips_through_the_state() {
        let mut s = ready();
        s.session_type = SessionType::Batch;
        s.name = "nightly".into();
        s.startup_command = "make".into();
        s.cpu = 2.0;
        s.mem = ByteSize(2048 * MIB);
        s.env = vec![EnvRow {
            name: "K".into(),
            value: "v".into(),
        }];
        s.count = 3;
        s.nthreads = Some(2);
        s.cluster_mode = ClusterMode::MultiNode;
        s.cluster_size = 3;
        s.owner_email = Some("u@x.io".into());
        s.owner_text = "u@x.io".into();
        assert_eq!(WizardState::from_request(&s.to_request()), s);
    }

    #[test]
    fn bounds_come_from_the_version_the_group_and_the_policy() {
        use berth_shared::resources::AgentStatus;
        let agent = |id: &str, group: &str, cpu: f64| AgentInfo {
            id: id.into(),
            resource_group: group.into(),
            status: AgentStatus::Alive,
            cpu_total: cpu,
            cpu_used: 0.0,
            mem_total: ByteSize(4 << 30),
            mem_used: ByteSize(0),
            accelerators_total: BTreeMap::new(),
            accelerators_used: BTreeMap::new(),
            schedulable: true,
            reserve_cpu: 0.0,
            reserve_mem: ByteSize(0),
            lost_since: None,
            docker_host: None,
            sees_storage: true,
            storage_path: None,
            port_range: None,
        };
        let agents = [agent("a", "default", 4.0), agent("b", "gpu", 16.0)];
        let version = EnvironmentVersion {
            version: "latest".into(),
            image: "x:latest".into(),
            service_ports: vec![],
            min_cpu: 0.5,
            min_mem: ByteSize(64 * MIB),
        };
        let b = bounds_for(Some(&version), Some("default"), None, &agents, None);
        assert_eq!((b.min_cpu, b.min_mem), (0.5, ByteSize(64 * MIB)));
        assert_eq!(b.max_cpu(), Some(4.0), "only the group's agents count");
        assert_eq!(
            bounds_for(None, None, None, &agents, None).max_cpu(),
            Some(16.0)
        );
        assert_eq!(bounds_for(None, None, None, &[], None).max_cpu(), None);
        // a chosen agent bounds alone; one not in the group is ignored
        assert_eq!(
            bounds_for(None, None, Some("a"), &agents, None).max_cpu(),
            Some(4.0)
        );
        assert_eq!(
            bounds_for(None, Some("default"), Some("b"), &agents, None).max_cpu(),
            Some(4.0)
        );
        let policy = ResourcePolicy {
            name: "p".into(),
            max_concurrent_sessions: 0,
            max_total_cpu: 2.0,
            max_total_mem: ByteSize(0),
            max_session_lifetime: 0,
            max_folders: 0,
            max_folder_bytes: Default::default(),
            idle_timeout: None,
            max_customized_images: 0,
            max_pending_sessions: 0,
        };
        let b = bounds_for(None, Some("default"), None, &agents, Some(&policy));
        assert_eq!(b.max_cpu(), Some(2.0));
        assert_eq!(b.max_mem(), Some(ByteSize(4 << 30)));
    }

    #[test]
    fn server_fields_map_to_pages() {
        assert_eq!(Page::of_field("name"), Page::SessionType);
        assert_eq!(Page::of_field("owner_email"), Page::SessionType);
        assert_eq!(Page::of_field("resources.cpu"), Page::Environment);
        assert_eq!(Page::of_field("env[3].name"), Page::Environment);
        assert_eq!(Page::of_field("image"), Page::Environment);
        assert_eq!(Page::of_field("mounts[0]"), Page::Data);
        assert_eq!(Page::of_field("preopen_ports"), Page::Network);
        assert_eq!(Page::Review.next(), None);
        assert_eq!(Page::SessionType.prev(), None);
        assert_eq!(Page::Environment.next(), Some(Page::Data));
        let ids: Vec<_> = Page::ALL.iter().map(|p| p.id()).collect();
        assert_eq!(ids, ["type", "environment", "data", "network", "review"]);
    }
}
