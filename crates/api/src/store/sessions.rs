//! sessions: reading them, listing them, names, allocation flags and
//! per-keypair use. Status changes are in `session_status.rs`.

use std::collections::BTreeMap;

use berth_shared::sessions::StatusData;
use berth_shared::sessions::{SessionStatus, SessionType};
use sqlx::FromRow;

use super::json::{decode, Corrupt};
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
    /// Read it with [`SessionRow::session_type`].
    pub session_type: String,
    pub image: String,
    pub cpu: f64,
    pub mem: i64,
    pub shmem: i64,
    /// JSON object slot → amount; read it with [`SessionRow::accelerators`].
    pub accelerators: String,
    /// JSON object name → value; read it with [`SessionRow::env`].
    pub env: String,
    pub nthreads: i64,
    pub startup_command: Option<String>,
    pub starts_at: Option<i64>,
    pub batch_timeout: Option<i64>,
    pub designated_agent: Option<String>,
    pub agent: Option<String>,
    pub cluster_mode: String,
    pub cluster_size: i64,
    /// Read it with [`SessionRow::status`].
    pub status: String,
    pub status_info: Option<String>,
    /// JSON; read it with [`SessionRow::status_data`].
    pub status_data: Option<String>,
    pub status_changed_at: i64,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub terminated_at: Option<i64>,
    /// 1 while it holds capacity on `agent`.
    pub allocated: i64,
    /// JSON array of ports; read it with [`SessionRow::preopen_ports`].
    pub preopen_ports: String,
    /// Jupyter's token, added upstream by the app proxy (none for sessions
    /// made before it existed). Never shown by the API.
    pub service_secret: Option<String>,
    /// How people call the image (`Customized<name>`), when its reference
    /// is not for reading.
    pub image_name: Option<String>,
}

fn unreadable(id: &str, column: &'static str, value: &str) -> Corrupt {
    Corrupt {
        table: "sessions",
        column,
        id: id.to_string(),
        reason: format!("unknown value {value:?}"),
    }
}

impl SessionRow {
    /// Its status. Only `sessions::status` writes it, so an unknown value
    /// means someone edited the database: views show such a session as
    /// ERROR.
    pub fn status(&self) -> Result<SessionStatus, Corrupt> {
        SessionStatus::parse(&self.status)
            .ok_or_else(|| unreadable(&self.id, "status", &self.status))
    }

    /// Interactive or batch. An unknown value runs as interactive (the
    /// keep-alive main process), which harms nothing.
    pub fn session_type(&self) -> Result<SessionType, Corrupt> {
        SessionType::parse(&self.session_type)
            .ok_or_else(|| unreadable(&self.id, "session_type", &self.session_type))
    }

    /// The accelerators it asks for. Corrupt: the scheduler ends a PENDING
    /// session in ERROR (it cannot be placed as asked); views show none.
    pub fn accelerators(&self) -> Result<BTreeMap<String, f64>, Corrupt> {
        decode("sessions", "accelerators", &self.id, &self.accelerators)
    }

    /// Its environment variables. Corrupt: the launch fails with the reason
    /// (a session without the variables it asked for would mislead); views
    /// show none.
    pub fn env(&self) -> Result<BTreeMap<String, String>, Corrupt> {
        decode("sessions", "env", &self.id, &self.env)
    }

    /// The ports it asked to have open. Corrupt: views and the app
    /// launcher show none.
    pub fn preopen_ports(&self) -> Result<Vec<u16>, Corrupt> {
        decode("sessions", "preopen_ports", &self.id, &self.preopen_ports)
    }

    /// The details of its status. Corrupt: views show none.
    pub fn status_data(&self) -> Result<Option<StatusData>, Corrupt> {
        self.status_data
            .as_deref()
            .map(|d| decode("sessions", "status_data", &self.id, d))
            .transpose()
    }
}

/// Which sessions a listing wants.
#[derive(Debug, Clone, Default)]
pub struct SessionFilter {
    /// Only this owner's.
    pub owner_id: Option<String>,
    /// Only these statuses (all when empty).
    pub statuses: Vec<SessionStatus>,
    /// Only this type.
    pub session_type: Option<SessionType>,
    /// Page size.
    pub limit: i64,
    /// Rows to skip.
    pub offset: i64,
}

/// Live sessions and held CPU/memory of one access key (policy checks).
#[derive(Debug, Clone, FromRow)]
pub struct KeypairUsage {
    /// The access key.
    pub access_key: String,
    /// Sessions holding capacity.
    pub sessions: i64,
    /// CPU they hold.
    pub cpu: f64,
    /// Memory they hold.
    pub mem: i64,
}

pub(super) const SESSION_COLUMNS: &str = "id, name, owner_id, created_by, project_id, access_key, resource_group, session_type, \
    image, cpu, mem, shmem, accelerators, env, nthreads, startup_command, starts_at, batch_timeout, designated_agent, \
    agent, cluster_mode, cluster_size, status, status_info, status_data, status_changed_at, created_at, started_at, \
    terminated_at, allocated, preopen_ports, service_secret, image_name";

/// `$first, $first+1, …` for an IN list.
pub(super) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    /// One session.
    pub async fn session(&self, id: &str) -> StoreResult<Option<SessionRow>> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = $1");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await?)
    }

    /// Sessions in any of `statuses`, oldest first.
    pub async fn sessions_in(&self, statuses: &[SessionStatus]) -> StoreResult<Vec<SessionRow>> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE status IN ({}) ORDER BY created_at, id",
            placeholders(1, statuses.len())
        );
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for s in statuses {
            q = q.bind(s.as_str());
        }
        Ok(q.fetch_all(self.pool()).await?)
    }

    /// How many of a user's sessions are PENDING.
    pub async fn pending_of(&self, owner_id: &str) -> StoreResult<u32> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM sessions WHERE owner_id = $1 AND status = $2",
        )
        .bind(owner_id)
        .bind(SessionStatus::Pending.as_str())
        .fetch_one(self.pool())
        .await?;
        Ok(n.clamp(0, i64::from(u32::MAX)) as u32)
    }

    /// Sessions that hold capacity on an agent (`allocated`), any status.
    pub async fn allocated_sessions(&self) -> StoreResult<Vec<SessionRow>> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE allocated = 1 ORDER BY created_at, id"
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.pool())
            .await?)
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
            list = list.bind(s.as_str());
            count = count.bind(s.as_str());
        }
        if let Some(t) = f.session_type {
            list = list.bind(t.as_str());
            count = count.bind(t.as_str());
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
        Ok(self
            .live_session_named(owner_id, name, except)
            .await?
            .is_some())
    }

    /// The id of the owner's live session with this name (other than
    /// `except`), if any: names are unique among an owner's live sessions.
    pub async fn live_session_named(
        &self,
        owner_id: &str,
        name: &str,
        except: Option<&str>,
    ) -> StoreResult<Option<String>> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT id FROM sessions WHERE owner_id = $1 AND name = $2 AND terminated_at IS NULL AND id <> $3 LIMIT 1",
        )
        .bind(owner_id)
        .bind(name)
        .bind(except.unwrap_or(""))
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|(id,)| id))
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

    /// Clears the allocation flag; true when it was set (the caller then
    /// gives the capacity back, exactly once).
    pub async fn clear_allocation(&self, id: &str) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE sessions SET allocated = 0 WHERE id = $1 AND allocated = 1")
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Per access key: sessions holding capacity and the CPU/memory they
    /// hold (for the policy checks).
    pub async fn keypair_usage(&self) -> StoreResult<Vec<KeypairUsage>> {
        let holding = SessionStatus::HOLDING_CAPACITY;
        let sql = format!(
            "SELECT access_key, CAST(COUNT(*) AS BIGINT) AS sessions,
               CAST(COALESCE(SUM(CASE WHEN allocated = 1 THEN cpu ELSE 0 END), 0.0) AS DOUBLE PRECISION) AS cpu,
               CAST(COALESCE(SUM(CASE WHEN allocated = 1 THEN mem ELSE 0 END), 0) AS BIGINT) AS mem
             FROM sessions WHERE status IN ({}) GROUP BY access_key",
            placeholders(1, holding.len())
        );
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for s in holding {
            q = q.bind(s.as_str());
        }
        Ok(q.fetch_all(self.pool()).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests_support::session_row;

    #[test]
    fn typed_accessors_read_good_rows_and_name_corrupt_ones() {
        let r = session_row();
        assert_eq!(r.status(), Ok(SessionStatus::Running));
        assert_eq!(r.session_type(), Ok(SessionType::Batch));
        assert_eq!(r.accelerators().unwrap()["cuda.device"], 1.0);
        assert_eq!(r.status_data(), Ok(None));
        assert_eq!(r.preopen_ports(), Ok(vec![8000]));
        let bad = SessionRow {
            preopen_ports: "8000".into(),
            status: "RUNNNG".into(),
            env: "[1,".into(),
            status_data: Some("{".into()),
            ..session_row()
        };
        assert_eq!(bad.status().unwrap_err().column, "status");
        assert_eq!(bad.env().unwrap_err().column, "env");
        assert_eq!(bad.status_data().unwrap_err().column, "status_data");
        assert_eq!(bad.preopen_ports().unwrap_err().column, "preopen_ports");
    }
}
