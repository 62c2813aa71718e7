"""Starting and stopping the `lowcode-emu` binary.

The binary is found through `LOWCODE_EMU_BIN`, then the script this wheel installed next to the
running Python, then `PATH`. It is started with `serve --port 0 --ready-json`: once it accepts
connections it prints one JSON line (base URL, admin URL, pid, …), which is how the port is learnt.
Its log goes to a temporary file whose tail is shown when the start fails.
"""
from __future__ import annotations

import json
import os
import pathlib
import selectors
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from typing import Iterable, Optional, Union

from .client import Client

BINARY_ENV = "LOWCODE_EMU_BIN"
BINARY_NAME = "lowcode-emu.exe" if os.name == "nt" else "lowcode-emu"


def binary_path() -> str:
    """Where the `lowcode-emu` binary is: `$LOWCODE_EMU_BIN`, this environment's scripts folder (where
    `pip install lowcode-emu` puts it), or `PATH`."""
    explicit = os.environ.get(BINARY_ENV)
    if explicit:
        if not os.access(explicit, os.X_OK):
            raise FileNotFoundError(f"{BINARY_ENV}={explicit} is not an executable file")
        return explicit
    scripts = pathlib.Path(sysconfig.get_path("scripts")) / BINARY_NAME
    if os.access(scripts, os.X_OK):
        return str(scripts)
    beside = pathlib.Path(sys.executable).parent / BINARY_NAME
    if os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which(BINARY_NAME)
    if found:
        return found
    raise FileNotFoundError(
        f"the {BINARY_NAME} binary was not found: `pip install lowcode-emu` installs it, "
        f"or set {BINARY_ENV} to its path")


class StartError(RuntimeError):
    """The binary exited or said nothing in time; the message carries the end of its log."""


class Emulator:
    """One running emulator process. Use as a context manager, or call `start()` and `stop()`.

    `scenario` is a scenario file (TOML or JSON); without one the embedded demo is served.
    `args` are further `serve` options (`["--admin-token", "t"]`).
    """

    def __init__(self, scenario: Union[str, os.PathLike, None] = None, args: Iterable[str] = (),
                 binary: Optional[str] = None, admin_token: Optional[str] = None, startup_timeout: float = 30.0):
        self.scenario = os.fspath(scenario) if scenario is not None else None
        self.args = list(args)
        self.binary = binary
        self.admin_token = admin_token
        self.startup_timeout = startup_timeout
        self.ready: dict = {}
        self.process: Optional[subprocess.Popen] = None
        self._log = None

    @property
    def base_url(self) -> str:
        return self.ready["base_url"]

    @property
    def port(self) -> int:
        return int(self.ready["port"])

    def client(self, namespace: str = "") -> Client:
        """An admin client for `namespace` ("" = the default one)."""
        return Client(self.base_url, namespace, self.admin_token)

    def log_text(self) -> str:
        """What the emulator has logged so far."""
        if self._log is None:
            return ""
        self._log.flush()
        return pathlib.Path(self._log.name).read_text("utf-8", "replace")

    def start(self) -> "Emulator":
        if self.process is not None:
            return self
        cmd = [self.binary or binary_path(), "serve", "--port", "0", "--ready-json", "--log-format", "json"]
        if self.scenario:
            cmd += ["--scenario", self.scenario]
        if self.admin_token:
            cmd += ["--admin-token", self.admin_token]
        cmd += self.args
        self._log = tempfile.NamedTemporaryFile(prefix="lowcode-emu-", suffix=".log", delete=False)
        env = dict(os.environ)
        env.pop("LOWCODE_EMU_PORT", None)
        self.process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._log, stdin=subprocess.DEVNULL, env=env)
        line = self._ready_line()
        try:
            self.ready = json.loads(line)
        except ValueError:
            self.stop()
            raise StartError(f"lowcode-emu printed {line!r} instead of its ready line") from None
        return self

    def _ready_line(self) -> str:
        assert self.process is not None and self.process.stdout is not None
        deadline = time.monotonic() + self.startup_timeout
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        buf = b""
        try:
            while b"\n" not in buf:
                left = deadline - time.monotonic()
                if left <= 0:
                    self._fail(f"no ready line within {self.startup_timeout:g} s")
                if selector.select(timeout=min(left, 0.5)):
                    chunk = os.read(self.process.stdout.fileno(), 65536)
                    if not chunk:
                        self.process.wait(timeout=5)
                        self._fail(f"exited with status {self.process.returncode}")
                    buf += chunk
                elif self.process.poll() is not None:
                    self._fail(f"exited with status {self.process.returncode}")
        finally:
            selector.close()
        return buf.split(b"\n", 1)[0].decode()

    def _fail(self, why: str) -> None:
        tail = "\n".join(self.log_text().splitlines()[-20:])
        self.stop()
        raise StartError(f"lowcode-emu did not start: {why}\n{tail}")

    def stop(self) -> None:
        """Stops the process (SIGTERM, then SIGKILL after 10 s)."""
        proc, self.process = self.process, None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
            if proc.stdout is not None:
                proc.stdout.close()
        if self._log is not None:
            self._log.close()
            try:
                os.unlink(self._log.name)
            except OSError:
                pass
            self._log = None

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def start(scenario: Union[str, os.PathLike, None] = None, **kwargs) -> Emulator:
    """Starts an emulator and answers it once it accepts connections."""
    return Emulator(scenario, **kwargs).start()
