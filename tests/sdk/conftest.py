"""Python black-box suites: the official DingTalk SDK against the emulator, the scenario JSON Schema
checked by an independent validator, and outbound pushes checked by independent receivers. The
session fixture starts the binary with the embedded demo; `launch` starts one with other arguments.

The binary is target/debug/lowcode-emu (what `cargo test` builds), or LOWCODE_EMU_BIN.
"""
import contextlib
import http.server
import json
import os
import pathlib
import subprocess
import threading

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def binary() -> str:
    return os.environ.get("LOWCODE_EMU_BIN", str(ROOT / "target" / "debug" / "lowcode-emu"))


@contextlib.contextmanager
def launch(*args):
    """Runs `lowcode-emu serve --port 0 --ready-json <args>`; yields its base URL once it listens."""
    proc = subprocess.Popen(
        [binary(), "serve", "--port", "0", "--ready-json", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        # The one stdout line: what a harness needs, printed once connections are accepted.
        first = proc.stdout.readline()
        base = json.loads(first)["base_url"]
        assert base.startswith("http://127.0.0.1:"), first
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextlib.contextmanager
def receiver(handler):
    """A loopback HTTP server answering with `handler` (a BaseHTTPRequestHandler) in a thread of its
    own; yields its base URL and stops it afterwards."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


@pytest.fixture(scope="session")
def emulator():
    with launch() as base:
        yield base
