//! The connection layer: hyper 1 on tokio, head size and read-time limits, a watchdog per connection,
//! graceful shutdown. What happens to each request is [`crate::pipeline`]'s business.
//!
//! Where this fits: docs/architecture.md.

use std::sync::Arc;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::liveness::{Watch, WatchedIo};
use crate::shared::Shared;

/// Most bytes of a request head (request line and headers) before the connection is refused.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// Accepts connections until `shutdown` resolves, then drains in-flight requests (up to `shared.drain`).
pub async fn serve(listener: TcpListener, shared: Arc<Shared>, shutdown: impl std::future::Future<Output = ()>) {
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        // The time to send a head (and the idle time of a kept-alive connection) is watched by the
        // connection's watchdog (`liveness`), not by a timer per request.
        .header_read_timeout(None)
        .max_header_size(MAX_HEADER_BYTES)
        .max_buf_size(256 * 1024)
        .keep_alive(true);
    tokio::pin!(shutdown);
    let mut backoff = AcceptBackoff::default();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _peer)) => {
                        backoff.reset();
                        stream
                    }
                    Err(e) => {
                        // Out of file descriptors (or another accept failure): retrying at once spins a
                        // core and starves the connections already open. Wait, longer each time.
                        tokio::select! {
                            _ = tokio::time::sleep(backoff.failed(&e)) => {}
                            _ = &mut shutdown => break,
                        }
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let shared = shared.clone();
                let watch = Watch::new();
                let guard = watch.clone().guard(shared.config.read_timeout, shared.config.body_deadline);
                let io = TokioIo::new(WatchedIo::new(stream, watch.clone()));
                let svc = service_fn(move |req| crate::pipeline::handle(shared.clone(), req, watch.clone()));
                let conn = graceful.watch(builder.serve_connection(io, svc));
                tokio::spawn(async move {
                    tokio::select! {
                        _ = conn => {}
                        _ = guard => {}
                    }
                });
            }
            _ = &mut shutdown => break,
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(shared.drain, graceful.shutdown()).await;
}

/// How long to wait after failed accepts: 10 ms doubling to 1 s, logged once per run of failures.
#[derive(Default)]
struct AcceptBackoff {
    failures: u32,
}

impl AcceptBackoff {
    fn failed(&mut self, e: &std::io::Error) -> std::time::Duration {
        if self.failures == 0 {
            tracing::warn!(error = %e, "cannot accept connections (out of file descriptors?); serving open connections and retrying");
        }
        self.failures = self.failures.saturating_add(1);
        std::time::Duration::from_millis(10u64 << self.failures.min(7).saturating_sub(1)).min(std::time::Duration::from_secs(1))
    }

    fn reset(&mut self) {
        if self.failures > 0 {
            tracing::info!(failures = self.failures, "accepting connections again");
            self.failures = 0;
        }
    }
}
