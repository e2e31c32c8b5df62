//! Why the scheduler keeps a session waiting, as facts rather than prose:
//! each failed check carries what a sentence about it needs, so the browser
//! words it in the chosen language. `english()` words it for REST clients
//! (the `msg` next to the facts).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::bytes::ByteSize;

/// One failed scheduler check with its facts. Serialized with a `kind` tag
/// beside the check's `name` and `msg` in
/// `status_data.scheduler.failed_predicates[]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CheckFailure {
    /// A batch session's start time is still ahead.
    StartTime {
        /// When it may start.
        at: DateTime<Utc>,
    },
    /// The owner's policy caps sessions running at once.
    Concurrency {
        /// The cap.
        max: u32,
    },
    /// The owner's policy caps CPU over all their sessions.
    PolicyCpu {
        /// The cap.
        max: f64,
        /// Held by their other sessions.
        held: f64,
        /// Asked by this one.
        asked: f64,
    },
    /// The owner's policy caps memory (bytes) over all their sessions.
    PolicyMemory {
        /// The cap.
        max: u64,
        /// Held by their other sessions.
        held: u64,
        /// Asked by this one.
        asked: u64,
    },
    /// The resource group has no agents at all.
    NoAgents {
        /// The group.
        group: String,
    },
    /// The agent asked for is not in the session's group.
    AgentNotInGroup {
        /// The agent.
        agent: String,
        /// The group.
        group: String,
    },
    /// The agent that came closest does not answer.
    AgentUnreachable {
        /// The agent.
        agent: String,
    },
    /// The agent that came closest is drained by an admin: nothing new
    /// goes there.
    AgentDraining {
        /// The agent.
        agent: String,
    },
    /// The session mounts folders and the agent that came closest does
    /// not see the folder storage (no storage path is set for it).
    NoStorage {
        /// The agent.
        agent: String,
    },
    /// No engine berth drives has its image (removed since it was asked
    /// for): it waits until one has.
    ImageMissing {
        /// The image.
        image: String,
    },
    /// An older session of its group has waited too long for room: later
    /// ones no longer overtake it.
    BehindOlder {
        /// How long that session has waited, in seconds.
        waited_secs: u64,
    },
    /// The closest agent has too little of one resource.
    Short {
        /// The agent.
        agent: String,
        /// `cpu`, `mem` (bytes) or an accelerator slot (`cuda.device`).
        resource: String,
        /// How much the session needs.
        needs: f64,
        /// How much the agent has free.
        free: f64,
    },
}

/// One failed check as `status_data.scheduler.failed_predicates[]` and the
/// dry run hold it: the check's name, the English sentence, the facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(from = "FlatCheck")]
pub struct FailedCheck {
    /// Check name (`reserved_time`, `concurrency`, `keypair_resource_limit`,
    /// `designated_agent`, `capacity`).
    pub name: String,
    /// For people reading the API: "needs 4 CPU, agent local has 1.5 free".
    pub msg: String,
    /// The facts, flattened beside `name` and `msg` with a `kind` tag
    /// (none in what an older server stored: then `msg` is all there is).
    #[serde(flatten)]
    pub why: Option<CheckFailure>,
}

/// A [`FailedCheck`] as it travels: `name`, `msg` and the facts' fields
/// side by side. Read flat rather than through serde's `flatten` of a
/// tagged enum, which buffers every check into a generic tree first and
/// costs the browser's first-visit build ~35 KB of code.
#[derive(Deserialize)]
struct FlatCheck {
    name: String,
    msg: String,
    kind: Option<String>,
    at: Option<DateTime<Utc>>,
    max: Option<serde_json::Number>,
    held: Option<serde_json::Number>,
    asked: Option<serde_json::Number>,
    group: Option<String>,
    agent: Option<String>,
    image: Option<String>,
    waited_secs: Option<u64>,
    resource: Option<String>,
    needs: Option<f64>,
    free: Option<f64>,
}

impl FlatCheck {
    /// The facts its `kind` names, when all of them are there.
    fn why(self) -> Option<CheckFailure> {
        let float = |n: Option<serde_json::Number>| n.and_then(|n| n.as_f64());
        let whole = |n: Option<serde_json::Number>| n.and_then(|n| n.as_u64());
        Some(match self.kind?.as_str() {
            "start_time" => CheckFailure::StartTime { at: self.at? },
            "concurrency" => CheckFailure::Concurrency {
                max: u32::try_from(whole(self.max)?).ok()?,
            },
            "policy_cpu" => CheckFailure::PolicyCpu {
                max: float(self.max)?,
                held: float(self.held)?,
                asked: float(self.asked)?,
            },
            "policy_memory" => CheckFailure::PolicyMemory {
                max: whole(self.max)?,
                held: whole(self.held)?,
                asked: whole(self.asked)?,
            },
            "no_agents" => CheckFailure::NoAgents { group: self.group? },
            "agent_not_in_group" => CheckFailure::AgentNotInGroup {
                agent: self.agent?,
                group: self.group?,
            },
            "agent_unreachable" => CheckFailure::AgentUnreachable { agent: self.agent? },
            "agent_draining" => CheckFailure::AgentDraining { agent: self.agent? },
            "no_storage" => CheckFailure::NoStorage { agent: self.agent? },
            "image_missing" => CheckFailure::ImageMissing { image: self.image? },
            "behind_older" => CheckFailure::BehindOlder {
                waited_secs: self.waited_secs?,
            },
            "short" => CheckFailure::Short {
                agent: self.agent?,
                resource: self.resource?,
                needs: self.needs?,
                free: self.free?,
            },
            _ => return None,
        })
    }
}

impl From<FlatCheck> for FailedCheck {
    fn from(mut flat: FlatCheck) -> Self {
        FailedCheck {
            name: std::mem::take(&mut flat.name),
            msg: std::mem::take(&mut flat.msg),
            why: flat.why(),
        }
    }
}

impl FailedCheck {
    /// The check `name` failed for `why`; `msg` is written from the facts.
    pub fn new(name: &str, why: CheckFailure) -> Self {
        FailedCheck {
            name: name.to_string(),
            msg: why.english(),
            why: Some(why),
        }
    }
}

/// What the scheduler would do with one session of a create request now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Prediction {
    /// It would be placed at once, on this agent.
    StartsNow {
        /// The agent.
        agent: String,
    },
    /// It would wait in its group's queue.
    Waits {
        /// The resource group whose queue it joins.
        resource_group: String,
        /// 1 = first in that queue.
        position: u32,
        /// The reason code it would carry (`no-available-instances`, …).
        status_info: String,
        /// Why, as the scheduler would store it.
        failed_predicates: Vec<FailedCheck>,
    },
}

/// `POST /api/v1/sessions/dry-run`: the scheduler's own decision on the
/// current state for a create request, one prediction per session it would
/// create (`count`). Nothing is stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DryRun {
    /// In the order the sessions would be created.
    pub sessions: Vec<Prediction>,
}

/// `1`, `1.5`, `0.25`: a count without trailing zeros.
pub fn amount(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// An amount of `resource` for people: bytes for `mem`, a count otherwise.
pub fn resource_amount(resource: &str, v: f64) -> String {
    if resource == "mem" {
        ByteSize(v.max(0.0) as u64).human()
    } else {
        amount(v.max(0.0))
    }
}

impl CheckFailure {
    /// The sentence REST clients get as `msg`.
    pub fn english(&self) -> String {
        match self {
            Self::StartTime { at } => format!(
                "waits for its start time ({})",
                at.to_rfc3339_opts(SecondsFormat::Secs, true)
            ),
            Self::Concurrency { max } => {
                format!("you cannot run more than {max} sessions at once")
            }
            Self::PolicyCpu { max, held, asked } => format!(
                "your policy allows {} CPU in all; {} held, {} more asked",
                amount(*max),
                amount(*held),
                amount(*asked)
            ),
            Self::PolicyMemory { max, held, asked } => format!(
                "your policy allows {} memory in all; {} held, {} more asked",
                ByteSize(*max).human(),
                ByteSize(*held).human(),
                ByteSize(*asked).human()
            ),
            Self::NoAgents { group } => format!("resource group {group} has no agents"),
            Self::AgentNotInGroup { agent, group } => {
                format!("agent {agent} is not in resource group {group}")
            }
            Self::AgentUnreachable { agent } => format!("agent {agent} is not reachable"),
            Self::ImageMissing { image } => {
                format!("image {image} is on no agent; it waits until one has it")
            }
            Self::AgentDraining { agent } => {
                format!("agent {agent} is drained: it takes no new sessions")
            }
            Self::NoStorage { agent } => format!(
                "agent {agent} does not see the folder storage: sessions with folders run only on agents that do"
            ),
            Self::BehindOlder { waited_secs } => format!(
                "an older session of its group has waited {waited_secs} s for room and goes first"
            ),
            Self::Short {
                agent,
                resource,
                needs,
                free,
            } => {
                let what = match resource.as_str() {
                    "cpu" => "CPU",
                    "mem" => "memory",
                    slot => slot,
                };
                format!(
                    "needs {} {what}, agent {agent} has {} free",
                    resource_amount(resource, *needs),
                    resource_amount(resource, *free)
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_travel_beside_name_and_message() {
        let f = CheckFailure::Short {
            agent: "local".into(),
            resource: "cpu".into(),
            needs: 1.0,
            free: 0.0,
        };
        let v = serde_json::to_value(&f).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"kind": "short", "agent": "local", "resource": "cpu", "needs": 1.0, "free": 0.0})
        );
        // a stored check also holds `name` and `msg`: they do not get in the way
        let mut stored = v.clone();
        stored["name"] = "capacity".into();
        stored["msg"] = f.english().into();
        assert_eq!(
            serde_json::from_value::<CheckFailure>(stored.clone()).unwrap(),
            f
        );
        let check = FailedCheck::new("capacity", f.clone());
        assert_eq!(serde_json::to_value(&check).unwrap(), stored);
        assert_eq!(
            serde_json::from_value::<FailedCheck>(stored).unwrap(),
            check
        );
        assert_eq!(f.english(), "needs 1 CPU, agent local has 0 free");
    }

    #[test]
    fn every_kind_of_fact_reads_back_and_an_unknown_one_is_only_its_message() {
        let at = "2026-12-06T10:00:00Z".parse().unwrap();
        let agent = || "a1".to_string();
        let group = || "default".to_string();
        for why in [
            CheckFailure::StartTime { at },
            CheckFailure::Concurrency { max: 3 },
            CheckFailure::PolicyCpu {
                max: 4.0,
                held: 2.5,
                asked: 2.0,
            },
            CheckFailure::PolicyMemory {
                max: u64::MAX - 1,
                held: 1 << 40,
                asked: 7,
            },
            CheckFailure::NoAgents { group: group() },
            CheckFailure::AgentNotInGroup {
                agent: agent(),
                group: group(),
            },
            CheckFailure::AgentUnreachable { agent: agent() },
            CheckFailure::AgentDraining { agent: agent() },
            CheckFailure::NoStorage { agent: agent() },
            CheckFailure::ImageMissing {
                image: "berth/python:3.11".into(),
            },
            CheckFailure::BehindOlder { waited_secs: 301 },
            CheckFailure::Short {
                agent: agent(),
                resource: "mem".into(),
                needs: 1e9,
                free: 0.5,
            },
        ] {
            let check = FailedCheck::new("capacity", why);
            let json = serde_json::to_string(&check).unwrap();
            assert_eq!(
                serde_json::from_str::<FailedCheck>(&json).unwrap(),
                check,
                "{json}"
            );
        }
        let older = r#"{"name":"capacity","msg":"no room","kind":"a_later_kind","agent":"a1"}"#;
        let read = serde_json::from_str::<FailedCheck>(older).unwrap();
        assert_eq!((read.msg.as_str(), read.why), ("no room", None));
        let partial = r#"{"name":"capacity","msg":"m","kind":"short","agent":"a1"}"#;
        assert_eq!(
            serde_json::from_str::<FailedCheck>(partial).unwrap().why,
            None
        );
    }

    #[test]
    fn memory_reads_in_binary_units() {
        let f = CheckFailure::Short {
            agent: "a".into(),
            resource: "mem".into(),
            needs: (3 * 1024 * 1024 * 1024u64) as f64,
            free: (512 * 1024 * 1024u64) as f64,
        };
        assert_eq!(f.english(), "needs 3 GiB memory, agent a has 512 MiB free");
    }
}
