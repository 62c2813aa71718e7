//! The binary as a harness starts it: `serve --port 0` with a ready file and a JSON line, a taken
//! port failing at once.

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lowcode-emu"))
}

#[test]
fn a_harness_learns_the_port_from_the_ready_file_and_the_json_line() {
    let dir = std::env::temp_dir().join(format!("lowcode-emu-ready-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let ready = dir.join("ready.json");
    let mut child = bin()
        .args(["serve", "--port", "0", "--ready-json", "--ready-file"])
        .arg(&ready)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawns");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("one line");
    let info: Value = serde_json::from_str(&line).expect("the only stdout line is JSON");
    let base = info["base_url"].as_str().expect("base_url").to_owned();
    assert!(base.starts_with("http://127.0.0.1:") && !base.ends_with(":0"), "{base}");
    assert_eq!(info["admin_url"], format!("{base}/__emu"));
    assert_eq!(info["dashboard_url"], format!("{base}/__emu/ui"));
    assert_eq!(info["pid"], child.id());
    assert_eq!(info["scenario"], "demo");
    assert_eq!(info["platforms"]["jiandaoyun"], base.as_str(), "every platform on the one port by default");
    assert_eq!(info["port"].as_u64(), base.rsplit(':').next().and_then(|p| p.parse().ok()));
    // The file says the same, and the server is accepting connections when it exists.
    let from_file: Value = serde_json::from_str(&std::fs::read_to_string(&ready).expect("ready file")).expect("JSON");
    assert_eq!(from_file, info);
    let addr = base.trim_start_matches("http://").to_owned();
    assert!(std::net::TcpStream::connect(&addr).is_ok());
    // A graceful stop removes it, so a stale file never points at a dead server.
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill").success());
    assert!(child.wait().expect("exits").success());
    assert!(!ready.exists(), "removed on shutdown");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_taken_port_fails_at_once_with_a_clear_message() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port().to_string();
    let started = Instant::now();
    let out = bin().args(["serve", "--port", &port, "--ready-json"]).output().expect("runs");
    assert!(!out.status.success());
    assert!(started.elapsed() < Duration::from_secs(10));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("cannot start on 127.0.0.1:{port}")), "{err}");
    assert!(out.stdout.is_empty(), "no ready line for a server that never started");
}
