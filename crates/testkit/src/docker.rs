//! The containers (and customized images) a test server made, as `docker`
//! sees them. Tests share one engine: each cleans up only its own server's.

use std::process::Command;
use std::time::Duration;

fn ids_labelled(instance: &str, full: bool) -> Vec<String> {
    let label = format!("label=berth.instance={instance}");
    let mut args = vec!["ps", "-aq", "--filter", &label];
    if full {
        args.push("--no-trunc");
    }
    match Command::new("docker").args(&args).output() {
        Ok(out) => String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(String::from)
            .collect(),
        Err(_) => vec![],
    }
}

/// Containers of this server instance (full ids).
pub fn containers_of(instance: &str) -> Vec<String> {
    ids_labelled(instance, true)
}

/// Removes every container labelled with this server instance, also when
/// its test failed. A launch still in flight when the test ends can create
/// its container just after the first look (the test runtime then drops
/// the task before it starts it), so a second look follows shortly.
pub fn remove_containers(instance: &str) {
    remove_once(instance);
    std::thread::sleep(Duration::from_secs(1));
    remove_once(instance);
}

fn remove_once(instance: &str) {
    let ids = ids_labelled(instance, false);
    if !ids.is_empty() {
        let _ = Command::new("docker")
            .args(["rm", "-f", "-v"])
            .args(&ids)
            .output();
    }
    // customized images its sessions were saved as
    let label = format!("label=berth.instance={instance}");
    let images = Command::new("docker")
        .args([
            "images",
            "-q",
            "--filter",
            &label,
            "--filter",
            "label=berth.customized.owner",
        ])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    if !images.is_empty() {
        let _ = Command::new("docker")
            .args(["rmi", "-f"])
            .args(&images)
            .output();
    }
}
