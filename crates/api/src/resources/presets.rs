//! Resource presets: named resource sets admins define and the launcher
//! offers.

use berth_shared::bytes::ByteSize;
use berth_shared::resources::{ResourcePreset, ResourcePresetList};

use super::{ResourceError, ResourceResult};
use crate::store::json::{encode, OrLogged};
use crate::store::{PresetRow, Store};

/// A preset as the API shows it (unreadable accelerators read as none).
fn preset(p: PresetRow) -> ResourcePreset {
    ResourcePreset {
        accelerators: p.accelerators().or_logged_default(),
        name: p.name,
        cpu: p.cpu,
        mem: ByteSize(p.mem.max(0) as u64),
        shmem: ByteSize(p.shmem.max(0) as u64),
    }
}

/// Every preset, smallest first.
pub async fn list(store: &Store) -> ResourceResult<ResourcePresetList> {
    let items = store.presets().await?.into_iter().map(preset).collect();
    Ok(ResourcePresetList { items })
}

/// Creates or replaces a preset (after its rules).
pub async fn put(store: &Store, p: &ResourcePreset) -> ResourceResult<ResourcePreset> {
    p.validate().map_err(ResourceError::Invalid)?;
    let row = PresetRow {
        name: p.name.trim().to_string(),
        cpu: p.cpu,
        mem: p.mem.0.min(i64::MAX as u64) as i64,
        shmem: p.shmem.0.min(i64::MAX as u64) as i64,
        accelerators: encode(&p.accelerators),
    };
    store.put_preset(&row).await?;
    Ok(preset(row))
}

/// Deletes a preset.
pub async fn delete(store: &Store, name: &str) -> ResourceResult<()> {
    if store.delete_preset(name).await? {
        Ok(())
    } else {
        Err(ResourceError::NotFound("preset"))
    }
}
