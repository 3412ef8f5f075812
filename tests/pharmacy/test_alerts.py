"""Alerts right after the change that causes them: below reorder level, expiring in 90 / 30 days, expired on hand."""

import pytest

from tests.pharmacy.conftest import PHARMACIST, add_drug, dispense, let_lot_expire, prescribe, receive
from tests.support import bearer


def alerts(pharmacy, status: str = "open") -> list[tuple[str, str]]:
    response = pharmacy.get(f"/api/v1/pharmacy/alerts?status={status}", headers=PHARMACIST)
    assert response.status_code == 200
    return sorted((alert["kind"], alert["drug_code"]) for alert in response.get_json())


def run_periodic_jobs(app) -> None:
    """What the sweeper does every few seconds."""
    with app.app_context():
        for job in app.extensions["periodic_jobs"]:
            job()


@pytest.fixture
def pharmacy_app(make_app):
    return make_app("pharmacy_service", PHARMACY_ALERT_SCAN_SECONDS=0)


def test_dispensing_below_the_reorder_level_opens_one_alert_until_restocked(pharmacy):
    ceftriaxone = add_drug(pharmacy, "ceftriaxone", reorder_level=100)["code"]
    receive(pharmacy, ceftriaxone, "CEF2606A", expires_in_days=300, quantity=130)
    assert alerts(pharmacy) == []

    dispense(pharmacy, prescribe(pharmacy, [(ceftriaxone, 20)]))
    assert alerts(pharmacy) == []
    dispense(pharmacy, prescribe(pharmacy, [(ceftriaxone, 14)]))
    assert alerts(pharmacy) == [("below_reorder", ceftriaxone)]
    dispense(pharmacy, prescribe(pharmacy, [(ceftriaxone, 6)]))
    assert alerts(pharmacy) == [("below_reorder", ceftriaxone)]  # one open alert per condition

    receive(pharmacy, ceftriaxone, "CEF2609B", expires_in_days=400, quantity=200)
    assert alerts(pharmacy) == []
    assert alerts(pharmacy, "resolved") == [("below_reorder", ceftriaxone)]


def test_the_alert_says_how_much_is_left(pharmacy):
    insulin = add_drug(pharmacy, "insulin_glargine", reorder_level=30)["code"]
    receive(pharmacy, insulin, "LAN2609A", expires_in_days=300, quantity=12, cost_amount=198_000)
    alert = pharmacy.get("/api/v1/pharmacy/alerts", headers=PHARMACIST).get_json()[0]
    assert alert["details"] == {"usable": 12, "reorder_level": 30}
    assert "Insulin glargine" in alert["message"]


def test_receiving_a_short_dated_lot_warns_at_90_and_30_days(pharmacy):
    amoxicillin = add_drug(pharmacy, "amoxicillin", reorder_level=0)["code"]
    paracetamol = add_drug(pharmacy, "paracetamol", reorder_level=0)["code"]
    receive(pharmacy, amoxicillin, "AMX2602A", expires_in_days=75, quantity=100)
    receive(pharmacy, paracetamol, "PCM2601A", expires_in_days=20, quantity=100)
    receive(pharmacy, paracetamol, "PCM2712G", expires_in_days=500, quantity=100)

    assert alerts(pharmacy) == [("expiring_30", paracetamol), ("expiring_90", amoxicillin)]


def test_a_lot_that_expires_on_the_shelf_is_an_expired_stock_alert_from_the_periodic_check(pharmacy_app, pharmacy):
    losartan = add_drug(pharmacy, "losartan", reorder_level=0)["code"]
    lot = receive(pharmacy, losartan, "LOS2511A", expires_in_days=10, quantity=40)
    assert alerts(pharmacy) == [("expiring_30", losartan)]

    let_lot_expire(pharmacy_app, lot["id"])
    run_periodic_jobs(pharmacy_app)

    assert alerts(pharmacy) == [("expired", losartan)]
    pharmacy.post(f"/api/v1/pharmacy/lots/{lot['id']}/adjustments", headers=PHARMACIST,
                  json={"quantity_change": -40, "reason": "destroyed", "note": "Biên bản hủy thuốc hết hạn số 07"})
    assert alerts(pharmacy) == []


def test_pharmacists_filter_alerts_by_kind_and_others_may_not_read_them(pharmacy):
    amoxicillin = add_drug(pharmacy, "amoxicillin", reorder_level=500)["code"]
    receive(pharmacy, amoxicillin, "AMX2602A", expires_in_days=75, quantity=100)
    only = pharmacy.get("/api/v1/pharmacy/alerts?kind=expiring_90", headers=PHARMACIST).get_json()
    assert [alert["kind"] for alert in only] == ["expiring_90"]
    assert pharmacy.get("/api/v1/pharmacy/alerts", headers=bearer("lab_head")).status_code == 403


def test_dispensing_the_last_of_a_short_dated_lot_closes_its_expiry_alert(pharmacy):
    omeprazole = add_drug(pharmacy, "omeprazole", reorder_level=0)["code"]
    receive(pharmacy, omeprazole, "OME2512S", expires_in_days=25, quantity=14)
    receive(pharmacy, omeprazole, "OME2710L", expires_in_days=600, quantity=280)
    dispense(pharmacy, prescribe(pharmacy, [(omeprazole, 7)]))
    assert alerts(pharmacy) == [("expiring_30", omeprazole)]

    dispense(pharmacy, prescribe(pharmacy, [(omeprazole, 10)]))

    assert alerts(pharmacy) == []
    assert alerts(pharmacy, "resolved") == [("expiring_30", omeprazole)]
