//! Error messages as people read them: a field's, translated from the
//! shared rules' codes, and a failed call's.

use leptos_i18n::I18nContext;

use berth_shared::FieldError;

use crate::api::ApiError;
use crate::i18n::*;

/// What to say when a call failed: the server's explanation when it gave
/// one, else that it could not be reached, else a generic message.
pub fn error_message(i18n: I18nContext<Locale>, e: &ApiError) -> String {
    match e {
        ApiError::Network(_) => t_string!(i18n, error_network).to_string(),
        ApiError::Problem(p) => p.detail.clone().unwrap_or_else(|| p.title.clone()),
        _ => t_string!(i18n, error_generic).to_string(),
    }
}

/// The translated message for a field error, saying the limit when it
/// names one (`params.limit`): "At most 2 CPU: …", not "Too much."
pub fn error_message_of(i18n: I18nContext<Locale>, e: &FieldError) -> String {
    // a range names its bounds (and the value that broke it, if one of many)
    if let (Some(min), Some(max)) = (e.params.get("min"), e.params.get("max")) {
        let (min, max) = (min.clone(), max.clone());
        return match e.params.get("value") {
            Some(v) => t_string!(
                i18n,
                field_out_of_range_value,
                value = v.clone(),
                min = min,
                max = max
            )
            .to_string(),
            None => t_string!(i18n, field_out_of_range_between, min = min, max = max).to_string(),
        };
    }
    let Some(limit) = e.params.get("limit").cloned() else {
        return field_message(i18n, &e.code);
    };
    // a unit never splits from its number
    let limit = limit.replace(' ', "\u{a0}");
    match e.code.as_str() {
        "exceeds_capacity" => {
            t_string!(i18n, field_exceeds_capacity_limit, limit = limit).to_string()
        }
        "exceeds_policy" => t_string!(i18n, field_exceeds_policy_limit, limit = limit).to_string(),
        "below_image_minimum" => {
            t_string!(i18n, field_below_image_minimum_limit, limit = limit).to_string()
        }
        code => field_message(i18n, code),
    }
}

/// The translated message for a `FieldError::code`.
pub fn field_message(i18n: I18nContext<Locale>, code: &str) -> String {
    match code {
        "required" => t_string!(i18n, field_required).to_string(),
        "invalid_email" => t_string!(i18n, field_invalid_email).to_string(),
        "too_long" => t_string!(i18n, field_too_long).to_string(),
        "too_short" => t_string!(i18n, field_too_short).to_string(),
        "invalid_session_name" => t_string!(i18n, field_invalid_session_name).to_string(),
        "shmem_exceeds_mem" => t_string!(i18n, field_shmem_exceeds_mem).to_string(),
        "duplicate" => t_string!(i18n, field_duplicate).to_string(),
        "invalid_env_name" => t_string!(i18n, field_invalid_env_name).to_string(),
        "reserved_env_name" => t_string!(i18n, field_reserved_env_name).to_string(),
        "out_of_range" => t_string!(i18n, field_out_of_range).to_string(),
        "not_whole_number" => t_string!(i18n, field_not_whole_number).to_string(),
        "owner_unresolved" => t_string!(i18n, field_owner_unresolved).to_string(),
        "agent_single_only" => t_string!(i18n, field_agent_single_only).to_string(),
        "taken" => t_string!(i18n, field_taken).to_string(),
        "image_not_found" => t_string!(i18n, field_image_not_found).to_string(),
        "exceeds_capacity" => t_string!(i18n, field_exceeds_capacity).to_string(),
        "exceeds_policy" => t_string!(i18n, field_exceeds_policy).to_string(),
        "below_image_minimum" => t_string!(i18n, field_below_image_minimum).to_string(),
        "invalid_folder_name" => t_string!(i18n, field_invalid_folder_name).to_string(),
        "quota_exceeded" => t_string!(i18n, field_quota_exceeded).to_string(),
        "unknown_folder" => t_string!(i18n, field_unknown_folder).to_string(),
        "invalid_path" => t_string!(i18n, field_invalid_path).to_string(),
        "not_absolute" => t_string!(i18n, field_not_absolute).to_string(),
        "invalid_port_range" => t_string!(i18n, field_invalid_port_range).to_string(),
        "invalid_image_name" => t_string!(i18n, field_invalid_image_name).to_string(),
        "invalid_port" => t_string!(i18n, field_invalid_port).to_string(),
        "service_port" => t_string!(i18n, field_service_port).to_string(),
        "too_many" => t_string!(i18n, field_too_many).to_string(),
        "unsupported_field" => t_string!(i18n, field_unsupported_field).to_string(),
        "invalid_name" => t_string!(i18n, field_invalid_name).to_string(),
        "invalid_host" => t_string!(i18n, field_invalid_host).to_string(),
        "missing_files" => t_string!(i18n, field_missing_files).to_string(),
        "unreachable" => t_string!(i18n, field_unreachable).to_string(),
        "insecure_engine" => t_string!(i18n, field_insecure_engine).to_string(),
        "not_found" => t_string!(i18n, field_not_found).to_string(),
        "unknown_project" => t_string!(i18n, field_unknown_project).to_string(),
        "whole_devices" => t_string!(i18n, field_whole_devices).to_string(),
        _ => t_string!(i18n, field_invalid).to_string(),
    }
}
