//! Slow and oversized requests: a client that trickles its headers or body is cut off after
//! `[server] read_timeout_ms`, oversized headers and bodies are refused, and other clients are
//! served promptly all the while.

use crate::common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SERVER: &str = "[server]\nread_timeout_ms = 400\nmax_body_bytes = 1024\n";

/// Reads until the server closes the connection (or 5 s pass); returns what it sent.
async fn drain(mut s: TcpStream) -> (String, Duration) {
    let started = Instant::now();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf)).await;
    (String::from_utf8_lossy(&buf).into_owned(), started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_and_oversized_clients_do_not_stall_others() {
    let emu = start_with(&format!("{SERVER}{MINIMAL_JDY}")).await;
    let addr = emu.addr();
    // Forty connections that send half a request line and stop.
    let mut stalled = Vec::new();
    for _ in 0..40 {
        let mut s = TcpStream::connect(addr).await.expect("connect");
        s.write_all(b"GET /__emu/health HTTP/1.1\r\nHost: x\r\nX-Slow: ").await.expect("write");
        stalled.push(s);
    }
    // A body that never completes.
    let mut trickle = TcpStream::connect(addr).await.expect("connect");
    trickle
        .write_all(
            b"POST /api/v5/app/entry/data/create HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\nContent-Length: 100\r\n\r\n{\"app_id\"",
        )
        .await
        .expect("write");
    // Meanwhile ordinary requests are answered at once.
    for _ in 0..20 {
        let t = Instant::now();
        let r = get(&emu, "/__emu/health").await;
        assert_eq!(r.status, 200);
        assert!(t.elapsed() < Duration::from_millis(300), "a healthy client waited {:?}", t.elapsed());
    }
    let (answer, took) = drain(trickle).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(took < Duration::from_secs(2), "the stalled body was held {took:?}");
    for s in stalled {
        let (answer, took) = drain(s).await;
        assert!(!answer.contains("200 OK"), "{answer}");
        assert!(took < Duration::from_secs(2), "a stalled header was held {took:?}");
    }
    // Oversized headers are refused (431) and oversized bodies get the platform's error.
    let mut big = TcpStream::connect(addr).await.expect("connect");
    let header = format!("GET /__emu/health HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "a".repeat(300 * 1024));
    for chunk in header.as_bytes().chunks(16 * 1024) {
        if big.write_all(chunk).await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (answer, _) = drain(big).await;
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 431"), "{answer}");
    let body = json!({ "app_id": "aaaaaaaaaaaaaaaaaaaaaaaa", "entry_id": "bbbbbbbbbbbbbbbbbbbbbbbb", "data": { "_widget_1": { "value": "x".repeat(2000) } } });
    let r = post_raw(&emu, "/api/v5/app/entry/data/create", Some("k"), body.to_string()).await;
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(r.body["code"].is_number(), "the platform's own envelope: {}", r.body);
    assert_eq!(get(&emu, "/__emu/health").await.status, 200);
}
