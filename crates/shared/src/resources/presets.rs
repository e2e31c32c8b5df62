//! Resource presets: named CPU, memory and accelerator sizes the launcher
//! offers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::bytes::ByteSize;
use crate::validate::{self, Errors, Invalid};
use crate::FieldError;

/// A named resource set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ResourcePreset {
    /// Name (unique).
    pub name: String,
    /// CPU cores.
    pub cpu: f64,
    /// Memory.
    pub mem: ByteSize,
    /// Shared memory.
    pub shmem: ByteSize,
    /// Accelerators by slot.
    #[serde(default)]
    pub accelerators: BTreeMap<String, f64>,
}

impl ResourcePreset {
    /// Rules for a preset.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errs = Errors::new();
        errs.check("name", validate::required(&self.name));
        errs.check("name", validate::max_chars(&self.name, 64));
        if !(self.cpu.is_finite() && self.cpu > 0.0) {
            errs.check(
                "cpu",
                Err(Invalid::new("out_of_range", "CPU must be more than 0.")),
            );
        }
        if self.mem.0 == 0 {
            errs.check(
                "mem",
                Err(Invalid::new("out_of_range", "Memory must be more than 0.")),
            );
        }
        if self.shmem > self.mem {
            errs.check(
                "shmem",
                Err(Invalid::new(
                    "shmem_exceeds_mem",
                    "Shared memory cannot be more than memory.",
                )),
            );
        }
        errs.finish()
    }
}

/// `GET /api/v1/resource-presets`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResourcePresetList {
    /// Presets by name.
    pub items: Vec<ResourcePreset>,
}
