//! A real HTTP receiver on loopback for the outbound suites: records every request and answers with
//! the statuses it is told to (then 200).

use std::collections::VecDeque;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Mutex;

#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn query(&self, name: &str) -> Option<String> {
        let q = self.target.split_once('?')?.1;
        form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_default()
    }
}

/// How a receiver answers one request: status and body.
type Responder = Arc<dyn Fn(&Received) -> (u16, String) + Send + Sync>;
/// How long a receiver waits before it answers a request.
type Delay = Arc<dyn Fn(&Received) -> u64 + Send + Sync>;

pub struct Receiver {
    pub url: String,
    pub got: Arc<Mutex<Vec<Received>>>,
    /// Statuses for the next requests, in order; 200 once they run out (with `start`).
    pub script: Arc<Mutex<VecDeque<u16>>>,
}

impl Receiver {
    /// Answers the scripted statuses (then 200) with the body `replied`.
    pub async fn start() -> Receiver {
        let script: Arc<Mutex<VecDeque<u16>>> = Arc::new(Mutex::new(VecDeque::new()));
        let s = script.clone();
        let mut rx =
            Self::answering(move |_| (s.try_lock().ok().and_then(|mut q| q.pop_front()).unwrap_or(200), "replied".to_owned())).await;
        rx.script = script;
        rx
    }

    /// Answers each request with what `respond` returns for it (a JSON service, say).
    pub async fn answering(respond: impl Fn(&Received) -> (u16, String) + Send + Sync + 'static) -> Receiver {
        Self::answering_after(|_| 0, respond).await
    }

    /// Answers 200 `replied`, but only after `delay_ms` for the request has passed; a request is
    /// recorded when it is answered, so concurrent sends would show up out of order.
    pub async fn slowed(delay_ms: impl Fn(&Received) -> u64 + Send + Sync + 'static) -> Receiver {
        Self::answering_after(delay_ms, |_| (200, "replied".to_owned())).await
    }

    /// Answers what `respond` returns once `delay_ms` for the request has passed.
    pub async fn answering_after(
        delay_ms: impl Fn(&Received) -> u64 + Send + Sync + 'static,
        respond: impl Fn(&Received) -> (u16, String) + Send + Sync + 'static,
    ) -> Receiver {
        let (respond, delay_ms): (Responder, Delay) = (Arc::new(respond), Arc::new(delay_ms));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        let got = Arc::new(Mutex::new(Vec::new()));
        let g = got.clone();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let (g, respond, delay_ms) = (g.clone(), respond.clone(), delay_ms.clone());
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    // Read the head, then as many body bytes as content-length says (bounded).
                    let head_end = loop {
                        let Ok(n) = sock.read(&mut chunk).await else { return };
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break i;
                        }
                        if buf.len() > 1 << 20 {
                            return;
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
                    let mut lines = head.split("\r\n");
                    let first: Vec<&str> = lines.next().unwrap_or("").split(' ').collect();
                    let headers: Vec<(String, String)> = lines
                        .filter_map(|l| l.split_once(':'))
                        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
                        .collect();
                    let len: usize = headers.iter().find(|(k, _)| k == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
                    while buf.len() < head_end + 4 + len.min(1 << 20) {
                        let Ok(n) = sock.read(&mut chunk).await else { return };
                        if n == 0 {
                            break;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                    }
                    let body = String::from_utf8_lossy(&buf[head_end + 4..]).into_owned();
                    let received = Received {
                        method: first.first().copied().unwrap_or("").to_owned(),
                        target: first.get(1).copied().unwrap_or("").to_owned(),
                        headers,
                        body,
                    };
                    let pause = delay_ms(&received);
                    if pause > 0 {
                        tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
                    }
                    let (status, answer) = respond(&received);
                    g.lock().await.push(received);
                    let reply = format!("HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}", answer.len());
                    let _ = sock.write_all(reply.as_bytes()).await;
                });
            }
        });
        Receiver { url, got, script: Arc::default() }
    }

    pub async fn received(&self) -> Vec<Received> {
        self.got.lock().await.clone()
    }
}
