"""DingTalk event callbacks for Yida processes, received by a callback server written from DingTalk's
"回调事件消息体加解密" page alone: hashlib checks msg_signature, the `cryptography` package's AES opens
`encrypt`, and the server answers the sealed `success` DingTalk requires — which the emulator must
accept for the delivery to count."""
import base64
import hashlib
import http.server
import json
import os
import struct
import time
import urllib.parse
import urllib.request

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from conftest import launch, receiver

TOKEN = "callback-token"
AES_KEY = "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij"
OWNER = "ding-app-key"
APP = "APP_EVENTS00000000000001"
FORM = "FORM-EVENTS000000000000000000000000000001"
PROCESS = "TPROC--EVENTS000000000000000000000000000001"


def key_bytes():
    return base64.b64decode(AES_KEY + "=")


def sign(*parts):
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def open_sealed(encrypted, owner=None):
    key = key_bytes()
    dec = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = dec.update(base64.b64decode(encrypted)) + dec.finalize()
    plain = plain[: -plain[-1]]
    (length,) = struct.unpack("!I", plain[16:20])
    assert plain[20 + length :].decode() == (owner or OWNER), "the sealed message ends with the owner key"
    return plain[20 : 20 + length].decode()


def seal(message):
    key = key_bytes()
    raw = os.urandom(16) + struct.pack("!I", len(message.encode())) + message.encode() + OWNER.encode()
    pad = 32 - len(raw) % 32
    raw += bytes([pad]) * pad
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(enc.update(raw) + enc.finalize()).decode()


def test_the_receiver_opens_the_example_dingtalk_publishes():
    """The local-debugging example on DingTalk's callback page (token 123456, the same EncodingAESKey,
    suite key suite4xxxxxxxxxxxxxxx): this receiver's own recipe opens and verifies it, so the checks
    below rest on a recipe proven against DingTalk's numbers, not against the emulator's."""
    encrypt = (
        "1a3NBxmCFwkCJvfoQ7WhJHB+iX3qHPsc9JbaDznE1i03peOk1LaOQoRz3+nlyGNhwmwJ3vDMG+OzrHMeiZI7gTRWVdUBmfxjZ8Ej23JVYa9VrY"
        "eJ5as7XM/ZpulX8NEQis44w53h1qAgnC3PRzM7Zc/D6Ibr0rgUathB6zRHP8PYrfgnNOS9PhSBdHlegK+AGGanfwjXuQ9+0pZcy0w9lQ=="
    )
    assert sign("123456", "1445827045067", "nEXhMP4r", encrypt) == "5a65ceeef9aab2d149439f82dc191dd6c5cbe2c0"
    event = json.loads(open_sealed(encrypt, owner="suite4xxxxxxxxxxxxxxx"))
    assert event == {"EventType": "check_create_suite_url", "Random": "LPIdSnlF", "TestSuiteKey": "suite4xxxxxxxxxxxxxxx"}


class Callback(http.server.BaseHTTPRequestHandler):
    events = []

    def do_POST(self):
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        assert query["msg_signature"] == sign(TOKEN, query["timestamp"], query["nonce"], body["encrypt"])
        Callback.events.append(json.loads(open_sealed(body["encrypt"])))
        encrypted, ts, nonce = seal("success"), str(int(time.time() * 1000)), "n0nce"
        answer = json.dumps({"msg_signature": sign(TOKEN, ts, nonce, encrypted), "timeStamp": ts, "nonce": nonce, "encrypt": encrypted}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


def call(base, path, params, user):
    data = urllib.parse.urlencode(params).encode()
    req = urllib.request.Request(base + path, data=data, headers={"x-emu-user": user, "content-type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def test_process_events_are_sealed_signed_and_acknowledged(tmp_path):
    with receiver(Callback) as hook_base:
        scenario = tmp_path / "events.toml"
        scenario.write_text(
            f"""
[[users]]
id = "zhang"
name = "张三"
[[users]]
id = "li"
name = "李四"
[[flows]]
id = "leave"
nodes = [{{ id = "start", type = "start" }}, {{ id = "boss", type = "approve", name = "主管审批", assignees = ["li"] }}, {{ id = "end", type = "end" }}]
edges = [["start", "boss"], ["boss", "end"]]
[yida]
default_user = "zhang"
app_keys = [{{ app_key = "{OWNER}", app_secret = "s" }}]
event_subscription = {{ url = "{hook_base}/dingtalk/callback", token = "{TOKEN}", aes_key = "{AES_KEY}" }}
[[yida.apps]]
app_type = "{APP}"
[[yida.apps.forms]]
form_uuid = "{FORM}"
name = "请假"
process_code = "{PROCESS}"
flow = "leave"
components = [{{ id = "textField_a", label = "事由", type = "TextField" }}]
""",
            encoding="utf-8",
        )
        with launch("--scenario", str(scenario)) as base:
            web = f"/dingtalk/web/{APP}/v1"
            started = call(base, f"{web}/process/startInstance.json", {"formUuid": FORM, "processCode": PROCESS, "formDataJson": json.dumps({"textField_a": "年假"})}, "zhang")
            pid = started["result"]
            todo = call(base, f"{web}/task/getTodoTasksInApp.json", {}, "li")["result"]["data"]
            task = next(t["taskId"] for t in todo if t["processInstanceId"] == pid)
            call(base, f"{web}/task/executeTask.json", {"procInstId": pid, "taskId": task, "outResult": "AGREE", "remark": "准"}, "li")
            req = urllib.request.Request(base + "/__emu/deliveries/wait?timeout_ms=5000", data=b"{}", method="POST")
            idle = json.loads(urllib.request.urlopen(req).read())
            deliveries = json.loads(urllib.request.urlopen(base + "/__emu/deliveries").read())
            assert idle["idle"] is True, (idle, [(d["id"], d["outcome"], [(a["status"], a["error"]) for a in d["attempts"]]) for d in deliveries])
            deliveries = json.loads(urllib.request.urlopen(base + "/__emu/deliveries").read())

    # Sends run concurrently, so arrival order may differ from the order events were raised: read that
    # order from the journal (decrypted independently), and check the server got exactly those.
    raised = [json.loads(open_sealed(json.loads(d["request"]["body"])["encrypt"])) for d in deliveries]
    key = lambda e: json.dumps(e, sort_keys=True, ensure_ascii=False)
    assert sorted(map(key, Callback.events)) == sorted(map(key, raised))
    kinds = [(e["EventType"], e["type"], e["staffId"]) for e in raised]
    assert kinds == [
        ("bpms_instance_change", "start", "zhang"),
        ("bpms_task_change", "start", "li"),
        ("bpms_task_change", "finish", "li"),
        ("bpms_instance_change", "finish", "zhang"),
    ]
    assert all(e["processInstanceId"] == pid and e["processCode"] == PROCESS and e["corpId"] == OWNER for e in raised)
    assert raised[2]["result"] == "agree" and raised[2]["remark"] == "准"
    assert raised[3]["result"] == "agree"
    # The emulator opened the server's sealed "success" with the same keys: every push counts as delivered.
    assert [d["outcome"] for d in deliveries] == ["delivered"] * 4
