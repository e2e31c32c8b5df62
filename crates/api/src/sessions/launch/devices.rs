//! Device indices for a kernel, handed out before anything starts.

use super::*;

/// Gives kernel `k` the devices of each `*.device` slot it asks for (the
/// lowest free indices of its agent, recorded so no other kernel gets
/// them): NVIDIA GPUs (returned second) through the engine's `nvidia`
/// runtime when it has one, and for every other kind (a declared test kind
/// like `fake.device`) the indices in `<KIND>_VISIBLE_DEVICES` (returned
/// first, as env entries).
pub(super) async fn give_devices(
    svc: &Services,
    rt: &Runtime,
    k: &KernelRow,
    agent: &str,
    asked: &BTreeMap<String, f64>,
    totals: &BTreeMap<String, f64>,
) -> Result<(Vec<String>, Vec<String>), String> {
    let (mut env, mut gpus) = (Vec::new(), Vec::new());
    for (slot, n) in asked
        .iter()
        .filter(|(slot, n)| is_device_slot(slot) && **n > 0.0)
    {
        let total = totals.get(slot).copied().unwrap_or(0.0).max(0.0) as u32;
        let picked = svc
            .store()
            .assign_devices(&k.id, agent, slot, *n as u32, total)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("agent {agent} has no {n} free {slot}"))?;
        let list: Vec<String> = picked.iter().map(u32::to_string).collect();
        if slot == "cuda.device" && rt.has_nvidia().await.unwrap_or(false) {
            gpus.extend(list);
        } else {
            let kind = slot.split('.').next().unwrap_or(slot).to_ascii_uppercase();
            env.push(format!("{kind}_VISIBLE_DEVICES={}", list.join(",")));
        }
    }
    Ok((env, gpus))
}
