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
        drop(st);
        hex_digits::<24>(next)
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

/// The low `N` hex digits of `n`, zero-padded (what `format!("{n:0N$x}")` prints, without the
/// formatting machinery: every create makes an id).
fn hex_digits<const N: usize>(n: u128) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut digits = [0u8; N];
    for (i, d) in digits.iter_mut().rev().enumerate() {
        *d = HEX[((n >> (4 * i)) & 0xf) as usize];
    }
    digits.iter().map(|&b| char::from(b)).collect()
}

/// The exact position of a seeded stream, so exported state continues with the same numbers.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct RngState {
    pub seed: String,
    pub stream: u64,
    pub word_pos: String,
}

impl RngState {
    pub fn of(rng: &ChaCha8Rng) -> Self {
        RngState {
            seed: rng.get_seed().iter().map(|b| format!("{b:02x}")).collect(),
            stream: rng.get_stream(),
            word_pos: rng.get_word_pos().to_string(),
        }
    }

    pub fn restore(&self) -> Option<ChaCha8Rng> {
        if self.seed.len() != 64 {
            return None;
        }
        let mut seed = [0u8; 32];
        for (i, b) in seed.iter_mut().enumerate() {
            *b = u8::from_str_radix(self.seed.get(i * 2..i * 2 + 2)?, 16).ok()?;
        }
        let mut rng = ChaCha8Rng::from_seed(seed);
        rng.set_stream(self.stream);
        rng.set_word_pos(self.word_pos.parse().ok()?);
        Some(rng)
    }
}

/// An id generator's full state.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct IdGenState {
    pub rng: RngState,
    /// The last ObjectId handed out, as 24 hex digits.
    pub last_object_id: String,
    pub machine: u64,
}

impl IdGen {
    pub fn state(&self) -> IdGenState {
        let st = self.inner.lock();
        IdGenState { rng: RngState::of(&st.rng), last_object_id: format!("{:024x}", st.last_object_id), machine: st.machine }
    }

    pub fn from_state(s: &IdGenState) -> Option<IdGen> {
        let rng = s.rng.restore()?;
        let last_object_id = u128::from_str_radix(&s.last_object_id, 16).ok()?;
        Some(IdGen { inner: Mutex::new(IdState { rng, last_object_id, machine: s.machine }) })
    }
}

/// FNV-1a, to fold a label into the seed without pulling in a hasher whose output may change.
/// A credential issued in a namespace: the default namespace keeps the generator's value; every other
/// namespace gets a value of the same length and alphabet (hex) derived from it and the namespace name,
/// so tokens stay deterministic under a seed yet no namespace's token works in, or predicts, another's.
pub fn namespaced_secret(secret: &str, namespace: &str) -> String {
    if namespace.is_empty() {
        return secret.to_owned();
    }
    let mut out = String::with_capacity(secret.len() + 16);
    let mut round = 0u64;
    while out.len() < secret.len() {
        let mut input = Vec::with_capacity(namespace.len() + secret.len() + 10);
        input.extend_from_slice(namespace.as_bytes());
        input.push(0);
        input.extend_from_slice(secret.as_bytes());
        input.extend_from_slice(&round.to_le_bytes());
        out.push_str(&format!("{:016x}", fnv1a(&input)));
        round += 1;
    }
    out.truncate(secret.len());
    out
}

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
    fn hex_digits_print_as_format_does() {
        for n in [0u128, 1, 0xabc, (0x695b0d10u128 << 64) | (0x0286b3110du128 << 24) | 0x077028, u128::MAX] {
            assert_eq!(hex_digits::<24>(n), format!("{:024x}", n & ((1u128 << 96) - 1)));
        }
    }

    #[test]
    fn namespaced_secrets_keep_the_default_and_differ_elsewhere() {
        let t = "0123456789abcdef0123456789abcdef";
        assert_eq!(namespaced_secret(t, ""), t);
        let a = namespaced_secret(t, "worker-1");
        let b = namespaced_secret(t, "worker-2");
        assert_eq!(a.len(), t.len());
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert!(a != b && a != t);
        assert_eq!(a, namespaced_secret(t, "worker-1"), "deterministic");
    }

    #[test]
    fn object_ids_are_24_hex_and_strictly_increasing() {
        let g = IdGen::new(42, "acme");
        let a = g.object_id(1_700_000_000_000);
        let b = g.object_id(1_700_000_000_000);
        let c = g.object_id(1_600_000_000_000); // clock moved back
        assert_eq!(a.len(), 24);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert!(a < b && b < c);
        assert!(a.starts_with(&format!("{:08x}", 1_700_000_000u32)));
    }

    #[test]
    fn state_round_trips_and_continues_the_sequence() {
        let a = IdGen::new(3, "x");
        a.uuid();
        a.object_id(5_000);
        let b = IdGen::from_state(&a.state()).expect("restores");
        assert_eq!(a.uuid(), b.uuid());
        assert_eq!(a.object_id(5_000), b.object_id(5_000));
        assert_eq!(a.state(), b.state());
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
