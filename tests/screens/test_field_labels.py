"""A refused form names its fields as the form does, in the user's language (gateway/screens/fields.py), never by
the API's field names; and every field of every API operation the screens call has such a label."""

import ast
import re

import pytest

from gateway.screens import fields
from gateway.screens.api import Refusal
from gateway.screens.problems import explain
from tests.support import PROJECT_ROOT, SERVICES

SCREENS = PROJECT_ROOT / "gateway" / "screens"
# Module constants the screens build their API paths from (f"{API}/prescriptions/{id}").
PATH_CONSTANTS = {"API": "/api/v1/pharmacy", "BILLING": "/api/v1/billing"}


@pytest.fixture
def gateway_app(make_app):
    return make_app("gateway")


def in_language(app, language: str):
    return app.test_request_context("/", headers={"Cookie": f"lang={language}"})


def refused(errors: dict) -> Refusal:
    return Refusal(422, {"code": "VALIDATION_FAILED", "detail": "Some fields are invalid", "errors": errors})


def test_a_refused_registration_names_its_fields_in_vietnamese_and_in_english(gateway_app):
    refusal = refused({"cccd": ["Not a valid CCCD."], "birth_date": ["Not a valid date."]})
    with in_language(gateway_app, "vi"):
        said = explain(refusal)
        assert said == "Một số ô chưa được điền đúng. Hãy kiểm tra: Ngày sinh, Số CCCD."
        assert "cccd" not in said and "birth_date" not in said
    with in_language(gateway_app, "en"):
        assert explain(refusal) == "Some fields are not filled in correctly. Check: Date of birth, CCCD number."


def test_the_lab_and_pharmacy_fields_are_said_as_their_forms_say_them(gateway_app):
    with in_language(gateway_app, "vi"):
        assert fields.labels({"expires_on": ["x"], "lot_number": ["x"], "quantity": ["x"]}) == [
            "Hạn dùng", "Số lô", "Số lượng"]
        assert fields.labels({"period": ["Use YYYY-MM."]}) == ["Tháng"]
    with in_language(gateway_app, "en"):
        assert fields.labels({"expires_on": ["x"], "lot_number": ["x"]}) == ["Expiry date", "Lot number"]


def test_nested_and_dotted_fields_name_the_line_counted_from_one(gateway_app):
    nested = {"recipe": {"0": {"quantity": ["Must be at least 1."]}, "2": {"reagent_code": ["Missing."]}}}
    dotted = {"recipe.1.analyzer_code": ["No analyzer with code X"]}
    with in_language(gateway_app, "vi"):
        assert fields.labels(nested) == ["Công thức › dòng 1 › Số lượng", "Công thức › dòng 3 › Hóa chất"]
        assert fields.labels(dotted) == ["Công thức › dòng 2 › Máy xét nghiệm"]
        assert fields.labels({"lines": {"0": {"quantity": ["x"]}, "1": {"quantity": ["x"]}}}) == [
            "Các dòng thuốc › dòng 1 › Số lượng", "Các dòng thuốc › dòng 2 › Số lượng"]
    with in_language(gateway_app, "en"):
        assert fields.labels(dotted) == ["Recipe › line 2 › Analyzer"]


def test_an_unknown_field_falls_back_to_its_words_and_a_field_is_named_once(gateway_app):
    with in_language(gateway_app, "vi"):
        assert fields.labels({"shelf_position": ["Required."]}) == ["shelf position"]
        assert fields.labels({"lot": ["x"], "lot_id": ["x"]}) == ["Lô"]
        assert fields.labels(None) == [] and fields.labels(["not", "a", "dict"]) == []
        # no field named: the message alone, as before
        assert explain(Refusal(422, {"code": "VALIDATION_FAILED"})) == "Một số ô chưa được điền đúng."


API_METHODS = {"get": "get", "page": "get", "stream": "get", "download": "get", "post": "post", "post_file": "post",
               "put": "put", "patch": "patch"}
# The screens' helpers that are handed an API path: the method they call it with.
HELPERS = {"sent_from_patient_page": "post", "one_page": "get"}


def path_text(node) -> str | None:
    """An API path written in the code, with `{}` where a value goes; None for anything else."""
    if isinstance(node, ast.JoinedStr):
        text = "".join(part.value if isinstance(part, ast.Constant) else
                       PATH_CONSTANTS.get(getattr(part.value, "id", ""), "{}") for part in node.values)
    elif isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value
    else:
        return None
    return text if text.startswith("/api/v1/") else None


def screen_api_calls() -> set[tuple[str, str]]:
    """Every (method, API path) the screens' code calls with a path written in it."""
    found = set()
    for module in SCREENS.rglob("*.py"):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            paths = [path for path in map(path_text, node.args) if path]
            if not paths:
                continue
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            if name == "call":
                method = node.args[0].value.lower()
            else:
                method = API_METHODS.get(name) or HELPERS.get(name)
            assert method, f"{module.name}: {name}() is handed an API path; add it to HELPERS"
            found |= {(method, path) for path in paths}
    return found


def schema_fields(schema: dict, spec: dict, prefix: str = "") -> set[str]:
    """The property names of a request body's schema, nested objects and arrays of objects included."""
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    names = set()
    for name, prop in (schema.get("properties") or {}).items():
        if prop.get("readOnly"):
            continue
        names.add(name)
        inner = prop.get("items", prop)
        if "$ref" in inner or inner.get("properties"):
            names |= schema_fields(inner, spec)
    return names


def test_every_field_of_every_api_operation_the_screens_call_has_a_label(make_app):
    calls = [(method, re.compile(re.escape(path).replace(re.escape("{}"), "[^/]+") + "$"))
             for method, path in screen_api_calls()]
    wanted, matched = set(), set()
    for service in SERVICES:
        spec = make_app(service).test_client().get("/openapi.json").get_json()
        for template, operations in spec["paths"].items():
            concrete = re.sub(r"\{[^}]+\}", "x", template)
            for method in {method for method, pattern in calls if pattern.match(concrete)} & set(operations):
                operation = operations[method]
                matched.add((method, template))
                wanted |= {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
                body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
                if body.get("schema"):
                    wanted |= schema_fields(body["schema"], spec)
    assert len(matched) > 50, sorted(matched)  # the screens call most of the API: the matching works
    missing = sorted(wanted - set(fields.LABELS))
    assert missing == [], ", ".join(missing)


@pytest.mark.parametrize("code", ["STOCK_BUSY", "DATABASE_BUSY", "DATABASE_UNAVAILABLE", "NOT_FOUND",
                                  "PRACTITIONER_NOT_FOUND", "TEST_RUN_NOT_FOUND", "IDEMPOTENCY_KEY_INVALID"])
def test_refusals_a_screen_can_meet_are_explained_not_shown_in_the_services_english(gateway_app, code):
    refusal = Refusal(409, {"code": code, "detail": "An English detail from the service"})
    with in_language(gateway_app, "vi"):
        said = explain(refusal)
    assert "Hệ thống từ chối" not in said and "English detail" not in said and said
