//! server_meta: small server-wide values.

use super::{Store, StoreResult};

impl Store {
    /// The value under `key`, storing `make()` first when there is none.
    pub async fn meta_get_or_init(
        &self,
        key: &str,
        make: impl FnOnce() -> String,
    ) -> StoreResult<String> {
        let value = make();
        sqlx::query(
            "INSERT INTO server_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(&value)
        .execute(self.pool())
        .await?;
        let (v,): (String,) = sqlx::query_as("SELECT value FROM server_meta WHERE key = $1")
            .bind(key)
            .fetch_one(self.pool())
            .await?;
        Ok(v)
    }

    /// Sets the value under `key`.
    pub async fn meta_set(&self, key: &str, value: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO server_meta (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The value under `key`, if any.
    pub async fn meta_get(&self, key: &str) -> StoreResult<Option<String>> {
        let row: Option<(String,)> = sqlx::query_as("SELECT value FROM server_meta WHERE key = $1")
            .bind(key)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|(v,)| v))
    }
}
