//! Byte sizes written the way people write them: `2g`, `512m`, `1.5GiB`, or
//! a plain number of bytes.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A size in bytes. Deserializes from a number or a string with a binary
/// unit (`k`, `m`, `g`, `t`, optionally followed by `b` or `ib`); serializes
/// as a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ByteSize(pub u64);

/// One mebibyte.
pub const MIB: u64 = 1024 * 1024;
/// One gibibyte.
pub const GIB: u64 = 1024 * MIB;

impl ByteSize {
    /// Parses `"2g"`, `"512m"`, `"1.5GiB"`, `"1048576"`.
    pub fn parse(s: &str) -> Option<ByteSize> {
        let s = s.trim().to_ascii_lowercase();
        let s = s
            .strip_suffix("ib")
            .or_else(|| s.strip_suffix('b'))
            .unwrap_or(&s);
        let (num, mult) = match s.chars().last()? {
            'k' => (&s[..s.len() - 1], 1024u64),
            'm' => (&s[..s.len() - 1], MIB),
            'g' => (&s[..s.len() - 1], GIB),
            't' => (&s[..s.len() - 1], 1024 * GIB),
            c if c.is_ascii_digit() => (s, 1),
            _ => return None,
        };
        let num = num.trim();
        if num.is_empty() || num.starts_with('-') || num.starts_with('+') {
            return None;
        }
        if let Ok(n) = num.parse::<u64>() {
            return n.checked_mul(mult).map(ByteSize);
        }
        let f: f64 = num.parse().ok()?;
        let v = f * mult as f64;
        (f.is_finite() && v >= 0.0 && v < u64::MAX as f64).then(|| ByteSize(v.round() as u64))
    }

    /// The size in bytes.
    pub fn bytes(self) -> u64 {
        self.0
    }

    /// `2 GiB`, `512 MiB`, `1.5 GiB`: for people.
    pub fn human(self) -> String {
        let b = self.0 as f64;
        let (v, unit) = if self.0 >= 1024 * GIB {
            (b / (1024 * GIB) as f64, "TiB")
        } else if self.0 >= GIB {
            (b / GIB as f64, "GiB")
        } else if self.0 >= MIB {
            (b / MIB as f64, "MiB")
        } else if self.0 >= 1024 {
            (b / 1024.0, "KiB")
        } else {
            return format!("{} B", self.0);
        };
        let s = format!("{v:.2}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        format!("{s} {unit}")
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.human())
    }
}

impl Serialize for ByteSize {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ByteSize;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a size in bytes, or a string like \"2g\" or \"512m\"")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ByteSize, E> {
                Ok(ByteSize(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ByteSize, E> {
                u64::try_from(v)
                    .map(ByteSize)
                    .map_err(|_| E::custom("a size cannot be negative"))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<ByteSize, E> {
                if v.is_finite() && v >= 0.0 {
                    Ok(ByteSize(v.round() as u64))
                } else {
                    Err(E::custom("a size cannot be negative"))
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ByteSize, E> {
                ByteSize::parse(v).ok_or_else(|| {
                    E::custom(format!("{v:?} is not a size like \"2g\" or \"512m\""))
                })
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_units() {
        assert_eq!(ByteSize::parse("2g"), Some(ByteSize(2 * GIB)));
        assert_eq!(ByteSize::parse("512M"), Some(ByteSize(512 * MIB)));
        assert_eq!(ByteSize::parse("1.5GiB"), Some(ByteSize(3 * GIB / 2)));
        assert_eq!(ByteSize::parse("64mb"), Some(ByteSize(64 * MIB)));
        assert_eq!(ByteSize::parse("100"), Some(ByteSize(100)));
        assert_eq!(ByteSize::parse(" 1k "), Some(ByteSize(1024)));
        for bad in ["", "g", "-1g", "abc", "1x", "1.2.3m", "+5"] {
            assert_eq!(ByteSize::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn json_forms() {
        let v: Vec<ByteSize> = serde_json::from_str(r#"[1024, "1m", 2.0]"#).unwrap();
        assert_eq!(v, [ByteSize(1024), ByteSize(MIB), ByteSize(2)]);
        assert!(serde_json::from_str::<ByteSize>("-5").is_err());
        assert!(serde_json::from_str::<ByteSize>("\"lots\"").is_err());
        assert_eq!(serde_json::to_string(&ByteSize(GIB)).unwrap(), "1073741824");
        assert_eq!(ByteSize(3 * GIB / 2).human(), "1.5 GiB");
        assert_eq!(ByteSize(512 * MIB).human(), "512 MiB");
    }

    proptest! {
        #[test]
        fn mebibytes_round_trip(n in 0u64..1_000_000) {
            prop_assert_eq!(ByteSize::parse(&format!("{n}m")), Some(ByteSize(n * MIB)));
            prop_assert_eq!(ByteSize::parse(&(n * MIB).to_string()), Some(ByteSize(n * MIB)));
        }
    }
}
