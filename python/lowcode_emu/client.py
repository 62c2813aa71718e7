"""A client for the emulator's admin API (`/__emu/`), standard library only.

One `Client` talks to one namespace: every call carries `x-emu-namespace`, so journal queries, faults,
the clock, state and reset see that namespace alone. `Client.namespace(name)` gives a client for
another one on the same server.
"""
from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Iterator, Mapping, Optional

NAMESPACE_HEADER = "x-emu-namespace"
ADMIN_TOKEN_HEADER = "x-emu-admin-token"


class EmulatorError(Exception):
    """An admin call answered an error status; `status` and `body` are what the emulator sent."""

    def __init__(self, method: str, path: str, status: int, body: Any):
        self.status = status
        self.body = body
        reason = body.get("error") if isinstance(body, dict) else body
        super().__init__(f"{method} {path} -> HTTP {status}: {reason}")


class Client:
    """The admin API of one emulator, scoped to one namespace ("" is the default namespace).

    `base_url` is the server (`http://127.0.0.1:PORT`); `platform_url` is where platform clients
    should point to land in this namespace without sending a header (`<base>/__ns/<name>`);
    `headers` is the header form for clients that can add one.
    """

    def __init__(self, base_url: str, namespace: str = "", admin_token: Optional[str] = None, timeout: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.namespace_name = namespace
        self.admin_token = admin_token
        self.timeout = timeout
        self.clock = Clock(self)

    # -- where platform clients point -------------------------------------------------------------

    @property
    def platform_url(self) -> str:
        """The base URL a platform client uses to reach this namespace (no header needed)."""
        if not self.namespace_name:
            return self.base_url
        return f"{self.base_url}/__ns/{urllib.parse.quote(self.namespace_name, safe='')}"

    @property
    def endpoint(self) -> str:
        """`host:port[/__ns/<name>]`: the `endpoint` of SDKs that take a host instead of a URL
        (DingTalk's `Config(protocol='http', endpoint=...)`)."""
        return self.platform_url.split("://", 1)[1]

    @property
    def headers(self) -> dict:
        """The namespace header, for clients that send their own headers."""
        return {NAMESPACE_HEADER: self.namespace_name} if self.namespace_name else {}

    def namespace(self, name: str) -> "Client":
        """A client of the same server scoped to namespace `name`."""
        return Client(self.base_url, name, self.admin_token, self.timeout)

    # -- transport --------------------------------------------------------------------------------

    def call(self, method: str, path: str, body: Any = None, query: Optional[Mapping[str, Any]] = None,
             content_type: str = "application/json") -> Any:
        """One admin call: JSON in, JSON out (text when the answer is not JSON); raises
        `EmulatorError` on a status of 400 or more."""
        url = self.base_url + path
        if query:
            pairs = {k: v for k, v in query.items() if v is not None}
            if pairs:
                url += "?" + urllib.parse.urlencode(pairs)
        data = None
        headers = dict(self.headers)
        if self.admin_token:
            headers[ADMIN_TOKEN_HEADER] = self.admin_token
        if body is not None:
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            headers["content-type"] = content_type
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return _decode(resp.read())
        except urllib.error.HTTPError as e:
            raise EmulatorError(method, path, e.code, _decode(e.read())) from None

    # -- the admin API ----------------------------------------------------------------------------

    def health(self) -> dict:
        return self.call("GET", "/__emu/health")

    def reset(self) -> None:
        """Back to the scenario's start: data, ids, clock, faults and journal of this namespace."""
        self.call("POST", "/__emu/reset")

    def state(self) -> dict:
        """This namespace's whole state (`GET /__emu/state`)."""
        return self.call("GET", "/__emu/state")

    def put_state(self, state: Mapping[str, Any]) -> None:
        self.call("PUT", "/__emu/state", dict(state))

    def load_scenario(self, scenario: str) -> None:
        """Replace the server's scenario (TOML text, or JSON text) and reset every namespace."""
        kind = "application/json" if scenario.lstrip().startswith("{") else "application/toml"
        self.call("PUT", "/__emu/scenario", scenario, content_type=kind)

    def routes(self) -> list:
        return self.call("GET", "/__emu/routes")

    def requests(self, route: Optional[str] = None, platform: Optional[str] = None, status: Optional[int] = None,
                 since: Optional[Any] = None, limit: Optional[int] = None, namespace: Optional[str] = None) -> list:
        """Journal entries, oldest first, filtered like `GET /__emu/requests`: this client's namespace's
        (a client of the default namespace sees every namespace's unless `namespace=""` narrows it)."""
        return self.call("GET", "/__emu/requests", query={
            "route": route, "platform": platform, "status": status, "since": since, "limit": limit, "namespace": namespace})

    def count(self, route: Optional[str] = None, platform: Optional[str] = None, status: Optional[int] = None,
              namespace: Optional[str] = None) -> int:
        return self.call("GET", "/__emu/requests/count", query={
            "route": route, "platform": platform, "status": status, "namespace": namespace})["count"]

    def clear_requests(self) -> int:
        return self.call("DELETE", "/__emu/requests")["deleted"]

    def assert_called(self, route: str, times: Optional[int] = None, status: Optional[int] = None) -> list:
        """Asserts that `route` (a route id such as `jiandaoyun.data.create`) was called — exactly
        `times` times when given — and answers the matching journal entries. The failure message lists
        what this namespace did call."""
        entries = self.requests(route=route, status=status)
        ok = len(entries) == times if times is not None else len(entries) > 0
        if not ok:
            seen = [f"{e['method']} {e['path']} ({e['route']}) -> {e['status']}" for e in self.requests()]
            wanted = f"{times} time(s)" if times is not None else "at least once"
            extra = f" with status {status}" if status is not None else ""
            raise AssertionError(
                f"expected {route}{extra} {wanted}, found {len(entries)}; calls in namespace "
                f"{self.namespace_name!r}: " + ("; ".join(seen) or "none"))
        return entries

    def faults(self) -> list:
        return self.call("GET", "/__emu/faults")

    def add_fault(self, **rule: Any) -> str:
        """Adds a fault rule (the keys of a scenario `[[faults]]` table) and answers its id."""
        return self.call("POST", "/__emu/faults", rule)["id"]

    def remove_fault(self, fault_id: str) -> None:
        self.call("DELETE", f"/__emu/faults/{urllib.parse.quote(fault_id, safe='')}")

    def clear_faults(self) -> int:
        return self.call("DELETE", "/__emu/faults")["deleted"]

    @contextlib.contextmanager
    def fault(self, **rule: Any) -> Iterator[str]:
        """A fault rule for the `with` block only: `with emu.fault(route="jiandaoyun.data.create",
        error="rate_limited"): ...`. Yields the rule's id."""
        fault_id = self.add_fault(**rule)
        try:
            yield fault_id
        finally:
            with contextlib.suppress(EmulatorError):
                self.remove_fault(fault_id)

    def act(self, platform: str, as_user: str, action: str, **fields: Any) -> Any:
        """Acts as a person in the platform's UI (`POST /__emu/act`), with the UI's side effects."""
        return self.call("POST", "/__emu/act", {"platform": platform, "as": as_user, "action": action, **fields})

    def deliveries(self, platform: Optional[str] = None) -> list:
        return self.call("GET", "/__emu/deliveries", query={"platform": platform})

    def wait_deliveries(self, timeout_ms: int = 5000) -> dict:
        """Waits until no outbound delivery is due or in flight."""
        return self.call("POST", "/__emu/deliveries/wait", query={"timeout_ms": timeout_ms})

    def drop(self) -> None:
        """Drops this namespace (and its journal entries); the default namespace is reset instead."""
        if self.namespace_name:
            with contextlib.suppress(EmulatorError):
                self.call("DELETE", f"/__emu/namespaces/{urllib.parse.quote(self.namespace_name, safe='')}")
        else:
            self.reset()


class Clock:
    """The namespace's clock (`/__emu/clock`). Times are RFC 3339 strings; durations like `90s`, `2h`."""

    def __init__(self, client: Client):
        self._client = client

    def now(self) -> str:
        return self._client.call("GET", "/__emu/clock")["now"]

    def get(self) -> dict:
        return self._client.call("GET", "/__emu/clock")

    def freeze(self, at: Optional[str] = None) -> dict:
        return self._client.call("POST", "/__emu/clock", {"freeze": at if at is not None else True})

    def set(self, at: str) -> dict:
        return self._client.call("POST", "/__emu/clock", {"set": at})

    def advance(self, by: str) -> dict:
        return self._client.call("POST", "/__emu/clock", {"advance": by})

    def real(self) -> dict:
        return self._client.call("POST", "/__emu/clock", {"real": True})


def _decode(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")
