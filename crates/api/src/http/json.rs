//! `ApiJson<T>`: a JSON body extractor whose failures are problem+json.
//! Broken JSON is a 400; well-formed JSON with a wrong type in a field is a
//! 422 naming that field.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use berth_shared::FieldError;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::error::ApiError;

/// A JSON request body, or a JSON response body.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

fn is_json(content_type: &str) -> bool {
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let ct = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !is_json(ct) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::BadRequest(e.body_text())
            }
        })?;
        parse(&bytes).map(ApiJson)
    }
}

/// Parses a body, telling syntax errors (400) from type errors (422).
/// Every request body of the API is a JSON object.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::BadRequest(
            "The body must be a JSON object.".into(),
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => ApiError::Invalid(vec![FieldError::new(
                path,
                "invalid_type",
                strip_position(&inner.to_string()),
            )]),
            _ => ApiError::BadRequest(format!("The body is not valid JSON: {inner}")),
        }
    })?;
    de.end()
        .map_err(|e| ApiError::BadRequest(format!("The body is not valid JSON: {e}")))?;
    Ok(value)
}

fn strip_position(msg: &str) -> String {
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_shared::auth::LoginRequest;

    #[test]
    fn syntax_errors_are_bad_requests() {
        assert!(matches!(
            parse::<LoginRequest>(b"{\"email\":"),
            Err(ApiError::BadRequest(_))
        ));
        assert!(matches!(
            parse::<LoginRequest>(b"{} trailing"),
            Err(ApiError::BadRequest(_))
        ));
        assert!(matches!(
            parse::<LoginRequest>(b"[1]"),
            Err(ApiError::BadRequest(_))
        ));
    }

    #[test]
    fn type_errors_name_the_field() {
        match parse::<LoginRequest>(br#"{"email": 5}"#) {
            Err(ApiError::Invalid(errs)) => {
                assert_eq!(errs[0].field, "email");
                assert_eq!(errs[0].code, "invalid_type");
            }
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn json_media_types() {
        assert!(is_json("application/json"));
        assert!(is_json("application/json; charset=utf-8"));
        assert!(is_json("application/merge-patch+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json(""));
    }
}
