//! Stalled-client detection without a timer per request.
//!
//! A `tokio::time::timeout` around every body read registers a timer on most requests (hyper
//! hands the body over asynchronously), which cost a fifth of the read routes' throughput; hyper's
//! own header-read timeout arms, polls and drops a timer for every request head (5 % of a data/get's
//! CPU). Instead each connection's socket counts the reads that brought bytes (a counter, not a clock
//! read per read), and one coarse watchdog per connection, ticking a quarter of the timeout and
//! counting ticks in which nothing arrived:
//! - wakes the body read when it has been silent for longer than the read timeout, or has taken
//!   longer in all than the body deadline (a client trickling one byte a second is never silent);
//! - closes the connection when no request has started for the read timeout while none was being
//!   answered: a head that never completes, or a kept-alive connection left idle (what hyper's
//!   header-read timeout did). A response the client is slow to take is not idleness.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;

/// One connection's read activity.
#[derive(Debug)]
pub struct Watch {
    /// Reads that brought bytes.
    reads: AtomicU64,
    /// Body reads started (the watchdog times each from the first tick that sees it).
    bodies: AtomicU64,
    in_body: AtomicBool,
    stalled: Notify,
    /// Requests started on the connection (the watchdog sees whether one started since its last tick).
    requests: AtomicU64,
    /// Requests being answered (0 or 1: HTTP/1 answers one at a time).
    busy: AtomicU32,
    /// A response write is waiting for the client to take bytes.
    write_blocked: AtomicBool,
}

impl Watch {
    pub fn new() -> Arc<Self> {
        Arc::new(Watch {
            reads: AtomicU64::new(0),
            bodies: AtomicU64::new(0),
            in_body: AtomicBool::new(false),
            stalled: Notify::new(),
            requests: AtomicU64::new(0),
            busy: AtomicU32::new(0),
            write_blocked: AtomicBool::new(false),
        })
    }

    /// Marks a request as being answered until the returned guard drops (no clock read: the
    /// watchdog counts its own ticks).
    pub fn answering(&self) -> Answering<'_> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.busy.fetch_add(1, Ordering::Relaxed);
        Answering(self)
    }

    /// Runs `read` (a body read); `None` when the client went silent for longer than the timeout.
    pub async fn body<F: std::future::Future>(&self, read: F) -> Option<F::Output> {
        self.bodies.fetch_add(1, Ordering::Relaxed);
        self.in_body.store(true, Ordering::Release);
        let out = tokio::select! {
            biased;
            r = read => Some(r),
            _ = self.stalled.notified() => None,
        };
        self.in_body.store(false, Ordering::Release);
        out
    }

    /// Wakes a body read that has heard nothing for `timeout`, or has run longer than `deadline`;
    /// returns (and the connection is closed) once no request has started for `timeout` while none
    /// was being answered. Runs for the connection's life. Times are counted in ticks, so each fires
    /// between its limit and one tick (a quarter of the limit) later, never before.
    pub async fn guard(self: Arc<Self>, timeout: Duration, deadline: Duration) {
        let period = (timeout.min(deadline) / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
        let (mut requests_seen, mut idle) = (0, Duration::ZERO);
        // Ticks since the last read that brought bytes, and since the body being read started.
        let (mut reads_seen, mut silent) = (0, Duration::ZERO);
        let (mut bodies_seen, mut in_body_for) = (0, Duration::ZERO);
        loop {
            tokio::time::sleep(period).await;
            let requests = self.requests.load(Ordering::Relaxed);
            let answering = self.busy.load(Ordering::Relaxed) > 0 || self.write_blocked.load(Ordering::Relaxed);
            if answering || requests != requests_seen {
                (requests_seen, idle) = (requests, Duration::ZERO);
            } else {
                idle += period;
                if idle >= timeout {
                    return;
                }
            }
            let reads = self.reads.load(Ordering::Relaxed);
            let bodies = self.bodies.load(Ordering::Relaxed);
            // A tick that sees a read (or a new body) counts from zero: what it saw may have come
            // just before it.
            silent = if reads == reads_seen { silent + period } else { Duration::ZERO };
            in_body_for = if bodies == bodies_seen { in_body_for + period } else { Duration::ZERO };
            (reads_seen, bodies_seen) = (reads, bodies);
            if !self.in_body.load(Ordering::Acquire) {
                continue;
            }
            if silent > timeout || in_body_for > deadline {
                self.stalled.notify_waiters();
            }
        }
    }
}

/// A request being answered; see [`Watch::answering`].
pub struct Answering<'a>(&'a Watch);

impl Drop for Answering<'_> {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A socket that stamps its `Watch` whenever bytes arrive, and tells it when a write waits for the
/// client.
pub struct WatchedIo<S> {
    inner: S,
    watch: Arc<Watch>,
}

impl<S> WatchedIo<S> {
    pub fn new(inner: S, watch: Arc<Watch>) -> Self {
        WatchedIo { inner, watch }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for WatchedIo<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            // Only the connection's task reads its socket: a plain store suffices (no locked add).
            let reads = &self.watch.reads;
            reads.store(reads.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
        }
        r
    }
}

impl<S> WatchedIo<S> {
    /// Notes whether a write is waiting for the client (the watchdog does not count that as idle).
    fn writing<T>(&self, r: Poll<T>) -> Poll<T> {
        let blocked = r.is_pending();
        if blocked != self.watch.write_blocked.load(Ordering::Relaxed) {
            self.watch.write_blocked.store(blocked, Ordering::Relaxed);
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for WatchedIo<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.writing(r)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let r = Pin::new(&mut self.inner).poll_flush(cx);
        self.writing(r)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
    fn poll_write_vectored(mut self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[std::io::IoSlice<'_>]) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.writing(r)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
