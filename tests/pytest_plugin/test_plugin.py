"""The pytest plugin of the installed `lowcode-emu` wheel, used as a user would: no conftest, only the
`emu` fixture, real platform calls with `requests` and the official DingTalk SDK. Run with `-n 2`."""
import json
import os
import pathlib
import shutil
import sysconfig

import pytest
import requests
from alibabacloud_dingtalk.oauth2_1_0 import client as oauth2_client
from alibabacloud_dingtalk.oauth2_1_0 import models as oauth2_models
from alibabacloud_dingtalk.yida_1_0 import client as yida_client
from alibabacloud_dingtalk.yida_1_0 import models as yida
from alibabacloud_tea_openapi import models as open_api_models
from alibabacloud_tea_util import models as util_models

import lowcode_emu

JDY_KEY = {"Authorization": "Bearer jdy-demo-key"}
JDY_FORM = {"app_id": "6566f8a1c2e4b10a3c7d0001", "entry_id": "6566f8a1c2e4b10a3c7d0101"}
NAME = "_widget_1700000000001"
SEEDED_CUSTOMERS = 4
YIDA_APP = "APP_DEMO0000000000000001"
YIDA_FORM = "FORM-DEMO00000000000000000000000000000001"


def jdy(emu, op, body):
    return requests.post(f"{emu.platform_url}/api/v5/app/entry/data/{op}", headers=JDY_KEY, json={**JDY_FORM, **body}, timeout=10)


def customers(emu):
    return jdy(emu, "list", {"limit": 100}).json()["data"]


def test_the_binary_is_the_wheels_own():
    path = pathlib.Path(lowcode_emu.binary_path())
    assert path.parent == pathlib.Path(sysconfig.get_path("scripts")), path
    if os.environ.get("REQUIRE_NO_RUST") == "1":
        assert shutil.which("cargo") is None and shutil.which("rustc") is None, "the test step runs without Rust"


@pytest.mark.parametrize("name", ["ACME", "Globex", "Initech", "Umbrella"])
def test_each_test_starts_from_the_scenario(emu, name):
    # Four tests, any order, two workers: each sees the seeded records only, then adds its own.
    assert len(customers(emu)) == SEEDED_CUSTOMERS
    created = jdy(emu, "create", {"data": {NAME: {"value": name}}})
    assert created.status_code == 200, created.text
    assert [c[NAME] for c in customers(emu)][-1] == name
    emu.assert_called("jiandaoyun.data.create", times=1)
    assert emu.count(route="jiandaoyun.data.list") == 2


def test_namespaces_are_named_after_the_worker_and_test(emu):
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if os.environ.get("REQUIRE_XDIST") == "1":
        assert worker, "run with -n 2"
    assert emu.namespace_name.startswith(f"{worker or 'main'}-")
    assert emu.namespace_name.endswith("test_namespaces_are_named_after_the_worker_and_test")
    assert emu.platform_url == f"{emu.base_url}/__ns/{emu.namespace_name}"
    # The header form reaches the same world as the mount.
    jdy(emu, "create", {"data": {NAME: {"value": "via mount"}}})
    by_header = requests.post(f"{emu.base_url}/api/v5/app/entry/data/list", headers={**JDY_KEY, **emu.headers}, json={**JDY_FORM, "limit": 100}, timeout=10)
    assert by_header.json()["data"][-1][NAME] == "via mount"


def test_assert_called_says_what_was_called(emu):
    customers(emu)
    with pytest.raises(AssertionError) as failure:
        emu.assert_called("jiandaoyun.data.create", times=1)
    message = str(failure.value)
    assert "expected jiandaoyun.data.create 1 time(s), found 0" in message
    assert "POST /api/v5/app/entry/data/list (jiandaoyun.data.list) -> 200" in message
    assert len(emu.requests(route="jiandaoyun.data.list")) == 1


def test_a_fault_lasts_for_its_block(emu):
    with emu.fault(route="jiandaoyun.data.create", error="rate_limited") as fault_id:
        refused = jdy(emu, "create", {"data": {NAME: {"value": "too fast"}}})
        assert refused.status_code == 400
        assert refused.json()["code"] == 8304
        assert [f["id"] for f in emu.faults()] == [fault_id]
    assert emu.faults() == []
    assert jdy(emu, "create", {"data": {NAME: {"value": "later"}}}).status_code == 200
    entries = emu.requests(route="jiandaoyun.data.create")
    assert [e["status"] for e in entries] == [400, 200]
    assert entries[0]["fault"] == fault_id


def test_the_clock_moves_record_times(emu):
    emu.clock.freeze("2026-06-01T09:00:00Z")
    first = jdy(emu, "create", {"data": {NAME: {"value": "before"}}}).json()["data"]
    emu.clock.advance("2h")
    second = jdy(emu, "create", {"data": {NAME: {"value": "after"}}}).json()["data"]
    assert first["createTime"] == "2026-06-01T09:00:00.000Z"
    assert second["createTime"] == "2026-06-01T11:00:00.000Z"
    assert emu.clock.get() == {"now": "2026-06-01T11:00:00.000Z", "frozen": True}


def test_state_and_reset(emu):
    jdy(emu, "create", {"data": {NAME: {"value": "kept in state"}}})
    records = emu.state()["jiandaoyun"]["apps"][0]["entries"][0]["records"]
    assert [r[NAME] for r in records][-1] == "kept in state"
    emu.reset()
    assert emu.requests() == [], "a reset empties the namespace's journal"
    assert len(customers(emu)) == SEEDED_CUSTOMERS


def test_the_official_dingtalk_sdk_in_the_tests_namespace(emu):
    config = open_api_models.Config(protocol="http", endpoint=emu.endpoint)
    token = oauth2_client.Client(config).get_access_token(
        oauth2_models.GetAccessTokenRequest(app_key="ding-demo-key", app_secret="ding-demo-secret")).body.access_token
    sdk = yida_client.Client(config)
    save_headers = yida.SaveFormDataHeaders()
    save_headers.x_acs_dingtalk_access_token = token
    saved = sdk.save_form_data_with_options(
        yida.SaveFormDataRequest(app_type=YIDA_APP, form_uuid=YIDA_FORM, user_id="zhangsan",
                                 form_data_json=json.dumps({"textField_k1a2b3c4": "白板笔", "numberField_k1a2b3c5": 3})),
        save_headers, util_models.RuntimeOptions())
    assert saved.body.result.startswith("FINST-")
    search_headers = yida.SearchFormDatasHeaders()
    search_headers.x_acs_dingtalk_access_token = token
    found = sdk.search_form_datas_with_options(
        yida.SearchFormDatasRequest(app_type=YIDA_APP, form_uuid=YIDA_FORM, user_id="zhangsan",
                                    search_field_json=json.dumps({"textField_k1a2b3c4": "白板笔"}), current_page=1, page_size=10),
        search_headers, util_models.RuntimeOptions())
    assert [d.form_instance_id for d in found.body.data] == [saved.body.result]
    emu.assert_called("yida.openapi.access_token", times=1)
    # Only this test's namespace saw the save.
    assert emu.count(route="yida.openapi.form.save") == 1
    assert emu.namespace("").count(route="yida.openapi.form.save", namespace="") == 0


def test_acting_as_a_person_and_the_journal(emu):
    answer = emu.act("jiandaoyun", "zhangsan", "create", entry_id=JDY_FORM["entry_id"], data={NAME: {"value": "from the UI"}})
    assert answer["data"][NAME] == "from the UI"
    assert customers(emu)[-1][NAME] == "from the UI"
    # The demo form pushes to a receiver that is not there: the delivery is recorded, and fails.
    emu.wait_deliveries(timeout_ms=3000)
    assert [d["event"] for d in emu.deliveries(platform="jiandaoyun")][:1] == ["data_create"]


@pytest.mark.lowcode_emu(scenario="small.toml")
def test_a_marked_test_gets_a_server_of_its_scenario(emu):
    assert emu.health()["scenario"] == "plugin-small"
    assert emu.clock.now().startswith("2026-05-01T00:00:00")
    created = requests.post(f"{emu.platform_url}/api/v5/app/entry/data/create", headers={"Authorization": "Bearer small-key"},
                            json={"app_id": "aaaaaaaaaaaaaaaaaaaa0009", "entry_id": "bbbbbbbbbbbbbbbbbbbb0009",
                                  "data": {"_widget_1700000000009": {"value": "hi"}}}, timeout=10)
    assert created.status_code == 200, created.text


def test_errors_of_the_admin_api_are_exceptions(emu):
    with pytest.raises(lowcode_emu.EmulatorError) as failure:
        emu.add_fault(route="jiandaoyun.data.create", error="no_such_error")
    assert failure.value.status == 400


def test_an_emulator_outside_pytest():
    with lowcode_emu.start() as server:
        assert server.client().health()["status"] == "ok"
        assert server.ready["pid"] == server.process.pid
    with pytest.raises(lowcode_emu.StartError) as failure:
        lowcode_emu.start(scenario="no-such-file.toml")
    assert "no-such-file.toml" in str(failure.value)


SMALL = pathlib.Path(__file__).with_name("small.toml")
INNER_TEST = "def test_inner(emu):\n    assert emu.health()['scenario'] == 'plugin-small'\n"


@pytest.mark.parametrize("how", ["ini", "fixture", "option"])
def test_the_default_scenario_is_chosen_by_ini_fixture_or_option(pytester, how):
    # A project of its own, run in a subprocess as a user's would be (the plugin loads by entry point).
    pytester.makepyfile(test_inner=INNER_TEST)
    args = []
    if how == "ini":
        pytester.makeini(f"[pytest]\nlowcode_emu_scenario = {SMALL.name}\n")
        (pytester.path / SMALL.name).write_text(SMALL.read_text(encoding="utf-8"), encoding="utf-8")
    elif how == "fixture":
        pytester.makeconftest(
            "import pytest\n\n@pytest.fixture(scope='session')\ndef lowcode_emu_scenario():\n"
            f"    return {str(SMALL)!r}\n")
    else:
        args = ["--lowcode-emu-scenario", str(SMALL)]
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)
    result.assert_outcomes(passed=1)
