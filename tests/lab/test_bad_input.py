"""The lab bench and the lab head's catalogue take only hospital-scale numbers and clean text."""

import pytest

from common.bounds import MAX_LINE_QUANTITY, MAX_STOCK_QUANTITY, MAX_UNIT_PRICE
from tests.lab.catalogue import (
    GLUCOSE_REAGENT,
    GLUCOSE_TEST,
    HEAD,
    NEXT_YEAR,
    TECH,
    VISIT,
    add_reagent,
    add_test,
    receive,
)


@pytest.mark.parametrize("quantity", [MAX_STOCK_QUANTITY + 1, 2**31, 2**63, 1.5, "200000"])
def test_the_lab_head_cannot_receive_a_lot_past_the_ceiling_or_in_fractions(lab, quantity):
    add_reagent(lab, GLUCOSE_REAGENT)
    response = lab.post("/api/v1/lab/reagents/GLU-R1/lots", json={"lot_number": "GL2603A", "expires_on": NEXT_YEAR,
                                                                  "quantity": quantity}, headers=HEAD)
    assert response.status_code == 422, quantity
    assert "quantity" in response.get_json()["errors"]


def test_a_lot_whose_cost_at_the_reagent_price_passes_the_ceiling_is_refused(lab):
    add_reagent(lab, GLUCOSE_REAGENT, unit_cost_amount=MAX_UNIT_PRICE)
    response = lab.post("/api/v1/lab/reagents/GLU-R1/lots", json={"lot_number": "GL2603A", "expires_on": NEXT_YEAR,
                                                                  "quantity": MAX_STOCK_QUANTITY}, headers=HEAD)
    assert response.status_code == 422
    assert response.get_json()["code"] == "LOT_COST_TOO_HIGH"
    assert receive(lab, "GLU-R1", "GL2603B", 1_000)["on_hand"] == 1_000


def test_prices_and_recipe_quantities_past_the_ceiling_are_refused(lab):
    add_reagent(lab, GLUCOSE_REAGENT)
    for changes in ({"price_amount": MAX_UNIT_PRICE + 1}, {"price_amount": 21_500.5},
                    {"recipe": [{"reagent_code": "GLU-R1", "quantity": MAX_LINE_QUANTITY + 1}]},
                    {"name": "Glucose\u0007"}, {"service_code": "x" * 51}):
        response = lab.post("/api/v1/lab/tests", json={**GLUCOSE_TEST, **changes}, headers=HEAD)
        assert response.status_code == 422, changes


def test_a_run_on_a_visit_id_longer_than_its_column_is_refused_before_any_reagent_moves(lab):
    add_reagent(lab, GLUCOSE_REAGENT)
    add_test(lab, GLUCOSE_TEST)
    receive(lab, "GLU-R1", "GL2603A", 10_000)
    response = lab.post("/api/v1/lab/test-runs", json={**VISIT, "encounter_id": "9" * 101, "test_code": "GLU"},
                        headers=TECH)
    assert response.status_code == 422
    assert lab.get("/api/v1/lab/reagents/GLU-R1", headers=TECH).get_json()["on_hand"] == 10_000
