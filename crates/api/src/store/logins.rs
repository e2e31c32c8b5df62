//! login_sessions: browser logins, keyed by the hash of the cookie's token.

use super::{Store, StoreResult};

impl Store {
    /// Records a login valid until `expires_at` (epoch ms).
    pub async fn insert_login(
        &self,
        token_hash: &str,
        user_id: &str,
        now: i64,
        expires_at: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO login_sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(now)
        .bind(expires_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The user of an unexpired login.
    pub async fn login_user(&self, token_hash: &str, now: i64) -> StoreResult<Option<String>> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT user_id FROM login_sessions WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|(u,)| u))
    }

    /// Ends a login (logout).
    pub async fn delete_login(&self, token_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM login_sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Forgets expired logins.
    pub async fn delete_expired_logins(&self, now: i64) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM login_sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }
}
