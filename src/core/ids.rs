//! Deterministic id generators.
//!
//! Ids come from a ChaCha stream seeded by the scenario seed and a per-platform label, so the same
//! scenario and the same calls give the same ids on every run (and after every reset).

use parking_lot::Mutex;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

use super::clock::Millis;

/// Seeded generator for one platform in one world.
#[derive(Debug)]
pub struct IdGen {
    inner: Mutex<IdState>,
}

#[derive(Debug)]
struct IdState {
    rng: ChaCha8Rng,
    /// Last ObjectId handed out, as a 96-bit integer: new ids are strictly greater.
    last_object_id: u128,
    machine: u64,
}

impl IdGen {
    pub fn new(seed: u64, label: &str) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ fnv1a(label.as_bytes()));
        let machine = rng.next_u64() & 0xff_ffff_ffff;
        let counter = u128::from(rng.next_u32() & 0x7f_ffff);
        Self { inner: Mutex::new(IdState { rng, last_object_id: counter, machine }) }
    }

    /// A 24-hex MongoDB-style ObjectId: 4 bytes of seconds, 5 bytes of seeded "machine" value, 3 bytes of
    /// counter. Strictly increasing, so ordering by id is ordering by creation even within one second
    /// or when the clock is moved back.
    pub fn object_id(&self, now: Millis) -> String {
        let mut st = self.inner.lock();
        let secs = (now.max(0) / 1000) as u128 & 0xffff_ffff;
        let candidate = (secs << 64) | (u128::from(st.machine) << 24);
        let next = if candidate > st.last_object_id { candidate } else { st.last_object_id + 1 };
        st.last_object_id = next;
        format!("{next:024x}")
    }

    /// A version-4 style UUID string from the seeded stream.
    pub fn uuid(&self) -> String {
        let mut b = [0u8; 16];
        self.inner.lock().rng.fill_bytes(&mut b);
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
        format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
    }

    /// A random number in `0..bound` from the seeded stream (for generated data and probabilistic rules).
    pub fn below(&self, bound: u64) -> u64 {
        if bound == 0 {
            return 0;
        }
        self.inner.lock().rng.next_u64() % bound
    }
}

/// FNV-1a, to fold a label into the seed without pulling in a hasher whose output may change.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_ids_are_24_hex_and_strictly_increasing() {
        let g = IdGen::new(42, "jiandaoyun");
        let a = g.object_id(1_700_000_000_000);
        let b = g.object_id(1_700_000_000_000);
        let c = g.object_id(1_600_000_000_000); // clock moved back
        assert_eq!(a.len(), 24);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert!(a < b && b < c);
        assert!(a.starts_with(&format!("{:08x}", 1_700_000_000u32)));
    }

    #[test]
    fn same_seed_same_ids() {
        let a = IdGen::new(7, "x");
        let b = IdGen::new(7, "x");
        assert_eq!(a.object_id(1), b.object_id(1));
        assert_eq!(a.uuid(), b.uuid());
        assert_ne!(IdGen::new(8, "x").uuid(), IdGen::new(7, "x").uuid());
    }
}
