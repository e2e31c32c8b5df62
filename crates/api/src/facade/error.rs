//! The facade's errors, written as the reference writes them
//! (`application/problem+json` with `type` under
//! `https://api.backend.ai/probs/`, a `title` and a `msg`), from the same
//! errors `/api/v1` answers with.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use berth_shared::compat::Problem;
use berth_shared::problem::PROBLEM_CONTENT_TYPE;

use crate::http::error::ApiError;

/// A refusal, in the reference's words.
#[derive(Debug)]
pub struct FacadeError {
    status: StatusCode,
    kind: &'static str,
    title: &'static str,
    msg: Option<String>,
    data: Option<Box<serde_json::Value>>,
}

/// A facade result.
pub type FacadeResult<T> = Result<T, FacadeError>;

impl FacadeError {
    /// `invalid-api-params` (400).
    pub fn invalid(msg: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid-api-params",
            "Missing or invalid API parameters.",
            Some(msg.into()),
        )
    }

    /// `auth-failed` (401) with the reference's message.
    pub fn auth(msg: &str) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "auth-failed",
            "Credential/signature mismatch.",
            Some(msg.to_string()),
        )
    }

    /// `invalid-auth-params` (400): a malformed header or a clock skew.
    pub fn auth_params(msg: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid-auth-params",
            "Missing or invalid authorization parameters.",
            Some(msg.to_string()),
        )
    }

    /// `session-already-exists` (400) naming the live one.
    pub fn exists(existing_id: &str) -> Self {
        let mut e = Self::new(
            StatusCode::BAD_REQUEST,
            "session-already-exists",
            "The session already exists but you requested not to reuse existing one.",
            None,
        );
        e.data = Some(Box::new(
            serde_json::json!({"existingSessionId": existing_id}),
        ));
        e
    }

    /// `object-not-found` (404).
    pub fn not_found(msg: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "object-not-found",
            "No such object.",
            Some(msg.to_string()),
        )
    }

    /// `too-many-requests` (429): a per-user limit is reached.
    pub fn too_many(msg: impl Into<String>) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too-many-requests",
            "Too many requests.",
            Some(msg.into()),
        )
    }

    /// `not-implemented` (501): a part of the reference berth does not have.
    pub fn unsupported(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_IMPLEMENTED,
            "not-implemented",
            "This API is not implemented.",
            Some(what.to_string()),
        )
    }

    fn new(
        status: StatusCode,
        kind: &'static str,
        title: &'static str,
        msg: Option<String>,
    ) -> Self {
        FacadeError {
            status,
            kind,
            title,
            msg,
            data: None,
        }
    }
}

impl From<ApiError> for FacadeError {
    fn from(e: ApiError) -> Self {
        if let ApiError::Internal(msg) = &e {
            tracing::error!(error = %msg, "a facade request failed");
        }
        let fields = match &e {
            ApiError::Invalid(errors) => Some(
                errors
                    .iter()
                    .map(|f| format!("{}: {}", f.field, f.message))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            _ => None,
        };
        let (status, _, title, detail) = e.parts();
        // the reference's kinds for the statuses berth answers with
        let (status, kind) = match status.as_u16() {
            400 | 409 | 413 | 415 | 422 => (StatusCode::BAD_REQUEST, "invalid-api-params"),
            401 => (status, "auth-failed"),
            403 => (status, "insufficient-privilege"),
            404 => (status, "object-not-found"),
            412 => (status, "quota-exceeded"),
            429 => (status, "too-many-requests"),
            503 => (status, "service-unavailable"),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal-server-error"),
        };
        let msg = fields.or(detail).unwrap_or_else(|| title.to_string());
        Self::new(status, kind, title, Some(msg))
    }
}

macro_rules! via_api_error {
    ($($t:ty),*) => {$(
        impl From<$t> for FacadeError {
            fn from(e: $t) -> Self {
                ApiError::from(e).into()
            }
        }
    )*};
}
via_api_error!(
    crate::sessions::SessionError,
    crate::folders::FolderError,
    crate::images::ImageError,
    crate::accounts::AccountError,
    crate::store::StoreError
);

impl IntoResponse for FacadeError {
    fn into_response(self) -> Response {
        let body = Problem {
            kind: format!("https://api.backend.ai/probs/{}", self.kind),
            title: self.title.to_string(),
            msg: self.msg,
            data: self.data.map(|d| *d),
        };
        (
            self.status,
            [(header::CONTENT_TYPE, PROBLEM_CONTENT_TYPE)],
            axum::Json(body),
        )
            .into_response()
    }
}
