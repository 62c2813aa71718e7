//! `lowcode-emu proxy --upstream URL --record FILE`: a recording reverse proxy. A client pointed at it
//! talks to the real tenant as before — every answer goes back unchanged (status, headers, body) —
//! while each request and answer is appended to the recording, credentials redacted.
//!
//! Bounded like the emulator: request bodies (`max_body_bytes`, else 413), answer bodies (else 502),
//! connections at once, and exchanges recorded (past `max_exchanges` traffic still passes, unrecorded).
//! The upstream is asked for identity encoding so the recording holds readable bodies.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use parking_lot::Mutex;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

use super::recording::{recorded_headers, recorded_query, Exchange, Payload, HOP_BY_HOP};

/// How the proxy runs.
#[derive(Debug, Clone)]
pub struct ProxyOptions {
    pub upstream: String,
    pub record: PathBuf,
    pub max_body_bytes: usize,
    pub max_exchanges: u64,
    pub max_connections: usize,
    pub timeout: Duration,
}

impl Default for ProxyOptions {
    fn default() -> Self {
        ProxyOptions {
            upstream: String::new(),
            record: PathBuf::from("recording.jsonl"),
            max_body_bytes: 32 << 20,
            max_exchanges: 100_000,
            max_connections: 256,
            timeout: Duration::from_secs(60),
        }
    }
}

struct Proxy {
    options: ProxyOptions,
    client: reqwest::Client,
    file: Mutex<std::io::BufWriter<std::fs::File>>,
    seq: AtomicU64,
    router: crate::router::Router,
}

/// Serves until `stop` turns true; answers how many exchanges were recorded.
pub async fn run(listener: TcpListener, options: ProxyOptions, mut stop: watch::Receiver<bool>) -> std::io::Result<u64> {
    let client = reqwest::Client::builder()
        .timeout(options.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(std::io::Error::other)?;
    let file = std::fs::OpenOptions::new().create(true).append(true).open(&options.record)?;
    let proxy = Arc::new(Proxy {
        client,
        file: Mutex::new(std::io::BufWriter::new(file)),
        seq: AtomicU64::new(0),
        router: crate::router::Router::new(crate::platforms::all_routes()),
        options,
    });
    let slots = Arc::new(Semaphore::new(proxy.options.max_connections.max(1)));
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(_) => continue,
            },
            _ = stop.wait_for(|s| *s) => break,
        };
        let Ok(permit) = slots.clone().acquire_owned().await else { break };
        let proxy = proxy.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| {
                let proxy = proxy.clone();
                async move { Ok::<_, std::convert::Infallible>(proxy.forward(req).await) }
            });
            let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
            drop(permit);
        });
    }
    let recorded = proxy.seq.load(Ordering::Relaxed).min(proxy.options.max_exchanges);
    let _ = proxy.file.lock().flush();
    Ok(recorded)
}

fn plain(status: StatusCode, text: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(text)));
    *r.status_mut() = status;
    r
}

impl Proxy {
    async fn forward(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let started = Instant::now();
        let (parts, body) = req.into_parts();
        let body = match Limited::new(body, self.options.max_body_bytes).collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => {
                return plain(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("lowcode-emu proxy: request body over {} bytes", self.options.max_body_bytes),
                )
            }
        };
        let path = parts.uri.path().to_owned();
        let query = parts.uri.query().unwrap_or("").to_owned();
        let url =
            format!("{}{}", self.options.upstream.trim_end_matches('/'), parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"));
        let mut out = self.client.request(parts.method.clone(), &url).body(body.clone());
        for (name, value) in &parts.headers {
            if !HOP_BY_HOP.contains(&name.as_str()) {
                out = out.header(name, value);
            }
        }
        let answer = match out.send().await {
            Ok(a) => a,
            Err(e) => return plain(StatusCode::BAD_GATEWAY, format!("lowcode-emu proxy: upstream {url}: {e}")),
        };
        let status = answer.status();
        let headers = answer.headers().clone();
        let mut answer_body = Vec::new();
        let mut stream = answer;
        loop {
            match stream.chunk().await {
                Ok(Some(chunk)) if answer_body.len() + chunk.len() <= self.options.max_body_bytes => answer_body.extend_from_slice(&chunk),
                Ok(Some(_)) => {
                    return plain(
                        StatusCode::BAD_GATEWAY,
                        format!("lowcode-emu proxy: upstream answer over {} bytes", self.options.max_body_bytes),
                    )
                }
                Ok(None) => break,
                Err(e) => return plain(StatusCode::BAD_GATEWAY, format!("lowcode-emu proxy: reading upstream answer: {e}")),
            }
        }
        let answer_body = Bytes::from(answer_body);
        self.record(&parts, &path, &query, &body, status.as_u16(), &headers, &answer_body, started.elapsed());
        let mut r = Response::new(Full::new(answer_body));
        *r.status_mut() = status;
        for (name, value) in &headers {
            if !HOP_BY_HOP.contains(&name.as_str()) {
                r.headers_mut().append(name, value.clone());
            }
        }
        r
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &self,
        parts: &hyper::http::request::Parts,
        path: &str,
        query: &str,
        body: &Bytes,
        status: u16,
        headers: &hyper::HeaderMap,
        answer: &Bytes,
        took: Duration,
    ) {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
        if seq > self.options.max_exchanges {
            if seq == self.options.max_exchanges + 1 {
                tracing::warn!(max = self.options.max_exchanges, "recording is full; later traffic passes unrecorded");
            }
            return;
        }
        let (platform, route) = match self.router.find(&parts.method, crate::shared::split_mount(path).map(|(_, p)| p).unwrap_or(path)) {
            crate::router::Match::Found(r, _) => (Some(r.platform.to_owned()), Some(r.id.to_owned())),
            _ => (crate::platforms::for_path(path).map(|p| p.name.to_owned()), None),
        };
        let e = Exchange {
            seq,
            time: crate::core::clock::iso_utc_ms(chrono::Utc::now().timestamp_millis()),
            platform,
            route,
            method: parts.method.to_string(),
            path: path.to_owned(),
            query: recorded_query(query),
            request_headers: recorded_headers(parts.headers.iter().map(|(k, v)| (k.as_str(), v.as_bytes()))),
            request_body: Payload::of(body),
            status,
            response_headers: recorded_headers(headers.iter().map(|(k, v)| (k.as_str(), v.as_bytes()))),
            response_body: Payload::of(answer),
            duration_ms: took.as_secs_f64() * 1000.0,
        };
        let Ok(line) = serde_json::to_string(&e) else { return };
        let mut f = self.file.lock();
        // One whole line per exchange, flushed at once: a recording stopped by a kill ends on a line.
        let _ = writeln!(f, "{line}").and_then(|_| f.flush());
    }
}
