//! The one error type of the HTTP layer. Every failure leaves as
//! `application/problem+json`; internal details are logged, never sent.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use berth_shared::problem::PROBLEM_CONTENT_TYPE;
use berth_shared::{FieldError, Problem};

use crate::accounts::AccountError;
use crate::apps::AppError;
use crate::folders::FolderError;
use crate::images::ImageError;
use crate::resources::ResourceError;
use crate::runtime::RuntimeError;
use crate::sessions::SessionError;
use crate::store::StoreError;

/// An error answer.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Input broke a rule: 422 with field errors.
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    /// The body could not be read as JSON: 400.
    #[error("malformed request: {0}")]
    BadRequest(String),
    /// No valid credentials: 401.
    #[error("authentication required")]
    Unauthorized,
    /// Wrong email/password (or a disabled account): 401, without saying which.
    #[error("login failed")]
    LoginFailed,
    /// Authenticated but not allowed: 403.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// Absent, or not the caller's: 404.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Absent, said in a sentence: 404.
    #[error("{0}")]
    Missing(String),
    /// Not possible in the current state: 409.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Body over the size limit: 413.
    #[error("request body too large")]
    PayloadTooLarge,
    /// An upload over the upload limit (bytes): 413.
    #[error("upload too large")]
    UploadTooLarge(u64),
    /// An upload past the owner's folder quota (bytes): 413.
    #[error("folder quota exceeded")]
    OverQuota {
        /// The policy's `max_folder_bytes`.
        quota: u64,
        /// What the folders hold.
        used: u64,
    },
    /// Not JSON: 415.
    #[error("expected application/json")]
    UnsupportedMediaType,
    /// Too many attempts: 429 with `Retry-After` (whole seconds, at least 1).
    #[error("too many requests: {detail}")]
    TooManyRequests {
        /// Seconds to wait.
        retry_after_secs: u64,
        /// What to do.
        detail: String,
    },
    /// A dependency is down: 503.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// Anything else: 500, logged.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// Its status, problem kind, title and detail.
    pub(crate) fn parts(&self) -> (StatusCode, &'static str, &'static str, Option<String>) {
        use ApiError::*;
        match self {
            Invalid(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation-failed",
                "Invalid input",
                Some("One or more fields are invalid; see errors.".into()),
            ),
            BadRequest(d) => (
                StatusCode::BAD_REQUEST,
                "bad-request",
                "Malformed request",
                Some(d.clone()),
            ),
            Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Authentication required",
                Some(
                    "Sign in, or send a valid API token as 'Authorization: Bearer <token>'.".into(),
                ),
            ),
            LoginFailed => (
                StatusCode::UNAUTHORIZED,
                "login-failed",
                "Login failed",
                Some("Wrong email or password.".into()),
            ),
            Forbidden(d) => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "Not allowed",
                Some((*d).into()),
            ),
            NotFound(what) => (
                StatusCode::NOT_FOUND,
                "not-found",
                "Not found",
                Some(format!("No such {what}.")),
            ),
            Missing(d) => (
                StatusCode::NOT_FOUND,
                "not-found",
                "Not found",
                Some(d.clone()),
            ),
            Conflict(d) => (
                StatusCode::CONFLICT,
                "conflict",
                "Conflict",
                Some(d.clone()),
            ),
            PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Request body too large",
                None,
            ),
            UploadTooLarge(limit) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Upload too large",
                Some(format!(
                    "An upload may be at most {} (the server's limit).",
                    berth_shared::bytes::ByteSize(*limit)
                )),
            ),
            OverQuota { quota, used } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "quota-exceeded",
                "Folder quota exceeded",
                Some(format!(
                    "Your folders may hold {} together (your resource policy's \
                     max_folder_bytes) and hold {} now: delete files, or ask an admin \
                     for a larger quota.",
                    berth_shared::bytes::ByteSize(*quota),
                    berth_shared::bytes::ByteSize(*used)
                )),
            ),
            UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
                Some("Send the body as application/json.".into()),
            ),
            TooManyRequests { detail, .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-requests",
                "Too many requests",
                Some(detail.clone()),
            ),
            Unavailable(d) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Service unavailable",
                Some(d.clone()),
            ),
            Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal server error",
                Some("Something went wrong on the server; it has been logged.".into()),
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(msg) = &self {
            tracing::error!(error = %msg, "request failed");
        }
        let (status, kind, title, detail) = self.parts();
        let retry_after = match &self {
            ApiError::TooManyRequests {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            _ => None,
        };
        let errors = match self {
            ApiError::Invalid(errors) => errors,
            _ => Vec::new(),
        };
        let body = Problem {
            kind: format!("/problems/{kind}"),
            title: title.into(),
            status: status.as_u16(),
            detail,
            errors,
        };
        let mut res = (status, axum::Json(body)).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
        );
        if let Some(secs) = retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Invalid(errors) => ApiError::Invalid(errors),
            AccountError::Unauthenticated => ApiError::Unauthorized,
            AccountError::Throttled(wait) => {
                let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                ApiError::TooManyRequests {
                    retry_after_secs: secs,
                    detail: format!(
                        "Too many failed sign-ins from this address; try again in {} (or reset the password with an admin).",
                        if secs >= 60 {
                            format!("{} min", secs.div_ceil(60))
                        } else {
                            format!("{secs} s")
                        }
                    ),
                }
            }
            AccountError::Busy => ApiError::TooManyRequests {
                retry_after_secs: 1,
                detail: "The server is checking many sign-ins at once; try again in a second."
                    .into(),
            },
            AccountError::NotFound(what) => ApiError::NotFound(what),
            AccountError::Store(e) => e.into(),
            AccountError::Internal(msg) => ApiError::Internal(msg),
        }
    }
}

impl From<SessionError> for ApiError {
    fn from(e: SessionError) -> Self {
        match e {
            SessionError::Invalid(errors) => ApiError::Invalid(errors),
            SessionError::NotFound => ApiError::NotFound("session"),
            SessionError::Forbidden(d) => ApiError::Forbidden(d),
            SessionError::Conflict(d) => ApiError::Conflict(d),
            SessionError::Unavailable(d) => ApiError::Unavailable(d),
            SessionError::Store(e) => e.into(),
            e @ SessionError::IllegalTransition { .. } => ApiError::Internal(e.to_string()),
            SessionError::Runtime(e) => ApiError::Internal(e.to_string()),
            SessionError::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl From<ResourceError> for ApiError {
    fn from(e: ResourceError) -> Self {
        match e {
            ResourceError::Invalid(errors) => ApiError::Invalid(errors),
            ResourceError::NotFound(what) => ApiError::NotFound(what),
            ResourceError::Forbidden(d) => ApiError::Forbidden(d),
            ResourceError::Conflict(d) => ApiError::Conflict(d),
            ResourceError::Account(e) => e.into(),
            ResourceError::Store(e) => e.into(),
        }
    }
}

impl From<FolderError> for ApiError {
    fn from(e: FolderError) -> Self {
        match e {
            FolderError::Invalid(errors) => ApiError::Invalid(errors),
            FolderError::BadPath(d) => ApiError::BadRequest(d),
            FolderError::NoFolder => ApiError::NotFound("folder"),
            e @ FolderError::NoEntry(_) => {
                ApiError::Missing(format!("{}.", capitalised(&e.to_string())))
            }
            FolderError::Conflict(d) => ApiError::Conflict(d),
            FolderError::TooLarge(limit) => ApiError::UploadTooLarge(limit),
            FolderError::OverQuota { quota, used } => ApiError::OverQuota { quota, used },
            FolderError::Busy { kind, max } => ApiError::TooManyRequests {
                retry_after_secs: 5,
                detail: format!(
                    "You already run {max} {} at once, the most this server allows; \
                     wait for one to end.",
                    kind.noun()
                ),
            },
            FolderError::Aborted(why) => {
                ApiError::BadRequest(format!("The upload broke off ({why}); nothing was kept."))
            }
            FolderError::Store(e) => e.into(),
            FolderError::Io(e) => ApiError::Internal(e.to_string()),
        }
    }
}

/// A sentence starts with a capital.
fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

impl From<ImageError> for ApiError {
    fn from(e: ImageError) -> Self {
        match e {
            ImageError::Session(e) => e.into(),
            ImageError::Invalid(errs) => ApiError::Invalid(errs),
            ImageError::Conflict(d) => ApiError::Conflict(d),
            ImageError::NotFound => ApiError::Missing("You have no such customized image.".into()),
            ImageError::NoGroup => ApiError::NotFound("resource group"),
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Session(e) => e.into(),
            AppError::NoApp(name) => ApiError::Missing(format!("The session has no app {name}.")),
            AppError::Conflict(d) => ApiError::Conflict(d),
            AppError::Unavailable(d) => ApiError::Unavailable(d),
            AppError::Invalid(errs) => ApiError::Invalid(errs),
            AppError::Busy(max) => ApiError::TooManyRequests {
                retry_after_secs: 5,
                detail: format!(
                    "You already have {max} terminals open, the most this server allows; \
                     close one first."
                ),
            },
        }
    }
}

impl From<RuntimeError> for ApiError {
    fn from(e: RuntimeError) -> Self {
        if e.is_unreachable() {
            ApiError::Unavailable(e.to_string())
        } else {
            ApiError::Internal(e.to_string())
        }
    }
}

/// Answers 404 as problem+json for unknown API paths.
pub async fn api_not_found() -> ApiError {
    ApiError::NotFound("API route")
}
