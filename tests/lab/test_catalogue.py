"""The lab head keeps the catalogue: tests with LOINC, BHYT service code, prices and a recipe per analyzer."""

from tests.lab.catalogue import (
    AU480,
    GLUCOSE_REAGENT,
    GLUCOSE_TEST,
    HEAD,
    TECH,
    UREA_REAGENT,
    add_reagent,
    add_test,
    ok,
)


def test_a_test_is_listed_with_its_codes_prices_and_recipe(lab):
    add_reagent(lab, GLUCOSE_REAGENT)
    ok(lab.post("/api/v1/lab/analyzers", json=AU480, headers=HEAD), 201)
    recipe = [{"reagent_code": "GLU-R1", "quantity": 200},
              {"reagent_code": "GLU-R1", "quantity": 20, "basis": "run", "analyzer_code": "AU480"}]
    add_test(lab, GLUCOSE_TEST, recipe=recipe)
    [listed] = ok(lab.get("/api/v1/lab/tests", headers=TECH))
    assert (listed["loinc"], listed["service_code"], listed["price_amount"]) == ("2345-7", "23.0075.1494", 21_500)
    assert listed["recipe"] == [
        {"reagent_code": "GLU-R1", "quantity": 200, "basis": "test", "analyzer_code": None},
        {"reagent_code": "GLU-R1", "quantity": 20, "basis": "run", "analyzer_code": "AU480"}]
    assert [a["code"] for a in ok(lab.get("/api/v1/lab/analyzers", headers=TECH))] == ["AU480"]


def test_a_recipe_naming_unknown_reagents_or_analyzers_is_refused(lab):
    add_reagent(lab, GLUCOSE_REAGENT)
    recipe = [{"reagent_code": "GLU-R9", "quantity": 200},
              {"reagent_code": "GLU-R1", "quantity": 20, "analyzer_code": "AU5800"}]
    response = lab.post("/api/v1/lab/tests", json={**GLUCOSE_TEST, "recipe": recipe}, headers=HEAD)
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"recipe.0.reagent_code", "recipe.1.analyzer_code"}
    assert ok(lab.get("/api/v1/lab/tests", headers=TECH)) == []


def test_codes_are_unique_and_validated(lab):
    add_reagent(lab, GLUCOSE_REAGENT)
    add_test(lab, GLUCOSE_TEST)
    again = lab.post("/api/v1/lab/tests", json=GLUCOSE_TEST, headers=HEAD)
    assert again.status_code == 409 and again.get_json()["code"] == "TEST_EXISTS"
    ok(lab.post("/api/v1/lab/analyzers", json=AU480, headers=HEAD), 201)
    twice = lab.post("/api/v1/lab/analyzers", json=AU480, headers=HEAD)
    assert twice.status_code == 409 and twice.get_json()["code"] == "ANALYZER_EXISTS"
    bad = lab.post("/api/v1/lab/tests", json={**GLUCOSE_TEST, "code": "GLU2", "loinc": "glucose",
                                              "price_amount": 21_500.5}, headers=HEAD)
    assert bad.status_code == 422 and {"loinc", "price_amount"} <= set(bad.get_json()["errors"])


def test_technicians_read_the_catalogue_but_do_not_change_it(lab):
    add_reagent(lab, GLUCOSE_REAGENT)
    assert lab.post("/api/v1/lab/tests", json=GLUCOSE_TEST, headers=TECH).status_code == 403
    assert lab.post("/api/v1/lab/analyzers", json=AU480, headers=TECH).status_code == 403
    assert lab.get("/api/v1/lab/tests/GLU", headers=TECH).get_json()["code"] == "TEST_NOT_FOUND"


def test_a_reagent_shows_when_it_is_below_its_reorder_level(lab):
    add_reagent(lab, GLUCOSE_REAGENT, reorder_level=10_000)
    reagent = ok(lab.get("/api/v1/lab/reagents/GLU-R1", headers=TECH))
    assert reagent["on_hand"] == 0 and reagent["below_reorder_level"] is True and reagent["lots"] == []


def test_a_catalogue_entry_sent_twice_with_one_key_is_added_once(lab):
    add_reagent(lab, GLUCOSE_REAGENT)
    for path, body in (("/api/v1/lab/analyzers", AU480), ("/api/v1/lab/tests", GLUCOSE_TEST)):
        headers = {**HEAD, "Idempotency-Key": f"catalogue-{path}"}
        first, again = (lab.post(path, json=body, headers=headers) for _ in range(2))
        assert first.status_code == again.status_code == 201, path
        assert again.headers["Idempotent-Replayed"] == "true" and again.get_json() == first.get_json()
    assert len(ok(lab.get("/api/v1/lab/tests", headers=TECH))) == 1


def test_a_recipe_read_for_a_run_gives_its_lines_one_test_and_one_instance_per_reagent(lab, lab_app):
    from lab_service import store

    add_reagent(lab, GLUCOSE_REAGENT)
    add_reagent(lab, UREA_REAGENT)
    ok(lab.post("/api/v1/lab/analyzers", json=AU480, headers=HEAD), 201)
    add_test(lab, GLUCOSE_TEST, recipe=[
        {"reagent_code": "GLU-R1", "quantity": 200},
        {"reagent_code": "UREA-R1", "quantity": 10, "analyzer_code": "AU480"},
        {"reagent_code": "GLU-R1", "quantity": 20, "basis": "run", "analyzer_code": "AU480"}])
    with lab_app.app_context():
        lines = store.recipe_lines("GLU")
    assert [(line.reagent.code, line.quantity, line.basis, line.analyzer and line.analyzer.code) for line in lines] == [
        ("GLU-R1", 200, "test", None), ("UREA-R1", 10, "test", "AU480"), ("GLU-R1", 20, "run", "AU480")]
    assert lines[0].lab_test is lines[1].lab_test is lines[2].lab_test and lines[0].lab_test.loinc == "2345-7"
    assert lines[0].reagent is lines[2].reagent and lines[0].reagent is not lines[1].reagent
    assert lines[1].analyzer is lines[2].analyzer
