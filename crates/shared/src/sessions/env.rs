//! Environment variables a session asks for: names, reserved names, and
//! the launcher's rows.

use crate::validate::{Errors, Invalid};
use crate::FieldError;

/// An environment variable name: `^[A-Za-z_][A-Za-z0-9_]*$`.
pub fn env_name(name: &str) -> Result<(), Invalid> {
    let mut chars = name.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if name.is_empty() {
        Err(Invalid::new("required", "A variable needs a name."))
    } else if !ok {
        Err(Invalid::new(
            "invalid_env_name",
            "Use letters, digits and _, not starting with a digit.",
        ))
    } else if reserved_env_name(name) {
        Err(Invalid::new(
            "reserved_env_name",
            format!(
                "{name} is set by berth itself (NVIDIA_*, *_VISIBLE_DEVICES, BERTH_* and \
                 BACKENDAI_* choose devices and describe the session)."
            ),
        ))
    } else {
        Ok(())
    }
}

/// Names berth sets itself: device selection (`NVIDIA_*`,
/// `*_VISIBLE_DEVICES`, which would hand a session devices it was not
/// given) and the session's own description (`BERTH_*`, `BACKENDAI_*`).
/// Compared without case, as some runtimes read them.
pub fn reserved_env_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["NVIDIA_", "BERTH_", "BACKENDAI_"]
        .iter()
        .any(|p| upper.starts_with(p))
        || upper.ends_with("_VISIBLE_DEVICES")
}

/// Env var rows (as the launcher edits them): valid names, no duplicates.
pub fn env_rows(rows: &[(String, String)]) -> Result<(), Vec<FieldError>> {
    let mut errs = Errors::new();
    for (i, (name, _)) in rows.iter().enumerate() {
        let field = format!("env[{i}].name");
        if let Err(e) = env_name(name) {
            errs.check(&field, Err(e));
        } else if rows[..i].iter().any(|(n, _)| n == name) {
            errs.check(
                &field,
                Err(Invalid::new(
                    "duplicate",
                    format!("{name} is already set above."),
                )),
            );
        }
    }
    errs.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_rules() {
        assert!(env_name("PATH").is_ok() && env_name("_x1").is_ok());
        assert_eq!(env_name("1X").unwrap_err().code, "invalid_env_name");
        assert_eq!(env_name("A-B").unwrap_err().code, "invalid_env_name");
        assert_eq!(env_name("").unwrap_err().code, "required");
        for reserved in [
            "NVIDIA_VISIBLE_DEVICES",
            "nvidia_driver_capabilities",
            "CUDA_VISIBLE_DEVICES",
            "BERTH_X",
            "BACKENDAI_CLUSTER_HOST",
        ] {
            let e = env_name(reserved).unwrap_err();
            assert_eq!(e.code, "reserved_env_name", "{reserved}");
            assert!(e.message.contains(reserved), "{}", e.message);
        }
        assert!(env_name("VISIBLE").is_ok() && env_name("MY_BERTH").is_ok());
        let rows = vec![
            ("A".into(), "1".into()),
            ("B".into(), "2".into()),
            ("A".into(), "3".into()),
            ("9".into(), "".into()),
        ];
        let errs = env_rows(&rows).unwrap_err();
        let got: Vec<_> = errs
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("env[2].name", "duplicate"),
                ("env[3].name", "invalid_env_name")
            ]
        );
    }
}
