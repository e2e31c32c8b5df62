//! kernels: a session's containers, their exit codes and kept logs. Their
//! status follows the session's (written in `session_status.rs`).

use sqlx::FromRow;

use super::sessions::placeholders;
use super::{Store, StoreResult};

/// A row of `kernels`.
#[derive(Debug, Clone, FromRow)]
pub struct KernelRow {
    pub id: String,
    pub session_id: String,
    /// `main` (or `sub` in a cluster).
    pub role: String,
    pub hostname: String,
    pub agent: Option<String>,
    pub container_id: Option<String>,
    /// The session's status when it last changed.
    pub status: String,
    pub exit_code: Option<i64>,
    pub logs: Option<String>,
    pub created_at: i64,
    /// Its devices by slot (filled by the view, not a column).
    #[sqlx(skip)]
    pub devices: std::collections::BTreeMap<String, Vec<u32>>,
}

/// Role of a session's first kernel.
pub const MAIN_ROLE: &str = "main";
/// Role of a cluster's other kernels.
pub const SUB_ROLE: &str = "sub";

impl KernelRow {
    /// Its place in the cluster: 0 for the main kernel, N for `subN`.
    pub fn index(&self) -> usize {
        if self.role == MAIN_ROLE {
            return 0;
        }
        self.hostname
            .trim_start_matches(|c: char| !c.is_ascii_digit())
            .parse()
            .unwrap_or(usize::MAX)
    }
}

pub(super) const KERNEL_COLUMNS: &str =
    "id, session_id, role, hostname, agent, container_id, status, exit_code, logs, created_at";

impl Store {
    /// Kernels of a session, main first.
    pub async fn kernels_of(&self, session_id: &str) -> StoreResult<Vec<KernelRow>> {
        let sql = format!(
            "SELECT {KERNEL_COLUMNS} FROM kernels WHERE session_id = $1 ORDER BY role, hostname"
        );
        let mut rows: Vec<KernelRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(session_id)
            .fetch_all(self.pool())
            .await?;
        rows.sort_by_key(KernelRow::index);
        Ok(rows)
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

    /// Forgets the kept logs of sessions that ended before `before`; how
    /// many kernels lost theirs.
    pub async fn forget_logs_before(&self, before: i64) -> StoreResult<u64> {
        let done = sqlx::query(
            "UPDATE kernels SET logs = NULL WHERE logs IS NOT NULL AND session_id IN
             (SELECT id FROM sessions WHERE terminated_at IS NOT NULL AND terminated_at < $1)",
        )
        .bind(before)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected())
    }
}
