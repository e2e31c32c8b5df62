//! Input rules. Every function here is used by both the server (before
//! anything is stored) and the browser (live, under the field).

use crate::FieldError;

/// Shortest accepted password, in characters.
pub const PASSWORD_MIN_CHARS: usize = 8;
/// Longest accepted password, in characters (bounds hashing cost).
pub const PASSWORD_MAX_CHARS: usize = 256;
/// Longest accepted email address (RFC 5321 path limit).
pub const EMAIL_MAX_CHARS: usize = 254;
/// Longest accepted full name.
pub const FULL_NAME_MAX_CHARS: usize = 128;
/// Longest accepted API token name.
pub const TOKEN_NAME_MAX_CHARS: usize = 64;

/// Collects field errors; `finish` turns them into a result.
#[derive(Debug, Default)]
pub struct Errors(Vec<FieldError>);

impl Errors {
    /// An empty collection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the outcome of one rule for `field`.
    pub fn check(&mut self, field: &str, outcome: Result<(), Invalid>) {
        if let Err(invalid) = outcome {
            self.0.push(invalid.at(field));
        }
    }

    /// `Ok` when no rule failed, else every failure.
    pub fn finish(self) -> Result<(), Vec<FieldError>> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
    }
}

/// A rule's failure before it is tied to a field name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// Stable code (see [`FieldError::code`]).
    pub code: &'static str,
    /// English explanation.
    pub message: String,
    /// Values the message is about (see [`FieldError::params`]).
    pub params: std::collections::BTreeMap<String, String>,
}

impl Invalid {
    /// A failure with its code and message.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            params: Default::default(),
        }
    }

    /// An `out_of_range` failure that names its bounds (`min`, `max`), so
    /// every client can say "from 1 to 8" in its language.
    pub fn range(min: impl ToString, max: impl ToString, message: impl Into<String>) -> Self {
        let mut i = Self::new("out_of_range", message);
        i.params.insert("min".into(), min.to_string());
        i.params.insert("max".into(), max.to_string());
        i
    }

    /// Ties the failure to a field.
    pub fn at(self, field: &str) -> FieldError {
        let mut e = FieldError::new(field, self.code, self.message);
        e.params = self.params;
        e
    }
}

/// A required text value must not be blank.
pub fn required(value: &str) -> Result<(), Invalid> {
    if value.trim().is_empty() {
        Err(Invalid::new("required", "This field is required."))
    } else {
        Ok(())
    }
}

/// What is typed in a whole-number box: `None` when nothing is, the number
/// when only digits are (no sign, no decimal point), else why not. The
/// range is the field's own rule.
pub fn whole_number(text: &str) -> Result<Option<u64>, Invalid> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    match t.parse::<u64>() {
        Ok(n) if t.bytes().all(|b| b.is_ascii_digit()) => Ok(Some(n)),
        _ => Err(Invalid::new(
            "not_whole_number",
            "Type a whole number, like 4 (no sign, no decimal point).",
        )),
    }
}

/// An email address: one `@`, a non-empty local part, a dotted domain, no
/// spaces. Deliverability is not our business; typos like `a@b` are.
pub fn email(value: &str) -> Result<(), Invalid> {
    required(value)?;
    let value = value.trim();
    if value.chars().count() > EMAIL_MAX_CHARS {
        return Err(Invalid::new(
            "too_long",
            format!("An email address has at most {EMAIL_MAX_CHARS} characters."),
        ));
    }
    let bad = || {
        Invalid::new(
            "invalid_email",
            "Enter an email address like name@example.com.",
        )
    };
    let (local, domain) = value.split_once('@').ok_or_else(bad)?;
    let domain_ok = !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..");
    if local.is_empty() || !domain_ok || value.chars().any(char::is_whitespace) {
        return Err(bad());
    }
    Ok(())
}

/// A new password: between [`PASSWORD_MIN_CHARS`] and [`PASSWORD_MAX_CHARS`].
pub fn new_password(value: &str) -> Result<(), Invalid> {
    let n = value.chars().count();
    if n == 0 {
        return required(value);
    }
    if n < PASSWORD_MIN_CHARS {
        return Err(Invalid::new(
            "too_short",
            format!("A password has at least {PASSWORD_MIN_CHARS} characters."),
        ));
    }
    if n > PASSWORD_MAX_CHARS {
        return Err(Invalid::new(
            "too_long",
            format!("A password has at most {PASSWORD_MAX_CHARS} characters."),
        ));
    }
    Ok(())
}

/// A password typed at login: only non-empty and bounded, so an account made
/// under older rules can still sign in.
pub fn login_password(value: &str) -> Result<(), Invalid> {
    if value.is_empty() {
        return required(value);
    }
    if value.chars().count() > PASSWORD_MAX_CHARS {
        return Err(Invalid::new(
            "too_long",
            format!("A password has at most {PASSWORD_MAX_CHARS} characters."),
        ));
    }
    Ok(())
}

/// Text no longer than `max` characters.
pub fn max_chars(value: &str, max: usize) -> Result<(), Invalid> {
    if value.chars().count() > max {
        Err(Invalid::new(
            "too_long",
            format!("At most {max} characters."),
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_plain_emails() {
        for ok in [
            "a@b.io",
            "first.last+tag@example.co.kr",
            " admin@berth.local ",
        ] {
            assert_eq!(email(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn rejects_malformed_emails() {
        for bad in [
            "",
            "   ",
            "plain",
            "@example.com",
            "a@b",
            "a@.com",
            "a@com.",
            "a b@c.io",
            "a@b@c.io",
            "a@b..io",
        ] {
            assert!(email(bad).is_err(), "{bad:?} should be rejected");
        }
        assert_eq!(email("").unwrap_err().code, "required");
        assert_eq!(email("x@y").unwrap_err().code, "invalid_email");
    }

    #[test]
    fn password_bounds() {
        assert_eq!(new_password("").unwrap_err().code, "required");
        assert_eq!(new_password("1234567").unwrap_err().code, "too_short");
        assert_eq!(new_password("12345678"), Ok(()));
        assert_eq!(new_password(&"x".repeat(257)).unwrap_err().code, "too_long");
        // counted in characters, not bytes
        assert_eq!(new_password("비밀번호비밀번호"), Ok(()));
        assert_eq!(login_password("x"), Ok(()));
        assert_eq!(login_password("").unwrap_err().code, "required");
    }

    #[test]
    fn errors_collects_every_failure_with_its_field() {
        let mut errs = Errors::new();
        errs.check("email", email("nope"));
        errs.check("password", new_password("short"));
        errs.check("full_name", max_chars("ok", 10));
        let list = errs.finish().unwrap_err();
        let fields: Vec<_> = list
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect();
        assert_eq!(
            fields,
            [("email", "invalid_email"), ("password", "too_short")]
        );
    }

    proptest! {
        #[test]
        fn any_string_with_whitespace_is_not_an_email(a in "[a-z]{1,8}", b in "[a-z]{1,8}", ws in "[ \t]") {
            let candidate = format!("{a}{ws}x@{b}.io");
            prop_assert!(email(&candidate).is_err());
        }

        #[test]
        fn generated_simple_emails_pass(a in "[a-z0-9._+-]{1,20}", d in "[a-z0-9-]{1,10}", tld in "[a-z]{2,6}") {
            let candidate = format!("{a}@{d}.{tld}");
            prop_assert!(email(&candidate).is_ok());
        }

        #[test]
        fn password_rule_matches_char_count(p in ".{0,300}") {
            let n = p.chars().count();
            let ok = new_password(&p).is_ok();
            prop_assert_eq!(ok, (PASSWORD_MIN_CHARS..=PASSWORD_MAX_CHARS).contains(&n));
        }
    }
}
