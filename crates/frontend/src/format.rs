//! How times, durations and sizes read in the UI.

use chrono::{DateTime, Utc};

/// The browser's clock (chrono's own clock needs a feature that pulls in
/// more wasm glue than this one call).
pub fn now() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(js_sys::Date::now() as i64).unwrap_or_default()
}

/// Date and time in the browser's time zone.
pub fn local_datetime(t: DateTime<Utc>) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(t.timestamp_millis() as f64));
    String::from(d.to_locale_string("sv-SE", &wasm_bindgen::JsValue::UNDEFINED))
}

/// Time of day in the browser's time zone.
pub fn local_time(t: DateTime<Utc>) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(t.timestamp_millis() as f64));
    String::from(d.to_locale_time_string("sv-SE"))
}

/// A duration as `H:MM:SS`, with days in front when there are any
/// (`2d 03:04:05`); negative spans read as zero.
pub fn elapsed(secs: i64) -> String {
    let s = secs.max(0);
    let (d, h, m, s) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    if d > 0 {
        format!("{d}d {h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

/// Time left, short: `1h 02m`, `4m 10s`, `12s`; days when there are any.
pub fn remaining(secs: f64) -> String {
    let s = secs.max(0.0).round() as i64;
    let (d, h, m, s) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m:02}m")
    } else if m > 0 {
        format!("{m}m {s:02}s")
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remaining_reads_short() {
        assert_eq!(remaining(12.4), "12s");
        assert_eq!(remaining(250.0), "4m 10s");
        assert_eq!(remaining(3720.0), "1h 02m");
        assert_eq!(remaining(90_000.0), "1d 1h");
        assert_eq!(remaining(-3.0), "0s");
    }

    #[test]
    fn elapsed_reads_like_a_clock() {
        assert_eq!(elapsed(0), "00:00:00");
        assert_eq!(elapsed(-5), "00:00:00");
        assert_eq!(elapsed(3_725), "01:02:05");
        assert_eq!(elapsed(2 * 86_400 + 3 * 3600 + 4 * 60 + 5), "2d 03:04:05");
    }
}
