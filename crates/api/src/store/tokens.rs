//! api_tokens: personal tokens for scripts, stored as hashes.

use sqlx::FromRow;

use super::{Store, StoreResult};

/// A row of `api_tokens` without its hash.
#[derive(Debug, Clone, FromRow)]
pub struct TokenRow {
    /// UUID.
    pub id: String,
    /// Owner.
    pub user_id: String,
    /// Given name.
    pub name: String,
    /// First characters of the token.
    pub prefix: String,
    /// Epoch ms.
    pub created_at: i64,
    /// Epoch ms.
    pub last_used_at: Option<i64>,
    /// Epoch ms; `None`: until revoked.
    pub expires_at: Option<i64>,
}

/// How stale a token's `last_used_at` may get before a use writes it.
const LAST_USED_EVERY_MS: i64 = 60_000;

impl Store {
    /// Stores a new token.
    pub async fn insert_token(&self, row: &TokenRow, token_hash: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO api_tokens (id, user_id, name, prefix, token_hash, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&row.id)
        .bind(&row.user_id)
        .bind(&row.name)
        .bind(&row.prefix)
        .bind(token_hash)
        .bind(row.created_at)
        .bind(row.expires_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// A user's live tokens (not revoked, not expired at `now`), newest first.
    pub async fn tokens_of(&self, user_id: &str, now: i64) -> StoreResult<Vec<TokenRow>> {
        Ok(sqlx::query_as(
            "SELECT id, user_id, name, prefix, created_at, last_used_at, expires_at FROM api_tokens
             WHERE user_id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)
             ORDER BY created_at DESC, id",
        )
        .bind(user_id)
        .bind(now)
        .fetch_all(self.pool())
        .await?)
    }

    /// Revokes one of a user's tokens; false when the user has no such live token.
    pub async fn revoke_token(&self, id: &str, user_id: &str, now: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .bind(user_id)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The owner of a live token, marking it used — at most once a
    /// minute, so a busy script does not turn every read into a write.
    pub async fn use_token(&self, token_hash: &str, now: i64) -> StoreResult<Option<String>> {
        let row: Option<(String, Option<i64>)> = sqlx::query_as(
            "SELECT user_id, last_used_at FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL
             AND (expires_at IS NULL OR expires_at > $2)",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(self.pool())
        .await?;
        let Some((user_id, last_used)) = row else {
            return Ok(None);
        };
        if last_used.is_none_or(|t| now.saturating_sub(t) >= LAST_USED_EVERY_MS) {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE token_hash = $2")
                .bind(now)
                .bind(token_hash)
                .execute(self.pool())
                .await?;
        }
        Ok(Some(user_id))
    }
}
