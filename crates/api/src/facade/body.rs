//! `Body<T>`: a JSON request body whose failures are answered in the
//! reference's shape (`invalid-api-params`, naming the field), read by
//! the same parser `/api/v1` uses.

use axum::extract::{FromRequest, Request};

use super::error::FacadeError;
use crate::http::json::ApiJson;

/// A JSON request body of the facade.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<T, S> FromRequest<S> for Body<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = FacadeError;

    async fn from_request(req: Request, state: &S) -> Result<Self, FacadeError> {
        let ApiJson(body) = ApiJson::from_request(req, state).await?;
        Ok(Body(body))
    }
}
