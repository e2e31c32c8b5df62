//! The documented maxima of a create body, and the image-reference rule.
//! Every number a client sends is bounded here, so no arithmetic on it can
//! overflow on either side (the server's timers, Docker's nano-CPUs).

use chrono::{DateTime, Duration, Utc};

use crate::bytes::{ByteSize, GIB};
use crate::validate::Invalid;

/// Least CPU a session may ask for (Docker's own minimum is 0.01; below
/// ~5e-10 its NanoCpus round to 0, which means unlimited).
pub const MIN_CPU: f64 = 0.01;
/// Most CPU cores a session may ask for.
pub const MAX_CPU: f64 = 1024.0;
/// Most memory a session may ask for (64 TiB).
pub const MAX_MEM: ByteSize = ByteSize(64 * 1024 * GIB);
/// Most of one accelerator slot a session may ask for.
pub const MAX_ACCELERATOR: f64 = 1024.0;
/// Longest batch time limit: a year, in seconds.
pub const MAX_BATCH_TIMEOUT_SECS: u64 = 366 * 86_400;
/// Longest time a resource policy may set (lifetime, idle timeout): ten
/// years, in seconds.
pub const MAX_POLICY_SECS: u64 = 10 * 366 * 86_400;
/// Furthest a batch start time may be ahead: a year.
pub const MAX_START_DELAY_DAYS: i64 = 366;
/// Most environment variables.
pub const MAX_ENV_VARS: usize = 256;
/// Longest environment variable value, in bytes.
pub const MAX_ENV_VALUE_BYTES: usize = 32 * 1024;
/// Longest startup command, in bytes.
pub const MAX_STARTUP_COMMAND_BYTES: usize = 64 * 1024;
/// Longest image reference (Docker's own limit for a name is 255).
pub const MAX_IMAGE_REFERENCE: usize = 255;

/// Most kernels of one cluster session (a session network's /27 holds
/// them with room to spare).
pub const MAX_CLUSTER_SIZE: u32 = 8;
/// A CPU amount within [`MIN_CPU`]..=[`MAX_CPU`].
pub fn cpu_amount(cpu: f64) -> Result<(), Invalid> {
    if cpu.is_finite() && (MIN_CPU..=MAX_CPU).contains(&cpu) {
        Ok(())
    } else {
        Err(Invalid::new(
            "out_of_range",
            format!("CPU must be between {MIN_CPU} and {MAX_CPU} cores."),
        ))
    }
}

/// A batch time limit within 1 s ..= [`MAX_BATCH_TIMEOUT_SECS`].
pub fn batch_timeout(secs: u64) -> Result<(), Invalid> {
    if (1..=MAX_BATCH_TIMEOUT_SECS).contains(&secs) {
        Ok(())
    } else {
        Err(Invalid::new(
            "out_of_range",
            format!(
                "The maximum run time must be between 1 second and {} days.",
                MAX_BATCH_TIMEOUT_SECS / 86_400
            ),
        ))
    }
}

/// A start time at most [`MAX_START_DELAY_DAYS`] after `now` (one in the
/// past just starts at once).
pub fn starts_at(at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), Invalid> {
    let limit = now.checked_add_signed(Duration::days(MAX_START_DELAY_DAYS));
    if limit.is_none_or(|limit| at <= limit) {
        Ok(())
    } else {
        Err(Invalid::new(
            "out_of_range",
            format!("A start time may be at most {MAX_START_DELAY_DAYS} days ahead."),
        ))
    }
}

/// A Docker image reference: `[host[:port]/]path[:tag][@digest]`, with
/// lowercase path components, as the engine accepts it.
pub fn image_reference(r: &str) -> Result<(), Invalid> {
    let bad = |why: &str| {
        Err(Invalid::new(
            "invalid_image",
            format!("Not an image reference like registry/name:tag ({why})."),
        ))
    };
    if r.is_empty() || r.len() > MAX_IMAGE_REFERENCE {
        return bad("1 to 255 characters");
    }
    let (rest, digest) = match r.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (r, None),
    };
    if let Some(d) = digest {
        let ok = d.split_once(':').is_some_and(|(alg, hex)| {
            !alg.is_empty()
                && alg
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+._-".contains(c))
                && hex.len() >= 32
                && hex.chars().all(|c| c.is_ascii_hexdigit())
        });
        if !ok {
            return bad("a digest is algorithm:hex");
        }
    }
    // a tag follows the last ':' after the last '/'
    let slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[slash..].rfind(':') {
        Some(i) => (&rest[..slash + i], Some(&rest[slash + i + 1..])),
        None => (rest, None),
    };
    if let Some(t) = tag {
        let mut cs = t.chars();
        let ok = t.len() <= 128
            && cs
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            && cs.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
        if !ok {
            return bad("a tag is letters, digits, _ . -");
        }
    }
    let mut parts: Vec<&str> = name.split('/').collect();
    // a first part with '.' or ':' (or localhost) is a registry host
    if parts.len() > 1 && (parts[0].contains(['.', ':']) || parts[0] == "localhost") {
        let host = parts.remove(0);
        let (h, port) = match host.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host, None),
        };
        let host_ok = !h.is_empty()
            && h.split('.').all(|l| {
                !l.is_empty()
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        let port_ok = port.is_none_or(|p| !p.is_empty() && p.parse::<u16>().is_ok());
        if !host_ok || !port_ok {
            return bad("a registry is host[:port]");
        }
    }
    if parts.iter().all(|p| path_component(p)) {
        Ok(())
    } else {
        bad("lowercase letters and digits, separated by . _ __ - or /")
    }
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn path_component(p: &str) -> bool {
    let b = p.as_bytes();
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &p[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|c| c == b'-');
        if !ok {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn image_references() {
        for ok in [
            "busybox",
            "berth/busybox:latest",
            "berth/python:3.11",
            "customized/u1/abc-def:latest",
            "registry.example.com:5000/team/img:v1.2-rc_3",
            "localhost/a__b/c-d.e",
            "img@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert!(image_reference(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Busybox",
            "a b",
            "img:",
            "img:-x",
            "/img",
            "img/",
            "a//b",
            "a..b",
            "img@sha256:xyz",
            "http://x/y",
            "x:99999/y",
            &"a".repeat(300),
        ] {
            assert!(image_reference(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn numbers_have_bounds() {
        assert!(cpu_amount(0.01).is_ok());
        assert!(
            cpu_amount(5e-10).is_err(),
            "would be NanoCpus 0 = unlimited"
        );
        assert!(cpu_amount(f64::INFINITY).is_err());
        assert!(cpu_amount(2048.0).is_err());
        assert!(batch_timeout(1).is_ok());
        assert!(batch_timeout(0).is_err());
        assert!(batch_timeout(u64::MAX).is_err());
        let now = DateTime::parse_from_rfc3339("2026-11-30T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert!(starts_at(now + Duration::days(2), now).is_ok());
        assert!(starts_at(now - Duration::days(2), now).is_ok());
        assert!(starts_at(now + Duration::days(400), now).is_err());
    }

    proptest! {
        #[test]
        fn the_image_rule_never_panics(s in ".{0,300}") {
            let _ = image_reference(&s);
        }

        #[test]
        fn an_accepted_batch_timeout_fits_every_clock(secs in any::<u64>()) {
            if batch_timeout(secs).is_ok() {
                prop_assert!(secs.checked_mul(1000).is_some_and(|ms| ms < i64::MAX as u64));
                prop_assert!(std::time::Instant::now()
                    .checked_add(std::time::Duration::from_secs(secs))
                    .is_some());
            }
        }
    }
}
