"""Jiandaoyun data push checked by a receiver written from the Webhook development guide alone
(hc.jiandaoyun.com/open/11507): Python's http.server receives, hashlib checks the signature exactly
as the guide's Python example computes it."""
import hashlib
import http.server
import json
import urllib.parse
import urllib.request

from conftest import launch, receiver

SECRET = "guide-secret"
FORM = "bbbbbbbbbbbbbbbbbbbbbbbb"


def get_signature(nonce, payload, secret, timestamp):
    # The guide's example, verbatim in substance.
    content = ":".join([nonce, payload, secret, timestamp]).encode("utf-8")
    m = hashlib.sha1()
    m.update(content)
    return m.hexdigest()


class Receiver(http.server.BaseHTTPRequestHandler):
    got = []

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        payload = self.rfile.read(length).decode("utf-8")
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
        # Header names are case-insensitive: keep the message object, which looks them up so.
        Receiver.got.append((query, self.headers, payload))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"success")

    def log_message(self, *args):
        pass


def call(base, path, body):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), headers={"content-type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def test_a_signed_push_verifies_with_the_guides_recipe(tmp_path):
    with receiver(Receiver) as hook_base:
        url = f"{hook_base}/jdy/hook"
        scenario = tmp_path / "push.toml"
        scenario.write_text(
            f"""
[[users]]
id = "zhang"
name = "张三"
[jiandaoyun]
api_keys = ["k"]
[[jiandaoyun.apps]]
app_id = "aaaaaaaaaaaaaaaaaaaaaaaa"
name = "A"
[[jiandaoyun.apps.entries]]
entry_id = "{FORM}"
name = "客户"
widgets = [{{ name = "_widget_1", label = "名称", type = "text" }}]
push = {{ url = "{url}", secret = "{SECRET}" }}
""",
            encoding="utf-8",
        )
        with launch("--scenario", str(scenario)) as base:
            created = call(base, "/__emu/act", {"platform": "jiandaoyun", "as": "zhang", "action": "create", "entry_id": FORM, "data": {"_widget_1": {"value": "华东五金"}}})
            record_id = created["data"]["_id"]
            call(base, "/__emu/act", {"platform": "jiandaoyun", "as": "zhang", "action": "delete", "entry_id": FORM, "data_id": record_id})
            idle = call(base, "/__emu/deliveries/wait?timeout_ms=5000", {})
            assert idle["idle"] is True

    assert len(Receiver.got) == 2
    for query, headers, payload in Receiver.got:
        assert headers["X-JDY-Signature"] == get_signature(query["nonce"], payload, SECRET, query["timestamp"])
        assert headers["X-JDY-DeliverId"]
        assert headers["Content-Type"] == "application/json"
    (_, _, created_push), (_, _, removed_push) = Receiver.got
    created_body, removed_body = json.loads(created_push), json.loads(removed_push)
    assert created_body["op"] == "data_create"
    assert created_body["data"]["_id"] == record_id and created_body["data"]["_widget_1"] == "华东五金"
    assert created_body["data"]["formName"] == "客户"
    assert removed_body["op"] == "data_remove"
    assert removed_body["data"]["deleter"]["username"] == "zhang" and removed_body["data"]["deleteTime"]
    # A different secret does not verify.
    query, headers, payload = Receiver.got[0]
    assert headers["X-JDY-Signature"] != get_signature(query["nonce"], payload, "wrong", query["timestamp"])
