//! sessions, kernels and session_history.

use sqlx::FromRow;

use super::{Store, StoreResult};

/// A row of `sessions`.
#[derive(Debug, Clone, FromRow)]
pub struct SessionRow {
    pub id: String,
    pub name: String,
    pub owner_id: String,
    pub created_by: String,
    pub project_id: String,
    pub access_key: String,
    pub resource_group: String,
    pub session_type: String,
    pub image: String,
    pub cpu: f64,
    pub mem: i64,
    pub shmem: i64,
    /// JSON object.
    pub accelerators: String,
    /// JSON object.
    pub env: String,
    pub nthreads: i64,
    pub startup_command: Option<String>,
    pub starts_at: Option<i64>,
    pub batch_timeout: Option<i64>,
    pub designated_agent: Option<String>,
    pub agent: Option<String>,
    pub cluster_mode: String,
    pub cluster_size: i64,
    pub status: String,
    pub status_info: Option<String>,
    /// JSON.
    pub status_data: Option<String>,
    pub status_changed_at: i64,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub terminated_at: Option<i64>,
    /// 1 while it holds capacity on `agent`.
    pub allocated: i64,
}

/// A row of `kernels`.
#[derive(Debug, Clone, FromRow)]
pub struct KernelRow {
    pub id: String,
    pub session_id: String,
    pub role: String,
    pub hostname: String,
    pub agent: Option<String>,
    pub container_id: Option<String>,
    pub status: String,
    pub exit_code: Option<i64>,
    pub logs: Option<String>,
    pub created_at: i64,
}

/// A row of `session_history`.
#[derive(Debug, Clone, FromRow)]
pub struct HistoryRow {
    pub session_id: String,
    pub status: String,
    pub status_info: Option<String>,
    pub at: i64,
}

/// Which sessions a listing wants.
#[derive(Debug, Clone, Default)]
pub struct SessionFilter {
    /// Only this owner's.
    pub owner_id: Option<String>,
    /// Only these statuses.
    pub statuses: Vec<&'static str>,
    /// Only this type.
    pub session_type: Option<String>,
    /// Page size.
    pub limit: i64,
    /// Rows to skip.
    pub offset: i64,
}

/// What changes with a status.
#[derive(Debug, Clone, Default)]
pub struct Transition<'a> {
    /// Only from one of these.
    pub from: &'a [&'static str],
    /// To this.
    pub to: &'static str,
    /// Reason code.
    pub info: Option<&'a str>,
    /// Details (JSON).
    pub data: Option<String>,
    /// Set `started_at`.
    pub started: bool,
    /// Set `terminated_at`.
    pub finished: bool,
}

const SESSION_COLUMNS: &str = "id, name, owner_id, created_by, project_id, access_key, resource_group, session_type, \
    image, cpu, mem, shmem, accelerators, env, nthreads, startup_command, starts_at, batch_timeout, designated_agent, \
    agent, cluster_mode, cluster_size, status, status_info, status_data, status_changed_at, created_at, started_at, \
    terminated_at, allocated";
const KERNEL_COLUMNS: &str =
    "id, session_id, role, hostname, agent, container_id, status, exit_code, logs, created_at";

/// `$first, $first+1, …` for an IN list.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    /// Stores new sessions with their kernels and first history entry.
    pub async fn insert_sessions(&self, rows: &[(SessionRow, Vec<KernelRow>)]) -> StoreResult<()> {
        let mut tx = self.pool().begin().await?;
        for (s, kernels) in rows {
            let sql = format!(
                "INSERT INTO sessions ({SESSION_COLUMNS}) VALUES ({})",
                placeholders(1, 30)
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(&s.id)
                .bind(&s.name)
                .bind(&s.owner_id)
                .bind(&s.created_by)
                .bind(&s.project_id)
                .bind(&s.access_key)
                .bind(&s.resource_group)
                .bind(&s.session_type)
                .bind(&s.image)
                .bind(s.cpu)
                .bind(s.mem)
                .bind(s.shmem)
                .bind(&s.accelerators)
                .bind(&s.env)
                .bind(s.nthreads)
                .bind(&s.startup_command)
                .bind(s.starts_at)
                .bind(s.batch_timeout)
                .bind(&s.designated_agent)
                .bind(&s.agent)
                .bind(&s.cluster_mode)
                .bind(s.cluster_size)
                .bind(&s.status)
                .bind(&s.status_info)
                .bind(&s.status_data)
                .bind(s.status_changed_at)
                .bind(s.created_at)
                .bind(s.started_at)
                .bind(s.terminated_at)
                .bind(s.allocated)
                .execute(&mut *tx)
                .await?;
            for k in kernels {
                let sql = format!(
                    "INSERT INTO kernels ({KERNEL_COLUMNS}) VALUES ({})",
                    placeholders(1, 10)
                );
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(&k.id)
                    .bind(&k.session_id)
                    .bind(&k.role)
                    .bind(&k.hostname)
                    .bind(&k.agent)
                    .bind(&k.container_id)
                    .bind(&k.status)
                    .bind(k.exit_code)
                    .bind(&k.logs)
                    .bind(k.created_at)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query("INSERT INTO session_history (id, session_id, status, status_info, at) VALUES (0, $1, $2, $3, $4)")
                .bind(&s.id)
                .bind(&s.status)
                .bind(&s.status_info)
                .bind(s.created_at)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// One session.
    pub async fn session(&self, id: &str) -> StoreResult<Option<SessionRow>> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = $1");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await?)
    }

    /// Sessions in any of `statuses`, oldest first.
    pub async fn sessions_in(&self, statuses: &[&'static str]) -> StoreResult<Vec<SessionRow>> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE status IN ({}) ORDER BY created_at, id",
            placeholders(1, statuses.len())
        );
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for s in statuses {
            q = q.bind(*s);
        }
        Ok(q.fetch_all(self.pool()).await?)
    }

    /// A page of sessions, newest first, and the total count.
    pub async fn list_sessions(&self, f: &SessionFilter) -> StoreResult<(Vec<SessionRow>, i64)> {
        let mut conds = Vec::new();
        let mut n = 0;
        let mut next = || {
            n += 1;
            n
        };
        if f.owner_id.is_some() {
            conds.push(format!("owner_id = ${}", next()));
        }
        if !f.statuses.is_empty() {
            let first = next();
            for _ in 1..f.statuses.len() {
                next();
            }
            conds.push(format!(
                "status IN ({})",
                placeholders(first, f.statuses.len())
            ));
        }
        if f.session_type.is_some() {
            conds.push(format!("session_type = ${}", next()));
        }
        let where_ = if conds.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conds.join(" AND "))
        };
        let limit = next();
        let offset = next();
        let list_sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions {where_} ORDER BY created_at DESC, id LIMIT ${limit} OFFSET ${offset}"
        );
        let count_sql = format!("SELECT COUNT(*) FROM sessions {where_}");
        let mut list = sqlx::query_as::<_, SessionRow>(sqlx::AssertSqlSafe(list_sql));
        let mut count = sqlx::query_as::<_, (i64,)>(sqlx::AssertSqlSafe(count_sql));
        if let Some(o) = &f.owner_id {
            list = list.bind(o.clone());
            count = count.bind(o.clone());
        }
        for s in &f.statuses {
            list = list.bind(*s);
            count = count.bind(*s);
        }
        if let Some(t) = &f.session_type {
            list = list.bind(t.clone());
            count = count.bind(t.clone());
        }
        let rows = list
            .bind(f.limit)
            .bind(f.offset)
            .fetch_all(self.pool())
            .await?;
        let (total,) = count.fetch_one(self.pool()).await?;
        Ok((rows, total))
    }

    /// Whether the owner has a live session with this name (other than `except`).
    pub async fn live_name_taken(
        &self,
        owner_id: &str,
        name: &str,
        except: Option<&str>,
    ) -> StoreResult<bool> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT id FROM sessions WHERE owner_id = $1 AND name = $2 AND terminated_at IS NULL AND id <> $3 LIMIT 1",
        )
        .bind(owner_id)
        .bind(name)
        .bind(except.unwrap_or(""))
        .fetch_optional(self.pool())
        .await?;
        Ok(row.is_some())
    }

    /// Renames a live session; false when it is not live (or absent).
    pub async fn rename_session(&self, id: &str, name: &str) -> StoreResult<bool> {
        let done =
            sqlx::query("UPDATE sessions SET name = $1 WHERE id = $2 AND terminated_at IS NULL")
                .bind(name)
                .bind(id)
                .execute(self.pool())
                .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Moves a session from one of `t.from` to `t.to`, recording history;
    /// false (nothing changed) when it was not in any of `t.from`.
    pub async fn transition(&self, id: &str, t: &Transition<'_>, now: i64) -> StoreResult<bool> {
        let mut tx = self.pool().begin().await?;
        let sql = format!(
            "UPDATE sessions SET status = $1, status_info = $2, status_data = $3, status_changed_at = $4,
               started_at = CASE WHEN $5 = 1 THEN $4 ELSE started_at END,
               terminated_at = CASE WHEN $6 = 1 THEN $4 ELSE terminated_at END
             WHERE id = $7 AND status IN ({})",
            placeholders(8, t.from.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(t.to)
            .bind(t.info)
            .bind(&t.data)
            .bind(now)
            .bind(i64::from(t.started))
            .bind(i64::from(t.finished))
            .bind(id);
        for f in t.from {
            q = q.bind(*f);
        }
        if q.execute(&mut *tx).await?.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO session_history (id, session_id, status, status_info, at)
             VALUES ((SELECT COUNT(*) FROM session_history WHERE session_id = $1), $1, $2, $3, $4)",
        )
        .bind(id)
        .bind(t.to)
        .bind(t.info)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE kernels SET status = $1 WHERE session_id = $2")
            .bind(t.to)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Updates a PENDING session's explanation (no status change).
    pub async fn set_pending_reason(&self, id: &str, info: &str, data: &str) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET status_info = $1, status_data = $2 WHERE id = $3 AND status = 'PENDING'")
            .bind(info)
            .bind(data)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Records that a PENDING session holds capacity on `agent`, moving it to
    /// SCHEDULED. The caller took the capacity first (`take_capacity`).
    pub async fn mark_scheduled(&self, id: &str, agent: &str, now: i64) -> StoreResult<bool> {
        let mut tx = self.pool().begin().await?;
        let done = sqlx::query(
            "UPDATE sessions SET status = 'SCHEDULED', status_info = 'scheduled', status_data = NULL,
               status_changed_at = $1, agent = $2, allocated = 1 WHERE id = $3 AND status = 'PENDING'",
        )
        .bind(now)
        .bind(agent)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO session_history (id, session_id, status, status_info, at)
             VALUES ((SELECT COUNT(*) FROM session_history WHERE session_id = $1), $1, 'SCHEDULED', 'scheduled', $2)",
        )
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE kernels SET status = 'SCHEDULED', agent = $1 WHERE session_id = $2")
            .bind(agent)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Clears the allocation flag; true when it was set (the caller then
    /// gives the capacity back, exactly once).
    pub async fn clear_allocation(&self, id: &str) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE sessions SET allocated = 0 WHERE id = $1 AND allocated = 1")
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Kernels of a session, main first.
    pub async fn kernels_of(&self, session_id: &str) -> StoreResult<Vec<KernelRow>> {
        let sql = format!(
            "SELECT {KERNEL_COLUMNS} FROM kernels WHERE session_id = $1 ORDER BY role, hostname"
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(session_id)
            .fetch_all(self.pool())
            .await?)
    }

    /// Kernels of several sessions.
    pub async fn kernels_of_many(&self, session_ids: &[String]) -> StoreResult<Vec<KernelRow>> {
        if session_ids.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "SELECT {KERNEL_COLUMNS} FROM kernels WHERE session_id IN ({}) ORDER BY role, hostname",
            placeholders(1, session_ids.len())
        );
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for id in session_ids {
            q = q.bind(id.clone());
        }
        Ok(q.fetch_all(self.pool()).await?)
    }

    /// Records a kernel's container.
    pub async fn set_kernel_container(
        &self,
        kernel_id: &str,
        container_id: &str,
    ) -> StoreResult<()> {
        sqlx::query("UPDATE kernels SET container_id = $1 WHERE id = $2")
            .bind(container_id)
            .bind(kernel_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Records how a kernel's container ended and its last output.
    pub async fn set_kernel_exit(
        &self,
        kernel_id: &str,
        exit_code: Option<i64>,
        logs: Option<&str>,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE kernels SET exit_code = COALESCE($1, exit_code), logs = COALESCE($2, logs) WHERE id = $3",
        )
        .bind(exit_code)
        .bind(logs)
        .bind(kernel_id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Status history of sessions, oldest first.
    pub async fn history_of_many(&self, session_ids: &[String]) -> StoreResult<Vec<HistoryRow>> {
        if session_ids.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "SELECT session_id, status, status_info, at FROM session_history WHERE session_id IN ({}) ORDER BY at, id",
            placeholders(1, session_ids.len())
        );
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for id in session_ids {
            q = q.bind(id.clone());
        }
        Ok(q.fetch_all(self.pool()).await?)
    }

    /// Live sessions and held CPU/memory per access key (for policy checks).
    pub async fn keypair_usage(&self) -> StoreResult<Vec<(String, i64, f64, i64)>> {
        Ok(sqlx::query_as(
            "SELECT access_key, CAST(COUNT(*) AS BIGINT),
               CAST(COALESCE(SUM(CASE WHEN allocated = 1 THEN cpu ELSE 0 END), 0.0) AS DOUBLE PRECISION),
               CAST(COALESCE(SUM(CASE WHEN allocated = 1 THEN mem ELSE 0 END), 0) AS BIGINT)
             FROM sessions WHERE status IN ('SCHEDULED', 'PREPARING', 'RUNNING', 'TERMINATING') GROUP BY access_key",
        )
        .fetch_all(self.pool())
        .await?)
    }

    /// Policies of every keypair (access key, policy row).
    pub async fn keypair_policies(&self) -> StoreResult<Vec<(String, PolicyTuple)>> {
        let rows: Vec<(String, i64, f64, i64, i64)> = sqlx::query_as(
            "SELECT k.access_key, p.max_concurrent_sessions, p.max_total_cpu, p.max_total_mem, p.max_session_lifetime
             FROM keypairs k JOIN resource_policies p ON p.name = k.resource_policy",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(k, a, b, c, d)| (k, (a, b, c, d)))
            .collect())
    }
}

/// `(max_concurrent_sessions, max_total_cpu, max_total_mem, max_session_lifetime)`.
pub type PolicyTuple = (i64, f64, i64, i64);
