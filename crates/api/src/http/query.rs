//! `ApiQuery<T>`: a query-string extractor whose failures are problem+json
//! (422 naming the parameter), like [`super::json::ApiJson`] for bodies.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use berth_shared::FieldError;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// A request's query string, parsed.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parse(parts.uri.query().unwrap_or_default()).map(ApiQuery)
    }
}

/// Parses a query string; a bad value is a 422 naming its parameter.
pub fn parse<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let message = err.into_inner().to_string();
        let field = if path == "." || path.is_empty() {
            "query".to_string()
        } else {
            path
        };
        ApiError::Invalid(vec![FieldError::new(field, "invalid_type", message)])
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_shared::sessions::LogsQuery;

    #[test]
    fn a_bad_number_names_its_parameter() {
        let q: LogsQuery = parse("tail=5&kernel=k").unwrap();
        assert_eq!(q.tail, Some(5));
        match parse::<LogsQuery>("tail=lots") {
            Err(ApiError::Invalid(errs)) => assert_eq!(errs[0].field, "tail", "{errs:?}"),
            other => panic!("{other:?}"),
        }
        assert!(parse::<LogsQuery>("").is_ok());
    }
}
