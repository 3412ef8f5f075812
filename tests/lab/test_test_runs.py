"""Logging a test takes exactly its recipe off stock, lot by lot, first expiry first, and bills the visit."""

from datetime import date, timedelta

from tests.lab.catalogue import (
    AU480,
    HEAD,
    TECH,
    UREA_REAGENT,
    UREA_TEST,
    add_reagent,
    add_test,
    glucose_in_stock,
    log_test,
    ok,
    on_hand_by_lot,
    receive,
    stock_of,
)

SOON = (date.today() + timedelta(days=60)).isoformat()
LATER = (date.today() + timedelta(days=300)).isoformat()


def test_logging_a_glucose_test_consumes_reagent_fefo(lab):
    glucose_in_stock(lab, ("GL2611B", 5000, LATER), ("GL2603A", 5000, SOON))
    run = ok(log_test(lab, results=[{"loinc": "2345-7", "value": "5.4", "unit": "mmol/L", "flag": "N"}]), 201)
    assert run["consumption"] == [{"reagent_code": "GLU-R1", "lot_number": "GL2603A", "quantity": 200,
                                   "cost_amount": 3000}]
    assert run["price_amount"] == 21_500 and run["cost_amount"] == 3000 and run["billed"] is True
    assert on_hand_by_lot(lab) == {"GL2603A": 4800, "GL2611B": 5000}
    assert stock_of(lab)["on_hand"] == 9800


def test_a_test_splits_across_lots_when_the_first_runs_low(lab):
    glucose_in_stock(lab, ("GL2603A", 150, SOON), ("GL2611B", 5000, LATER))
    run = ok(log_test(lab), 201)
    assert run["consumption"] == [
        {"reagent_code": "GLU-R1", "lot_number": "GL2603A", "quantity": 150, "cost_amount": 2250},
        {"reagent_code": "GLU-R1", "lot_number": "GL2611B", "quantity": 50, "cost_amount": 750},
    ]
    assert on_hand_by_lot(lab) == {"GL2603A": 0, "GL2611B": 4950}


def test_not_enough_reagent_is_a_409_naming_the_reagent_and_nothing_changes(lab):
    glucose_in_stock(lab, ("GL2603A", 150, SOON))
    response = log_test(lab)
    assert response.status_code == 409
    problem = response.get_json()
    assert problem["code"] == "INSUFFICIENT_STOCK"
    assert problem["shortages"] == [{"reagent_code": "GLU-R1", "needed": 200, "usable": 150, "base_unit": "uL"}]
    assert on_hand_by_lot(lab) == {"GL2603A": 150}
    assert ok(lab.get("/api/v1/lab/test-runs", headers=TECH)) == []
    assert ok(lab.get("/api/v1/lab/outbox", headers=HEAD)) == []


def test_a_test_with_two_reagents_names_every_short_one(lab):
    add_reagent(lab, UREA_REAGENT)
    glucose_in_stock(lab, ("GL2603A", 100, SOON))
    recipe = [{"reagent_code": "UREA-R1", "quantity": 150}, {"reagent_code": "GLU-R1", "quantity": 120}]
    add_test(lab, UREA_TEST, code="UREA-GLU", recipe=recipe)
    receive(lab, "UREA-R1", "UR2604", 100)
    problem = log_test(lab, "UREA-GLU").get_json()
    assert {s["reagent_code"]: (s["needed"], s["usable"]) for s in problem["shortages"]} == {
        "UREA-R1": (150, 100), "GLU-R1": (120, 100)}


def test_the_logged_run_creates_a_priced_charge_in_the_outbox(lab):
    glucose_in_stock(lab, ("GL2603A", 5000, SOON))
    run = ok(log_test(lab), 201)
    pending = ok(lab.get("/api/v1/lab/outbox?state=pending", headers=HEAD))
    assert [m["key"] for m in pending] == [f"lab:test-run:{run['id']}"]
    assert pending[0]["event_type"] == "charge.created"


def test_a_rerun_consumes_reagent_but_is_not_billed_again(lab):
    glucose_in_stock(lab, ("GL2603A", 5000, SOON))
    ok(log_test(lab), 201)
    rerun = ok(log_test(lab, is_rerun=True), 201)
    assert rerun["billed"] is False and rerun["price_amount"] == 0 and rerun["charge_key"] is None
    assert on_hand_by_lot(lab) == {"GL2603A": 4600}
    assert len(ok(lab.get("/api/v1/lab/outbox", headers=HEAD))) == 1


def test_the_same_idempotency_key_logs_the_test_once(lab):
    glucose_in_stock(lab, ("GL2603A", 5000, SOON))
    key = {"Idempotency-Key": "run-7f3a2c"}
    first = log_test(lab, headers={**TECH, **key})
    again = log_test(lab, headers={**TECH, **key})
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_json()["id"] == first.get_json()["id"]
    assert on_hand_by_lot(lab) == {"GL2603A": 4800}
    other = lab.post("/api/v1/lab/test-runs", json={"encounter_id": "ENC-2", "patient_id": "BN-2",
                                                     "test_code": "GLU"}, headers={**TECH, **key})
    assert other.status_code == 409 and other.get_json()["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_an_analyzer_recipe_overrides_the_default_one(lab):
    glucose_in_stock(lab, ("GL2603A", 5000, SOON))
    ok(lab.post("/api/v1/lab/analyzers", json=AU480, headers=HEAD), 201)
    recipe = [{"reagent_code": "GLU-R1", "quantity": 200},
              {"reagent_code": "GLU-R1", "quantity": 150, "analyzer_code": "AU480"},
              {"reagent_code": "GLU-R1", "quantity": 30, "basis": "run", "analyzer_code": "AU480"}]
    ok(lab.put("/api/v1/lab/tests/GLU/recipe", json={"recipe": recipe}, headers=HEAD))
    on_au480 = ok(log_test(lab, analyzer_code="AU480"), 201)
    by_default = ok(log_test(lab), 201)
    assert on_au480["consumption"][0]["quantity"] == 180 and on_au480["analyzer_code"] == "AU480"
    assert by_default["consumption"][0]["quantity"] == 200


def test_unknown_test_or_analyzer_is_a_404(lab):
    glucose_in_stock(lab, ("GL2603A", 5000, SOON))
    assert log_test(lab, "NOPE").get_json()["code"] == "TEST_NOT_FOUND"
    assert log_test(lab, analyzer_code="XN-9999").get_json()["code"] == "ANALYZER_NOT_FOUND"


def test_results_are_kept_as_text_and_shown_on_the_run(lab):
    glucose_in_stock(lab, ("GL2603A", 5000, SOON))
    results = [{"loinc": "2345-7", "value": "11.2", "unit": "mmol/L", "reference_range": "3.9-6.4", "flag": "H"}]
    run = ok(log_test(lab, results=results), 201)
    assert ok(lab.get(f"/api/v1/lab/test-runs/{run['id']}", headers=TECH))["results"] == results
    bad = log_test(lab, results=[{"value": 11.2}])
    assert bad.status_code == 422


def test_only_lab_staff_may_log_tests(lab):
    glucose_in_stock(lab, ("GL2603A", 5000, SOON))
    from tests.support import bearer

    assert log_test(lab, headers=bearer("cashier")).status_code == 403
    assert log_test(lab, headers=bearer("admin")).status_code == 201


def test_a_run_that_loses_the_race_for_its_lot_is_planned_again_and_leaves_nothing_behind(lab, monkeypatch):
    from common.stock import StockMoved
    from lab_service import store

    glucose_in_stock(lab, ("GL2603A", 5000, SOON))
    real_take = store.take
    for headers in ({"Idempotency-Key": "race-1"}, {}):  # inside the request's transaction / in its own
        lost = []

        def take_once_lost(quantities, lost=lost):
            if not lost:
                lost.append(True)  # as if another run had taken the stock between our read and our decrement
                raise StockMoved(sorted(quantities))
            return real_take(quantities)

        monkeypatch.setattr(store, "take", take_once_lost)
        ok(lab.post("/api/v1/lab/test-runs", json={"encounter_id": "1001", "patient_id": "501", "test_code": "GLU"},
                    headers={**TECH, **headers}), 201)
        assert lost == [True]
    runs = ok(lab.get("/api/v1/lab/test-runs", headers=TECH))
    assert len(runs) == 2 and all(r["consumption"][0]["quantity"] == 200 for r in runs)
    assert on_hand_by_lot(lab) == {"GL2603A": 4600}
    assert len(ok(lab.get("/api/v1/lab/outbox", headers=HEAD))) == 2  # one charge each, none from a lost attempt
    ledger = ok(lab.get("/api/v1/lab/reagents/GLU-R1/ledger", headers=HEAD))
    assert sorted(e["quantity"] for e in ledger["entries"] if e["kind"] == "consumption") == [-200, -200]
    assert ledger["balance"] == 4600
