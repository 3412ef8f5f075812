"""Every failure is RFC 9457 problem+json with a stable code, never a traceback."""

import pytest

from tests.support import bearer

REAGENT = {"code": "GLU-R1", "name": "Glucose GOD-PAP R1", "manufacturer": "Roche", "base_unit": "uL"}


@pytest.fixture
def lab(make_app):
    return make_app("lab_service").test_client()


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["code"] == code
    assert {"type", "title", "detail"} <= set(body)
    return body


def test_an_unknown_address_is_a_404_problem(lab):
    assert_problem(lab.get("/api/v1/lab/nothing-here", headers=bearer("lab_head")), 404, "NOT_FOUND")


def test_a_wrong_method_is_a_405_problem(lab):
    assert_problem(lab.delete("/api/v1/lab/reagents", headers=bearer("lab_head")), 405, "METHOD_NOT_ALLOWED")


def test_malformed_json_is_a_400_problem(lab):
    response = lab.post("/api/v1/lab/reagents", data='{"code": "GLU', content_type="application/json",
                        headers=bearer("lab_head"))
    assert_problem(response, 400, "MALFORMED_JSON")


def test_unknown_fields_and_wrong_types_are_named(lab):
    body = {**REAGENT, "reorder_level": "many", "colour": "blue"}
    problem = assert_problem(lab.post("/api/v1/lab/reagents", json=body, headers=bearer("lab_head")), 422,
                             "VALIDATION_FAILED")
    assert set(problem["errors"]) == {"reorder_level", "colour"}


def test_missing_required_fields_are_named(lab):
    problem = assert_problem(lab.post("/api/v1/lab/reagents", json={"code": "X1"}, headers=bearer("lab_head")), 422,
                             "VALIDATION_FAILED")
    assert {"name", "manufacturer", "base_unit"} <= set(problem["errors"])


def test_an_oversized_body_is_a_413_problem(lab):
    huge = '{"name": "' + "x" * 2_000_000 + '"}'
    response = lab.post("/api/v1/lab/reagents", data=huge, content_type="application/json",
                        headers=bearer("lab_head"))
    assert_problem(response, 413, "PAYLOAD_TOO_LARGE")


def test_an_unexpected_failure_is_a_500_without_internals(make_app):
    app = make_app("lab_service")

    @app.route("/boom")
    def boom():
        raise RuntimeError("secret connection string postgres://admin:hunter2@db")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.testing = False
    problem = assert_problem(app.test_client().get("/boom"), 500, "INTERNAL_ERROR")
    assert "hunter2" not in str(problem) and "RuntimeError" not in str(problem)


def test_a_duplicate_reagent_is_a_409_with_its_code(lab):
    assert lab.post("/api/v1/lab/reagents", json=REAGENT, headers=bearer("lab_head")).status_code == 201
    assert_problem(lab.post("/api/v1/lab/reagents", json=REAGENT, headers=bearer("lab_head")), 409, "REAGENT_EXISTS")
