"""The container contract, without a container runtime: the fully static release binary (what the
Dockerfile copies onto a libc-less base) run the way the image runs it — only the image's ENV plus what a
user passes (`-e`, `-v`), as the image's non-root user — with its HEALTHCHECK, entrypoint and signals.

LOWCODE_EMU_STATIC_BIN names the static binary (.ci/run builds it); without it these tests are skipped
unless REQUIRE_STATIC=1.
"""
import json
import os
import pathlib
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
STATIC = os.environ.get("LOWCODE_EMU_STATIC_BIN")
NONROOT_UID = 65532  # distroless's `nonroot`

pytestmark = pytest.mark.skipif(
    not STATIC and os.environ.get("REQUIRE_STATIC") != "1", reason="LOWCODE_EMU_STATIC_BIN not set")


def dockerfile() -> dict:
    """The runtime stage's ENV, USER, HEALTHCHECK, ENTRYPOINT, CMD and base image."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    stage = text.split("\nFROM ")[-1]
    out = {"from": stage.split()[0], "env": {}}
    for line in stage.splitlines():
        word, _, rest = line.strip().partition(" ")
        if word == "ENV":
            for pair in shlex.split(rest):
                key, _, value = pair.partition("=")
                out["env"][key] = value
        elif word in ("USER", "EXPOSE"):
            out[word.lower()] = rest.strip()
        elif word in ("ENTRYPOINT", "CMD"):
            out[word.lower()] = json.loads(rest)
        elif word == "HEALTHCHECK":
            out["healthcheck"] = json.loads(rest[rest.index("CMD") + 3:])
    return out


def is_static(path: str) -> bool:
    """No program interpreter (PT_INTERP) in the ELF program headers: the kernel runs it without ld.so."""
    with open(path, "rb") as f:
        head = f.read(64)
        assert head[:4] == b"\x7fELF" and head[4] == 2, "a 64-bit ELF"
        phoff, = struct.unpack_from("<Q", head, 32)
        phentsize, phnum = struct.unpack_from("<HH", head, 54)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    types = [struct.unpack_from("<I", table, i * phentsize)[0] for i in range(phnum)]
    return 3 not in types  # PT_INTERP


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_nonroot():
    if os.geteuid() == 0:
        os.setgid(NONROOT_UID)
        os.setuid(NONROOT_UID)


@pytest.fixture
def image_root():
    """A folder the non-root user can reach (pytest's own tmp folders are root's alone)."""
    root = pathlib.Path(tempfile.mkdtemp(prefix="lowcode-emu-image-"))
    root.chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def image_binary(image_root):
    """The static binary where the non-root user can run it, as the image has it."""
    target = image_root / "usr-local-bin" / "lowcode-emu"
    target.parent.mkdir(mode=0o755)
    shutil.copy(STATIC, target)
    target.chmod(0o755)
    return str(target)


def test_the_image_is_built_on_a_static_base_and_runs_as_nonroot():
    image = dockerfile()
    assert image["from"].startswith("gcr.io/distroless/static"), image["from"]
    assert image["user"] == "nonroot"
    assert image["expose"] == image["env"]["LOWCODE_EMU_PORT"] == "8080"
    assert image["entrypoint"] == ["/usr/local/bin/lowcode-emu"] and image["cmd"] == ["serve"]
    assert image["healthcheck"] == ["/usr/local/bin/lowcode-emu", "health"]
    assert is_static(STATIC), f"{STATIC} needs a dynamic loader"


def test_the_binary_runs_as_the_image_runs_it(image_binary, image_root, tmp_path):
    image = dockerfile()
    port = free_port()
    scenario_dir = image_root / "scenarios"  # `-v $PWD/scenarios:/scenarios:ro`
    scenario_dir.mkdir(mode=0o755)
    shutil.copy(ROOT / "tests" / "pytest_plugin" / "small.toml", scenario_dir / "small.toml")
    (scenario_dir / "small.toml").chmod(0o644)
    env = {**image["env"], "LOWCODE_EMU_PORT": str(port), "LOWCODE_EMU_SCENARIO": str(scenario_dir / "small.toml"),
           "LOWCODE_EMU_ADMIN_TOKEN": "change-me"}
    entry = [image_binary if a == image["entrypoint"][0] else a for a in image["entrypoint"] + image["cmd"]]
    health = [image_binary if a == image["healthcheck"][0] else a for a in image["healthcheck"]]
    log = tmp_path / "log"
    with open(log, "wb") as err:
        proc = subprocess.Popen(entry, env=env, stdout=subprocess.DEVNULL, stderr=err, preexec_fn=as_nonroot, cwd="/")
    try:
        deadline = time.monotonic() + 10
        while subprocess.run(health, env=env, preexec_fn=as_nonroot).returncode != 0:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "healthy within 10 s"
            time.sleep(0.05)
        if os.geteuid() == 0:
            uids = next(l for l in pathlib.Path(f"/proc/{proc.pid}/status").read_text().splitlines() if l.startswith("Uid:"))
            assert uids.split()[1:] == [str(NONROOT_UID)] * 4, uids
        base = f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(f"{base}/__emu/health", timeout=5) as r:
            assert json.load(r)["scenario"] == "plugin-small", "the mounted scenario is served"
        # Beyond loopback the admin API wants the token the recipes set.
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{base}/__emu/state", timeout=5)
        assert refused.value.code == 401
        req = urllib.request.Request(f"{base}/__emu/state", headers={"x-emu-admin-token": "change-me"})
        with urllib.request.urlopen(req, timeout=5) as r:
            assert "jiandaoyun" in json.load(r)
        # Logs are JSON lines, as LOWCODE_EMU_LOG_FORMAT=json asks.
        first = log.read_text().splitlines()[0]
        assert json.loads(first)["level"], first
        # `docker stop` sends SIGTERM: a clean exit, after which the health check fails.
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert subprocess.run(health, env=env, preexec_fn=as_nonroot).returncode == 1
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
