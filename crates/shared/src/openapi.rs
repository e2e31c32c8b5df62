//! OpenAPI schemas for the types whose serde form is written by hand (the
//! derive cannot see it): a size is bytes out, bytes or `"2g"` in; a mount
//! is a folder name or `{name, read_only}`. Only with the `openapi`
//! feature, which the server turns on and the browser build leaves off.

use utoipa::openapi::schema::Schema;
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

use crate::bytes::ByteSize;
use crate::sessions::Mount;

/// A schema written as JSON (these are fixed, and a test reads them back).
fn from_json(value: serde_json::Value) -> RefOr<Schema> {
    RefOr::T(serde_json::from_value(value).unwrap_or_default())
}

impl PartialSchema for ByteSize {
    fn schema() -> RefOr<Schema> {
        from_json(serde_json::json!({
            "description": "A size in bytes; requests may also give a string like \"2g\" or \"512m\".",
            "oneOf": [
                {"type": "integer", "minimum": 0},
                {"type": "string", "examples": ["2g", "512m"]}
            ]
        }))
    }
}

impl ToSchema for ByteSize {}

impl PartialSchema for Mount {
    fn schema() -> RefOr<Schema> {
        from_json(serde_json::json!({
            "description": "A storage folder mounted at /home/work/<name>: its name (read-write), or the name and whether it is read-only.",
            "oneOf": [
                {"type": "string"},
                {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "read_only": {"type": "boolean", "default": false}
                    },
                    "required": ["name"],
                    "additionalProperties": false
                }
            ]
        }))
    }
}

impl ToSchema for Mount {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hand_written_schemas_are_read_back_whole() {
        for schema in [ByteSize::schema(), Mount::schema()] {
            assert!(matches!(schema, RefOr::T(Schema::OneOf(_))));
            let json = serde_json::to_value(&schema).unwrap();
            assert_eq!(json["oneOf"].as_array().map(Vec::len), Some(2), "{json}");
        }
    }
}
