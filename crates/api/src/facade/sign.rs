//! Request signing as the reference platform's client does it
//! (`ai/backend/client/auth.py`): HMAC-SHA256 over the method, the path
//! with its query, the `Date` header as sent, the host, the content type
//! and the API version, with a key derived from the secret, the date's day
//! and the host. Pure: the facade's extractor feeds it the request.

use chrono::{DateTime, FixedOffset, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// How far a request's date may be from the server's clock.
pub const MAX_SKEW_SECS: i64 = 15 * 60;

/// What an `Authorization: BackendAI signMethod=…, credential=AK:SIG`
/// header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// The access key.
    pub access_key: String,
    /// The hex signature.
    pub signature: String,
}

/// Why a signed request is refused (the reference's own words).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// No or malformed Authorization, or a method other than HMAC-SHA256.
    #[error("Malformed authorization parameters")]
    Malformed,
    /// No date, or one that is not ISO 8601.
    #[error("Date/time sync error")]
    BadDate,
    /// The date is more than 15 minutes from the server's clock.
    #[error("Date/time sync error")]
    Skew,
}

/// Reads the Authorization header (`BackendAI` or the legacy `Sorna`).
pub fn parse_authorization(value: &str) -> Result<Credential, SignError> {
    let rest = value
        .strip_prefix("BackendAI ")
        .or_else(|| value.strip_prefix("Sorna "))
        .ok_or(SignError::Malformed)?;
    let mut method = None;
    let mut credential = None;
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=').ok_or(SignError::Malformed)?;
        match k.trim() {
            "signMethod" => method = Some(v.trim()),
            "credential" => credential = Some(v.trim()),
            _ => {}
        }
    }
    if !method.is_some_and(|m| m.eq_ignore_ascii_case("HMAC-SHA256")) {
        return Err(SignError::Malformed);
    }
    let (access_key, signature) = credential
        .and_then(|c| c.split_once(':'))
        .ok_or(SignError::Malformed)?;
    if access_key.is_empty() || signature.is_empty() {
        return Err(SignError::Malformed);
    }
    Ok(Credential {
        access_key: access_key.to_string(),
        signature: signature.to_ascii_lowercase(),
    })
}

/// The request's date (`Date`, else `X-BackendAI-Date`), checked against
/// `now`.
pub fn check_date(raw: &str, now: DateTime<Utc>) -> Result<DateTime<FixedOffset>, SignError> {
    let date = DateTime::parse_from_rfc3339(raw)
        .or_else(|_| DateTime::parse_from_rfc2822(raw))
        .map_err(|_| SignError::BadDate)?;
    if (now - date.with_timezone(&Utc)).num_seconds().abs() > MAX_SKEW_SECS {
        return Err(SignError::Skew);
    }
    Ok(date)
}

/// What is signed, field by field.
#[derive(Debug, Clone)]
pub struct Signed<'a> {
    /// `GET`, `POST`…
    pub method: &'a str,
    /// The path with its query, as sent (`/backend.ai/session?x=1`).
    pub path_and_query: &'a str,
    /// The date header's text, as sent.
    pub raw_date: &'a str,
    /// It, read.
    pub date: DateTime<FixedOffset>,
    /// The `Host` header.
    pub host: &'a str,
    /// The content type without parameters.
    pub content_type: &'a str,
    /// `X-BackendAI-Version`.
    pub version: &'a str,
}

/// The hex signature `secret` makes of `req` (what a client sends).
pub fn signature(secret: &str, req: &Signed<'_>) -> String {
    signing_mac(secret, req)
        .map(|m| hex::encode(m.finalize().into_bytes()))
        .unwrap_or_default()
}

/// Whether `given` (hex) is the signature `secret` makes of `req`,
/// compared in constant time.
pub fn verify(secret: &str, req: &Signed<'_>, given: &str) -> bool {
    let Ok(given) = hex::decode(given) else {
        return false;
    };
    signing_mac(secret, req).is_some_and(|m| m.verify_slice(&given).is_ok())
}

/// The MAC over the request's text, keyed by the secret, the date's day
/// and the host (none only if HMAC refused a key, which it never does).
fn signing_mac(secret: &str, req: &Signed<'_>) -> Option<HmacSha256> {
    // bodies are not hashed since API v4: the hash of no bytes
    let body_hash = hex::encode(Sha256::digest(b""));
    let text = format!(
        "{}\n{}\n{}\nhost:{}\ncontent-type:{}\nx-backendai-version:{}\n{}",
        req.method.to_ascii_uppercase(),
        req.path_and_query,
        req.raw_date,
        req.host,
        req.content_type.to_ascii_lowercase(),
        req.version,
        body_hash
    );
    let day = req.date.format("%Y%m%d").to_string();
    let key = mac(secret.as_bytes(), day.as_bytes())?;
    let key = mac(&key, req.host.as_bytes())?;
    let mut m = HmacSha256::new_from_slice(&key).ok()?;
    m.update(text.as_bytes());
    Some(m)
}

fn mac(key: &[u8], data: &[u8]) -> Option<Vec<u8>> {
    let mut m = HmacSha256::new_from_slice(key).ok()?;
    m.update(data);
    Some(m.finalize().into_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Signatures the reference client (`backend.ai-client` 23.9.10,
    /// `generate_signature`) made of these requests.
    #[test]
    fn signatures_match_the_reference_client() {
        let cases = [
            (
                "POST",
                "/backend.ai/session?x=1",
                "2026-12-06T04:30:01.123456+00:00",
                "127.0.0.1:8080",
                "application/json",
                "s3cret",
                "73c56fd5b637812985e135bea2dd7206d44ac061918e23bed729b729b0a6e974",
            ),
            (
                "GET",
                "/folders",
                // the day of the date as written (+09:00), not UTC's
                "2026-12-07T01:00:00+09:00",
                "localhost:9000",
                "text/plain",
                "other",
                "7f3ab02908c2341f54f5fa9ae3f977f98713ef91f7b7eb8112ff4f10fac6c565",
            ),
        ];
        for (method, path, raw_date, host, content_type, secret, want) in cases {
            let date = DateTime::parse_from_rfc3339(raw_date).unwrap();
            let req = Signed {
                method,
                path_and_query: path,
                raw_date,
                date,
                host,
                content_type,
                version: "v7.20230615",
            };
            assert_eq!(signature(secret, &req), want);
            assert!(verify(secret, &req, want));
            assert!(!verify("wrong", &req, want));
            assert!(!verify(secret, &req, "zz"));
            let other = Signed {
                path_and_query: "/elsewhere",
                ..req
            };
            assert!(!verify(secret, &other, want));
        }
    }

    #[test]
    fn the_header_and_the_date_are_read_as_the_reference_reads_them() {
        let c =
            parse_authorization("BackendAI signMethod=HMAC-SHA256, credential=AK:ABCD").unwrap();
        assert_eq!(
            (c.access_key.as_str(), c.signature.as_str()),
            ("AK", "abcd")
        );
        assert!(parse_authorization("Sorna signMethod=HMAC-SHA256, credential=AK:ab").is_ok());
        for bad in [
            "Bearer x",
            "BackendAI signMethod=HMAC-MD5, credential=AK:ab",
            "BackendAI signMethod=HMAC-SHA256",
            "BackendAI signMethod=HMAC-SHA256, credential=AK",
            "BackendAI signMethod=HMAC-SHA256, credential=:ab",
        ] {
            assert_eq!(parse_authorization(bad), Err(SignError::Malformed), "{bad}");
        }
        let now = DateTime::parse_from_rfc3339("2026-12-06T04:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert!(check_date("2026-12-06T04:44:59+00:00", now).is_ok());
        assert!(check_date("2026-12-06T13:40:00+09:00", now).is_ok());
        assert_eq!(
            check_date("2026-12-06T04:45:01+00:00", now),
            Err(SignError::Skew)
        );
        assert_eq!(
            check_date("2026-12-06T04:14:59+00:00", now),
            Err(SignError::Skew)
        );
        assert_eq!(check_date("yesterday", now), Err(SignError::BadDate));
    }
}
