"""Receiving, releasing and opening reagent lots; only usable lots are ever consumed."""

from datetime import date, timedelta

import pytest

from common import clock
from tests.lab.catalogue import (
    HBA1C_REAGENT,
    HBA1C_TEST,
    HEAD,
    TECH,
    add_reagent,
    add_test,
    glucose_in_stock,
    log_test,
    ok,
    receive,
    stock_of,
)

SOON = (date.today() + timedelta(days=60)).isoformat()
LATER = (date.today() + timedelta(days=300)).isoformat()


@pytest.fixture
def hba1c(lab):
    add_reagent(lab, HBA1C_REAGENT)
    add_test(lab, HBA1C_TEST)
    return lab


def test_receiving_a_lot_writes_a_receipt_on_the_stock_card(lab):
    lot = glucose_in_stock(lab, ("GL2603A", 20_000, SOON))[0]
    assert lot["state"] == "released" and lot["on_hand"] == 20_000 and lot["usable"] is True
    assert lot["cost_amount"] == 20_000 * 15  # no cost given: the catalogue's unit cost
    card = ok(lab.get("/api/v1/lab/reagents/GLU-R1/ledger", headers=TECH))
    assert [(e["kind"], e["quantity"], e["balance"], e["lot_number"]) for e in card["entries"]] == [
        ("receipt", 20_000, 20_000, "GL2603A")]
    [receipt] = card["entries"]  # the lab's own words: English on the row, a code and values for a screen
    assert (receipt["reason"], receipt["reason_code"], receipt["reason_params"]) == (
        "received from Công ty TNHH Thiết bị Y tế Việt Đức", "received_from",
        {"supplier": "Công ty TNHH Thiết bị Y tế Việt Đức"})


def test_a_count_keeps_the_persons_reason_without_a_code(lab):
    lot = glucose_in_stock(lab, ("GL2603A", 1000, SOON))[0]
    ok(lab.post(f"/api/v1/lab/reagent-lots/{lot['id']}/counts", json={"counted_quantity": 990, "reason": "Đếm lại"},
                headers=HEAD), 201)
    card = ok(lab.get("/api/v1/lab/reagents/GLU-R1/ledger", headers=TECH))
    assert [(e["kind"], e["reason"], e["reason_code"]) for e in card["entries"]][-1] == (
        "count_adjustment", "Đếm lại", None)


def test_a_lot_number_is_received_once_per_reagent(lab):
    glucose_in_stock(lab, ("GL2603A", 1000, SOON))
    again = lab.post("/api/v1/lab/reagents/GLU-R1/lots", json={"lot_number": "GL2603A", "expires_on": SOON,
                                                               "quantity": 10}, headers=HEAD)
    assert again.status_code == 409 and again.get_json()["code"] == "LOT_EXISTS"


def test_an_already_expired_lot_cannot_be_received(lab):
    glucose_in_stock(lab)
    yesterday = (date.today() - timedelta(days=2)).isoformat()
    response = lab.post("/api/v1/lab/reagents/GLU-R1/lots", json={"lot_number": "OLD1", "expires_on": yesterday,
                                                                  "quantity": 10}, headers=HEAD)
    assert response.status_code == 422 and response.get_json()["code"] == "LOT_EXPIRED"


def test_receiving_for_an_unknown_reagent_is_a_404(lab):
    response = lab.post("/api/v1/lab/reagents/NOPE/lots", json={"lot_number": "X", "expires_on": SOON,
                                                                "quantity": 10}, headers=HEAD)
    assert response.status_code == 404 and response.get_json()["code"] == "REAGENT_NOT_FOUND"


def test_a_qc_release_reagent_is_quarantined_until_released(hba1c):
    lot = receive(hba1c, "HBA1C-KIT", "HB2512", 100, cost_amount=3_800_000)
    assert lot["state"] == "quarantined" and lot["usable"] is False and lot["unusable_reason"] == "quarantined"
    refused = log_test(hba1c, "HBA1C")
    assert refused.status_code == 409 and refused.get_json()["shortages"][0]["usable"] == 0
    assert stock_of(hba1c, "HBA1C-KIT")["on_hand"] == 0
    assert stock_of(hba1c, "HBA1C-KIT")["unusable_quantity"] == 100
    assert hba1c.post(f"/api/v1/lab/reagents/HBA1C-KIT/lots/{lot['id']}/release", headers=TECH).status_code == 403
    released = ok(hba1c.post(f"/api/v1/lab/reagents/HBA1C-KIT/lots/{lot['id']}/release", headers=HEAD))
    assert released["state"] == "released" and released["on_hand"] == 100
    run = ok(log_test(hba1c, "HBA1C"), 201)
    assert run["cost_amount"] == 38_000
    again = hba1c.post(f"/api/v1/lab/reagents/HBA1C-KIT/lots/{lot['id']}/release", headers=HEAD)
    assert again.status_code == 409 and again.get_json()["code"] == "LOT_NOT_QUARANTINED"


def test_opening_a_lot_starts_its_stability_clock_once(hba1c):
    lot = receive(hba1c, "HBA1C-KIT", "HB2512", 100)
    ok(hba1c.post(f"/api/v1/lab/reagents/HBA1C-KIT/lots/{lot['id']}/release", headers=HEAD))
    opened = ok(hba1c.post(f"/api/v1/lab/reagents/HBA1C-KIT/lots/{lot['id']}/open", headers=TECH))
    assert opened["opened_at"] is not None and opened["stable_until"] is not None
    twice = hba1c.post(f"/api/v1/lab/reagents/HBA1C-KIT/lots/{lot['id']}/open", headers=TECH)
    assert twice.status_code == 409 and twice.get_json()["code"] == "LOT_ALREADY_OPENED"


def test_a_quarantined_lot_cannot_be_opened(hba1c):
    lot = receive(hba1c, "HBA1C-KIT", "HB2512", 100)
    response = hba1c.post(f"/api/v1/lab/reagents/HBA1C-KIT/lots/{lot['id']}/open", headers=TECH)
    assert response.status_code == 409 and response.get_json()["code"] == "LOT_QUARANTINED"


def test_a_lot_past_its_opened_stability_is_not_used(hba1c, monkeypatch):
    old = receive(hba1c, "HBA1C-KIT", "HB2512", 100, expires_on=SOON)
    new = receive(hba1c, "HBA1C-KIT", "HB2601", 100, expires_on=LATER)
    for lot in (old, new):
        ok(hba1c.post(f"/api/v1/lab/reagents/HBA1C-KIT/lots/{lot['id']}/release", headers=HEAD))
    ok(hba1c.post(f"/api/v1/lab/reagents/HBA1C-KIT/lots/{old['id']}/open", headers=TECH))
    four_weeks_on = clock.now() + timedelta(days=29)
    monkeypatch.setattr(clock, "now", lambda: four_weeks_on)
    run = ok(log_test(hba1c, "HBA1C"), 201)
    assert run["consumption"][0]["lot_number"] == "HB2601"
    lots = {lot["lot_number"]: lot for lot in stock_of(hba1c, "HBA1C-KIT")["lots"]}
    assert lots["HB2512"]["unusable_reason"] == "past_opened_stability" and lots["HB2512"]["on_hand"] == 0
    assert lots["HB2512"]["book_quantity"] == 100


def test_an_opened_lot_is_used_before_an_unopened_one_that_expires_first(hba1c):
    first_to_expire = receive(hba1c, "HBA1C-KIT", "HB2512", 100, expires_on=SOON)
    opened = receive(hba1c, "HBA1C-KIT", "HB2601", 100, expires_on=LATER)
    for lot in (first_to_expire, opened):
        ok(hba1c.post(f"/api/v1/lab/reagents/HBA1C-KIT/lots/{lot['id']}/release", headers=HEAD))
    ok(hba1c.post(f"/api/v1/lab/reagents/HBA1C-KIT/lots/{opened['id']}/open", headers=TECH))
    run = ok(log_test(hba1c, "HBA1C"), 201)
    assert run["consumption"][0]["lot_number"] == "HB2601"  # in-use stability (28 days) ends before SOON


def test_an_expired_lot_is_not_used(lab, monkeypatch):
    glucose_in_stock(lab, ("GL2603A", 5000, SOON), ("GL2611B", 5000, LATER))
    after_expiry = clock.now() + timedelta(days=61)
    monkeypatch.setattr(clock, "now", lambda: after_expiry)
    run = ok(log_test(lab), 201)
    assert run["consumption"][0]["lot_number"] == "GL2611B"
    lots = {lot["lot_number"]: lot for lot in stock_of(lab)["lots"]}
    assert lots["GL2603A"]["unusable_reason"] == "expired"
    assert stock_of(lab)["on_hand"] == 4800 and stock_of(lab)["unusable_quantity"] == 5000


def test_the_first_test_from_a_lot_opens_it(lab):
    glucose_in_stock(lab, ("GL2603A", 5000, SOON))
    assert stock_of(lab)["lots"][0]["opened_at"] is None
    ok(log_test(lab), 201)
    assert stock_of(lab)["lots"][0]["opened_at"] is not None


def test_a_released_lot_is_quarantined_again_and_nothing_takes_from_it_until_released(lab):
    lot = glucose_in_stock(lab, ("GL2603A", 20_000, SOON))[0]
    path = f"/api/v1/lab/reagents/GLU-R1/lots/{lot['id']}"
    assert lab.post(f"{path}/quarantine", headers=TECH).status_code == 403
    held = ok(lab.post(f"{path}/quarantine", headers=HEAD))
    assert held["state"] == "quarantined" and held["usable"] is False and held["unusable_reason"] == "quarantined"
    again = lab.post(f"{path}/quarantine", headers=HEAD)
    assert again.status_code == 409 and again.get_json()["code"] == "LOT_ALREADY_QUARANTINED"
    refused = log_test(lab)
    assert refused.status_code == 409 and refused.get_json()["code"] == "INSUFFICIENT_STOCK"
    assert ok(lab.post(f"{path}/release", headers=HEAD))["usable"] is True
    ok(log_test(lab), 201)
    assert lab.post("/api/v1/lab/reagents/GLU-R1/lots/999999/quarantine", headers=HEAD).status_code == 404
