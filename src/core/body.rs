//! A response body: one buffer, or shared pieces sent back to back without being joined.
//!
//! Why pieces: a page of a hundred stored records is a hundred JSON texts, each printed once and kept
//! by its record ([`crate::core::json_cache`]). Copying them into one buffer was the largest
//! user-space cost of a list page (15 % of all the CPU of a filtered 100-row Jiandaoyun data/list,
//! beside the kernel's own copy of the same bytes into the socket). Handed over as pieces, hyper
//! passes them to `writev` (up to 64 at a time), so the bytes are copied once, by the kernel.
//!
//! Readers that need the bytes in one place (the journal when it copies a small exchange, a route
//! that answers by calling another) join the pieces then, off the hot path of a list page.

use std::io::IoSlice;
use std::sync::Arc;

use bytes::{Buf, Bytes};

/// Bodies up to this size are copied by [`detach_small`].
const DETACHED_BYTES: usize = 16 * 1024;

/// A request body that outlives its request (the journal keeps it, a blob store holds an upload)
/// copied when small. A body that arrived in one piece is a slice of the connection's read buffer:
/// kept as it is, it would pin that whole buffer (8 KiB and up) for as long as it lives and make the
/// connection allocate a fresh one for its next request. A copy of a few hundred bytes costs less.
/// Bodies read and dropped within their request are left where they are.
pub fn detach_small(body: &Bytes) -> Bytes {
    if body.len() <= DETACHED_BYTES {
        Bytes::copy_from_slice(body)
    } else {
        body.clone()
    }
}

#[derive(Debug, Clone)]
pub enum Body {
    Whole(Bytes),
    /// Pieces in order and their total length.
    Pieces(Arc<Vec<Bytes>>, usize),
}

impl Default for Body {
    fn default() -> Self {
        Body::Whole(Bytes::new())
    }
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Self {
        Body::Whole(b)
    }
}

impl From<Vec<u8>> for Body {
    fn from(v: Vec<u8>) -> Self {
        Body::Whole(v.into())
    }
}

impl Body {
    /// A body of `pieces` sent back to back.
    pub fn pieces(pieces: Vec<Bytes>) -> Self {
        let len = pieces.iter().map(Bytes::len).sum();
        Body::Pieces(Arc::new(pieces), len)
    }

    pub fn len(&self) -> usize {
        match self {
            Body::Whole(b) => b.len(),
            Body::Pieces(_, len) => *len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The body as one buffer: itself when whole, else its pieces copied together.
    pub fn to_bytes(&self) -> Bytes {
        match self {
            Body::Whole(b) => b.clone(),
            Body::Pieces(..) => {
                let mut out = Vec::with_capacity(self.len());
                self.copy_into(&mut out);
                out.into()
            }
        }
    }

    /// Appends the body's bytes to `out`.
    pub fn copy_into(&self, out: &mut Vec<u8>) {
        match self {
            Body::Whole(b) => out.extend_from_slice(b),
            Body::Pieces(pieces, _) => pieces.iter().for_each(|p| out.extend_from_slice(p)),
        }
    }

    /// The body as hyper sends it.
    pub fn into_buf(self) -> BodyBuf {
        let remaining = self.len();
        let mut buf = BodyBuf { body: self, piece: 0, offset: 0, remaining };
        buf.skip_empty();
        buf
    }
}

/// A [`Body`] being sent: where the unsent part starts.
#[derive(Debug)]
pub struct BodyBuf {
    body: Body,
    /// The piece holding the next byte (always a non-empty one while bytes remain).
    piece: usize,
    /// The next byte's offset in that piece (in the buffer, for a whole body).
    offset: usize,
    remaining: usize,
}

impl From<Bytes> for BodyBuf {
    fn from(b: Bytes) -> Self {
        Body::Whole(b).into_buf()
    }
}

impl BodyBuf {
    fn skip_empty(&mut self) {
        if let Body::Pieces(pieces, _) = &self.body {
            while pieces.get(self.piece).is_some_and(|p| p.len() == self.offset) && self.remaining > 0 {
                self.piece += 1;
                self.offset = 0;
            }
        }
    }
}

impl Buf for BodyBuf {
    fn remaining(&self) -> usize {
        self.remaining
    }

    fn chunk(&self) -> &[u8] {
        match &self.body {
            Body::Whole(b) => b.get(self.offset..).unwrap_or_default(),
            Body::Pieces(pieces, _) => pieces.get(self.piece).and_then(|p| p.get(self.offset..)).unwrap_or_default(),
        }
    }

    fn advance(&mut self, cnt: usize) {
        let cnt = cnt.min(self.remaining);
        self.remaining -= cnt;
        match &self.body {
            Body::Whole(_) => self.offset += cnt,
            Body::Pieces(pieces, _) => {
                let mut cnt = cnt;
                while cnt > 0 {
                    let Some(p) = pieces.get(self.piece) else { break };
                    let left = p.len() - self.offset;
                    if cnt < left {
                        self.offset += cnt;
                        break;
                    }
                    cnt -= left;
                    self.piece += 1;
                    self.offset = 0;
                }
                self.skip_empty();
            }
        }
    }

    fn chunks_vectored<'a>(&'a self, dst: &mut [IoSlice<'a>]) -> usize {
        if dst.is_empty() || self.remaining == 0 {
            return 0;
        }
        match &self.body {
            Body::Whole(_) => {
                dst[0] = IoSlice::new(self.chunk());
                1
            }
            Body::Pieces(pieces, _) => {
                let mut n = 0;
                let mut offset = self.offset;
                for p in pieces.iter().skip(self.piece) {
                    if n == dst.len() {
                        break;
                    }
                    if let Some(rest) = p.get(offset..).filter(|r| !r.is_empty()) {
                        dst[n] = IoSlice::new(rest);
                        n += 1;
                    }
                    offset = 0;
                }
                n
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pieces_of(sizes: &[usize]) -> (Body, Vec<u8>) {
        let mut whole = Vec::new();
        let mut pieces = Vec::new();
        for (i, &n) in sizes.iter().enumerate() {
            let p: Vec<u8> = (0..n).map(|j| (i * 31 + j) as u8).collect();
            whole.extend_from_slice(&p);
            pieces.push(Bytes::from(p));
        }
        (Body::pieces(pieces), whole)
    }

    /// Drains `buf` the way a writer does: vectored reads of at most `slots` slices, then an advance
    /// of at most `step` bytes.
    fn drain(mut buf: BodyBuf, slots: usize, step: usize) -> Vec<u8> {
        let mut out = Vec::new();
        while buf.has_remaining() {
            let mut iov = vec![IoSlice::new(&[]); slots];
            let n = buf.chunks_vectored(&mut iov);
            assert!(n > 0, "bytes remain, so a slice is offered");
            let mut took = 0;
            for s in &iov[..n] {
                let want = (step - took).min(s.len());
                out.extend_from_slice(&s[..want]);
                took += want;
                if took == step {
                    break;
                }
            }
            assert_eq!(buf.chunk(), &iov[0][..], "chunk is the first vectored slice");
            buf.advance(took);
            assert_eq!(buf.remaining(), buf.body.len() - out.len());
        }
        out
    }

    #[test]
    fn an_empty_body_offers_nothing() {
        let (body, _) = pieces_of(&[0, 0, 0]);
        let buf = body.into_buf();
        assert_eq!((buf.remaining(), buf.chunk().len()), (0, 0));
        assert_eq!(buf.chunks_vectored(&mut [IoSlice::new(&[])]), 0);
    }

    proptest! {
        #[test]
        fn pieces_read_back_whole(sizes in prop::collection::vec(0usize..40, 0..30), slots in 1usize..5, step in 1usize..70) {
            let (body, whole) = pieces_of(&sizes);
            prop_assert_eq!(&body.to_bytes()[..], &whole[..]);
            prop_assert_eq!(drain(body.clone().into_buf(), slots, step), whole.clone());
            let flat = Body::Whole(whole.clone().into());
            prop_assert_eq!(drain(flat.into_buf(), slots, step), whole);
        }
    }
}
