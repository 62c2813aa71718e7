#!/usr/bin/env bash
# The hardening limits under load, on loopback, bounded in time: token churn and namespace churn
# (memory must stay flat), Astro Zero create cost as the object grows (must not grow with it), and slow
# clients (a thousand bodies trickling one byte at a time are all cut at [server] body_timeout_ms).
#   bash bench/limits.sh          # TOKENS=100000 NAMESPACES=20000 SLOW=1000
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-18480}
cargo build --release --quiet --bin lowcode-emu
cat > /tmp/lowcode-emu-limits.toml <<'TOML'
[server]
body_timeout_ms = 3000
TOML
sed -n '/^\[emulator\]/,$p' scenarios/demo.toml >> /tmp/lowcode-emu-limits.toml
./target/release/lowcode-emu serve --scenario /tmp/lowcode-emu-limits.toml --port "$PORT" --max-namespaces 100000 >/dev/null 2>&1 &
EMU=$!
trap 'kill $EMU 2>/dev/null || true' EXIT
for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$PORT/__emu/health" >/dev/null && break; sleep 0.1; done
PORT=$PORT EMU=$EMU TOKENS=${TOKENS:-100000} NAMESPACES=${NAMESPACES:-20000} SLOW=${SLOW:-1000} python3 - <<'PY'
import http.client, json, os, socket, time, threading

port, pid = int(os.environ["PORT"]), int(os.environ["EMU"])
def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) // 1024
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
def call(method, path, body=None, headers=None):
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    return r.status, r.read()

# Token churn: mint TOKENS Astro Zero tokens, moving the clock 10 minutes (the TTL) every 10 000.
form = {"content-type": "application/x-www-form-urlencoded"}
body = "grant_type=client_credentials&client_id=demo-client&client_secret=demo-secret"
n = int(os.environ["TOKENS"]); start = time.time(); samples = []
for i in range(n):
    call("POST", "/baas/auth/v1.0/oauth2/token", body, form)
    if i % 10000 == 9999:
        call("POST", "/__emu/clock", json.dumps({"advance": "11m"}))
        samples.append(rss())
held = len(json.loads(call("GET", "/__emu/state")[1])["astrozero"]["tokens"])
print(f"token churn: {n} tokens in {time.time()-start:.1f}s, RSS every 10k: {samples} MiB, tokens held at the end: {held}")

# Namespace churn: create a namespace (an admin call builds its world), then drop it.
n = int(os.environ["NAMESPACES"]); start = time.time(); samples = []
for i in range(n):
    call("GET", "/__emu/clock", headers={"x-emu-namespace": f"ns-{i}"})
    call("DELETE", f"/__emu/namespaces/ns-{i}")
    if i % 2000 == 1999:
        samples.append(rss())
print(f"namespace churn: {n} namespaces in {time.time()-start:.1f}s, RSS every 2k: {samples} MiB")

# Astro Zero create (one record with a unique field) as the object grows to 100k records.
tok = json.loads(call("POST", "/baas/auth/v1.0/oauth2/token", body, form)[1])["access_token"]
hdr = {"access-token": tok, "content-type": "application/json"}
obj = "/u-route/baas/data/v1.0/bobject/demo__Supplier__CST"
made = 0
def fill(to):
    global made
    while made < to:
        k = min(100, to - made)
        recs = [{"name": f"s{made+j}", "demo__code__CST": f"B-{made+j}"} for j in range(k)]
        s, b = call("POST", obj, json.dumps({"records": recs}), hdr)
        assert s == 200, b
        made += k
for size in (1000, 10000, 100000):
    fill(size)
    t = time.time()
    for j in range(500):
        s, b = call("POST", obj, json.dumps({"records": [{"name": "x", "demo__code__CST": f"T-{size}-{j}"}]}), hdr)
        assert s == 200, b
    made += 500
    print(f"astrozero create at {size:>6} records: {(time.time()-t)/500*1000:.3f} ms per create (one client, keep-alive)")

# Slow clients: SLOW bodies trickling one byte every 500 ms; all must be cut at body_timeout_ms (3 s).
n = int(os.environ["SLOW"]); socks = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"POST /api/v5/app/entry/data/create HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer jdy-demo-key\r\nContent-Length: 100000\r\n\r\n")
    s.setblocking(False)
    socks.append(s)
start = time.time(); open_ = set(range(n))
while open_ and time.time() - start < 15:
    for i in list(open_):
        try:
            socks[i].sendall(b" ")
            if socks[i].recv(64) == b"":
                open_.discard(i)
            else:
                open_.discard(i)
        except BlockingIOError:
            pass
        except OSError:
            open_.discard(i)
    time.sleep(0.5)
print(f"slow clients: {n} trickling bodies, {n-len(open_)} cut within {time.time()-start:.1f}s (deadline 3 s), {len(open_)} still open; RSS {rss()} MiB")
s, _ = call("GET", "/__emu/health")
print(f"health afterwards: {s}")
PY
