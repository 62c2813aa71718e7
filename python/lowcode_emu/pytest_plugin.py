"""pytest plugin (entry point `pytest11`), active once `lowcode-emu` is installed.

Fixtures:
- `lowcode_emu_scenario` (session): the scenario file the server serves; from `--lowcode-emu-scenario`,
  else the ini option `lowcode_emu_scenario` (relative to the ini file), else None = the embedded demo.
  Override it in a conftest.py to choose in code.
- `lowcode_emu_server` (session): the started `Emulator` for that scenario, stopped at the end of the
  session. Under pytest-xdist every worker starts its own (a start takes milliseconds).
- `emu` (function): a `Client` for a namespace of this test's own — a fresh world built from the
  scenario, dropped when the test ends, so tests never see each other's data, faults, clock or journal.
  Point platform clients at `emu.platform_url` (a base URL) or `emu.endpoint` (host:port for the
  DingTalk SDKs), or send `emu.headers`.

Marker: `@pytest.mark.lowcode_emu(scenario="path.toml")` gives the test a server of that scenario
(started once per session and scenario) instead of the default one.
"""
from __future__ import annotations

import itertools
import os
import pathlib
import re
from typing import Dict, Optional

import pytest

from .client import Client
from .process import Emulator

_counter = itertools.count(1)


def pytest_addoption(parser):
    group = parser.getgroup("lowcode-emu")
    group.addoption("--lowcode-emu-scenario", default=None,
                    help="scenario file the lowcode_emu_server fixture serves (default: the embedded demo)")
    group.addoption("--lowcode-emu-bin", default=None,
                    help="the lowcode-emu binary to start (default: $LOWCODE_EMU_BIN, the installed one, PATH)")
    parser.addini("lowcode_emu_scenario", "scenario file for the lowcode_emu_server fixture, relative to the ini file")
    parser.addini("lowcode_emu_args", "further `lowcode-emu serve` options", type="args", default=[])


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "lowcode_emu(scenario): run this test against an emulator serving this scenario file")


class _Servers:
    """The emulators of one pytest process (one xdist worker), one per scenario, started on first use."""

    def __init__(self, config):
        self.config = config
        self.running: Dict[Optional[str], Emulator] = {}

    def get(self, scenario: Optional[str]) -> Emulator:
        key = os.path.abspath(scenario) if scenario else None
        if key not in self.running:
            binary = self.config.getoption("--lowcode-emu-bin")
            args = self.config.getini("lowcode_emu_args")
            self.running[key] = Emulator(key, args=args, binary=binary).start()
        return self.running[key]

    def stop(self):
        for emulator in self.running.values():
            emulator.stop()
        self.running.clear()


@pytest.fixture(scope="session")
def _lowcode_emu_servers(pytestconfig):
    servers = _Servers(pytestconfig)
    yield servers
    servers.stop()


@pytest.fixture(scope="session")
def lowcode_emu_scenario(pytestconfig) -> Optional[str]:
    """The default server's scenario file, or None for the embedded demo."""
    given = pytestconfig.getoption("--lowcode-emu-scenario")
    if given:
        return os.path.abspath(given)
    ini = pytestconfig.getini("lowcode_emu_scenario")
    if ini:
        base = pathlib.Path(pytestconfig.inipath).parent if pytestconfig.inipath else pathlib.Path.cwd()
        return str((base / ini).resolve())
    return None


@pytest.fixture(scope="session")
def lowcode_emu_server(_lowcode_emu_servers, lowcode_emu_scenario) -> Emulator:
    """The emulator of this session (of this xdist worker)."""
    return _lowcode_emu_servers.get(lowcode_emu_scenario)


@pytest.fixture
def emu(request, _lowcode_emu_servers, lowcode_emu_scenario) -> Client:
    """An admin client for a namespace of this test's own, dropped afterwards."""
    marker = request.node.get_closest_marker("lowcode_emu")
    scenario = lowcode_emu_scenario
    if marker is not None:
        scenario = marker.kwargs.get("scenario", marker.args[0] if marker.args else scenario)
        if scenario and not os.path.isabs(scenario):
            scenario = str(pathlib.Path(request.node.fspath).parent / scenario)
    server = _lowcode_emu_servers.get(scenario)
    client = server.client(_namespace_for(request.node.name))
    yield client
    client.drop()


def _namespace_for(test_name: str) -> str:
    """`<worker>-<n>-<test name>`: unique within the run, readable in the journal and dashboard."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", test_name).strip("-")[:60]
    return f"{worker}-{next(_counter)}-{slug}"
