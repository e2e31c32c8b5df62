//! Field-level error messages, translated from the shared rules' codes.

use leptos_i18n::I18nContext;

use crate::i18n::*;

/// The translated message for a `FieldError::code`.
pub fn field_message(i18n: I18nContext<Locale>, code: &str) -> String {
    match code {
        "required" => t_string!(i18n, field_required).to_string(),
        "invalid_email" => t_string!(i18n, field_invalid_email).to_string(),
        "too_long" => t_string!(i18n, field_too_long).to_string(),
        "too_short" => t_string!(i18n, field_too_short).to_string(),
        _ => t_string!(i18n, field_invalid).to_string(),
    }
}
