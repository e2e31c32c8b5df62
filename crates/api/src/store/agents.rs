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
    "id, resource_group, docker_host, status, cpu_total, mem_total, cpu_used, mem_used";

/// Tolerance for summed fractional CPUs and accelerator shares.
const EPSILON: f64 = 1e-6;

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
    /// Registers or refreshes an agent's capacity, status and declared
    /// accelerators (keeps what is held). A slot no longer declared keeps
    /// a total of 0 while sessions still hold some of it.
    pub async fn upsert_agent(&self, row: &AgentRow) -> StoreResult<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "INSERT INTO agents (id, resource_group, docker_host, status, cpu_total, mem_total, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (id) DO UPDATE SET resource_group = $2, docker_host = $3, status = $4,
               cpu_total = $5, mem_total = $6, updated_at = $7",
        )
        .bind(&row.id)
        .bind(&row.resource_group)
        .bind(&row.docker_host)
        .bind(&row.status)
        .bind(row.cpu_total)
        .bind(row.mem_total)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        let existing: Vec<(String,)> =
            sqlx::query_as("SELECT slot FROM agent_accelerators WHERE agent_id = $1")
                .bind(&row.id)
                .fetch_all(&mut *tx)
                .await?;
        for (slot,) in existing {
            if !row.accel_total.contains_key(&slot) {
                sqlx::query(
                    "UPDATE agent_accelerators SET total = 0 WHERE agent_id = $1 AND slot = $2",
                )
                .bind(&row.id)
                .bind(&slot)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "DELETE FROM agent_accelerators WHERE agent_id = $1 AND slot = $2 AND used <= $3",
                )
                .bind(&row.id)
                .bind(&slot)
                .bind(EPSILON)
                .execute(&mut *tx)
                .await?;
            }
        }
        for (slot, total) in &row.accel_total {
            sqlx::query(
                "INSERT INTO agent_accelerators (agent_id, slot, total, used) VALUES ($1, $2, $3, 0)
                 ON CONFLICT (agent_id, slot) DO UPDATE SET total = $3",
            )
            .bind(&row.id)
            .bind(slot)
            .bind(*total)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
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
        let done = sqlx::query(
            "UPDATE agents SET cpu_used = cpu_used + $1, mem_used = mem_used + $2
             WHERE id = $3 AND status = $4 AND cpu_used + $1 <= cpu_total + $5 AND mem_used + $2 <= mem_total",
        )
        .bind(hold.cpu)
        .bind(hold.mem)
        .bind(agent)
        .bind(AgentStatus::Alive.as_str())
        .bind(EPSILON)
        .execute(&mut *tx)
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
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() != 1 {
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
