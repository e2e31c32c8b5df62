//! The SQL of the status machine: new sessions in their first status, a
//! guarded status change with its history entry, a PENDING session's
//! explanation, and the history itself. Only `sessions::status` calls the
//! writers here.

use berth_shared::sessions::SessionStatus;
use sqlx::FromRow;

use super::folders::MountRow;
use super::kernels::{KernelRow, KERNEL_COLUMNS};
use super::sessions::{placeholders, SessionRow, SESSION_COLUMNS};
use super::{Store, StoreResult};

/// A row of `session_history`.
#[derive(Debug, Clone, FromRow)]
pub struct HistoryRow {
    pub session_id: String,
    pub status: String,
    pub status_info: Option<String>,
    pub at: i64,
}

/// A session to store: its row (in its first status), its kernels and the
/// folders it mounts.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The session.
    pub row: SessionRow,
    /// Its kernels.
    pub kernels: Vec<KernelRow>,
    /// Its mounts.
    pub mounts: Vec<MountRow>,
}

/// One status change as the store writes it.
#[derive(Debug, Clone)]
pub struct StatusWrite<'a> {
    /// Only from one of these (else nothing changes).
    pub from: &'a [SessionStatus],
    /// To this.
    pub to: SessionStatus,
    /// Reason code.
    pub info: Option<&'a str>,
    /// Details (JSON text).
    pub data: Option<String>,
    /// The agent it is placed on (PENDING → SCHEDULED): the session and
    /// its kernels record it, and the session is marked as holding capacity.
    pub placed_on: Option<&'a str>,
    /// With `placed_on`: the agent of each kernel, in kernel order (main
    /// first); a kernel not named is on `placed_on`.
    pub kernel_agents: &'a [String],
}

impl Store {
    /// Stores new sessions with their kernels, mounts and first history
    /// entry, all or none.
    pub async fn insert_sessions(&self, sessions: &[NewSession]) -> StoreResult<()> {
        let mut tx = self.pool().begin().await?;
        for NewSession {
            row: s,
            kernels,
            mounts,
        } in sessions
        {
            let sql = format!(
                "INSERT INTO sessions ({SESSION_COLUMNS}) VALUES ({})",
                placeholders(1, 33)
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
                .bind(&s.preopen_ports)
                .bind(&s.service_secret)
                .bind(&s.image_name)
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
            for m in mounts {
                sqlx::query(
                    "INSERT INTO session_mounts (session_id, folder_id, name, read_only) VALUES ($1, $2, $3, $4)",
                )
                .bind(&m.session_id)
                .bind(&m.folder_id)
                .bind(&m.name)
                .bind(m.read_only)
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

    /// Moves a session from one of `w.from` to `w.to` with its reason,
    /// recording history and the kernels' status in one transaction; false
    /// (nothing changed) when it was not in any of `w.from`.
    pub async fn change_status(
        &self,
        id: &str,
        w: &StatusWrite<'_>,
        now: i64,
    ) -> StoreResult<bool> {
        let placed = i64::from(w.placed_on.is_some());
        let mut tx = self.pool().begin().await?;
        let sql = format!(
            "UPDATE sessions SET status = $1, status_info = $2, status_data = $3, status_changed_at = $4,
               started_at = CASE WHEN $5 = 1 THEN $4 ELSE started_at END,
               terminated_at = CASE WHEN $6 = 1 THEN $4 ELSE terminated_at END,
               agent = CASE WHEN $7 = 1 THEN $8 ELSE agent END,
               allocated = CASE WHEN $7 = 1 THEN 1 ELSE allocated END
             WHERE id = $9 AND status IN ({})",
            placeholders(10, w.from.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(w.to.as_str())
            .bind(w.info)
            .bind(&w.data)
            .bind(now)
            .bind(i64::from(w.to == SessionStatus::Running))
            .bind(i64::from(w.to.is_finished()))
            .bind(placed)
            .bind(w.placed_on)
            .bind(id);
        for f in w.from {
            q = q.bind(f.as_str());
        }
        if q.execute(&mut *tx).await?.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO session_history (id, session_id, status, status_info, at)
             VALUES ((SELECT COUNT(*) FROM session_history WHERE session_id = $1), $1, $2, $3, $4)",
        )
        .bind(id)
        .bind(w.to.as_str())
        .bind(w.info)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE kernels SET status = $1, agent = CASE WHEN $2 = 1 THEN $3 ELSE agent END
             WHERE session_id = $4",
        )
        .bind(w.to.as_str())
        .bind(placed)
        .bind(w.placed_on)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        for (i, agent) in w.kernel_agents.iter().enumerate() {
            if Some(agent.as_str()) != w.placed_on {
                sqlx::query(
                    "UPDATE kernels SET agent = $1 WHERE session_id = $2 AND hostname = $3",
                )
                .bind(agent)
                .bind(id)
                .bind(berth_shared::sessions::kernel_hostname(i))
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Updates a PENDING session's explanation (no status change); false
    /// when it is no longer PENDING.
    pub async fn explain_pending(&self, id: &str, info: &str, data: &str) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE sessions SET status_info = $1, status_data = $2 WHERE id = $3 AND status = $4",
        )
        .bind(info)
        .bind(data)
        .bind(id)
        .bind(SessionStatus::Pending.as_str())
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Replaces a session's `status_data` while its status is `status`
    /// (no status change); false when it is not.
    pub async fn note_status_data(
        &self,
        id: &str,
        status: SessionStatus,
        data: Option<&str>,
    ) -> StoreResult<bool> {
        let done =
            sqlx::query("UPDATE sessions SET status_data = $1 WHERE id = $2 AND status = $3")
                .bind(data)
                .bind(id)
                .bind(status.as_str())
                .execute(self.pool())
                .await?;
        Ok(done.rows_affected() == 1)
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
}
