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
        let message = strip_position(&inner.to_string());
        match inner.classify() {
            serde_json::error::Category::Data => match unknown_field(&message) {
                Some(name) => ApiError::Invalid(vec![FieldError::new(
                    field_path(&path, name),
                    "unsupported_field",
                    format!("This server does not take the field {name}."),
                )]),
                None => ApiError::Invalid(vec![FieldError::new(path, "invalid_type", message)]),
            },
            _ => ApiError::BadRequest(format!("The body is not valid JSON: {inner}")),
        }
    })?;
    de.end()
        .map_err(|e| ApiError::BadRequest(format!("The body is not valid JSON: {e}")))?;
    Ok(value)
}

/// The name in serde's "unknown field `name`, expected …".
fn unknown_field(msg: &str) -> Option<&str> {
    msg.strip_prefix("unknown field `")?.split('`').next()
}

/// `name` under the object at `path` (`.` is the body itself).
fn field_path(path: &str, name: &str) -> String {
    if path == "." || path.is_empty() {
        name.to_string()
    } else if path == name || path.ends_with(&format!(".{name}")) {
        path.to_string()
    } else {
        format!("{path}.{name}")
    }
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
    fn unknown_fields_are_named_and_refused() {
        use berth_shared::sessions::CreateSessionRequest;
        for (body, field) in [
            (r#"{"image": "x", "preopen_port": [8080]}"#, "preopen_port"),
            (
                r#"{"image": "x", "resources": {"cpu": 1, "gpu": 1}}"#,
                "resources.gpu",
            ),
            (r#"{"image": "x", "cluster_sizes": 2}"#, "cluster_sizes"),
        ] {
            match parse::<CreateSessionRequest>(body.as_bytes()) {
                Err(ApiError::Invalid(errs)) => {
                    assert_eq!(
                        (errs[0].field.as_str(), errs[0].code.as_str()),
                        (field, "unsupported_field"),
                        "{body}"
                    );
                }
                other => panic!("{body}: {other:?}"),
            }
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

    mod arbitrary_bodies {
        use super::*;
        use berth_shared::sessions::CreateSessionRequest;
        use proptest::prelude::*;
        use serde_json::{json, Map, Value};

        /// Any JSON value, nested a little.
        fn any_json() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::from),
                any::<i64>().prop_map(Value::from),
                any::<f64>().prop_map(|f| json!(f)),
                ".{0,40}".prop_map(Value::from),
                Just(json!(u64::MAX)),
                Just(json!(-1)),
                Just(json!("")),
                // values the cluster fields take (random ones rarely hit them)
                (0i64..10).prop_map(Value::from),
                Just(json!("single-node")),
                Just(json!("multi-node")),
            ];
            leaf.prop_recursive(3, 24, 6, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                    prop::collection::btree_map(".{0,8}", inner, 0..4)
                        .prop_map(|m| Value::Object(m.into_iter().collect())),
                ]
            })
        }

        const FIELDS: [&str; 22] = [
            "name",
            "type",
            "image",
            "environment",
            "version",
            "resources",
            "env",
            "nthreads",
            "count",
            "agent",
            "owner_email",
            "project",
            "startup_command",
            "starts_at",
            "batch_timeout",
            "mounts",
            "preopen_ports",
            "resource_group",
            "cluster_mode",
            "cluster_size",
            "cpu",
            "bootstrap_script",
        ];

        /// The fields above are every field of the create body (and two
        /// it does not have): a new field joins the property test.
        #[test]
        fn the_generated_fields_cover_the_create_body() {
            let req: CreateSessionRequest =
                serde_json::from_str(r#"{"image": "x", "cluster_size": 2}"#).unwrap();
            let Value::Object(fields) = serde_json::to_value(req).unwrap() else {
                panic!("an object")
            };
            for name in fields.keys() {
                assert!(FIELDS.contains(&name.as_str()), "{name} is never generated");
            }
        }

        /// A create body: known field names (and a few unknown ones) with
        /// values of any shape, resources included.
        fn create_body() -> impl Strategy<Value = Value> {
            let resources = prop::collection::btree_map(
                prop_oneof![
                    Just("cpu"),
                    Just("mem"),
                    Just("shmem"),
                    Just("accelerators"),
                    Just("gpu")
                ],
                any_json(),
                0..4,
            );
            (
                prop::collection::btree_map(
                    prop::sample::select(FIELDS.to_vec()),
                    any_json(),
                    0..8,
                ),
                resources,
            )
                .prop_map(|(fields, res)| {
                    let mut body: Map<String, Value> = fields
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), v))
                        .collect();
                    if !res.is_empty() {
                        body.insert(
                            "resources".into(),
                            Value::Object(
                                res.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
                            ),
                        );
                    }
                    Value::Object(body)
                })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2_000))]

            /// Whatever arrives: no panic, and a refusal is a 400, or a 422
            /// whose every error names a field and says why.
            #[test]
            fn any_create_body_is_accepted_or_refused_with_reasons(body in create_body()) {
                let bytes = serde_json::to_vec(&body).unwrap();
                match parse::<CreateSessionRequest>(&bytes) {
                    Ok(req) => {
                        if let Err(errs) = req.validate() {
                            prop_assert!(!errs.is_empty());
                            for e in errs {
                                prop_assert!(!e.field.is_empty() && !e.message.is_empty(), "{e:?}");
                            }
                        }
                    }
                    Err(ApiError::Invalid(errs)) => {
                        prop_assert!(!errs.is_empty());
                        for e in errs {
                            prop_assert!(!e.field.is_empty(), "{e:?}");
                        }
                    }
                    Err(ApiError::BadRequest(_)) => {}
                    Err(other) => prop_assert!(false, "{other:?}"),
                }
            }

            /// Any bytes at all: no panic, only 400 or 422.
            #[test]
            fn any_bytes_are_a_client_error_at_worst(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
                match parse::<CreateSessionRequest>(&bytes) {
                    Ok(_) | Err(ApiError::BadRequest(_)) | Err(ApiError::Invalid(_)) => {}
                    Err(other) => prop_assert!(false, "{other:?}"),
                }
            }
        }
    }
}
