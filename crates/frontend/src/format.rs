//! How times, durations and sizes read in the UI, in the chosen language:
//! dates and times through the browser's `Intl` for that language, spans
//! with the catalogue's unit words. Sizes keep binary units (`64 MiB`) in
//! both languages, as the reference product writes them; English and
//! Korean share digits and the decimal point.

use chrono::{DateTime, Utc};
use leptos_i18n::I18nContext;
use wasm_bindgen::JsValue;

use crate::i18n::*;

/// The browser's clock (chrono's own clock needs a feature that pulls in
/// more wasm glue than this one call).
pub fn now() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(js_sys::Date::now() as i64).unwrap_or_default()
}

/// The `Intl` language tag for the chosen language. English follows the
/// browser's region when it has one (`en-GB` writes day before month).
fn intl_tag(i18n: I18nContext<Locale>) -> String {
    match i18n.get_locale() {
        Locale::ko => "ko-KR".to_string(),
        Locale::en => web_sys::window()
            .and_then(|w| w.navigator().language())
            .filter(|l| l.starts_with("en"))
            .unwrap_or_else(|| "en-US".to_string()),
    }
}

/// `Intl` options: numeric fields, 24-hour clock; `date` and `seconds` pick
/// which parts are written.
fn intl_options(date: bool, seconds: bool) -> JsValue {
    let o = js_sys::Object::new();
    let set = |k: &str, v: &str| {
        // setting a plain property on a fresh object cannot fail
        let _ = js_sys::Reflect::set(&o, &k.into(), &v.into());
    };
    if date {
        set("year", "numeric");
        set("month", "2-digit");
        set("day", "2-digit");
    }
    set("hour", "2-digit");
    set("minute", "2-digit");
    if seconds {
        set("second", "2-digit");
    }
    set("hourCycle", "h23");
    o.into()
}

fn js_date(t: DateTime<Utc>) -> js_sys::Date {
    js_sys::Date::new(&JsValue::from_f64(t.timestamp_millis() as f64))
}

/// Date and time in the browser's time zone, written the chosen language's
/// way (`11/30/2026, 07:22:02`, `2026. 11. 30. 07:22:02`).
pub fn local_datetime(i18n: I18nContext<Locale>, t: DateTime<Utc>) -> String {
    String::from(js_date(t).to_locale_string(&intl_tag(i18n), &intl_options(true, true)))
}

/// Date and time to the minute (lists where seconds are noise).
pub fn local_minute(i18n: I18nContext<Locale>, t: DateTime<Utc>) -> String {
    String::from(js_date(t).to_locale_string(&intl_tag(i18n), &intl_options(true, false)))
}

/// Time of day in the browser's time zone.
pub fn local_time(i18n: I18nContext<Locale>, t: DateTime<Utc>) -> String {
    String::from(
        js_date(t).to_locale_time_string_with_options(&intl_tag(i18n), &intl_options(false, true)),
    )
}

/// `text` with no-break spaces, so a value and its unit stay on one line
/// (`64 MiB`, `1 CPU`).
pub fn unbroken(text: impl std::fmt::Display) -> String {
    text.to_string().replace(' ', "\u{a0}")
}

/// `name` shortened to at most `max` characters by cutting its middle
/// (`5cwsgmcy-s…ssion-3`): sessions of one launch share their start and
/// differ at the end, so both ends stay.
pub fn middle_ellipsis(name: &str, max: usize) -> String {
    let chars: Vec<char> = name.chars().collect();
    if chars.len() <= max || max < 3 {
        return name.to_string();
    }
    let keep = max - 1;
    let tail = keep / 2;
    let head = keep - tail;
    let mut out: String = chars[..head].iter().collect();
    out.push('…');
    out.extend(&chars[chars.len() - tail..]);
    out
}

/// The unit words of a language: days, hours, minutes, seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Units {
    d: String,
    h: String,
    m: String,
    s: String,
}

impl Units {
    /// The chosen language's units (`d h m s`, `일 시간 분 초`).
    pub fn of(i18n: I18nContext<Locale>) -> Self {
        Units {
            d: t_string!(i18n, unit_days).to_string(),
            h: t_string!(i18n, unit_hours).to_string(),
            m: t_string!(i18n, unit_minutes).to_string(),
            s: t_string!(i18n, unit_seconds).to_string(),
        }
    }

    /// A duration as `H:MM:SS`, with days in front when there are any
    /// (`2d 03:04:05`); negative spans read as zero.
    pub fn elapsed(&self, secs: i64) -> String {
        let s = secs.max(0);
        let (d, h, m, s) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
        if d > 0 {
            format!("{d}{} {h:02}:{m:02}:{s:02}", self.d)
        } else {
            format!("{h:02}:{m:02}:{s:02}")
        }
    }

    /// Time left, short: `1h 02m`, `4m 10s`, `12s`; days when there are any.
    pub fn remaining(&self, secs: f64) -> String {
        let Units {
            d: ud,
            h: uh,
            m: um,
            s: us,
        } = self;
        let s = secs.max(0.0).round() as i64;
        let (d, h, m, s) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
        if d > 0 {
            format!("{d}{ud} {h}{uh}")
        } else if h > 0 {
            format!("{h}{uh} {m:02}{um}")
        } else if m > 0 {
            format!("{m}{um} {s:02}{us}")
        } else {
            format!("{s}{us}")
        }
    }
}

/// [`Units::elapsed`] in the chosen language.
pub fn elapsed(i18n: I18nContext<Locale>, secs: i64) -> String {
    Units::of(i18n).elapsed(secs)
}

/// [`Units::remaining`] in the chosen language.
pub fn remaining(i18n: I18nContext<Locale>, secs: f64) -> String {
    Units::of(i18n).remaining(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(d: &str, h: &str, m: &str, s: &str) -> Units {
        Units {
            d: d.into(),
            h: h.into(),
            m: m.into(),
            s: s.into(),
        }
    }

    #[test]
    fn long_names_keep_both_ends() {
        assert_eq!(middle_ellipsis("short", 10), "short");
        let cut = middle_ellipsis("5cwsgmcy-session-3", 12);
        assert_eq!(cut, "5cwsgm…ion-3");
        assert_eq!(cut.chars().count(), 12);
        assert_ne!(
            middle_ellipsis("5cwsgmcy-session-1", 12),
            middle_ellipsis("5cwsgmcy-session-2", 12)
        );
    }

    #[test]
    fn remaining_reads_short() {
        let en = units("d", "h", "m", "s");
        assert_eq!(en.remaining(12.4), "12s");
        assert_eq!(en.remaining(250.0), "4m 10s");
        assert_eq!(en.remaining(3720.0), "1h 02m");
        assert_eq!(en.remaining(90_000.0), "1d 1h");
        assert_eq!(en.remaining(-3.0), "0s");
        let ko = units("일", "시간", "분", "초");
        assert_eq!(ko.remaining(3720.0), "1시간 02분");
        assert_eq!(ko.remaining(90_000.0), "1일 1시간");
    }

    #[test]
    fn elapsed_reads_like_a_clock() {
        let en = units("d", "h", "m", "s");
        assert_eq!(en.elapsed(0), "00:00:00");
        assert_eq!(en.elapsed(-5), "00:00:00");
        assert_eq!(en.elapsed(3_725), "01:02:05");
        assert_eq!(
            en.elapsed(2 * 86_400 + 3 * 3600 + 4 * 60 + 5),
            "2d 03:04:05"
        );
        let ko = units("일", "시간", "분", "초");
        assert_eq!(ko.elapsed(2 * 86_400 + 5), "2일 00:00:05");
    }
}
