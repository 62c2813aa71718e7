"""The admin API's OpenAPI 3.1 document, checked by an independent validator (openapi-spec-validator),
as served and as printed by `lowcode-emu openapi`."""
import json
import subprocess
import urllib.request

from openapi_spec_validator import OpenAPIV31SpecValidator, validate

from conftest import binary


def served(base: str) -> dict:
    with urllib.request.urlopen(f"{base}/__emu/openapi.json", timeout=10) as resp:
        assert resp.status == 200
        assert resp.headers["content-type"].startswith("application/json")
        return json.load(resp)


def test_served_document_is_valid_openapi_3_1(emulator):
    spec = served(emulator)
    assert spec["openapi"].startswith("3.1")
    validate(spec, cls=OpenAPIV31SpecValidator)
    # Every operation is described and answers something documented.
    for path, item in spec["paths"].items():
        assert path.startswith("/__emu/"), path
        for method, op in item.items():
            if method == "parameters":
                continue
            assert op.get("summary"), (method, path)
            assert op.get("responses"), (method, path)


def test_cli_prints_the_same_document(emulator):
    printed = subprocess.run([binary(), "openapi"], capture_output=True, text=True, timeout=30, check=True).stdout
    cli = json.loads(printed)
    validate(cli, cls=OpenAPIV31SpecValidator)
    spec = served(emulator)
    # The served document names the server it was fetched from; everything else is the same.
    cli.pop("servers", None)
    spec.pop("servers", None)
    assert cli == spec
