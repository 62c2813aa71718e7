//! Credentials that expire (access tokens, upload tokens): a map plus a queue in issue order, so expired
//! entries are freed as new ones are issued — amortised O(1) per issue, no scan — and a cap on how many
//! may be alive at once, so a client minting tokens in a loop cannot grow memory without bound.

use std::collections::{HashMap, VecDeque};

use super::clock::Millis;

/// Live entries kept per map unless a caller says otherwise; past it the oldest entry goes first.
pub const DEFAULT_MAX_LIVE: usize = 100_000;

#[derive(Debug, Clone)]
pub struct Expiring<V> {
    map: HashMap<String, (Millis, V)>,
    /// (expiry, key) in issue order. With one TTL per map and a clock that moves forward, expiries only
    /// grow along the queue; a clock set back only delays freeing, never loses a live entry.
    queue: VecDeque<(Millis, String)>,
    max_live: usize,
}

impl<V> Default for Expiring<V> {
    fn default() -> Self {
        Expiring { map: HashMap::new(), queue: VecDeque::new(), max_live: DEFAULT_MAX_LIVE }
    }
}

impl<V> Expiring<V> {
    pub fn with_max_live(max_live: usize) -> Self {
        Expiring { max_live: max_live.max(1), ..Expiring::default() }
    }

    /// Adds an entry valid until `expires`, first freeing what has expired by `now` (and, at the cap,
    /// the oldest entry).
    pub fn insert(&mut self, key: String, expires: Millis, value: V, now: Millis) {
        self.prune(now);
        while self.map.len() >= self.max_live {
            let Some((_, oldest)) = self.queue.pop_front() else { break };
            self.map.remove(&oldest);
        }
        self.queue.push_back((expires, key.clone()));
        self.map.insert(key, (expires, value));
    }

    /// The entry's value while it is valid at `now`.
    pub fn get(&self, key: &str, now: Millis) -> Option<&V> {
        self.map.get(key).filter(|(exp, _)| *exp > now).map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, key: &str, now: Millis) -> Option<&mut V> {
        self.map.get_mut(key).filter(|(exp, _)| *exp > now).map(|(_, v)| v)
    }

    /// The entry's value, expired or not, while it is still held (so a caller can say "expired" rather
    /// than "unknown").
    pub fn get_held_mut(&mut self, key: &str) -> Option<&mut V> {
        self.map.get_mut(key).map(|(_, v)| v)
    }

    /// Frees every entry at the front of the queue that has expired by `now`.
    pub fn prune(&mut self, now: Millis) {
        while let Some((exp, _)) = self.queue.front() {
            if *exp > now {
                break;
            }
            let Some((_, key)) = self.queue.pop_front() else { break };
            // A key issued again later has a newer expiry; keep that one.
            if self.map.get(&key).is_some_and(|(e, _)| *e <= now) {
                self.map.remove(&key);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Every entry held (expired ones not yet freed included), for state export.
    pub fn iter(&self) -> impl Iterator<Item = (&String, Millis, &V)> {
        self.map.iter().map(|(k, (e, v))| (k, *e, v))
    }

    /// Rebuilds from exported entries, in expiry order.
    pub fn from_entries(entries: impl IntoIterator<Item = (String, Millis, V)>) -> Self {
        let mut all: Vec<(String, Millis, V)> = entries.into_iter().collect();
        all.sort_by_key(|(_, e, _)| *e);
        let mut out = Expiring::default();
        for (k, e, v) in all {
            out.queue.push_back((e, k.clone()));
            out.map.insert(k, (e, v));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expired_entries_are_freed_as_new_ones_arrive() {
        let mut m = Expiring::default();
        for i in 0..1000 {
            m.insert(format!("t{i}"), i * 10 + 100, (), i * 10);
        }
        // At t = 9990 only tokens issued in the last 100 ms are alive.
        assert!(m.len() <= 11, "{}", m.len());
        assert!(m.get("t999", 9990).is_some());
        assert!(m.get("t0", 9990).is_none());
    }

    #[test]
    fn the_live_count_is_capped_oldest_first() {
        let mut m = Expiring::with_max_live(3);
        for i in 0..5 {
            m.insert(format!("t{i}"), 1_000_000, i, 0);
        }
        assert_eq!(m.len(), 3);
        assert!(m.get("t0", 0).is_none() && m.get("t1", 0).is_none());
        assert_eq!(m.get("t4", 0), Some(&4));
    }

    #[test]
    fn reissued_keys_keep_their_newer_expiry_and_export_round_trips() {
        let mut m = Expiring::default();
        m.insert("a".into(), 100, 1, 0);
        m.insert("a".into(), 300, 2, 50);
        m.prune(150);
        assert_eq!(m.get("a", 150), Some(&2));
        let back = Expiring::from_entries(m.iter().map(|(k, e, v)| (k.clone(), e, *v)));
        assert_eq!(back.get("a", 299), Some(&2));
        assert!(back.get("a", 300).is_none());
    }
}
