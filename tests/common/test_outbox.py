"""The outbox: an event written with the business change is delivered once, even across a receiver outage."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from common import outbox
from common.charges import publish_charge_created
from tests.support import (
    JWT_SECRET,
    PYTHON,
    QUEUE_PREFIX,
    SERVICE_TOKEN,
    bearer,
    start_process,
    stop_process,
    wait_until,
)


def glucose_charge(number: int = 1) -> dict:
    return {
        "key": f"lab:test-run:{number}", "source": "lab", "source_id": str(number), "encounter_id": "1001",
        "patient_id": "501", "item_kind": "service", "code": "23.0075.1494", "name": "Định lượng Glucose",
        "unit": "lần", "quantity": 1, "unit_price_amount": 21500, "insurance_unit_price_amount": 21500,
        "insurance_covered": True, "amount": 21500, "cost_amount": 3150, "occurred_at": datetime.now(UTC),
        "details": {"loinc": "2345-7"},
    }


def publish_in_transaction(app, event: dict) -> int:
    """Write a charge event the way a service verb does, then dispatch it after commit."""
    with app.app_context():
        database = app.extensions["database"]
        with database.atomic():
            message = publish_charge_created(event)
        outbox.dispatch([message.id])
        return message.id


def outbox_row(app, message_id: int):
    with app.app_context():
        return app.extensions["outbox_model"].get_by_id(message_id)


def stored_charges(gateway_app) -> list:
    from gateway.models import Charge

    with gateway_app.app_context():
        return list(Charge.select())


def process_env(database_urls: dict, service_ports: dict, **extra) -> dict:
    env = {"PATH": "/usr/bin:/bin", "APP_ENV": "test", "JWT_SECRET": JWT_SECRET, "SERVICE_TOKEN": SERVICE_TOKEN,
           "OUTBOX_MAX_BACKOFF_SECONDS": "1", "LOG_LEVEL": "WARNING", "QUEUE_PREFIX": QUEUE_PREFIX}
    for service, url in database_urls.items():
        env[f"{service.upper()}_DATABASE_URL"] = url
        env[f"{service.upper()}_URL"] = f"http://127.0.0.1:{service_ports[service]}"
        env[f"{service.upper()}_PORT"] = str(service_ports[service])
    env.update(extra)
    return env


def test_a_charge_waits_in_the_outbox_while_the_gateway_is_down_then_arrives_once(
        make_app, database_urls, service_ports, scratch_dir):
    lab, gateway = make_app("lab_service"), make_app("gateway")
    message_id = publish_in_transaction(lab, glucose_charge())
    pending = outbox_row(lab, message_id)
    assert pending.state == "pending" and pending.attempts == 1 and pending.last_error
    listed = lab.test_client().get("/api/v1/lab/outbox?state=pending", headers=bearer("lab_head")).get_json()
    assert [m["key"] for m in listed] == ["lab:test-run:1"]

    env = process_env(database_urls, service_ports)
    sweeper = start_process([PYTHON, "-m", "manage", "sweep"], env, scratch_dir / "sweeper.log")
    receiver = None
    try:
        wait_until(lambda: outbox_row(lab, message_id).attempts >= 2, timeout=20, message="a retry while down")
        assert stored_charges(gateway) == []
        port = service_ports["gateway"]
        receiver = start_process([PYTHON, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
                                  "--no-control-socket", "gateway:create_app()"], env, scratch_dir / "gateway.log")
        wait_until(lambda: outbox_row(lab, message_id).state == "delivered", timeout=30,
                   message="delivery after the gateway came back")
    finally:
        stop_process(sweeper)
        if receiver is not None:
            stop_process(receiver)
    charges = stored_charges(gateway)
    assert [(c.key, c.amount, c.cost_amount) for c in charges] == [("lab:test-run:1", 21500, 3150)]


def test_a_resent_charge_changes_nothing_at_the_gateway(make_app, live_server):
    lab, gateway = make_app("lab_service"), make_app("gateway")
    live_server(gateway)
    first = publish_in_transaction(lab, glucose_charge(7))
    assert outbox_row(lab, first).state == "delivered"
    with lab.app_context():  # the same event sent again, as an at-least-once deliverer may
        model = lab.extensions["outbox_model"]
        model.update(state="pending", next_attempt_at=datetime(2000, 1, 1, tzinfo=UTC)).execute()
        assert outbox.sweep() == {"delivered": 1}
    assert len(stored_charges(gateway)) == 1


def test_a_message_the_receiver_refuses_is_kept_as_rejected_not_retried_forever(make_app, live_server):
    lab, gateway = make_app("lab_service"), make_app("gateway")
    live_server(gateway)
    with lab.app_context():
        with lab.extensions["database"].atomic():
            message = outbox.publish("charge.created", "lab:test-run:bad", {"key": "lab:test-run:bad"},
                                     destination="gateway", path="/internal/charges")
        outbox.dispatch([message.id])
    row = outbox_row(lab, message.id)
    assert row.state == "rejected" and row.last_error.startswith("422")
    assert json.loads(row.payload) == {"key": "lab:test-run:bad"}


def test_nothing_is_sent_when_the_transaction_rolls_back(make_app, live_server):
    lab, gateway = make_app("lab_service"), make_app("gateway")
    live_server(gateway)
    with lab.app_context(), pytest.raises(RuntimeError):
        with lab.extensions["database"].atomic():
            publish_charge_created(glucose_charge(9))
            raise RuntimeError("stock check failed")
    with lab.app_context():
        assert lab.extensions["outbox_model"].select().count() == 0
    assert stored_charges(gateway) == []


def test_the_internal_intake_needs_the_service_token(make_app):
    client = make_app("gateway").test_client()
    event = {**glucose_charge(), "occurred_at": datetime.now(UTC).isoformat()}
    assert client.post("/internal/charges", json=event).status_code == 401
    assert client.post("/internal/charges", json=event, headers=bearer("admin")).status_code == 401


def test_a_receiver_still_starting_is_an_info_line_and_a_lasting_outage_a_warning(make_app, caplog):
    """Under `make run` the gateway may send before billing listens: one quiet line per batch, not a warning per
    message; the warning comes once a message has failed more than once."""
    lab = make_app("lab_service")
    with caplog.at_level("INFO", logger="common.outbox"):
        message_ids = [publish_in_transaction(lab, glucose_charge(number)) for number in (1, 2)]
        first = [r for r in caplog.records if "not delivered" in r.getMessage()]
        assert [r.levelname for r in first] == ["INFO", "INFO"]  # one batch of one message each, first tries
        caplog.clear()
        with lab.app_context():
            model = lab.extensions["outbox_model"]
            model.update(next_attempt_at=datetime(2000, 1, 1, tzinfo=UTC)).execute()
            outbox.flush()
    again = [r for r in caplog.records if "not delivered" in r.getMessage()]
    assert len(again) == 1 and again[0].levelname == "WARNING"
    assert "2 outbox message(s)" in again[0].getMessage()
    assert all(outbox_row(lab, m).state == "pending" and outbox_row(lab, m).attempts == 2 for m in message_ids)


def test_the_sweeper_leaves_a_message_just_committed_to_the_flush_after_its_commit(make_app, live_server):
    """A sweeper round that chased the live traffic would post it again in small batches beside the after-commit
    flush: it takes only what has been due for OUTBOX_SWEEP_SETTLE_MS (2 s unless set)."""
    lab, gateway = make_app("lab_service"), make_app("gateway")
    live_server(gateway)
    assert lab.config["OUTBOX_SWEEP_SETTLE_MS"] == 2000
    message_id = publish_in_transaction(lab, glucose_charge(11))
    with lab.app_context():
        model = lab.extensions["outbox_model"]
        sent_again = model.update(state="pending", next_attempt_at=datetime.now(UTC)).where(model.id == message_id)
        sent_again.execute()  # pending and due this instant, as a message is right after its commit
        assert outbox.sweep(settled_ms=lab.config["OUTBOX_SWEEP_SETTLE_MS"]) == {}
        assert outbox_row(lab, message_id).state == "pending"
        model.update(next_attempt_at=datetime.now(UTC) - timedelta(seconds=3)).where(model.id == message_id).execute()
        assert outbox.sweep(settled_ms=lab.config["OUTBOX_SWEEP_SETTLE_MS"]) == {"delivered": 1}  # its flush never came
    assert [charge.key for charge in stored_charges(gateway)] == ["lab:test-run:11"]
