"""Batched delivery: one POST carries many outbox messages, each applied once and answered on its own."""

from datetime import UTC, datetime

from flask import request

from common import outbox
from common.charges import publish_charge_created
from tests.common.test_outbox import glucose_charge, outbox_row, stored_charges
from tests.support import bearer, service_headers


def envelope(number: int, **changes) -> dict:
    payload = {**glucose_charge(number), "occurred_at": datetime.now(UTC).isoformat(), **changes}
    return {"key": payload["key"], "path": "/internal/charges", "payload": payload}


def test_a_batch_answers_per_event_and_a_bad_event_does_not_stop_the_others(make_app):
    client = make_app("gateway").test_client()
    batch = {"events": [envelope(1), envelope(2, amount=-5), envelope(1),
                        {"key": "x:1", "path": "/internal/nowhere", "payload": {}}, envelope(3)]}
    response = client.post("/internal/events", json=batch, headers=service_headers("lab_service"))
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [(r["key"], r["status"]) for r in results] == [
        ("lab:test-run:1", 201), ("lab:test-run:2", 422), ("lab:test-run:1", 200), ("x:1", 404),
        ("lab:test-run:3", 201)]
    assert "amount" in results[1]["detail"]
    assert sorted(c.key for c in stored_charges(make_app("gateway"))) == ["lab:test-run:1", "lab:test-run:3"]


def test_the_batch_endpoint_needs_the_service_token_and_a_well_formed_envelope(make_app):
    client = make_app("gateway").test_client()
    assert client.post("/internal/events", json={"events": [envelope(1)]}).status_code == 401
    assert client.post("/internal/events", json={"events": [envelope(1)]},
                       headers=bearer("admin")).status_code == 401
    for bad in ({"events": []}, {"events": [{"key": "k"}]}, {}):
        response = client.post("/internal/events", json=bad, headers=service_headers())
        assert response.status_code == 422 and response.content_type == "application/problem+json"


def test_the_commit_sends_every_message_it_published_in_one_request_and_records_each_outcome(make_app,
                                                                                             live_server):
    lab, gateway = make_app("lab_service"), make_app("gateway")
    received = []
    gateway.before_request(lambda: received.append(request.path))
    live_server(gateway)
    with lab.app_context():
        with lab.extensions["database"].atomic():
            good = [publish_charge_created(glucose_charge(n)).id for n in (31, 32, 33)]
            bad = outbox.publish("charge.created", "lab:test-run:bad", {"key": "lab:test-run:bad"},
                                 destination="gateway", path="/internal/charges").id
        # the commit queued one flush (in-process, at once in tests): it delivered them all
        assert outbox.flush() == {}  # nothing left that is due
    assert [outbox_row(lab, i).state for i in good] == ["delivered"] * 3
    rejected = outbox_row(lab, bad)
    assert rejected.state == "rejected" and rejected.last_error.startswith("422")
    assert received == ["/internal/events"]  # one request carried all four
    assert sorted(c.key for c in stored_charges(gateway)) == ["lab:test-run:31", "lab:test-run:32",
                                                               "lab:test-run:33"]


def test_a_receiver_that_does_not_take_the_batch_leaves_every_message_pending(make_app):
    lab = make_app("lab_service")  # no gateway listening
    with lab.app_context():
        with lab.extensions["database"].atomic():
            ids = [publish_charge_created(glucose_charge(n)).id for n in (41, 42)]
        assert outbox.flush() == {}  # the flush after commit found nobody listening: they wait for their retry
    rows = [outbox_row(lab, i) for i in ids]
    assert all(r.state == "pending" and r.attempts == 1 and r.last_error for r in rows)


def test_when_one_event_fails_inside_the_batch_the_others_are_applied_one_by_one(make_app):
    from marshmallow import Schema, fields

    from common.errors import Conflict
    from common.inbox import apply_events, one_by_one
    from gateway.models import AuditEntry
    from gateway.services import record_audit

    class Note(Schema):
        text = fields.String(required=True)

    def write(event):
        record_audit("inbox-test", "service", event["text"], 201, "-")
        if event["text"] == "refuse":
            raise Conflict("refused after writing", code="TEST_REFUSED")
        return None, True

    app = make_app("gateway")
    items = [{"key": f"k{n}", "path": "/notes", "payload": {"text": text}}
             for n, text in enumerate(["one", "refuse", "two"])] + [{"key": "k9", "path": "/notes", "payload": {}}]
    with app.app_context():
        results = apply_events({"/notes": (Note(), one_by_one(write))}, items)
        written = sorted(a.action for a in AuditEntry.select().where(AuditEntry.actor == "inbox-test"))
    assert [(r["key"], r["status"]) for r in results] == [("k0", 201), ("k1", 409), ("k2", 201), ("k9", 422)]
    assert results[1]["detail"].startswith("TEST_REFUSED")
    assert written == ["one", "two"]  # nothing of the refused event, nothing twice
