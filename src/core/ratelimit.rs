//! Fixed one-second windows on the emulator clock, keyed by any string (route id, credential …).
//!
//! Platforms document limits as "N requests per second"; a window per clock second is the simplest
//! model with that meaning, and following the emulator clock makes throttling testable with a frozen clock.

use dashmap::DashMap;

use super::clock::Millis;

#[derive(Debug, Default)]
pub struct RateWindows {
    windows: DashMap<String, (i64, u32)>,
}

impl RateWindows {
    /// Counts one call against `key`; true when it is within `per_second`.
    pub fn allow(&self, key: &str, per_second: u32, now: Millis) -> bool {
        let second = now.div_euclid(1000);
        let mut slot = self.windows.entry(key.to_owned()).or_insert((second, 0));
        if slot.0 != second {
            *slot = (second, 0);
        }
        if slot.1 >= per_second {
            return false;
        }
        slot.1 += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_resets_each_second() {
        let r = RateWindows::default();
        assert!(r.allow("k", 2, 1_000));
        assert!(r.allow("k", 2, 1_500));
        assert!(!r.allow("k", 2, 1_999));
        assert!(r.allow("k", 2, 2_000));
    }
}
