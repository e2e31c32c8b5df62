//! kernel_devices: which device indices of an agent's `*.device`
//! accelerator slot each kernel holds. The table's key (agent, slot,
//! index) makes sharing a device impossible, whatever races.

use std::collections::BTreeMap;

use super::sessions::placeholders;
use super::{Store, StoreResult};

/// The lowest `n` indices below `total` not in `used`.
pub fn lowest_free(used: &[i64], total: u32, n: u32) -> Option<Vec<u32>> {
    let free: Vec<u32> = (0..total)
        .filter(|i| !used.contains(&i64::from(*i)))
        .take(n as usize)
        .collect();
    (free.len() == n as usize).then_some(free)
}

impl Store {
    /// Gives `kernel` `n` devices of `slot` on `agent` (of `total`), the
    /// lowest free ones; the ones it already holds when it has them (a
    /// resumed launch). `None` when not enough are free.
    pub async fn assign_devices(
        &self,
        kernel: &str,
        agent: &str,
        slot: &str,
        n: u32,
        total: u32,
    ) -> StoreResult<Option<Vec<u32>>> {
        let mut tx = self.pool().begin().await?;
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT idx, kernel_id FROM kernel_devices WHERE agent_id = $1 AND slot = $2",
        )
        .bind(agent)
        .bind(slot)
        .fetch_all(&mut *tx)
        .await?;
        let mine: Vec<u32> = rows
            .iter()
            .filter(|(_, k)| k == kernel)
            .map(|(i, _)| *i as u32)
            .collect();
        if !mine.is_empty() {
            return Ok(Some(mine));
        }
        let used: Vec<i64> = rows.iter().map(|(i, _)| *i).collect();
        let Some(picked) = lowest_free(&used, total, n) else {
            return Ok(None);
        };
        for i in &picked {
            sqlx::query(
                "INSERT INTO kernel_devices (agent_id, slot, idx, kernel_id) VALUES ($1, $2, $3, $4)",
            )
            .bind(agent)
            .bind(slot)
            .bind(i64::from(*i))
            .bind(kernel)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Some(picked))
    }

    /// The devices of each kernel: kernel → slot → indices.
    pub async fn devices_of_many(
        &self,
        kernels: &[String],
    ) -> StoreResult<BTreeMap<String, BTreeMap<String, Vec<u32>>>> {
        let mut out: BTreeMap<String, BTreeMap<String, Vec<u32>>> = BTreeMap::new();
        if kernels.is_empty() {
            return Ok(out);
        }
        let sql = format!(
            "SELECT kernel_id, slot, idx FROM kernel_devices WHERE kernel_id IN ({}) ORDER BY slot, idx",
            placeholders(1, kernels.len())
        );
        let mut q = sqlx::query_as::<_, (String, String, i64)>(sqlx::AssertSqlSafe(sql));
        for k in kernels {
            q = q.bind(k.clone());
        }
        for (k, slot, idx) in q.fetch_all(self.pool()).await? {
            out.entry(k)
                .or_default()
                .entry(slot)
                .or_default()
                .push(idx as u32);
        }
        Ok(out)
    }

    /// Frees the devices of a session's kernels (at its end).
    pub async fn free_devices(&self, session_id: &str) -> StoreResult<()> {
        sqlx::query(
            "DELETE FROM kernel_devices WHERE kernel_id IN (SELECT id FROM kernels WHERE session_id = $1)",
        )
        .bind(session_id)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lowest_free_devices_are_picked_or_none() {
        assert_eq!(lowest_free(&[], 4, 2), Some(vec![0, 1]));
        assert_eq!(lowest_free(&[0, 2], 4, 2), Some(vec![1, 3]));
        assert_eq!(lowest_free(&[0, 1, 2], 4, 2), None);
        assert_eq!(lowest_free(&[], 0, 0), Some(vec![]));
    }
}
