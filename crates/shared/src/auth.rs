//! Login, the signed-in user, and personal API tokens.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::validate::{self, Errors};
use crate::FieldError;

/// The name of the HttpOnly cookie that carries a browser's login session.
pub const SESSION_COOKIE: &str = "berth_session";

/// Its name where the UI is served over HTTPS: browsers take a `__Host-`
/// cookie only from that very host, over HTTPS, for every path, so no
/// sibling host (an app) can set or shadow it.
pub const SECURE_SESSION_COOKIE: &str = "__Host-berth_session";

/// The login cookie's name: [`SECURE_SESSION_COOKIE`] over HTTPS.
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        SECURE_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    }
}

/// `POST /api/v1/auth/login`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The account's email address (case-insensitive).
    #[serde(default)]
    pub email: String,
    /// The account's password.
    #[serde(default)]
    pub password: String,
}

impl LoginRequest {
    /// The login form's rules (shared by the form and the server).
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errs = Errors::new();
        errs.check("email", validate::email(&self.email));
        errs.check("password", validate::login_password(&self.password));
        errs.finish()
    }
}

/// A user's role. Admins may act for other users; superadmins see everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Sees and manages everything, including admins.
    Superadmin,
    /// Manages users and may launch sessions for them.
    Admin,
    /// Uses the platform for themselves.
    #[default]
    User,
}

impl Role {
    /// Admins and superadmins.
    pub fn is_admin(self) -> bool {
        matches!(self, Role::Admin | Role::Superadmin)
    }

    /// The lowercase name used in JSON and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Superadmin => "superadmin",
            Role::Admin => "admin",
            Role::User => "user",
        }
    }

    /// Parses the lowercase name.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "superadmin" => Some(Role::Superadmin),
            "admin" => Some(Role::Admin),
            "user" => Some(Role::User),
            _ => None,
        }
    }
}

/// A user as the API shows it: `GET /api/v1/auth/me`, the login response,
/// and admin listings/lookups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserInfo {
    /// Stable id (UUID).
    pub id: String,
    /// Email address, lowercase.
    pub email: String,
    /// Full name (may be empty).
    pub full_name: String,
    /// Role.
    pub role: Role,
    /// Whether the account may sign in.
    pub is_active: bool,
    /// The user's main keypair's access key.
    pub access_key: String,
    /// Names of the projects the user belongs to.
    pub projects: Vec<String>,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// The UI language the user chose (one of [`LOCALES`]); absent: the
    /// browser's language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
}

/// The UI languages.
pub const LOCALES: [&str; 2] = ["en", "ko"];

/// `PATCH /api/v1/auth/me`: the caller's own settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateMeRequest {
    /// The UI language (one of [`LOCALES`]).
    pub locale: String,
}

impl UpdateMeRequest {
    /// The language must be one the UI speaks.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        if LOCALES.contains(&self.locale.as_str()) {
            Ok(())
        } else {
            Err(vec![FieldError::new(
                "locale",
                "unsupported_locale",
                format!("Choose one of: {}.", LOCALES.join(", ")),
            )])
        }
    }
}

/// `POST /api/v1/auth/tokens`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    /// What the token is for ("CI", "laptop"), shown in the token list.
    #[serde(default)]
    pub name: String,
    /// Days until the token stops working on its own (1 to
    /// [`TOKEN_MAX_DAYS`]); absent: until revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_days: Option<u32>,
}

/// The longest a token's `expires_in_days` may be (ten years).
pub const TOKEN_MAX_DAYS: u32 = 3650;

impl CreateTokenRequest {
    /// A token needs a name of at most [`validate::TOKEN_NAME_MAX_CHARS`].
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errs = Errors::new();
        errs.check("name", validate::required(&self.name));
        errs.check(
            "name",
            validate::max_chars(&self.name, validate::TOKEN_NAME_MAX_CHARS),
        );
        if let Some(days) = self.expires_in_days {
            if !(1..=TOKEN_MAX_DAYS).contains(&days) {
                errs.check(
                    "expires_in_days",
                    Err(validate::Invalid::new(
                        "out_of_range",
                        format!("From 1 to {TOKEN_MAX_DAYS} days (or leave it out: no end)."),
                    )),
                );
            }
        }
        errs.finish()
    }
}

/// A personal API token, as listed (the secret is never shown again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenInfo {
    /// Token id, used to revoke it.
    pub id: String,
    /// The name given at creation.
    pub name: String,
    /// The first characters of the token, to recognise it.
    pub prefix: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last authenticated a request.
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it stops working on its own (`None`: when revoked).
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// The answer to creating a token: the only time its secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenCreated {
    /// The token to send as `Authorization: Bearer <token>`.
    pub token: String,
    /// Its listing entry.
    #[serde(flatten)]
    pub info: TokenInfo,
}

/// `POST /api/v1/auth/keypair`: the caller's API keypair with a new
/// secret key, the only time the secret is shown. Requests signed with it
/// (HMAC-SHA256, as the reference platform's client signs them, at
/// `/backend.ai`) act as the user; the previous secret stops working.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeypairCreated {
    /// The access key (unchanged: it names the user).
    pub access_key: String,
    /// The new secret key.
    pub secret_key: String,
}

/// `GET /api/v1/auth/tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenList {
    /// The caller's live tokens, newest first.
    pub items: Vec<TokenInfo>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_request_reports_both_fields() {
        let errs = LoginRequest::default().validate().unwrap_err();
        assert_eq!(errs.len(), 2);
        assert!(errs.iter().all(|e| e.code == "required"));
        let ok = LoginRequest {
            email: "a@b.io".into(),
            password: "x".into(),
        };
        assert_eq!(ok.validate(), Ok(()));
    }

    #[test]
    fn role_round_trips() {
        for r in [Role::Superadmin, Role::Admin, Role::User] {
            assert_eq!(Role::parse(r.as_str()), Some(r));
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(json, format!("\"{}\"", r.as_str()));
        }
        assert!(Role::Admin.is_admin() && Role::Superadmin.is_admin() && !Role::User.is_admin());
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn token_name_rules() {
        assert_eq!(
            CreateTokenRequest::default().validate().unwrap_err()[0].code,
            "required"
        );
        let long = CreateTokenRequest {
            name: "x".repeat(65),
            ..Default::default()
        };
        assert_eq!(long.validate().unwrap_err()[0].code, "too_long");
        for (days, ok) in [
            (0, false),
            (1, true),
            (TOKEN_MAX_DAYS, true),
            (TOKEN_MAX_DAYS + 1, false),
        ] {
            let r = CreateTokenRequest {
                name: "ci".into(),
                expires_in_days: Some(days),
            };
            assert_eq!(r.validate().is_ok(), ok, "{days}");
        }
    }
}
