//! resource_policies and the keypairs bound to them.

use berth_shared::bytes::ByteSize;
use berth_shared::resources::ResourcePolicy;
use sqlx::FromRow;

use super::{Store, StoreResult};

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
    /// Storage folders per user, 0 = no limit.
    pub max_folders: i64,
    /// Seconds; overrides the server's idle timeout (0 = off, NULL = the
    /// server's).
    pub idle_timeout: Option<i64>,
    /// Customized images per user, 0 = no limit.
    pub max_customized_images: i64,
    /// Sessions waiting at once per user, 0 = no limit.
    pub max_pending_sessions: i64,
    /// Bytes in a user's folders, 0 = no limit.
    pub max_folder_bytes: i64,
}

impl From<PolicyRow> for ResourcePolicy {
    fn from(p: PolicyRow) -> Self {
        ResourcePolicy {
            name: p.name,
            max_concurrent_sessions: p.max_concurrent_sessions.max(0) as u32,
            max_total_cpu: p.max_total_cpu,
            max_total_mem: ByteSize(p.max_total_mem.max(0) as u64),
            max_session_lifetime: p.max_session_lifetime.max(0) as u64,
            max_folders: p.max_folders.clamp(0, i64::from(u32::MAX)) as u32,
            idle_timeout: p.idle_timeout.map(|t| t.max(0) as u64),
            max_customized_images: p.max_customized_images.clamp(0, i64::from(u32::MAX)) as u32,
            max_pending_sessions: p.max_pending_sessions.clamp(0, i64::from(u32::MAX)) as u32,
            max_folder_bytes: ByteSize(p.max_folder_bytes.max(0) as u64),
        }
    }
}

/// A keypair's access key with its policy's columns.
#[derive(Debug, Clone, FromRow)]
struct KeypairPolicyRow {
    access_key: String,
    #[sqlx(flatten)]
    policy: PolicyRow,
}

impl Store {
    /// Every policy.
    pub async fn policies(&self) -> StoreResult<Vec<PolicyRow>> {
        Ok(sqlx::query_as(
            "SELECT name, max_concurrent_sessions, max_total_cpu, max_total_mem, max_session_lifetime, max_folders, idle_timeout, max_customized_images, max_pending_sessions, max_folder_bytes
             FROM resource_policies ORDER BY name",
        )
        .fetch_all(self.pool())
        .await?)
    }

    /// Creates or replaces a policy.
    pub async fn put_policy(&self, p: &PolicyRow) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO resource_policies (name, max_concurrent_sessions, max_total_cpu, max_total_mem, max_session_lifetime, max_folders, idle_timeout, max_customized_images, max_pending_sessions, max_folder_bytes)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (name) DO UPDATE SET max_concurrent_sessions = $2, max_total_cpu = $3,
               max_total_mem = $4, max_session_lifetime = $5, max_folders = $6, idle_timeout = $7,
               max_customized_images = $8, max_pending_sessions = $9,
               max_folder_bytes = $10",
        )
        .bind(&p.name)
        .bind(p.max_concurrent_sessions)
        .bind(p.max_total_cpu)
        .bind(p.max_total_mem)
        .bind(p.max_session_lifetime)
        .bind(p.max_folders)
        .bind(p.idle_timeout)
        .bind(p.max_customized_images)
        .bind(p.max_pending_sessions)
        .bind(p.max_folder_bytes)
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
            "SELECT p.name, p.max_concurrent_sessions, p.max_total_cpu, p.max_total_mem, p.max_session_lifetime, p.max_folders, p.idle_timeout, p.max_customized_images, p.max_pending_sessions, p.max_folder_bytes
             FROM resource_policies p JOIN keypairs k ON k.resource_policy = p.name WHERE k.access_key = $1",
        )
        .bind(access_key)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Policies of every keypair: (access key, its policy).
    pub async fn keypair_policies(&self) -> StoreResult<Vec<(String, PolicyRow)>> {
        let rows: Vec<KeypairPolicyRow> = sqlx::query_as(
            "SELECT k.access_key, p.name, p.max_concurrent_sessions, p.max_total_cpu, p.max_total_mem, p.max_session_lifetime, p.max_folders, p.idle_timeout, p.max_customized_images, p.max_pending_sessions, p.max_folder_bytes
             FROM keypairs k JOIN resource_policies p ON p.name = k.resource_policy",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(|r| (r.access_key, r.policy)).collect())
    }
}
