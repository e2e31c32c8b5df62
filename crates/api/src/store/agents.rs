//! agents, resource groups, presets and policies.

use berth_shared::bytes::ByteSize;
use berth_shared::resources::ResourcePolicy;
use sqlx::FromRow;

use super::{now_ms, Store, StoreResult};

/// A row of `agents`.
#[derive(Debug, Clone, FromRow)]
pub struct AgentRow {
    /// Id.
    pub id: String,
    /// Resource group.
    pub resource_group: String,
    /// Engine address.
    pub docker_host: String,
    /// `ALIVE` / `LOST`.
    pub status: String,
    /// Cores.
    pub cpu_total: f64,
    /// Bytes.
    pub mem_total: i64,
    /// Cores held.
    pub cpu_used: f64,
    /// Bytes held.
    pub mem_used: i64,
    /// JSON object slot → amount.
    pub accel_total: String,
}

/// A row of `resource_presets`.
#[derive(Debug, Clone, FromRow)]
pub struct PresetRow {
    /// Name.
    pub name: String,
    /// Cores.
    pub cpu: f64,
    /// Bytes.
    pub mem: i64,
    /// Bytes.
    pub shmem: i64,
    /// JSON object.
    pub accelerators: String,
}

/// A row of `resource_policies`.
#[derive(Debug, Clone, FromRow)]
pub struct PolicyRow {
    /// Name.
    pub name: String,
    /// 0 = no limit.
    pub max_concurrent_sessions: i64,
    /// 0 = no limit.
    pub max_total_cpu: f64,
    /// 0 = no limit.
    pub max_total_mem: i64,
    /// Seconds, 0 = no limit.
    pub max_session_lifetime: i64,
}

impl From<PolicyRow> for ResourcePolicy {
    fn from(p: PolicyRow) -> Self {
        ResourcePolicy {
            name: p.name,
            max_concurrent_sessions: p.max_concurrent_sessions.max(0) as u32,
            max_total_cpu: p.max_total_cpu,
            max_total_mem: ByteSize(p.max_total_mem.max(0) as u64),
            max_session_lifetime: p.max_session_lifetime.max(0) as u64,
        }
    }
}

const AGENT_COLUMNS: &str =
    "id, resource_group, docker_host, status, cpu_total, mem_total, cpu_used, mem_used, accel_total";

/// Tolerance for summed fractional CPUs.
const CPU_EPSILON: f64 = 1e-6;

impl Store {
    /// Registers or refreshes an agent's capacity and status (keeps usage).
    pub async fn upsert_agent(&self, row: &AgentRow) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO agents (id, resource_group, docker_host, status, cpu_total, mem_total, accel_total, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (id) DO UPDATE SET resource_group = $2, docker_host = $3, status = $4,
               cpu_total = $5, mem_total = $6, accel_total = $7, updated_at = $8",
        )
        .bind(&row.id)
        .bind(&row.resource_group)
        .bind(&row.docker_host)
        .bind(&row.status)
        .bind(row.cpu_total)
        .bind(row.mem_total)
        .bind(&row.accel_total)
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Marks an agent ALIVE or LOST.
    pub async fn set_agent_status(&self, id: &str, status: &str) -> StoreResult<()> {
        sqlx::query("UPDATE agents SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(status)
            .bind(now_ms())
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Every agent.
    pub async fn agents(&self) -> StoreResult<Vec<AgentRow>> {
        let sql = format!("SELECT {AGENT_COLUMNS} FROM agents ORDER BY id");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.pool())
            .await?)
    }

    /// Takes `cpu`/`mem` on an agent unless that would exceed its capacity;
    /// true when taken. One guarded UPDATE, so concurrent schedulers (also
    /// several replicas on one PostgreSQL) never over-commit.
    pub async fn take_capacity(&self, agent: &str, cpu: f64, mem: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE agents SET cpu_used = cpu_used + $1, mem_used = mem_used + $2
             WHERE id = $3 AND status = 'ALIVE' AND cpu_used + $1 <= cpu_total + $4 AND mem_used + $2 <= mem_total",
        )
        .bind(cpu)
        .bind(mem)
        .bind(agent)
        .bind(CPU_EPSILON)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives back what `take_capacity` took.
    pub async fn give_back_capacity(&self, agent: &str, cpu: f64, mem: i64) -> StoreResult<()> {
        sqlx::query(
            "UPDATE agents SET cpu_used = CASE WHEN cpu_used - $1 < $4 THEN 0 ELSE cpu_used - $1 END,
               mem_used = CASE WHEN mem_used - $2 < 0 THEN 0 ELSE mem_used - $2 END WHERE id = $3",
        )
        .bind(cpu)
        .bind(mem)
        .bind(agent)
        .bind(CPU_EPSILON)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Resource groups a project may use, with their agents.
    pub async fn resource_groups_for_project(
        &self,
        project_id: &str,
    ) -> StoreResult<Vec<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT g.name, g.description FROM resource_groups g
             JOIN resource_group_projects p ON p.resource_group = g.name
             WHERE p.project_id = $1 ORDER BY g.name",
        )
        .bind(project_id)
        .fetch_all(self.pool())
        .await?)
    }

    /// Every preset.
    pub async fn presets(&self) -> StoreResult<Vec<PresetRow>> {
        Ok(
            sqlx::query_as("SELECT name, cpu, mem, shmem, accelerators FROM resource_presets ORDER BY cpu, mem, name")
                .fetch_all(self.pool())
                .await?,
        )
    }

    /// Creates or replaces a preset.
    pub async fn put_preset(&self, p: &PresetRow) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO resource_presets (name, cpu, mem, shmem, accelerators) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (name) DO UPDATE SET cpu = $2, mem = $3, shmem = $4, accelerators = $5",
        )
        .bind(&p.name)
        .bind(p.cpu)
        .bind(p.mem)
        .bind(p.shmem)
        .bind(&p.accelerators)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Deletes a preset; false when there was none.
    pub async fn delete_preset(&self, name: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM resource_presets WHERE name = $1")
            .bind(name)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Every policy.
    pub async fn policies(&self) -> StoreResult<Vec<PolicyRow>> {
        Ok(sqlx::query_as(
            "SELECT name, max_concurrent_sessions, max_total_cpu, max_total_mem, max_session_lifetime
             FROM resource_policies ORDER BY name",
        )
        .fetch_all(self.pool())
        .await?)
    }

    /// Creates or replaces a policy.
    pub async fn put_policy(&self, p: &PolicyRow) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO resource_policies (name, max_concurrent_sessions, max_total_cpu, max_total_mem, max_session_lifetime)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (name) DO UPDATE SET max_concurrent_sessions = $2, max_total_cpu = $3,
               max_total_mem = $4, max_session_lifetime = $5",
        )
        .bind(&p.name)
        .bind(p.max_concurrent_sessions)
        .bind(p.max_total_cpu)
        .bind(p.max_total_mem)
        .bind(p.max_session_lifetime)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Deletes a policy (not `default`, and not while a keypair uses it);
    /// false when nothing was deleted.
    pub async fn delete_policy(&self, name: &str) -> StoreResult<bool> {
        let done = sqlx::query(
            "DELETE FROM resource_policies WHERE name = $1 AND name <> 'default'
             AND NOT EXISTS (SELECT 1 FROM keypairs k WHERE k.resource_policy = $1)",
        )
        .bind(name)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The policy bound to an access key (`default` when missing).
    pub async fn policy_of(&self, access_key: &str) -> StoreResult<Option<PolicyRow>> {
        Ok(sqlx::query_as(
            "SELECT p.name, p.max_concurrent_sessions, p.max_total_cpu, p.max_total_mem, p.max_session_lifetime
             FROM resource_policies p JOIN keypairs k ON k.resource_policy = p.name WHERE k.access_key = $1",
        )
        .bind(access_key)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Binds a keypair to a policy.
    pub async fn set_keypair_policy(&self, access_key: &str, policy: &str) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE keypairs SET resource_policy = $1 WHERE access_key = $2")
            .bind(policy)
            .bind(access_key)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }
}

impl Store {
    /// Sets every agent's usage to the sum of the sessions that hold
    /// capacity on it (after a crash, this is the truth).
    pub async fn recompute_agent_usage(&self) -> StoreResult<()> {
        sqlx::query(
            "UPDATE agents SET
               cpu_used = COALESCE((SELECT SUM(s.cpu) FROM sessions s WHERE s.agent = agents.id AND s.allocated = 1), 0),
               mem_used = COALESCE((SELECT SUM(s.mem) FROM sessions s WHERE s.agent = agents.id AND s.allocated = 1), 0)",
        )
        .execute(self.pool())
        .await?;
        Ok(())
    }
}
