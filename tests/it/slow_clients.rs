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

/// Writes one request on a kept-alive connection and reads its whole answer (status line returned).
async fn ask(s: &mut TcpStream, request: &str) -> String {
    s.write_all(request.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    // Until the head and the body its content-length announces have arrived (or 5 s pass).
    let complete = |a: &[u8]| {
        let text = String::from_utf8_lossy(a);
        let Some((head, body)) = text.split_once("\r\n\r\n") else { return false };
        let length = head.lines().find_map(|l| l.strip_prefix("content-length: ")).and_then(|v| v.trim().parse::<usize>().ok());
        length.is_some_and(|n| body.len() >= n)
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while !complete(&answer) && Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_millis(100), s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => answer.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
    }
    String::from_utf8_lossy(&answer).lines().next().unwrap_or_default().to_owned()
}

/// A kept-alive connection is closed once no request has started on it for the read timeout, while
/// one in use stays open; an answer slower than the read timeout (a delay fault) is not cut off, and
/// its connection serves the next request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_close_after_the_read_timeout_but_slow_answers_do_not() {
    let emu = start_with(&format!("{SERVER}{MINIMAL_JDY}")).await;
    let health = "GET /__emu/health HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut s = TcpStream::connect(emu.addr()).await.expect("connect");
    // Requests 150 ms apart for longer than the read timeout: the connection stays open.
    for _ in 0..5 {
        assert_eq!(ask(&mut s, health).await, "HTTP/1.1 200 OK");
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    assert_eq!(ask(&mut s, health).await, "HTTP/1.1 200 OK");
    // Then left idle: closed after the read timeout (400 ms), not before.
    let (rest, idle) = drain(s).await;
    assert!(rest.is_empty(), "{rest}");
    assert!(idle >= Duration::from_millis(350) && idle < Duration::from_secs(2), "closed after {idle:?} idle");

    // A call held 1 s by a delay fault (more than twice the read timeout) is answered in full.
    let fault = json!({ "route": "jiandaoyun.data.list", "delay_ms": 1000 }).to_string();
    let added = client().post(format!("{}/__emu/faults", emu.base_url())).body(fault).send().await.expect("sent");
    assert_eq!(added.status().as_u16(), 201);
    let body = json!({ "app_id": "aaaaaaaaaaaaaaaaaaaaaaaa", "entry_id": "bbbbbbbbbbbbbbbbbbbbbbbb" }).to_string();
    let list = format!(
        "POST /api/v5/app/entry/data/list HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut s = TcpStream::connect(emu.addr()).await.expect("connect");
    let t = Instant::now();
    assert_eq!(ask(&mut s, &list).await, "HTTP/1.1 200 OK");
    assert!(t.elapsed() >= Duration::from_millis(1000), "the delay was served: {:?}", t.elapsed());
    assert_eq!(ask(&mut s, health).await, "HTTP/1.1 200 OK", "the connection is still open");
}

/// A client that trickles its body steadily (never silent long enough for the read timeout) is still cut
/// off at `[server] body_timeout_ms`, and so are many at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickled_bodies_meet_the_body_deadline() {
    let emu = start_with(&format!("[server]\nread_timeout_ms = 10000\nbody_timeout_ms = 800\n{MINIMAL_JDY}")).await;
    let addr = emu.addr();
    let mut clients = Vec::new();
    for _ in 0..20 {
        let mut s = TcpStream::connect(addr).await.expect("connect");
        s.write_all(b"POST /api/v5/app/entry/data/create HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\nContent-Length: 1000\r\n\r\n")
            .await
            .expect("write");
        clients.push(s);
    }
    let started = Instant::now();
    let trickles = clients.into_iter().map(|mut s| {
        tokio::spawn(async move {
            // One byte every 100 ms, for at most 5 s, until the server answers or closes.
            let mut buf = [0u8; 256];
            let mut answer = Vec::new();
            for _ in 0..50 {
                if s.write_all(b" ").await.is_err() {
                    break;
                }
                match tokio::time::timeout(Duration::from_millis(100), s.read(&mut buf)).await {
                    Ok(Ok(0)) | Ok(Err(_)) => break,
                    Ok(Ok(n)) => {
                        answer.extend_from_slice(&buf[..n]);
                        break;
                    }
                    Err(_) => {}
                }
            }
            (String::from_utf8_lossy(&answer).into_owned(), Instant::now())
        })
    });
    for t in trickles {
        let (answer, ended) = t.await.expect("task");
        let held = ended - started;
        assert!(held < Duration::from_secs(3), "a trickling body was held {held:?}");
        assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 408"), "{answer}");
    }
    assert_eq!(get(&emu, "/__emu/health").await.status, 200);
}

/// A body one byte over the cap, sent whole by a client that reads only afterwards (as Python's
/// http.client does), gets the 413 instead of a broken pipe.
#[test]
fn one_byte_over_the_cap_gets_the_answer_not_a_broken_pipe() {
    use std::io::{Read, Write};
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let emu = rt.block_on(start_with(MINIMAL_JDY)); // the default cap, 16 MiB
    let mut s = std::net::TcpStream::connect(emu.addr()).expect("connect");
    let body = vec![b' '; 16 * 1024 * 1024 + 1];
    let head = format!(
        "POST /api/v5/app/entry/data/create HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).expect("head");
    s.write_all(&body).expect("the whole body is accepted, no broken pipe");
    s.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    let mut answer = [0u8; 12];
    s.read_exact(&mut answer).expect("an answer");
    assert_eq!(&answer, b"HTTP/1.1 413");
    drop(emu);
}
