//! agents and agent_accelerators: capacity, what is held, and the guarded
//! take/give-back that keeps an agent from ever being over-committed.

use std::collections::{BTreeMap, HashMap};

use berth_shared::resources::AgentStatus;
use sqlx::FromRow;

use super::{now_ms, Store, StoreResult};

/// A row of `agents`, with its accelerators (from `agent_accelerators`).
#[derive(Debug, Clone, FromRow)]
pub struct AgentRow {
    /// Id.
    pub id: String,
    /// Resource group.
    pub resource_group: String,
    /// Engine address.
    pub docker_host: String,
    /// Read it with [`AgentRow::status`].
    pub status: String,
    /// Cores.
    pub cpu_total: f64,
    /// Bytes.
    pub mem_total: i64,
    /// Cores held.
    pub cpu_used: f64,
    /// Bytes held.
    pub mem_used: i64,
    /// 0 while drained (nothing new is placed on it).
    pub schedulable: i64,
    /// Docker's TLS folder for a `tcp://` engine.
    pub tls_cert_dir: Option<String>,
    /// Cores kept back from what the engine reports.
    pub reserve_cpu: f64,
    /// Bytes kept back.
    pub reserve_mem: i64,
    /// Since when its engine has not answered (ms), while LOST.
    pub lost_at: Option<i64>,
    /// Where its host sees the folder storage; none: it does not.
    pub storage_path: Option<String>,
    /// Its published-port range (`first-last`); none: the default.
    pub port_range: Option<String>,
    /// Declared accelerators: slot → amount.
    #[sqlx(skip)]
    pub accel_total: BTreeMap<String, f64>,
    /// Accelerators held by sessions: slot → amount.
    #[sqlx(skip)]
    pub accel_used: BTreeMap<String, f64>,
}

impl AgentRow {
    /// ALIVE or LOST. An unknown value counts as LOST (nothing is placed
    /// on it; the next liveness check writes a real value) and is logged.
    pub fn status(&self) -> AgentStatus {
        AgentStatus::parse(&self.status).unwrap_or_else(|| {
            tracing::warn!(agent = %self.id, status = %self.status, "unknown agent status; counted as LOST");
            AgentStatus::Lost
        })
    }
}

/// One slot of an agent's accelerators.
#[derive(Debug, Clone, FromRow)]
struct SlotRow {
    agent_id: String,
    slot: String,
    total: f64,
    used: f64,
}

const AGENT_COLUMNS: &str =
    "id, resource_group, docker_host, status, cpu_total, mem_total, cpu_used, mem_used, \
     schedulable, tls_cert_dir, reserve_cpu, reserve_mem, lost_at, storage_path, port_range";

/// Tolerance for summed fractional CPUs and accelerator shares.
const EPSILON: f64 = 1e-6;

/// What admins change on an agent (`None`: unchanged).
#[derive(Debug, Clone, Default)]
pub struct AgentChange {
    /// Its group.
    pub resource_group: Option<String>,
    /// Drained or not.
    pub schedulable: Option<bool>,
    /// Declared accelerators.
    pub accelerators: Option<BTreeMap<String, f64>>,
    /// Cores kept back.
    pub reserve_cpu: Option<f64>,
    /// Bytes kept back.
    pub reserve_mem: Option<i64>,
    /// Where its host sees the folder storage (`Some(None)`: nowhere).
    pub storage_path: Option<Option<String>>,
    /// Its published-port range (`Some(None)`: the default).
    pub port_range: Option<Option<String>>,
}

/// What one session holds on its agent.
#[derive(Debug, Clone, Copy)]
pub struct Hold<'a> {
    /// Cores.
    pub cpu: f64,
    /// Bytes.
    pub mem: i64,
    /// Accelerators by slot.
    pub accelerators: &'a BTreeMap<String, f64>,
}

impl Store {
    /// Registers or refreshes an agent's address, capacity, status and
    /// declared accelerators (keeps what is held, and what admins set: its
    /// group, drain and reserve).
    pub async fn upsert_agent(&self, row: &AgentRow) -> StoreResult<()> {
        self.write_agent(row, true).await.map(|_| ())
    }

    /// Registers a new agent; false when the id is taken.
    pub async fn insert_agent(&self, row: &AgentRow) -> StoreResult<bool> {
        self.write_agent(row, false).await
    }

    async fn write_agent(&self, row: &AgentRow, refresh: bool) -> StoreResult<bool> {
        let mut tx = self.pool().begin().await?;
        let on_conflict = if refresh {
            "ON CONFLICT (id) DO UPDATE SET docker_host = $3, status = $4, cpu_total = $5,
               mem_total = $6, updated_at = $7, lost_at = $12, storage_path = $13, port_range = $14"
        } else {
            "ON CONFLICT (id) DO NOTHING"
        };
        let sql = format!(
            "INSERT INTO agents (id, resource_group, docker_host, status, cpu_total, mem_total, updated_at,
               schedulable, tls_cert_dir, reserve_cpu, reserve_mem, lost_at, storage_path,
               port_range)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) {on_conflict}"
        );
        let done = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&row.id)
            .bind(&row.resource_group)
            .bind(&row.docker_host)
            .bind(&row.status)
            .bind(row.cpu_total)
            .bind(row.mem_total)
            .bind(now_ms())
            .bind(row.schedulable)
            .bind(&row.tls_cert_dir)
            .bind(row.reserve_cpu)
            .bind(row.reserve_mem)
            .bind(row.lost_at)
            .bind(&row.storage_path)
            .bind(&row.port_range)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        sync_accelerators(&mut tx, &row.id, &row.accel_total).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Records what a liveness check found: status, capacity, and since
    /// when it is lost.
    pub async fn set_agent_state(
        &self,
        id: &str,
        status: AgentStatus,
        cpu_total: f64,
        mem_total: i64,
        lost_at: Option<i64>,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE agents SET status = $2, cpu_total = $3, mem_total = $4, lost_at = $5, updated_at = $6
             WHERE id = $1",
        )
        .bind(id)
        .bind(status.as_str())
        .bind(cpu_total)
        .bind(mem_total)
        .bind(lost_at)
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Changes what admins set. A new group only while the agent holds
    /// nothing (the sessions on it belong to its group): `Ok(false)` then.
    /// A new reserve moves the total by the difference.
    pub async fn update_agent(&self, id: &str, change: &AgentChange) -> StoreResult<bool> {
        let mut tx = self.pool().begin().await?;
        if let Some(group) = &change.resource_group {
            let moved = sqlx::query(
                "UPDATE agents SET resource_group = $2 WHERE id = $1
                   AND (resource_group = $2 OR (cpu_used <= $3 AND mem_used = 0))",
            )
            .bind(id)
            .bind(group)
            .bind(EPSILON)
            .execute(&mut *tx)
            .await?;
            if moved.rows_affected() != 1 {
                return Ok(false);
            }
        }
        if let Some(on) = change.schedulable {
            sqlx::query("UPDATE agents SET schedulable = $2 WHERE id = $1")
                .bind(id)
                .bind(i64::from(on))
                .execute(&mut *tx)
                .await?;
        }
        if let Some(cpu) = change.reserve_cpu {
            sqlx::query(
                "UPDATE agents SET cpu_total = CASE WHEN cpu_total + reserve_cpu - $2 < 0 THEN 0
                   ELSE cpu_total + reserve_cpu - $2 END, reserve_cpu = $2 WHERE id = $1",
            )
            .bind(id)
            .bind(cpu)
            .execute(&mut *tx)
            .await?;
        }
        if let Some(mem) = change.reserve_mem {
            sqlx::query(
                "UPDATE agents SET mem_total = CASE WHEN mem_total + reserve_mem - $2 < 0 THEN 0
                   ELSE mem_total + reserve_mem - $2 END, reserve_mem = $2 WHERE id = $1",
            )
            .bind(id)
            .bind(mem)
            .execute(&mut *tx)
            .await?;
        }
        if let Some(path) = &change.storage_path {
            sqlx::query("UPDATE agents SET storage_path = $2 WHERE id = $1")
                .bind(id)
                .bind(path)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(range) = &change.port_range {
            sqlx::query("UPDATE agents SET port_range = $2 WHERE id = $1")
                .bind(id)
                .bind(range)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(acc) = &change.accelerators {
            sync_accelerators(&mut tx, id, acc).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Removes an agent that holds nothing and that no session still
    /// holding capacity was placed on; false when something still does.
    pub async fn delete_agent(&self, id: &str) -> StoreResult<bool> {
        let done = sqlx::query(
            "DELETE FROM agents WHERE id = $1 AND cpu_used <= $2 AND mem_used = 0
               AND NOT EXISTS (SELECT 1 FROM sessions WHERE agent = $1 AND allocated = 1)",
        )
        .bind(id)
        .bind(EPSILON)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Every agent with its accelerators.
    pub async fn agents(&self) -> StoreResult<Vec<AgentRow>> {
        let sql = format!("SELECT {AGENT_COLUMNS} FROM agents ORDER BY id");
        let mut agents: Vec<AgentRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.pool())
            .await?;
        let slots: Vec<SlotRow> = sqlx::query_as(
            "SELECT agent_id, slot, total, used FROM agent_accelerators ORDER BY agent_id, slot",
        )
        .fetch_all(self.pool())
        .await?;
        let mut by_agent: HashMap<String, Vec<SlotRow>> = HashMap::new();
        for s in slots {
            by_agent.entry(s.agent_id.clone()).or_default().push(s);
        }
        for a in &mut agents {
            for s in by_agent.remove(&a.id).unwrap_or_default() {
                a.accel_total.insert(s.slot.clone(), s.total);
                a.accel_used.insert(s.slot, s.used);
            }
        }
        Ok(agents)
    }

    /// Takes what a session holds on an ALIVE agent unless that would
    /// exceed its CPU, memory or any accelerator slot; true when taken.
    /// One transaction of guarded UPDATEs, so concurrent schedulers (also
    /// several replicas on one PostgreSQL) never over-commit.
    pub async fn take_capacity(&self, agent: &str, hold: Hold<'_>) -> StoreResult<bool> {
        let mut tx = self.pool().begin().await?;
        if !take_in(&mut tx, agent, hold).await? {
            return Ok(false); // dropping the transaction rolls it back
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Takes what a session holds on each of its agents (a cluster's
    /// kernels may be on several), all or nothing, in one transaction.
    pub async fn take_capacity_all(&self, holds: &[(String, Held)]) -> StoreResult<bool> {
        let mut tx = self.pool().begin().await?;
        for (agent, held) in holds {
            if !take_in(&mut tx, agent, held.hold()).await? {
                return Ok(false); // dropping the transaction rolls it back
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Gives back what `take_capacity` took (never below zero).
    pub async fn give_back_capacity(&self, agent: &str, hold: Hold<'_>) -> StoreResult<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "UPDATE agents SET cpu_used = CASE WHEN cpu_used - $1 < $4 THEN 0 ELSE cpu_used - $1 END,
               mem_used = CASE WHEN mem_used - $2 < 0 THEN 0 ELSE mem_used - $2 END WHERE id = $3",
        )
        .bind(hold.cpu)
        .bind(hold.mem)
        .bind(agent)
        .bind(EPSILON)
        .execute(&mut *tx)
        .await?;
        for (slot, amount) in hold.accelerators.iter().filter(|(_, v)| **v > 0.0) {
            sqlx::query(
                "UPDATE agent_accelerators SET used = CASE WHEN used - $1 < $4 THEN 0 ELSE used - $1 END
                 WHERE agent_id = $2 AND slot = $3",
            )
            .bind(*amount)
            .bind(agent)
            .bind(slot)
            .bind(EPSILON)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Sets every agent's held CPU, memory and accelerators to `usage`
    /// (agent → what its sessions hold); agents not named hold nothing.
    /// After a crash, the sessions' allocations are the truth.
    pub async fn set_agent_usage(&self, usage: &HashMap<String, Held>) -> StoreResult<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("UPDATE agents SET cpu_used = 0, mem_used = 0")
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE agent_accelerators SET used = 0")
            .execute(&mut *tx)
            .await?;
        for (agent, held) in usage {
            sqlx::query("UPDATE agents SET cpu_used = $1, mem_used = $2 WHERE id = $3")
                .bind(held.cpu)
                .bind(held.mem)
                .bind(agent)
                .execute(&mut *tx)
                .await?;
            for (slot, amount) in &held.accelerators {
                sqlx::query(
                    "UPDATE agent_accelerators SET used = $1 WHERE agent_id = $2 AND slot = $3",
                )
                .bind(*amount)
                .bind(agent)
                .bind(slot)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

/// The guarded updates of one agent's take, inside `tx`; false when it
/// would over-commit (the caller drops the transaction).
async fn take_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    agent: &str,
    hold: Hold<'_>,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE agents SET cpu_used = cpu_used + $1, mem_used = mem_used + $2
         WHERE id = $3 AND status = $4 AND schedulable = 1
           AND cpu_used + $1 <= cpu_total + $5 AND mem_used + $2 <= mem_total",
    )
    .bind(hold.cpu)
    .bind(hold.mem)
    .bind(agent)
    .bind(AgentStatus::Alive.as_str())
    .bind(EPSILON)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    for (slot, amount) in hold.accelerators.iter().filter(|(_, v)| **v > 0.0) {
        let done = sqlx::query(
            "UPDATE agent_accelerators SET used = used + $1
             WHERE agent_id = $2 AND slot = $3 AND used + $1 <= total + $4",
        )
        .bind(*amount)
        .bind(agent)
        .bind(slot)
        .bind(EPSILON)
        .execute(&mut **tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false); // dropping the transaction rolls it back
        }
    }
    Ok(true)
}

/// Sets an agent's declared accelerators to `accel` (a slot no longer
/// declared keeps a total of 0 while sessions still hold some of it).
async fn sync_accelerators(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &str,
    accel: &BTreeMap<String, f64>,
) -> StoreResult<()> {
    let existing: Vec<(String,)> =
        sqlx::query_as("SELECT slot FROM agent_accelerators WHERE agent_id = $1")
            .bind(id)
            .fetch_all(&mut **tx)
            .await?;
    for (slot,) in existing {
        if !accel.contains_key(&slot) {
            sqlx::query(
                "UPDATE agent_accelerators SET total = 0 WHERE agent_id = $1 AND slot = $2",
            )
            .bind(id)
            .bind(&slot)
            .execute(&mut **tx)
            .await?;
            sqlx::query(
                "DELETE FROM agent_accelerators WHERE agent_id = $1 AND slot = $2 AND used <= $3",
            )
            .bind(id)
            .bind(&slot)
            .bind(EPSILON)
            .execute(&mut **tx)
            .await?;
        }
    }
    for (slot, total) in accel {
        sqlx::query(
            "INSERT INTO agent_accelerators (agent_id, slot, total, used) VALUES ($1, $2, $3, 0)
             ON CONFLICT (agent_id, slot) DO UPDATE SET total = $3",
        )
        .bind(id)
        .bind(slot)
        .bind(*total)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// The sum of what an agent's sessions hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Held {
    /// Cores.
    pub cpu: f64,
    /// Bytes.
    pub mem: i64,
    /// Accelerators by slot.
    pub accelerators: BTreeMap<String, f64>,
}

impl Held {
    /// What a session whose kernels are on `agents` (one entry per kernel)
    /// holds on each of them, each kernel holding `cpu`, `mem` and
    /// `accelerators`; agents in first-seen order.
    pub fn per_agent<'a>(
        agents: impl IntoIterator<Item = &'a str>,
        cpu: f64,
        mem: i64,
        accelerators: &BTreeMap<String, f64>,
    ) -> Vec<(String, Held)> {
        let mut out: Vec<(String, Held)> = Vec::new();
        for agent in agents {
            let at = match out.iter().position(|(a, _)| a == agent) {
                Some(i) => i,
                None => {
                    out.push((agent.to_string(), Held::default()));
                    out.len() - 1
                }
            };
            let h = &mut out[at].1;
            h.cpu += cpu;
            h.mem = h.mem.saturating_add(mem);
            for (slot, v) in accelerators {
                *h.accelerators.entry(slot.clone()).or_default() += v;
            }
        }
        out
    }

    /// As a [`Hold`] to take or give back.
    pub fn hold(&self) -> Hold<'_> {
        Hold {
            cpu: self.cpu,
            mem: self.mem,
            accelerators: &self.accelerators,
        }
    }
}
