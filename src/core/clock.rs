//! The emulator clock: wall time, or a frozen / shifted instant.
//!
//! Everything time-based (record times, token expiry, rate windows, workflow timestamps) reads this clock
//! instead of the OS so tests can freeze and advance time. It is lock-free because every request reads it.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use chrono::{DateTime, Datelike, SecondsFormat, TimeZone, Utc};

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// Real or frozen time. When running, `value` is an offset added to the wall clock; when frozen it is
/// the instant itself.
#[derive(Debug)]
pub struct Clock {
    frozen: AtomicBool,
    value: AtomicI64,
}

impl Clock {
    /// A clock that follows the wall clock.
    pub fn real() -> Self {
        Self { frozen: AtomicBool::new(false), value: AtomicI64::new(0) }
    }

    /// A clock stopped at `at`.
    pub fn frozen_at(at: Millis) -> Self {
        Self { frozen: AtomicBool::new(true), value: AtomicI64::new(at) }
    }

    /// A running clock that reads `at` right now.
    pub fn running_from(at: Millis) -> Self {
        Self { frozen: AtomicBool::new(false), value: AtomicI64::new(at - wall_ms()) }
    }

    pub fn now_ms(&self) -> Millis {
        let v = self.value.load(Ordering::Acquire);
        if self.frozen.load(Ordering::Acquire) {
            v
        } else {
            wall_ms() + v
        }
    }

    pub fn is_frozen(&self) -> bool {
        self.frozen.load(Ordering::Acquire)
    }

    pub fn freeze(&self, at: Millis) {
        self.value.store(at, Ordering::Release);
        self.frozen.store(true, Ordering::Release);
    }

    /// Jumps to `at`, staying frozen or running as before.
    pub fn set(&self, at: Millis) {
        if self.is_frozen() {
            self.value.store(at, Ordering::Release);
        } else {
            self.value.store(at - wall_ms(), Ordering::Release);
        }
    }

    /// Moves time forward (or back, with a negative delta) in either mode.
    pub fn advance(&self, delta: Millis) {
        self.value.fetch_add(delta, Ordering::AcqRel);
    }

    /// Back to the wall clock, dropping any offset.
    pub fn set_real(&self) {
        self.frozen.store(false, Ordering::Release);
        self.value.store(0, Ordering::Release);
    }
}

pub fn wall_ms() -> Millis {
    Utc::now().timestamp_millis()
}

/// `2017-10-20T22:41:51.430Z` — the UTC ISO form most platforms print.
pub fn iso_utc_ms(ms: Millis) -> String {
    match Utc.timestamp_millis_opt(ms).single() {
        Some(t) if (0..=9999).contains(&t.year()) => print_digits(&t, *b"0000-00-00T00:00:00.000Z"),
        Some(t) => t.to_rfc3339_opts(SecondsFormat::Millis, true),
        None => String::from("1970-01-01T00:00:00.000Z"),
    }
}

/// `yyyy-MM-dd HH:mm:ss` in China time (UTC+8), as Yida and Astro Zero print times.
pub fn china_time_text(ms: Millis) -> String {
    match DateTime::from_timestamp_millis(ms.saturating_add(8 * 3_600_000)) {
        Some(t) if (0..=9999).contains(&t.year()) => print_digits(&t, *b"0000-00-00 00:00:00"),
        _ => chrono::FixedOffset::east_opt(8 * 3600)
            .and_then(|tz| tz.timestamp_millis_opt(ms).single())
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default(),
    }
}

/// `t` (a four-digit year) written into `layout` — `0000-00-00 00:00:00`, with `.000` milliseconds
/// after the seconds when the layout has room — digit by digit rather than through a strftime
/// pattern or `format!`: pages print two or four times per record, and the formatting machinery
/// was a visible share of their cost.
fn print_digits<const N: usize>(t: &DateTime<Utc>, mut layout: [u8; N]) -> String {
    use chrono::Timelike;
    let mut put = |at: usize, width: usize, mut n: u32| {
        for i in (at..at + width).rev() {
            layout[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    put(0, 4, t.year() as u32);
    put(5, 2, t.month());
    put(8, 2, t.day());
    put(11, 2, t.hour());
    put(14, 2, t.minute());
    put(17, 2, t.second());
    if N >= 23 {
        put(20, 3, t.timestamp_subsec_millis().min(999));
    }
    layout.iter().copied().map(char::from).collect()
}

/// Parses an RFC 3339 instant (`2026-01-05T09:00:00+08:00`, `…Z`) into milliseconds.
pub fn parse_rfc3339_ms(s: &str) -> Option<Millis> {
    DateTime::parse_from_rfc3339(s.trim()).ok().map(|t| t.timestamp_millis())
}

/// Parses a human duration such as `90s`, `2h`, `15m`, `500ms`, `1d`, optionally negative.
pub fn parse_duration_ms(s: &str) -> Option<Millis> {
    let s = s.trim();
    let (neg, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let split = s.find(|c: char| !c.is_ascii_digit())?;
    let (num, unit) = s.split_at(split);
    let n: i64 = num.parse().ok()?;
    let factor = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    let v = n.checked_mul(factor)?;
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn china_time_text_prints_like_the_strftime_pattern() {
        let slow = |ms: Millis| {
            chrono::FixedOffset::east_opt(8 * 3600)
                .and_then(|tz| tz.timestamp_millis_opt(ms).single())
                .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                .unwrap_or_default()
        };
        for ms in [
            0,
            -1,
            1_767_574_800_000,
            1_767_574_800_999,
            -62_167_219_200_000,
            253_402_300_799_999,
            253_402_300_800_000,
            i64::MAX,
            i64::MIN,
            -28_800_001,
        ] {
            assert_eq!(china_time_text(ms), slow(ms), "{ms}");
        }
        // Spread over years 0..=9999, negative and positive, every field's digits.
        for k in 0..20_000i64 {
            let ms = (k * 7_919_999_937_123) % 315_537_897_600_000 - 62_167_219_200_000;
            assert_eq!(china_time_text(ms), slow(ms), "{ms}");
        }
    }

    #[test]
    fn iso_utc_ms_prints_like_chrono() {
        let slow = |ms: Millis| match Utc.timestamp_millis_opt(ms).single() {
            Some(t) => t.to_rfc3339_opts(SecondsFormat::Millis, true),
            None => String::from("1970-01-01T00:00:00.000Z"),
        };
        for ms in
            [0, -1, 1_508_539_311_430, 1_767_574_800_999, -62_167_219_200_000, 253_402_300_799_999, 253_402_300_800_000, i64::MAX, i64::MIN]
        {
            assert_eq!(iso_utc_ms(ms), slow(ms), "{ms}");
        }
        for k in 0..20_000i64 {
            let ms = (k * 7_919_999_937_123) % 315_537_897_600_000 - 62_167_219_200_000;
            assert_eq!(iso_utc_ms(ms), slow(ms), "{ms}");
        }
    }

    #[test]
    fn frozen_clock_advances_only_when_told() {
        let c = Clock::frozen_at(1_000);
        assert_eq!(c.now_ms(), 1_000);
        c.advance(90_000);
        assert_eq!(c.now_ms(), 91_000);
        assert!(c.is_frozen());
    }

    #[test]
    fn running_clock_starts_at_the_given_instant() {
        let c = Clock::running_from(5_000);
        let now = c.now_ms();
        assert!((5_000..6_000).contains(&now));
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration_ms("90s"), Some(90_000));
        assert_eq!(parse_duration_ms("2h"), Some(7_200_000));
        assert_eq!(parse_duration_ms("-1m"), Some(-60_000));
        assert_eq!(parse_duration_ms("10"), None);
        assert_eq!(parse_duration_ms("x"), None);
    }

    #[test]
    fn iso_format_matches_platform_style() {
        assert_eq!(iso_utc_ms(1_508_539_311_430), "2017-10-20T22:41:51.430Z");
        assert_eq!(parse_rfc3339_ms("2017-10-20T22:41:51.430Z"), Some(1_508_539_311_430));
    }
}
