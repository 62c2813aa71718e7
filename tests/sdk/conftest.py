"""Python black-box suites: the official DingTalk SDK against the emulator, and the scenario JSON Schema
checked by an independent validator. The session fixture starts the binary with the embedded demo.

The binary is target/debug/lowcode-emu (what `cargo test` builds), or LOWCODE_EMU_BIN.
"""
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def binary() -> str:
    return os.environ.get("LOWCODE_EMU_BIN", str(ROOT / "target" / "debug" / "lowcode-emu"))


@pytest.fixture(scope="session")
def emulator():
    proc = subprocess.Popen(
        [binary(), "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        # The banner's first line ends with the base URL, printed once the listener is bound.
        first = proc.stdout.readline()
        base = first.split()[-1]
        assert base.startswith("http://127.0.0.1:"), first
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
