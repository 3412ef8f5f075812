"""Poison messages end: an event the receiver keeps failing on is rejected after OUTBOX_MAX_ATTEMPTS, shown to
admin with its reason across all services at the gateway, and can be sent again once the cause is fixed; a receiver
that is merely down never makes a message rejected."""

from datetime import UTC, datetime

import pytest
from flask import Flask, request

from common import outbox
from tests.common.test_outbox import glucose_charge, outbox_row
from tests.support import bearer

OVERFLOW = "psycopg2.errors.NumericValueOutOfRange: bigint out of range (invoice total)"


@pytest.fixture
def receiver(live_server, service_ports):
    """A stand-in gateway intake on the gateway's port: it fails on the keys in `failing` (as billing did on a
    total past 2⁶³), takes the others, and can be told to fail whole batches (`down`)."""
    app = Flask("receiver")
    app.config.update(SERVICE_NAME="gateway-stand-in")
    state = {"failing": {}, "down": False, "taken": []}

    @app.post("/internal/events")
    def events():
        if state["down"]:
            return {"detail": "restarting"}, 503
        results = []
        for event in request.get_json()["events"]:
            status, detail = state["failing"].get(event["key"], (201, None))
            if status == 201:
                state["taken"].append(event["key"])
            results.append({"key": event["key"], "status": status, "detail": detail})
        return {"results": results}

    live_server(app, service_ports["gateway"])
    return state


def publish(app, number: int) -> int:
    with app.app_context():
        with app.extensions["database"].atomic():
            message = outbox.publish("charge.created", f"lab:test-run:{number}", glucose_charge(number),
                                     destination="gateway", path="/internal/charges")
        outbox.dispatch([message.id])
        return message.id


def sweep_now(app) -> dict:
    """The sweeper's next round, with every pending message due (instead of waiting out the backoff)."""
    with app.app_context():
        model = app.extensions["outbox_model"]
        model.update(next_attempt_at=datetime(2000, 1, 1, tzinfo=UTC)).where(model.state == "pending").execute()
        return outbox.sweep()


def test_a_charge_the_receiver_fails_on_every_time_is_rejected_and_admin_sees_why(make_app, live_server, receiver):
    lab = make_app("lab_service", OUTBOX_MAX_ATTEMPTS=3)
    live_server(lab)
    gateway = make_app("gateway").test_client()
    receiver["failing"]["lab:test-run:1"] = (500, OVERFLOW)
    poison, good = publish(lab, 1), publish(lab, 2)
    assert outbox_row(lab, poison).state == "pending" and outbox_row(lab, good).state == "delivered"

    sweep_now(lab)
    assert outbox_row(lab, poison).state == "pending"  # two failures: not yet given up
    sweep_now(lab)
    assert sweep_now(lab) == {}  # nothing left to send: it does not wait for ever

    row = outbox_row(lab, poison)
    assert row.state == "rejected" and row.attempts == 3
    assert row.last_error == f"failed the same way 3 times: HTTP 500: {OVERFLOW}"
    listed = lab.test_client().get("/api/v1/lab/outbox?state=rejected", headers=bearer("lab_head")).get_json()
    assert [m["key"] for m in listed] == ["lab:test-run:1"]
    overview = gateway.get("/api/v1/admin/outbox", headers=bearer("admin")).get_json()
    by_service = {s["service"]: s for s in overview["services"]}
    assert overview["total"] == 1 and set(by_service) == {"gateway", "lab_service", "pharmacy_service",
                                                         "billing_service"}
    [alert] = by_service["lab_service"]["messages"]
    assert alert["key"] == "lab:test-run:1" and "bigint out of range" in alert["last_error"]
    assert by_service["billing_service"]["available"] is False  # not running here: said, not hidden
    assert gateway.get("/api/v1/admin/outbox", headers=bearer("finance")).status_code == 403


def test_admin_sends_a_rejected_message_again_once_the_cause_is_fixed(make_app, live_server, receiver):
    lab = make_app("lab_service", OUTBOX_MAX_ATTEMPTS=1)
    receiver["failing"]["lab:test-run:5"] = (500, OVERFLOW)
    poison = publish(lab, 5)
    sweep_now(lab)
    assert outbox_row(lab, poison).state == "rejected"
    client = lab.test_client()
    assert client.post(f"/api/v1/lab/outbox/{poison}/retry", headers=bearer("lab_head")).status_code == 403

    del receiver["failing"]["lab:test-run:5"]  # the receiver was fixed
    retried = client.post(f"/api/v1/lab/outbox/{poison}/retry", headers=bearer("admin"))

    assert retried.status_code == 200
    assert outbox_row(lab, poison).state == "delivered" and receiver["taken"] == ["lab:test-run:5"]
    again = client.post(f"/api/v1/lab/outbox/{poison}/retry", headers=bearer("admin"))
    assert again.status_code == 409 and again.get_json()["code"] == "OUTBOX_MESSAGE_NOT_REJECTED"


def test_a_receiver_that_is_down_for_long_never_gets_a_message_rejected(make_app, receiver):
    lab = make_app("lab_service", OUTBOX_MAX_ATTEMPTS=2)
    receiver["down"] = True
    message = publish(lab, 9)
    for _round in range(5):
        sweep_now(lab)
    row = outbox_row(lab, message)
    assert row.state == "pending" and row.attempts == 6 and row.last_error.startswith("HTTP 503")
    stuck = lab.test_client().get("/api/v1/lab/outbox?state=stuck", headers=bearer("lab_head")).get_json()
    assert [m["key"] for m in stuck] == ["lab:test-run:9"]

    receiver["down"] = False
    sweep_now(lab)
    assert outbox_row(lab, message).state == "delivered" and receiver["taken"] == ["lab:test-run:9"]


def test_a_receiver_whose_database_is_down_answers_503_and_nothing_becomes_poison(make_app, live_server):
    from tests.support import free_port

    lab = make_app("lab_service", OUTBOX_MAX_ATTEMPTS=2)
    make_app("gateway")  # empties the run's gateway database; the one below has none it can reach
    gateway = make_app("gateway", DATABASE_URL=f"postgresql://postgres@127.0.0.1:{free_port()}/gateway")
    live_server(gateway)
    message = publish(lab, 11)
    for _round in range(4):
        sweep_now(lab)

    row = outbox_row(lab, message)
    assert row.state == "pending" and row.attempts == 5
    assert row.last_error.startswith("HTTP 503") and "DATABASE_UNAVAILABLE" in row.last_error


def test_a_charge_whose_visit_disagrees_with_its_snapshot_is_refused_422_and_rejected_at_once(make_app):
    from tests.billing.factories import BILLING_CONFIG, billable, charge, encounter
    from tests.support import service_headers

    billing = make_app("billing_service", **BILLING_CONFIG).test_client()
    for wrong in (billable(charge(encounter_id="LK-2026-0002"), encounter("LK-2026-0001")),
                  billable(charge(number=2), encounter(number=1))):
        response = billing.post("/internal/charges", json=wrong, headers=service_headers("gateway"))
        assert response.status_code == 422 and "encounter" in response.get_json()["errors"]

        batch = billing.post("/internal/events", headers=service_headers("gateway"), json={"events": [
            {"key": wrong["charge"]["key"], "path": "/internal/charges", "payload": wrong}]})
        [result] = batch.get_json()["results"]
        assert result["status"] == 422  # so the sender rejects it on the spot, with this reason
    listing = billing.get("/api/v1/billing/invoices", headers=bearer("cashier")).get_json()
    assert listing == []
