//! JSON kept in TEXT columns (a session's env and accelerators, a preset's
//! accelerators, a launcher-history entry's request, `status_data`).
//!
//! Reading one never silently turns corrupt data into a default: the typed
//! accessors on the rows return [`Corrupt`], and each caller decides what
//! corruption means there (see the accessors' docs), logging it.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// A stored JSON text that does not parse as what it should be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{table}.{column} of {id} is unreadable: {reason}")]
pub struct Corrupt {
    /// Table.
    pub table: &'static str,
    /// Column.
    pub column: &'static str,
    /// The row's id.
    pub id: String,
    /// What the parser said.
    pub reason: String,
}

/// Parses the JSON text of `table.column` in row `id`.
pub(crate) fn decode<T: DeserializeOwned>(
    table: &'static str,
    column: &'static str,
    id: &str,
    text: &str,
) -> Result<T, Corrupt> {
    serde_json::from_str(text).map_err(|e| Corrupt {
        table,
        column,
        id: id.to_string(),
        reason: e.to_string(),
    })
}

/// The JSON text of a value with string keys and plain values (maps of
/// numbers or strings, a request body), which serializes without failure.
pub fn encode<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|e| {
        tracing::error!(error = %e, "a value could not be written as JSON");
        "null".into()
    })
}

/// Where a default is the right answer to corrupt data (a read-only view),
/// this gives it and logs what was wrong.
pub trait OrLogged<T> {
    /// The value, or `T::default()` with a warning in the log.
    fn or_logged_default(self) -> T;
}

impl<T: Default> OrLogged<T> for Result<T, Corrupt> {
    fn or_logged_default(self) -> T {
        self.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "showing a default for corrupt stored data");
            T::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn corrupt_text_names_its_place_and_is_not_a_default() {
        let bad = decode::<BTreeMap<String, f64>>("sessions", "env", "s1", "{nope");
        let err = bad.clone().unwrap_err();
        assert_eq!(
            (err.table, err.column, err.id.as_str()),
            ("sessions", "env", "s1")
        );
        assert!(err
            .to_string()
            .starts_with("sessions.env of s1 is unreadable"));
        assert!(bad.or_logged_default().is_empty());
        let good = decode::<BTreeMap<String, f64>>("t", "c", "x", r#"{"a":1.5}"#);
        assert_eq!(good.unwrap()["a"], 1.5);
        assert_eq!(encode(&BTreeMap::from([("a", 2)])), r#"{"a":2}"#);
    }
}
