"""`lowcode-emu export-schema` checked by an independent validator (python-jsonschema): every shipped
scenario passes, and the mistakes an editor should flag (an unknown widget type, a malformed id, an unknown
key) fail."""
import json
import pathlib
import subprocess
import tomllib

import jsonschema
import pytest

from conftest import ROOT, binary

SHIPPED = sorted([*ROOT.glob("scenarios/*.toml"), *ROOT.glob("tests/it/fixtures/*.toml")])


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(subprocess.run([binary(), "export-schema"], check=True, capture_output=True, text=True).stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def as_json(path: pathlib.Path):
    # TOML dates become strings, as the emulator reads them.
    return json.loads(json.dumps(tomllib.loads(path.read_text(encoding="utf-8")), default=str))


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_scenarios_validate(validator, path):
    errors = sorted(validator.iter_errors(as_json(path)), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_editor_catches_what_check_catches(validator):
    doc = as_json(ROOT / "scenarios" / "demo.toml")
    doc["jiandaoyun"]["apps"][0]["entries"][0]["widgets"][0]["type"] = "textbox"
    doc["jiandaoyun"]["apps"][0]["app_id"] = "not-an-object-id"
    doc["yida"]["apps"][0]["app_type"] = "app_lower"
    doc["unknown_key"] = 1
    messages = [e.message for e in validator.iter_errors(doc)]
    assert any("textbox" in m for m in messages), messages
    assert any("not-an-object-id" in m for m in messages), messages
    assert any("app_lower" in m for m in messages), messages
    assert any("unknown_key" in m for m in messages), messages
