//! resource_presets: named resource sets admins define.

use std::collections::BTreeMap;

use sqlx::FromRow;

use super::json::{decode, Corrupt};
use super::{Store, StoreResult};

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
    /// JSON object slot → amount; read it with [`PresetRow::accelerators`].
    pub accelerators: String,
}

impl PresetRow {
    /// Its accelerators. Presets are only shown and copied into a launch
    /// form, so corrupt ones read as none (logged by the caller).
    pub fn accelerators(&self) -> Result<BTreeMap<String, f64>, Corrupt> {
        decode(
            "resource_presets",
            "accelerators",
            &self.name,
            &self.accelerators,
        )
    }
}

impl Store {
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
}
