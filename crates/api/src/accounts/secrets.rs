//! Random credentials and their stored hashes.

use rand::distributions::{Alphanumeric, DistString};
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};

/// Prefix of every personal API token, so leaked ones are recognisable.
pub const TOKEN_PREFIX: &str = "berth_";

fn alnum(n: usize) -> String {
    Alphanumeric.sample_string(&mut OsRng, n)
}

/// A password for a generated account (printed once).
pub fn generate_password() -> String {
    alnum(20)
}

/// A browser login token (the cookie's value).
pub fn login_token() -> String {
    alnum(43)
}

/// A web app's host label: 20 lower-case letters and digits (a DNS label,
/// unguessable, telling nothing of the session).
pub fn host_label() -> String {
    alnum(20).to_ascii_lowercase()
}

/// A session's service secret (Jupyter's token).
pub fn service_secret() -> String {
    alnum(43)
}

/// A personal API token.
pub fn api_token() -> String {
    format!("{TOKEN_PREFIX}{}", alnum(40))
}

/// An access key in the reference product's shape: `AKIA` + 16 upper-case
/// letters and digits.
pub fn access_key() -> String {
    format!("AKIA{}", alnum(16).to_ascii_uppercase())
}

/// A secret key: 40 letters and digits.
pub fn secret_key() -> String {
    alnum(40)
}

/// What the database keeps of a high-entropy token: its SHA-256. (Passwords
/// use argon2; tokens are random enough that a fast hash is safe.)
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let ak = access_key();
        assert_eq!(ak.len(), 20);
        assert!(
            ak.starts_with("AKIA")
                && ak
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        );
        assert_eq!(secret_key().len(), 40);
        assert!(api_token().starts_with(TOKEN_PREFIX));
        assert_ne!(login_token(), login_token());
        let label = host_label();
        assert!(
            label.len() == 20
                && label
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        );
        assert_eq!(token_hash("a"), token_hash("a"));
        assert_eq!(token_hash("a").len(), 64);
    }
}
