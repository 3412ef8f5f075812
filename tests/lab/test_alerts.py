"""The lab head is told at once: an alert exists as soon as the request that crossed a threshold returns."""

from datetime import date, timedelta

from flask import Flask, request

from common import clock
from lab_service import jobs
from tests.lab.catalogue import (
    GLUCOSE_REAGENT,
    GLUCOSE_TEST,
    HEAD,
    TECH,
    VISIT,
    add_reagent,
    add_test,
    glucose_in_stock,
    log_test,
    ok,
    receive,
)
from tests.support import free_port

SOON = (date.today() + timedelta(days=60)).isoformat()


def open_alerts(client, **query):
    alerts = ok(client.get("/api/v1/lab/alerts", query_string=query, headers=HEAD))
    return [(a["kind"], a["reagent_code"], a["lot_number"]) for a in alerts]


def test_crossing_the_reorder_level_raises_one_alert_and_a_receipt_closes_it(lab):
    add_reagent(lab, GLUCOSE_REAGENT, reorder_level=4900)
    add_test(lab, GLUCOSE_TEST)
    receive(lab, "GLU-R1", "GL2603A", 5000, SOON)
    assert open_alerts(lab) == []
    ok(log_test(lab), 201)
    assert open_alerts(lab) == [("below_reorder_level", "GLU-R1", None)]
    ok(log_test(lab), 201)
    assert open_alerts(lab) == [("below_reorder_level", "GLU-R1", None)]  # one per condition, no flood
    receive(lab, "GLU-R1", "GL2611B", 5000, SOON)
    assert open_alerts(lab) == []
    closed = ok(lab.get("/api/v1/lab/alerts?state=closed", headers=HEAD))
    assert len(closed) == 1 and closed[0]["closed_at"] is not None


def test_stock_covering_fewer_than_three_days_of_recent_use_raises_an_alert(lab):
    glucose_in_stock(lab, ("GL2603A", 1000, SOON))
    for _ in range(3):
        ok(log_test(lab), 201)
    assert open_alerts(lab) == []  # 400 left after 600 used this week: about 4 days
    ok(log_test(lab), 201)
    alert = ok(lab.get("/api/v1/lab/alerts", headers=HEAD))[0]
    assert alert["kind"] == "low_cover" and alert["details"]["days_of_cover"] == 1


def test_a_worklist_longer_than_the_stock_raises_an_alert_until_stock_arrives(lab):
    glucose_in_stock(lab, ("GL2603A", 800, SOON))
    for number in range(5):
        order = {"encounter_id": f"ENC-2026-00{number}", "patient_id": f"BN-00{number}", "test_code": "GLU"}
        ok(lab.post("/api/v1/lab/worklist", json=order, headers=TECH), 201)
    assert open_alerts(lab) == [("worklist_short", "GLU-R1", None)]
    alert = ok(lab.get("/api/v1/lab/alerts", headers=HEAD))[0]
    assert alert["details"] == {"usable": 800, "needed": 1000, "tests_waiting": 5}
    run = ok(lab.post("/api/v1/lab/test-runs", json={"encounter_id": "ENC-2026-000", "patient_id": "BN-000",
                                                     "test_code": "GLU"}, headers=TECH), 201)
    assert run["id"] and len(ok(lab.get("/api/v1/lab/worklist", headers=TECH))) == 4
    assert open_alerts(lab) == [("worklist_short", "GLU-R1", None)]  # 3 tests of stock for 4 orders
    receive(lab, "GLU-R1", "GL2611B", 5000, SOON)
    assert open_alerts(lab) == []


def test_a_lot_expiring_within_30_days_raises_an_alert(lab):
    in_three_weeks = (date.today() + timedelta(days=21)).isoformat()
    glucose_in_stock(lab, ("GL2512Z", 5000, in_three_weeks))
    assert open_alerts(lab) == [("lot_expiring", "GLU-R1", "GL2512Z")]


def test_a_lot_expired_with_stock_left_is_flagged_by_the_periodic_check(lab, lab_app, monkeypatch):
    in_three_weeks = (date.today() + timedelta(days=21)).isoformat()
    lot = glucose_in_stock(lab, ("GL2512Z", 5000, in_three_weeks))[0]
    later = clock.now() + timedelta(days=25)
    monkeypatch.setattr(clock, "now", lambda: later)
    with lab_app.app_context():
        for job in lab_app.extensions["periodic_jobs"]:
            job()
    assert open_alerts(lab) == [("lot_expired", "GLU-R1", "GL2512Z")]
    ok(lab.post(f"/api/v1/lab/reagent-lots/{lot['id']}/wastage", json={"quantity": 5000, "reason": "Hủy hết hạn"},
                headers=HEAD), 201)
    assert open_alerts(lab) == []


def test_new_alerts_are_posted_to_the_webhook(make_app, live_server):
    received = []
    receiver = Flask("alert-receiver")

    @receiver.post("/hooks/lab-alerts")
    def hook():
        received.append(request.get_json())
        return {"ok": True}

    port = free_port()
    url = live_server(receiver, port)
    lab_app = make_app("lab_service", LAB_ALERT_WEBHOOK_URL=f"{url}/hooks/lab-alerts")
    lab = lab_app.test_client()
    add_reagent(lab, GLUCOSE_REAGENT, reorder_level=4900)
    add_test(lab, GLUCOSE_TEST)
    receive(lab, "GLU-R1", "GL2603A", 5000, SOON)
    ok(lab.post("/api/v1/lab/test-runs", json={**VISIT, "test_code": "GLU"}, headers=TECH), 201)
    assert [(a["kind"], a["reagent_code"]) for a in received] == [("below_reorder_level", "GLU-R1")]
    with lab_app.app_context():
        jobs.check_all_alerts()
    assert len(received) == 1  # already notified; not sent again


def test_alerts_are_for_lab_staff(lab):
    from tests.support import bearer

    assert lab.get("/api/v1/lab/alerts", headers=bearer("cashier")).status_code == 403


def test_raising_the_reorder_level_above_the_stock_raises_the_alert_at_once(lab):
    glucose_in_stock(lab, ("GL2603A", 5000, SOON))
    changed = ok(lab.patch("/api/v1/lab/reagents/GLU-R1", json={"reorder_level": 8000}, headers=HEAD))
    assert changed["reorder_level"] == 8000
    assert open_alerts(lab) == [("below_reorder_level", "GLU-R1", None)]
    assert lab.patch("/api/v1/lab/reagents/GLU-R1", json={"reorder_level": 1}, headers=TECH).status_code == 403
    assert lab.patch("/api/v1/lab/reagents/GLU-R1", json={"code": "X"}, headers=HEAD).status_code == 422


def test_the_lab_head_acknowledges_an_alert_it_stays_until_its_condition_clears(lab):
    add_reagent(lab, GLUCOSE_REAGENT, reorder_level=4900)
    add_test(lab, GLUCOSE_TEST)
    receive(lab, "GLU-R1", "GL2603A", 5000, SOON)
    ok(log_test(lab), 201)
    [alert] = ok(lab.get("/api/v1/lab/alerts", headers=HEAD))
    assert lab.post(f"/api/v1/lab/alerts/{alert['id']}/acknowledge", headers=TECH).status_code == 403
    seen = ok(lab.post(f"/api/v1/lab/alerts/{alert['id']}/acknowledge", headers=HEAD))
    assert seen["state"] == "acknowledged" and seen["acknowledged_at"] and seen["acknowledged_by"]
    again = lab.post(f"/api/v1/lab/alerts/{alert['id']}/acknowledge", headers=HEAD)
    assert again.status_code == 409 and again.get_json()["code"] == "ALERT_NOT_OPEN"
    missing = lab.post("/api/v1/lab/alerts/999999/acknowledge", headers=HEAD)
    assert missing.status_code == 404 and missing.get_json()["code"] == "ALERT_NOT_FOUND"
    ok(log_test(lab), 201)  # the condition still holds: no second alert opens beside the acknowledged one
    assert open_alerts(lab) == [] and open_alerts(lab, state="acknowledged") == [
        ("below_reorder_level", "GLU-R1", None)]
    receive(lab, "GLU-R1", "GL2611B", 5000, SOON)
    assert open_alerts(lab, state="acknowledged") == []
    assert [a["id"] for a in ok(lab.get("/api/v1/lab/alerts?state=closed", headers=HEAD))] == [alert["id"]]
